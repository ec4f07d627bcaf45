"""The questionnaire behind a personal link: welcome, one page per section, review, submit, feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session
from werkzeug.wrappers import Response as WebResponse

from studyapp.core import audit
from studyapp.core.links import link_context
from studyapp.core.models import Invitation, Participant, Response, Study, Wave
from studyapp.core.types import utcnow
from studyapp.database import get_session
from studyapp.extensions import csrf
from studyapp.inputs import attach_as
from studyapp.participants import identities
from studyapp.participants.rate_limits import limit_link_routes
from studyapp.questionnaire import feedback as feedback_service
from studyapp.questionnaire import page_view
from studyapp.questionnaire.page_input import TamperedInput, merged, missing_required, read_page
from studyapp.questionnaire.responses import (
    AlreadySubmitted,
    Incomplete,
    missing_by_section,
    record_opened,
    response_of,
    save_answers,
    start_response,
    stored_answers,
    submit,
)
from studyapp.questionnaire.structure import Questionnaire, questionnaire_of
from studyapp.questionnaire.texts import questionnaire_texts
from waves.messages import local_date

bp = Blueprint("questionnaire", __name__)
limit_link_routes(bp)


@dataclass
class Visit:
    """Everything a personal link leads to."""

    token: str
    invitation: Invitation
    participant: Participant
    study: Study
    wave: Wave
    questionnaire: Questionnaire
    response: Response | None
    language: str

    @property
    def t(self) -> dict[str, str]:
        return questionnaire_texts(self.language)


def _message(language: str, title_key: str, text: str, status: int) -> WebResponse:
    t = questionnaire_texts(language)
    page = render_template("participant/message.html", t=t, lang=language, title=t[title_key], message=text)
    return make_response(page, status)


def _visit(token: str, *, open_wave: bool = True) -> Visit:
    """Resolve a personal link, or stop with the right page (unknown, erased, left, closed)."""
    session = get_session()
    chosen = request.args.get("lang") if request.args.get("lang") in ("nl", "en") else None
    found = link_context(session=session, token=token)
    if found is None or found[1].status == "erased":
        language = chosen or "nl"
        abort(_message(language, "invalid_link_title", questionnaire_texts(language)["invalid_link"], 404))
    invitation, participant, wave, _cohort, study = found
    questionnaire = questionnaire_of(session=session, instrument_id=wave.instrument_id)
    response = response_of(session=session, invitation=invitation)
    known = chosen or (response.language if response else None)
    if known is None:  # the identity is read only until the participant has a response
        identity = identities.identity_of(session=session, participant=participant)
        known = identity.language if identity else None
    language = questionnaire.language_or_default(known)
    if response is not None and chosen and response.language != chosen and response.submitted_at is None:
        response.language = chosen
        session.add(response)
        session.commit()
    visit = Visit(token, invitation, participant, study, wave, questionnaire, response, language)
    if open_wave and (response is None or response.submitted_at is None):
        _refuse_unless_open(visit)
    return visit


def _refuse_unless_open(visit: Visit) -> None:
    t = visit.t
    if visit.participant.status == "withdrawn":
        abort(_message(visit.language, "withdraw_title", t["withdraw_done"], 410))
    now = utcnow()
    closes_at = visit.invitation.closes_at
    if closes_at is not None and now >= closes_at:
        closed_on = local_date(closes_at, visit.study.timezone, visit.language)
        abort(_message(visit.language, "closed_title", t["closed"].format(wave=visit.wave.label, date=closed_on), 410))


def _answers(visit: Visit) -> dict:
    if visit.response is None:
        return {}
    return stored_answers(session=get_session(), response=visit.response)


def _redirect_if_submitted(visit: Visit) -> WebResponse | None:
    if visit.response is not None and visit.response.submitted_at is not None:
        return redirect(url_for(".welcome", token=visit.token, lang=visit.language))
    return None


def _reject(visit: Visit, problem: TamperedInput, *, as_json: bool) -> ResponseReturnValue:
    """Refuse a post no page of ours can produce: log it, store nothing."""
    session = get_session()
    session.rollback()
    current_app.logger.warning("Rejected questionnaire input for invitation %s: %s", visit.invitation.id, problem)
    audit.record(
        session=session,
        action="questionnaire.input_rejected",
        actor="participant",
        target_type="invitation",
        target_id=visit.invitation.id,
        detail={"reason": str(problem)[:300], "path": request.path.replace(visit.token, "<token>")},
        ip_address=request.remote_addr or "",
    )
    session.commit()
    if as_json:
        return jsonify(error="rejected", reason=str(problem)), 400
    return _message(visit.language, "tampered_title", visit.t["tampered"], 400)


def _same_site_post() -> None:
    """Personal-link forms carry no CSRF token (the link is the secret); refuse posts from other sites."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403)


@bp.route("/p/<token>")
def welcome(token: str) -> ResponseReturnValue:
    """Where the personal link leads: welcome and progress, or the thank-you page after submitting."""
    visit = _visit(token)
    session = get_session()
    invitation = visit.invitation
    if invitation.opened_at is None:
        record_opened(session=session, invitation=invitation)
        session.commit()
    if visit.response is not None and visit.response.submitted_at is not None:
        submitted = local_date(visit.response.submitted_at, visit.study.timezone, visit.language)
        return render_template(
            "questionnaire/completed.html", t=visit.t, lang=visit.language, visit=visit, submitted_on=submitted
        )
    answers = _answers(visit)
    summary = page_view.progress_summary(visit.questionnaire, answers, visit.response)
    closes_on = local_date(invitation.closes_at, visit.study.timezone, visit.language) if invitation.closes_at else None
    return render_template(
        "questionnaire/welcome.html",
        t=visit.t,
        lang=visit.language,
        visit=visit,
        summary=summary,
        closes_on=closes_on,
        instrument_title=visit.questionnaire.definition.title.get(visit.language, ""),
    )


@bp.route("/p/<token>/s/<section_code>", methods=["GET", "POST"])
@csrf.exempt
def section_page(token: str, section_code: str) -> ResponseReturnValue:
    """One page of the questionnaire; a post saves it and moves back or on."""
    visit = _visit(token)
    if (done := _redirect_if_submitted(visit)) is not None:
        return done
    questionnaire = visit.questionnaire
    section = questionnaire.section(section_code)
    if section is None:
        abort(_message(visit.language, "invalid_link_title", visit.t["invalid_link"], 404))
    session = get_session()
    answers = _answers(visit)
    if request.method == "GET":
        if section not in questionnaire.visible_sections(answers):
            _, after = questionnaire.neighbours(section.code, answers)
            return redirect(_page_url(visit, after))
        if visit.response is not None and visit.response.current_section != section.code:
            visit.response.current_section = section.code
            session.add(visit.response)
            session.commit()
        errors = {}
        if request.args.get("check"):
            errors = {code: visit.t["missing"] for code in missing_required(questionnaire, section, answers)}
        return _render_page(visit, section.code, answers, errors=errors, typed={})

    _same_site_post()
    try:
        page = read_page(questionnaire, section, request.form)
    except TamperedInput as problem:
        return _reject(visit, problem, as_json=False)
    response = start_response(
        session=session, invitation=visit.invitation, language=visit.language, existing=visit.response
    )
    answers = merged(answers, page)
    action = request.form.get("action", "next")
    before, after = questionnaire.neighbours(section.code, answers)
    stay = section.code
    if action == "back":
        stay = before or section.code
    elif not page.problems and not missing_required(questionnaire, section, answers):
        stay = after or ""
    save_answers(
        session=session,
        response=response,
        instrument_id=visit.wave.instrument_id,
        checksum=visit.questionnaire.checksum,
        values=page.values,
        section_code=stay,
    )
    session.commit()
    if action == "back":
        return redirect(_page_url(visit, before) if before else url_for(".welcome", token=token, lang=visit.language))
    errors = page_view.page_errors(visit.t, questionnaire, section, answers, page.problems)
    if errors:
        visit.response = response
        return _render_page(visit, section.code, answers, errors=errors, typed=page.typed)
    if request.args.get("return") == "review" or after is None:
        return redirect(url_for(".review", token=token, lang=visit.language))
    return redirect(_page_url(visit, after))


@bp.route("/p/<token>/s/<section_code>/autosave", methods=["POST"])
@csrf.exempt
def autosave(token: str, section_code: str) -> ResponseReturnValue:
    """Save what is on a page while the participant is on it (called by questionnaire.js)."""
    visit = _visit(token)
    section = visit.questionnaire.section(section_code)
    if section is None:
        return jsonify(error="unknown page"), 404
    if visit.response is not None and visit.response.submitted_at is not None:
        return jsonify(error="submitted"), 409
    _same_site_post()
    try:
        page = read_page(visit.questionnaire, section, request.form)
    except TamperedInput as problem:
        return _reject(visit, problem, as_json=True)
    session = get_session()
    response = start_response(
        session=session, invitation=visit.invitation, language=visit.language, existing=visit.response
    )
    try:
        written = save_answers(
            session=session,
            response=response,
            instrument_id=visit.wave.instrument_id,
            checksum=visit.questionnaire.checksum,
            values=page.values,
            section_code=section.code,
        )
    except AlreadySubmitted:
        return jsonify(error="submitted"), 409
    session.commit()
    return jsonify(saved=written, problems=sorted(page.problems))


@bp.route("/p/<token>/review")
def review(token: str) -> ResponseReturnValue:
    """All answers page by page, with what is still missing, and the submit button."""
    visit = _visit(token)
    if (done := _redirect_if_submitted(visit)) is not None:
        return done
    answers = _answers(visit)
    return render_template(
        "questionnaire/review.html",
        t=visit.t,
        lang=visit.language,
        visit=visit,
        pages=page_view.review_pages(visit.questionnaire, answers, visit.language),
        missing=missing_by_section(visit.questionnaire, answers),
        progress=page_view.progress_of(visit.questionnaire, answers, None),
        missing_message=request.args.get("missing"),
    )


@bp.route("/p/<token>/submit", methods=["POST"])
@csrf.exempt
def submit_answers(token: str) -> ResponseReturnValue:
    """Submit the response; with answers missing, go to the first page that needs them."""
    visit = _visit(token)
    if (done := _redirect_if_submitted(visit)) is not None:
        return done
    _same_site_post()
    session = get_session()
    response = start_response(
        session=session, invitation=visit.invitation, language=visit.language, existing=visit.response
    )
    try:
        submit(session=session, response=response, questionnaire=visit.questionnaire, invitation=visit.invitation)
    except Incomplete as incomplete:
        session.commit()
        return redirect(_page_url(visit, incomplete.first_section, check=1))
    session.commit()
    return redirect(url_for(".feedback", token=token, lang=visit.language))


@bp.route("/p/<token>/feedback")
def feedback(token: str) -> ResponseReturnValue:
    """Personal feedback after submitting."""
    visit = _visit(token, open_wave=False)
    report = _feedback_or_redirect(visit)
    if not isinstance(report, feedback_service.PersonalFeedback):
        return report
    return render_template("questionnaire/feedback.html", t=visit.t, lang=visit.language, visit=visit, report=report)


@bp.route("/p/<token>/feedback.pdf")
def feedback_pdf(token: str) -> ResponseReturnValue:
    """The personal feedback as a PDF download."""
    visit = _visit(token, open_wave=False)
    report = _feedback_or_redirect(visit)
    if not isinstance(report, feedback_service.PersonalFeedback):
        return report
    pdf = feedback_service.render_pdf(report, t=visit.t, language=visit.language, study=visit.study, wave=visit.wave)
    result = make_response(pdf)
    result.headers["Content-Type"] = "application/pdf"
    name = f"bridge-the-gap-feedback-{visit.wave.label}.pdf".replace(" ", "-")
    attach_as(result, name)
    return result


def _feedback_or_redirect(visit: Visit) -> feedback_service.PersonalFeedback | WebResponse:
    if visit.response is None or visit.response.submitted_at is None:
        return redirect(url_for(".welcome", token=visit.token, lang=visit.language))
    session: Session = get_session()
    return feedback_service.personal_feedback(session=session, response=visit.response, language=visit.language)


def _page_url(visit: Visit, section_code: str | None, **args: Any) -> str:
    if section_code is None:
        return url_for(".review", token=visit.token, lang=visit.language)
    return url_for(".section_page", token=visit.token, section_code=section_code, lang=visit.language, **args)


def _render_page(
    visit: Visit, section_code: str, answers: dict, *, errors: dict, typed: dict, status: int = 200
) -> ResponseReturnValue:
    view = page_view.section_view(
        visit.questionnaire, section_code, answers, visit.language, t=visit.t, errors=errors, typed=typed
    )
    page = render_template(
        "questionnaire/page.html",
        t=visit.t,
        lang=visit.language,
        visit=visit,
        page=view,
        return_to_review=request.args.get("return") == "review",
    )
    return make_response(page, status)

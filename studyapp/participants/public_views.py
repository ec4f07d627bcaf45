"""Participant pages reached by link: self-registration and managing one's participation and data."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import EmailField
from wtforms.validators import DataRequired, Email

from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.inputs import column_length
from studyapp.core.models import Cohort, Study
from studyapp.database import get_session, privacy_of
from studyapp.extensions import csrf
from studyapp.inputs import OneLine, is_clean_path_part
from studyapp.participants import consent, enrolment, identities
from studyapp.participants.forms import EMAIL_MAX, ConfirmForm, SignupForm
from studyapp.participants.link_pages import invalid_link, link_language, resolve_link
from studyapp.participants.rate_limits import limit_link_routes
from studyapp.participants.texts import texts_for

bp = Blueprint("participant", __name__)
limit_link_routes(bp)


class _EmailForm(FlaskForm):
    email = EmailField(validators=[DataRequired(), OneLine(EMAIL_MAX), Email()])


@bp.route("/p/<token>/unsubscribe", methods=["POST"])
@csrf.exempt
def one_click_unsubscribe(token: str) -> ResponseReturnValue:
    """RFC 8058 one-click unsubscribe from the List-Unsubscribe header (the token authorises it)."""
    resolved = resolve_link(token)
    if resolved is None:
        return "", 404
    _, participant, _, _ = resolved
    consent.stop_mail(session=get_session(), participant=participant, actor="participant")
    get_session().commit()
    return "", 204


@bp.route("/p/<token>/privacy", methods=["GET"])
def privacy_page(token: str) -> ResponseReturnValue:
    """What the participant can do: change address, stop mail, withdraw, erase."""
    resolved = resolve_link(token)
    if resolved is None:
        return invalid_link(link_language(None))
    _, participant, study, language = resolved
    keep = consent.keeps_data(session=get_session(), participant=participant)
    return render_template(
        "participant/privacy.html",
        t=texts_for(language),
        lang=language,
        token=token,
        study=study,
        participant=participant,
        keep=keep,
        email_form=_EmailForm(),
        confirm_form=ConfirmForm(),
        done=request.args.get("done"),
    )


@bp.route("/p/<token>/email", methods=["POST"])
def change_email(token: str) -> ResponseReturnValue:
    """The participant gives a new contact address."""
    resolved = resolve_link(token)
    if resolved is None:
        return invalid_link(link_language(None))
    _, participant, study, language = resolved
    t = texts_for(language)
    form = _EmailForm()
    error = None
    if form.validate_on_submit():
        try:
            identities.change_email(
                session=get_session(),
                privacy=privacy_of(),
                participant=participant,
                new_email=form.email.data or "",
                actor="participant",
            )
        except (ValidationFailed, NotAllowed):
            get_session().rollback()
            error = t["email_invalid"]
        else:
            get_session().commit()
            return redirect(url_for(".privacy_page", token=token, lang=language, done="email"))
    else:
        error = t["email_invalid"]
    keep = consent.keeps_data(session=get_session(), participant=participant)
    return render_template(
        "participant/privacy.html",
        t=t,
        lang=language,
        token=token,
        study=study,
        participant=participant,
        keep=keep,
        email_form=form,
        confirm_form=ConfirmForm(),
        email_error=error,
        done=None,
    )


_ACTIONS: dict[str, Callable[..., object]] = {
    "stop": consent.stop_mail,
    "withdraw": consent.withdraw,
    "erase": consent.erase,
}


@bp.route("/p/<token>/<any('stop','withdraw','erase'):action>", methods=["GET", "POST"])
def consent_action(token: str, action: str) -> ResponseReturnValue:
    """Explain an action, and do it when the participant confirms."""
    resolved = resolve_link(token)
    if resolved is None:
        return invalid_link(link_language(None))
    _, participant, study, language = resolved
    t = texts_for(language)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        _ACTIONS[action](session=get_session(), participant=participant, actor="participant")
        get_session().commit()
        if action == "erase":
            return render_template(
                "participant/message.html",
                t=t,
                lang=language,
                title=t["erase_title"],
                message=t["erase_done"],
            )
        return redirect(url_for(".privacy_page", token=token, lang=language, done=action))
    keep = consent.keeps_data(session=get_session(), participant=participant)
    return render_template(
        "participant/confirm.html",
        t=t,
        lang=language,
        token=token,
        study=study,
        action=action,
        keep=keep,
        form=form,
    )


@bp.route("/join/<code>", methods=["GET", "POST"])
def signup(code: str) -> ResponseReturnValue:
    """Self-registration for a cohort, with consent."""
    session = get_session()
    known_shape = is_clean_path_part(code, max_length=column_length(Cohort.signup_code))
    cohort = session.exec(select(Cohort).where(Cohort.signup_code == code)).first() if known_shape else None
    language = link_language(None)
    t = texts_for(language)
    if cohort is None or not cohort.signup_open:
        return render_template(
            "participant/message.html",
            t=t,
            lang=language,
            title=t["signup_title"].format(study="Bridge the Gap"),
            message=t["signup_closed"],
        ), 404
    study = session.get(Study, cohort.study_id)
    form = SignupForm()
    if request.method == "GET":
        form.language.data = language
    if form.validate_on_submit():
        try:
            enrolment.self_register(
                session=session,
                privacy=privacy_of(),
                cohort=cohort,
                email=form.email.data or "",
                name=form.name.data or "",
                language=form.language.data or language,
                keep_data=form.keep_data.data == "yes",
            )
        except ValidationFailed as error:
            session.rollback()
            # every problem the service found, each beside its field (not the name's alone)
            if "name" in error.errors:
                form.name.errors = [t["name_invalid"]]
            if "email" in error.errors or "name" not in error.errors:
                form.email.errors = [t["email_invalid"]]
        else:
            session.commit()
            done_t = texts_for(form.language.data)
            return render_template(
                "participant/message.html",
                t=done_t,
                lang=form.language.data,
                title=done_t["signup_done_title"],
                message=done_t["signup_done"],
            )
    if form.consent.errors:
        form.consent.errors = [t["consent_required"]]
    if form.email.errors and form.email.errors != [t["email_invalid"]]:
        form.email.errors = [t["email_invalid"]]
    if form.name.errors:  # a line break, another control character, or too long: the page's own words
        form.name.errors = [t["name_invalid"]]
    return render_template(
        "participant/signup.html", t=t, lang=language, form=form, cohort=cohort, study=study, code=code
    )

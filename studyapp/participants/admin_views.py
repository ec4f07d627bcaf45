"""Researcher pages for participants: list, import, identities, consent actions, sign-up links."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from studyapp.auth import staff_required
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.models import PARTICIPANT_STATUSES, Cohort, Participant, Study
from studyapp.core.tabular import TableError, read_table
from studyapp.core.uploads import find_upload, keep_upload, upload_content
from studyapp.database import get_session, privacy_of
from studyapp.participants import consent, enrolment, identities
from studyapp.participants.forms import ConfirmForm, EmailForm, EnrolmentUploadForm, NoteForm
from studyapp.participants.listing import list_participants, participant_history

bp = Blueprint("participants", __name__)


def _study_or_404(study_id: int) -> Study:
    study = get_session().get(Study, study_id)
    if study is None:
        abort(404)
    return study


def _participant_or_404(participant_id: int) -> tuple[Participant, Cohort, Study]:
    session = get_session()
    participant = session.get(Participant, participant_id)
    if participant is None:
        abort(404)
    cohort = session.get(Cohort, participant.cohort_id)
    study = session.get(Study, cohort.study_id)  # type: ignore[union-attr]
    return participant, cohort, study  # type: ignore[return-value]


@bp.route("/studies/<int:study_id>/participants")
@staff_required
def index(study_id: int):  # noqa: ANN201
    """Participants of a study by pseudonym; identities only on request, for permitted users."""
    study = _study_or_404(study_id)
    session = get_session()
    cohort_id = request.args.get("cohort", type=int)
    status = request.args.get("status") if request.args.get("status") in PARTICIPANT_STATUSES else None
    page = list_participants(session=session, study=study, cohort_id=cohort_id, status=status,
                             pseudonym=request.args.get("q", ""), page=request.args.get("page", 1, type=int))
    contacts = {}
    if request.args.get("identities") == "1":
        try:
            contacts = identities.reveal_identities(
                session=session, privacy=privacy_of(), user=current_user, purpose="participant list",
                participants=[row.participant for row in page.rows], ip_address=request.remote_addr or "")
        except NotAllowed as error:
            flash(str(error), "error")
    cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(Cohort.name)).all()
    return render_template(
        "participants/index.html", study=study, page=page, contacts=contacts, cohorts=cohorts,
        statuses=PARTICIPANT_STATUSES, may_view=identities.may_view_identities(current_user),
        filters={"cohort": cohort_id, "status": status, "q": request.args.get("q", "")},
    )


@bp.route("/studies/<int:study_id>/participants/import", methods=["GET", "POST"])
@staff_required
def import_upload(study_id: int):  # noqa: ANN201
    """Upload a participant list and see what importing it would do."""
    study = _study_or_404(study_id)
    form = EnrolmentUploadForm()
    plan = upload = None
    if form.validate_on_submit():
        session = get_session()
        content = form.file.data.read()
        filename = form.file.data.filename or "upload.csv"
        try:
            table = read_table(filename, content)
        except TableError as error:
            plan = enrolment.EnrolmentPlan(problems=[enrolment.Problem(error.line, str(error).split(": ", 1)[1])])
        else:
            plan = enrolment.plan_enrolment(session=session, privacy=privacy_of(), study=study, table=table)
        if plan.ok:
            upload = keep_upload(session=session, privacy=privacy_of(), kind="enrolment", study=study,
                                 user=current_user, filename=filename, content=content)
            session.commit()
    return render_template("participants/import.html", study=study, form=form, plan=plan, upload=upload,
                           confirm_form=ConfirmForm(), show_emails=identities.may_view_identities(current_user))


@bp.route("/studies/<int:study_id>/participants/import/<token>", methods=["POST"])
@staff_required
def import_confirm(study_id: int, token: str):  # noqa: ANN201
    """Import a previewed list (checked again: the study may have changed since the preview)."""
    study = _study_or_404(study_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = get_session()
    upload = find_upload(session=session, token=token, kind="enrolment", study=study, user=current_user)
    if upload is None:
        flash("That preview has expired. Upload the file again.", "error")
        return redirect(url_for(".import_upload", study_id=study.id))
    table = read_table(upload.filename, upload_content(privacy_of(), upload))
    plan = enrolment.plan_enrolment(session=session, privacy=privacy_of(), study=study, table=table)
    try:
        summary = enrolment.apply_enrolment(session=session, privacy=privacy_of(), study=study, plan=plan,
                                            user=current_user, source=upload.filename)
    except enrolment.EnrolmentRejected:
        flash("The file no longer passes the checks; nothing was imported. Upload it again to see why.", "error")
        return redirect(url_for(".import_upload", study_id=study.id))
    session.delete(upload)
    session.commit()
    flash(f"Imported {summary.enrolled} new participants; {summary.unchanged} were already enrolled"
          + (f"; {summary.identities_added} linked to data imported earlier" if summary.identities_added else "")
          + ".", "success")
    return redirect(url_for(".index", study_id=study.id))


@bp.route("/participants/<int:participant_id>")
@staff_required
def detail(participant_id: int):  # noqa: ANN201
    """One participant: waves, consent history, and (on request, audited) their identity."""
    participant, cohort, study = _participant_or_404(participant_id)
    session = get_session()
    contact = None
    if request.args.get("identity") == "1":
        try:
            contact = identities.reveal_identities(
                session=session, privacy=privacy_of(), user=current_user, participants=[participant],
                purpose="participant detail", ip_address=request.remote_addr or "").get(participant.id)
        except NotAllowed as error:
            flash(str(error), "error")
    return render_template(
        "participants/detail.html", participant=participant, cohort=cohort, study=study, contact=contact,
        history=participant_history(session=session, participant=participant),
        keeps_data=consent.keeps_data(session=session, participant=participant),
        may_view=identities.may_view_identities(current_user), email_form=EmailForm(), note_form=NoteForm(),
    )


@bp.route("/participants/<int:participant_id>/email", methods=["POST"])
@staff_required
def change_email(participant_id: int):  # noqa: ANN201
    """Change the contact address (identity permission needed)."""
    participant, *_ = _participant_or_404(participant_id)
    form = EmailForm()
    if not form.validate_on_submit():
        flash("Enter a valid e-mail address.", "error")
    else:
        try:
            identities.change_email(session=get_session(), privacy=privacy_of(), participant=participant,
                                    new_email=form.email.data or "", actor="researcher", user=current_user)
        except (ValidationFailed, NotAllowed) as error:
            get_session().rollback()
            flash(" ".join(error.errors.values()) if isinstance(error, ValidationFailed) else str(error), "error")
        else:
            get_session().commit()
            flash("E-mail address changed. The pseudonym and earlier waves are unchanged.", "success")
    return redirect(url_for(".detail", participant_id=participant_id))


_ACTIONS = {
    "stop-mail": (consent.stop_mail, "Mail stopped: no more invitations or reminders."),
    "resume-mail": (consent.resume_mail, "Mail resumed."),
    "withdraw": (consent.withdraw, "The participant has withdrawn from the study."),
    "erase": (consent.erase, "Identity erased."),
}


@bp.route("/participants/<int:participant_id>/<any('stop-mail','resume-mail','withdraw','erase'):action>",
          methods=["POST"])
@staff_required
def consent_action(participant_id: int, action: str):  # noqa: ANN201
    """Stop mail, resume it, withdraw or erase on the participant's behalf."""
    participant, *_ = _participant_or_404(participant_id)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    operation, message = _ACTIONS[action]
    kwargs = {"note": form.note.data or ""} if action in ("withdraw", "erase") else {}
    try:
        operation(session=get_session(), participant=participant, actor="researcher", user=current_user, **kwargs)
    except NotAllowed as error:
        get_session().rollback()
        flash(str(error), "error")
    else:
        get_session().commit()
        flash(message, "success")
    return redirect(url_for(".detail", participant_id=participant_id))


@bp.route("/cohorts/<int:cohort_id>/signup", methods=["POST"])
@staff_required
def signup_toggle(cohort_id: int):  # noqa: ANN201
    """Open or close a cohort's self-registration link."""
    session = get_session()
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    cohort.signup_open = not cohort.signup_open
    if cohort.signup_open and not cohort.signup_code:
        cohort.signup_code = secrets.token_urlsafe(12)
    session.add(cohort)
    session.commit()
    flash(f"Self-registration for {cohort.name} is {'open' if cohort.signup_open else 'closed'}.", "success")
    return redirect(url_for("studies.study_detail", study_id=cohort.study_id))

"""Researcher pages for participants: list, import, identities, consent actions, sign-up links."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlmodel import col, select

from studyapp.auth import staff_required
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.inputs import InputError, clean_filename, column_length, parse_id
from studyapp.core.models import PARTICIPANT_STATUSES, Cohort, Participant, PendingUpload, Study, Wave, key
from studyapp.core.tabular import ImportRejected, RowProblem, Table, TableError, read_table
from studyapp.core.uploads import find_upload, keep_upload, upload_content
from studyapp.database import get_session, participant_or_404, privacy_of, study_or_404
from studyapp.extensions import N_
from studyapp.inputs import SelectChoice, form_line, query_int, query_text
from studyapp.participants import code_linkage, consent, enrolment, identities, response_import
from studyapp.participants.forms import (
    ConfirmForm,
    EmailForm,
    EnrolmentUploadForm,
    NoteForm,
    ResponseImportForm,
)
from studyapp.participants.listing import list_participants, participant_history

bp = Blueprint("participants", __name__)


def _upload_name(name: str | None) -> str:
    return clean_filename(name or "upload.csv", max_length=column_length(PendingUpload.filename))


def _read_upload(filename: str, content: bytes) -> Table:
    """An uploaded list, refused beyond UPLOAD_MAX_ROWS (a web request holds a worker while it imports)."""
    return read_table(
        filename,
        content,
        max_rows=current_app.config["STUDYAPP_SETTINGS"].upload_max_rows,
        advice="split the file, or import it with `studyapp participants import` (no row limit)",
    )


@bp.route("/studies/<int:study_id>/participants")
@staff_required
def index(study_id: int) -> ResponseReturnValue:
    """Participants of a study by pseudonym; identities only on request, for permitted users."""
    study = study_or_404(study_id)
    session = get_session()
    cohort_id = query_int("cohort")
    status = request.args.get("status") if request.args.get("status") in PARTICIPANT_STATUSES else None
    pseudonym = query_text("q", max_length=column_length(Participant.pseudonym))
    page = list_participants(
        session=session,
        study=study,
        cohort_id=cohort_id,
        status=status,
        pseudonym=pseudonym,
        after=query_text("after", max_length=column_length(Participant.pseudonym)),
        before=query_text("before", max_length=column_length(Participant.pseudonym)),
        last=request.args.get("last") == "1",
    )
    contacts = {}
    if request.args.get("identities") == "1":
        try:
            contacts = identities.reveal_identities(
                session=session,
                privacy=privacy_of(),
                user=current_user,
                purpose="participant list",
                participants=[row.participant for row in page.rows],
                ip_address=request.remote_addr or "",
            )
            session.commit()  # the audit entry is stored before any identity is shown
        except NotAllowed as error:
            flash(str(error), "error")
    cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(Cohort.name)).all()
    return render_template(
        "participants/index.html",
        study=study,
        page=page,
        contacts=contacts,
        cohorts=cohorts,
        statuses=PARTICIPANT_STATUSES,
        may_view=identities.may_view_identities(current_user),
        # simulated participants (and those linked by code) have none: nothing to offer
        any_contact=bool(
            identities.with_contact_details(session=session, participants=[row.participant for row in page.rows])
        ),
        filters={"cohort": cohort_id, "status": status, "q": pseudonym},
    )


@bp.route("/studies/<int:study_id>/participants/import", methods=["GET", "POST"])
@staff_required
def import_upload(study_id: int) -> ResponseReturnValue:
    """Upload a participant list and see what importing it would do."""
    study = study_or_404(study_id)
    form = EnrolmentUploadForm()
    plan = upload = None
    if form.validate_on_submit():
        session = get_session()
        content = form.file.data.read()
        filename = _upload_name(form.file.data.filename)
        try:
            table = _read_upload(filename, content)
        except TableError as error:
            plan = enrolment.EnrolmentPlan(problems=[RowProblem(error.line, str(error).split(": ", 1)[1])])
        else:
            plan = enrolment.plan_enrolment(session=session, privacy=privacy_of(), study=study, table=table)
        if plan.ok:
            upload = keep_upload(
                session=session,
                privacy=privacy_of(),
                kind="enrolment",
                study=study,
                user=current_user,
                filename=filename,
                content=content,
            )
            session.commit()
    return render_template(
        "participants/import.html",
        study=study,
        form=form,
        plan=plan,
        upload=upload,
        confirm_form=ConfirmForm(),
        show_emails=identities.may_view_identities(current_user),
    )


@bp.route("/studies/<int:study_id>/participants/import/<token>", methods=["POST"])
@staff_required
def import_confirm(study_id: int, token: str) -> ResponseReturnValue:
    """Import a previewed list (checked again: the study may have changed since the preview)."""
    study = study_or_404(study_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = get_session()
    upload = find_upload(session=session, token=token, kind="enrolment", study=study, user=current_user)
    if upload is None:
        flash(_("That preview has expired. Upload the file again."), "error")
        return redirect(url_for(".import_upload", study_id=study.id))
    table = _read_upload(upload.filename, upload_content(privacy_of(), upload))
    plan = enrolment.plan_enrolment(session=session, privacy=privacy_of(), study=study, table=table)
    try:
        summary = enrolment.apply_enrolment(
            session=session,
            privacy=privacy_of(),
            study=study,
            plan=plan,
            user=current_user,
            source=upload.filename,
        )
    except ImportRejected:
        flash(_("The file no longer passes the checks; nothing was imported. Upload it again to see why."), "error")
        return redirect(url_for(".import_upload", study_id=study.id))
    session.delete(upload)
    session.commit()
    parts = [
        ngettext("Imported %(num)d new participant", "Imported %(num)d new participants", summary.enrolled),
        ngettext("%(num)d was already enrolled", "%(num)d were already enrolled", summary.unchanged),
    ]
    if summary.identities_added:
        parts.append(_("%(count)d linked to data imported earlier", count=summary.identities_added))
    flash("; ".join(parts) + ".", "success")
    return redirect(url_for(".index", study_id=study.id))


NO_CONTACT_DETAILS = N_(
    "No contact details are stored for this participant (a simulated participant, or one linked anonymously by code)."
)


@bp.route("/participants/<int:participant_id>")
@staff_required
def detail(participant_id: int) -> ResponseReturnValue:
    """One participant: waves, consent history, and (on request, audited) their identity."""
    participant, cohort, study = participant_or_404(participant_id)
    session = get_session()
    contact = None
    has_contact = identities.has_contact_details(session=session, participant=participant)
    if request.args.get("identity") == "1" and not has_contact:
        flash(_(NO_CONTACT_DETAILS), "info")
    elif request.args.get("identity") == "1":
        try:
            contact = identities.reveal_identities(
                session=session,
                privacy=privacy_of(),
                user=current_user,
                participants=[participant],
                purpose="participant detail",
                ip_address=request.remote_addr or "",
            ).get(key(participant))
            session.commit()  # the audit entry is stored before the identity is shown
        except NotAllowed as error:
            flash(str(error), "error")
    return render_template(
        "participants/detail.html",
        participant=participant,
        cohort=cohort,
        study=study,
        contact=contact,
        has_contact=has_contact,
        no_contact_details=_(NO_CONTACT_DETAILS),
        history=participant_history(session=session, participant=participant),
        keeps_data=consent.keeps_data(session=session, participant=participant),
        may_view=identities.may_view_identities(current_user),
        email_form=EmailForm(),
        note_form=NoteForm(),
        copy_language=getattr(identities.identity_of(session=session, participant=participant), "language", None),
    )


@bp.route("/participants/<int:participant_id>/email", methods=["POST"])
@staff_required
def change_email(participant_id: int) -> ResponseReturnValue:
    """Change the contact address (identity permission needed)."""
    participant, *_others = participant_or_404(participant_id)
    form = EmailForm()
    if not form.validate_on_submit():
        flash(_("Enter a valid e-mail address."), "error")
    else:
        try:
            identities.change_email(
                session=get_session(),
                privacy=privacy_of(),
                participant=participant,
                new_email=form.email.data or "",
                actor="researcher",
                user=current_user,
            )
        except (ValidationFailed, NotAllowed) as error:
            get_session().rollback()
            flash(
                " ".join(error.errors.values()) if isinstance(error, ValidationFailed) else str(error),
                "error",
            )
        else:
            get_session().commit()
            flash(_("E-mail address changed. The pseudonym and earlier waves are unchanged."), "success")
    return redirect(url_for(".detail", participant_id=participant_id))


_ACTIONS: dict[str, tuple[Callable[..., object], str]] = {
    "stop-mail": (consent.stop_mail, N_("Mail stopped: no more invitations or reminders.")),
    "resume-mail": (consent.resume_mail, N_("Mail resumed.")),
    "withdraw": (consent.withdraw, N_("The participant has withdrawn from the study.")),
    "erase": (consent.erase, N_("Identity erased.")),
}


@bp.route(
    "/participants/<int:participant_id>/<any('stop-mail','resume-mail','withdraw','erase'):action>",
    methods=["POST"],
)
@staff_required
def consent_action(participant_id: int, action: str) -> ResponseReturnValue:
    """Stop mail, resume it, withdraw or erase on the participant's behalf."""
    participant, *_others = participant_or_404(participant_id)
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
        flash(_(message), "success")
    return redirect(url_for(".detail", participant_id=participant_id))


@bp.route("/cohorts/<int:cohort_id>/signup", methods=["POST"])
@staff_required
def signup_toggle(cohort_id: int) -> ResponseReturnValue:
    """Open or close a cohort's self-registration link."""
    session = get_session()
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    is_open = enrolment.toggle_signup(session=session, cohort=cohort, user=current_user)
    session.commit()
    message = (
        _("Self-registration for %(cohort)s is open.") if is_open else _("Self-registration for %(cohort)s is closed.")
    )
    flash(message % {"cohort": cohort.name}, "success")
    return redirect(url_for("studies.study_detail", study_id=cohort.study_id))


@bp.route("/studies/<int:study_id>/responses/import", methods=["GET", "POST"])
@staff_required
def responses_upload(study_id: int) -> ResponseReturnValue:
    """Upload answers of an earlier wave collected elsewhere and preview the import."""
    study = study_or_404(study_id)
    session = get_session()
    form = ResponseImportForm()
    waves = session.exec(
        select(Wave, Cohort.name)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id)
        .order_by(Cohort.name, col(Wave.position))
    ).all()
    form.wave_id.choices = [SelectChoice(w.id, f"{name} · {w.label}") for w, name in waves]
    plan = upload = None
    problems: list[RowProblem] = []
    if form.validate_on_submit():
        content = form.file.data.read()
        filename = _upload_name(form.file.data.filename)
        wave = session.get(Wave, form.wave_id.data)
        if wave is None:  # deleted since the form was shown
            abort(404)
        try:
            mapping = response_import.parse_mapping(form.mapping.data or "")
            table = response_import.read_response_file(filename, content)
        except (ValueError, TableError) as error:
            problems = [RowProblem(getattr(error, "line", 1), str(error))]
        else:
            plan = response_import.plan_response_import(
                session=session,
                privacy=privacy_of(),
                wave=wave,
                table=table,
                id_column=form.id_column.data or "",
                mapping=mapping,
                create_missing=bool(form.create_missing.data),
            )
            problems = plan.problems
            if plan.ok:
                upload = keep_upload(
                    session=session,
                    privacy=privacy_of(),
                    kind="responses",
                    study=study,
                    user=current_user,
                    filename=filename,
                    content=content,
                    options={
                        "wave_id": wave.id,
                        "id_column": form.id_column.data,
                        "mapping": mapping,
                        "create_missing": bool(form.create_missing.data),
                    },
                )
                session.commit()
    return render_template(
        "participants/responses_import.html",
        study=study,
        form=form,
        plan=plan,
        problems=problems,
        upload=upload,
        confirm_form=ConfirmForm(),
    )


@bp.route("/studies/<int:study_id>/responses/import/<token>", methods=["POST"])
@staff_required
def responses_confirm(study_id: int, token: str) -> ResponseReturnValue:
    """Store a previewed import of earlier answers (checked again first)."""
    study = study_or_404(study_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = get_session()
    upload = find_upload(session=session, token=token, kind="responses", study=study, user=current_user)
    if upload is None:
        flash(_("That preview has expired. Upload the file again."), "error")
        return redirect(url_for(".responses_upload", study_id=study.id))
    options = upload.options
    wave = session.get(Wave, options["wave_id"])
    if wave is None:  # deleted since the preview
        abort(404)
    table = response_import.read_response_file(upload.filename, upload_content(privacy_of(), upload))
    plan = response_import.plan_response_import(
        session=session,
        privacy=privacy_of(),
        wave=wave,
        table=table,
        id_column=options["id_column"],
        mapping=options["mapping"],
        create_missing=options["create_missing"],
    )
    try:
        stored = response_import.apply_response_import(
            session=session,
            privacy=privacy_of(),
            wave=wave,
            plan=plan,
            user=current_user,
            source=upload.filename,
        )
    except ImportRejected:
        flash(_("The file no longer passes the checks; nothing was imported. Upload it again to see why."), "error")
        return redirect(url_for(".responses_upload", study_id=study.id))
    session.delete(upload)
    session.commit()
    flash(
        ngettext(
            "Imported %(num)d response into %(wave)s",
            "Imported %(num)d responses into %(wave)s",
            stored,
            wave=wave.label,
        )
        + "; "
        + ngettext("%(num)d was imported before", "%(num)d were imported before", plan.unchanged)
        + ".",
        "success",
    )
    return redirect(url_for("studies.study_detail", study_id=study.id))


def _wave_choice(name: str) -> int | None:
    """A wave id from the query string or the posted form (the page sends it either way)."""
    try:
        return parse_id(request.values.get(name, ""), field=name)
    except InputError:
        return None


def _cohort_waves(cohort_id: int) -> tuple[Cohort, Study, list[Wave]]:
    session = get_session()
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    study = session.get_one(Study, cohort.study_id)
    waves = list(session.exec(select(Wave).where(col(Wave.cohort_id) == cohort.id).order_by(col(Wave.position))))
    return cohort, study, waves


@bp.route("/cohorts/<int:cohort_id>/linkage", methods=["GET", "POST"])
@staff_required
def linkage(cohort_id: int) -> ResponseReturnValue:
    """Link two waves of an anonymous cohort by self-generated codes; review ambiguous cases."""
    cohort, study, waves = _cohort_waves(cohort_id)
    session = get_session()
    by_id = {w.id: w for w in waves}
    # wave ids are only looked up among the cohort's own waves, never in the database
    earlier = by_id.get(_wave_choice("earlier") or (waves[0].id if waves else 0))
    later = by_id.get(_wave_choice("later") or (waves[1].id if len(waves) > 1 else 0))
    outcome = None
    form = ConfirmForm()
    if earlier and later:
        try:
            if request.method == "POST":
                if not form.validate_on_submit():
                    abort(400)
                if request.form.get("keep") and request.form.get("merge"):
                    longest = column_length(Participant.pseudonym)
                    try:
                        keep = form_line("keep", max_length=longest)
                        merge = form_line("merge", max_length=longest)
                    except InputError as error:
                        raise NotAllowed(_("Not a pseudonym: %(error)s", error=error)) from None
                    code_linkage.merge_by_pseudonyms(
                        session=session,
                        earlier=earlier,
                        later=later,
                        keep_pseudonym=keep,
                        merge_pseudonym=merge,
                        user=current_user,
                    )
                    session.commit()
                    flash(
                        _(
                            "%(merge)s's %(wave)s response now belongs to %(keep)s.",
                            wave=later.label,
                            merge=merge,
                            keep=keep,
                        ),
                        "success",
                    )
                else:
                    applied = code_linkage.link_cohort_waves(
                        session=session, earlier=earlier, later=later, apply=True, user=current_user
                    ).applied
                    session.commit()
                    flash(ngettext("Linked %(num)d response.", "Linked %(num)d responses.", applied), "success")
                return redirect(url_for(".linkage", cohort_id=cohort.id, earlier=earlier.id, later=later.id))
            outcome = code_linkage.link_cohort_waves(session=session, earlier=earlier, later=later)
        except NotAllowed as error:
            session.rollback()
            flash(str(error), "error")
    return render_template(
        "participants/linkage.html",
        cohort=cohort,
        study=study,
        waves=waves,
        earlier=earlier,
        later=later,
        outcome=outcome,
        form=form,
    )

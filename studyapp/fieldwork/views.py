"""Fieldwork pages (thin: each calls a service in waves/)."""

from __future__ import annotations

import email
import re
from email import policy

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select

from studyapp.auth import staff_required
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.models import Invitation, MailboxMessage, Wave, key
from studyapp.core.types import utcnow
from studyapp.database import get_session, study_or_404
from studyapp.extensions import localized, localized_error
from studyapp.fieldwork.forms import TemplateForm
from studyapp.fieldwork.representativeness import representativeness_panel
from studyapp.participants.identities import may_view_identities
from studyapp.security import allow_mail_preview_styles
from waves import operations
from waves.messages import PLACEHOLDERS, template_for
from waves.representativeness import latest_figures
from waves.stats import curve_points, wave_stats
from waves.targeting import targeting_decisions

bp = Blueprint("fieldwork", __name__)


class _Confirm(FlaskForm):
    pass


#: What filling in a text that slipped past the checks can raise (e.g. one saved before they existed).
_FILL_ERRORS = (KeyError, ValueError, IndexError, AttributeError, TypeError)


@bp.route("/studies/<int:study_id>/fieldwork")
@staff_required
def dashboard(study_id: int) -> ResponseReturnValue:
    """Where every wave stands, live."""
    study = study_or_404(study_id)
    stats = wave_stats(session=get_session(), study=study, now=utcnow())
    settings = current_app.config["STUDYAPP_SETTINGS"]
    kept = latest_figures(get_session(), [key(s.wave) for s in stats])
    panels = {
        wave_id: representativeness_panel(rows, min_cell_size=settings.min_cell_size) for wave_id, rows in kept.items()
    }
    return render_template(
        "fieldwork/dashboard.html",
        study=study,
        stats=stats,
        panels=panels,
        decisions=targeting_decisions(get_session(), list(kept)),
        min_cell_size=settings.min_cell_size,
        form=_Confirm(),
        curve_points=curve_points,
        mailbox=not settings.smtp_host,
    )


@bp.route("/waves/<int:wave_id>/<any('pause','resume'):action>", methods=["POST"])
@staff_required
def pause(wave_id: int, action: str) -> ResponseReturnValue:
    """Pause or resume a wave."""
    session = get_session()
    wave = session.get(Wave, wave_id)
    if wave is None or not _Confirm().validate_on_submit():
        abort(404 if wave is None else 400)
    try:
        operations.set_paused(session=session, wave=wave, paused=action == "pause", user=current_user)
    except NotAllowed as error:
        flash(localized_error(error), "error")
        return redirect(request.referrer or url_for("studies.dashboard"))
    session.commit()
    if action == "pause":
        flash(_("Wave %(wave)s paused.", wave=wave.label), "success")
    else:
        flash(_("Wave %(wave)s resumed.", wave=wave.label), "success")
    return redirect(request.referrer or url_for("studies.dashboard"))


@bp.route("/studies/<int:study_id>/test-message", methods=["POST"])
@staff_required
def test_message(study_id: int) -> ResponseReturnValue:
    """Queue a test message to the researcher's own address."""
    study = study_or_404(study_id)
    if not _Confirm().validate_on_submit():
        abort(400)
    try:
        operations.send_test_message(
            session=get_session(),
            study=study,
            user=current_user,
            kind=request.form.get("kind", ""),  # checked against the known kinds and languages
            language=request.form.get("language", ""),
        )
    except ValidationFailed as error:
        flash(" ".join(localized(message) for message in error.errors.values()), "error")
    else:
        get_session().commit()
        flash(
            _("A test message to %(email)s goes out with the next scheduler tick.", email=current_user.email), "success"
        )
    return redirect(url_for(".dashboard", study_id=study.id))


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@staff_required
def resend(invitation_id: int) -> ResponseReturnValue:
    """Send one participant their invitation again."""
    session = get_session()
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or not _Confirm().validate_on_submit():
        abort(404 if invitation is None else 400)
    try:
        operations.resend_invitation(session=session, invitation=invitation, user=current_user)
    except NotAllowed as error:
        session.rollback()
        flash(localized_error(error), "error")
    else:
        session.commit()
        flash(_("The invitation goes out again with the next scheduler tick."), "success")
    return redirect(url_for("participants.detail", participant_id=invitation.participant_id))


@bp.route(
    "/studies/<int:study_id>/messages/<any('invitation','reminder'):kind>/<any('nl','en'):language>",
    methods=["GET", "POST"],
)
@staff_required
def edit_template(study_id: int, kind: str, language: str) -> ResponseReturnValue:
    """Edit an invitation or reminder text, with a preview; 'preview' shows it without saving."""
    study = study_or_404(study_id)
    session = get_session()
    subject, body = template_for(session=session, study_id=key(study), kind=kind, language=language)
    form = TemplateForm(data={"subject": subject, "body": body} if request.method == "GET" else None)
    base_url = current_app.config["STUDYAPP_SETTINGS"].base_url
    shown = None
    valid = form.validate_on_submit()
    if request.method == "GET" or valid:  # a text with errors is shown with them, not filled in
        try:
            shown = operations.preview(
                session=session,
                study=study,
                kind=kind,
                language=language,
                subject=form.subject.data,
                body=form.body.data,
                base_url=base_url,
            )
        except _FILL_ERRORS:
            valid = False
            form.body.errors = [*form.body.errors, "The text cannot be filled in: check the placeholders."]
    if valid and request.form.get("action") == "save":
        try:
            operations.save_template(
                session=session,
                study=study,
                kind=kind,
                language=language,
                subject=form.subject.data or "",
                body=form.body.data or "",
                user=current_user,
            )
        except ValidationFailed as error:
            session.rollback()
            for name, message in error.errors.items():
                getattr(form, name).errors = [localized(message)]
        else:
            session.commit()
            flash(_("Saved. Messages not sent yet use the new text."), "success")
            return redirect(url_for(".edit_template", study_id=study.id, kind=kind, language=language))
    allow_mail_preview_styles()
    return render_template(
        "fieldwork/template.html",
        study=study,
        form=form,
        kind=kind,
        language=language,
        preview=shown,
        placeholders={name: _(meaning) for name, meaning in PLACEHOLDERS.items()},
    )


def _identity_permission() -> None:
    if not may_view_identities(current_user):
        abort(403)


_CONTENT_LANGUAGE = re.compile(r"^Content-Language: *([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\r?$", re.MULTILINE)


def message_language(raw: str) -> str:
    """The language a stored message declares (its Content-Language header), or ``""``: the mailbox marks
    a Dutch message on the English page with ``lang="nl"`` so a screen reader speaks it in Dutch."""
    head = raw.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    match = _CONTENT_LANGUAGE.search(head)
    return match.group(1) if match else ""


@bp.route("/mailbox")
@staff_required
def mailbox():
    """The built-in mailbox (messages 'sent' while no SMTP server is configured); it shows addresses, so
    only users with the identity permission open it."""
    _identity_permission()
    messages = get_session().exec(select(MailboxMessage).order_by(col(MailboxMessage.id).desc()).limit(500)).all()
    languages = {m.id: message_language(m.raw) for m in messages}
    return render_template("fieldwork/mailbox.html", messages=messages, languages=languages)


@bp.route("/mailbox/<int:message_id>")
@staff_required
def mailbox_message(message_id: int) -> ResponseReturnValue:
    """One message of the built-in mailbox: headers, text and rendered HTML."""
    _identity_permission()
    stored = get_session().get(MailboxMessage, message_id)
    if stored is None:
        abort(404)
    parsed = email.message_from_string(stored.raw, policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    allow_mail_preview_styles()
    return render_template(
        "fieldwork/mailbox_message.html",
        stored=stored,
        language=message_language(stored.raw),
        headers=list(parsed.items()),
        text=text.get_content() if text else "",
        html=html.get_content() if html else "",
    )

"""Pages for a participant's own data: theirs through their personal link, and a researcher's copy on request."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired

from studyapp.auth import staff_required
from studyapp.core.errors import NotAllowed
from studyapp.database import get_session, participant_or_404, privacy_of
from studyapp.inputs import MultiLine, SelectChoice
from studyapp.own_data.service import Copy, make_copy, read_own_data
from studyapp.participants.link_pages import invalid_link, link_language, resolve_link
from studyapp.participants.rate_limits import limit_link_routes, own_data_downloads
from studyapp.participants.texts import texts_for

bp = Blueprint("own_data", __name__)
limit_link_routes(bp)
admin_bp = Blueprint("own_data_admin", __name__)


class ResearcherCopyForm(FlaskForm):
    """A copy of a participant's data made on their request, with the request for the record."""

    file_format = SelectField(
        _l("Format"),
        choices=[
            SelectChoice("pdf", _l("PDF, to read")),
            SelectChoice("json", _l("JSON, to take to another service")),
            SelectChoice("csv", _l("CSV, for a spreadsheet")),
        ],
        default="pdf",
    )
    language = SelectField(
        _l("Language"), choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")], default="nl"
    )
    note = TextAreaField(
        _l("The request"),
        validators=[DataRequired(_l("Say who asked and how, for the record.")), MultiLine(1000)],
        description=_l("E.g. 'e-mail of 3 March, reference 2027-014': it goes into the audit log."),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _download(copy: Copy) -> Response:
    response = Response(copy.content, mimetype=copy.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{copy.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/p/<token>/my-data")
def my_data(token: str) -> ResponseReturnValue:
    """Everything the study keeps about the participant, to read, with the downloads (audit-logged)."""
    resolved = resolve_link(token)
    if resolved is None:
        return invalid_link(link_language(None))
    _, participant, study, language = resolved
    t = texts_for(language)
    session = get_session()
    data = read_own_data(
        session=session,
        privacy=privacy_of(),
        participant=participant,
        language=language,
        now=_now(),
        requested_by="participant",
        ip_address=request.remote_addr or "",
    )
    session.commit()
    response = Response(
        render_template("own_data/my_data.html", t=t, lang=language, token=token, study=study, data=data)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/p/<token>/my-data.<any('pdf','json','csv'):file_format>")
@own_data_downloads
def my_data_file(token: str, file_format: str) -> ResponseReturnValue:
    """The participant's data as a file (PDF, JSON or CSV); audit-logged and rate-limited per link."""
    resolved = resolve_link(token)
    if resolved is None:
        return invalid_link(link_language(None))
    _, participant, _study, language = resolved
    texts_for(language)  # the request's language: the PDF's dates and words
    session = get_session()
    copy = make_copy(
        session=session,
        privacy=privacy_of(),
        participant=participant,
        language=language,
        file_format=file_format,
        now=_now(),
        requested_by="participant",
        ip_address=request.remote_addr or "",
    )
    session.commit()  # the audit entry is stored before the file leaves
    return _download(copy)


@admin_bp.route("/participants/<int:participant_id>/own-data", methods=["POST"])
@staff_required
def researcher_copy(participant_id: int) -> ResponseReturnValue:
    """A copy of a participant's data for them, on their request (identity permission; audit-logged)."""
    participant, _cohort, _study = participant_or_404(participant_id)
    form = ResearcherCopyForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("participants.detail", participant_id=participant_id, _anchor="own-data"))
    session = get_session()
    try:
        copy = make_copy(
            session=session,
            privacy=privacy_of(),
            participant=participant,
            language=form.language.data or "nl",
            file_format=form.file_format.data or "pdf",
            now=_now(),
            requested_by="researcher",
            user=current_user,
            note=form.note.data or "",
            ip_address=request.remote_addr or "",
        )
    except NotAllowed as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("participants.detail", participant_id=participant_id))
    session.commit()
    return _download(copy)

"""Making a participant's copy of their own data: who may, in which format, and the audit entry.

The participant's personal page, the researcher's participant page and the command line all call
:func:`make_copy`. A participant makes their own; a researcher makes one for someone else only with the
identity permission (the copy holds the participant's name and e-mail address); the command line is the
server's operator. Every copy is audit-logged with who made it, for whom, in which format and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlmodel import Session

from studyapp.core import audit
from studyapp.core.errors import NotAllowed
from studyapp.core.models import Participant, User
from studyapp.core.privacy import Privacy
from studyapp.own_data import formats
from studyapp.own_data.collect import OwnData, own_data_of
from studyapp.participants.identities import may_view_identities

#: Who asks for a copy: the participant through their link, a researcher, or the command line.
REQUESTERS = ("participant", "researcher", "cli")
#: The downloadable formats: a file to read (PDF) and two to take to another service (JSON, CSV).
FORMATS = ("pdf", "json", "csv")
_WRITERS: dict[str, tuple[Callable[[OwnData], bytes], str]] = {
    "pdf": (formats.to_pdf, "application/pdf"),
    "json": (formats.to_json, "application/json"),
    "csv": (formats.to_csv, "text/csv; charset=utf-8"),
}


@dataclass(frozen=True)
class Copy:
    """One written copy: the file's bytes, a file name and its media type."""

    content: bytes
    filename: str
    mimetype: str


def read_own_data(
    *,
    session: Session,
    privacy: Privacy,
    participant: Participant,
    language: str,
    now: datetime,
    requested_by: str,
    user: User | None = None,
    note: str = "",
    ip_address: str = "",
    shown_as: str = "page",
) -> OwnData:
    """Gather ``participant``'s data for ``requested_by`` and audit-log it (flushed; the caller commits).

    Raises :class:`NotAllowed` for a researcher without the identity permission: a copy holds the
    participant's contact details.
    """
    if requested_by == "researcher" and not may_view_identities(user):
        raise NotAllowed(_("Making a copy of a participant's data needs the identity permission."))
    with force_locale(language):
        data = own_data_of(session=session, privacy=privacy, participant=participant, language=language, now=now)
    audit.record(
        session=session,
        action="own_data.copied" if shown_as in FORMATS else "own_data.viewed",
        user=user,
        actor="" if user is not None else requested_by,
        target_type="participant",
        target_id=participant.id,
        detail={
            "pseudonym": participant.pseudonym,
            "format": shown_as,
            "requested_by": requested_by,
            "answers": data.answer_count,
            **({"note": note} if note else {}),
        },
        ip_address=ip_address,
    )
    session.flush()
    return data


def make_copy(
    *,
    session: Session,
    privacy: Privacy,
    participant: Participant,
    language: str,
    file_format: str,
    now: datetime,
    requested_by: str,
    user: User | None = None,
    note: str = "",
    ip_address: str = "",
) -> Copy:
    """``participant``'s own data as a file in ``file_format`` (one of :data:`FORMATS`), audit-logged.

    The audit entry is flushed with the caller's unit of work; commit it before handing out the file.
    Raises :class:`ValueError` for an unknown format and :class:`NotAllowed` as :func:`read_own_data`.
    """
    if file_format not in _WRITERS:
        raise ValueError(f"unknown format {file_format!r}; choose from {', '.join(FORMATS)}")
    data = read_own_data(
        session=session,
        privacy=privacy,
        participant=participant,
        language=language,
        now=now,
        requested_by=requested_by,
        user=user,
        note=note,
        ip_address=ip_address,
        shown_as=file_format,
    )
    write, mimetype = _WRITERS[file_format]
    with force_locale(language):
        content = write(data)
    day = now.date().isoformat()
    return Copy(content, f"bridge-the-gap-{participant.pseudonym}-{day}.{file_format}", mimetype)

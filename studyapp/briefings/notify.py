"""The e-mail that tells a company contact a new briefing is ready (sent through the outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from sqlmodel import Session, select

from studyapp.core.models import Briefing, Organisation, OutboxMessage, Study, User, Wave
from waves.i18n import LANGUAGES, N_, translated
from waves.messages import RenderedMessage, html_document
from waves.notifications import register_notification

_SUBJECT = N_("New briefing: {study}, wave {wave}")
_BODY = N_(
    "Dear {name},\n\nA new briefing on {organisation} is ready: {study}, wave {wave}. It shows your people "
    "in aggregate beside all participants; no individual answers are shared.\n\nLog in to download it: "
    "{base_url}/company\n\nBridge the Gap research team"
)


NOTICE_KIND = "briefing"


def briefing_message(
    *, session: Session, reference: str, language: str, base_url: str, user: User
) -> RenderedMessage | None:
    """The notice for ``user`` about the briefing an outbox key names (None when the briefing is gone).

    ``reference`` is the key after ``briefing:``, i.e. ``<briefing id>:<user id>``.
    """
    briefing_id = reference.split(":")[0]
    briefing = session.get(Briefing, int(briefing_id)) if briefing_id.isdigit() else None
    if briefing is None or briefing.organisation_id != user.organisation_id:
        return None
    organisation = session.get(Organisation, briefing.organisation_id)
    study = session.get(Study, briefing.study_id)
    wave = session.get(Wave, briefing.wave_id) if briefing.wave_id else None
    subject, text = translated(language, _SUBJECT), translated(language, _BODY)
    values = {
        "name": user.name,
        "organisation": organisation.name if organisation else "",
        "study": study.name if study else "",
        "wave": wave.label if wave else "",
        "base_url": base_url,
    }
    body = text.format(**values)
    html = "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in escape(body).split("\n\n"))
    language = language if language in LANGUAGES else "en"
    subject = subject.format(**values)
    return RenderedMessage(
        subject=subject, text=body, html=html_document(html, language=language, title=subject), language=language
    )


def queue_notices(*, session: Session, briefings: Mapping[str, Briefing]) -> int:
    """Queue one notice per active contact of an organisation for one version of its briefings.

    ``briefings`` are that version's briefings by language; each contact's notice names the one in the
    contact's language (or the first made, when there is none in it), and is written in that language.
    Idempotent: a contact is never told twice about the same briefing.
    """
    if not briefings:
        return 0
    first = next(iter(briefings.values()))
    if first.organisation_id is None:
        return 0
    contacts = session.exec(
        select(User).where(User.organisation_id == first.organisation_id, User.role == "company_contact")
    ).all()
    queued = 0
    for user in contacts:
        if not user.is_active:
            continue
        briefing = briefings.get(user.language, first)
        key = f"{NOTICE_KIND}:{briefing.id}:{user.id}"
        if session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first() is not None:
            continue
        session.add(
            OutboxMessage(idempotency_key=key, kind="notification", user_id=user.id, language=briefing.language)
        )
        queued += 1
    return queued


def register() -> None:
    """Let the dispatcher compose briefing notices (called at start-up by the app and the scheduler)."""
    register_notification(NOTICE_KIND, briefing_message)

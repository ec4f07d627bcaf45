"""Message kinds that features send to staff and company accounts through the outbox.

The fieldwork engine names no feature: a feature registers, at start-up, a composer for the kind of
notice it queues (the part of the outbox key before the first ``:``, e.g. ``briefing:12:3``), and the
dispatcher asks the registry to compose each ``notification`` row.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from studyapp.core.models import User
from waves.messages import RenderedMessage

#: ``composer(session=..., reference=..., language=..., base_url=..., user=...)``: the message, or
#: ``None`` when there is nothing to say any more (e.g. the briefing is gone).
Composer = Callable[..., RenderedMessage | None]

_COMPOSERS: dict[str, Composer] = {}


class UnknownNotification(LookupError):
    """An outbox row of a kind no feature registered (the message fails with this reason)."""


def register_notification(kind: str, composer: Composer) -> None:
    """Let the dispatcher compose outbox rows whose key starts with ``kind:`` (idempotent)."""
    _COMPOSERS[kind] = composer


def compose_notification(
    *, session: Session, key: str, language: str, base_url: str, user: User
) -> RenderedMessage | None:
    """The message for the outbox row with idempotency ``key``, from the composer of its kind."""
    kind, _, reference = key.partition(":")
    composer = _COMPOSERS.get(kind)
    if composer is None:
        raise UnknownNotification(f"no feature composes notifications of kind {kind!r}")
    return composer(session=session, reference=reference, language=language, base_url=base_url, user=user)

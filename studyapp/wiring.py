"""What the app layer wires together for the lower layers: the outbox message kinds features send."""

from __future__ import annotations

from studyapp.briefings import notify


def register_message_kinds() -> None:
    """Register every feature's notification composer with the fieldwork engine (idempotent)."""
    notify.register()

"""What the app layer wires together for the lower layers: the outbox message kinds features send."""

from __future__ import annotations

from studyapp.accounts import notices as account_notices
from studyapp.briefings import notify
from studyapp.studies import retention


def register_message_kinds(*, secret_key: str | None = None) -> None:
    """Register every feature's notification composer with the fieldwork engine (idempotent).

    Account e-mails carry links signed with ``secret_key``; without it they are not registered.
    """
    notify.register()
    retention.register()
    if secret_key is not None:
        account_notices.register(secret_key)

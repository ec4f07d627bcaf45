"""The invitation and password-reset e-mails (sent through the outbox, composed at send time).

The outbox row's key names the account, the purpose and the fingerprint of the account's state when the
e-mail was asked for; the link itself is made only when the message is composed, so it is never stored.
A row whose account has set its password (or logged in) since is not sent: its link would be dead anyway.
"""

from __future__ import annotations

from functools import partial
from html import escape

from sqlmodel import Session

from studyapp.accounts.management import NOTICE_KIND
from studyapp.accounts.tokens import LIFETIMES, PURPOSES, fingerprint, make_link_token
from studyapp.core.models import User
from waves.i18n import LANGUAGES, N_, ntranslated, translated
from waves.messages import RenderedMessage, html_document
from waves.notifications import register_notification

#: The path of the set-password page; ``{token}`` is the signed link token.
LINK_PATH = "/account/password/{token}"

_SUBJECTS = {"invite": N_("Your account for Bridge the Gap"), "reset": N_("Set a new password for Bridge the Gap")}


def _body(purpose: str, language: str, hours: int) -> str:
    """The e-mail's text in ``language``, placeholders still open; the link works for ``hours`` hours."""
    if purpose == "invite":
        return ntranslated(
            language,
            "Dear {name},\n\nAn account for Bridge the Gap has been made for you ({email}). Choose your password "
            "with this link within {hours} hour; it works once:\n\n{link}\n\nWhen it has expired, ask the "
            "study's administrator for a new one.\n\nBridge the Gap research team",
            "Dear {name},\n\nAn account for Bridge the Gap has been made for you ({email}). Choose your password "
            "with this link within {hours} hours; it works once:\n\n{link}\n\nWhen it has expired, ask the "
            "study's administrator for a new one.\n\nBridge the Gap research team",
            hours,
        )
    return ntranslated(
        language,
        "Dear {name},\n\nAn administrator asked for a new password for your account ({email}). Choose one with "
        "this link within {hours} hour; it works once:\n\n{link}\n\nUntil then your current password keeps "
        "working. If you did not expect this, tell the study's administrator.\n\nBridge the Gap research team",
        "Dear {name},\n\nAn administrator asked for a new password for your account ({email}). Choose one with "
        "this link within {hours} hours; it works once:\n\n{link}\n\nUntil then your current password keeps "
        "working. If you did not expect this, tell the study's administrator.\n\nBridge the Gap research team",
        hours,
    )


def account_message(
    *, session: Session, reference: str, language: str, base_url: str, user: User, secret_key: str
) -> RenderedMessage | None:
    """The invitation or reset e-mail an outbox key names, with a fresh link (``None``: nothing to send).

    ``reference`` is the key after ``account:``: ``<purpose>:<user id>:<fingerprint>:<moment>``.
    """
    purpose, user_id, print_, *_ = [*reference.split(":"), "", "", ""]
    if purpose not in PURPOSES or user_id != str(user.id):
        return None
    if fingerprint(user, secret_key=secret_key) != print_:
        return None  # the password was set (or the account logged in) since: the link would be dead
    token = make_link_token(user, purpose=purpose, secret_key=secret_key)
    hours = int(LIFETIMES[purpose].total_seconds() // 3600)
    subject, text = translated(language, _SUBJECTS[purpose]), _body(purpose, language, hours)
    body = text.format(name=user.name, email=user.email, hours=hours, link=base_url + LINK_PATH.format(token=token))
    html = "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in escape(body).split("\n\n"))
    language = language if language in LANGUAGES else "en"
    page = html_document(html, language=language, title=subject)
    return RenderedMessage(subject=subject, text=body, html=page, language=language)


def register(secret_key: str) -> None:
    """Let the dispatcher compose account e-mails, signing links with ``secret_key`` (at start-up)."""
    register_notification(NOTICE_KIND, partial(account_message, secret_key=secret_key))

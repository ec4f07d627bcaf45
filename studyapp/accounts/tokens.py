"""Set-password links: signed, time-limited and single-use without a table of their own.

A link carries the account's id, its purpose and a fingerprint of the account's current password hash
and last login, signed with the app's secret key (itsdangerous, with a salt of its own). Setting the
password, or logging in, changes the fingerprint, so a link works once and dies with the state it was
made for (the approach of Django's ``PasswordResetTokenGenerator``). Nothing of a link is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from studyapp.core.models import User
from studyapp.core.types import utcnow

SALT = "studyapp.accounts.set-password"
#: How long a link works after its e-mail was composed, by purpose.
LIFETIMES = {"invite": timedelta(hours=72), "reset": timedelta(hours=1)}
PURPOSES = tuple(LIFETIMES)


class LinkInvalid(ValueError):
    """A set-password link that is unknown, used, expired or for an account that cannot use it."""


@dataclass(frozen=True)
class LinkClaim:
    """What a valid link says: whose password it sets, and why."""

    user_id: int
    purpose: str


def fingerprint(user: User, *, secret_key: str) -> str:
    """A keyed digest of what a link must outlive no change of: the password hash and the last login."""
    state = f"{user.id}|{user.password_hash}|{user.last_login_at.isoformat() if user.last_login_at else ''}"
    return hmac.new(secret_key.encode(), state.encode(), hashlib.sha256).hexdigest()[:24]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_link_token(user: User, *, purpose: str, secret_key: str) -> str:
    """A signed token for ``user``'s set-password link (valid for ``LIFETIMES[purpose]`` from now)."""
    if purpose not in LIFETIMES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    payload = {"u": user.id, "p": purpose, "f": fingerprint(user, secret_key=secret_key)}
    return str(_serializer(secret_key).dumps(payload))


def read_link_token(token: str, *, secret_key: str, now: datetime | None = None) -> tuple[LinkClaim, str]:
    """The claim a token makes and the fingerprint it carries; raises :class:`LinkInvalid`.

    Checks the signature and the lifetime of the token's purpose; the caller compares the fingerprint
    with the account's current one.
    """
    try:
        payload, signed_at = _serializer(secret_key).loads(token, return_timestamp=True)
    except (BadSignature, UnicodeError, ValueError):
        raise LinkInvalid("unknown") from None
    if not isinstance(payload, dict) or payload.get("p") not in LIFETIMES:
        raise LinkInvalid("unknown")
    user_id, print_ = payload.get("u"), payload.get("f")
    if not isinstance(user_id, int) or not isinstance(print_, str):
        raise LinkInvalid("unknown")
    if (now or utcnow()) - signed_at > LIFETIMES[payload["p"]]:
        raise LinkInvalid("expired")
    return LinkClaim(user_id=user_id, purpose=payload["p"]), print_

"""Account operations: create users, check passwords, lock out repeated failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlmodel import Session, select

from studyapp.core import audit
from studyapp.core.inputs import INT32_MAX, InputError, column_length, line_problem, parse_id
from studyapp.core.models import LANGUAGES, ROLES, Organisation, User
from studyapp.core.types import utcnow
from studyapp.inputs import email_problem

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-timing")


class AccountError(ValueError):
    """An account could not be created or changed; the message says why."""


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt."""

    user: User | None
    message: str = ""


def normalise_email(email: str) -> str:
    """Validate an e-mail address (email-validator) and return it lower-cased, or raise :class:`AccountError`."""
    shown = repr(email.strip()[:100])
    if len(email.strip()) > column_length(User.email):
        raise AccountError(
            _("The e-mail address is longer than %(length)d characters.", length=column_length(User.email))
        )
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(
            _("%(address)s is not a valid e-mail address: %(error)s", address=shown, error=email_problem(error))
        ) from None
    return checked.normalized.lower()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, after checking its length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("The password must have at least %(length)d characters.", length=MIN_PASSWORD_LENGTH))
    return _hasher.hash(password)


def create_user(
    *,
    session: Session,
    email: str,
    name: str,
    password: str,
    role: str = "researcher",
    can_view_identities: bool = False,
    organisation_id: int | None = None,
    created_by: User | None = None,
    language: str = "nl",
    password_hash: str | None = None,
) -> User:
    """Create an account; raises :class:`AccountError` on a bad role, e-mail, password or language.

    ``language`` is the one the account's e-mails are written in (a company contact's briefing notices).
    ``password_hash``, when given, is stored instead of a hash of ``password`` (an invited account's
    unusable one).
    """
    if role not in ROLES:
        raise AccountError(
            _("Unknown role %(role)s; choose one of %(choices)s.", role=repr(role), choices=", ".join(ROLES))
        )
    if language not in LANGUAGES:
        raise AccountError(
            _(
                "Unknown language %(language)s; choose one of %(choices)s.",
                language=repr(language),
                choices=", ".join(LANGUAGES),
            )
        )
    email = normalise_email(email)
    if not name.strip():
        raise AccountError(_("A name is required."))
    if problem := line_problem(name.strip(), field=_("The name"), max_length=column_length(User.name)):
        raise AccountError(problem)
    if session.exec(select(User).where(User.email == email)).first():
        raise AccountError(_("An account for %(email)s already exists.", email=email))
    if organisation_id is not None and (
        not 1 <= organisation_id <= INT32_MAX or session.get(Organisation, organisation_id) is None
    ):
        raise AccountError(
            _(
                "There is no organisation %(id)s; `studyapp organisations list` shows their ids.",
                id=organisation_id,
            )
        )
    if role == "company_contact" and organisation_id is None:
        raise AccountError(
            _(
                "A company contact needs an organisation: give --organisation-id (`studyapp organisations list` "
                "shows their ids)."
            )
        )
    user = User(
        email=email,
        name=name.strip(),
        password_hash=password_hash or hash_password(password),
        role=role,
        can_view_identities=can_view_identities,
        organisation_id=organisation_id,
        language=language,
    )
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        action="user.created",
        user=created_by,
        actor="cli" if created_by is None else "",
        target_type="user",
        target_id=user.id,
        detail={"email": email, "role": role},
    )
    return user


def authenticate(*, session: Session, email: str, password: str, ip_address: str = "") -> LoginResult:
    """Check a login; counts failures and locks the account for a while after too many.

    Flushes the count (or the login) and its audit entry; the caller commits, also when the login fails.
    """
    generic = _("Unknown e-mail address or wrong password.")
    try:
        email = normalise_email(email)
    except AccountError:
        return LoginResult(None, generic)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None, generic)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        return LoginResult(None, _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes))
    if not _verify(user.password_hash, password) or not user.active:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            audit.record(
                session=session,
                action="user.locked",
                target_type="user",
                target_id=user.id,
                actor=email,
                ip_address=ip_address,
            )
        session.add(user)
        session.flush()
        return LoginResult(None, generic)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    audit.record(
        session=session,
        action="user.login",
        user=user,
        target_type="user",
        target_id=user.id,
        ip_address=ip_address,
    )
    session.flush()
    return LoginResult(user)


def load_active_user(*, session: Session, user_id: str) -> User | None:
    """The active user with this id, for the login session; ``None`` otherwise."""
    try:
        user = session.get(User, parse_id(user_id, field="user id"))  # "²".isdigit() is true, int("²") fails
    except InputError:
        return None
    return user if user is not None and user.active else None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False

"""Account management by admins: invite, change access, deactivate, reactivate, reset passwords.

Every change is audit-logged. Accounts are never deleted (the audit log keeps their names); there is
always at least one active admin. Set-password e-mails go through the outbox (see
:mod:`studyapp.accounts.notices`), composed at send time, so no link is ever stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, col, select

from studyapp.accounts.services import AccountError, create_user, hash_password, normalise_email
from studyapp.accounts.tokens import LinkClaim, LinkInvalid, fingerprint, read_link_token
from studyapp.core import audit
from studyapp.core.inputs import INT32_MAX, column_length, line_problem
from studyapp.core.models import LANGUAGES, ROLES, Organisation, OutboxMessage, User
from studyapp.core.types import utcnow
from studyapp.extensions import N_

#: The first character of a password hash no password matches: an invited account until it sets one.
UNUSABLE_PREFIX = "!"
NOTICE_KIND = "account"


@dataclass(frozen=True)
class OrganisationSummary:
    """An organisation as the account pages and ``studyapp organisations list`` show it."""

    id: int
    name: str
    contacts: int


def unusable_password() -> str:
    """A password hash that no password matches (argon2 refuses it as a hash)."""
    return UNUSABLE_PREFIX + secrets.token_hex(16)


def has_password(user: User) -> bool:
    """Whether the account has set a password (an invited one has not yet)."""
    return not user.password_hash.startswith(UNUSABLE_PREFIX)


def list_accounts(*, session: Session) -> list[tuple[User, str]]:
    """Every account with its organisation's name (or ``""``), active ones first, then by name."""
    rows = session.exec(
        select(User, Organisation.name)
        .join(Organisation, col(Organisation.id) == User.organisation_id, isouter=True)
        .order_by(col(User.active).desc(), col(User.name), col(User.id))
    ).all()
    return [(user, name or "") for user, name in rows]


def list_organisations(*, session: Session) -> list[OrganisationSummary]:
    """Every organisation with its number of company contacts (active or not), by name."""
    contacts = (
        select(User.organisation_id, func.count().label("n"))
        .where(User.role == "company_contact")
        .group_by(col(User.organisation_id))
        .subquery()
    )
    rows = session.exec(
        select(Organisation.id, Organisation.name, func.coalesce(contacts.c.n, 0))
        .join(contacts, contacts.c.organisation_id == Organisation.id, isouter=True)
        .order_by(col(Organisation.name))
    ).all()
    return [OrganisationSummary(id=int(i or 0), name=name, contacts=int(n)) for i, name, n in rows]


def get_account(*, session: Session, user_id: int) -> User:
    """The account with this id, or :class:`AccountError`."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(_("There is no account %(id)s.", id=user_id))
    return user


def invite_problems(
    *, session: Session, email: str, name: str, role: str, organisation_id: int | None, language: str
) -> dict[str, str]:
    """Every rule a new account breaks, by form field, all at once (:func:`invite_user` refuses the same)."""
    problems = {}
    if role not in ROLES:
        problems["role"] = _(
            "Unknown role %(role)s; choose one of %(choices)s.", role=repr(role), choices=", ".join(ROLES)
        )
    if language not in LANGUAGES:
        problems["language"] = _(
            "Unknown language %(language)s; choose one of %(choices)s.",
            language=repr(language),
            choices=", ".join(LANGUAGES),
        )
    try:
        normalised = normalise_email(email)
    except AccountError as error:
        problems["email"] = str(error)
    else:
        if session.exec(select(User).where(User.email == normalised)).first():
            problems["email"] = _("An account for %(email)s already exists.", email=normalised)
    if not name.strip():
        problems["name"] = _("A name is required.")
    elif problem := line_problem(name.strip(), field=_("The name"), max_length=column_length(User.name)):
        problems["name"] = problem
    try:
        _checked_organisation(session=session, role=role, organisation_id=organisation_id)
    except AccountError as error:
        problems["organisation_id"] = str(error)
    return problems


def invite_user(
    *,
    session: Session,
    admin: User,
    email: str,
    name: str,
    role: str,
    can_view_identities: bool = False,
    organisation_id: int | None = None,
    language: str = "nl",
    secret_key: str,
) -> User:
    """Create an account without a password and queue an e-mail with a link to set one (72 hours).

    Raises :class:`AccountError` on the same bad input as :func:`create_user`.
    """
    if role in ROLES:
        organisation_id = _checked_organisation(session=session, role=role, organisation_id=organisation_id)
    user = create_user(
        session=session,
        email=email,
        name=name,
        password="",
        role=role,
        can_view_identities=can_view_identities,
        organisation_id=organisation_id,
        created_by=admin,
        language=language,
        password_hash=unusable_password(),
    )
    _queue_link(session=session, user=user, purpose="invite", secret_key=secret_key)
    audit.record(
        session=session,
        action="user.invited",
        user=admin,
        target_type="user",
        target_id=user.id,
        detail={"email": user.email, "role": role},
    )
    return user


def resend_invitation(*, session: Session, admin: User, user: User, secret_key: str) -> None:
    """Queue a new invitation e-mail for an account that has not set its password yet."""
    _require_active(user)
    if has_password(user):
        raise AccountError(_("%(email)s has set a password already: send a password reset instead.", email=user.email))
    _queue_link(session=session, user=user, purpose="invite", secret_key=secret_key)
    audit.record(
        session=session,
        action="user.invited",
        user=admin,
        target_type="user",
        target_id=user.id,
        detail={"email": user.email, "role": user.role, "again": True},
    )


def request_password_reset(*, session: Session, admin: User, user: User, secret_key: str) -> None:
    """Queue an e-mail with a link to set a new password (1 hour); the old one works until then."""
    _require_active(user)
    if not has_password(user):
        raise AccountError(
            _("%(email)s has not accepted the invitation yet: send the invitation again.", email=user.email)
        )
    _queue_link(session=session, user=user, purpose="reset", secret_key=secret_key)
    audit.record(
        session=session,
        action="user.password_reset_sent",
        user=admin,
        target_type="user",
        target_id=user.id,
        detail={"email": user.email},
    )


def change_access(
    *,
    session: Session,
    admin: User,
    user: User,
    role: str,
    can_view_identities: bool,
    organisation_id: int | None,
) -> list[str]:
    """Set an account's role, identity permission and (for a company contact) organisation.

    Returns what changed (also audit-logged, one event per kind of change). Refuses to leave no active
    admin, and a company contact without an existing organisation.
    """
    if role not in ROLES:
        raise AccountError(
            _("Unknown role %(role)s; choose one of %(choices)s.", role=repr(role), choices=", ".join(ROLES))
        )
    organisation_id = _checked_organisation(session=session, role=role, organisation_id=organisation_id)
    changed: list[str] = []
    if role != user.role or organisation_id != user.organisation_id:
        if user.role == "admin" and role != "admin":
            _keep_an_admin(session=session, leaving=user)
        detail: dict[str, object] = {"email": user.email, "from": user.role, "to": role}
        if organisation_id != user.organisation_id:
            detail["organisation_from"] = user.organisation_id
            detail["organisation_to"] = organisation_id
        user.role, user.organisation_id = role, organisation_id
        _record(session, admin, user, "user.role_changed", detail)
        changed.append(N_("role"))
    if can_view_identities != user.can_view_identities:
        user.can_view_identities = can_view_identities
        _record(
            session,
            admin,
            user,
            "user.identity_permission_changed",
            {"email": user.email, "can_view_identities": can_view_identities},
        )
        changed.append(N_("identity permission"))
    session.add(user)
    session.flush()
    return changed


def set_language(*, session: Session, actor: User, user: User, language: str) -> bool:
    """Set the language ``user`` sees the app and gets e-mails in (``actor``: the user or an admin).

    Returns whether it changed (audit-logged when it did); raises :class:`AccountError` on an unknown one.
    """
    if language not in LANGUAGES:
        raise AccountError(
            _(
                "Unknown language %(language)s; choose one of %(choices)s.",
                language=repr(language),
                choices=", ".join(LANGUAGES),
            )
        )
    if language == user.language:
        return False
    _record(session, actor, user, "user.language_changed", {"email": user.email, "from": user.language, "to": language})
    user.language = language
    session.add(user)
    session.flush()
    return True


def deactivate(*, session: Session, admin: User, user: User) -> None:
    """Stop an account: it can no longer log in, and its open sessions end at their next request."""
    if not user.active:
        raise AccountError(_("%(email)s is deactivated already.", email=user.email))
    if user.role == "admin":
        _keep_an_admin(session=session, leaving=user)
    user.active = False
    session.add(user)
    _record(session, admin, user, "user.deactivated", {"email": user.email})
    session.flush()


def reactivate(*, session: Session, admin: User, user: User) -> None:
    """Let a deactivated account log in again (with the password it had)."""
    if user.active:
        raise AccountError(_("%(email)s is active already.", email=user.email))
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    _record(session, admin, user, "user.reactivated", {"email": user.email})
    session.flush()


def check_link(*, session: Session, token: str, secret_key: str, now: datetime | None = None) -> tuple[User, str]:
    """The account a set-password link is for and the link's purpose; :class:`LinkInvalid` otherwise.

    A link is refused once its password was set (or the account logged in since), when expired, and
    for a deactivated account.
    """
    claim, print_ = read_link_token(token, secret_key=secret_key, now=now)
    user = _claimed_user(session, claim)
    if not user.active or fingerprint(user, secret_key=secret_key) != print_:
        raise LinkInvalid("used")
    return user, claim.purpose


def set_password_with_link(
    *, session: Session, token: str, password: str, secret_key: str, ip_address: str = ""
) -> User:
    """Set the password of the account a valid link is for (which ends the link); audit-logged.

    Raises :class:`LinkInvalid` for a bad link and :class:`AccountError` for a password too short.
    """
    # The row is locked (PostgreSQL) so two uses of one link at once cannot both pass the check.
    claim, _purpose = read_link_token(token, secret_key=secret_key)
    session.exec(
        select(User).where(User.id == claim.user_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    user, purpose = check_link(session=session, token=token, secret_key=secret_key)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(
        session=session,
        action="user.password_set",
        user=user,
        target_type="user",
        target_id=user.id,
        detail={"by": "invitation" if purpose == "invite" else "reset link"},
        ip_address=ip_address,
    )
    session.flush()
    return user


def _checked_organisation(*, session: Session, role: str, organisation_id: int | None) -> int | None:
    """The organisation a company contact belongs to (which must exist); ``None`` for other roles."""
    if role != "company_contact":
        return None
    if (
        organisation_id is None
        or not 1 <= organisation_id <= INT32_MAX
        or session.get(Organisation, organisation_id) is None
    ):
        raise AccountError(_("A company contact needs an organisation: pick one from the list."))
    return organisation_id


def _claimed_user(session: Session, claim: LinkClaim) -> User:
    user = session.get(User, claim.user_id)
    if user is None:
        raise LinkInvalid("unknown")
    return user


def _queue_link(*, session: Session, user: User, purpose: str, secret_key: str) -> None:
    """An outbox row for a set-password e-mail; the key names the state the link is for, never a link."""
    key = f"{NOTICE_KIND}:{purpose}:{user.id}:{fingerprint(user, secret_key=secret_key)}:{utcnow():%Y%m%d%H%M%S%f}"
    session.add(OutboxMessage(idempotency_key=key, kind="notification", user_id=user.id, language=user.language))


def _keep_an_admin(*, session: Session, leaving: User) -> None:
    """Refuse to take away the last active admin (the admin rows are locked to decide it on PostgreSQL)."""
    admins = session.exec(
        select(User.id).where(User.role == "admin", col(User.active).is_(True)).with_for_update()
    ).all()
    if not [i for i in admins if i != leaving.id]:
        raise AccountError(
            _(
                "%(email)s is the only active admin: make another account admin first, "
                "so that someone can still manage accounts.",
                email=leaving.email,
            )
        )


def _require_active(user: User) -> None:
    if not user.active:
        raise AccountError(_("%(email)s is deactivated: reactivate the account first.", email=user.email))


def _record(session: Session, admin: User, user: User, action: str, detail: dict[str, object]) -> None:
    audit.record(session=session, action=action, user=admin, target_type="user", target_id=user.id, detail=detail)

"""Access to identities: decrypted only for mail and for users with the identity permission, audited."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.models import Cohort, Identity, Participant, Study, User
from studyapp.core.privacy import Privacy
from studyapp.core.types import utcnow
from studyapp.inputs import email_problem


@dataclass(frozen=True)
class Contact:
    """A participant's decrypted contact details."""

    email: str
    name: str
    language: str


def refuse_new_identities(study: Study) -> None:
    """Raise :class:`NotAllowed` when ``study``'s identities were erased on schedule
    (:mod:`studyapp.studies.retention`): an identity stored afterwards would be kept past the date."""
    if study.identities_erased_at is not None:
        raise NotAllowed(
            _(
                "The identities of this study were erased on %(day)s: nobody can be enrolled, and no e-mail "
                "address stored, any more.",
                day=study.identities_erased_at.date().isoformat(),
            )
        )


def identity_of(*, session: Session, participant: Participant) -> Identity | None:
    """The participant's stored (encrypted) identity, or ``None`` when there is none."""
    return session.exec(select(Identity).where(Identity.participant_id == participant.id)).first()


def has_contact_details(*, session: Session, participant: Participant) -> bool:
    """Whether contact details are stored for ``participant`` (none for simulated participants, for
    those linked anonymously by code, and after erasure): only then is there anything to show."""
    return identity_of(session=session, participant=participant) is not None


def with_contact_details(*, session: Session, participants: list[Participant]) -> set[int]:
    """The ids of those of ``participants`` that have contact details stored (one query)."""
    ids = [p.id for p in participants]
    if not ids:
        return set()
    return set(session.exec(select(Identity.participant_id).where(col(Identity.participant_id).in_(ids))).all())


def may_view_identities(user: User | None) -> bool:
    """Whether ``user`` holds the identity permission."""
    return bool(user is not None and user.active and user.can_view_identities)


def reveal_identities(
    *,
    session: Session,
    privacy: Privacy,
    user: User,
    participants: list[Participant],
    purpose: str,
    ip_address: str = "",
) -> dict[int, Contact]:
    """Decrypt the identities of ``participants`` for ``user``; every call is audit-logged.

    The audit entry is flushed; the caller commits it before it shows any identity.

    Raises :class:`NotAllowed` for a user without the identity permission.
    """
    if not may_view_identities(user):
        raise NotAllowed(_("Your account does not have permission to see participants' identities."))
    ids = [p.id for p in participants]
    identities = session.exec(select(Identity).where(col(Identity.participant_id).in_(ids))).all()
    contacts = {i.participant_id: _decrypt(privacy, i) for i in identities}
    if contacts:
        audit.record(
            session=session,
            action="identity.viewed",
            user=user,
            target_type="participant",
            target_id=ids[0] if len(ids) == 1 else "",
            detail={
                "purpose": purpose,
                "count": len(contacts),
                "pseudonyms": [p.pseudonym for p in participants if p.id in contacts][:500],
            },
            ip_address=ip_address,
        )
        session.flush()
    return contacts


def contact_for_mail(*, session: Session, privacy: Privacy, participant: Participant) -> Contact | None:
    """The address to send a participant's mail to (for the mailer only), or ``None`` without one."""
    identity = identity_of(session=session, participant=participant)
    return _decrypt(privacy, identity) if identity is not None else None


def _decrypt(privacy: Privacy, identity: Identity) -> Contact:
    return Contact(
        email=privacy.decrypt(identity.email_encrypted),
        name=privacy.decrypt(identity.name_encrypted),
        language=identity.language,
    )


def change_email(
    *,
    session: Session,
    privacy: Privacy,
    participant: Participant,
    new_email: str,
    actor: str,
    user: User | None = None,
) -> None:
    """Change a participant's contact address; the pseudonym and every link to earlier waves stay.

    A researcher needs the identity permission; raises :class:`ValidationFailed` for a malformed address
    or one that another participant of the study uses.
    """
    if actor == "researcher" and not may_view_identities(user):
        raise NotAllowed(_("Changing an e-mail address needs the identity permission."))
    try:
        email = validate_email(new_email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationFailed(
            {"email": _("This is not a valid e-mail address: %(error)s", error=email_problem(error))}
        ) from None
    identity = identity_of(session=session, participant=participant)
    if identity is None:
        raise NotAllowed(_("This participant has no contact details (erased, or imported without them)."))
    digest = privacy.email_hash(email)
    cohort = session.get(Cohort, participant.cohort_id)
    assert cohort is not None
    clash = session.exec(
        select(Identity.participant_id)
        .join(Participant, col(Participant.id) == Identity.participant_id)
        .join(Cohort, col(Cohort.id) == Participant.cohort_id)
        .where(
            Identity.email_hash == digest,
            Cohort.study_id == cohort.study_id,
            Identity.participant_id != participant.id,
        )
    ).first()
    if clash is not None:
        raise ValidationFailed({"email": _("Another participant of this study uses this address.")})
    identity.email_encrypted = privacy.encrypt(email)
    identity.email_hash = digest
    identity.updated_at = utcnow()
    session.add(identity)
    audit.record(
        session=session,
        action="identity.email_changed",
        user=user,
        actor=actor if user is None else "",
        target_type="participant",
        target_id=participant.id,
        detail={"pseudonym": participant.pseudonym},
    )


def set_language(*, session: Session, participant: Participant, language: str) -> None:
    """The language of a participant's mail and pages."""
    if language not in ("nl", "en"):
        raise ValidationFailed({"language": _("Choose nl or en.")})
    identity = identity_of(session=session, participant=participant)
    if identity is not None:
        identity.language = language
        session.add(identity)


def rotate_identity_key(*, session: Session, privacy: Privacy) -> int:
    """Re-encrypt every stored identity under the newest ``IDENTITY_KEY``; returns how many rows."""
    count = 0
    for identity in session.exec(select(Identity)):
        identity.email_encrypted = privacy.rotate(identity.email_encrypted)
        identity.name_encrypted = privacy.rotate(identity.name_encrypted)
        session.add(identity)
        count += 1
    audit.record(session=session, action="identity.key_rotated", actor="cli", detail={"identities": count})
    return count

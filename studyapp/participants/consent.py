"""Stopping mail, withdrawing and erasure, by the participant or a researcher."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, col, delete, select

from studyapp.core import audit
from studyapp.core.errors import NotAllowed
from studyapp.core.models import (
    Answer,
    ConsentEvent,
    Invitation,
    OutboxMessage,
    Participant,
    Response,
    User,
    key,
)
from studyapp.participants.identities import identity_of


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure removed."""

    identity_deleted: bool
    responses_deleted: int
    data_kept: bool


def keeps_data(*, session: Session, participant: Participant) -> bool:
    """Whether the participant's latest consent allows keeping answers pseudonymously after leaving."""
    latest = session.exec(
        select(ConsentEvent)
        .where(ConsentEvent.participant_id == participant.id, col(ConsentEvent.keep_data).is_not(None))
        .order_by(col(ConsentEvent.created_at).desc(), col(ConsentEvent.id).desc())
    ).first()
    return bool(latest and latest.keep_data)


def _event(
    session: Session,
    participant: Participant,
    kind: str,
    actor: str,
    user: User | None,
    note: str = "",
    keep_data: bool | None = None,
) -> None:
    session.add(
        ConsentEvent(
            participant_id=key(participant),
            kind=kind,
            actor=actor,
            user_id=user.id if user else None,
            note=note,
            keep_data=keep_data,
        )
    )
    audit.record(
        session=session,
        action=f"participant.{kind}",
        user=user,
        actor=actor if user is None else "",
        target_type="participant",
        target_id=participant.id,
        detail={"pseudonym": participant.pseudonym},
    )


def _cancel_pending_mail(session: Session, participant: Participant) -> None:
    session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.participant_id) == participant.id, col(OutboxMessage.status) == "pending"
        )
    )


def stop_mail(*, session: Session, participant: Participant, actor: str, user: User | None = None) -> None:
    """No more invitations or reminders; the participant stays in the study and may still respond."""
    if participant.status != "active":
        return
    participant.status = "unsubscribed"
    session.add(participant)
    _cancel_pending_mail(session, participant)
    _event(session, participant, "mail_stopped", actor, user)


def resume_mail(*, session: Session, participant: Participant, actor: str, user: User | None = None) -> None:
    """Undo :func:`stop_mail`."""
    if participant.status != "unsubscribed":
        raise NotAllowed(_("Only a participant who stopped mail can receive it again."))
    participant.status = "active"
    session.add(participant)
    _event(session, participant, "mail_resumed", actor, user)


def _delete_research_data(session: Session, participant: Participant) -> int:
    """Delete a participant's responses, answers, invitations, messages and frame values; return the
    responses count."""
    participant.frame = {}
    session.add(participant)
    invitation_ids = select(Invitation.id).where(Invitation.participant_id == participant.id)
    response_ids = select(Response.id).where(col(Response.invitation_id).in_(invitation_ids))
    deleted = len(session.exec(response_ids).all())
    session.exec(delete(Answer).where(col(Answer.response_id).in_(response_ids)))
    session.exec(delete(Response).where(col(Response.invitation_id).in_(invitation_ids)))
    session.exec(delete(OutboxMessage).where(col(OutboxMessage.participant_id) == participant.id))
    session.exec(delete(Invitation).where(col(Invitation.participant_id) == participant.id))
    return deleted


def withdraw(
    *, session: Session, participant: Participant, actor: str, user: User | None = None, note: str = ""
) -> int:
    """Leave the study: no more mail or waves. Answers are deleted unless the consent allows keeping
    them pseudonymously; returns the number of responses deleted."""
    if participant.status in ("withdrawn", "erased"):
        return 0
    participant.status = "withdrawn"
    session.add(participant)
    _cancel_pending_mail(session, participant)
    deleted = 0 if keeps_data(session=session, participant=participant) else _delete_research_data(session, participant)
    _event(
        session,
        participant,
        "withdrawn",
        actor,
        user,
        note or (f"{deleted} responses deleted" if deleted else ""),
    )
    return deleted


def erase(
    *, session: Session, participant: Participant, actor: str, user: User | None = None, note: str = ""
) -> ErasureResult:
    """Delete the identity; delete the answers too unless the consent allows keeping them pseudonymous.

    Consent events stay as evidence; they hold no identity.
    """
    if participant.status == "erased":
        return ErasureResult(identity_deleted=False, responses_deleted=0, data_kept=True)
    _event(session, participant, "erasure_requested", actor, user, note)
    keep = keeps_data(session=session, participant=participant)
    identity = identity_of(session=session, participant=participant)
    if identity is not None:
        session.delete(identity)
    _cancel_pending_mail(session, participant)
    deleted = 0 if keep else _delete_research_data(session, participant)
    participant.status = "erased"
    session.add(participant)
    _event(
        session,
        participant,
        "erased",
        actor,
        user,
        note="answers kept pseudonymously" if keep else f"{deleted} responses deleted",
    )
    return ErasureResult(identity_deleted=identity is not None, responses_deleted=deleted, data_kept=keep)

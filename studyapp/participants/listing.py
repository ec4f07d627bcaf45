"""Lists of participants for researchers (pseudonyms, status, progress; no identities)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from studyapp.core.models import Cohort, ConsentEvent, Identity, Invitation, Participant, Response, Study, Wave, key


@dataclass(frozen=True)
class ParticipantRow:
    """One line of the participant list."""

    participant: Participant
    cohort_name: str
    has_identity: bool
    language: str | None
    responses_submitted: int


@dataclass(frozen=True)
class ParticipantPage:
    """A page of participants and how many there are in all."""

    rows: list[ParticipantRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_participants(
    *,
    session: Session,
    study: Study,
    cohort_id: int | None = None,
    status: str | None = None,
    pseudonym: str = "",
    page: int = 1,
    per_page: int = 50,
) -> ParticipantPage:
    """A page of a study's participants, filtered by cohort, status or pseudonym prefix."""
    query = (
        select(Participant, Cohort.name, Identity.id, Identity.language)
        .join(Cohort, col(Cohort.id) == Participant.cohort_id)
        .outerjoin(Identity, col(Identity.participant_id) == Participant.id)
        .where(Cohort.study_id == study.id)
    )
    if cohort_id:
        query = query.where(Participant.cohort_id == cohort_id)
    if status:
        query = query.where(Participant.status == status)
    if pseudonym:
        query = query.where(col(Participant.pseudonym).startswith(pseudonym.strip().upper()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(1, page)
    rows = session.exec(query.order_by(Participant.pseudonym).offset((page - 1) * per_page).limit(per_page)).all()
    ids = [p.id for p, *_ in rows]
    submitted = dict(
        session.exec(
            select(col(Invitation.participant_id), func.count(col(Response.id)))
            .join(Response, col(Response.invitation_id) == Invitation.id)
            .where(col(Invitation.participant_id).in_(ids), col(Response.submitted_at).is_not(None))
            .group_by(col(Invitation.participant_id))
        ).all()
    )
    return ParticipantPage(
        rows=[
            ParticipantRow(p, cohort_name, identity_id is not None, language, int(submitted.get(key(p), 0)))
            for p, cohort_name, identity_id, language in rows
        ],
        total=int(total),
        page=page,
        per_page=per_page,
    )


@dataclass(frozen=True)
class ParticipantHistory:
    """A participant's invitations and consent events, for the detail page."""

    invitations: list[tuple[Invitation, str, datetime | None]]
    events: list[ConsentEvent]


def participant_history(*, session: Session, participant: Participant) -> ParticipantHistory:
    """Invitations (with wave label and submission time) and consent events, oldest first."""
    invitations = session.exec(
        select(Invitation, Wave.label, Response.submitted_at)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .outerjoin(Response, col(Response.invitation_id) == Invitation.id)
        .where(Invitation.participant_id == participant.id)
        .order_by(col(Wave.position))
    ).all()
    events = session.exec(
        select(ConsentEvent).where(ConsentEvent.participant_id == participant.id).order_by(col(ConsentEvent.id))
    ).all()
    return ParticipantHistory(
        invitations=[(invitation, label, submitted_at) for invitation, label, submitted_at in invitations],
        events=list(events),
    )

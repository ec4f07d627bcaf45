"""Lists of participants for researchers (pseudonyms, status, progress; no identities)."""

from __future__ import annotations

from collections.abc import Sequence
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
    """A page of participants, where it lies in the whole list, and how many there are in all.

    Pages are found by their pseudonyms (keyset paging: ``after`` the last one shown, ``before`` the
    first one shown), never by skipping rows, so the last page costs what the first does.
    """

    rows: list[ParticipantRow]
    total: int
    page: int
    per_page: int
    has_previous: bool = False
    has_next: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_pseudonym(self) -> str:
        return self.rows[0].participant.pseudonym if self.rows else ""

    @property
    def last_pseudonym(self) -> str:
        return self.rows[-1].participant.pseudonym if self.rows else ""


def list_participants(
    *,
    session: Session,
    study: Study,
    cohort_id: int | None = None,
    status: str | None = None,
    pseudonym: str = "",
    after: str = "",
    before: str = "",
    last: bool = False,
    per_page: int = 50,
) -> ParticipantPage:
    """A page of a study's participants by pseudonym, filtered by cohort, status or pseudonym prefix.

    The first page by default; the page after the pseudonym ``after``, the page before ``before``, or
    the last page (``last``). The last page holds the rows left over after whole pages from the start
    (as numbered pages do), so that pages stepped back from the end are the same as those from the
    start. Pseudonyms are unique: they order the list on their own, with no tie to break.
    """
    query = (
        select(Participant, Cohort.name, Identity.id, Identity.language)
        .join(Cohort, col(Cohort.id) == Participant.cohort_id)
        .outerjoin(Identity, col(Identity.participant_id) == Participant.id)
        .where(Cohort.study_id == study.id)
    )
    counted = select(func.count()).select_from(Participant).join(Cohort, col(Cohort.id) == Participant.cohort_id)
    counted = counted.where(Cohort.study_id == study.id)
    conditions = []
    if cohort_id:
        conditions.append(col(Participant.cohort_id) == cohort_id)
    if status:
        conditions.append(col(Participant.status) == status)
    if pseudonym:
        conditions.append(col(Participant.pseudonym).startswith(pseudonym.strip().upper()))
    query, counted = query.where(*conditions), counted.where(*conditions)
    total = int(session.exec(counted).one())
    sort = col(Participant.pseudonym)
    pages = max(1, -(-total // per_page))
    rows: Sequence[tuple[Participant, str, int | None, str | None]] = []
    if after:
        rows = session.exec(query.where(sort > after).order_by(sort).limit(per_page)).all()
        last = last or not rows  # past the end: the last page
    elif before:
        rows = list(reversed(session.exec(query.where(sort < before).order_by(sort.desc()).limit(per_page)).all()))
    if last:
        last_size = total - (pages - 1) * per_page
        rows = list(reversed(session.exec(query.order_by(sort.desc()).limit(last_size)).all()))
        ahead = total - len(rows)
    elif rows:  # rows ahead of this page, counted along the index of pseudonyms
        ahead = int(session.exec(counted.where(sort < rows[0][0].pseudonym)).one())
    else:
        rows, ahead = session.exec(query.order_by(sort).limit(per_page)).all(), 0
    return ParticipantPage(
        rows=_with_progress(session, rows),
        total=total,
        page=ahead // per_page + 1,
        per_page=per_page,
        has_previous=ahead > 0,
        has_next=ahead + len(rows) < total,
    )


def _with_progress(
    session: Session, rows: Sequence[tuple[Participant, str, int | None, str | None]]
) -> list[ParticipantRow]:
    """The page's rows with each participant's number of submitted responses."""
    ids = [key(p) for p, *_ in rows]
    submitted = dict(
        session.exec(
            select(col(Invitation.participant_id), func.count(col(Response.id)))
            .join(Response, col(Response.invitation_id) == Invitation.id)
            .where(col(Invitation.participant_id).in_(ids), col(Response.submitted_at).is_not(None))
            .group_by(col(Invitation.participant_id))
        ).all()
    )
    return [
        ParticipantRow(p, cohort_name, identity_id is not None, language, int(submitted.get(key(p), 0)))
        for p, cohort_name, identity_id, language in rows
    ]


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

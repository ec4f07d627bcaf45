"""The planner: decides from database state which invitations and reminders are due.

It writes each decision as an invitation and an outbox row in the same transaction, with idempotency
keys, so running it twice plans nothing new and a crash loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from studyapp.core.bulk import add_rows
from studyapp.core.lifecycle import OPEN_STATES, InvitationState
from studyapp.core.models import Cohort, Identity, Invitation, OutboxMessage, Participant, Study, Wave
from studyapp.core.models._common import key, table_of
from waves.targeting import decide_targeted_reminders, round_due, targeted_key
from waves.windows import WaveSpec, Window, participant_windows, reminder_times

PLANNER_LOCK_ID = 727_001  # PostgreSQL advisory lock: one planner at a time
#: The smallest category a targeted reminder may single out when the caller names no other
DEFAULT_MIN_CELL_SIZE = 10
log = logging.getLogger(__name__)
CLOSED_STATES = tuple(sorted(set(InvitationState) - OPEN_STATES))  # no more reminders


@dataclass
class PlanReport:
    """What one planning run added."""

    invitations: int = 0
    reminders: int = 0
    targeted: int = 0  # reminders sent by an adaptive-design decision (also counted in ``reminders``)
    skipped_concurrent: bool = False


def invitation_key(participant_id: int, wave_id: int) -> str:
    """The outbox key of a participant's invitation to a wave."""
    return f"invitation:p{participant_id}:w{wave_id}"


def reminder_key(participant_id: int, wave_id: int, day: int) -> str:
    """The outbox key of a reminder on ``day`` of the participant's window."""
    return f"reminder:p{participant_id}:w{wave_id}:d{day}"


def spec_of(wave: Wave) -> WaveSpec:
    """The planner's view of a stored wave."""
    return WaveSpec(
        wave_id=key(wave),
        position=wave.position,
        schedule=wave.schedule,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        offset_days=wave.offset_days,
        window_days=wave.window_days,
        reminder_days=tuple(wave.reminder_days or ()),
    )


def take_planner_lock(session: Session) -> bool:
    """Whether this transaction may plan: on PostgreSQL one planner at a time per schema (an advisory lock
    held until commit, keyed by the schema so that apps or test runs in other schemas of the same
    database never block each other); SQLite relies on the outbox's unique keys instead."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    statement = text("SELECT pg_try_advisory_xact_lock(:id, hashtext(current_schema()))")
    return bool(session.execute(statement, {"id": PLANNER_LOCK_ID}).scalar())


def plan_due(*, session: Session, now: datetime, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> PlanReport:
    """Add every invitation and reminder that is due at ``now``, and the targeted reminders of waves whose
    adaptive-design round is due (:mod:`waves.targeting`, categories under ``min_cell_size`` never
    targeted); commit them together."""
    report = PlanReport()
    if not take_planner_lock(session):
        report.skipped_concurrent = True
        return report
    cohorts = session.exec(
        select(Cohort, Study.timezone).join(Study, col(Study.id) == Cohort.study_id).where(Cohort.linkage == "contact")
    ).all()
    for cohort, tz in cohorts:
        waves = session.exec(select(Wave).where(Wave.cohort_id == cohort.id)).all()
        _plan_cohort(session, cohort, waves, tz, now, report)
        _target_waves(session, waves, now, min_cell_size, report)
    try:
        session.commit()
    except IntegrityError:  # another planner (SQLite has no advisory locks) planned the same rows first
        session.rollback()
        return PlanReport(skipped_concurrent=True)
    return report


def _plan_cohort(
    session: Session, cohort: Cohort, waves: Sequence[Wave], tz: str, now: datetime, report: PlanReport
) -> None:
    active = [w for w in waves if not w.paused]
    if not active:
        return
    specs = [spec_of(w) for w in waves]
    wave_ids = [w.id for w in waves]
    # Plain rows, not ORM objects: this runs every tick over every participant.
    participants: Sequence[tuple[int, datetime, str]] = session.exec(  # type: ignore[assignment]  # stored ids are set
        select(Participant.id, Participant.enrolled_at, Identity.language)
        .join(Identity, col(Identity.participant_id) == Participant.id)
        .where(Participant.cohort_id == cohort.id, Participant.status == "active")
    ).all()
    if not participants:
        return
    invitations: dict[tuple[int, int], tuple[int, str]] = {
        (participant_id, wave_id): (int(invitation_id or 0), state)  # stored rows: the id is set
        for invitation_id, participant_id, wave_id, state in session.exec(
            select(Invitation.id, Invitation.participant_id, Invitation.wave_id, Invitation.state).where(
                col(Invitation.wave_id).in_(wave_ids)
            )
        )
    }
    reminder_keys = set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(
                col(OutboxMessage.wave_id).in_(wave_ids), OutboxMessage.kind == "reminder"
            )
        ).all()
    )
    windows_by_enrolment: dict[datetime, dict[int, Window]] = {}
    new_invitations: list[dict[str, Any]] = []
    reminders: list[tuple[Any, ...]] = []
    for participant_id, enrolled_at, language in participants:
        windows = windows_by_enrolment.get(enrolled_at)
        if windows is None:
            windows = windows_by_enrolment[enrolled_at] = participant_windows(specs, enrolled_at=enrolled_at, tz=tz)
        for wave in active:
            wave_id = key(wave)
            window = windows.get(wave_id)
            if window is None or not window.is_open(now):
                continue
            invitation = invitations.get((participant_id, wave_id))
            if invitation is None:
                new_invitations.append(
                    {"participant_id": participant_id, "wave_id": wave_id, "window": window, "language": language}
                )
            elif invitation[1] not in CLOSED_STATES and invitation[1] != "planned":
                row = _reminder(participant_id, wave, invitation[0], window, language, tz, now, reminder_keys)
                if row is not None:
                    reminders.append(row)
    if new_invitations:
        _invite_all(session, new_invitations, now)
        report.invitations += len(new_invitations)
    if reminders:
        _queue(session, reminders)
        report.reminders += len(reminders)


def _target_waves(
    session: Session, waves: Sequence[Wave], now: datetime, min_cell_size: int, report: PlanReport
) -> None:
    """The targeted reminders of the ``waves`` whose round is due, each wave in a savepoint: a decision
    that fails is logged and tried again next tick, and holds up nothing else."""
    for wave in waves:
        if not round_due(session, wave, now):
            continue
        try:
            with session.begin_nested():
                _decision, reminders = decide_targeted_reminders(
                    session=session, wave=wave, now=now, min_cell_size=min_cell_size
                )
                _queue(
                    session,
                    [
                        _outbox_row(
                            key=targeted_key(r.participant_id, key(wave)),
                            kind="reminder",
                            invitation_id=r.invitation_id,
                            wave_id=key(wave),
                            participant_id=r.participant_id,
                            language=r.language,
                            not_before=now,
                            now=now,
                        )
                        for r in reminders
                    ],
                )
        except Exception:  # the rest of the plan goes on; the round is decided again next tick
            log.exception("Deciding the targeted reminders of wave %s failed", wave.id)
            continue
        report.reminders += len(reminders)
        report.targeted += len(reminders)


def _invite_all(session: Session, new: list[dict[str, Any]], now: datetime) -> None:
    """Insert invitations and their outbox rows in bulk, in the caller's transaction (COPY on PostgreSQL).

    The new invitations' ids are read back with one query per wave (not RETURNING: psycopg parses a
    many-row INSERT ... RETURNING statement in Python, which cost more than the insert itself).
    """
    invitations = table_of(Invitation)
    add_rows(
        session,
        invitations,
        ("participant_id", "wave_id", "state", "opens_at", "closes_at", "created_at"),
        [
            (
                n["participant_id"],
                n["wave_id"],
                InvitationState.PLANNED.value,
                n["window"].opens_at,
                n["window"].closes_at,
                now,
            )
            for n in new
        ],
    )
    wanted = {(n["participant_id"], n["wave_id"]) for n in new}
    ids = {}
    for wave_id in {n["wave_id"] for n in new}:
        for invitation_id, participant_id in session.execute(
            select(invitations.c.id, invitations.c.participant_id).where(invitations.c.wave_id == wave_id)
        ):
            if (participant_id, wave_id) in wanted:
                ids[(participant_id, wave_id)] = invitation_id
    _queue(
        session,
        [
            _outbox_row(
                key=invitation_key(n["participant_id"], n["wave_id"]),
                kind="invitation",
                invitation_id=ids[(n["participant_id"], n["wave_id"])],
                wave_id=n["wave_id"],
                participant_id=n["participant_id"],
                language=n["language"],
                not_before=n["window"].opens_at,
                now=now,
            )
            for n in new
        ],
    )


_OUTBOX_COLUMNS = (
    "idempotency_key",
    "kind",
    "invitation_id",
    "wave_id",
    "participant_id",
    "user_id",
    "language",
    "status",
    "attempts",
    "not_before",
    "last_error",
    "message_id",
    "claimed_by",
    "claimed_at",
    "created_at",
    "sent_at",
    "held_for_wave_id",
)


def _outbox_row(
    *,
    key: str,
    kind: str,
    invitation_id: int,
    wave_id: int,
    participant_id: int,
    language: str,
    not_before: datetime,
    now: datetime,
) -> tuple[Any, ...]:
    """One planned message as a row (in the order of ``_OUTBOX_COLUMNS``) for a bulk insert into the outbox."""
    return (
        key,
        kind,
        invitation_id,
        wave_id,
        participant_id,
        None,
        language,
        "pending",
        0,
        not_before,
        "",
        None,
        "",
        None,
        now,
        None,
        None,
    )


def _queue(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert outbox rows in bulk (COPY on PostgreSQL)."""
    add_rows(session, table_of(OutboxMessage), _OUTBOX_COLUMNS, rows)


def _reminder(
    participant_id: int,
    wave: Wave,
    invitation_id: int,
    window: Window,
    language: str,
    tz: str,
    now: datetime,
    existing: set[str],
) -> tuple[Any, ...] | None:
    """The reminder due now for one invitation as an outbox row, or ``None``."""
    times = reminder_times(window, wave.reminder_days or [], tz=tz)
    due = [day for day, at in times.items() if at <= now]
    if not due:
        return None
    latest = max(due)
    keys = {reminder_key(participant_id, key(wave), day) for day in times if day >= latest}
    if keys & existing:
        return None  # this reminder (or a later one) was planned already
    reminder = reminder_key(participant_id, key(wave), latest)
    existing.add(reminder)
    return _outbox_row(
        key=reminder,
        kind="reminder",
        invitation_id=invitation_id,
        wave_id=key(wave),
        participant_id=participant_id,
        language=language,
        not_before=times[latest],
        now=now,
    )

"""Where each wave stands: counts for the dashboard and the response rate over time.

Every figure is counted by the database (``GROUP BY``) for all of a study's waves at once, so a page
view sends the same few statements and reads a few rows per wave whether a wave has a thousand or a
hundred thousand invitations. Invitation figures and the response-rate curve come from one pass over
the wave's invitations, without a join: an invitation's state (moved by ``studyapp.core.lifecycle``)
says whether its response was started or submitted, and ``completed_at`` when, days counted in the
study's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, case, func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from studyapp.core.models import Cohort, Invitation, OutboxMessage, Participant, Study, Wave, key

#: Failed addresses listed per wave (all of them are counted).
FAILURES_SHOWN = 100
#: Days the response-rate curve covers at most.
CURVE_DAYS = 400


@dataclass
class WaveStats:
    """The numbers of one wave."""

    wave: Wave
    cohort: Cohort
    planned: int = 0
    sent: int = 0
    failed: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0
    reminded: int = 0
    unsubscribed: int = 0
    withdrawn: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # pseudonym, reason: the first FAILURES_SHOWN
    failures_total: int = 0  # failed messages to participants, all of them
    curve: list[tuple[int, float]] = field(default_factory=list)  # day since first opening, response rate

    @property
    def response_rate(self) -> float:
        return self.completed / self.planned if self.planned else 0.0


class local_date(FunctionElement[date]):  # noqa: N801 (an SQL function's name)
    """The calendar date of a UTC timestamp column in a time zone (``local_date(column, zone)``)."""

    type = Date()
    inherit_cache = True


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = list(element.clauses)
    return f"CAST(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"study_local_date({compiler.process(element.clauses, **kw)})"  # see _sqlite_local_date


def _sqlite_local_date(stored: str | None, zone: str) -> str | None:
    """SQLite keeps naive UTC text and knows no time zones: the date is worked out here, per row."""
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date().isoformat()


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def wave_stats(*, session: Session, study: Study, now: datetime) -> list[WaveStats]:
    """Counts for every wave of a study, cohort by cohort (grouped queries: as many at any number of people)."""
    rows = session.exec(
        select(Wave, Cohort)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id)
        .order_by(col(Cohort.name), col(Wave.position))
    ).all()
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        connection = session.connection().connection.dbapi_connection
        assert connection is not None
        connection.create_function("study_local_date", 2, _sqlite_local_date, deterministic=True)
    stats = {key(wave): WaveStats(wave=wave, cohort=cohort) for wave, cohort in rows}
    wave_ids = list(stats)
    first_opening, completed_per_day = _count_invitations(session, study, wave_ids, stats)
    _count_leavers(session, wave_ids, stats)
    _count_mail(session, wave_ids, stats)
    for wave_id, figures in stats.items():
        if figures.failures_total:  # one query per wave with failed mail
            figures.failures = _failures(session, wave_id)
    _curves(study, stats, first_opening, completed_per_day, now)
    return list(stats.values())


def _count_invitations(
    session: Session, study: Study, wave_ids: list[int], stats: dict[int, WaveStats]
) -> tuple[dict[int, datetime], dict[int, dict[date, int]]]:
    """Invitations by state per wave, and those completed per day in the study's zone, in one pass over
    the invitations alone (no join: their state says whether a response was started or submitted, as
    :mod:`studyapp.core.lifecycle` moves it, and ``completed_at`` when).

    Returns when each wave first opened (where known) and each wave's completions per local day.
    """

    def share(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    state = col(Invitation.state)
    day = local_date(col(Invitation.completed_at), study.timezone)
    first_opening: dict[int, datetime] = {}
    per_day: dict[int, dict[date, int]] = defaultdict(dict)
    for wave_id, completed_on, planned, failed, opened, started, completed, opens_at in session.execute(
        sa_select(
            col(Invitation.wave_id),
            day,
            func.count(),
            share(state == "failed"),
            func.count(col(Invitation.opened_at)),
            share(state.in_(("started", "completed"))),
            share(state == "completed"),
            func.min(col(Invitation.opens_at)),
        )
        .where(col(Invitation.wave_id).in_(wave_ids))
        .group_by(col(Invitation.wave_id), day)
    ).all():
        figures = stats[wave_id]
        figures.planned += int(planned)
        figures.failed += int(failed)
        figures.opened += int(opened)
        figures.started += int(started)
        figures.completed += int(completed)
        if opens_at is not None and (wave_id not in first_opening or opens_at < first_opening[wave_id]):
            first_opening[wave_id] = opens_at
        if completed_on is not None and completed:
            per_day[wave_id][_as_date(completed_on)] = int(completed)
    return first_opening, per_day


def _count_mail(session: Session, wave_ids: list[int], stats: dict[int, WaveStats]) -> None:
    """Invitations and reminders sent, and failed messages to participants, per wave (from the outbox
    alone: each row of an invitation carries its wave)."""
    wave_id = col(OutboxMessage.wave_id)
    has_participant = col(OutboxMessage.participant_id).is_not(None)
    for wave, kind, status, to_participant, count in session.execute(
        sa_select(wave_id, col(OutboxMessage.kind), col(OutboxMessage.status), has_participant, func.count())
        .where(wave_id.in_(wave_ids), col(OutboxMessage.status).in_(("sent", "failed")))
        .group_by(wave_id, col(OutboxMessage.kind), col(OutboxMessage.status), has_participant)
    ).all():
        figures = stats[wave]
        if status == "sent" and kind == "invitation":
            figures.sent += int(count)
        elif status == "sent" and kind == "reminder":
            figures.reminded += int(count)
        elif status == "failed" and to_participant:
            figures.failures_total += int(count)


def _count_leavers(session: Session, wave_ids: list[int], stats: dict[int, WaveStats]) -> None:
    """Invited participants who unsubscribed or withdrew, per wave (read from the few who left)."""
    for wave_id, status, count in session.execute(
        sa_select(col(Invitation.wave_id), col(Participant.status), func.count())
        .select_from(Participant)
        .join(Invitation, col(Invitation.participant_id) == Participant.id)
        .where(col(Participant.status).in_(("unsubscribed", "withdrawn")), col(Invitation.wave_id).in_(wave_ids))
        .group_by(col(Invitation.wave_id), col(Participant.status))
    ).all():
        if status == "unsubscribed":
            stats[wave_id].unsubscribed = int(count)
        else:
            stats[wave_id].withdrawn = int(count)


def _failures(session: Session, wave_id: int) -> list[tuple[str, str]]:
    """The first failed addresses of a wave by pseudonym, with the reason (a top-N sort, not a full one)."""
    return [
        (pseudonym, error)
        for pseudonym, error in session.exec(
            select(Participant.pseudonym, OutboxMessage.last_error)
            .join(OutboxMessage, col(OutboxMessage.participant_id) == Participant.id)
            .where(OutboxMessage.wave_id == wave_id, OutboxMessage.status == "failed")
            .order_by(col(Participant.pseudonym), col(OutboxMessage.id))
            .limit(FAILURES_SHOWN)
        ).all()
    ]


def _curves(
    study: Study,
    stats: dict[int, WaveStats],
    first_opening: dict[int, datetime],
    per_day: dict[int, dict[date, int]],
    now: datetime,
) -> None:
    """Each wave's cumulative response rate, from the responses submitted per day in the study's zone."""
    zone = ZoneInfo(study.timezone)
    for wave_id, opens_at in first_opening.items():
        if stats[wave_id].planned:
            stats[wave_id].curve = _curve(
                opens_at.astimezone(zone).date(), per_day[wave_id], stats[wave_id].planned, now, zone
            )


def _curve(
    start: date, submitted_per_day: dict[date, int], invited: int, now: datetime, zone: ZoneInfo
) -> list[tuple[int, float]]:
    """The cumulative response rate at the end of each day since the wave first opened (up to today)."""
    last = now.astimezone(zone).date()
    if submitted_per_day:
        last = max(last, max(submitted_per_day))
    days = min((last - start).days, CURVE_DAYS)
    per_day: dict[int, int] = defaultdict(int)
    for submitted_on, count in submitted_per_day.items():
        per_day[(submitted_on - start).days] += count
    total, curve = 0, []
    for number in range(days + 1):
        total += per_day.get(number, 0)
        curve.append((number, total / invited))
    return curve


def curve_points(curve: list[tuple[int, float]], width: int = 320, height: int = 90) -> str:
    """SVG polyline points for a response-rate curve (y from 0 to 100%)."""
    if not curve:
        return ""
    span = max(curve[-1][0], 1)
    return " ".join(f"{day / span * width:.1f},{height - rate * height:.1f}" for day, rate in curve)


__all__ = ["WaveStats", "curve_points", "local_date", "wave_stats"]

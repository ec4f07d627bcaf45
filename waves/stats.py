"""Where each wave stands: counts for the dashboard and the response rate over time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from studyapp.core.models import Cohort, Invitation, OutboxMessage, Participant, Response, Study, Wave


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
    failures: list[tuple[str, str]] = field(default_factory=list)  # pseudonym, reason
    curve: list[tuple[int, float]] = field(default_factory=list)  # day since first opening, response rate

    @property
    def response_rate(self) -> float:
        return self.completed / self.planned if self.planned else 0.0


def wave_stats(*, session: Session, study: Study, now: datetime) -> list[WaveStats]:
    """Counts for every wave of a study, cohort by cohort."""
    rows = session.exec(
        select(Wave, Cohort)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id)
        .order_by(col(Cohort.name), col(Wave.position))
    ).all()
    result = []
    zone = ZoneInfo(study.timezone)
    for wave, cohort in rows:
        stats = WaveStats(wave=wave, cohort=cohort)
        invitations = session.exec(select(Invitation).where(Invitation.wave_id == wave.id)).all()
        stats.planned = len(invitations)
        states = Counter(i.state for i in invitations)
        stats.failed = states["failed"]
        stats.opened = sum(1 for i in invitations if i.opened_at is not None)
        responses = session.exec(
            select(Response.submitted_at)
            .join(Invitation, col(Invitation.id) == Response.invitation_id)
            .where(Invitation.wave_id == wave.id)
        ).all()
        stats.started = len(responses)
        submitted = sorted(s for s in responses if s is not None)
        stats.completed = len(submitted)
        sent = Counter(
            session.exec(
                select(OutboxMessage.kind)
                .join(Invitation, col(Invitation.id) == OutboxMessage.invitation_id)
                .where(Invitation.wave_id == wave.id, OutboxMessage.status == "sent")
            ).all()
        )
        stats.sent, stats.reminded = sent["invitation"], sent["reminder"]
        statuses = dict(
            session.exec(
                select(Participant.status, func.count(col(Participant.id)))
                .join(Invitation, col(Invitation.participant_id) == Participant.id)
                .where(Invitation.wave_id == wave.id)
                .group_by(Participant.status)
            ).all()
        )
        stats.unsubscribed, stats.withdrawn = statuses.get("unsubscribed", 0), statuses.get("withdrawn", 0)
        stats.failures = [
            (pseudonym, error)
            for pseudonym, error in session.exec(
                select(Participant.pseudonym, OutboxMessage.last_error)
                .join(OutboxMessage, col(OutboxMessage.participant_id) == Participant.id)
                .join(Invitation, col(Invitation.id) == OutboxMessage.invitation_id)
                .where(Invitation.wave_id == wave.id, OutboxMessage.status == "failed")
            ).all()
        ]
        opened = [i.opens_at for i in invitations if i.opens_at is not None]
        if opened and stats.planned:
            stats.curve = _curve(min(opened).astimezone(zone).date(), submitted, stats.planned, now, zone)
        result.append(stats)
    return result


def _curve(
    start: date, submitted: list[datetime], invited: int, now: datetime, zone: ZoneInfo
) -> list[tuple[int, float]]:
    """The cumulative response rate at the end of each day since the wave first opened (up to today)."""
    last = now.astimezone(zone).date()
    if submitted:
        last = max(last, submitted[-1].astimezone(zone).date())
    days = min((last - start).days, 400)
    per_day = Counter((s.astimezone(zone).date() - start).days for s in submitted)
    total, curve = 0, []
    for day in range(days + 1):
        total += per_day.get(day, 0)
        curve.append((day, total / invited))
    return curve


def curve_points(curve: list[tuple[int, float]], width: int = 320, height: int = 90) -> str:
    """SVG polyline points for a response-rate curve (y from 0 to 100%)."""
    if not curve:
        return ""
    span = max(curve[-1][0], 1)
    return " ".join(f"{day / span * width:.1f},{height - rate * height:.1f}" for day, rate in curve)


__all__ = ["WaveStats", "curve_points", "wave_stats"]

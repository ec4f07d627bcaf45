"""What the admin shows about the scheduler processes: read from their heartbeats in the database."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from studyapp.core.models import SchedulerHeartbeat
from studyapp.core.types import utcnow


def process_name() -> str:
    """A name for this process (a scheduler's or a dispatcher's): host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class SchedulerStatus:
    """What the admin shows about the scheduler."""

    name: str
    last_tick_at: datetime | None
    ticks: int
    healthy: bool
    last_error: str


def scheduler_status(
    *, session: Session, interval_seconds: int = 60, now: datetime | None = None
) -> list[SchedulerStatus]:
    """The scheduler processes seen in the last day, newest first; healthy if they ticked lately."""
    now = now or utcnow()
    beats = session.exec(
        select(SchedulerHeartbeat)
        .where(col(SchedulerHeartbeat.last_tick_at) >= now - timedelta(days=1))
        .order_by(col(SchedulerHeartbeat.last_tick_at).desc())
    ).all()
    late = timedelta(seconds=max(3 * interval_seconds, 90))
    return [
        SchedulerStatus(
            name=b.name,
            last_tick_at=b.last_tick_at,
            ticks=b.ticks,
            healthy=b.last_tick_at is not None and now - b.last_tick_at <= late,
            last_error=b.last_error,
        )
        for b in beats
    ]

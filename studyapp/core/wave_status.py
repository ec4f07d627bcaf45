"""Where a wave stands (scheduled, open, paused, closed): the one rule every page and button uses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from studyapp.core.models import Wave
from studyapp.core.types import utcnow


class WaveStatus(StrEnum):
    """Where a wave stands now."""

    SCHEDULED = "scheduled"  # its date has not come yet
    OPEN = "open"  # invitations and reminders go out
    PAUSED = "paused"  # open, but nothing goes out until it is resumed
    CLOSED = "closed"  # its window has ended; nothing goes out again

    @property
    def label(self) -> str:
        """The status as the pages show it."""
        return self.value.capitalize()

    @property
    def can_pause(self) -> bool:
        """Whether pausing means anything (a closed wave sends nothing anyway)."""
        return self in (WaveStatus.SCHEDULED, WaveStatus.OPEN)

    @property
    def can_resume(self) -> bool:
        """Whether the wave waits for a resume."""
        return self is WaveStatus.PAUSED


def wave_status(wave: Wave, *, now: datetime | None = None) -> WaveStatus:
    """Where ``wave`` stands at ``now`` (default: the current time), from its dates and pause flag.

    A wave on a date is scheduled before ``opens_at``, closed from ``closes_at`` on (paused or not: a
    closed wave has nothing left to hold back), and otherwise open or paused. A wave that opens a number
    of days after enrolment or after the previous wave has a window per participant and no end of its
    own, so it is open (or paused) for as long as it exists.
    """
    moment = now if now is not None else utcnow()
    if wave.schedule == "on_date" and wave.opens_at is not None and wave.closes_at is not None:
        if moment >= wave.closes_at:
            return WaveStatus.CLOSED
        if wave.paused:
            return WaveStatus.PAUSED
        return WaveStatus.SCHEDULED if moment < wave.opens_at else WaveStatus.OPEN
    return WaveStatus.PAUSED if wave.paused else WaveStatus.OPEN

"""When each participant's window of a wave opens and closes, and when reminders are due (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

OPENING_HOUR = 9  # relative waves open at 09:00 in the study's time zone (or at enrolment, if later)


@dataclass(frozen=True)
class WaveSpec:
    """The schedule of one wave, as the planner needs it."""

    wave_id: int
    position: int
    schedule: str
    opens_at: datetime | None
    closes_at: datetime | None
    offset_days: int | None
    window_days: int | None
    reminder_days: tuple[int, ...]


@dataclass(frozen=True)
class Window:
    """A participant's window of one wave (timezone-aware UTC)."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


def _local_days_later(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The same wall-clock time ``days`` calendar days later in ``zone`` (correct across daylight saving)."""
    local = moment.astimezone(zone)
    shifted = datetime.combine(local.date() + timedelta(days=days), local.timetz().replace(tzinfo=None), zone)
    return shifted.astimezone(UTC)


def _opening(anchor: datetime, offset_days: int, zone: ZoneInfo, *, not_before: datetime | None) -> datetime:
    day = anchor.astimezone(zone).date() + timedelta(days=offset_days)
    opens = datetime.combine(day, time(OPENING_HOUR), zone).astimezone(UTC)
    if not_before is not None and opens < not_before:
        return not_before
    return opens


def participant_windows(waves: list[WaveSpec], *, enrolled_at: datetime, tz: str) -> dict[int, Window]:
    """Each wave's window for a participant enrolled at ``enrolled_at``, by wave id.

    Waves are taken in position order; a wave that opens "after the previous wave" counts from the
    participant's opening of the wave before it.
    """
    zone = ZoneInfo(tz)
    windows: dict[int, Window] = {}
    previous: Window | None = None
    for wave in sorted(waves, key=lambda w: w.position):
        if wave.schedule == "on_date":
            assert wave.opens_at is not None and wave.closes_at is not None
            window = Window(wave.opens_at, wave.closes_at)
        else:
            assert wave.offset_days is not None and wave.window_days is not None
            if wave.schedule == "after_enrolment":
                opens = _opening(enrolled_at, wave.offset_days, zone, not_before=enrolled_at)
            else:
                if previous is None:
                    break  # a first wave cannot follow a previous one (validation forbids it)
                opens = _opening(previous.opens_at, wave.offset_days, zone, not_before=None)
            window = Window(opens, _local_days_later(opens, wave.window_days, zone))
        windows[wave.wave_id] = window
        previous = window
    return windows


def reminder_times(window: Window, reminder_days: tuple[int, ...] | list[int], *, tz: str) -> dict[int, datetime]:
    """When each reminder is due: the window's opening time, ``day`` calendar days later."""
    zone = ZoneInfo(tz)
    return {day: _local_days_later(window.opens_at, day, zone) for day in sorted(reminder_days)}

"""Pure rules for wave schedules: validation and how a schedule reads to people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from studyapp.core.inputs import InputError, check_moment, parse_int
from studyapp.core.models import WAVE_SCHEDULES

MAX_OFFSET_DAYS = 3650
MAX_WINDOW_DAYS = 366


@dataclass(frozen=True)
class WaveSchedule:
    """When a wave opens and closes, and on which days reminders go out."""

    schedule: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    offset_days: int | None = None
    window_days: int | None = None
    reminder_days: list[int] = field(default_factory=list)

    @property
    def window_length_days(self) -> float | None:
        """How many days a participant's window is open."""
        if self.schedule == "on_date":
            if self.opens_at and self.closes_at:
                return (self.closes_at - self.opens_at).total_seconds() / 86400
            return None
        return self.window_days


def schedule_problems(spec: WaveSchedule, *, position: int) -> dict[str, str]:
    """Every rule a wave schedule breaks, by form field; empty when it is sound."""
    problems: dict[str, str] = {}
    if spec.schedule not in WAVE_SCHEDULES:
        return {"schedule": f"Choose one of: {', '.join(WAVE_SCHEDULES)}."}
    if spec.schedule == "on_date":
        if spec.opens_at is None:
            problems["opens_at"] = "Give the date and time the wave opens."
        if spec.closes_at is None:
            problems["closes_at"] = "Give the date and time the wave closes."
        for name, label in (("opens_at", "The opening time"), ("closes_at", "The closing time")):
            value = getattr(spec, name)
            if value is not None:
                try:
                    check_moment(value, field=label)
                except InputError as error:
                    problems[name] = str(error)
        if (
            not problems
            and spec.opens_at is not None
            and spec.closes_at is not None
            and spec.closes_at <= spec.opens_at
        ):
            problems["closes_at"] = "The wave must close after it opens."
    else:
        if spec.schedule == "after_previous" and position <= 1:
            problems["schedule"] = "The first wave of a cohort has no previous wave to follow."
        if spec.offset_days is None:
            problems["offset_days"] = "Give the number of days."
        elif spec.offset_days < 0:
            problems["offset_days"] = "The number of days cannot be negative."
        elif spec.offset_days > MAX_OFFSET_DAYS:
            problems["offset_days"] = f"At most {MAX_OFFSET_DAYS} days."
        if spec.window_days is None:
            problems["window_days"] = "Give how many days the wave stays open."
        elif spec.window_days < 1:
            problems["window_days"] = "A wave stays open at least 1 day."
        elif spec.window_days > MAX_WINDOW_DAYS:
            problems["window_days"] = f"At most {MAX_WINDOW_DAYS} days."
    reminder_problem = _reminder_problem(spec)
    if reminder_problem:
        problems["reminder_days"] = reminder_problem
    return problems


def _reminder_problem(spec: WaveSchedule) -> str:
    days = spec.reminder_days
    if any(day < 1 for day in days):
        return "Reminder days count from the day the wave opens: use 1 or more."
    if len(set(days)) != len(days):
        return "Each reminder day may appear only once."
    length = spec.window_length_days
    if length is not None and any(day >= length for day in days):
        return "Every reminder must fall before the wave closes."
    return ""


def parse_day_list(text: str) -> list[int]:
    """Read reminder days typed as ``"7, 14"``; raises ``ValueError`` with a readable message."""
    days: list[int] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            day = parse_int(part, field="", minimum=None, maximum=None)
        except InputError:
            raise ValueError(f"{part[:20]!r} is not a whole number of days.") from None
        if abs(day) > MAX_OFFSET_DAYS:
            raise ValueError(f"{part[:20]!r}: at most {MAX_OFFSET_DAYS} days.")
        days.append(day)
    return sorted(days)


def describe(spec: WaveSchedule, *, tz: str) -> str:
    """A schedule in words, with dates in the study's time zone."""
    if spec.schedule == "on_date" and spec.opens_at and spec.closes_at:
        zone = ZoneInfo(tz)
        fmt = "%d %b %Y %H:%M"
        opens = spec.opens_at.astimezone(zone).strftime(fmt)
        closes = spec.closes_at.astimezone(zone).strftime(fmt)
        text = f"{opens} to {closes}"
    else:
        anchor = "enrolment" if spec.schedule == "after_enrolment" else "the previous wave opens"
        when = f"at {anchor}" if spec.offset_days == 0 else f"{spec.offset_days} days after {anchor}"
        if spec.offset_days == 0 and spec.schedule == "after_previous":
            when = "when the previous wave opens"
        text = f"{when[0].upper()}{when[1:]}, open {spec.window_days} days"
    if spec.reminder_days:
        text += "; reminders on day " + ", ".join(str(d) for d in spec.reminder_days)
    return text


def is_known_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone such as ``Europe/Amsterdam``."""
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return False
    return True

"""Pure rules for wave schedules: validation and how a schedule reads to people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_datetime
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

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
        return {"schedule": _("Choose one of: %(choices)s.", choices=", ".join(WAVE_SCHEDULES))}
    if spec.schedule == "on_date":
        if spec.opens_at is None:
            problems["opens_at"] = _("Give the date and time the wave opens.")
        if spec.closes_at is None:
            problems["closes_at"] = _("Give the date and time the wave closes.")
        for name, label in (("opens_at", _("The opening time")), ("closes_at", _("The closing time"))):
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
            problems["closes_at"] = _("The wave must close after it opens.")
    else:
        if spec.schedule == "after_previous" and position <= 1:
            problems["schedule"] = _("The first wave of a cohort has no previous wave to follow.")
        if spec.offset_days is None:
            problems["offset_days"] = _("Give the number of days.")
        elif spec.offset_days < 0:
            problems["offset_days"] = _("The number of days cannot be negative.")
        elif spec.offset_days > MAX_OFFSET_DAYS:
            problems["offset_days"] = _("At most %(days)d days.", days=MAX_OFFSET_DAYS)
        if spec.window_days is None:
            problems["window_days"] = _("Give how many days the wave stays open.")
        elif spec.window_days < 1:
            problems["window_days"] = _("A wave stays open at least 1 day.")
        elif spec.window_days > MAX_WINDOW_DAYS:
            problems["window_days"] = _("At most %(days)d days.", days=MAX_WINDOW_DAYS)
    reminder_problem = _reminder_problem(spec)
    if reminder_problem:
        problems["reminder_days"] = reminder_problem
    return problems


def _reminder_problem(spec: WaveSchedule) -> str:
    days = spec.reminder_days
    if any(day < 1 for day in days):
        return _("Reminder days count from the day the wave opens: use 1 or more.")
    if len(set(days)) != len(days):
        return _("Each reminder day may appear only once.")
    length = spec.window_length_days
    if length is not None and any(day >= length for day in days):
        return _("Every reminder must fall before the wave closes.")
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
            raise ValueError(_("%(part)s is not a whole number of days.", part=repr(part[:20]))) from None
        if abs(day) > MAX_OFFSET_DAYS:
            raise ValueError(_("%(part)s: at most %(days)d days.", part=repr(part[:20]), days=MAX_OFFSET_DAYS))
        days.append(day)
    return sorted(days)


def describe(spec: WaveSchedule, *, tz: str) -> str:
    """A schedule in words in the reader's language, with dates in the study's time zone (Babel)."""
    if spec.schedule == "on_date" and spec.opens_at and spec.closes_at:
        zone = ZoneInfo(tz)
        locale = str(get_locale() or "en")
        opens = format_datetime(spec.opens_at, "dd MMM y HH:mm", tzinfo=zone, locale=locale)
        closes = format_datetime(spec.closes_at, "dd MMM y HH:mm", tzinfo=zone, locale=locale)
        text = _("%(opens)s to %(closes)s", opens=opens, closes=closes)
    else:
        days = spec.offset_days or 0
        if spec.schedule == "after_enrolment":
            when = (
                _("At enrolment")
                if days == 0
                else ngettext("%(num)d day after enrolment", "%(num)d days after enrolment", days)
            )
        elif days == 0:
            when = _("When the previous wave opens")
        else:
            when = ngettext(
                "%(num)d day after the previous wave opens", "%(num)d days after the previous wave opens", days
            )
        window = spec.window_days or 0
        text = when + ", " + ngettext("open %(num)d day", "open %(num)d days", window)
    if spec.reminder_days:
        days_list = ", ".join(str(d) for d in spec.reminder_days)
        text += "; " + _("reminders on day %(days)s", days=days_list)
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

"""Text for readers: numbers as Dutch and English readers write them (Babel), long labels shortened."""

from __future__ import annotations

import functools

from babel.numbers import format_decimal
from flask_babel import gettext as _


def decimal(value: float | None, digits: int = 1, language: str = "en", sign: bool = False) -> str:
    """``value`` with ``digits`` decimals, a decimal comma in Dutch, a leading + when ``sign``; '–' for None."""
    if value is None:
        return "–"
    return format_decimal(value, format=_pattern(digits, sign), locale=language if language in ("nl", "en") else "en")


@functools.cache
def _pattern(digits: int, sign: bool) -> str:
    """A CLDR number pattern: ``digits`` decimals, no grouping (a score, not an amount), an explicit +."""
    plain = "0." + "0" * digits if digits > 0 else "0"
    return f"+{plain};-{plain}" if sign else plain


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def duration(seconds: float) -> str:
    """A length of time as people say it in the reader's language: '45 s', '3 min 12 s', '2 h 05 min' ('2 u 05 min')."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=f"{minutes:02d}")
    if minutes:
        return _("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=f"{secs:02d}")
    return _("%(seconds)s s", seconds=secs)

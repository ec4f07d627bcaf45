"""Text for readers: numbers as Dutch and English readers write them (Babel), long labels shortened."""

from __future__ import annotations

import functools

from babel.numbers import format_decimal


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
    """A length of time as people say it: '45 s', '3 min 12 s', '2 h 05 min'."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"

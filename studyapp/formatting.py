"""Numbers as Dutch and English readers write them (a decimal comma in Dutch)."""

from __future__ import annotations


def decimal(value: float | None, digits: int = 1, language: str = "en", sign: bool = False) -> str:
    """``value`` with ``digits`` decimals, a decimal comma in Dutch, a leading + when ``sign``; '–' for None."""
    if value is None:
        return "–"
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "nl" else text

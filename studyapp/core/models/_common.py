"""Helpers shared by the table definitions."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from studyapp.core.types import UTCDateTime, utcnow

LANGUAGES = ("nl", "en")


def created_at_field() -> Any:
    """A creation timestamp column (timezone-aware UTC, set on insert)."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def timestamp_field(*, index: bool = False) -> Any:
    """An optional timezone-aware UTC timestamp column."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def json_field(*, default_factory: Any = dict) -> Any:
    """A JSON column (translations, lists of days, details)."""
    return Field(default_factory=default_factory, sa_type=JSON, nullable=False)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a check that ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


__all__ = ["LANGUAGES", "created_at_field", "datetime", "in_list", "json_field", "timestamp_field"]

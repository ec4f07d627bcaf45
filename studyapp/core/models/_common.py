"""Helpers shared by the table definitions."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table
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


def key(row: Any) -> int:
    """The primary key of a stored row (a row not yet flushed has none, which is a programming error)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return int(row.id)


def table_of(model: type[Any]) -> Table:
    """The SQLAlchemy table of a SQLModel class (for Core statements on hot paths)."""
    return model.__table__

"""Versioned questionnaires kept as data: sections, items and the facets they score into."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import created_at_field, in_list, json_field

ITEM_TYPES = ("scale", "choice", "text", "number")
FACET_KINDS = ("facet", "scale")


class Instrument(SQLModel, table=True):
    """One version of a questionnaire; a loaded (code, version) never changes content."""

    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60)
    version: str = Field(max_length=30)
    title: dict[str, str] = json_field()
    definition: dict[str, Any] = json_field()
    checksum: str = Field(max_length=64)
    source_name: str = Field(default="", max_length=255)
    loaded_at: datetime = created_at_field()


class InstrumentSection(SQLModel, table=True):
    """A page of the questionnaire; deleted with its instrument (CASCADE)."""

    __tablename__ = "instrument_section"
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        UniqueConstraint("instrument_id", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", ondelete="CASCADE", index=True)
    code: str = Field(max_length=60)
    position: int
    title: dict[str, str] = json_field()
    intro: dict[str, str] = json_field()


class Facet(SQLModel, table=True):
    """A scoring group: an identity facet (profile indicator) or a scale such as career clarity."""

    __tablename__ = "facet"
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        CheckConstraint(in_list("kind", FACET_KINDS), name="kind_known"),
        CheckConstraint("min_answered > 0 AND min_answered <= 1", name="min_answered_share"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", ondelete="CASCADE", index=True)
    code: str = Field(max_length=60)
    kind: str = Field(max_length=10)
    domain: str = Field(max_length=30)
    name: dict[str, str] = json_field()
    min_answered: float = Field(default=0.5)


class Item(SQLModel, table=True):
    """One question. Scale items have min/max and labels; choice items have options."""

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        UniqueConstraint("section_id", "position"),
        CheckConstraint(in_list("type", ITEM_TYPES), name="type_known"),
        CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value < max_value", name="range_ordered"),
        CheckConstraint("reverse = false OR type = 'scale'", name="reverse_only_on_scales"),
        CheckConstraint("max_length IS NULL OR max_length > 0", name="max_length_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", ondelete="CASCADE", index=True)
    section_id: int = Field(foreign_key="instrument_section.id", ondelete="CASCADE", index=True)
    facet_id: int | None = Field(default=None, foreign_key="facet.id", ondelete="CASCADE", index=True)
    code: str = Field(max_length=60)
    position: int
    type: str = Field(max_length=10)
    text: dict[str, str] = json_field()
    options: list[dict[str, Any]] = json_field(default_factory=list)
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None
    reverse: bool = Field(default=False)
    required: bool = Field(default=True)

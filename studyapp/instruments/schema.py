"""The shape of an instrument definition, validated with pydantic (see docs/instrument-format.md)."""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

CODE = r"^[a-z][a-z0-9_]*$"
INSTRUMENT_CODE = r"^[a-z][a-z0-9-]*$"
Domain = Literal[
    "interests",
    "values",
    "competences",
    "goals",
    "personality",
    "identification",
    "career",
    "stigma",
]
DOMAINS: tuple[Domain, ...] = get_args(Domain)

Text = dict[str, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseScale(_Strict):
    """A numbered answer scale with a label for each point."""

    min: int
    max: int
    labels: dict[int, Text]


class FacetDef(_Strict):
    """A scoring group."""

    code: str = Field(pattern=CODE, max_length=60)
    kind: Literal["facet", "scale"]
    domain: Domain
    name: Text
    min_answered: float = Field(default=0.5, gt=0, le=1)


class OptionDef(_Strict):
    """One answer option of a choice item."""

    value: int
    label: Text
    group: str | None = Field(default=None, pattern=CODE)
    title: Text | None = None
    free_text_item: str | None = None


class ShowIf(_Strict):
    """Skip logic: show a section or item only when an earlier choice or scale item has one of these values."""

    item: str = Field(pattern=CODE)
    any_of: list[int] = Field(min_length=1)


class ItemDef(_Strict):
    """One question."""

    code: str = Field(pattern=CODE, max_length=60)
    type: Literal["scale", "choice", "text", "number"]
    text: Text
    scale: str | None = None
    facet: str | None = None
    reverse: bool = False
    required: bool = True
    options: list[OptionDef] | None = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = Field(default=None, gt=0, le=10000)
    show_if: ShowIf | None = None


class SectionDef(_Strict):
    """A page of items."""

    code: str = Field(pattern=CODE, max_length=60)
    title: Text
    intro: Text | None = None
    show_if: ShowIf | None = None
    items: list[ItemDef] = Field(min_length=1)


class InstrumentDef(_Strict):
    """A whole instrument definition."""

    code: str = Field(pattern=INSTRUMENT_CODE, max_length=60)
    version: str = Field(min_length=1, max_length=30)
    title: Text
    description: Text | None = None
    estimated_minutes: int = Field(gt=0, le=240)
    languages: list[Literal["nl", "en"]] = Field(min_length=1)
    title_item: str | None = None
    response_scales: dict[str, ResponseScale] = Field(default_factory=dict)
    facets: list[FacetDef] = Field(default_factory=list)
    sections: list[SectionDef] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError('write the version as a quoted string, e.g. "2026.1"')
        return value


TITLE_PLACEHOLDER = re.compile(r"\{title\}")

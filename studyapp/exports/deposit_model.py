"""What an archive deposit describes, in both languages, apart from the data: the study, its waves and
every variable with its question text, options, scale or facet and reverse keying.

Plain data: read from the database by :mod:`studyapp.exports.deposit` and turned into the DDI codebook
(:mod:`studyapp.exports.ddi`), the Frictionless data package and the Dataverse citation metadata
(:mod:`studyapp.exports.datapackage`). Nothing here can hold an identity: there is no field for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: The languages every instrument text comes in (the DDI gives each text in both).
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Group:
    """A scale or an identity facet that items score into."""

    code: str
    kind: str  # "scale" or "facet"
    domain: str
    name: dict[str, str]


@dataclass(frozen=True)
class DepositVariable:
    """One column of the deposited data files (a fixed column or an item), in both languages.

    ``waves`` are the waves (``cohort · label``) whose questionnaire holds the item; empty for the
    fixed columns, which every row has.
    """

    name: str
    kind: str  # scale, choice, number, text (items); id, meta (fixed columns)
    label: dict[str, str]
    measure: str
    value_labels: dict[int, dict[str, str]] = field(default_factory=dict)
    section: str = ""
    section_title: dict[str, str] = field(default_factory=dict)
    group: Group | None = None
    reverse: bool = False
    min_value: int | None = None
    max_value: int | None = None
    waves: tuple[str, ...] = ()

    @property
    def is_item(self) -> bool:
        """Whether this is a questionnaire item (not a fixed column)."""
        return self.kind not in ("id", "meta")


@dataclass(frozen=True)
class DepositWave:
    """A wave of the deposit's scope."""

    cohort: str
    label: str
    position: int
    instrument: str
    opens_at: datetime | None
    closes_at: datetime | None

    @property
    def name(self) -> str:
        """How variables name the wave they come from: ``cohort · label``."""
        return f"{self.cohort} · {self.label}"


@dataclass(frozen=True)
class DepositFile:
    """A data file of the deposit: its name in the bag's payload, format and size."""

    name: str
    media_type: str
    description: str


@dataclass(frozen=True)
class DepositMetadata:
    """Everything the metadata files say about a deposit."""

    study_name: str
    study_slug: str
    description: str
    instruments: list[str]
    waves: list[DepositWave]
    variables: list[DepositVariable]
    files: list[DepositFile]
    created_at: datetime
    language: str
    n_responses: int
    n_pseudonyms: int
    include_text: bool
    submitted_only: bool
    left_out_text_items: list[str] = field(default_factory=list)
    #: which analyses the attrition weights come from (empty: none)
    weights_source: str = ""

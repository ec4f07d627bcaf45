"""Writers that turn pseudonymised research data held in memory into export files.

The input is an :class:`ExportData`: answers in long form, one row per response (pseudonym x wave),
the questionnaire's variables in order and a few lines of metadata. The database query that builds
it lives elsewhere; this module imports neither Flask nor the database and adds no column of its
own, so an export can never hold more than its input (which has no identities).

Formats and the choices behind them:

- CSV (long and wide): comma-separated, ``\\n`` line ends, UTF-8 *with* a byte-order mark
  (``utf-8-sig``) so that Excel shows accented answers correctly when the file is opened by a
  double-click; pandas, readr, pyarrow, SPSS and Stata skip the mark. Pass ``bom=False`` for a plain
  UTF-8 file. Times are ISO 8601 in UTC with a ``Z`` and whole seconds (``2024-05-01T09:30:00Z``);
  a missing value is an empty field. Text that a spreadsheet would run as a formula (it begins with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``, numbers never do;
  ``raw_text=True`` writes text as given, for R and Python (see
  :mod:`studyapp.core.spreadsheet_safety`, which every CSV the app writes goes through).
- SPSS ``.sav`` and Parquet are not opened by spreadsheets: their text is always exactly as given.
- SPSS ``.sav`` (wide form): names made valid by :func:`spss_name` (deterministic; a collision after
  sanitising is an error, never a silent suffix), variable labels cut to 256 bytes and value labels
  to 120 bytes (SPSS limits; the codebook keeps the full text), measure levels from the variables,
  NA as system missing (SPSS has no missing value for strings, so a missing text is empty there),
  times as SPSS DATETIME in UTC.
- Parquet (wide form): nullable integer, string and UTC timestamp columns; the codebook as JSON in
  the schema metadata under ``b"codebook"`` and each column's label in its field metadata.
- Codebook (JSON and a standalone HTML page): every variable with its SPSS name, label, kind,
  section, facet, reverse keying, range, value labels and descriptives computed from the data.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

from studyapp.core.spreadsheet_safety import append_csv_rows, frame_to_csv, text_note
from waves.i18n import N_, translated

Kind = Literal["scale", "choice", "text", "number", "id", "meta"]
Measure = Literal["nominal", "ordinal", "scale"]

ITEM_KINDS = frozenset({"scale", "choice", "text", "number"})
FIXED_KINDS = frozenset({"id", "meta"})
MEASURES = frozenset({"nominal", "ordinal", "scale"})
LABELLED_KINDS = frozenset({"scale", "choice"})

ANSWER_COLUMNS = ("pseudonym", "cohort", "wave", "wave_position", "item", "value_number", "value_text")
RESPONSE_COLUMNS = (
    "pseudonym",
    "cohort",
    "wave",
    "wave_position",
    "started_at",
    "submitted_at",
    "source",
    "language",
)
#: a response's attrition weight (issue 19): given with the responses where there is one, else empty
WEIGHT_COLUMN = "attrition_weight"
#: the fixed columns of every export: the responses' columns, whether each response was submitted (1) or
#: only started (0), made from ``submitted_at``, and its attrition weight
FIXED_COLUMNS = (*RESPONSE_COLUMNS, "submitted", WEIGHT_COLUMN)
LONG_COLUMNS = ("pseudonym", "cohort", "wave", "wave_position", "submitted", "item", "value")
TIME_COLUMNS = ("started_at", "submitted_at")
STRING_COLUMNS = ("pseudonym", "cohort", "wave", "source", "language")
# Per-wave response fields repeated in the person-level file.
PERSON_WAVE_FIELDS = ("started_at", "submitted_at", "source", "language", "submitted", WEIGHT_COLUMN)

FORMATS = ("long_csv", "wide_csv", "sav", "parquet", "codebook_json", "codebook_html")
EXTRA_FORMATS = ("person_csv",)
FILE_NAMES = {
    "long_csv": "{prefix}_long.csv",
    "wide_csv": "{prefix}_wide.csv",
    "person_csv": "{prefix}_wide_by_person.csv",
    "sav": "{prefix}.sav",
    "parquet": "{prefix}.parquet",
    "codebook_json": "{prefix}_codebook.json",
    "codebook_html": "{prefix}_codebook.html",
}

CSV_ENCODING = "utf-8-sig"
CSV_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
CODEBOOK_FORMAT = "studyapp-codebook/1"
PARQUET_CODEBOOK_KEY = b"codebook"

SPSS_NAME_MAX_BYTES = 64
SPSS_LABEL_MAX_BYTES = 256
SPSS_VALUE_LABEL_MAX_BYTES = 120
SPSS_FILE_LABEL_MAX_BYTES = 64
SPSS_NOTE_LINE_BYTES = 80
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})

_DEFAULT_MEASURE: dict[str, Measure] = {
    "scale": "ordinal",
    "choice": "nominal",
    "number": "scale",
    "text": "nominal",
    "id": "nominal",
    "meta": "nominal",
}


class ExportDataError(ValueError):
    """The input of an export is inconsistent (unknown item, duplicate answer, stray column, ...)."""


class SpssNameError(ValueError):
    """Two variable names become the same SPSS name after sanitising."""


@dataclass(frozen=True)
class Variable:
    """One variable of an export: an item of the questionnaire or a fixed column such as ``wave``.

    ``measure`` defaults from ``kind`` (scale items ordinal, numbers scale, everything else nominal).
    """

    name: str
    label: str
    kind: Kind
    value_labels: dict[int, str] = field(default_factory=dict)
    section: str = ""
    facet: str | None = None
    reverse: bool = False
    min_value: int | None = None
    max_value: int | None = None
    measure: Measure | None = None

    def __post_init__(self) -> None:
        if self.kind not in ITEM_KINDS | FIXED_KINDS:
            raise ValueError(f"variable {self.name!r}: unknown kind {self.kind!r}")
        if not self.name:
            raise ValueError("a variable needs a name")
        if self.value_labels and self.kind not in LABELLED_KINDS:
            raise ValueError(f"variable {self.name!r}: value labels are only for scale and choice items")
        for value, text in self.value_labels.items():
            if isinstance(value, bool) or not isinstance(value, int) or not isinstance(text, str):
                raise ValueError(f"variable {self.name!r}: value labels must map int to str, got {value!r}")
        if self.measure is None:
            object.__setattr__(self, "measure", _DEFAULT_MEASURE[self.kind])
        elif self.measure not in MEASURES:
            raise ValueError(f"variable {self.name!r}: unknown measure {self.measure!r}")

    @property
    def is_item(self) -> bool:
        """Whether this is a questionnaire item (not a fixed column)."""
        return self.kind in ITEM_KINDS


@dataclass(frozen=True, eq=False)
class ExportData:
    """Everything an export is made of; see the module docstring for the columns of each frame."""

    answers: pd.DataFrame
    responses: pd.DataFrame
    variables: list[Variable]
    meta: dict[str, str] = field(default_factory=dict)


# In English; a codebook in Dutch reads them from the catalogues (waves.i18n)
_FIXED_LABELS = {
    "pseudonym": N_("Pseudonym (participant code, the same in every wave)"),
    "cohort": N_("Cohort"),
    "wave": N_("Wave"),
    "wave_position": N_("Number of the wave within the cohort"),
    "started_at": N_("Start of the questionnaire (UTC)"),
    "submitted_at": N_("Submission of the questionnaire (UTC; empty if not submitted)"),
    "source": N_("Source of the response (web = questionnaire, import = imported data)"),
    "language": N_("Language in which the questionnaire was answered"),
    "submitted": N_("Submitted (1 = submitted, 0 = started but not submitted)"),
    WEIGHT_COLUMN: N_(
        "Attrition weight from the cohort's latest analysis: stabilised inverse probability of still "
        "answering, multiplied over the waves, trimmed at percentiles 1 and 99, mean 1 at each wave "
        "(empty: no analysis yet, or a wave missed before)"
    ),
}
_FIXED_MEASURES: dict[str, Measure] = {
    "wave_position": "ordinal",
    "started_at": "scale",
    "submitted_at": "scale",
    WEIGHT_COLUMN: "scale",
}
# Fixed columns whose distinct values the codebook counts.
_COUNTED_FIXED = frozenset({"cohort", "wave", "wave_position", "source", "language", "submitted"})


def fixed_variables(language: str = "en") -> list[Variable]:
    """The default descriptions of the fixed columns, in English or Dutch (``"nl"``)."""
    chosen = language[:2].lower()
    labels = {name: translated(chosen, label) for name, label in _FIXED_LABELS.items()}
    return [
        Variable(
            name=name,
            label=labels[name],
            kind="id" if name == "pseudonym" else "meta",
            measure=_FIXED_MEASURES.get(name, "nominal"),
        )
        for name in FIXED_COLUMNS
    ]


# ---------------------------------------------------------------------------------------------
# Validation and normalisation of the input


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Checked, normalised input shared by every writer of one export."""

    fixed: list[Variable]
    items: list[Variable]
    answers: pd.DataFrame
    responses: pd.DataFrame
    meta: dict[str, str]

    @property
    def variables(self) -> list[Variable]:
        return [*self.fixed, *self.items]


def _check_columns(frame: pd.DataFrame, expected: Sequence[str], what: str) -> None:
    columns = [str(c) for c in frame.columns]
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    if missing or extra or len(set(columns)) != len(columns):
        raise ExportDataError(
            f"{what} must have exactly the columns {list(expected)}; missing {missing}, unexpected {extra}"
        )


def _as_strings(series: pd.Series) -> pd.Series:
    return series.astype("str")


def _as_utc(series: pd.Series, name: str) -> pd.Series:
    """Timezone-aware UTC microseconds; naive times are taken to be UTC (how the database stores them)."""
    try:
        times = pd.to_datetime(series, utc=True)
    except (TypeError, ValueError) as error:
        raise ExportDataError(f"responses.{name} must hold datetimes: {error}") from error
    return times.dt.as_unit("us")


def _as_position(series: pd.Series, what: str) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.isna().any() or not (numbers % 1 == 0).all():
        raise ExportDataError(f"{what}.wave_position must be a whole number in every row")
    return numbers.astype("int64")


def _duplicates(frame: pd.DataFrame, keys: list[str]) -> list[tuple[Any, ...]]:
    dup = frame.duplicated(subset=keys, keep=False)
    return sorted({tuple(row) for row in frame.loc[dup, keys].itertuples(index=False)})[:5]


def _prepare(data: ExportData) -> _Prepared:
    """Check the input for consistency and return it normalised; raises :class:`ExportDataError`."""
    _check_columns(data.answers, ANSWER_COLUMNS, "answers")
    _check_columns(
        data.responses,
        [*RESPONSE_COLUMNS, WEIGHT_COLUMN] if WEIGHT_COLUMN in data.responses.columns else RESPONSE_COLUMNS,
        "responses",
    )
    meta = {str(k): str(v) for k, v in data.meta.items()}

    names = [v.name for v in data.variables]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ExportDataError(f"variables are listed more than once: {repeated}")
    fixed_given = {v.name: v for v in data.variables if not v.is_item}
    unknown_fixed = sorted(set(fixed_given) - set(FIXED_COLUMNS))
    if unknown_fixed:
        raise ExportDataError(f"fixed variables must be among {list(FIXED_COLUMNS)}, got {unknown_fixed}")
    items = [v for v in data.variables if v.is_item]
    clashing = sorted({v.name for v in items} & set(FIXED_COLUMNS))
    if clashing:
        raise ExportDataError(f"item names clash with fixed columns: {clashing}")
    defaults = fixed_variables(meta.get("language", "en"))
    fixed = [fixed_given.get(v.name, v) for v in defaults]

    given = data.responses.get(WEIGHT_COLUMN)
    responses = data.responses.loc[:, list(RESPONSE_COLUMNS)].copy()
    responses[WEIGHT_COLUMN] = pd.array(
        np.full(len(responses), np.nan) if given is None else pd.to_numeric(given).to_numpy(dtype="float64"),
        dtype="Float64",
    )
    for name in STRING_COLUMNS:
        responses[name] = _as_strings(responses[name])
    if responses[["pseudonym", "cohort", "wave"]].isna().any().any():
        raise ExportDataError("responses need a pseudonym, cohort and wave in every row")
    responses["wave_position"] = _as_position(responses["wave_position"], "responses")
    for name in TIME_COLUMNS:
        responses[name] = _as_utc(responses[name], name)
    responses["submitted"] = responses["submitted_at"].notna().astype("Int64")
    dup = _duplicates(responses, ["pseudonym", "wave"])
    if dup:
        raise ExportDataError(f"more than one response per pseudonym and wave, e.g. {dup}")
    cohorts = responses.groupby("pseudonym")["cohort"].nunique()
    if (cohorts > 1).any():
        raise ExportDataError(f"pseudonyms in more than one cohort: {sorted(cohorts[cohorts > 1].index)[:5]}")

    answers = data.answers.loc[:, list(ANSWER_COLUMNS)].copy()
    for name in ("pseudonym", "cohort", "wave", "item"):
        answers[name] = _as_strings(answers[name])
    if answers[["pseudonym", "cohort", "wave", "item"]].isna().any().any():
        raise ExportDataError("answers need a pseudonym, cohort, wave and item in every row")
    answers["wave_position"] = _as_position(answers["wave_position"], "answers")
    try:
        answers["value_number"] = pd.to_numeric(answers["value_number"]).astype("Float64")
    except (TypeError, ValueError) as error:
        raise ExportDataError(f"answers.value_number must be numeric: {error}") from error
    answers["value_text"] = _as_strings(answers["value_text"])

    kinds = {v.name: v.kind for v in items}
    unknown = sorted(set(answers["item"].dropna().unique()) - set(kinds))
    if unknown:
        raise ExportDataError(f"answers to items that are not among the variables: {unknown[:10]}")
    dup = _duplicates(answers, ["pseudonym", "wave", "item"])
    if dup:
        raise ExportDataError(f"more than one answer per pseudonym, wave and item, e.g. {dup}")

    item_kind = _looked_up(answers["item"], kinds)
    is_text = item_kind == "text"
    has_number = answers["value_number"].notna()
    has_text = answers["value_text"].notna()
    wrong = answers.loc[(is_text & has_number & ~has_text) | (~is_text & has_text & ~has_number), "item"]
    if len(wrong):
        raise ExportDataError(
            f"answers in the wrong value column for their kind (text items use value_text, "
            f"others value_number): {sorted(set(wrong))[:10]}"
        )
    whole = item_kind.isin(list(LABELLED_KINDS)) & has_number
    fractional = answers.loc[whole & (answers["value_number"] % 1 != 0), "item"]
    if len(fractional):
        raise ExportDataError(f"scale and choice answers must be whole numbers: {sorted(set(fractional))[:10]}")

    keyed = answers.merge(
        responses[["pseudonym", "wave", "cohort", "wave_position"]],
        on=["pseudonym", "wave"],
        how="left",
        suffixes=("", "_response"),
        indicator=True,
    )
    orphans = keyed.loc[keyed["_merge"] == "left_only", ["pseudonym", "wave"]].drop_duplicates()
    if len(orphans):
        raise ExportDataError(
            f"answers without a response row (pseudonym, wave): {list(orphans.itertuples(index=False))[:5]}"
        )
    if (keyed["cohort"] != keyed["cohort_response"]).any() or (
        keyed["wave_position"] != keyed["wave_position_response"]
    ).any():
        raise ExportDataError("answers and responses disagree on the cohort or wave position")

    return _Prepared(fixed=fixed, items=items, answers=answers, responses=responses, meta=meta)


# ---------------------------------------------------------------------------------------------
# Frames


def _looked_up(keys: pd.Series, table: Mapping[str, Any]) -> pd.Series:
    """``keys.map(table)`` (a missing key gives None) by one hash lookup of the whole column: ``map``
    with a dict calls Python for every cell of an Arrow string column, millions of times in a long export."""
    position = pd.Index(list(table)).get_indexer(pd.Index(keys))
    values = np.array([*table.values(), None], dtype=object)  # position -1 (not found) is the None
    return pd.Series(values[position], index=keys.index, dtype=object)


def _long(prep: _Prepared) -> pd.DataFrame:
    order = {v.name: i for i, v in enumerate(prep.items)}
    answers = prep.answers.assign(_order=pd.Index(list(order)).get_indexer(pd.Index(prep.answers["item"])))
    answers = answers.sort_values(["pseudonym", "wave_position", "wave", "_order"], kind="stable")
    out = answers.loc[:, ["pseudonym", "cohort", "wave", "wave_position", "item"]].reset_index(drop=True)
    submitted = prep.responses.set_index(["pseudonym", "wave"])["submitted"]
    out.insert(4, "submitted", submitted.reindex(pd.MultiIndex.from_frame(out[["pseudonym", "wave"]])).array)
    out["value"] = _long_values(answers["value_number"], answers["value_text"])
    return out


def _long_values(numbers: pd.Series, texts: pd.Series) -> pd.Series:
    """Python objects: the number (``int`` when whole) if present, else the text, else ``None``."""
    values = np.full(len(numbers), None, dtype=object)
    has_text = texts.notna().to_numpy()
    values[has_text] = texts.to_numpy(dtype=object)[has_text]
    floats = numbers.to_numpy(dtype="float64", na_value=np.nan)
    has_number = ~np.isnan(floats)
    whole = has_number.copy()
    whole[has_number] = floats[has_number] % 1 == 0
    values[whole] = floats[whole].astype(np.int64).astype(object)
    values[has_number & ~whole] = floats[has_number & ~whole].astype(object)
    return pd.Series(values, dtype=object)


def _wide(prep: _Prepared) -> pd.DataFrame:
    base = prep.responses.sort_values(["pseudonym", "wave_position", "wave"], kind="stable")
    base = base.reset_index(drop=True)
    keys = pd.MultiIndex.from_frame(base[["pseudonym", "wave"]])
    text_items = [v.name for v in prep.items if v.kind == "text"]
    is_text = prep.answers["item"].isin(text_items)
    numbers = prep.answers.loc[~is_text].pivot(index=["pseudonym", "wave"], columns="item", values="value_number")
    texts = prep.answers.loc[is_text].pivot(index=["pseudonym", "wave"], columns="item", values="value_text")
    numbers = numbers.reindex(keys)
    texts = texts.reindex(keys)

    columns: dict[str, Any] = {name: base[name].array for name in FIXED_COLUMNS}
    # every number column at once as one float matrix (NaN where missing), then each column as a masked
    # array built from its slice: per-column pandas conversions cost more than the data at export sizes
    matrix = numbers.to_numpy(dtype="float64", na_value=np.nan)
    position = {name: i for i, name in enumerate(numbers.columns)}
    absent = np.full(len(base), np.nan)
    for variable in prep.items:
        if variable.kind == "text":
            if variable.name in texts.columns:
                columns[variable.name] = texts[variable.name].astype("str").array
            else:
                columns[variable.name] = pd.array([pd.NA] * len(base), dtype="str")
        else:
            values = matrix[:, position[variable.name]] if variable.name in position else absent
            missing = np.isnan(values)
            integral = variable.kind in LABELLED_KINDS or bool((values[~missing] % 1 == 0).all())
            if integral:
                columns[variable.name] = pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)
            else:
                columns[variable.name] = pd.arrays.FloatingArray(np.where(missing, 0.0, values), missing)
    return pd.DataFrame(columns)


def _wave_suffixes(responses: pd.DataFrame) -> dict[str, str]:
    """Wave label -> column suffix, in the order of the waves (by position, then label)."""
    first = responses.groupby("wave")["wave_position"].min().reset_index()
    first = first.sort_values(["wave_position", "wave"], kind="stable")
    suffixes: dict[str, str] = {}
    for label, position in zip(first["wave"], first["wave_position"], strict=True):
        ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
        suffix = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_label).strip("_") or f"w{position}"
        if suffix in suffixes.values():
            raise ExportDataError(f"wave labels give the same column suffix {suffix!r}")
        suffixes[label] = suffix
    return suffixes


def _wide_by_person(prep: _Prepared, wide: pd.DataFrame) -> pd.DataFrame:
    persons = prep.responses[["pseudonym", "cohort"]].drop_duplicates().sort_values("pseudonym", kind="stable")
    persons = persons.reset_index(drop=True)
    indexed = wide.set_index(["pseudonym", "wave"])
    columns: dict[str, Any] = {"pseudonym": persons["pseudonym"].array, "cohort": persons["cohort"].array}
    for wave, suffix in _wave_suffixes(prep.responses).items():
        rows = indexed.xs(wave, level="wave").reindex(persons["pseudonym"])
        for name in [*PERSON_WAVE_FIELDS, *(v.name for v in prep.items)]:
            column = f"{name}_{suffix}"
            if column in columns:
                raise ExportDataError(f"person-level column {column!r} would occur twice")
            columns[column] = rows[name].array
    return pd.DataFrame(columns)


def long_frame(data: ExportData) -> pd.DataFrame:
    """The answers in long form: pseudonym, cohort, wave, wave_position, item, value.

    Sorted by pseudonym, wave position and questionnaire order; ``value`` is the number when there is
    one (a whole number as ``int``) and the text otherwise, ``None`` when the item was not answered.
    """
    return _long(_prepare(data))


def wide_frame(data: ExportData) -> pd.DataFrame:
    """One row per response (pseudonym x wave): the response columns, then one column per item.

    Scale and choice items are nullable ``Int64``; number items ``Int64`` when every value is whole,
    ``Float64`` otherwise; text items are strings. A response without answers has only missing items.
    """
    return _wide(_prepare(data))


def wide_by_person_frame(data: ExportData) -> pd.DataFrame:
    """One row per pseudonym: pseudonym, cohort, then per wave its response fields and items.

    Columns are ``{name}_{wave}`` with the wave label reduced to ``[A-Za-z0-9_]``; waves follow their
    position. A wave a person did not take part in is missing in every column of that wave.
    """
    prep = _prepare(data)
    return _wide_by_person(prep, _wide(prep))


# ---------------------------------------------------------------------------------------------
# SPSS names


def spss_name(name: str) -> str:
    """A valid SPSS variable name for ``name``; the same input always gives the same output.

    Accents are dropped (``é`` -> ``e``), every run of other characters than ASCII letters, digits
    and ``_`` becomes one ``_``, leading and trailing ``_`` go, a name that does not start with a
    letter or is a reserved word (``TO``, ``ALL``, ...) gets the prefix ``v_``, and the result is cut
    to 64 bytes. Letter case is kept.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name)
    cleaned = re.sub(r"_+", "_", cleaned).strip("_") or "v"
    if not cleaned[0].isalpha() or cleaned.upper() in SPSS_RESERVED:
        cleaned = f"v_{cleaned}"
    return cleaned[:SPSS_NAME_MAX_BYTES].rstrip("_")


def spss_names(names: Iterable[str]) -> dict[str, str]:
    """Map each name to :func:`spss_name`; raises :class:`SpssNameError` if two map to one SPSS name.

    SPSS compares names without regard to case, so ``Age`` and ``age`` collide too.
    """
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in names:
        if name in mapping:
            raise SpssNameError(f"variable name {name!r} occurs twice")
        sanitised = spss_name(name)
        other = taken.get(sanitised.lower())
        if other is not None:
            raise SpssNameError(
                f"variables {other!r} and {name!r} both become the SPSS name {sanitised!r}; rename one of them"
            )
        taken[sanitised.lower()] = name
        mapping[name] = sanitised
    return mapping


def _cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes at a character boundary, ending in '…' if cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: limit - len("…".encode())].decode("utf-8", "ignore") + "…"


def _note_lines(meta: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    for key, value in meta.items():
        rest = f"{key}: {value}".replace("\r", " ").replace("\n", " ")
        while rest:
            chunk = rest.encode("utf-8")[:SPSS_NOTE_LINE_BYTES].decode("utf-8", "ignore")
            lines.append(chunk)
            rest = rest[len(chunk) :]
    return lines


# ---------------------------------------------------------------------------------------------
# Codebook


def _number(value: Any) -> int | float | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    if math.isinf(value):
        return None
    return int(value) if value.is_integer() else value


def _time(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime(CSV_TIME_FORMAT)


def _numeric_summary(column: pd.Series) -> dict[str, Any]:
    values = column.dropna().astype("float64")
    n = len(values)
    return {
        "mean": float(values.mean()) if n else None,
        "sd": float(values.std(ddof=1)) if n > 1 else None,
        "min": _number(values.min()) if n else None,
        "max": _number(values.max()) if n else None,
    }


def _describe(variable: Variable, column: pd.Series) -> dict[str, Any]:
    answered = int(column.notna().sum())
    result: dict[str, Any] = {"n_answered": answered, "n_missing": len(column) - answered}
    if variable.kind in ("scale", "choice", "number"):
        result.update(_numeric_summary(column))
    if variable.name in TIME_COLUMNS:
        values = column.dropna()
        result["min"] = _time(values.min()) if len(values) else None
        result["max"] = _time(values.max()) if len(values) else None
    if variable.name == "pseudonym":
        result["n_distinct"] = int(column.nunique())
    if variable.name in _COUNTED_FIXED:
        counts = column.dropna().value_counts(sort=False).sort_index()
        result["value_counts"] = [
            {"value": _number(value) if variable.name == "wave_position" else str(value), "count": int(count)}
            for value, count in counts.items()
        ]
    return result


def _codebook(prep: _Prepared, wide: pd.DataFrame, *, raw_text: bool = False) -> dict[str, Any]:
    return _codebook_of(
        prep.variables, prep.meta, wide.__getitem__, list(wide.columns), len(prep.answers), raw_text=raw_text
    )


def _codebook_of(
    variables: Sequence[Variable],
    meta: Mapping[str, str],
    column_of: Callable[[str], pd.Series],
    columns: Sequence[str],
    n_answers: int,
    *,
    raw_text: bool = False,
) -> dict[str, Any]:
    """The codebook from the wide form's columns, each fetched by ``column_of`` when it is needed.

    ``column_of`` may read one column at a time from a file, so the wide form never has to be in
    memory as a whole.
    """
    names = spss_names(columns)
    wave_column = column_of("wave")
    responses = pd.DataFrame(
        {
            "wave": wave_column,
            "wave_position": column_of("wave_position"),
            "submitted_at": column_of("submitted_at"),
        }
    )
    wave_order = list(_wave_suffixes(responses))
    waves = []
    for label in wave_order:
        rows = responses[responses["wave"] == label]
        waves.append(
            {
                "label": label,
                "positions": sorted(int(p) for p in rows["wave_position"].unique()),
                "n_responses": len(rows),
                "n_submitted": int(rows["submitted_at"].notna().sum()),
            }
        )
    entries = []
    for variable in variables:
        column = column_of(variable.name)
        entry: dict[str, Any] = {
            "name": variable.name,
            "spss_name": names[variable.name],
            "label": variable.label,
            "kind": variable.kind,
            "measure": variable.measure,
            "section": variable.section,
            "facet": variable.facet,
            "reverse": variable.reverse,
            "min_value": variable.min_value,
            "max_value": variable.max_value,
            "value_labels": [],
            "descriptives": _describe(variable, column),
        }
        if variable.kind in LABELLED_KINDS:
            counts = column.dropna().astype("int64").value_counts()
            entry["value_labels"] = [
                {"value": value, "label": text, "count": int(counts.get(value, 0))}
                for value, text in sorted(variable.value_labels.items())
            ]
            counted = dict(zip(counts.index.tolist(), counts.tolist(), strict=True))
            entry["descriptives"]["unlabelled_values"] = [
                {"value": int(value), "count": int(count)}
                for value, count in sorted(counted.items())
                if int(value) not in variable.value_labels
            ]
        if variable.is_item:
            by_wave = []
            for label in wave_order:
                in_wave = column[wave_column == label]
                described: dict[str, Any] = {"wave": label, "n_answered": int(in_wave.notna().sum())}
                described["n_missing"] = len(in_wave) - described["n_answered"]
                if variable.kind != "text":
                    summary = _numeric_summary(in_wave)
                    described.update(mean=summary["mean"], sd=summary["sd"])
                by_wave.append(described)
            entry["descriptives"]["by_wave"] = by_wave
        entries.append(entry)
    return {
        "format": CODEBOOK_FORMAT,
        "meta": dict(meta),
        "summary": {
            "n_responses": len(responses),
            "n_pseudonyms": int(column_of("pseudonym").nunique()),
            "n_answers": n_answers,
            "waves": waves,
        },
        "csv_text": {"formulas_neutralised": not raw_text, "note": text_note(raw_text=raw_text)},
        "variables": entries,
    }


def codebook_dict(data: ExportData, *, raw_text: bool = False) -> dict[str, Any]:
    """The codebook as plain JSON-ready data: ``format``, ``meta``, ``summary`` and ``variables``.

    Each variable (fixed columns first, then items in questionnaire order) has its name, SPSS name,
    label, kind, measure, section, facet, reverse keying, declared range, value labels with the count
    of each value, and ``descriptives`` over the responses (pseudonym x wave): ``n_answered``,
    ``n_missing``, and for numbers ``mean``, ``sd`` (n - 1), ``min`` and ``max``; for items also
    ``by_wave``. SD is ``None`` below two values. ``csv_text`` says whether formula-like text in the
    CSV files got a leading ``'`` (``raw_text=False``, the default) and why. Raises
    :class:`SpssNameError` when two names give the same SPSS name, as every format that carries the
    codebook names the SPSS variables.
    """
    prep = _prepare(data)
    return _codebook(prep, _wide(prep), raw_text=raw_text)


def _codebook_json(codebook: Mapping[str, Any]) -> str:
    return json.dumps(codebook, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


_HTML_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a;
       margin: 0; background: #f6f7f9; }
main { max-width: 1200px; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { margin: 0 0 .25rem; font-size: 1.7rem; } h2 { margin: 2.2rem 0 .6rem; font-size: 1.2rem; }
.sub { color: #56606b; margin: 0 0 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
table.narrow { width: auto; min-width: 24rem; }
th, td { border-bottom: 1px solid #e1e4e8; padding: .4rem .55rem; text-align: left; vertical-align: top; }
th { background: #eef1f4; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; }
ul.values { list-style: none; margin: 0; padding: 0; } ul.values li { white-space: nowrap; }
.muted { color: #6b7580; } .kind { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
@media print { body { background: #fff; } th { position: static; } }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return _e(value)


# The codebook page's own words, in the language of its labels (the one its <html lang> names)
_META_NAMES = {
    "study": N_("study"),
    "instrument": N_("instrument"),
    "exported_at": N_("exported at"),
    "language": N_("language"),
    "scope": N_("scope"),
}
_KIND_NAMES = {
    "scale": N_("scale item"),
    "choice": N_("choice"),
    "text": N_("text"),
    "number": N_("number"),
    "id": N_("identifier"),
    "meta": N_("about the response"),
}
_CODEBOOK_WORDS = {
    "codebook": N_("Codebook"),
    "about_this_export": N_("About this export"),
    "responses": N_("responses"),
    "responses_heading": N_("Responses"),
    "pseudonyms": N_("pseudonyms"),
    "text_in_the_csv_files": N_("Text in the CSV files"),
    "waves": N_("Waves"),
    "wave": N_("Wave"),
    "position": N_("Position"),
    "submitted": N_("Submitted"),
    "variables": N_("Variables"),
    "name": N_("Name"),
    "label": N_("Label"),
    "kind": N_("Kind"),
    "section_facet": N_("Section / facet"),
    "range": N_("Range"),
    "values_count": N_("Values (count)"),
    "answered": N_("Answered"),
    "missing": N_("Missing"),
    "mean": N_("Mean"),
    "sd": N_("SD"),
    "reverse_keyed": N_("reverse-keyed"),
    "unlabelled": N_("unlabelled"),
}
_MEASURE_NAMES = {"nominal": N_("nominal"), "ordinal": N_("ordinal"), "scale": N_("scale")}


def _codebook_html(codebook: Mapping[str, Any]) -> str:
    meta = codebook["meta"]
    summary = codebook["summary"]
    language = str(meta.get("language", "en"))[:2].lower()

    w = {name: _e(translated(language, text)) for name, text in _CODEBOOK_WORDS.items()}

    def t(text: str) -> str:
        return _e(translated(language, text))

    title = meta.get("study") or translated(language, N_("Research data export"))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(meta.get("language", "en"))}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy"',
        " content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{w['codebook']} – {_e(title)}</title>",
        f"<style>{_HTML_STYLE}</style>",
        "</head>",
        "<body><main>",
        f"<h1>{w['codebook']}</h1>",
        f'<p class="sub">{_e(title)}</p>',
        f"<h2>{w['about_this_export']}</h2>",
        "<dl>",
    ]
    for key, value in meta.items():
        name = t(_META_NAMES[key]) if key in _META_NAMES else _e(key)
        parts.append(f"<dt>{name}</dt><dd>{_e(value)}</dd>")
    parts.append(f"<dt>{w['responses']}</dt><dd>{_e(summary['n_responses'])}</dd>")
    parts.append(f"<dt>{w['pseudonyms']}</dt><dd>{_e(summary['n_pseudonyms'])}</dd>")
    parts.append("</dl>")
    if "csv_text" in codebook:
        parts += [f"<h2>{w['text_in_the_csv_files']}</h2>", f"<p>{t(codebook['csv_text']['note'])}</p>"]

    parts += [
        f"<h2>{w['waves']}</h2>",
        f'<table class="narrow"><thead><tr><th>{w["wave"]}</th><th>{w["position"]}</th>'
        f"<th>{w['responses_heading']}</th><th>{w['submitted']}</th></tr></thead>",
        "<tbody>",
    ]
    for wave in summary["waves"]:
        positions = ", ".join(str(p) for p in wave["positions"])
        parts.append(
            f'<tr><td>{_e(wave["label"])}</td><td class="num">{_e(positions)}</td>'
            f'<td class="num">{_e(wave["n_responses"])}</td>'
            f'<td class="num">{_e(wave["n_submitted"])}</td></tr>'
        )
    parts.append("</tbody></table>")

    parts += [
        f"<h2>{w['variables']}</h2>",
        f"<table><thead><tr><th>{w['name']}</th><th>{w['label']}</th><th>{w['kind']}</th>"
        f"<th>{w['section_facet']}</th><th>{w['range']}</th><th>{w['values_count']}</th>"
        f"<th>{w['answered']}</th><th>{w['missing']}</th><th>{w['mean']}</th>"
        f"<th>{w['sd']}</th></tr></thead>",
        "<tbody>",
    ]
    for variable in codebook["variables"]:
        d = variable["descriptives"]
        name = f"<code>{_e(variable['name'])}</code>"
        if variable["spss_name"] != variable["name"]:
            name += f'<br><span class="muted">SPSS: <code>{_e(variable["spss_name"])}</code></span>'
        kind_name = _KIND_NAMES.get(variable["kind"])
        measure_name = _MEASURE_NAMES.get(variable["measure"])
        kind = f'<span class="kind">{t(kind_name) if kind_name else _e(variable["kind"])}</span><br>'
        kind += f'<span class="muted">{t(measure_name) if measure_name else _e(variable["measure"])}'
        kind += f", {w['reverse_keyed']}</span>" if variable["reverse"] else "</span>"
        grouping = _e(variable["section"])
        if variable["facet"]:
            grouping += f'<br><span class="muted">{_e(variable["facet"])}</span>'
        low, high = variable["min_value"], variable["max_value"]
        declared = f"{_e(low)}–{_e(high)}" if low is not None or high is not None else ""
        values = [
            f'<li>{_e(v["value"])} = {_e(v["label"])} <span class="muted">({_e(v["count"])})</span></li>'
            for v in variable["value_labels"]
        ]
        values += [
            f'<li>{_e(v["value"])} <span class="muted">({w["unlabelled"]}, {_e(v["count"])})</span></li>'
            for v in d.get("unlabelled_values", [])
        ]
        values += [
            f'<li>{_e(v["value"])} <span class="muted">({_e(v["count"])})</span></li>'
            for v in d.get("value_counts", [])
        ]
        if "min" in d and variable["name"] in TIME_COLUMNS and d["min"] is not None:
            values.append(f"<li>{_e(d['min'])} – {_e(d['max'])}</li>")
        parts.append(
            f"<tr><td>{name}</td><td>{_e(variable['label'])}</td><td>{kind}</td><td>{grouping}</td>"
            f'<td class="num">{declared}</td><td><ul class="values">{"".join(values)}</ul></td>'
            f'<td class="num">{_e(d["n_answered"])}</td><td class="num">{_e(d["n_missing"])}</td>'
            f'<td class="num">{_fmt(d.get("mean"))}</td><td class="num">{_fmt(d.get("sd"))}</td></tr>'
        )
    parts += ["</tbody></table>", "</main></body>", "</html>", ""]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Files


@contextmanager
def _replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place only when writing succeeded."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.tz_convert("UTC").dt.strftime(CSV_TIME_FORMAT)
    return out


def _write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], bom: bool, raw_text: bool) -> None:
    with _replacing(path) as temporary:
        frame_to_csv(_csv_ready(frame), temporary, raw_text=raw_text, encoding=CSV_ENCODING if bom else "utf-8")


def write_long_csv(data: ExportData, path: str | os.PathLike[str], *, bom: bool = True, raw_text: bool = False) -> Path:
    """Write :func:`long_frame` as CSV (UTF-8 with BOM unless ``bom=False``) and return the path.

    Text a spreadsheet would run as a formula gets a leading ``'`` unless ``raw_text=True``.
    """
    _write_csv(long_frame(data), path, bom, raw_text)
    return Path(path)


def write_wide_csv(data: ExportData, path: str | os.PathLike[str], *, bom: bool = True, raw_text: bool = False) -> Path:
    """Write :func:`wide_frame` as CSV (UTF-8 with BOM unless ``bom=False``) and return the path.

    Text a spreadsheet would run as a formula gets a leading ``'`` unless ``raw_text=True``.
    """
    _write_csv(wide_frame(data), path, bom, raw_text)
    return Path(path)


def write_wide_by_person_csv(
    data: ExportData, path: str | os.PathLike[str], *, bom: bool = True, raw_text: bool = False
) -> Path:
    """Write :func:`wide_by_person_frame` as CSV and return the path (``raw_text`` as for the others)."""
    _write_csv(wide_by_person_frame(data), path, bom, raw_text)
    return Path(path)


def _write_sav(prep: _Prepared, wide: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    _write_sav_frame(prep.variables, prep.meta, wide, path)


def _write_sav_frame(
    variables: Sequence[Variable], meta: Mapping[str, str], wide: pd.DataFrame, path: str | os.PathLike[str]
) -> None:
    names = spss_names(wide.columns)
    frame = wide.rename(columns=names)
    for name in TIME_COLUMNS:
        frame[names[name]] = frame[names[name]].dt.tz_convert("UTC").dt.tz_localize(None)
    labels: dict[str, str | None] = {names[v.name]: _cut_bytes(v.label, SPSS_LABEL_MAX_BYTES) for v in variables}
    value_labels: dict[str, dict[int | float, str]] = {
        names[v.name]: {k: _cut_bytes(t, SPSS_VALUE_LABEL_MAX_BYTES) for k, t in sorted(v.value_labels.items())}
        for v in variables
        if v.is_item and v.value_labels
    }
    measures = {names[v.name]: str(v.measure) for v in variables}
    formats = {}
    for name in frame.columns:
        if pd.api.types.is_integer_dtype(frame[name].dtype):
            largest = frame[name].dropna().abs().max() if frame[name].notna().any() else 0
            formats[name] = f"F{max(8, len(str(int(largest))) + 1)}.0"
    with _replacing(path) as temporary:
        pyreadstat.write_sav(
            frame,
            temporary,
            file_label=_cut_bytes(meta.get("study", ""), SPSS_FILE_LABEL_MAX_BYTES),
            column_labels=labels,
            note=_note_lines(meta) or None,
            variable_value_labels=value_labels,
            variable_measure=measures,
            variable_format=formats,
        )


def write_sav(data: ExportData, path: str | os.PathLike[str]) -> Path:
    """Write the wide form as an SPSS ``.sav`` file and return the path.

    Names come from :func:`spss_names` (see the codebook's ``spss_name``); the study name becomes the
    file label and ``meta`` the file's notes.
    """
    prep = _prepare(data)
    _write_sav(prep, _wide(prep), path)
    return Path(path)


def _write_parquet(
    prep: _Prepared, wide: pd.DataFrame, codebook: Mapping[str, Any], path: str | os.PathLike[str]
) -> None:
    table = pa.Table.from_pandas(wide, preserve_index=False)
    labels = {v.name: v for v in prep.variables}
    fields = [
        f.with_metadata({b"label": labels[f.name].label.encode(), b"kind": labels[f.name].kind.encode()})
        for f in table.schema
    ]
    metadata = dict(table.schema.metadata or {})
    metadata[PARQUET_CODEBOOK_KEY] = _codebook_json(codebook).encode("utf-8")
    table = pa.Table.from_arrays(table.columns, schema=pa.schema(fields, metadata=metadata))
    with _replacing(path) as temporary:
        pq.write_table(table, temporary)


def write_parquet(data: ExportData, path: str | os.PathLike[str]) -> Path:
    """Write the wide form as Parquet with the codebook JSON under ``b"codebook"``; return the path."""
    prep = _prepare(data)
    wide = _wide(prep)
    _write_parquet(prep, wide, _codebook(prep, wide), path)
    return Path(path)


def _write_text(text: str, path: str | os.PathLike[str]) -> None:
    with _replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


def write_codebook_json(data: ExportData, path: str | os.PathLike[str]) -> Path:
    """Write :func:`codebook_dict` as UTF-8 JSON and return the path."""
    _write_text(_codebook_json(codebook_dict(data)), path)
    return Path(path)


def write_codebook_html(data: ExportData, path: str | os.PathLike[str]) -> Path:
    """Write the codebook as a standalone HTML page (every label and value escaped); return the path."""
    _write_text(_codebook_html(codebook_dict(data)), path)
    return Path(path)


def write_all(
    data: ExportData,
    folder: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
    *,
    prefix: str = "export",
    bom: bool = True,
    raw_text: bool = False,
) -> dict[str, Path]:
    """Write the chosen formats into ``folder`` (created if needed); return format -> path.

    File names are fixed by :data:`FILE_NAMES` (``{prefix}_long.csv``, ``{prefix}.sav``, ...); besides
    :data:`FORMATS` there is ``"person_csv"`` (:func:`wide_by_person_frame`). The input is checked
    once, before any file is written. ``raw_text=True`` leaves formula-like text in the CSV files
    without its leading ``'`` (for R and Python); the codebook says which was done.
    """
    unknown = [f for f in formats if f not in FILE_NAMES]
    if unknown:
        raise ValueError(f"unknown export formats {unknown}; choose from {list(FILE_NAMES)}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", prefix):
        raise ValueError(f"file prefix {prefix!r} must be letters, digits, '_', '.' or '-'")
    prep = _prepare(data)
    wide = _wide(prep)
    needs_codebook = {"parquet", "codebook_json", "codebook_html"} & set(formats)
    codebook = _codebook(prep, wide, raw_text=raw_text) if needs_codebook else {}
    if "sav" in formats:
        spss_names(wide.columns)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in dict.fromkeys(formats):
        path = target / FILE_NAMES[fmt].format(prefix=prefix)
        if fmt == "long_csv":
            _write_csv(_long(prep), path, bom, raw_text)
        elif fmt == "wide_csv":
            _write_csv(wide, path, bom, raw_text)
        elif fmt == "person_csv":
            _write_csv(_wide_by_person(prep, wide), path, bom, raw_text)
        elif fmt == "sav":
            _write_sav(prep, wide, path)
        elif fmt == "parquet":
            _write_parquet(prep, wide, codebook, path)
        elif fmt == "codebook_json":
            _write_text(_codebook_json(codebook), path)
        else:
            _write_text(_codebook_html(codebook), path)
        written[fmt] = path
    return written


# ---------------------------------------------------------------------------------------------
# Streaming: an export written chunk by chunk, for panels too large to hold in memory

#: The formats :func:`write_streamed` writes (the person-level CSV needs every wave of a person at once).
STREAMED_FORMATS = FORMATS
#: The formats made from the whole wide form, after the chunks (from a Parquet file of it).
_FROM_WIDE_FILE = frozenset({"sav", "parquet", "codebook_json", "codebook_html"})
#: Rows per Parquet row group in the final file (chunks are smaller; their row groups are joined).
PARQUET_ROW_GROUP_ROWS = 65_536


@dataclass(frozen=True)
class StreamedExport:
    """The files a streamed export wrote (format -> path) and how many responses and answers they hold."""

    paths: dict[str, Path]
    n_responses: int
    n_answers: int


def _empty_chunk(variables: Sequence[Variable], meta: Mapping[str, str]) -> _Prepared:
    return _prepare(
        ExportData(
            answers=pd.DataFrame(columns=list(ANSWER_COLUMNS)),
            responses=pd.DataFrame(columns=list(RESPONSE_COLUMNS)),
            variables=list(variables),
            meta=dict(meta),
        )
    )


def _append_csv(frame: pd.DataFrame, handle: IO[str], *, header: bool, raw_text: bool) -> None:
    """``frame`` appended to an open CSV file, row by row, with the cells :func:`frame_to_csv` writes."""
    append_csv_rows(_csv_ready(frame), handle, header=header, raw_text=raw_text)


def _field_schema(schema: pa.Schema, variables: Sequence[Variable]) -> pa.Schema:
    """``schema`` with each column's label and kind in its field metadata (as :func:`write_parquet`)."""
    by_name = {v.name: v for v in variables}
    fields = [
        f.with_metadata({b"label": by_name[f.name].label.encode(), b"kind": by_name[f.name].kind.encode()})
        for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


class _WideFile:
    """The wide form in a Parquet file written chunk by chunk; read back one column at a time."""

    def __init__(self, path: Path, empty: pd.DataFrame, variables: Sequence[Variable]) -> None:
        self.path = path
        self.schema = _field_schema(pa.Schema.from_pandas(empty, preserve_index=False), variables)
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(path, self.schema)
        self._columns: dict[str, pd.Series] = {}
        self._reader: pq.ParquetFile | None = None

    def append(self, wide: pd.DataFrame) -> None:
        if self._writer is None:
            raise RuntimeError("the wide file is closed")
        self._writer.write_table(pa.Table.from_pandas(wide, schema=self.schema, preserve_index=False))

    def close(self) -> None:
        """Finish writing (the file can then be read); called again at the end, it closes the reader too."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        elif self._reader is not None:
            self._reader.close()
            self._reader = None

    def column(self, name: str) -> pd.Series:
        """One column as the in-memory wide frame has it (the wave column is kept for every item)."""
        if name in self._columns:
            return self._columns[name]
        if self._reader is None:  # opened once: its footer lists every row group
            self._reader = pq.ParquetFile(self.path)
        column = self._reader.read(columns=[name]).to_pandas()[name]
        if name in ("wave", "pseudonym"):
            self._columns[name] = column
        return column

    def frame(self) -> pd.DataFrame:
        """The whole wide form, read one column at a time: beside the frame, Arrow holds one column's
        buffers at most (the whole table read at once held about twice the frame's size at its peak)."""
        return pd.DataFrame({name: self.column(name) for name in self.schema.names})

    def copy_with_codebook(self, codebook: Mapping[str, Any], path: Path) -> None:
        """The final Parquet file: these rows in large row groups, the codebook in the schema metadata."""
        metadata = dict(self.schema.metadata or {})
        metadata[PARQUET_CODEBOOK_KEY] = _codebook_json(codebook).encode("utf-8")
        schema = self.schema.with_metadata(metadata)
        source = pq.ParquetFile(self.path)
        with _replacing(path) as temporary, pq.ParquetWriter(temporary, schema) as writer:
            for batch in source.iter_batches(batch_size=PARQUET_ROW_GROUP_ROWS):
                writer.write_table(pa.Table.from_batches([batch], schema=self.schema))


def write_streamed(
    chunks: Iterable[ExportData],
    folder: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
    *,
    variables: Sequence[Variable],
    meta: Mapping[str, str],
    prefix: str = "export",
    bom: bool = True,
    raw_text: bool = False,
) -> StreamedExport:
    """Write the chosen formats from ``chunks``, one chunk in memory at a time; same files as :func:`write_all`.

    Each chunk holds every response and answer of its pseudonyms (a pseudonym in one chunk only), and
    the chunks come in the order of their pseudonyms (code point order, as Python sorts), so that the
    rows follow one another as in :func:`write_all`. Every chunk has ``variables`` and ``meta``.
    CSV rows are appended chunk by chunk; the wide form goes to a Parquet file in a temporary
    folder, one row group per chunk, from which the codebook is computed one column at a time, the
    final Parquet file is copied with the codebook in its metadata, and the SPSS file is written
    (SPSS files cannot be appended to, so only that step holds the whole wide form).
    """
    unknown = [f for f in formats if f not in STREAMED_FORMATS]
    if unknown:
        raise ValueError(f"unknown streamed export formats {unknown}; choose from {list(STREAMED_FORMATS)}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", prefix):
        raise ValueError(f"file prefix {prefix!r} must be letters, digits, '_', '.' or '-'")
    chosen = list(dict.fromkeys(formats))
    empty = _empty_chunk(variables, meta)
    empty_wide = _wide(empty)
    if _FROM_WIDE_FILE & set(chosen):
        spss_names(empty_wide.columns)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = {fmt: target / FILE_NAMES[fmt].format(prefix=prefix) for fmt in chosen}
    with tempfile.TemporaryDirectory(prefix="studyapp-export-") as scratch, ExitStack() as files:
        csv_files: dict[str, IO[str]] = {}
        for fmt in ("long_csv", "wide_csv"):
            if fmt in paths:
                temporary = files.enter_context(_replacing(paths[fmt]))
                handle = files.enter_context(
                    open(temporary, "w", encoding=CSV_ENCODING if bom else "utf-8", newline="")
                )
                csv_files[fmt] = handle
        wide_file = None
        if _FROM_WIDE_FILE & set(chosen):
            wide_file = _WideFile(Path(scratch) / "wide.parquet", empty_wide, empty.variables)
            files.callback(wide_file.close)
        n_responses = n_answers = 0
        for prep, first in _prepared_chunks(chunks, empty):
            wide = _wide(prep)
            if wide_file is not None and not first:
                wide_file.append(wide)
            if "long_csv" in csv_files:
                _append_csv(_long(prep), csv_files["long_csv"], header=first, raw_text=raw_text)
            if "wide_csv" in csv_files:
                _append_csv(wide, csv_files["wide_csv"], header=first, raw_text=raw_text)
            n_responses += len(prep.responses)
            n_answers += len(prep.answers)
        if wide_file is not None:
            wide_file.close()
            _finish_from_wide_file(wide_file, paths, empty.variables, dict(empty.meta), n_answers, raw_text)
    return StreamedExport(paths=paths, n_responses=n_responses, n_answers=n_answers)


def _prepared_chunks(chunks: Iterable[ExportData], empty: _Prepared) -> Iterator[tuple[_Prepared, bool]]:
    """Each chunk checked and normalised, with whether it is the first; the empty chunk leads (CSV headers)."""
    yield empty, True
    last_pseudonym: str | None = None
    for chunk in chunks:
        prep = _prepare(chunk)
        if prep.responses.empty:
            continue
        pseudonyms = prep.responses["pseudonym"]
        if last_pseudonym is not None and pseudonyms.min() <= last_pseudonym:
            raise ExportDataError("export chunks must come in the order of their pseudonyms, each pseudonym once")
        last_pseudonym = str(pseudonyms.max())
        yield prep, False


def _finish_from_wide_file(
    wide_file: _WideFile,
    paths: Mapping[str, Path],
    variables: Sequence[Variable],
    meta: Mapping[str, str],
    n_answers: int,
    raw_text: bool,
) -> None:
    """The files made from the whole wide form: codebooks, the final Parquet file and the SPSS file."""
    if {"parquet", "codebook_json", "codebook_html"} & set(paths):
        codebook = _codebook_of(variables, meta, wide_file.column, wide_file.schema.names, n_answers, raw_text=raw_text)
        if "parquet" in paths:
            wide_file.copy_with_codebook(codebook, paths["parquet"])
        if "codebook_json" in paths:
            _write_text(_codebook_json(codebook), paths["codebook_json"])
        if "codebook_html" in paths:
            _write_text(_codebook_html(codebook), paths["codebook_html"])
    if "sav" in paths:
        _write_sav_frame(variables, meta, wide_file.frame(), paths["sav"])

"""Loading a cohort's submitted answers as the frames :mod:`analysis` works on (pseudonyms only)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from analysis.scoring import ScaleDefinition, scales_from_instrument, score
from studyapp.core.models import Answer, Cohort, Instrument, Invitation, Item, Participant, Response, Study, Wave

JOB_GROUP_ITEM = "work_job_group"
#: answers fetched per round trip when loading a wave (three integers each, so a chunk is a few megabytes)
ANSWER_CHUNK = 100_000


@dataclass
class CohortData:
    """A cohort's answers and scores, one row per participant and wave they submitted."""

    waves: list[str]
    items: pd.DataFrame  # pseudonym, wave, one column per numeric item
    scores: pd.DataFrame  # pseudonym, wave, one column per facet / scale
    scales: list[ScaleDefinition]
    facet_names: dict[str, str]
    facet_kinds: dict[str, str]
    fieldwork: list[dict] = field(default_factory=list)  # per wave: invited, completed, rate, retained
    job_groups: dict[int, str] = field(default_factory=dict)  # job-group answer -> technical / non_technical / other
    # the study's frame variables per participant who answered (pseudonym + one column each; None: unknown)
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"pseudonym": []}))
    # each facet's name per language, and each choice item's option texts: code -> value -> language -> text
    facet_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    option_labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def identity_facets(self) -> list[str]:
        """The profile indicators (facets of kind 'facet') that have scores."""
        return [code for code, kind in self.facet_kinds.items() if kind == "facet" and code in self.scores]


def cohort_data(*, session: Session, cohort: Cohort) -> CohortData:
    """Every submitted response of the cohort's waves, scored with the first wave's instrument."""
    waves = session.exec(select(Wave).where(Wave.cohort_id == cohort.id).order_by(col(Wave.position))).all()
    if not waves:
        raise ValueError(f"cohort {cohort.name!r} has no waves")
    instrument = session.get_one(Instrument, waves[0].instrument_id)
    definition = instrument.definition
    scales = scales_from_instrument(definition)
    labels = [w.label for w in waves]
    items = submitted_answers(session=session, waves=waves)
    scores = score(items, scales, id_columns=["pseudonym", "wave"])
    names = {f["code"]: f["name"].get("en") or next(iter(f["name"].values())) for f in definition["facets"]}
    kinds = {f["code"]: f["kind"] for f in definition["facets"]}
    return CohortData(
        labels,
        items,
        scores,
        scales,
        names,
        kinds,
        _fieldwork(session, waves, items),
        job_groups(definition),
        _frame(session, cohort, items["pseudonym"].unique()),
        {f["code"]: dict(f["name"]) for f in definition["facets"]},
        _option_labels(session, instrument),
    )


def _option_labels(session: Session, instrument: Instrument) -> dict[str, dict[str, dict[str, str]]]:
    """Each choice item of ``instrument`` by code: its options' texts per language, by value."""
    items = session.exec(select(Item).where(Item.instrument_id == instrument.id, Item.type == "choice")).all()
    return {
        item.code: {str(option["value"]): dict(option.get("label", {})) for option in item.options} for item in items
    }


def _frame(session: Session, cohort: Cohort, pseudonyms: np.ndarray) -> pd.DataFrame:
    """The study's frame variables of the participants who answered (one query; plain rows)."""
    study = session.get_one(Study, cohort.study_id)
    names = list(study.frame_variables)
    if not names:
        return pd.DataFrame({"pseudonym": pseudonyms})
    rows = session.execute(
        sa_select(col(Participant.pseudonym), col(Participant.frame)).where(col(Participant.cohort_id) == cohort.id)
    ).all()
    frames = {pseudonym: frame or {} for pseudonym, frame in rows}
    return pd.DataFrame(
        {"pseudonym": pseudonyms, **{name: [frames.get(p, {}).get(name) for p in pseudonyms] for name in names}}
    )


def submitted_answers(*, session: Session, waves: Sequence[Wave]) -> pd.DataFrame:
    """The numeric answers of every submitted response to ``waves``: one row per participant and wave.

    Columns ``pseudonym``, ``wave`` (the labels, an ordered categorical in ``waves``' order) and one per item
    code with an answer, codes sorted; rows sorted by wave and pseudonym; a response without any numeric
    answer is left out. The values are floats with NaN where an item was not answered (integers when no
    answer is missing at all), as a pivot of the long answer table gives them.

    The answers are read as three integers each (response, item, value), in chunks of
    :data:`ANSWER_CHUNK`, and written straight into one response-by-item array: no object per answer.
    """
    labels = [w.label for w in waves]
    respondents = [_submitted_responses(session, wave) for wave in waves]
    total = sum(len(ids) for ids, _ in respondents)
    columns = _ItemColumns(session, {w.instrument_id for w in waves})
    values = np.full((total, len(columns.codes)), np.nan)
    answered = np.zeros(total, dtype=bool)
    offset = 0
    for wave, (ids, _) in zip(waves, respondents, strict=True):
        for response_ids, item_ids, numbers in _answer_chunks(session, wave):
            rows = np.searchsorted(ids, response_ids)
            # a response submitted after its wave's list was read waits for the next analysis
            known = rows < len(ids)
            known[known] = ids[rows[known]] == response_ids[known]
            positions = columns.positions(item_ids)
            known &= positions >= 0
            rows, positions, numbers = rows[known] + offset, positions[known], numbers[known]
            if positions.max(initial=-1) >= values.shape[1]:
                values = np.hstack([values, np.full((total, len(columns.codes) - values.shape[1]), np.nan)])
            values[rows, positions] = numbers
            answered[rows] = True
        offset += len(ids)
    pseudonyms = np.concatenate([p for _, p in respondents]) if respondents else np.array([], dtype=object)
    wave_of = np.repeat(np.array(labels, dtype=object), [len(ids) for ids, _ in respondents])
    keep = slice(None) if answered.all() else answered
    return _items_frame(values[keep], pseudonyms[keep], wave_of[keep], columns.codes, labels)


def _items_frame(
    values: np.ndarray, pseudonyms: np.ndarray, wave_of: np.ndarray, codes: list[str], labels: list[str]
) -> pd.DataFrame:
    """The answered responses' frame: pseudonym, wave, the item columns with an answer (codes sorted)."""
    if len(values) == 0:
        items = pd.DataFrame(columns=["pseudonym", "wave"])
    else:
        present = ~np.isnan(values).all(axis=0)
        order = sorted((code, position) for position, code in enumerate(codes) if present[position])
        values = values[:, [position for _, position in order]]
        if not np.isnan(values).any():
            values = values.astype(np.int64)
        items = pd.DataFrame(values, columns=pd.Index([code for code, _ in order]), copy=False)
        items.insert(0, "wave", pd.Series(wave_of, dtype="str"))
        items.insert(0, "pseudonym", pd.Series(pseudonyms, dtype="str"))
    items["wave"] = pd.Categorical(items["wave"], categories=labels, ordered=True)
    return items.sort_values(["wave", "pseudonym"]).reset_index(drop=True)


def _submitted_responses(session: Session, wave: Wave) -> tuple[np.ndarray, np.ndarray]:
    """The wave's submitted responses: their ids in ascending order and their participants' pseudonyms."""
    rows = session.exec(
        select(Response.id, Participant.pseudonym)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .where(Invitation.wave_id == wave.id, col(Response.submitted_at).is_not(None))
        .order_by(col(Response.id))
    ).all()
    ids = np.fromiter((response_id for response_id, _ in rows), dtype=np.int64, count=len(rows))
    pseudonyms = np.array([pseudonym for _, pseudonym in rows], dtype=object)
    return ids, pseudonyms


def _answer_chunks(session: Session, wave: Wave) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The numeric answers of the wave's submitted responses as (response ids, item ids, values) arrays,
    :data:`ANSWER_CHUNK` at a time (a server-side cursor on PostgreSQL)."""
    statement = (
        select(Answer.response_id, Answer.item_id, Answer.value_number)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .where(
            Invitation.wave_id == wave.id,
            col(Response.submitted_at).is_not(None),
            col(Answer.value_number).is_not(None),
        )
    )
    # Straight from the driver's cursor: a row object per answer would cost more than the answers themselves.
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))  # ids only
    driver: Any = connection.connection.dbapi_connection
    streaming = connection.dialect.name == "postgresql"
    cursor = driver.cursor(name=f"wave_{wave.id}_answers") if streaming else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(ANSWER_CHUNK):
            block = np.array(rows, dtype=np.int64).reshape(-1, 3)
            yield block[:, 0], block[:, 1], block[:, 2]
    finally:
        cursor.close()


class _ItemColumns:
    """Item ids to columns of the response-by-item array, one column per item code.

    Starts with the items of the waves' instruments; an answer to any other item (which the app does not
    store, but a database may hold) gets its code looked up and a column added.
    """

    def __init__(self, session: Session, instrument_ids: set[int]) -> None:
        self.session = session
        self.codes: list[str] = []
        self.column_of_code: dict[str, int] = {}
        self.lookup = np.full(1, -1, dtype=np.int64)
        self._add(session.exec(select(Item.id, Item.code).where(col(Item.instrument_id).in_(instrument_ids))).all())

    def _add(self, rows: Sequence[tuple[int | None, str]]) -> None:
        top = max((item_id or 0 for item_id, _ in rows), default=0)
        if top >= len(self.lookup):
            self.lookup = np.concatenate([self.lookup, np.full(top + 1 - len(self.lookup), -1, dtype=np.int64)])
        for item_id, code in rows:
            if code not in self.column_of_code:
                self.column_of_code[code] = len(self.codes)
                self.codes.append(code)
            self.lookup[item_id] = self.column_of_code[code]

    def positions(self, item_ids: np.ndarray) -> np.ndarray:
        """The column of each item id (-1 for an id that names no item)."""
        found = self._known(item_ids)
        if (found < 0).any():
            missing = [int(i) for i in np.unique(item_ids[found < 0])]
            self._add(self.session.exec(select(Item.id, Item.code).where(col(Item.id).in_(missing))).all())
            found = self._known(item_ids)
        return found

    def _known(self, item_ids: np.ndarray) -> np.ndarray:
        found = np.full(item_ids.shape, -1, dtype=np.int64)
        inside = item_ids < len(self.lookup)
        found[inside] = self.lookup[item_ids[inside]]
        return found


def job_groups(definition: dict) -> dict[int, str]:
    """The instrument's job-group options: answer value -> group (technical, non_technical, other)."""
    for section in definition.get("sections") or []:
        for item in section.get("items") or []:
            if item["code"] == JOB_GROUP_ITEM:
                return {o["value"]: o["group"] for o in item.get("options") or [] if o.get("group")}
    return {}


def _fieldwork(session: Session, waves: Sequence[Wave], items: pd.DataFrame) -> list[dict]:
    """Per wave: people invited, who completed, the response rate, and how many of the previous wave's
    completers completed this one too (retention; one minus attrition)."""
    rows = []
    previous: set[str] = set()
    for wave in waves:
        invited = session.exec(select(func.count()).select_from(Invitation).where(Invitation.wave_id == wave.id)).one()
        completed = set(items.loc[items["wave"] == wave.label, "pseudonym"])
        retained = len(completed & previous) if previous else None
        rows.append(
            {
                "wave": wave.label,
                "invited": invited,
                "completed": len(completed),
                "rate": len(completed) / invited if invited else None,
                "retained": retained,
                "retention": retained / len(previous) if previous and retained is not None else None,
            }
        )
        previous = completed
    return rows

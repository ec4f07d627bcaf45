"""Loading a cohort's submitted answers as the frames :mod:`analysis` works on (pseudonyms only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session, col, select

from analysis.scoring import ScaleDefinition, scales_from_instrument, score
from studyapp.core.models import Answer, Cohort, Instrument, Invitation, Item, Participant, Response, Wave

JOB_GROUP_ITEM = "work_job_group"


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
    rows = session.exec(
        select(Participant.pseudonym, Wave.label, Item.code, Answer.value_number)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .join(Item, col(Item.id) == Answer.item_id)
        .where(
            Wave.cohort_id == cohort.id,
            col(Response.submitted_at).is_not(None),
            col(Answer.value_number).is_not(None),
        )
    ).all()
    long = pd.DataFrame(rows, columns=["pseudonym", "wave", "item", "value"])
    labels = [w.label for w in waves]
    if long.empty:
        items = pd.DataFrame(columns=["pseudonym", "wave"])
    else:
        items = long.pivot_table(index=["pseudonym", "wave"], columns="item", values="value", aggfunc="first")
        items = items.reset_index()
        items.columns.name = None
    items["wave"] = pd.Categorical(items["wave"], categories=labels, ordered=True)
    items = items.sort_values(["wave", "pseudonym"]).reset_index(drop=True)
    scores = score(items, scales, id_columns=["pseudonym", "wave"])
    names = {f["code"]: f["name"].get("en") or next(iter(f["name"].values())) for f in definition["facets"]}
    kinds = {f["code"]: f["kind"] for f in definition["facets"]}
    return CohortData(
        labels, items, scores, scales, names, kinds, _fieldwork(session, waves, items), job_groups(definition)
    )


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
        invited = len(session.exec(select(Invitation.id).where(Invitation.wave_id == wave.id)).all())
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

"""What a briefing shows: a wave's participants with their profile, job type and scores, and the
suppressed aggregate tables for one organisation beside the whole sample."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from analysis.suppression import SuppressedTable, suppress_consistently, suppress_means, suppress_table
from studyapp.analyses.data import JOB_GROUP_ITEM, cohort_data
from studyapp.analyses.result import Transitions, UnreadableResult, load_result
from studyapp.core.latest_analysis import attrition_weights
from studyapp.core.models import AnalysisRun, Cohort, Organisation, Participant, Wave, key

SCALES = ("identification", "career_clarity", "career_commitment", "career_exploration")
JOB_TYPES = ("technical", "non_technical", "other")
FUTURE = {1: "inside", 2: "outside", 3: "unsure"}

log = logging.getLogger(__name__)

#: When a table is worth printing. Suppression can leave a table of dashes (an organisation of 12 spread over
#: six profiles) or of dashes and zeros: it is then replaced by one sentence. The rule: a table is printed only
#: when at least ``MIN_SHOWN_CELLS`` of its figures, and at least ``MIN_SHOWN_SHARE`` of them, can be shown,
#: and at least one of those is above zero (zeros stay visible, see :mod:`analysis.suppression`, but zeros
#: alone say nothing about the organisation). The briefing's method note states the same rule.
MIN_SHOWN_CELLS = 2
MIN_SHOWN_SHARE = 0.25

#: The sections of a briefing that can hold the organisation's own figures.
OWN_SECTIONS = ("profiles", "jobs", "movement", "means", "job_means", "future")


class NoAnalysis(LookupError):
    """No finished profile analysis covers this wave yet."""


@dataclass
class WavePeople:
    """Everyone who completed a wave: profile now and at the previous wave, job type, scores."""

    wave: str
    previous_wave: str | None
    profiles: list[str]
    people: pd.DataFrame  # index pseudonym; organisation_id, profile, profile_before, job_type, future, scales,
    # weight (the analysis' attrition weight at this wave; NaN without one)
    analysis_id: int


def covering_analysis(*, session: Session, wave: Wave) -> tuple[AnalysisRun, Transitions]:
    """The latest finished analysis of the wave's cohort that includes ``wave``, and its transition model.

    Raises :class:`NoAnalysis` when there is none.
    """
    cohort = session.get_one(Cohort, wave.cohort_id)
    runs = session.exec(
        select(AnalysisRun)
        .where(AnalysisRun.cohort_id == wave.cohort_id, AnalysisRun.status == "done")
        .order_by(col(AnalysisRun.id).desc())
    ).all()
    found = _latest_covering(runs, wave)
    if found is None:
        raise NoAnalysis(
            _("No finished profile analysis of %(cohort)s includes wave %(wave)s.", cohort=cohort.name, wave=wave.label)
        )
    return found


def wave_people(*, session: Session, wave: Wave) -> WavePeople:
    """The participants who completed ``wave``, from the latest finished analysis of its cohort.

    Raises :class:`NoAnalysis` when no finished analysis includes the wave.
    """
    run, transitions = covering_analysis(session=session, wave=wave)
    cohort = session.get_one(Cohort, wave.cohort_id)
    names = transitions.names
    waves = transitions.waves
    position = waves.index(wave.label)
    previous = waves[position - 1] if position > 0 else None
    assigned = pd.DataFrame(transitions.assignments, columns=["pseudonym", "wave", "profile"])
    now = assigned[assigned["wave"] == wave.label].set_index("pseudonym")["profile"]
    before = assigned[assigned["wave"] == previous].set_index("pseudonym")["profile"] if previous else None

    data = cohort_data(session=session, cohort=cohort)
    scores = data.scores[data.scores["wave"] == wave.label].set_index("pseudonym")
    items = data.items[data.items["wave"] == wave.label].set_index("pseudonym")
    people = pd.DataFrame(index=now.index)
    people["profile"] = now.map(lambda i: names[int(i)])
    people["profile_before"] = (
        before.reindex(people.index).map(lambda i: names[int(i)] if pd.notna(i) else None)
        if before is not None
        else None
    )
    groups = items.get(JOB_GROUP_ITEM, pd.Series(dtype=float)).reindex(people.index)
    people["job_type"] = groups.map(lambda v: data.job_groups.get(v) if pd.notna(v) else None)
    people["future"] = items.get("work_future_sector", pd.Series(dtype=float)).reindex(people.index).map(FUTURE)
    for scale in SCALES:
        people[scale] = scores[scale].reindex(people.index) if scale in scores else np.nan
    organisations = dict(
        session.exec(
            select(Participant.pseudonym, Participant.organisation_id).where(Participant.cohort_id == wave.cohort_id)
        ).all()
    )
    people["organisation_id"] = people.index.map(lambda p: organisations.get(p))
    weights = {pseudonym: weight for pseudonym, label, weight in attrition_weights(run.result) if label == wave.label}
    people["weight"] = people.index.map(lambda p: weights.get(p, np.nan)).astype(float)
    return WavePeople(wave.label, previous, names, people, key(run))


def _latest_covering(runs: Sequence[AnalysisRun], wave: Wave) -> tuple[AnalysisRun, Transitions] | None:
    """The first of ``runs`` whose transition model includes ``wave``; runs this version cannot read are
    skipped with the reason logged (a briefing never rests on a result it misreads)."""
    for run in runs:
        try:
            transitions = load_result(run).transitions
        except UnreadableResult as error:
            log.warning("Briefings of wave %s skip analysis %s: %s", wave.label, run.id, error)
            continue
        if transitions is not None and wave.label in transitions.waves:
            return run, transitions
    return None


@dataclass
class Figures:
    """Suppressed tables for one organisation (or, with ``organisation`` None, the sample alone)."""

    organisation: Organisation | None
    wave: str
    previous_wave: str | None
    min_cell: int
    n_organisation: int
    n_sample: int
    profiles: list[str]
    profile_counts: SuppressedTable | None = None  # rows: organisation, sample
    # the sample's profile shares weighted for dropout (from the second wave on), None where its count is hidden
    weighted_shares: list[float | None] | None = None
    job_profile: SuppressedTable | None = None  # rows: job types; the organisation
    movement: SuppressedTable | None = None  # rows: profile before, columns: profile now
    stayed_share: float | None = None
    means: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows: scales; organisation, sample
    job_means: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows: scales; job types
    future: SuppressedTable | None = None  # rows: organisation, sample
    sample: Figures | None = None  # the whole sample's figures, beside an organisation's

    @property
    def too_small(self) -> bool:
        """An organisation with fewer than ``min_cell`` people in the wave: none of its own figures is shown,
        not even its number of people."""
        return self.organisation is not None and self.n_organisation < self.min_cell

    @property
    def whole_sample(self) -> Figures:
        """The figures of the whole sample (this briefing's own when it is the sample-wide one)."""
        return self.sample if self.sample is not None else self

    def own_shown(self) -> dict[str, bool]:
        """Per section of :data:`OWN_SECTIONS`, whether the organisation's own table is printed: it exists
        and :func:`worth_printing`. All ``False`` for the sample-wide briefing and a too small organisation."""
        if self.organisation is None or self.too_small:
            return dict.fromkeys(OWN_SECTIONS, False)
        return {
            "profiles": _row_worth_printing(self.profile_counts, "organisation"),
            "jobs": self.job_profile is not None and worth_printing(self.job_profile.shown()),
            "movement": self.movement is not None and worth_printing(self.movement.shown()),
            "means": "organisation" in self.means.columns and worth_printing(self.means["organisation"]),
            "job_means": not self.job_means.empty and worth_printing(self.job_means),
            "future": _row_worth_printing(self.future, "organisation"),
        }

    @property
    def nothing_own(self) -> bool:
        """An organisation's briefing without a single table of its own (too small, or every table suppressed)."""
        return self.organisation is not None and not any(self.own_shown().values())


def worth_printing(shown: pd.DataFrame | pd.Series) -> bool:
    """Whether a table whose hidden figures are missing (NA) says anything: at least ``MIN_SHOWN_CELLS`` and
    ``MIN_SHOWN_SHARE`` of its figures can be shown, and one of them is above zero (see the constants)."""
    values = pd.DataFrame(shown).to_numpy(dtype=float, na_value=np.nan)
    visible = ~np.isnan(values)
    n_visible = int(visible.sum())
    return (
        n_visible >= MIN_SHOWN_CELLS
        and n_visible >= MIN_SHOWN_SHARE * values.size
        and bool((values[visible] != 0).any())
    )


def _row_worth_printing(table: SuppressedTable | None, row: str) -> bool:
    return table is not None and row in table.counts.index and worth_printing(table.shown().loc[[row]])


def rows_apart(rows: dict[str, pd.Series], *, min_cell: int) -> SuppressedTable:
    """Rows published side by side without column totals (the organisation beside the whole sample): each
    row is suppressed on its own with its total, so the sample's row is not hidden for the organisation's."""
    tables = {name: suppress_table(row, min_cell=min_cell) for name, row in rows.items()}
    counts = pd.DataFrame({name: row for name, row in rows.items()}).T.astype(int)
    mask = pd.DataFrame({name: t.mask.iloc[0] for name, t in tables.items()}).T.reindex(columns=counts.columns)
    return SuppressedTable(
        counts=counts,
        mask=mask.astype(bool),
        row_totals_hidden=pd.Series({name: bool(t.row_totals_hidden.iloc[0]) for name, t in tables.items()}),
        column_totals_hidden=pd.Series(True, index=counts.columns),
        grand_total_hidden=True,
    )


def _weighted_shares(people: pd.DataFrame, profiles: list[str], counts: SuppressedTable) -> list[float | None] | None:
    """Each profile's share of the sample weighted by the attrition weights (as if those who stopped
    answering had kept on, as far as the retention models see them); ``None`` for a profile whose count is
    hidden, and no shares at all when nobody has a weight."""
    if "weight" not in people:
        return None
    weighted = people.dropna(subset=["weight"])
    total = float(weighted["weight"].sum())
    if weighted.empty or total <= 0:
        return None
    sums = weighted.groupby("profile")["weight"].sum().reindex(profiles, fill_value=0.0)
    hidden = counts.mask.loc["sample"]
    return [None if bool(hidden[name]) else float(sums[name]) / total for name in profiles]


def _counts(frame: pd.DataFrame, column: str, labels: list[str]) -> pd.Series:
    return frame[column].value_counts().reindex(labels, fill_value=0).astype(int)


def figures(
    data: WavePeople, organisation: Organisation | None, *, min_cell: int, sample: Figures | None = None
) -> Figures:
    """The briefing's tables with every cell under ``min_cell`` people suppressed, complementarily.

    An organisation's figures carry the whole sample's in :attr:`Figures.sample` (``sample`` when given, so
    that many organisations' briefings share one computation), so that every section of its briefing has the
    sample's chart and tables whatever is suppressed of its own. An organisation with fewer than ``min_cell``
    people gets no figures of its own at all, not even its profile counts.
    """
    everyone = data.people
    own = everyone[everyone["organisation_id"] == organisation.id] if organisation is not None else everyone
    result = Figures(organisation, data.wave, data.previous_wave, min_cell, len(own), len(everyone), data.profiles)
    if organisation is not None:
        result.sample = sample if sample is not None else figures(data, None, min_cell=min_cell)
        if len(own) < min_cell:
            return result
    rows = {"sample": _counts(everyone, "profile", data.profiles)}
    if organisation is not None:
        rows = {"organisation": _counts(own, "profile", data.profiles), **rows}
    result.profile_counts = rows_apart(rows, min_cell=min_cell)
    if organisation is None and data.previous_wave is not None:
        result.weighted_shares = _weighted_shares(everyone, data.profiles, result.profile_counts)

    jobs = own.dropna(subset=["job_type"])
    table_now = pd.crosstab(jobs["job_type"], jobs["profile"]).reindex(
        index=list(JOB_TYPES), columns=data.profiles, fill_value=0
    )
    if data.previous_wave is not None and own["profile_before"].notna().any():
        before = own.dropna(subset=["job_type", "profile_before"])
        table_before = pd.crosstab(before["job_type"], before["profile_before"]).reindex(
            index=list(JOB_TYPES), columns=data.profiles, fill_value=0
        )
        # the same cells are hidden as they would be in the previous wave's briefing
        result.job_profile = suppress_consistently([table_before, table_now], min_cell=min_cell)[1]
        both = own.dropna(subset=["profile_before"])
        movement = pd.crosstab(both["profile_before"], both["profile"]).reindex(
            index=data.profiles, columns=data.profiles, fill_value=0
        )
        result.movement = suppress_table(movement, min_cell=min_cell)
        kept = int((both["profile_before"] == both["profile"]).sum())
        # the share would give away how many kept and how many changed profile: both groups must be
        # empty or reach min_cell, as any published count
        if len(both) >= min_cell and all(n == 0 or n >= min_cell for n in (kept, len(both) - kept)):
            result.stayed_share = kept / len(both)
    else:
        result.job_profile = suppress_table(table_now, min_cell=min_cell)

    means = {}
    for label, group in (
        (("organisation", own), ("sample", everyone)) if organisation is not None else (("sample", everyone),)
    ):
        values = group[list(SCALES)].mean()
        ns = group[list(SCALES)].notna().sum()
        means[label] = suppress_means(values, ns, min_cell=min_cell)
    result.means = pd.DataFrame(means)
    job_means = {}
    for job in JOB_TYPES:
        group = own[own["job_type"] == job]
        job_means[job] = suppress_means(
            group[list(SCALES)].mean(), group[list(SCALES)].notna().sum(), min_cell=min_cell
        )
    result.job_means = pd.DataFrame(job_means)

    future_rows = {"sample": _counts(everyone.dropna(subset=["future"]), "future", list(FUTURE.values()))}
    if organisation is not None:
        future_rows = {
            "organisation": _counts(own.dropna(subset=["future"]), "future", list(FUTURE.values())),
            **future_rows,
        }
    result.future = rows_apart(future_rows, min_cell=min_cell)
    return result

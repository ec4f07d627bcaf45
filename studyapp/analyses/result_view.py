"""A stored analysis result prepared for the result page: tables as rows, charts as SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask_babel import get_locale, gettext
from markupsafe import Markup

from analysis.attrition import MISSING
from analysis.charts import fit_plot, profile_plot, transition_diagram
from studyapp.analyses.result import (
    AnalysisResult,
    DistalEstimate,
    DistalFit,
    DistalOutcome,
    FitRow,
    RetentionRow,
    RetentionTable,
    Transitions,
)
from studyapp.extensions import N_
from waves.representativeness import EARLIER_NAMES

# the charts' fixed words (analysis.charts writes them in English unless given them); {fields} stay as they are
_CHART_WORDS = (
    N_("Filled marker: minimum"),
    N_("Number of profiles (K)"),
    N_("Information criterion (lower is better)"),
    N_("recommended"),
    N_("Recommended: K = {k}"),
    N_("{name} at K = {k}: {value}"),
    N_(" (minimum)"),
    N_("Lines show each information criterion by number of profiles."),
    N_("Lines show each profile's mean on each indicator."),
    N_("{name} at {wave}: {count} ({share})"),
    N_("Bars show how many people are in each profile at each wave; bands show how many move between profiles."),
)


def _chart_words() -> dict[str, str]:
    """The charts' fixed words in the reader's language."""
    return {english: gettext(english) for english in _CHART_WORDS}


@dataclass
class PairView:
    """One pair of consecutive waves."""

    label: str
    rows: list[dict[str, Any]]
    stability_model: float
    stability_naive: float | None
    stability_three_step: float | None


@dataclass
class WeightedPairView:
    """One pair of consecutive waves of the attrition-weighted model, beside the same people unweighted."""

    label: str
    rows: list[dict[str, Any]]
    stability_weighted: float | None
    stability_unweighted: float | None


@dataclass(frozen=True)
class FitLine:
    """A row of the fit table, marked when it is the recommended model."""

    row: FitRow
    recommended: bool


@dataclass(frozen=True)
class DistalRow:
    """A profile's figures for one outcome, one cell per estimator (None when that estimator has none)."""

    profile: str
    n_modal: int | None
    cells: list[DistalEstimate | None]


@dataclass
class DistalView:
    """An outcome by profile: the primary corrected estimator first, then ML and the naive figures."""

    outcome: DistalOutcome
    methods: list[str]
    rows: list[DistalRow]
    fits: list[DistalFit]
    primary: DistalFit | None
    percent: bool  # a binary outcome's proportions are shown as percentages


@dataclass
class ResultView:
    """What the result page shows."""

    result: AnalysisResult
    fit_rows: list[FitLine] = field(default_factory=list)
    fit_chart: Markup | None = None
    profile_chart: Markup | None = None
    flow_chart: Markup | None = None
    profiles: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[PairView] = field(default_factory=list)
    weighted_pairs: list[WeightedPairView] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    distal: list[DistalView] = field(default_factory=list)
    distal_primary: str = ""
    #: each facet's and scale's name in the reader's language
    scale_names: dict[str, str] = field(default_factory=dict)

    def predictor_name(self, predictor: str) -> str:
        """A retention model's predictor as readers see it: the profile, an earlier answer by what it asked,
        a frame variable by the enrolment list's column name."""
        return gettext(EARLIER_NAMES[predictor]) if predictor in EARLIER_NAMES else predictor

    def level_name(self, predictor: str, level: str) -> str:
        """A predictor's level as readers see it: an answer's option text, "no answer", or as given."""
        if level == MISSING:
            return gettext("no answer")
        labels = self.result.attrition.labels if self.result.attrition is not None else {}
        texts = labels.get(predictor, {}).get(level)
        if not texts:
            return level
        return texts.get(str(get_locale() or "en")) or texts.get("en") or level

    def term(self, row: RetentionRow) -> str:
        """A retention model's term: "Intercept", "occupation: I am studying", a numeric predictor's name."""
        if row.predictor is None:
            return gettext("Intercept") if row.term == "Intercept" else row.term
        name = self.predictor_name(row.predictor)
        return name if row.level is None else f"{name}: {self.level_name(row.predictor, row.level)}"

    def references(self, table: RetentionTable) -> str:
        """The reference levels of a retention model's categorical predictors, as one line."""
        return "; ".join(
            f"{self.predictor_name(predictor)}: {self.level_name(predictor, level)}"
            for predictor, level in table.references.items()
        )

    def separated(self, table: RetentionTable) -> list[str]:
        """The levels taken out of a retention model (everyone or no one came back), as readers see them."""
        if not table.separated_levels:
            return list(table.separated)
        return [
            f"{self.predictor_name(s.predictor)}: {self.level_name(s.predictor, s.level)} ({s.n}, {s.rate:.0%})"
            for s in table.separated_levels
        ]


def _mean_diagonal(matrix: Sequence[Sequence[float | None]] | None) -> float | None:
    """Mean probability of staying; None without a matrix or with an empty (undefined) row."""
    if not matrix:
        return None
    diagonal = [matrix[i][i] for i in range(len(matrix))]
    if any(p is None for p in diagonal):
        return None
    return sum(p for p in diagonal if p is not None) / len(matrix)


def _distal_view(outcome: DistalOutcome, primary: str) -> DistalView:
    methods = [m for m in (primary, "ML", "BCH", "naive") if m in outcome.fits]
    methods = list(dict.fromkeys(methods))
    fits = [outcome.fits[m] for m in methods]
    profiles = [e.profile for e in fits[0].estimates] if fits else []
    rows = []
    for i, profile in enumerate(profiles):
        cells = [fit.estimates[i] if i < len(fit.estimates) else None for fit in fits]
        n_modal = next((c.n_modal for c in cells if c is not None and c.n_modal is not None), None)
        rows.append(DistalRow(profile, n_modal, cells))
    return DistalView(outcome, methods, rows, fits, outcome.fits.get(primary), outcome.kind == "binary")


def scale_names(result: AnalysisResult) -> dict[str, str]:
    """Each facet's and scale's name in the reader's language (the indicators' English names where the
    result kept no other)."""
    language = str(get_locale() or "en")
    names = dict(result.indicator_names)
    for code, texts in result.scale_names.items():
        names[code] = texts.get(language) or texts.get("en") or names.get(code, code)
    return names


def result_view(result: AnalysisResult) -> ResultView:
    """Tables and charts of a finished analysis."""
    view = ResultView(result, scale_names=scale_names(result))
    if result.distal is not None:
        view.distal_primary = result.distal.primary
        view.distal = [_distal_view(outcome, result.distal.primary) for outcome in result.distal.outcomes]
    recommended = result.recommended
    for row in result.fit:
        chosen = (
            recommended is not None
            and row.parameterisation == recommended.parameterisation
            and row.n_profiles == recommended.k
        )
        view.fit_rows.append(FitLine(row, chosen))
    if view.fit_rows and recommended is not None:
        chosen_model = [line.row for line in view.fit_rows if line.row.parameterisation == recommended.parameterisation]
        fit = pd.DataFrame([row.model_dump() for row in chosen_model])
        fit = fit.rename(columns={"n_profiles": "k"})
        view.fit_chart = Markup(
            fit_plot(
                fit.astype({c: float for c in ("bic", "sabic", "aic", "icl") if c in fit}),
                criteria=("bic", "sabic", "aic", "icl"),
                recommended=recommended.k,
                title=gettext(
                    "Information criteria by number of profiles (%(model)s)", model=recommended.parameterisation
                ),
                words=_chart_words(),
            )
        )
    transitions = result.transitions
    if transitions is None:
        return view
    names = transitions.names
    view.names = names
    means = pd.DataFrame(transitions.standardised_means, index=names, columns=result.indicators, dtype=float)
    view.profile_chart = Markup(
        profile_plot(
            means,
            labels=view.scale_names,
            title=gettext("Profile means (standardised)"),
            value_label=gettext("Standardised mean (SD units)"),
            words=_chart_words(),
        )
    )
    for i, name in enumerate(names):
        view.profiles.append(
            {
                "name": name,
                "similarity": transitions.similarity[i],
                "second_best": transitions.second_best[i],
                "shares": [shares[i] for shares in transitions.shares],
            }
        )
    waves = transitions.waves
    counts = [pd.DataFrame(c, index=names, columns=names) for c in transitions.expected_counts]
    if counts:
        view.flow_chart = Markup(
            transition_diagram(
                counts,
                wave_labels=waves,
                title=gettext("Estimated movement between profiles"),
                words=_chart_words(),
            )
        )
    for t, matrix in enumerate(transitions.model):
        rows = []
        for i, origin in enumerate(names):
            cells = []
            for j in range(len(names)):
                cell: dict[str, float | None] = {"p": matrix[i][j], "low": None, "high": None}
                if transitions.ci_low and transitions.ci_high:
                    cell["low"] = transitions.ci_low[t][i][j]
                    cell["high"] = transitions.ci_high[t][i][j]
                if transitions.naive:
                    cell["naive"] = transitions.naive[t][i][j]
                if transitions.three_step:
                    cell["three_step"] = transitions.three_step[t][i][j]
                cells.append(cell)
            rows.append({"origin": origin, "cells": cells})
        view.pairs.append(
            PairView(
                label=f"{waves[t]} → {waves[t + 1]}",
                rows=rows,
                stability_model=_mean_diagonal(matrix) or 0.0,
                stability_naive=_mean_diagonal(transitions.naive[t] if transitions.naive else None),
                stability_three_step=_mean_diagonal(transitions.three_step[t] if transitions.three_step else None),
            )
        )
    view.weighted_pairs = _weighted_pairs(transitions)
    return view


def _weighted_pairs(transitions: Transitions) -> list[WeightedPairView]:
    """The attrition-weighted transition matrices with their intervals, beside the unweighted ones."""
    weighted = transitions.weighted
    if weighted is None:
        return []
    names, waves = transitions.names, transitions.waves
    pairs = []
    for t, matrix in enumerate(weighted.model):
        rows = []
        for i, origin in enumerate(names):
            cells = []
            for j in range(len(names)):
                cells.append(
                    {
                        "p": matrix[i][j],
                        "low": weighted.ci_low[t][i][j] if weighted.ci_low else None,
                        "high": weighted.ci_high[t][i][j] if weighted.ci_high else None,
                        "unweighted": weighted.unweighted[t][i][j],
                    }
                )
            rows.append({"origin": origin, "cells": cells})
        pairs.append(
            WeightedPairView(
                label=f"{waves[t]} → {waves[t + 1]}",
                rows=rows,
                stability_weighted=_mean_diagonal(matrix),
                stability_unweighted=_mean_diagonal(weighted.unweighted[t]),
            )
        )
    return pairs

"""A stored analysis result prepared for the result page: tables as rows, charts as SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask_babel import gettext
from markupsafe import Markup

from analysis.charts import fit_plot, profile_plot, transition_diagram
from studyapp.analyses.result import AnalysisResult, DistalEstimate, DistalFit, DistalOutcome, FitRow
from studyapp.extensions import N_

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
    names: list[str] = field(default_factory=list)
    distal: list[DistalView] = field(default_factory=list)
    distal_primary: str = ""


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


def result_view(result: AnalysisResult) -> ResultView:
    """Tables and charts of a finished analysis."""
    view = ResultView(result)
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
            labels=result.indicator_names,
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
    return view

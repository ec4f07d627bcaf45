"""A stored analysis result prepared for the result page: tables as rows, charts as SVG."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from analysis.charts import fit_plot, profile_plot, transition_diagram


@dataclass
class PairView:
    """One pair of consecutive waves."""

    label: str
    rows: list[dict[str, Any]]
    stability_model: float
    stability_naive: float | None
    stability_three_step: float | None


@dataclass
class ResultView:
    """What the result page shows."""

    result: dict[str, Any]
    fit_rows: list[dict[str, Any]] = field(default_factory=list)
    fit_chart: Markup | None = None
    profile_chart: Markup | None = None
    flow_chart: Markup | None = None
    profiles: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[PairView] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _mean_diagonal(matrix: list[list[float]] | None) -> float | None:
    if not matrix:
        return None
    return sum(matrix[i][i] for i in range(len(matrix))) / len(matrix)


def result_view(result: dict[str, Any]) -> ResultView:
    """Tables and charts of a finished analysis."""
    view = ResultView(result)
    recommended = result.get("recommended") or {}
    for row in result.get("fit") or []:
        view.fit_rows.append(
            row
            | {
                "recommended": row["parameterisation"] == recommended.get("parameterisation")
                and row["n_profiles"] == recommended.get("k")
            }
        )
    if view.fit_rows and recommended:
        fit = pd.DataFrame([r for r in view.fit_rows if r["parameterisation"] == recommended["parameterisation"]])
        fit = fit.rename(columns={"n_profiles": "k"})
        view.fit_chart = Markup(
            fit_plot(
                fit.astype({c: float for c in ("bic", "sabic", "aic", "icl") if c in fit}),
                criteria=("bic", "sabic", "aic", "icl"),
                recommended=recommended["k"],
                title=f"Information criteria by number of profiles ({recommended['parameterisation']})",
            )
        )
    transitions = result.get("transitions")
    if not transitions:
        return view
    names = transitions["names"]
    view.names = names
    indicators = result["indicators"]
    means = pd.DataFrame(transitions["standardised_means"], index=names, columns=indicators)
    view.profile_chart = Markup(
        profile_plot(means, labels=result.get("indicator_names"), title="Profile means (standardised)")
    )
    for i, name in enumerate(names):
        view.profiles.append(
            {
                "name": name,
                "similarity": transitions["similarity"][i],
                "second_best": transitions["second_best"][i],
                "shares": [shares[i] for shares in transitions["shares"]],
            }
        )
    waves = transitions["waves"]
    counts = [pd.DataFrame(c, index=names, columns=names) for c in transitions.get("expected_counts") or []]
    if counts:
        view.flow_chart = Markup(
            transition_diagram(counts, wave_labels=waves, title="Estimated movement between profiles")
        )
    for t, matrix in enumerate(transitions["model"]):
        rows = []
        for i, origin in enumerate(names):
            cells = []
            for j in range(len(names)):
                cell = {"p": matrix[i][j], "low": None, "high": None}
                if transitions.get("ci_low"):
                    cell["low"] = transitions["ci_low"][t][i][j]
                    cell["high"] = transitions["ci_high"][t][i][j]
                if transitions.get("naive"):
                    cell["naive"] = transitions["naive"][t][i][j]
                if transitions.get("three_step"):
                    cell["three_step"] = transitions["three_step"][t][i][j]
                cells.append(cell)
            rows.append({"origin": origin, "cells": cells})
        view.pairs.append(
            PairView(
                label=f"{waves[t]} → {waves[t + 1]}",
                rows=rows,
                stability_model=_mean_diagonal(matrix) or 0.0,
                stability_naive=_mean_diagonal((transitions.get("naive") or [None] * (t + 1))[t]),
                stability_three_step=_mean_diagonal((transitions.get("three_step") or [None] * (t + 1))[t]),
            )
        )
    return view

"""The representativeness panel of the fieldwork page: what the scheduler last computed for each wave,
with the categories that may be shown, in the reader's language, and its two charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from babel.dates import format_date
from flask_babel import get_locale, gettext

from analysis.charts.representativeness import partial_indicator_plot, r_indicator_plot
from studyapp.core.models import RepresentativenessFigures
from waves.i18n import N_
from waves.representativeness import ShownFigures, shown_figures

# the charts' fixed words (analysis.charts writes them in English unless given them)
_CHART_WORDS = (
    N_("R-indicator"),
    N_("95% interval"),
    N_("R-indicator over time"),
    N_("Partial R-indicators by category"),
    N_("lags behind"),
    N_(
        "Bars show each category's partial R-indicator with its 95% interval; below zero the category "
        "responds less than average."
    ),
)


@dataclass(frozen=True)
class RepresentativenessPanel:
    """One wave's panel: the latest figures as they may be shown, and the charts."""

    latest: RepresentativenessFigures
    shown: ShownFigures
    over_time: list[dict[str, Any]]
    r_chart: str
    partial_chart: str

    @property
    def figures(self) -> dict[str, Any]:
        """The latest figures (R, CV, response rate, variables, method)."""
        return self.shown.figures


def representativeness_panel(
    rows: list[RepresentativenessFigures], *, min_cell_size: int
) -> RepresentativenessPanel | None:
    """The panel for one wave's kept figures (day by day, the last the latest), or ``None`` without any."""
    if not rows:
        return None
    language = str(get_locale() or "en")
    words = {english: gettext(english) for english in _CHART_WORDS}
    latest = rows[-1]
    shown = shown_figures(latest.figures, min_cell_size=min_cell_size, language=language)
    over_time = [
        {
            "day": format_date(row.day, "d MMM", locale=language),
            "r": row.r_indicator,
            "lower": row.r_lower,
            "upper": row.r_upper,
            "respondents": row.respondents,
            "invited": row.invited,
        }
        for row in rows
    ]
    bars = pd.DataFrame(
        {
            "label": [c["label"] for c in shown.categories],
            "value": [c["unconditional"] for c in shown.categories],
            "lower": [c["unconditional_ci"][0] for c in shown.categories],
            "upper": [c["unconditional_ci"][1] for c in shown.categories],
            "lagging": [bool(c["lagging"]) for c in shown.categories],
        }
    )
    return RepresentativenessPanel(
        latest=latest,
        shown=shown,
        over_time=over_time,
        r_chart=r_indicator_plot(pd.DataFrame(over_time), words=words),
        partial_chart=partial_indicator_plot(bars, words=words) if len(bars) else "",
    )


__all__ = ["RepresentativenessPanel", "representativeness_panel"]

"""The category plot: each profile's category probabilities on each categorical indicator, as stacked bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.charts.svg import (
    AXIS_COLOUR,
    GRID_COLOUR,
    TITLE_SIZE,
    _colour,
    _element,
    _line,
    _num,
    _percent,
    _svg,
    _text,
    _text_width,
    _tooltip,
    _truncate,
)

_LIGHT = {"#E69F00", "#56B4E9", "#F0E442", "#CC79A7"}  # palette colours that take dark text


def category_plot(
    probabilities: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "",
) -> str:
    """Category plot: for every categorical indicator, one bar per profile split into its category probabilities.

    Parameters
    ----------
    probabilities
        Long form with columns ``profile``, ``variable`` (or ``indicator``), ``category`` and ``probability``:
        :meth:`analysis.lpa.LatentProfileModel.get_probabilities_df`, or
        :meth:`analysis.lta.LatentTransitionModel.probabilities_frame` of an invariant model (of one wave:
        filter a wave-specific model's frame first).
    labels
        Display names of the indicators, keyed by column name; unmapped indicators show their name.
    title
        Heading drawn above the plot, also the chart's accessible name.

    Returns
    -------
    str
        A self-contained SVG. Each indicator is a group (``<g data-indicator=...>``) with a heading, one bar
        per profile (its label on the left) and a legend of its categories on the right; each segment is a
        ``<rect>`` with ``data-profile``, ``data-category`` and ``data-probability`` and a tooltip, labelled
        with its percentage when wide enough. The x axis runs from 0% to 100%.

    Raises
    ------
    ValueError
        If the frame is empty, lacks a column, holds more than one wave or non-numeric probabilities.
    """
    item_column = "variable" if "variable" in probabilities.columns else "indicator"
    needed = ["profile", item_column, "category", "probability"]
    missing = [c for c in needed if c not in probabilities.columns]
    if missing or probabilities.empty:
        raise ValueError(f"probabilities needs rows and the columns {needed}")
    if "wave" in probabilities.columns and probabilities["wave"].nunique(dropna=True) > 1:
        raise ValueError("probabilities holds more than one wave: plot one wave at a time")
    try:
        values = probabilities["probability"].to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError("probabilities must contain numbers only") from error
    frame = probabilities.assign(probability=np.clip(np.nan_to_num(values), 0.0, 1.0))
    items = [str(i) for i in pd.unique(frame[item_column])]
    profiles = [str(p) for p in pd.unique(frame["profile"])]
    shown_profiles = [_truncate(p, 24) for p in profiles]

    bar_w, bar_h, gap = 360.0, 16.0, 4.0
    left = max(70.0, max(_text_width(p) for p in shown_profiles) + 16)
    top = 48.0 if title else 20.0
    legend_x = left + bar_w + 20
    widest_category = max(_text_width(_truncate(str(c), 28)) for c in frame["category"])
    width = legend_x + 22 + widest_category + 16

    body: list[str] = []
    if title:
        body.append(_text(left, 24, title, size=TITLE_SIZE, weight="bold"))
    y = top
    for item in items:
        rows = frame[frame[item_column].astype(str) == item]
        categories = [str(c) for c in pd.unique(rows["category"])]
        name = str(labels.get(item, item)) if labels else item
        group = [_text(left, y + 12, _truncate(name, 60), weight="bold", tooltip=name if len(name) > 60 else None)]
        y += 20
        bars_top = y
        for profile, shown in zip(profiles, shown_profiles, strict=True):
            of_profile = rows[rows["profile"].astype(str) == profile]
            group.append(_text(left - 8, y + bar_h - 4, shown, anchor="end", data_role="profile"))
            x = left
            for c, category in enumerate(categories):
                share = float(of_profile.loc[of_profile["category"].astype(str) == category, "probability"].sum())
                w = share * bar_w
                colour = _colour(c)
                tip = f"{name}, {profile}: {category} {_percent(share, 1.0)}"
                rect = _element(
                    "rect",
                    _tooltip(tip),
                    x=_num(x),
                    y=_num(y),
                    width=_num(w),
                    height=_num(bar_h),
                    fill=colour,
                    data_profile=profile,
                    data_category=category,
                    data_probability=f"{share:.4f}",
                )
                group.append(rect)
                label = _percent(share, 1.0)
                if w >= _text_width(label) + 6:
                    ink = "#1a1a1a" if colour in _LIGHT else "#ffffff"
                    group.append(_text(x + w / 2, y + bar_h - 4, label, anchor="middle", fill=ink))
                x += w
            y += bar_h + gap
        legend_y = bars_top + 6
        for c, category in enumerate(categories):
            shown = _truncate(category, 28)
            group.append(_element("rect", x=_num(legend_x), y=_num(legend_y - 8), width=12, height=12, fill=_colour(c)))
            group.append(_text(legend_x + 18, legend_y + 2, shown, tooltip=category if shown != category else None))
            legend_y += 16
        y = max(y, legend_y) + 10
        body.append(_element("g", "".join(group), data_indicator=item))
    # the axis: 0% to 100% under the last group, gridlines through all of them
    axis = ['<g data-role="axes">']
    for tick in range(0, 101, 25):
        x = left + bar_w * tick / 100
        axis.append(_line(x, top + 20, x, y, stroke=GRID_COLOUR, data_role="grid", data_value=tick))
        axis.append(_text(x, y + 14, f"{tick}%", anchor="middle", data_role="x-tick"))
    axis.append(_line(left, y, left + bar_w, y, stroke=AXIS_COLOUR))
    axis.append("</g>")
    height = y + 24
    label = title or "Category probabilities by profile"
    return _svg(width, height, label, axis + body)

"""The profile plot: each profile's mean on each indicator."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.charts.svg import (
    AXIS_COLOUR,
    GRID_COLOUR,
    TITLE_SIZE,
    _colour,
    _element,
    _esc,
    _legend,
    _legend_width,
    _line,
    _marker,
    _num,
    _numeric_values,
    _polyline_path,
    _shape,
    _svg,
    _text,
    _text_width,
    _tick_label,
    _truncate,
    _whole_step,
    _worded,
)


def profile_plot(
    means: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "",
    value_label: str = "Standardised mean (SD units)",
    words: Mapping[str, str] | None = None,
) -> str:
    """Profile plot: the mean of every profile on every indicator, one line per profile.

    Parameters
    ----------
    means
        One row per profile (the index gives the names, e.g. ``'Nerd'`` or ``'Profile 1'``), one column per
        indicator (e.g. facet codes). Missing values (NaN) leave a gap in the profile's line.
    labels
        Display names of the indicators, keyed by column name; unmapped columns show their name.
    title
        Heading drawn above the plot, also the chart's accessible name.
    words : mapping of str to str, optional
        The chart's fixed words (axis titles, legend heading, tooltips, description) in another language,
        keyed by their English; ``{name}``-style fields in a key are filled in. Missing ones stay English.
    value_label
        Label of the y axis.

    Returns
    -------
    str
        A self-contained SVG. The y axis is symmetric around zero, covers the data and at least ±1.5; gridlines
        lie at whole numbers and the zero line is dashed. Indicator labels are rotated -45° under the x axis,
        the legend lists the profiles. Each profile is a ``<g data-profile=...>`` holding a ``<path>`` (its
        points in ``M``/``L`` commands) and one marker with a tooltip per non-missing mean.

    Raises
    ------
    ValueError
        If ``means`` has no rows or no columns or non-numeric cells.
    """
    if means.shape[0] == 0 or means.shape[1] == 0:
        raise ValueError("means needs at least one profile (row) and one indicator (column)")
    values = _numeric_values(means, "means")
    profiles = [str(name) for name in means.index]
    codes = [str(code) for code in means.columns]
    names = [str(labels.get(code, code)) if labels else code for code in codes]
    shown_names = [_truncate(name, 28) for name in names]

    finite = values[np.isfinite(values)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    limit = max(1.5, math.ceil(largest * 2 - 1e-9) / 2)
    step = _whole_step(limit)

    legend_w = _legend_width(profiles)
    label_drop = max(_text_width(name) for name in shown_names) * 0.7071 + 20
    plot_w = max(420.0, 26.0 * len(codes))  # 30 facets stay readable at a page width of ~900 px
    # the first rotated label reaches left of the plot: leave room for it
    left = max(70.0, _text_width(shown_names[0]) * 0.7071 - plot_w / len(codes) / 2 + 12)
    top = 48.0 if title else 20.0
    plot_h = 320.0
    width = left + plot_w + 24 + legend_w
    height = top + plot_h + label_drop + 12

    def x_of(column: int) -> float:
        return left + (column + 0.5) * plot_w / len(codes)

    def y_of(value: float) -> float:
        return top + (limit - value) / (2 * limit) * plot_h

    body: list[str] = []
    if title:
        body.append(_text(left, 24, title, size=TITLE_SIZE, weight="bold"))
    body.append('<g data-role="axes">')
    for column in range(len(codes)):
        body.append(_line(x_of(column), top, x_of(column), top + plot_h, stroke="#eeeeee", data_role="guide"))
    for tick in range(-math.floor(limit / step) * step, math.floor(limit / step) * step + 1, step):
        y = y_of(tick)
        if tick != 0:
            body.append(_line(left, y, left + plot_w, y, stroke=GRID_COLOUR, data_role="grid", data_value=tick))
        body.append(_line(left - 4, y, left, y, stroke=AXIS_COLOUR))
        body.append(_text(left - 7, y + 4, _tick_label(tick, 1), anchor="end", data_role="y-tick"))
    body.append(
        _line(left, y_of(0), left + plot_w, y_of(0), stroke=AXIS_COLOUR, stroke_dasharray="5 3", data_role="zero-line")
    )
    body.append(_line(left, top, left, top + plot_h, stroke=AXIS_COLOUR))
    body.append(_line(left, top + plot_h, left + plot_w, top + plot_h, stroke=AXIS_COLOUR))
    centre = top + plot_h / 2
    body.append(_text(18, centre, value_label, anchor="middle", transform=f"rotate(-90 18 {_num(centre)})"))
    for column, (code, name, shown) in enumerate(zip(codes, names, shown_names, strict=True)):
        x, y = x_of(column), top + plot_h + 12
        body.append(_line(x, top + plot_h, x, top + plot_h + 4, stroke=AXIS_COLOUR))
        body.append(
            _text(
                x,
                y,
                shown,
                anchor="end",
                transform=f"rotate(-45 {_num(x)} {_num(y)})",
                tooltip=name if shown != name else None,
                data_role="indicator",
                data_indicator=code,
            )
        )
    body.append("</g>")

    for row, profile in enumerate(profiles):
        colour, shape = _colour(row), _shape(row)
        points = [
            None if math.isnan(value) else (x_of(column), y_of(value)) for column, value in enumerate(values[row])
        ]
        body.append(f'<g data-profile="{_esc(profile)}">')
        body.append(_element("path", d=_polyline_path(points), fill="none", stroke=colour, stroke_width=2.0))
        for column, point in enumerate(points):
            if point is not None:
                tip = f"{profile} – {names[column]}: {values[row, column]:.2f}"
                body.append(_marker(shape, point[0], point[1], 3.5, colour, tooltip=tip, data_indicator=codes[column]))
        body.append("</g>")

    legend = [(profile, _colour(row), _shape(row)) for row, profile in enumerate(profiles)]
    body.extend(_legend(legend, left + plot_w + 24, top + 6))
    label = title or f"Profile plot: means of {len(profiles)} profiles on {len(codes)} indicators"
    return _svg(width, height, label, body, desc=_worded(words)("Lines show each profile's mean on each indicator."))

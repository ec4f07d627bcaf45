"""The fit plot: information criteria and entropy over the number of profiles."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.charts.svg import (
    AXIS_COLOUR,
    CRITERION_NAMES,
    GRID_COLOUR,
    TITLE_SIZE,
    _colour,
    _element,
    _esc,
    _legend,
    _legend_width,
    _line,
    _marker,
    _nice_ticks,
    _num,
    _numeric_values,
    _polyline_path,
    _shape,
    _svg,
    _text,
    _text_width,
    _tick_label,
    _worded,
)


def _fit_table(fit: pd.DataFrame, criteria: Sequence[str], k_column: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """K values (ascending integers), the present criteria and their values (rows follow K)."""
    if k_column in fit.columns:
        raw_k = fit[k_column].to_numpy()
    elif fit.index.name == k_column:
        raw_k = fit.index.to_numpy()
    else:
        raise ValueError(f"fit has no column {k_column!r} with the number of profiles")
    present = [criterion for criterion in criteria if criterion in fit.columns]
    if not present:
        raise ValueError(f"fit has none of the criteria {list(criteria)}; its columns are {list(fit.columns)}")
    try:
        ks = np.asarray(raw_k, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{k_column!r} must hold whole numbers of profiles") from error
    if not np.isfinite(ks).all() or (ks != np.round(ks)).any():
        raise ValueError(f"{k_column!r} must hold whole numbers of profiles")
    if len(set(ks.tolist())) != len(ks):
        raise ValueError(f"{k_column!r} has duplicate values")
    values = _numeric_values(fit[present], "fit")
    if not np.isfinite(values).any():
        raise ValueError(f"fit has no finite values in {present}")
    order = np.argsort(ks, kind="stable")
    return ks[order].astype(int), present, values[order]


def fit_plot(
    fit: pd.DataFrame,
    *,
    criteria: Sequence[str] = ("bic", "sabic", "aic"),
    k_column: str = "k",
    recommended: int | None = None,
    title: str = "",
    words: Mapping[str, str] | None = None,
) -> str:
    """Information criteria against the number of profiles K, one line per criterion.

    Parameters
    ----------
    fit
        One row per fitted model; column ``k_column`` (or the index, if so named) gives K, the other columns
        the criteria.
    criteria
        Criteria to draw, in legend order; those missing from ``fit`` are skipped. Display names: bic 'BIC',
        sabic 'SABIC', aic 'AIC', icl 'ICL' (others upper-cased).
    k_column
        Name of the column holding K.
    recommended
        K to highlight with a dashed vertical line labelled 'recommended'.
    title
        Heading drawn above the plot, also the chart's accessible name.
    words : mapping of str to str, optional
        The chart's fixed words (axis titles, legend heading, tooltips, description) in another language,
        keyed by their English; ``{name}``-style fields in a key are filled in. Missing ones stay English.

    Returns
    -------
    str
        A self-contained SVG: integer K ticks on the x axis, nicely rounded ticks spanning the data on the y
        axis, a legend, and each criterion as a ``<g data-criterion=...>`` with a ``<path>`` and hollow markers;
        the minimum of each criterion is a larger filled marker with ``data-role="minimum"`` and ``data-k``.

    Raises
    ------
    ValueError
        If the K column is missing, not whole numbers or duplicated, or if no criterion is present with data.
    """
    ks, present, values = _fit_table(fit, criteria, k_column)
    display = [CRITERION_NAMES.get(c.lower(), c.upper()) for c in present]
    k_low, k_high = int(ks.min()), int(ks.max())
    if recommended is not None:
        k_low, k_high = min(k_low, int(recommended)), max(k_high, int(recommended))

    finite = values[np.isfinite(values)]
    ticks = _nice_ticks(float(finite.min()), float(finite.max()))
    y_step = ticks[1] - ticks[0]
    tick_labels = [_tick_label(tick, y_step) for tick in ticks]

    w = _worded(words)
    legend_heading = w("Filled marker: minimum")
    legend_w = _legend_width(display, legend_heading)
    left = max(_text_width(text) for text in tick_labels) + 44
    top = 52.0 if title else 30.0
    plot_w, plot_h = max(360.0, 56.0 * (k_high - k_low + 1)), 280.0
    width = left + plot_w + 24 + legend_w
    height = top + plot_h + 50

    def x_of(k: float) -> float:
        return left + (k - k_low + 0.5) / (k_high - k_low + 1) * plot_w

    def y_of(value: float) -> float:
        return top + (ticks[-1] - value) / (ticks[-1] - ticks[0]) * plot_h

    body: list[str] = []
    if title:
        body.append(_text(left, 24, title, size=TITLE_SIZE, weight="bold"))
    body.append('<g data-role="axes">')
    for tick, text in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        body.append(_line(left, y, left + plot_w, y, stroke=GRID_COLOUR, data_role="grid", data_value=_num(tick)))
        body.append(_text(left - 7, y + 4, text, anchor="end", data_role="y-tick"))
    body.append(_line(left, top, left, top + plot_h, stroke=AXIS_COLOUR))
    body.append(_line(left, top + plot_h, left + plot_w, top + plot_h, stroke=AXIS_COLOUR))
    k_step = max(1, math.ceil((k_high - k_low + 1) / 15))
    for k in range(k_low, k_high + 1, k_step):
        x = x_of(k)
        body.append(_line(x, top + plot_h, x, top + plot_h + 4, stroke=AXIS_COLOUR))
        body.append(_text(x, top + plot_h + 17, str(k), anchor="middle", data_role="x-tick"))
    body.append(_text(left + plot_w / 2, top + plot_h + 38, w("Number of profiles (K)"), anchor="middle"))
    centre = top + plot_h / 2
    body.append(
        _text(
            16,
            centre,
            w("Information criterion (lower is better)"),
            anchor="middle",
            transform=f"rotate(-90 16 {_num(centre)})",
        )
    )
    body.append("</g>")

    if recommended is not None:
        x = x_of(recommended)
        body.append(f'<g data-role="recommended" data-k="{int(recommended)}">')
        body.append(_line(x, top, x, top + plot_h, stroke=AXIS_COLOUR, width=1.5, stroke_dasharray="6 4"))
        body.append(
            _text(
                x,
                top - 8,
                w("recommended"),
                anchor="middle",
                weight="bold",
                tooltip=w("Recommended: K = {k}").format(k=recommended),
            )
        )
        body.append("</g>")

    for index, (criterion, name) in enumerate(zip(present, display, strict=True)):
        colour, shape = _colour(index), _shape(index)
        column = values[:, index]
        points = [None if math.isnan(v) else (x_of(k), y_of(v)) for k, v in zip(ks, column, strict=True)]
        best = int(np.nanargmin(column)) if np.isfinite(column).any() else -1
        body.append(f'<g data-criterion="{_esc(criterion)}">')
        body.append(_element("path", d=_polyline_path(points), fill="none", stroke=colour, stroke_width=2.0))
        for row, point in enumerate(points):
            if point is None:
                continue
            is_min = row == best
            tip = w("{name} at K = {k}: {value}").format(name=name, k=ks[row], value=f"{column[row]:,.1f}")
            tip += w(" (minimum)") if is_min else ""
            body.append(
                _marker(
                    shape,
                    point[0],
                    point[1],
                    6.0 if is_min else 3.5,
                    colour,
                    filled=is_min,
                    tooltip=tip,
                    data_k=int(ks[row]),
                    data_role="minimum" if is_min else None,
                )
            )
        body.append("</g>")

    legend = [(name, _colour(i), _shape(i)) for i, name in enumerate(display)]
    body.extend(_legend(legend, left + plot_w + 24, top + 6, heading=legend_heading))
    label = title or f"Fit of models with {k_low} to {k_high} profiles: {', '.join(display)}"
    return _svg(width, height, label, body, desc=w("Lines show each information criterion by number of profiles."))

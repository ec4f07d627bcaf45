"""Charts of a wave's representativeness: the R-indicator over time, and the partial R-indicators per category.

Both follow the conventions of :mod:`analysis.charts` (self-contained SVG, presentation attributes only,
``role="img"`` with a label and a ``<title>``, a ``<title>`` tooltip and ``data-*`` attributes on each mark).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from analysis.charts.svg import (
    AXIS_COLOUR,
    GRID_COLOUR,
    PALETTE,
    _element,
    _line,
    _nice_ticks,
    _num,
    _svg,
    _text,
    _text_width,
    _tick_label,
    _tooltip,
    _truncate,
    _worded,
)

BAND_COLOUR = "#cfe3f1"
LAGGING_COLOUR = PALETTE[3]  # vermillion: a category whose partial indicator is significantly below 0
OTHER_COLOUR = PALETTE[0]
LABEL_CHARACTERS = 38


def r_indicator_plot(over_time: pd.DataFrame, *, words: Mapping[str, str] | None = None) -> str:
    """The R-indicator with its 95% interval over the days of a wave.

    Parameters
    ----------
    over_time : pandas.DataFrame
        One row per day in order, with ``day`` (a label such as ``"3 Mar"``), ``r``, ``lower`` and ``upper``.
    words : mapping, optional
        The chart's fixed words in the reader's language (keys: the English ``"R-indicator"``,
        ``"95% interval"``, ``"R-indicator over time"``).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    word = _worded(words)
    rows = over_time.reset_index(drop=True)
    width, height = 360.0, 170.0
    left, right, top, bottom = 44.0, 12.0, 14.0, 30.0
    low = max(0.0, math.floor((float(rows["lower"].min()) - 0.02) * 20) / 20) if len(rows) else 0.0
    ticks = [t for t in _nice_ticks(low, 1.0, 4) if low - 1e-9 <= t <= 1.0 + 1e-9]
    low = min([low, *ticks])

    def x(i: int) -> float:
        return left + (width - left - right) * (i / max(len(rows) - 1, 1))

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1.0 - (value - low) / (1.0 - low or 1.0))

    body: list[str] = []
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 0.1
    for tick in ticks:
        body.append(_line(left, y(tick), width - right, y(tick), stroke=GRID_COLOUR))
        body.append(_text(left - 6, y(tick) + 4, _tick_label(tick, step), anchor="end", fill=AXIS_COLOUR))
    body.append(_line(left, height - bottom, width - right, height - bottom, stroke=AXIS_COLOUR))
    if len(rows):
        upper = [f"{_num(x(i))},{_num(y(float(v)))}" for i, v in enumerate(rows["upper"])]
        lower = [f"{_num(x(i))},{_num(y(float(v)))}" for i, v in reversed(list(enumerate(rows["lower"])))]
        body.append(_element("polygon", None, points=" ".join(upper + lower), fill=BAND_COLOUR, data_series="interval"))
        line = " ".join(f"{_num(x(i))},{_num(y(float(v)))}" for i, v in enumerate(rows["r"]))
        body.append(
            _element("polyline", None, points=line, fill="none", stroke=OTHER_COLOUR, stroke_width=2, data_series="r")
        )
        for i, row in enumerate(rows.to_dict("records")):
            tooltip = f"{row['day']}: {float(row['r']):.2f} ({float(row['lower']):.2f}–{float(row['upper']):.2f})"
            body.append(
                _element(
                    "circle",
                    _tooltip(tooltip),
                    cx=x(i),
                    cy=y(float(row["r"])),
                    r=3.0,
                    fill=OTHER_COLOUR,
                    data_day=str(row["day"]),
                    data_r=f"{float(row['r']):.4f}",
                )
            )
        shown = sorted({0, len(rows) - 1, (len(rows) - 1) // 2})
        for i in shown:
            body.append(_text(x(i), height - bottom + 16, str(rows.loc[i, "day"]), anchor="middle", fill=AXIS_COLOUR))
    body.append(
        _text(
            12,
            top + (height - top - bottom) / 2,
            word("R-indicator"),
            anchor="middle",
            transform=f"rotate(-90 12 {_num(top + (height - top - bottom) / 2)})",
            fill=AXIS_COLOUR,
        )
    )
    label = word("R-indicator over time")
    return _svg(width, height, label, body, desc=f"{word('R-indicator')}, {word('95% interval')}")


def partial_indicator_plot(partials: pd.DataFrame, *, words: Mapping[str, str] | None = None) -> str:
    """Unconditional partial R-indicators per category as bars from zero, with their 95% intervals.

    Parameters
    ----------
    partials : pandas.DataFrame
        One row per category in the order to show, with ``label`` (e.g. ``"institution: hbo"``), ``value``,
        ``lower``, ``upper`` and ``lagging`` (bool: the interval lies below zero; drawn in another colour).
    words : mapping, optional
        The chart's fixed words (keys: ``"Partial R-indicators by category"``, ``"lags behind"`` and the
        description, ``"Bars show each category's partial R-indicator ..."``).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    word = _worded(words)
    rows = partials.reset_index(drop=True)
    bar, gap = 16.0, 6.0
    label_width = min(max([_text_width(str(v)) for v in rows["label"]] + [60.0]), _text_width("x" * LABEL_CHARACTERS))
    left, right, top, bottom = label_width + 12.0, 16.0, 10.0, 28.0
    width = left + 260.0 + right
    height = top + len(rows) * (bar + gap) + bottom
    extent = max([abs(float(v)) for v in pd.concat([rows["lower"], rows["upper"], rows["value"]])] + [0.02])
    ticks = _nice_ticks(-extent, extent, 4)
    low, high = min(ticks[0], -extent), max(ticks[-1], extent)

    def x(value: float) -> float:
        return left + (width - left - right) * (value - low) / (high - low)

    body: list[str] = []
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 0.01
    axis_y = height - bottom
    for tick in ticks:
        body.append(_line(x(tick), top, x(tick), axis_y, stroke=GRID_COLOUR))
        body.append(_text(x(tick), axis_y + 14, _tick_label(tick, step), anchor="middle", fill=AXIS_COLOUR))
    for i, row in enumerate(rows.to_dict("records")):
        middle = top + i * (bar + gap) + bar / 2
        value, lower, upper = float(row["value"]), float(row["lower"]), float(row["upper"])
        colour = LAGGING_COLOUR if bool(row["lagging"]) else OTHER_COLOUR
        tooltip = f"{row['label']}: {value:.3f} ({lower:.3f} – {upper:.3f})" + (
            f", {word('lags behind')}" if bool(row["lagging"]) else ""
        )
        body.append(_text(left - 6, middle + 4, _truncate(str(row["label"]), LABEL_CHARACTERS), anchor="end"))
        body.append(
            _element(
                "rect",
                _tooltip(tooltip),
                x=min(x(0.0), x(value)),
                y=middle - bar / 2 + 3,
                width=max(abs(x(value) - x(0.0)), 1.0),
                height=bar - 6,
                fill=colour,
                data_category=str(row["label"]),
                data_value=f"{value:.4f}",
                data_lagging="true" if bool(row["lagging"]) else "false",
            )
        )
        body.append(_line(x(lower), middle, x(upper), middle, stroke="#1a1a1a", width=1.2))
        for end in (lower, upper):
            body.append(_line(x(end), middle - 4, x(end), middle + 4, stroke="#1a1a1a", width=1.2))
    body.append(_line(x(0.0), top - 4, x(0.0), axis_y, stroke=AXIS_COLOUR, width=1.2))
    desc = word(
        "Bars show each category's partial R-indicator with its 95% interval; below zero the category "
        "responds less than average."
    )
    return _svg(width, height, word("Partial R-indicators by category"), body, desc=desc)


__all__ = ["partial_indicator_plot", "r_indicator_plot"]

"""The transition diagram: profiles per wave as stacked nodes, transitions as bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.charts.svg import (
    BACKGROUND,
    FONT_SIZE,
    TITLE_SIZE,
    _colour,
    _count_label,
    _element,
    _num,
    _numeric_values,
    _percent,
    _svg,
    _text,
    _text_width,
    _tooltip,
    _worded,
)


def _transition_frames(counts: pd.DataFrame | Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """Validate the transition tables and align the rows of each to the columns of the one before."""
    frames = [counts] if isinstance(counts, pd.DataFrame) else list(counts)
    if not frames:
        raise ValueError("counts needs at least one transition table")
    checked: list[pd.DataFrame] = []
    for position, frame in enumerate(frames):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"counts[{position}] is a {type(frame).__name__}, not a DataFrame")
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(f"counts[{position}] is empty")
        if frame.index.has_duplicates or frame.columns.has_duplicates:
            raise ValueError(f"counts[{position}] has duplicate profile names")
        values = _numeric_values(frame, f"counts[{position}]")
        if np.isnan(values).any() or (values < 0).any():
            raise ValueError(f"counts[{position}] must hold non-negative finite counts")
        checked.append(pd.DataFrame(values, index=frame.index, columns=frame.columns))
    for position in range(len(checked) - 1):
        columns, rows = list(checked[position].columns), list(checked[position + 1].index)
        if columns == rows:
            continue
        if set(columns) != set(rows):
            raise ValueError(
                f"counts[{position}] columns {columns} do not match counts[{position + 1}] rows {rows}: "
                f"the profiles at wave {position + 2} must be the same in both tables"
            )
        checked[position + 1] = checked[position + 1].loc[columns]
    if sum(float(frame.to_numpy().sum()) for frame in checked) <= 0:
        raise ValueError("counts are all zero: there are no transitions to draw")
    return checked


def transition_diagram(
    counts: pd.DataFrame | Sequence[pd.DataFrame],
    *,
    wave_labels: Sequence[str] | None = None,
    title: str = "",
    words: Mapping[str, str] | None = None,
) -> str:
    """Alluvial diagram of the movements of people between profiles over consecutive waves.

    Parameters
    ----------
    counts
        One transition table (rows: profile at wave t, columns: profile at wave t+1, cells: numbers of people)
        or a list of them for consecutive wave pairs; the column profiles of table i must be the row profiles
        of table i+1 (the same names; their order is taken from table i).
    wave_labels
        Names of the waves, one more than the number of tables; default ``'Wave 1'``, ``'Wave 2'``, ...
    title
        Heading drawn above the diagram, also the chart's accessible name.
    words : mapping of str to str, optional
        The chart's fixed words (axis titles, legend heading, tooltips, description) in another language,
        keyed by their English; ``{name}``-style fields in a key are filled in. Missing ones stay English.

    Returns
    -------
    str
        A self-contained SVG with one column of stacked node bars per wave and, between consecutive columns,
        one band per non-zero cell. Node heights are proportional to the number of people in the profile at
        that wave: the row sums of the first table, then the column sums of table t for wave t+1. Bands are
        cubic Bézier ``<path>`` elements, as thick as their count on the same scale, coloured by the origin
        profile, with ``fill-opacity="0.45"``, ``data-count``, ``data-from``/``data-to`` and a tooltip such as
        ``'Nerd → Innovator: 35 (29% of Nerd)'``. Nodes are labelled ``'Nerd 120 (24%)'``. If people are
        missing a wave, so that the row sums of table t+1 differ from the column sums of table t, the node is
        drawn tall enough for both its incoming and outgoing bands and its label keeps the column sum.

    Raises
    ------
    ValueError
        If a table is empty, has negative or missing counts or duplicate names, if consecutive tables do not
        share their profiles, if all counts are zero, or if ``wave_labels`` has the wrong length.
    """
    w = _worded(words)
    frames = _transition_frames(counts)
    n_waves = len(frames) + 1
    waves = [str(label) for label in wave_labels] if wave_labels is not None else []
    if wave_labels is None:
        waves = [f"Wave {t + 1}" for t in range(n_waves)]
    elif len(waves) != n_waves:
        raise ValueError(f"wave_labels has {len(waves)} labels but the tables describe {n_waves} waves")

    profiles = [list(frames[0].index)] + [list(frame.columns) for frame in frames]
    totals = [frames[0].to_numpy().sum(axis=1)] + [frame.to_numpy().sum(axis=0) for frame in frames]
    drawn = [totals[t].copy() for t in range(n_waves)]
    for t in range(1, n_waves - 1):
        drawn[t] = np.maximum(totals[t], frames[t].to_numpy().sum(axis=1))

    order: list[str] = []
    for wave in profiles:
        order.extend(str(name) for name in wave if str(name) not in order)
    colour_of = {name: _colour(i) for i, name in enumerate(order)}

    labels = [
        [f"{name} {_count_label(n)} ({_percent(n, total.sum())})" for name, n in zip(names, total, strict=True)]
        for names, total in zip(profiles, totals, strict=True)
    ]
    node_w, gap, band_w, plot_h = 14.0, 10.0, 230.0, 360.0
    left = max(_text_width(text) for text in labels[0]) + 16
    right = max(_text_width(text) for text in labels[-1]) + 16
    top = (52.0 if title else 24.0) + 12
    width = left + (n_waves - 1) * band_w + node_w + right
    height = top + plot_h + 16
    k_max = max(len(wave) for wave in profiles)
    scale = (plot_h - gap * (k_max - 1)) / max(float(d.sum()) for d in drawn)
    column_x = [left + t * band_w for t in range(n_waves)]

    node_y: list[list[float]] = []
    for t in range(n_waves):
        stack = float(drawn[t].sum()) * scale + gap * (len(profiles[t]) - 1)
        y = top + (plot_h - stack) / 2
        ys = []
        for n in drawn[t]:
            ys.append(y)
            y += float(n) * scale + gap
        node_y.append(ys)

    body: list[str] = []
    if title:
        body.append(_text(8, 24, title, size=TITLE_SIZE, weight="bold"))
    for t, label in enumerate(waves):
        body.append(_text(column_x[t] + node_w / 2, top - 12, label, anchor="middle", weight="bold", data_role="wave"))

    body.append('<g data-role="bands">')
    for t, frame in enumerate(frames):
        body.extend(_bands(frame, node_y[t], node_y[t + 1], column_x[t] + node_w, column_x[t + 1], scale, colour_of))
    body.append("</g>")

    body.append('<g data-role="nodes">')
    for t in range(n_waves):
        for k, name in enumerate(profiles[t]):
            y, h = node_y[t][k], float(drawn[t][k]) * scale
            share = _percent(totals[t][k], totals[t].sum())
            tip = w("{name} at {wave}: {count} ({share})").format(
                name=name, wave=waves[t], count=_count_label(totals[t][k]), share=share
            )
            body.append(
                _element(
                    "rect",
                    _tooltip(tip),
                    x=column_x[t],
                    y=y,
                    width=node_w,
                    height=h,
                    fill=colour_of[str(name)],
                    data_wave=t,
                    data_profile=str(name),
                    data_count=_count_label(totals[t][k]),
                )
            )
            body.extend(_node_label(labels[t][k], t, n_waves, column_x[t], node_w, y + h / 2))
    body.append("</g>")

    label = title or f"Transitions between {len(order)} profiles over {n_waves} waves"
    desc = w("Bars show how many people are in each profile at each wave; bands show how many move between profiles.")
    return _svg(width, height, label, body, desc=desc)


def _bands(
    frame: pd.DataFrame,
    source_y: Sequence[float],
    target_y: Sequence[float],
    x0: float,
    x1: float,
    scale: float,
    colour_of: Mapping[str, str],
) -> list[str]:
    """The bands of one wave pair: origins stack by destination, destinations stack by origin."""
    values = frame.to_numpy()
    row_sums = values.sum(axis=1)
    out_offset = list(source_y)
    in_offset = list(target_y)
    middle = (x0 + x1) / 2
    parts: list[str] = []
    for i, origin in enumerate(frame.index):
        for j, destination in enumerate(frame.columns):
            count = float(values[i, j])
            if count <= 0:
                continue
            thickness = count * scale
            y0, y1 = out_offset[i], in_offset[j]
            out_offset[i] += thickness
            in_offset[j] += thickness
            d = (
                f"M {_num(x0)} {_num(y0)} C {_num(middle)} {_num(y0)} {_num(middle)} {_num(y1)} {_num(x1)} {_num(y1)} "
                f"L {_num(x1)} {_num(y1 + thickness)} "
                f"C {_num(middle)} {_num(y1 + thickness)} {_num(middle)} {_num(y0 + thickness)} "
                f"{_num(x0)} {_num(y0 + thickness)} Z"
            )
            tip = f"{origin} → {destination}: {_count_label(count)} ({_percent(count, row_sums[i])} of {origin})"
            parts.append(
                _element(
                    "path",
                    _tooltip(tip),
                    d=d,
                    fill=colour_of[str(origin)],
                    fill_opacity="0.45",
                    stroke="none",
                    data_from=str(origin),
                    data_to=str(destination),
                    data_count=_count_label(count),
                )
            )
    return parts


def _node_label(text: str, wave: int, n_waves: int, x: float, node_w: float, y_centre: float) -> list[str]:
    """A node's label: left of the first column, right of the others (on a white backing over the bands)."""
    y = y_centre + FONT_SIZE * 0.35
    if wave == 0:
        return [_text(x - 6, y, text, anchor="end", data_role="node-label")]
    parts = []
    if wave < n_waves - 1:
        parts.append(
            _element(
                "rect",
                x=x + node_w + 3,
                y=y_centre - FONT_SIZE * 0.75,
                width=_text_width(text) + 6,
                height=FONT_SIZE * 1.5,
                fill=BACKGROUND,
                fill_opacity="0.8",
                rx=2,
            )
        )
    parts.append(_text(x + node_w + 6, y, text, data_role="node-label"))
    return parts

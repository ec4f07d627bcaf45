"""SVG charts for the analysis pages and the PDF reports: profile plots, transition diagrams, fit plots.

Every chart is returned as a self-contained ``<svg>`` string. Colours, strokes and fonts are presentation
attributes only (no ``style`` attributes, no ``<style>`` elements, no scripts): WeasyPrint does not apply
external CSS classes inside inline SVG, and the web app's Content-Security-Policy forbids inline styles.
The root carries ``role="img"``, an ``aria-label`` and a ``<title>``; data marks carry ``<title>`` tooltips
and ``data-*`` attributes describing what they show. All text is escaped with :func:`html.escape`.

Pure Python on pandas frames: no Flask, no database.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["PALETTE", "fit_plot", "profile_plot", "transition_diagram"]

#: Okabe–Ito colour-blind-safe palette; the low-contrast yellow comes last.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#F0E442",
)

SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
FONT_SIZE = 11
TITLE_SIZE = 14
TEXT_COLOUR = "#1a1a1a"
AXIS_COLOUR = "#4d4d4d"
GRID_COLOUR = "#d9d9d9"
BACKGROUND = "#ffffff"
MARKER_SHAPES = ("circle", "square", "triangle", "diamond")
CRITERION_NAMES = {"bic": "BIC", "sabic": "SABIC", "aic": "AIC", "icl": "ICL", "caic": "CAIC", "entropy": "Entropy"}
_NICE_MANTISSAS = (1.0, 2.0, 2.5, 5.0, 10.0)
_CHAR_WIDTH = 0.6  # average glyph width of DejaVu Sans as a fraction of the font size (an estimate)


# ---------------------------------------------------------------------------------------------------------------
# Low-level SVG helpers
# ---------------------------------------------------------------------------------------------------------------


def _esc(value: object) -> str:
    """Escape text for element content and attribute values."""
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attrs(attributes: Mapping[str, object]) -> str:
    """Render attributes; ``font_size`` becomes ``font-size``, ``None`` values are left out."""
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        text = _num(value) if isinstance(value, float) else str(value)
        parts.append(f' {name}="{_esc(text)}"')
    return "".join(parts)


def _element(tag: str, content: str | None = None, **attributes: object) -> str:
    """One element; ``content`` is inserted as is (escape it first)."""
    if content is None:
        return f"<{tag}{_attrs(attributes)}/>"
    return f"<{tag}{_attrs(attributes)}>{content}</{tag}>"


def _tooltip(text: str) -> str:
    """A ``<title>`` child: the tooltip of a data mark."""
    return f"<title>{_esc(text)}</title>"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = FONT_SIZE,
    anchor: str = "start",
    weight: str | None = None,
    fill: str = TEXT_COLOUR,
    transform: str | None = None,
    tooltip: str | None = None,
    **extra: object,
) -> str:
    """A ``<text>`` element with every font property as a presentation attribute."""
    inner = _esc(content) + (_tooltip(tooltip) if tooltip else "")
    return _element(
        "text",
        inner,
        x=float(x),
        y=float(y),
        fill=fill,
        font_family=FONT_FAMILY,
        font_size=size,
        font_weight=weight,
        text_anchor=anchor,
        transform=transform,
        **extra,
    )


def _line(x1: float, y1: float, x2: float, y2: float, *, stroke: str, width: float = 1.0, **extra: object) -> str:
    """A straight ``<line>``."""
    return _element(
        "line", None, x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), stroke=stroke, stroke_width=width, **extra
    )


def _svg(width: float, height: float, label: str, body: Sequence[str], *, desc: str | None = None) -> str:
    """The root element: viewBox, full width, accessible name, ``<title>``, white background."""
    head = (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {_num(width)} {_num(height)}" width="100%" role="img" '
        f'aria-label="{_esc(label)}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}">'
    )
    parts = [head, f"<title>{_esc(label)}</title>"]
    if desc:
        parts.append(f"<desc>{_esc(desc)}</desc>")
    parts.append(_element("rect", x=0, y=0, width=_num(width), height=_num(height), fill=BACKGROUND))
    parts.extend(body)
    parts.append("</svg>")
    return "".join(parts)


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimated rendered width of ``text`` (no font metrics available)."""
    return len(text) * size * _CHAR_WIDTH


def _truncate(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _colour(index: int) -> str:
    """Palette colour ``index``, cycling."""
    return PALETTE[index % len(PALETTE)]


def _shape(index: int) -> str:
    """Marker shape ``index``, cycling, so that series differ by more than colour."""
    return MARKER_SHAPES[index % len(MARKER_SHAPES)]


def _marker(
    shape: str,
    x: float,
    y: float,
    radius: float,
    colour: str,
    *,
    filled: bool = True,
    tooltip: str | None = None,
    **extra: object,
) -> str:
    """A data marker centred on ``(x, y)``: circle, square, triangle or diamond."""
    paint: dict[str, object] = {
        "fill": colour if filled else BACKGROUND,
        "stroke": colour,
        "stroke_width": 1.5,
        "data_x": float(x),
        "data_y": float(y),
        **extra,
    }
    content = _tooltip(tooltip) if tooltip else None
    if shape == "square":
        side = radius * 1.7
        return _element("rect", content, x=x - side / 2, y=y - side / 2, width=side, height=side, **paint)
    if shape == "triangle":
        r = radius * 1.25
        points = [(x, y - r), (x + r * 0.866, y + r / 2), (x - r * 0.866, y + r / 2)]
    elif shape == "diamond":
        r = radius * 1.3
        points = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    else:
        return _element("circle", content, cx=float(x), cy=float(y), r=float(radius), **paint)
    return _element("polygon", content, points=" ".join(f"{_num(px)},{_num(py)}" for px, py in points), **paint)


def _polyline_path(points: Sequence[tuple[float, float] | None]) -> str:
    """Path data through ``points``; ``None`` breaks the line (a new ``M`` starts the next segment)."""
    commands: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'} {_num(point[0])} {_num(point[1])}")
        pen_down = True
    return " ".join(commands)


def _legend(entries: Sequence[tuple[str, str, str]], x: float, y: float, *, heading: str | None = None) -> list[str]:
    """A vertical legend of ``(name, colour, shape)`` entries starting at ``(x, y)``."""
    parts = ['<g data-role="legend">']
    if heading:
        parts.append(_text(x, y, heading, weight="bold"))
        y += 18
    for name, colour, shape in entries:
        parts.append(_line(x, y, x + 22, y, stroke=colour, width=2.0))
        parts.append(_marker(shape, x + 11, y, 3.5, colour))
        shown = _truncate(name, 32)
        parts.append(_text(x + 30, y + 4, shown, tooltip=name if shown != name else None))
        y += 18
    parts.append("</g>")
    return parts


def _legend_width(names: Sequence[str], heading: str | None = None) -> float:
    """Horizontal room a legend needs."""
    widest = max([_text_width(_truncate(n, 32)) + 30 for n in names] + [_text_width(heading or "")])
    return widest + 16


# ---------------------------------------------------------------------------------------------------------------
# Axis ticks
# ---------------------------------------------------------------------------------------------------------------


def _nice_step(raw: float) -> float:
    """The smallest step of the form 1, 2, 2.5 or 5 times 10^n that is at least ``raw``."""
    if not math.isfinite(raw) or raw <= 0:
        return 1.0
    exponent = math.floor(math.log10(raw))
    base = 10.0**exponent
    for mantissa in _NICE_MANTISSAS:
        step = mantissa * base
        if step >= raw * (1 - 1e-9):
            return step
    return 10.0 * base  # pragma: no cover - the loop always returns


def _nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Evenly spaced "nice" ticks spanning ``[low, high]`` with about ``target`` intervals.

    Parameters
    ----------
    low, high
        The data range; swapped if given the wrong way round, widened if empty.
    target
        The wanted number of intervals between ticks.

    Returns
    -------
    list of float
        Ticks from a multiple of the step at or below ``low`` to one at or above ``high``.
    """
    if low > high:
        low, high = high, low
    if high - low <= 0:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step((high - low) / max(target, 1))
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    decimals = _step_decimals(step) + 2
    return [round(i * step, decimals) for i in range(first, last + 1)]


def _step_decimals(step: float) -> int:
    """How many decimals tick labels at multiples of ``step`` need."""
    for decimals in range(10):
        if abs(round(step, decimals) - step) < step * 1e-9:
            return decimals
    return 10


def _tick_label(value: float, step: float) -> str:
    """A tick label: thousands separators, the step's decimals, a typographic minus."""
    decimals = _step_decimals(step)
    text = f"{abs(value):,.{decimals}f}"
    if value < 0 and float(text.replace(",", "")) != 0:
        return "−" + text
    return text


def _whole_step(limit: float) -> int:
    """A whole-number gridline step (1, 2, 5, 10, ...) giving at most six lines above zero."""
    step, multipliers, index = 1, (2, 2.5, 2), 0
    while limit / step > 6:
        step = int(step * multipliers[index % 3])
        index += 1
    return step


def _count_label(value: float) -> str:
    """A count of people: whole numbers without decimals, expected counts with one."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.1f}"


def _percent(part: float, whole: float) -> str:
    """``part`` as a whole percentage of ``whole``; '<1%' for small non-zero parts."""
    if whole <= 0:
        return "0%"
    share = 100.0 * part / whole
    if 0 < share < 0.5:
        return "<1%"
    return f"{share:.0f}%"


# ---------------------------------------------------------------------------------------------------------------
# Profile plot
# ---------------------------------------------------------------------------------------------------------------


def _numeric_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The frame as floats, non-finite values as NaN; a clear error for non-numeric cells."""
    try:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must contain numbers only") from error
    return np.where(np.isfinite(values), values, np.nan)


def profile_plot(
    means: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "",
    value_label: str = "Standardised mean (SD units)",
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
    return _svg(width, height, label, body, desc="Lines show each profile's mean on each indicator.")


# ---------------------------------------------------------------------------------------------------------------
# Transition diagram
# ---------------------------------------------------------------------------------------------------------------


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
            tip = f"{name} at {waves[t]}: {_count_label(totals[t][k])} ({share})"
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
    desc = "Bars show how many people are in each profile at each wave; bands show how many move between profiles."
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


# ---------------------------------------------------------------------------------------------------------------
# Fit plot
# ---------------------------------------------------------------------------------------------------------------


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

    legend_heading = "Filled marker: minimum"
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
    body.append(_text(left + plot_w / 2, top + plot_h + 38, "Number of profiles (K)", anchor="middle"))
    centre = top + plot_h / 2
    body.append(
        _text(
            16,
            centre,
            "Information criterion (lower is better)",
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
            _text(x, top - 8, "recommended", anchor="middle", weight="bold", tooltip=f"Recommended: K = {recommended}")
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
            tip = f"{name} at K = {ks[row]}: {column[row]:,.1f}" + (" (minimum)" if is_min else "")
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
    return _svg(width, height, label, body, desc="Lines show each information criterion by number of profiles.")

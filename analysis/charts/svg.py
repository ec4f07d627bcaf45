"""SVG building blocks shared by the charts: constants, the palette, elements, markers, legends and axis ticks."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

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


def _numeric_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The frame as floats, non-finite values as NaN; a clear error for non-numeric cells."""
    try:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must contain numbers only") from error
    return np.where(np.isfinite(values), values, np.nan)


def _worded(words: Mapping[str, str] | None) -> Callable[[str], str]:
    """A chart's fixed words as the caller gives them (keys: the English, which is the default)."""
    chosen = dict(words or {})
    return lambda english: chosen.get(english, english)

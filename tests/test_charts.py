"""SVG charts: well-formed, CSP- and WeasyPrint-safe markup whose geometry matches the data."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from analysis.charts import PALETTE, fit_plot, profile_plot, transition_diagram
from analysis.charts.svg import _nice_step, _nice_ticks

NS = "{http://www.w3.org/2000/svg}"
POINT = re.compile(r"[ML] (-?[\d.]+) (-?[\d.]+)")


def parse(svg: str) -> ET.Element:
    """Parse a chart and check what every chart must satisfy."""
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    assert root.get("width") == "100%"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    title = root.find(f"{NS}title")
    assert title is not None and title.text
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert element.tag not in (f"{NS}style", f"{NS}script"), element.tag
        assert not any(name.startswith("on") for name in element.attrib), element.tag
        assert "class" not in element.attrib
    for text in root.iter(f"{NS}text"):
        assert text.get("font-family", "").startswith("DejaVu Sans")
        assert text.get("font-size") and text.get("fill")
    return root


def texts(root: ET.Element) -> list[str]:
    """The visible text of every ``<text>`` element (without its tooltip)."""
    return [text.text or "" for text in root.iter(f"{NS}text")]


def path_points(path: ET.Element) -> list[tuple[float, float]]:
    """The points of a line path drawn with ``M``/``L`` commands."""
    return [(float(x), float(y)) for x, y in POINT.findall(path.get("d", ""))]


def by_role(root: ET.Element, role: str) -> list[ET.Element]:
    """Elements with ``data-role=role``."""
    return [element for element in root.iter() if element.get("data-role") == role]


def tooltip(element: ET.Element) -> str:
    """The text of an element's ``<title>`` child."""
    title = element.find(f"{NS}title")
    assert title is not None
    return title.text or ""


# ---------------------------------------------------------------------------------------------------------------
# Nice ticks
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0.7, 1.0), (1.0, 1.0), (1.3, 2.0), (2.2, 2.5), (3.0, 5.0), (7.0, 10.0), (0.021, 0.025), (180.0, 200.0)],
)
def test_nice_step(raw: float, expected: float) -> None:
    assert _nice_step(raw) == pytest.approx(expected)


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (3.0, 17.0), (812.3, 1043.9), (-2.4, 0.3), (5.0, 5.0)])
def test_nice_ticks_span_the_data_with_nice_steps(low: float, high: float) -> None:
    ticks = _nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert 3 <= len(ticks) <= 12
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m) for m in (1.0, 2.0, 2.5, 5.0))


def test_palette_is_okabe_ito_with_yellow_late() -> None:
    assert len(PALETTE) >= 8
    assert len(set(PALETTE)) == len(PALETTE)
    assert PALETTE[0] == "#0072B2"
    assert PALETTE.index("#F0E442") >= 6


# ---------------------------------------------------------------------------------------------------------------
# Profile plot
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def means() -> pd.DataFrame:
    return pd.DataFrame(
        [[0.8, -1.2, np.nan, 0.0], [1.1, 0.3, -0.4, -0.9], [-0.5, 0.0, 0.6, 0.2]],
        index=["Nerd", "Innovator", "Profile 3"],
        columns=["N1", "E2", "O3", "A4"],
    )


def test_profile_plot_draws_one_line_per_profile(means: pd.DataFrame) -> None:
    root = parse(profile_plot(means, title="Profiles at wave 1"))
    groups = [g for g in root.iter(f"{NS}g") if g.get("data-profile")]
    assert [g.get("data-profile") for g in groups] == list(means.index)
    for group, (_, row) in zip(groups, means.iterrows(), strict=True):
        paths = group.findall(f"{NS}path")
        assert len(paths) == 1
        assert len(path_points(paths[0])) == row.notna().sum()
        markers = [m for m in group if m.get("data-indicator")]
        assert [m.get("data-indicator") for m in markers] == list(row.dropna().index)
        assert all(tooltip(m).startswith(f"{group.get('data-profile')} – ") for m in markers)
    assert root.get("aria-label") == "Profiles at wave 1"
    assert "Profiles at wave 1" in texts(root)


def test_profile_plot_nan_breaks_the_line(means: pd.DataFrame) -> None:
    root = parse(profile_plot(means))
    nerd = next(g for g in root.iter(f"{NS}g") if g.get("data-profile") == "Nerd")
    d = nerd.find(f"{NS}path").get("d")
    assert d.count("M") == 2  # N1-E2, then a fresh start at A4 after the missing O3
    points = path_points(nerd.find(f"{NS}path"))
    innovator = path_points(
        next(g for g in root.iter(f"{NS}g") if g.get("data-profile") == "Innovator").find(f"{NS}path")
    )
    assert [x for x, _ in points] == [innovator[0][0], innovator[1][0], innovator[3][0]]


def test_profile_plot_y_geometry(means: pd.DataFrame) -> None:
    root = parse(profile_plot(means))
    zero = by_role(root, "zero-line")
    assert len(zero) == 1
    assert zero[0].get("stroke-dasharray")
    zero_y = float(zero[0].get("y1"))
    assert float(zero[0].get("y2")) == zero_y

    pairs = []
    for group in root.iter(f"{NS}g"):
        name = group.get("data-profile")
        if not name:
            continue
        values = means.loc[name].dropna().to_numpy()
        ys = [y for _, y in path_points(group.find(f"{NS}path"))]
        pairs.extend(zip(values, ys, strict=True))
    for value, y in pairs:
        if value == 0:
            assert y == zero_y
        assert (y < zero_y) == (value > 0)
    # A higher mean is always drawn higher up (smaller y), across profiles too; y is linear in the mean.
    pairs.sort()
    for (v1, y1), (v2, y2) in itertools.pairwise(pairs):
        if v2 > v1:
            assert y2 < y1
    (v1, y1), (v2, y2) = pairs[0], pairs[-1]
    slope = (y2 - y1) / (v2 - v1)
    for value, y in pairs:
        assert y == pytest.approx(zero_y + slope * value, abs=0.02)


def test_profile_plot_axis_is_symmetric_with_whole_gridlines(means: pd.DataFrame) -> None:
    root = parse(profile_plot(means))
    assert [float(line.get("data-value")) for line in by_role(root, "grid")] == [-1.0, 1.0]
    assert [t.text for t in by_role(root, "y-tick")] == ["−1", "0", "1"]
    # At least ±1.5: the plot reaches 1.5 SD on both sides of zero.
    zero_y = float(by_role(root, "zero-line")[0].get("y1"))
    one_y = next(float(line.get("y1")) for line in by_role(root, "grid") if line.get("data-value") == "1")
    axis = [line for line in root.iter(f"{NS}line") if line.get("x1") == line.get("x2") and not line.get("data-role")]
    y_axis = max(axis, key=lambda line: float(line.get("y2")) - float(line.get("y1")))
    top, bottom = float(y_axis.get("y1")), float(y_axis.get("y2"))
    unit = zero_y - one_y
    assert (zero_y - top) == pytest.approx(1.5 * unit, abs=0.02)
    assert (bottom - zero_y) == pytest.approx(1.5 * unit, abs=0.02)

    wide = parse(profile_plot(means * 2.5))  # largest |mean| 3.0
    assert [t.text for t in by_role(wide, "y-tick")] == ["−3", "−2", "−1", "0", "1", "2", "3"]


def test_profile_plot_labels_and_legend(means: pd.DataFrame) -> None:
    labels = {"N1": "Anxiety", "E2": "Gregariousness", "O3": "Fantasy"}
    root = parse(profile_plot(means, labels=labels, value_label="Mean (SD)"))
    indicator_texts = [t.text for t in by_role(root, "indicator")]
    assert indicator_texts == ["Anxiety", "Gregariousness", "Fantasy", "A4"]
    assert all("rotate(-45" in t.get("transform") for t in by_role(root, "indicator"))
    legend = by_role(root, "legend")
    assert len(legend) == 1
    legend_texts = texts(legend[0])
    for name in means.index:
        assert name in legend_texts
    assert "Mean (SD)" in texts(root)
    # Legend colours match the lines.
    colours = [g.find(f"{NS}path").get("stroke") for g in root.iter(f"{NS}g") if g.get("data-profile")]
    assert colours == list(PALETTE[:3])
    assert [line.get("stroke") for line in legend[0].findall(f"{NS}line")] == colours


def test_profile_plot_escapes_text() -> None:
    frame = pd.DataFrame([[0.5, -0.5]], index=["<b>x</b>"], columns=["a&b", "c"])
    svg = profile_plot(frame, labels={"c": 'say "hi"'}, title="R&D <script>")
    assert "<b>" not in svg and "<script>" not in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg
    root = parse(svg)
    assert "<b>x</b>" in texts(root)
    assert "a&b" in texts(root) and 'say "hi"' in texts(root)
    assert root.get("aria-label") == "R&D <script>"


def test_profile_plot_rejects_empty_frames() -> None:
    with pytest.raises(ValueError, match="at least one profile"):
        profile_plot(pd.DataFrame())


def test_profile_plot_long_labels_are_truncated_with_tooltip() -> None:
    long = "A very long indicator name that would not fit under the axis"
    root = parse(profile_plot(pd.DataFrame([[0.1]], index=["P"], columns=["x"]), labels={"x": long}))
    label = by_role(root, "indicator")[0]
    assert label.text.endswith("…") and len(label.text) <= 28
    assert tooltip(label) == long


# ---------------------------------------------------------------------------------------------------------------
# Transition diagram
# ---------------------------------------------------------------------------------------------------------------


def square(values: list[list[float]], names: tuple[str, ...] = ("Nerd", "Innovator")) -> pd.DataFrame:
    return pd.DataFrame(values, index=list(names), columns=list(names))


def band_thickness(band: ET.Element) -> tuple[float, float]:
    """Thickness of a band at its origin and at its destination, from the path coordinates."""
    numbers = [float(n) for n in re.findall(r"-?[\d.]+", band.get("d"))]
    # M x0 y0 C . . . . x1 y1 L x1 y1b C . . . . x0 y0b Z
    y0, y1, y1b, y0b = numbers[1], numbers[7], numbers[9], numbers[15]
    return y0b - y0, y1b - y1


def nodes(root: ET.Element, wave: int) -> dict[str, ET.Element]:
    return {r.get("data-profile"): r for r in root.iter(f"{NS}rect") if r.get("data-wave") == str(wave)}


def bands(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{NS}path") if p.get("data-count")]


def test_transition_bands_are_proportional_to_counts() -> None:
    counts = square([[30, 10], [5, 55]])
    root = parse(transition_diagram(counts, title="Moves"))
    drawn = bands(root)
    assert len(drawn) == 4
    ratios = []
    for band in drawn:
        count = counts.loc[band.get("data-from"), band.get("data-to")]
        assert float(band.get("data-count")) == count
        at_origin, at_destination = band_thickness(band)
        assert at_origin == pytest.approx(at_destination, abs=0.02)
        ratios.append(at_origin / count)
        assert band.get("fill-opacity") == "0.45"
        assert band.get("fill") == PALETTE[list(counts.index).index(band.get("data-from"))]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-3)
    titles = {tooltip(band) for band in drawn}
    assert "Nerd → Innovator: 10 (25% of Nerd)" in titles
    assert "Innovator → Nerd: 5 (8% of Innovator)" in titles


def test_transition_node_heights_are_row_and_column_sums() -> None:
    root = parse(transition_diagram(square([[30, 10], [5, 55]])))
    first, second = nodes(root, 0), nodes(root, 1)
    height = {name: float(rect.get("height")) for name, rect in first.items()}
    assert height["Innovator"] / height["Nerd"] == pytest.approx(60 / 40, rel=1e-3)
    later = {name: float(rect.get("height")) for name, rect in second.items()}
    assert later["Innovator"] / later["Nerd"] == pytest.approx(65 / 35, rel=1e-3)
    assert height["Nerd"] / 40 == pytest.approx(later["Nerd"] / 35, rel=1e-3)  # one scale for all waves
    assert [first[n].get("data-count") for n in ("Nerd", "Innovator")] == ["40", "60"]
    assert [second[n].get("data-count") for n in ("Nerd", "Innovator")] == ["35", "65"]
    labels = [t.text for t in by_role(root, "node-label")]
    assert labels == ["Nerd 40 (40%)", "Innovator 60 (60%)", "Nerd 35 (35%)", "Innovator 65 (65%)"]
    assert [t.text for t in by_role(root, "wave")] == ["Wave 1", "Wave 2"]
    # Nodes stack top to bottom with a gap, inside one column.
    assert float(first["Innovator"].get("y")) > float(first["Nerd"].get("y")) + height["Nerd"]
    assert first["Nerd"].get("x") == first["Innovator"].get("x")
    assert float(second["Nerd"].get("x")) > float(first["Nerd"].get("x"))


def test_transition_bands_fit_inside_their_nodes() -> None:
    root = parse(transition_diagram(square([[30, 10], [5, 55]])))
    first, second = nodes(root, 0), nodes(root, 1)
    for band in bands(root):
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", band.get("d"))]
        source, target = first[band.get("data-from")], second[band.get("data-to")]
        s_top, t_top = float(source.get("y")), float(target.get("y"))
        s_bottom, t_bottom = s_top + float(source.get("height")), t_top + float(target.get("height"))
        assert s_top - 0.02 <= numbers[1] and numbers[15] <= s_bottom + 0.02
        assert t_top - 0.02 <= numbers[7] and numbers[9] <= t_bottom + 0.02
        assert numbers[0] == pytest.approx(float(source.get("x")) + float(source.get("width")))
        assert numbers[6] == pytest.approx(float(target.get("x")))


def test_transition_zero_cells_draw_no_band() -> None:
    root = parse(transition_diagram(square([[30, 0], [5, 65]])))
    drawn = bands(root)
    assert len(drawn) == 3
    assert ("Nerd", "Innovator") not in {(b.get("data-from"), b.get("data-to")) for b in drawn}
    assert "(30%)" in "".join(texts(root)) and "(70%)" in "".join(texts(root))


def test_transition_list_of_frames_gives_one_column_per_wave() -> None:
    three = ("Nerd", "Innovator", "Sceptic")
    pair_1 = pd.DataFrame([[30, 10, 0], [5, 55, 0]], index=["Nerd", "Innovator"], columns=list(three))
    pair_2 = square([[20, 10, 5], [10, 50, 5], [0, 0, 0]], three)
    root = parse(transition_diagram([pair_1, pair_2], wave_labels=["2025", "2026", "2027"]))
    xs = {wave: {r.get("x") for r in nodes(root, wave).values()} for wave in range(3)}
    assert all(len(x) == 1 for x in xs.values())
    assert len({next(iter(x)) for x in xs.values()}) == 3
    assert nodes(root, 3) == {}
    assert [t.text for t in by_role(root, "wave")] == ["2025", "2026", "2027"]
    assert [nodes(root, 2)[n].get("data-count") for n in three] == ["30", "60", "10"]
    assert len(bands(root)) == 4 + 6
    # The same profile keeps its colour in every wave.
    for wave in range(3):
        assert nodes(root, wave)["Innovator"].get("fill") == PALETTE[1]


def test_transition_reorders_rows_to_match_previous_columns() -> None:
    pair_1 = square([[30, 10], [5, 55]])
    pair_2 = square([[50, 15], [5, 30]], ("Innovator", "Nerd"))
    root = parse(transition_diagram([pair_1, pair_2]))
    assert len(bands(root)) == 8


def test_transition_mismatched_frames_raise() -> None:
    pair_1 = square([[30, 10], [5, 55]])
    pair_2 = square([[30, 10], [5, 55]], ("Nerd", "Sceptic"))
    with pytest.raises(ValueError, match=r"counts\[0\] columns .* do not match counts\[1\] rows"):
        transition_diagram([pair_1, pair_2])


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([], "at least one"),
        (square([[1, -1], [0, 1]]), "non-negative"),
        (square([[0, 0], [0, 0]]), "all zero"),
        (square([[1, np.nan], [0, 1]]), "non-negative finite"),
    ],
)
def test_transition_rejects_bad_counts(counts: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        transition_diagram(counts)


def test_transition_wave_labels_must_match() -> None:
    with pytest.raises(ValueError, match="wave_labels has 3 labels"):
        transition_diagram(square([[1, 2], [3, 4]]), wave_labels=["a", "b", "c"])


def test_transition_escapes_names() -> None:
    svg = transition_diagram(square([[3, 1], [1, 3]], ("<i>A</i>", "B&C")), wave_labels=["<1>", "2"])
    assert "<i>" not in svg
    root = parse(svg)
    assert "<i>A</i> 4 (50%)" in texts(root)
    assert any(tooltip(b) == "B&C → <i>A</i>: 1 (25% of B&C)" for b in bands(root))


def test_transition_fractional_counts() -> None:
    root = parse(transition_diagram(square([[2.5, 0.5], [1.0, 6.0]])))
    assert "Nerd 3 (30%)" in texts(root)
    assert {b.get("data-count") for b in bands(root)} == {"2.5", "0.5", "1", "6"}


# ---------------------------------------------------------------------------------------------------------------
# Fit plot
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def fit() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "k": [4, 1, 2, 3, 5],  # unsorted on purpose
            "bic": [870.0, 1000.0, 900.0, 850.0, 900.0],
            "aic": [800.0, 990.0, 880.0, 820.0, 805.0],
            "entropy": [0.8, np.nan, 0.9, 0.85, 0.7],
        }
    )


def criterion_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-criterion"): g for g in root.iter(f"{NS}g") if g.get("data-criterion")}


def test_fit_plot_draws_present_criteria_only(fit: pd.DataFrame) -> None:
    root = parse(fit_plot(fit, title="Model fit"))
    groups = criterion_groups(root)
    assert list(groups) == ["bic", "aic"]  # sabic is missing, entropy not requested
    for group in groups.values():
        assert len(group.findall(f"{NS}path")) == 1
        assert len(path_points(group.find(f"{NS}path"))) == 5
    legend = texts(by_role(root, "legend")[0])
    assert "BIC" in legend and "AIC" in legend and "SABIC" not in legend
    assert [t.text for t in by_role(root, "x-tick")] == ["1", "2", "3", "4", "5"]
    assert "Number of profiles (K)" in texts(root)


def test_fit_plot_geometry(fit: pd.DataFrame) -> None:
    root = parse(fit_plot(fit))
    x_ticks = {t.text: float(t.get("x")) for t in by_role(root, "x-tick")}
    bic = path_points(criterion_groups(root)["bic"].find(f"{NS}path"))
    assert [x for x, _ in bic] == [x_ticks[str(k)] for k in range(1, 6)]
    ordered = fit.sort_values("k")["bic"].to_numpy()
    ys = [y for _, y in bic]
    for (v1, y1), (v2, y2) in itertools.pairwise(zip(ordered, ys, strict=True)):
        assert (y2 < y1) == (v2 > v1)
    # Nice y ticks spanning the data.
    ticks = [float(line.get("data-value")) for line in by_role(root, "grid")]
    assert ticks[0] <= 800 and ticks[-1] >= 1000
    assert len(set(np.round(np.diff(ticks), 6))) == 1
    assert [t.text for t in by_role(root, "y-tick")][-1] == "1,000"


def test_fit_plot_marks_minima(fit: pd.DataFrame) -> None:
    root = parse(fit_plot(fit))
    groups = criterion_groups(root)
    for criterion, k in (("bic", "3"), ("aic", "4")):
        minima = by_role(groups[criterion], "minimum")
        assert [m.get("data-k") for m in minima] == [k]
        others = [m for m in groups[criterion] if m.get("data-k") and m.get("data-role") != "minimum"]
        assert len(others) == 4
        assert minima[0].get("fill") == groups[criterion].find(f"{NS}path").get("stroke")
        assert all(m.get("fill") == "#ffffff" for m in others)
        assert float(minima[0].get("data-y")) == max(
            float(m.get("data-y")) for m in groups[criterion] if m.get("data-y")
        )
        assert "(minimum)" in tooltip(minima[0])


def test_fit_plot_recommended_marker(fit: pd.DataFrame) -> None:
    root = parse(fit_plot(fit, recommended=3))
    marker = by_role(root, "recommended")
    assert len(marker) == 1 and marker[0].get("data-k") == "3"
    line = marker[0].find(f"{NS}line")
    assert line.get("stroke-dasharray")
    x_ticks = {t.text: float(t.get("x")) for t in by_role(root, "x-tick")}
    assert float(line.get("x1")) == float(line.get("x2")) == x_ticks["3"]
    assert "recommended" in texts(marker[0])
    assert by_role(parse(fit_plot(fit)), "recommended") == []


def test_fit_plot_options(fit: pd.DataFrame) -> None:
    frame = fit.rename(columns={"bic": "icl"}).set_index("k")
    root = parse(fit_plot(frame, criteria=("icl", "sabic", "aic")))
    assert list(criterion_groups(root)) == ["icl", "aic"]
    assert "ICL" in texts(by_role(root, "legend")[0])


def test_fit_plot_gap_for_missing_value() -> None:
    frame = pd.DataFrame({"k": [1, 2, 3], "bic": [10.0, np.nan, 8.0]})
    root = parse(fit_plot(frame))
    path = criterion_groups(root)["bic"].find(f"{NS}path")
    assert len(path_points(path)) == 2 and path.get("d").count("M") == 2


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"k": [1, 2], "entropy": [0.8, 0.9]}), "none of the criteria"),
        (pd.DataFrame({"K": [1, 2], "bic": [1.0, 2.0]}), "no column 'k'"),
        (pd.DataFrame({"k": [1, 1], "bic": [1.0, 2.0]}), "duplicate"),
        (pd.DataFrame({"k": [1.5, 2], "bic": [1.0, 2.0]}), "whole numbers"),
    ],
)
def test_fit_plot_rejects_bad_input(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_plot(frame)


# --- representativeness charts (issue 19) ------------------------------------------------------------------


def test_partial_indicator_bars_start_at_zero_and_mark_the_lagging_categories() -> None:
    from analysis.charts.representativeness import LAGGING_COLOUR, OTHER_COLOUR, partial_indicator_plot

    partials = pd.DataFrame(
        {
            "label": ["institution: hbo", "gender: <x & y>", "institution: wo"],
            "value": [-0.06, -0.01, 0.04],
            "lower": [-0.09, -0.03, 0.01],
            "upper": [-0.03, 0.01, 0.07],
            "lagging": [True, False, False],
        }
    )
    svg = partial_indicator_plot(partials, words={"Partial R-indicators by category": "Partiële R-indicatoren"})
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "Partiële R-indicatoren"
    bars = [e for e in root.iter() if e.get("data-category") is not None]
    assert [b.get("data-category") for b in bars] == list(partials["label"])
    assert [b.get("fill") for b in bars] == [LAGGING_COLOUR, OTHER_COLOUR, OTHER_COLOUR]
    zero = [
        e
        for e in root.iter()
        if e.tag.endswith("line") and e.get("y1") != e.get("y2") and e.get("stroke-width") == "1.2"
    ]
    x0 = float(zero[-1].get("x1"))  # the zero axis, drawn last
    for bar, value in zip(bars, partials["value"], strict=True):
        left, width = float(bar.get("x")), float(bar.get("width"))
        assert math.isclose(left + width if value < 0 else left, x0, abs_tol=0.01), "each bar starts at zero"
    assert "&lt;x &amp; y&gt;" in svg, "labels are escaped"


def test_the_r_indicator_over_time_has_a_point_per_day_inside_its_band() -> None:
    from analysis.charts.representativeness import r_indicator_plot

    days = pd.DataFrame(
        {
            "day": ["1 Feb", "2 Feb", "3 Feb"],
            "r": [0.8, 0.85, 0.9],
            "lower": [0.7, 0.8, 0.86],
            "upper": [0.9, 0.9, 0.94],
        }
    )
    root = ET.fromstring(r_indicator_plot(days))
    points = [e for e in root.iter() if e.get("data-r") is not None]
    assert [float(p.get("data-r")) for p in points] == [0.8, 0.85, 0.9]
    ys = [float(p.get("cy")) for p in points]
    assert ys == sorted(ys, reverse=True), "a higher R is drawn higher"
    band = next(e for e in root.iter() if e.get("data-series") == "interval")
    assert len(band.get("points").split()) == 6

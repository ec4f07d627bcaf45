"""Personal feedback numbers (analysis.personal_feedback), checked against hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.personal_feedback import compare_to_sample, movement, resemble_profile
from analysis.reference_profiles import FACETS, REFERENCE_PROFILES, UNMATCHED


def _signature(name: str) -> pd.Series:
    signature = REFERENCE_PROFILES[name].signature
    return pd.Series([float(signature.get(f, 0)) for f in FACETS], index=list(FACETS))


# --- compare_to_sample ---------------------------------------------------------------------------------


def test_compare_to_sample_hand_computed():
    sample = pd.DataFrame({"career_clarity": [1.0, 2.0, 3.0, 4.0, 5.0]})
    out = compare_to_sample(pd.Series({"career_clarity": 4.0}), sample, scale_min=1, scale_max=7, min_sample=5)
    row = out.loc["career_clarity"]
    assert list(out.columns) == ["score", "sample_n", "sample_mean", "sample_sd", "z", "percentile", "basis"]
    assert row["score"] == 4.0
    assert row["sample_n"] == 5
    assert row["sample_mean"] == pytest.approx(3.0)
    # sd = sqrt(10 / 4) = 1.58113883...
    assert row["sample_sd"] == pytest.approx(1.5811388300841898)
    # z = 1 / 1.58113883 = 0.63245553...
    assert row["z"] == pytest.approx(0.6324555320336759)
    # 3 below + half of 1 tie = 3.5 of 5
    assert row["percentile"] == pytest.approx(70.0)
    assert row["basis"] == "sample"


def test_compare_to_sample_percentile_with_several_ties_and_missing_sample_values():
    sample = pd.DataFrame({"a": [2.0, 2.0, 2.0, 1.0, np.nan, 5.0]})
    out = compare_to_sample(pd.Series({"a": 2.0}), sample, scale_min=1, scale_max=7, min_sample=2)
    # n = 5 (NaN ignored); 1 below + half of 3 ties = 2.5 of 5
    assert out.loc["a", "sample_n"] == 5
    assert out.loc["a", "percentile"] == pytest.approx(50.0)
    assert out.loc["a", "sample_mean"] == pytest.approx(2.4)
    # lowest and highest possible percentiles
    low = compare_to_sample(pd.Series({"a": 0.5}), sample, scale_min=1, scale_max=7, min_sample=2)
    high = compare_to_sample(pd.Series({"a": 9.0}), sample, scale_min=1, scale_max=7, min_sample=2)
    assert low.loc["a", "percentile"] == 0.0
    assert high.loc["a", "percentile"] == 100.0


def test_compare_to_sample_basis_switches_at_min_sample():
    sample = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0]})
    own = pd.Series({"a": 4.0})
    assert compare_to_sample(own, sample, scale_min=1, scale_max=7, min_sample=5).loc["a", "basis"] == "sample"
    scale = compare_to_sample(own, sample, scale_min=1, scale_max=7, min_sample=6)
    row = scale.loc["a"]
    assert row["basis"] == "scale"
    # on a 1..7 scale: midpoint 4, sd 6 / 4 = 1.5 -> z = (4 - 4) / 1.5 = 0
    assert row["z"] == pytest.approx(0.0)
    # the sample's numbers are still reported
    assert row["sample_n"] == 5
    assert row["sample_mean"] == pytest.approx(3.0)
    assert row["sample_sd"] == pytest.approx(1.5811388300841898)
    assert row["percentile"] == pytest.approx(70.0)


def test_compare_to_sample_default_min_sample_is_30():
    rng = np.random.default_rng(3)
    values = rng.normal(4, 1, size=30)
    own = pd.Series({"a": 6.0})
    assert compare_to_sample(own, pd.DataFrame({"a": values}), scale_min=1, scale_max=7).loc["a", "basis"] == "sample"
    out = compare_to_sample(own, pd.DataFrame({"a": values[:29]}), scale_min=1, scale_max=7)
    assert out.loc["a", "basis"] == "scale"
    # (6 - 4) / 1.5
    assert out.loc["a", "z"] == pytest.approx(4 / 3)


def test_compare_to_sample_scale_fallback_on_other_scale():
    # 1..5 scale: midpoint 3, sd 1
    out = compare_to_sample(pd.Series({"a": 1.5}), pd.DataFrame({"a": [2.0]}), scale_min=1, scale_max=5)
    assert out.loc["a", "z"] == pytest.approx(-1.5)
    assert out.loc["a", "sample_n"] == 1
    assert out.loc["a", "sample_mean"] == pytest.approx(2.0)
    assert math.isnan(out.loc["a", "sample_sd"])
    assert out.loc["a", "percentile"] == 0.0


def test_compare_to_sample_missing_code():
    sample = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    out = compare_to_sample(pd.Series({"b": 5.5}), sample, scale_min=1, scale_max=7)
    row = out.loc["b"]
    assert row["sample_n"] == 0
    assert row["basis"] == "scale"
    # (5.5 - 4) / 1.5 = 1
    assert row["z"] == pytest.approx(1.0)
    assert math.isnan(row["sample_mean"])
    assert math.isnan(row["sample_sd"])
    assert math.isnan(row["percentile"])


def test_compare_to_sample_all_missing_column_counts_as_no_sample():
    sample = pd.DataFrame({"a": [np.nan, np.nan]})
    out = compare_to_sample(pd.Series({"a": 2.5}), sample, scale_min=1, scale_max=7)
    assert out.loc["a", "sample_n"] == 0
    assert out.loc["a", "z"] == pytest.approx(-1.0)
    assert math.isnan(out.loc["a", "percentile"])


def test_compare_to_sample_zero_sd_gives_z_zero():
    sample = pd.DataFrame({"a": [3.0, 3.0, 3.0, 3.0]})
    out = compare_to_sample(pd.Series({"a": 5.0}), sample, scale_min=1, scale_max=7, min_sample=4)
    assert out.loc["a", "basis"] == "sample"
    assert out.loc["a", "sample_sd"] == 0.0
    assert out.loc["a", "z"] == 0.0
    assert out.loc["a", "percentile"] == 100.0


def test_compare_to_sample_equal_values_with_rounding_still_zero_sd():
    # numpy's std of seven times 0.1 is ~1.5e-17, not 0; the sample still does not vary
    sample = pd.DataFrame({"a": [0.1] * 7})
    out = compare_to_sample(pd.Series({"a": 0.2}), sample, scale_min=0, scale_max=1, min_sample=7)
    assert out.loc["a", "sample_sd"] == 0.0
    assert out.loc["a", "z"] == 0.0


def test_compare_to_sample_nan_own_score_kept():
    sample = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]})
    own = pd.Series({"a": np.nan, "b": 2.0})
    out = compare_to_sample(own, sample, scale_min=1, scale_max=7, min_sample=3)
    assert list(out.index) == ["a", "b"]
    assert out.index.name == "code"
    assert math.isnan(out.loc["a", "score"])
    assert math.isnan(out.loc["a", "z"])
    assert math.isnan(out.loc["a", "percentile"])
    assert out.loc["a", "sample_n"] == 3
    assert out.loc["a", "sample_mean"] == pytest.approx(2.0)
    assert out.loc["b", "z"] == pytest.approx(0.0)
    assert out.loc["b", "percentile"] == pytest.approx(50.0)


def test_compare_to_sample_several_codes_and_empty_own():
    sample = pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, 6.0]})
    out = compare_to_sample(pd.Series({"b": 6.0, "a": 1.0}), sample, scale_min=1, scale_max=7, min_sample=2)
    assert list(out.index) == ["b", "a"]
    # b: mean 4, sd sqrt(8) -> z = 2 / 2.828427 = 0.7071068; a: mean 2, sd sqrt(2) -> z = -0.7071068
    assert out.loc["b", "z"] == pytest.approx(math.sqrt(0.5))
    assert out.loc["a", "z"] == pytest.approx(-math.sqrt(0.5))
    assert out.loc["b", "percentile"] == pytest.approx(75.0)
    assert out.loc["a", "percentile"] == pytest.approx(25.0)
    empty = compare_to_sample(pd.Series(dtype=float), sample, scale_min=1, scale_max=7)
    assert empty.empty
    assert list(empty.columns) == ["score", "sample_n", "sample_mean", "sample_sd", "z", "percentile", "basis"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale_min": 7, "scale_max": 1}, "scale_max"),
        ({"scale_min": 1, "scale_max": 7, "min_sample": 1}, "min_sample"),
    ],
)
def test_compare_to_sample_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare_to_sample(pd.Series({"a": 1.0}), pd.DataFrame({"a": [1.0, 2.0]}), **kwargs)


# --- resemble_profile ----------------------------------------------------------------------------------


def test_resemble_profile_recovers_nerd():
    rng = np.random.default_rng(2026)
    signature = _signature("Nerd")
    z = signature + rng.normal(0, 0.2, size=len(FACETS))
    result = resemble_profile(z)
    assert result.name == "Nerd"
    assert result.similarity > 0.8
    assert result.facets_used == 30
    nerd = REFERENCE_PROFILES["Nerd"]
    # with noise sd 0.2 every +1 facet is above 0.25 and every -1 facet below -0.25
    assert set(result.high) <= set(nerd.high)
    assert set(result.low) <= set(nerd.low)
    assert result.high == nerd.high
    assert result.low == nerd.low


def test_resemble_profile_high_and_low_only_where_participant_shows_it():
    z = _signature("Nerd")
    z["pers_sensitivity"] = 0.1  # a +1 facet only slightly above average
    z["comp_organisation"] = -0.2  # a -1 facet only slightly below average
    result = resemble_profile(z)
    assert result.name == "Nerd"
    assert "pers_sensitivity" not in result.high
    assert "comp_organisation" not in result.low
    assert len(result.high) == len(REFERENCE_PROFILES["Nerd"].high) - 1
    assert len(result.low) == len(REFERENCE_PROFILES["Nerd"].low) - 1


@pytest.mark.parametrize("name", list(REFERENCE_PROFILES))
def test_resemble_profile_recovers_each_profile(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    z = _signature(name) + rng.normal(0, 0.2, size=len(FACETS))
    result = resemble_profile(z)
    assert result.name == name
    assert result.similarity > 0.8
    assert result.ranking[0] == (name, result.similarity)


def test_resemble_profile_exact_signature_has_similarity_one():
    result = resemble_profile(_signature("Innovator"))
    assert result.name == "Innovator"
    assert result.similarity == pytest.approx(1.0)


def test_resemble_profile_ranking_sorted_and_complete():
    rng = np.random.default_rng(7)
    result = resemble_profile(pd.Series(rng.normal(size=len(FACETS)), index=list(FACETS)))
    assert len(result.ranking) == 6
    assert {name for name, _ in result.ranking} == set(REFERENCE_PROFILES)
    values = [value for _, value in result.ranking]
    assert values == sorted(values, reverse=True)
    assert all(-1.0 <= value <= 1.0 for value in values)
    assert result.similarity == values[0]


def test_resemble_profile_flat_vector_is_unmatched():
    result = resemble_profile(pd.Series(0.0, index=list(FACETS)))
    assert result.name == UNMATCHED
    assert result.similarity == 0.0
    assert result.high == []
    assert result.low == []
    assert len(result.ranking) == 6


def test_resemble_profile_noise_with_high_threshold_is_unmatched():
    rng = np.random.default_rng(11)
    z = pd.Series(rng.normal(size=len(FACETS)), index=list(FACETS))
    result = resemble_profile(z, min_similarity=0.95)
    assert result.name == UNMATCHED
    assert result.similarity < 0.95
    assert result.high == []
    assert result.low == []


def test_resemble_profile_ignores_other_codes_and_missing_facets():
    z = _signature("Status Seeker")
    z[FACETS[0]] = np.nan
    z[FACETS[1]] = np.nan
    z["career_clarity"] = 5.0
    z["not_a_facet"] = -3.0
    result = resemble_profile(z)
    assert result.facets_used == 28
    assert result.name == "Status Seeker"
    assert result.similarity == pytest.approx(1.0)


def test_resemble_profile_too_few_facets_raises():
    z = _signature("Nerd").iloc[:14]
    with pytest.raises(ValueError, match=r"14 facets present, at least 15 needed"):
        resemble_profile(z)
    all_nan = pd.Series(np.nan, index=list(FACETS))
    with pytest.raises(ValueError, match="too few facet scores"):
        resemble_profile(all_nan)
    assert resemble_profile(z, min_facets=14).facets_used == 14


# --- movement ------------------------------------------------------------------------------------------


def test_movement_known_changes_and_directions():
    previous = pd.Series({"a": 3.0, "b": 5.0, "c": 4.0, "d": 2.0, "e": 6.0})
    current = pd.Series({"a": 4.0, "b": 4.5, "c": 4.2, "d": 2.5, "e": 5.6})
    result = movement(current, previous)
    changes = result.changes
    assert list(changes.columns) == ["previous", "current", "change", "direction"]
    assert list(changes.index) == ["a", "b", "c", "d", "e"]
    assert changes["change"].to_list() == pytest.approx([1.0, -0.5, 0.2, 0.5, -0.4])
    assert changes["direction"].to_list() == ["up", "down", "same", "up", "same"]
    assert changes.loc["b", "previous"] == 5.0
    assert changes.loc["b", "current"] == 4.5


def test_movement_threshold_in_scale_points_with_float_rounding():
    # 4.1 - 3.6 is 0.4999999999999996 in floating point, still a change of half a point
    result = movement(pd.Series({"a": 4.1, "b": 3.6}), pd.Series({"a": 3.6, "b": 4.1}))
    assert result.changes["direction"].to_list() == ["up", "down"]
    wider = movement(pd.Series({"a": 4.1, "b": 3.6}), pd.Series({"a": 3.6, "b": 4.1}), threshold=1.0)
    assert wider.changes["direction"].to_list() == ["same", "same"]


def test_movement_profile_changed():
    scores = pd.Series({"a": 1.0})
    changed = movement(scores, scores, previous_profile="Nerd", current_profile="Innovator")
    assert changed.profile_changed is True
    assert changed.previous_profile == "Nerd"
    assert changed.current_profile == "Innovator"
    assert movement(scores, scores, previous_profile="Nerd", current_profile="Nerd").profile_changed is False
    assert movement(scores, scores, current_profile="Nerd").profile_changed is False
    assert movement(scores, scores).profile_changed is False
    assert movement(scores, scores, previous_profile=UNMATCHED, current_profile="Nerd").profile_changed is True


def test_movement_drops_missing_codes():
    previous = pd.Series({"a": 3.0, "b": np.nan, "c": 4.0, "only_previous": 1.0})
    current = pd.Series({"a": 3.0, "b": 5.0, "c": np.nan, "only_current": 2.0})
    result = movement(current, previous)
    assert list(result.changes.index) == ["a"]
    assert result.changes.loc["a", "change"] == 0.0
    assert result.changes.loc["a", "direction"] == "same"


def test_movement_rejects_non_positive_threshold():
    with pytest.raises(ValueError, match="threshold"):
        movement(pd.Series({"a": 1.0}), pd.Series({"a": 1.0}), threshold=0)

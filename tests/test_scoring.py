"""Tests for analysis.scoring: known answers computed by hand, from published examples or from planted models."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.scoring import (
    ScaleDefinition,
    cronbach_alpha,
    describe_by,
    mcdonald_omega,
    reliability,
    scales_from_instrument,
    score,
)

KOMPAS_YAML = (
    Path(__file__).resolve().parents[1] / "studyapp" / "instruments" / "definitions" / "carriere-kompas-2026.1.yaml"
)


def _alpha_from_covariance(cov: np.ndarray) -> float:
    """Textbook alpha from a covariance matrix: k/(k-1) * (1 - trace / sum of all entries)."""
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


def _data_with_covariance(cov: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """Rows whose sample covariance (ddof=1) is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    # whiten to an exact identity sample covariance, then colour with the Cholesky factor
    white = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    x = white @ np.linalg.cholesky(cov).T + 4.0
    return pd.DataFrame(x, columns=[f"i{j}" for j in range(cov.shape[0])])


def _congeneric(loadings: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """Standardised items ``x_j = lambda_j f + sqrt(1 - lambda_j^2) e_j``."""
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal((n, 1))
    errors = rng.standard_normal((n, len(loadings)))
    x = factor * loadings + errors * np.sqrt(1 - loadings**2)
    return pd.DataFrame(x, columns=[f"x{j}" for j in range(len(loadings))])


def _population_omega(loadings: np.ndarray) -> float:
    common = loadings.sum() ** 2
    return common / (common + (1 - loadings**2).sum())


# --- score -----------------------------------------------------------------------------------------------


def test_score_hand_computed_with_reverse_item_and_min_answered():
    answers = pd.DataFrame(
        {
            "pseudonym": ["p1", "p2", "p3"],
            "wave": [1, 1, 2],
            "a1": [4.0, np.nan, 2.0],
            "a2": [5.0, 3.0, np.nan],
            "a3": [2.0, np.nan, 5.0],
        }
    )
    scales = [
        ScaleDefinition("alpha_scale", ("a1", "a2", "a3"), frozenset({"a3"}), 1, 5, 0.5),
        # b_absent is not in the frame: it counts as missing, so one of two items is answered at most
        ScaleDefinition("with_absent", ("a1", "b_absent"), frozenset(), 1, 5, 0.5),
        ScaleDefinition("all_required", ("a1", "a2"), frozenset(), 1, 5, 1.0),
    ]
    scores = score(answers, scales)

    assert list(scores.columns) == ["pseudonym", "wave", "alpha_scale", "with_absent", "all_required"]
    assert scores["pseudonym"].tolist() == ["p1", "p2", "p3"]
    assert scores["wave"].tolist() == [1, 1, 2]
    # p1: 4, 5 and reversed 2 -> 5 + 1 - 2 = 4; (4 + 5 + 4) / 3
    assert scores.loc[0, "alpha_scale"] == pytest.approx(13 / 3)
    # p2: one of three answered (1/3 < 0.5) -> NaN
    assert np.isnan(scores.loc[1, "alpha_scale"])
    # p3: 2 and reversed 5 -> 1; two of three answered -> (2 + 1) / 2
    assert scores.loc[2, "alpha_scale"] == pytest.approx(1.5)
    # one of two answered is exactly the 0.5 share
    assert scores["with_absent"].tolist()[0] == pytest.approx(4.0)
    assert np.isnan(scores.loc[1, "with_absent"])
    assert scores.loc[0, "all_required"] == pytest.approx(4.5)
    assert scores["all_required"].iloc[1:].isna().all()


def test_score_keeps_an_id_index_and_refuses_out_of_range_answers():
    answers = pd.DataFrame(
        {"q1": [1.0, 7.0], "q2": [7.0, 1.0]},
        index=pd.MultiIndex.from_tuples([("p1", 1), ("p1", 2)], names=["pseudonym", "wave"]),
    )
    scale = ScaleDefinition("s", ("q1", "q2"), frozenset({"q2"}), 1, 7)
    scores = score(answers, [scale])
    assert scores.index.equals(answers.index)
    assert scores["s"].tolist() == [1.0, 7.0]

    with pytest.raises(ValueError, match="outside"):
        score(answers.assign(q1=[0.0, 8.0]), [scale])


def test_scale_definition_rejects_reverse_items_outside_the_scale():
    with pytest.raises(ValueError, match="reverse-keyed"):
        ScaleDefinition("s", ("q1", "q2"), frozenset({"q3"}), 1, 7)


# --- Cronbach's alpha ------------------------------------------------------------------------------------


def test_alpha_matches_the_textbook_covariance_formula():
    data = pd.DataFrame(
        {
            "i1": [3, 4, 5, 2, 4, 3, 5, 1, 2, 4],
            "i2": [2, 4, 4, 3, 5, 3, 4, 2, 1, 5],
            "i3": [3, 5, 4, 2, 4, 2, 5, 2, 2, 3],
            "i4": [4, 3, 5, 1, 4, 3, 4, 1, 3, 4],
        },
        dtype=float,
    )
    expected = _alpha_from_covariance(np.cov(data.to_numpy(), rowvar=False))
    assert cronbach_alpha(data) == pytest.approx(expected, abs=1e-12)


def test_alpha_uses_listwise_complete_rows():
    data = pd.DataFrame({"i1": [1.0, 2, 3, 4, 5, np.nan], "i2": [2.0, 2, 4, 4, 5, 1], "i3": [1.0, 3, 3, 5, 4, 7]})
    complete = data.dropna().to_numpy()
    assert cronbach_alpha(data) == pytest.approx(_alpha_from_covariance(np.cov(complete, rowvar=False)))


def test_alpha_published_examples():
    # pingouin's cronbach_alpha on this 10 x 3 survey (tutorial example, e.g. Statology): 0.773
    survey = pd.DataFrame(
        {
            "Q1": [1, 2, 2, 3, 2, 2, 3, 3, 2, 3],
            "Q2": [1, 1, 1, 2, 3, 3, 2, 3, 3, 3],
            "Q3": [1, 1, 2, 1, 2, 3, 3, 3, 2, 3],
        }
    )
    assert cronbach_alpha(survey) == pytest.approx(0.773, abs=5e-4)
    # StatsBase.jl's cronbachalpha docstring: this covariance matrix gives 0.8136
    cov = np.array([[10, 6, 6, 6], [6, 11, 6, 6], [6, 6, 12, 6], [6, 6, 6, 13]], dtype=float)
    assert cronbach_alpha(_data_with_covariance(cov, n=50, seed=3)) == pytest.approx(0.8136, abs=5e-5)


def test_alpha_is_nan_for_one_item_or_no_variance():
    assert np.isnan(cronbach_alpha(pd.DataFrame({"i1": [1.0, 2, 3]})))
    assert np.isnan(cronbach_alpha(pd.DataFrame({"i1": [3.0, 3, 3], "i2": [4.0, 4, 4]})))


# --- McDonald's omega ------------------------------------------------------------------------------------


def test_omega_recovers_the_population_value_of_congeneric_items():
    loadings = np.array([0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    data = _congeneric(loadings, n=5000, seed=20260)
    population = _population_omega(loadings)  # 0.8222
    assert mcdonald_omega(data) == pytest.approx(population, abs=0.02)
    # with unequal loadings alpha is a lower bound, visibly below omega
    assert cronbach_alpha(data) < mcdonald_omega(data)


def test_omega_loadings_agree_with_statsmodels_principal_axis_factoring():
    # iterated principal axis factoring converges to the same least-squares (MINRES) solution
    factor = pytest.importorskip("statsmodels.multivariate.factor")
    data = _congeneric(np.array([0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), n=2000, seed=1)
    fit = factor.Factor(data.to_numpy(), n_factor=1, method="pa").fit()
    loadings = np.abs(fit.loadings.ravel())
    common = loadings.sum() ** 2
    assert mcdonald_omega(data) == pytest.approx(common / (common + (1 - loadings**2).sum()), abs=1e-6)


def test_omega_equals_alpha_for_tau_equivalent_items():
    loadings = np.full(5, 0.6)
    data = _congeneric(loadings, n=5000, seed=7)
    omega = mcdonald_omega(data)
    assert omega == pytest.approx(cronbach_alpha(data), abs=0.02)
    assert omega == pytest.approx(_population_omega(loadings), abs=0.02)


def test_omega_needs_recoded_reverse_items_and_handles_two_items():
    loadings = np.array([0.7, 0.7, 0.7, 0.7])
    data = _congeneric(loadings, n=3000, seed=11)
    flipped = data.assign(x3=-data["x3"])
    # an unrecoded reverse item lowers omega; recoding it back restores the value
    assert mcdonald_omega(flipped) < mcdonald_omega(data) - 0.1
    # two items: equal loadings, omega = 2r / (1 + r)
    r = np.corrcoef(data["x0"], data["x1"])[0, 1]
    assert mcdonald_omega(data[["x0", "x1"]]) == pytest.approx(2 * r / (1 + r))
    assert np.isnan(mcdonald_omega(data[["x0"]]))


# --- instrument definition -------------------------------------------------------------------------------


def test_scales_from_the_carriere_kompas_definition():
    definition = yaml.safe_load(KOMPAS_YAML.read_text(encoding="utf-8"))
    scales = {scale.code: scale for scale in scales_from_instrument(definition)}

    assert set(scales) == {facet["code"] for facet in definition["facets"]}
    clarity = scales["career_clarity"]
    assert len(clarity.items) == 3
    assert clarity.reverse == frozenset({"cc_unsure_direction"})
    assert (clarity.min_value, clarity.max_value, clarity.min_answered) == (1, 7, 0.5)
    assert len(scales["identification"].items) == 6
    assert scales["pers_extraversion"].reverse  # shy and introvert are reverse-keyed
    all_items = [item for scale in scales.values() for item in scale.items]
    assert len(all_items) == len(set(all_items))


def test_scales_from_the_stored_definition_match_the_yaml():
    # the database keeps the validated definition as model_dump(mode="json"): defaults filled in, None for unset
    loader = pytest.importorskip("studyapp.instruments.loader")
    text = KOMPAS_YAML.read_text(encoding="utf-8")
    stored = loader.parse_definition(text, str(KOMPAS_YAML)).model_dump(mode="json")
    assert scales_from_instrument(stored) == scales_from_instrument(yaml.safe_load(text))


def test_scales_from_instrument_reads_min_answered_and_refuses_unknown_scales():
    definition = {
        "response_scales": {"agree5": {"min": 1, "max": 5}},
        "facets": [{"code": "f", "min_answered": 0.75}, {"code": "empty"}],
        "sections": [
            {
                "items": [
                    {"code": "q1", "type": "scale", "scale": "agree5", "facet": "f"},
                    {"code": "q2", "type": "scale", "scale": "agree5", "facet": "f", "reverse": True},
                    {"code": "age", "type": "number"},
                ]
            }
        ],
    }
    (scale,) = scales_from_instrument(definition)
    assert scale == ScaleDefinition("f", ("q1", "q2"), frozenset({"q2"}), 1, 5, 0.75)

    definition["sections"][0]["items"][0]["scale"] = "nope"
    with pytest.raises(ValueError, match="unknown response scale"):
        scales_from_instrument(definition)


# --- reliability and descriptives -------------------------------------------------------------------------


def test_reliability_by_wave_gives_one_row_per_scale_and_wave():
    rng = np.random.default_rng(5)
    frames = []
    for wave in (1, 2, 3):
        n = 400
        factor = rng.standard_normal(n)
        raw = {f"q{j}": factor * 0.8 + rng.standard_normal(n) * 0.6 for j in range(4)}
        raw["q3"] = -raw["q3"]  # planted reverse-keyed item
        items = {code: np.clip(np.round(4 + values), 1, 7) for code, values in raw.items()}
        frames.append(pd.DataFrame({"pseudonym": [f"p{i}" for i in range(n)], "wave": wave, **items}))
    answers = pd.concat(frames, ignore_index=True)
    scales = [
        ScaleDefinition("main", ("q0", "q1", "q2", "q3"), frozenset({"q3"}), 1, 7),
        ScaleDefinition("single", ("q0",), frozenset(), 1, 7),
    ]

    table = reliability(answers, scales, by="wave")

    assert list(table.columns) == ["scale", "wave", "n_items", "n_complete", "alpha", "omega", "note"]
    assert len(table) == 2 * 3
    assert sorted(zip(table["scale"], table["wave"], strict=True)) == [
        (s, w) for s in ("main", "single") for w in (1, 2, 3)
    ]
    main = table[table["scale"] == "main"]
    assert (main["n_items"] == 4).all() and (main["n_complete"] == 400).all()
    # recoding the planted reverse item makes the scale coherent
    assert (main["alpha"] > 0.8).all() and (main["omega"] > 0.8).all()
    wave2 = answers[answers["wave"] == 2][["q0", "q1", "q2", "q3"]].assign(q3=lambda d: 8 - d["q3"])
    assert main.loc[main["wave"] == 2, "alpha"].item() == pytest.approx(cronbach_alpha(wave2))
    single = table[table["scale"] == "single"]
    assert single["alpha"].isna().all() and single["omega"].isna().all()
    assert (single["note"] == "fewer than 2 items").all()

    overall = reliability(answers, scales)
    assert list(overall["scale"]) == ["main", "single"] and "wave" not in overall.columns


def test_describe_by_hand_computed():
    scores = pd.DataFrame(
        {
            "pseudonym": ["a", "b", "c", "a", "b"],
            "wave": [1, 1, 1, 2, 2],
            "clarity": [2.0, 4.0, 6.0, 5.0, np.nan],
            "identification": [1.0, 1.0, 4.0, 3.0, 7.0],
        }
    )
    table = describe_by(scores, "wave")

    assert list(table.columns) == ["wave", "variable", "n", "mean", "sd", "min", "max"]
    assert list(zip(table["wave"], table["variable"], strict=True)) == [
        (1, "clarity"),
        (1, "identification"),
        (2, "clarity"),
        (2, "identification"),
    ]
    first = table.iloc[0]
    assert (first["n"], first["mean"], first["sd"], first["min"], first["max"]) == (3, 4.0, 2.0, 2.0, 6.0)
    ident_2 = table.iloc[3]
    assert ident_2["n"] == 2 and ident_2["mean"] == 5.0 and ident_2["sd"] == pytest.approx(np.sqrt(8))
    clarity_2 = table.iloc[2]
    assert clarity_2["n"] == 1 and clarity_2["mean"] == 5.0 and np.isnan(clarity_2["sd"])

    only = describe_by(scores.set_index(["pseudonym", "wave"]), "wave", columns=["identification"])
    assert only["variable"].tolist() == ["identification", "identification"]

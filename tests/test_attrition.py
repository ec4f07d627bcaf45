"""Attrition weights (analysis.attrition) and the informative dropout of the synthetic cohort.

The numbers are checked against planted truth (the whole cohort's true profiles, the dropout model
planted in :func:`analysis.synthetic.simulate_cohort`), against statsmodels fitted here on a design built
here, and against hand computations on small panels whose saturated retention models have the cell
proportions as fitted probabilities.
"""

# X for a design matrix, as in statsmodels.
# ruff: noqa: N806

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.attrition import (
    MISSING,
    attrition_weights,
    compare_shares,
    retention_model,
    weighted_shares,
    weighted_transitions,
)
from analysis.synthetic import PROFILE_NAMES, load_definition, simulate_cohort

# Einzelgänger and Traditionalist (the least identified with the profession) drop out more.
PROFILE_BIAS = {"Einzelgänger": 2.0, "Traditionalist": 2.0}
DRIVEN = ("Einzelgänger", "Traditionalist")


@pytest.fixture(scope="module")
def definition():
    return load_definition()


def _panel(cohort):
    """Long panel of the waves answered: true profile, wish to work outside the sector, frame variables."""
    states = cohort.truth["states"]
    panel = states[states["observed"]].drop(columns="observed")
    wish = cohort.answers[cohort.answers["item"] == "work_future_sector"]
    panel = panel.merge(
        wish[["pseudonym", "wave", "value"]].rename(columns={"value": "future_sector"}), on=["pseudonym", "wave"]
    )
    panel["wants_out"] = panel["future_sector"] == 2
    frame = cohort.participants[["pseudonym", "gender", "institution"]].copy()
    frame["institution"] = frame["institution"].where(frame["institution"] != "unknown")  # not answered
    return panel.merge(frame, on="pseudonym")


def _cells(spec, n_waves):
    """A panel from cells: ``(x, n, n answering wave 2, n answering wave 3, ...)``, monotone dropout."""
    rows = []
    start = 0
    for x, *counts in spec:
        for wave, count in enumerate(counts[:n_waves], start=1):
            rows += [{"pseudonym": f"P{start + i:05d}", "wave": wave, "x": x} for i in range(count)]
        start += counts[0]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- generator


def test_biased_dropout_changes_only_who_takes_part(definition):
    plain = simulate_cohort(600, n_waves=3, random_state=5, definition=definition)
    biased = simulate_cohort(
        600, n_waves=3, attrition=0.15, attrition_bias=PROFILE_BIAS, random_state=5, definition=definition
    )
    # the same people and the same true profiles: the mechanism decides only who answers
    pd.testing.assert_frame_equal(
        plain.participants.drop(columns="last_wave"), biased.participants.drop(columns="last_wave")
    )
    assert plain.truth["states"]["profile"].equals(biased.truth["states"]["profile"])
    assert plain.truth["attrition_mechanism"]["driver"] == "random"
    mechanism = biased.truth["attrition_mechanism"]
    assert mechanism["driver"] == "profile" and mechanism["bias"] == PROFILE_BIAS
    assert len(mechanism["intercepts"]) == 2
    # the intercepts solve "expected dropout among the wave's participants = attrition"
    states = biased.truth["states"].pivot(index="pseudonym", columns="wave", values="profile")
    present = biased.truth["states"].pivot(index="pseudonym", columns="wave", values="observed")
    for t, a in enumerate(mechanism["intercepts"], start=1):
        shift = states.loc[present[t], t].map(PROFILE_BIAS).fillna(0.0).to_numpy()
        assert np.mean(1 / (1 + np.exp(-(a + shift)))) == pytest.approx(0.15, abs=1e-9)
    with pytest.raises(ValueError, match="unknown profiles"):
        simulate_cohort(10, attrition_bias={"Hermit": 1.0}, definition=definition)


# ------------------------------------------------------------------------------- planted bias


@pytest.mark.parametrize("seed", [101, 102, 103, 104, 105])
def test_weights_remove_the_planted_attrition_bias(seed, definition):
    cohort = simulate_cohort(
        3000, n_waves=3, attrition=0.2, attrition_bias=PROFILE_BIAS, random_state=seed, definition=definition
    )
    panel = _panel(cohort)
    weights = attrition_weights(panel, ["profile", "gender"])
    table = compare_shares(panel, "profile", weights, categories=list(PROFILE_NAMES))
    last = table[table["wave"] == 3].set_index("category")
    # the target: the whole cohort's true profile shares at wave 3, dropouts included
    states = cohort.truth["states"]
    truth = states[states["wave"] == 3]["profile"].value_counts(normalize=True).reindex(list(PROFILE_NAMES))
    inside_plain = (last["ci_low"] <= truth) & (truth <= last["ci_high"])
    inside_weighted = (last["weighted_ci_low"] <= truth) & (truth <= last["weighted_ci_high"])
    assert not inside_plain[list(DRIVEN)].any(), (last, truth)  # the stayers under-represent them
    assert (last.loc[list(DRIVEN), "share"] < truth[list(DRIVEN)]).all()
    assert inside_weighted.all(), (last, truth)
    assert (last["weighted_share"] - truth).abs().max() < 0.5 * (last["share"] - truth).abs().max()


# ------------------------------------------------------------------------------ retention model


def test_retention_model_matches_statsmodels_and_recovers_the_planted_effect(definition):
    cohort = simulate_cohort(4000, n_waves=2, attrition=0.2, attrition_bias=2.0, random_state=11, definition=definition)
    assert cohort.truth["attrition_mechanism"]["driver"] == "intention"
    panel = _panel(cohort)
    model = retention_model(panel, 1, ["wants_out", "gender", "institution", "profile"])

    # an independent design: dummies written out here, references the most frequent levels
    first = panel[panel["wave"] == 1].set_index("pseudonym")
    y = first.index.isin(panel.loc[panel["wave"] == 2, "pseudonym"]).astype(float)
    institution = first["institution"].fillna(MISSING)
    X = pd.DataFrame(
        {
            "Intercept": 1.0,
            "wants_out[True]": first["wants_out"].astype(float),
            "gender[woman]": (first["gender"] == "woman").astype(float),
            "institution[hbo]": (institution == "hbo").astype(float),
            f"institution[{MISSING}]": (institution == MISSING).astype(float),
        }
    )
    reference = first["profile"].value_counts().idxmax()
    for name in sorted(set(PROFILE_NAMES) - {reference}):
        X[f"profile[{name}]"] = (first["profile"] == name).astype(float)
    direct = sm.Logit(y, X).fit(disp=0)
    assert model.references == {"wants_out": False, "gender": "man", "institution": "wo", "profile": reference}
    params = model.params
    assert set(params.index) == set(X.columns)
    np.testing.assert_allclose(params[X.columns], direct.params[X.columns], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.result.bse[X.columns], direct.bse[X.columns], rtol=1e-5)
    row = model.to_frame().set_index("term").loc["wants_out[True]"]
    assert row["odds_ratio"] == pytest.approx(np.exp(direct.params["wants_out[True]"]))
    assert row["n"] == int(first["wants_out"].sum())

    # planted: logit P(drop) = a_1 + 2 * wants_out, so retention's coefficient is -2
    b, se = params["wants_out[True]"], model.result.bse["wants_out[True]"]
    assert b < 0 and abs(b + 2.0) < 3 * se and se < 0.2
    a_1 = cohort.truth["attrition_mechanism"]["intercepts"][0]
    assert 1 - model.n_retained / model.n == pytest.approx(0.2, abs=0.02)
    # no effect planted for gender: the intercept is -a_1 for a man with the reference answers
    assert abs(params["Intercept"] + a_1) < 3 * model.result.bse["Intercept"]
    assert "Retention from wave 1 to wave 2" in model.summary()


# ------------------------------------------------------------------------------------- weights


# x: n, answered wave 2, answered wave 3 (d is rare and drops out almost entirely: an extreme propensity)
EXTREME = [("a", 400, 360, 324), ("b", 300, 240, 168), ("c", 200, 120, 60), ("d", 100, 10, 2)]


def test_weights_are_stabilised_cumulative_trimmed_and_normalised():
    panel = _cells(EXTREME, 3)
    n1, n2, n3 = (np.array([cell[i] for cell in EXTREME], dtype=float) for i in (1, 2, 3))
    # saturated model: fitted retention = the cell's rate; numerator: the marginal rate
    w2 = (n2.sum() / n1.sum()) / (n2 / n1)
    w3 = w2 * (n3.sum() / n2.sum()) / (n3 / n2)
    raw = np.repeat(w3, n3.astype(int))
    lower, upper = np.quantile(raw, [0.01, 0.99])
    assert upper == pytest.approx(w3[2])  # the 99th percentile falls among c's weights: d is trimmed

    weights = attrition_weights(panel, ["x"])
    report = weights.trimming.set_index("wave")
    assert report.loc[3, "lower"] == pytest.approx(lower) and report.loc[3, "upper"] == pytest.approx(upper)
    assert report.loc[3, "n_trimmed_high"] == 2 and report.loc[3, "n_trimmed_low"] == 0
    assert report.loc[3, "n_retained"] == 554
    final = weights.for_wave(3)
    by_x = panel[panel["wave"] == 3].set_index("pseudonym")["x"]
    got = final.groupby(by_x.reindex(final.index)).agg(["min", "max"])
    expected = np.clip(w3, lower, upper) / np.clip(raw, lower, upper).mean()  # per cell a, b, c, d
    np.testing.assert_allclose(got["min"], expected, rtol=1e-7)
    np.testing.assert_allclose(got["max"], expected, rtol=1e-7)
    for wave in (1, 2, 3):
        assert weights.for_wave(wave).mean() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(weights.for_wave(1), 1.0)
    # stabilised (before trimming): the hand products
    stabilised = weights.weights[weights.weights["wave"] == 3].set_index("pseudonym")["stabilised"]
    np.testing.assert_allclose(stabilised.groupby(by_x.reindex(stabilised.index)).first(), w3, rtol=1e-7)
    assert report.loc[3, "max_after"] < report.loc[3, "max_before"]
    assert "Trimming: at the 1% and 99% percentiles" in weights.summary()

    untrimmed = attrition_weights(panel, ["x"], trim=None)
    assert untrimmed.for_wave(3).max() == pytest.approx(w3[3] / raw.mean(), rel=1e-7)
    assert untrimmed.trimming["n_trimmed_high"].sum() == 0


def test_weights_are_one_when_dropout_does_not_depend_on_the_predictor():
    # every level keeps exactly 80% then 75%: the saturated model's probabilities equal the marginal rate
    panel = _cells([("a", 400, 320, 240), ("b", 100, 80, 60), ("c", 50, 40, 30)], 3)
    weights = attrition_weights(panel, ["x"], trim=(0.05, 0.95))
    np.testing.assert_allclose(weights.weights["stabilised"], 1.0, rtol=1e-8)
    np.testing.assert_allclose(weights.weights["weight"], 1.0, rtol=1e-8)


def test_numerator_model_on_a_subset():
    # x within v: numerator P(retained | v), denominator P(retained | v, x); both saturated
    panel = _cells([("a", 200, 180), ("b", 200, 100), ("c", 100, 90), ("d", 100, 30)], 2)
    panel["v"] = panel["x"].map({"a": "u", "b": "u", "c": "w", "d": "w"})
    panel["x"] = panel["x"].map({"a": "k", "b": "m", "c": "k", "d": "m"})  # crossed with v: not saturated
    weights = attrition_weights(panel, ["v", "x"], numerator=["v"], trim=None)
    num = weights.numerator_models[1].fitted
    np.testing.assert_allclose(
        num.groupby(panel[panel["wave"] == 1].set_index("pseudonym")["v"]).first(), [280 / 400, 120 / 200]
    )
    assert weights.numerator == "retention model on v"
    with pytest.raises(ValueError, match="subset"):
        attrition_weights(panel, ["x"], numerator=["v"])


# -------------------------------------------------------------------------------------- edges


def test_nobody_drops_out():
    panel = _cells([("a", 50, 50, 50), ("b", 30, 30, 30)], 3)
    weights = attrition_weights(panel, ["x"])
    np.testing.assert_allclose(weights.weights["weight"], 1.0)
    assert len(weights.weights) == 240
    assert all(m.result is None and m.n_retained == m.n for m in weights.models.values())
    assert "No model" in weights.summary()


def test_one_wave():
    panel = _cells([("a", 50), ("b", 30)], 1)
    weights = attrition_weights(panel, ["x"])
    assert weights.models == {}
    np.testing.assert_allclose(weights.for_wave(1), 1.0)
    with pytest.raises(ValueError, match="not followed"):
        retention_model(panel, 1, ["x"])


def test_a_category_where_everybody_stayed_is_fitted_as_the_limit_of_the_mle():
    rng = np.random.default_rng(7)
    n = 800
    x = rng.choice(["a", "b", "c", "d"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    g = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(0.5 + 0.8 * g - 0.7 * (x == "b") + 0.4 * (x == "c"))))
    stay = (rng.random(n) < p) | (x == "d")  # everybody in d stayed
    ids = [f"P{i:04d}" for i in range(n)]
    panel = pd.concat(
        [
            pd.DataFrame({"pseudonym": ids, "wave": 1, "x": x, "g": g}),
            pd.DataFrame({"pseudonym": ids, "wave": 2, "x": x, "g": g})[stay],
        ]
    )
    model = retention_model(panel, 1, ["x", "g"])
    assert model.separated[["predictor", "level", "rate"]].values.tolist() == [["x", "d", 1.0]]
    table = model.to_frame().set_index("term")
    assert table.loc["x[d]", "odds_ratio"] == np.inf and np.isnan(table.loc["x[d]", "ci_low"])
    np.testing.assert_allclose(model.fitted[x == "d"], 1.0)
    # the other coefficients: statsmodels on the rows outside d
    keep = x != "d"
    X = pd.DataFrame({"Intercept": 1.0, "x[b]": (x == "b") * 1.0, "x[c]": (x == "c") * 1.0, "g": g})[keep]
    direct = sm.Logit(stay[keep].astype(float), X).fit(disp=0)
    np.testing.assert_allclose(model.params[X.columns], direct.params, rtol=1e-6)
    assert "Separated: x = d" in model.summary()
    # the weights: d's stayers get the marginal rate over 1
    weights = attrition_weights(panel, ["x", "g"], trim=None)
    stabilised = weights.weights[weights.weights["wave"] == 2].set_index("pseudonym")["stabilised"]
    d_ids = [i for i, level in zip(ids, x, strict=True) if level == "d"]
    np.testing.assert_allclose(stabilised[d_ids], stay.mean())


# ---------------------------------------------------------------------------- shares and tables


def test_weighted_share_standard_errors_match_a_robust_weighted_regression():
    rng = np.random.default_rng(3)
    values = rng.choice(["p", "q", "r"], size=300, p=[0.5, 0.3, 0.2])
    w = rng.gamma(2.0, 0.5, size=300)
    shares = weighted_shares(values, w).set_index("category")
    for c in ("p", "q", "r"):
        y = (values == c).astype(float)
        fit = sm.WLS(y, np.ones((300, 1)), weights=w).fit(cov_type="HC1")
        assert shares.loc[c, "share"] == pytest.approx(fit.params[0])
        assert shares.loc[c, "se"] == pytest.approx(fit.bse[0], rel=1e-10)
    plain = weighted_shares(values).set_index("category")
    p = (values == "q").mean()
    assert plain.loc["q", "se"] == pytest.approx(np.sqrt(p * (1 - p) / 299))
    assert plain.loc["q", "ci_low"] == pytest.approx(p - 1.959963984540054 * np.sqrt(p * (1 - p) / 299))
    assert shares["n_effective"].iloc[0] == pytest.approx(w.sum() ** 2 / (w**2).sum())


def test_weighted_transitions_sum_the_weights_of_each_pair():
    panel = _cells([("a", 4, 3), ("b", 4, 2)], 2)
    # profiles: wave 1 follows x; at wave 2 one of a's stayers moved to B
    panel["profile"] = panel["x"].str.upper()
    moved = panel.index[(panel["wave"] == 2) & (panel["x"] == "a")][0]
    panel.loc[moved, "profile"] = "B"
    weights = attrition_weights(panel, ["x"], trim=None)
    table = weighted_transitions(panel, "profile", weights, 1, 2).set_index(["from", "to"])
    # weights: marginal 5/8 over a's 3/4 and b's 2/4, normalised over the 5 stayers
    wa, wb = (5 / 8) / (3 / 4), (5 / 8) / (2 / 4)
    mean = (3 * wa + 2 * wb) / 5
    assert table.loc[("A", "A"), "n"] == 2 and table.loc[("A", "B"), "n"] == 1
    assert table.loc[("A", "A"), "weighted_n"] == pytest.approx(2 * wa / mean)
    assert table.loc[("B", "B"), "weighted_n"] == pytest.approx(2 * wb / mean)
    assert table.loc[("A", "B"), "weighted_share"] == pytest.approx(1 / 3)
    assert table.loc[("B", "A"), "n"] == 0


def test_separation_by_a_numeric_predictor_is_refused():
    n = 200
    g = np.linspace(-1, 1, n)
    ids = [f"P{i:04d}" for i in range(n)]
    first = pd.DataFrame({"pseudonym": ids, "wave": 1, "g": g})
    panel = pd.concat([first, first.assign(wave=2)[g > 0]])  # g alone predicts who stays: no finite MLE
    with pytest.raises(ValueError, match="separation"):
        retention_model(panel, 1, ["g"])

"""R-indicators, partial R-indicators and the adaptive reminder rule (analysis/representativeness.py).

References: a hand computation from the definitions (a main-effects model whose fit is the cell response
rates), statsmodels' GLM for the logistic fit, a closed form of the bias of S^2 for a saturated model, and
planted truth (simulated frames with known propensities) for the intervals, the ranking of lagging
categories and the bias adjustment.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.representativeness import UNKNOWN, plan_targeted_reminders, r_indicator

# ---------------------------------------------------------------------------------------------------------
# Hand computation

# (A, B) -> (people, respondents). The cell response rates have additive log-odds (row b is row a with its
# odds divided by 3), so the main-effects logistic fit reproduces them exactly: rho_i = cell response rate.
HAND_CELLS = {
    ("a", "x"): (2, 1),  # 1/2
    ("a", "y"): (4, 3),  # 3/4
    ("a", "z"): (2, 1),  # 1/2
    ("b", "x"): (4, 1),  # 1/4
    ("b", "y"): (2, 1),  # 1/2
    ("b", "z"): (8, 2),  # 1/4
}


def hand_frame() -> pd.DataFrame:
    rows = []
    for (a, b), (people, respondents) in HAND_CELLS.items():
        rows += [{"A": a, "B": b, "responded": i < respondents} for i in range(people)]
    return pd.DataFrame(rows)


def test_hand_computation_of_r_cv_and_partial_indicators():
    frame = hand_frame()
    result = r_indicator(frame, "responded", ["A", "B"], bootstrap=0)

    # propensities: the cell response rates
    rho = [HAND_CELLS[(a, b)][1] / HAND_CELLS[(a, b)][0] for a, b in zip(frame["A"], frame["B"], strict=True)]
    n = len(rho)
    assert n == 22
    mean = sum(rho) / n
    assert mean == pytest.approx(9 / 22, abs=1e-15)
    s2 = sum((p - mean) ** 2 for p in rho) / (n - 1)
    assert s2 == pytest.approx(3 / 77, abs=1e-15)  # (6/121 + 900/1936 + 588/1936) / 21
    np.testing.assert_allclose(result.propensities.to_numpy(), rho, rtol=0, atol=1e-9)
    assert result.s == pytest.approx(math.sqrt(3 / 77), abs=1e-9)
    assert result.r == pytest.approx(1 - 2 * math.sqrt(3 / 77), abs=1e-9)
    assert result.cv == pytest.approx(math.sqrt(3 / 77) / (9 / 22), abs=1e-9)
    assert result.response_rate == pytest.approx(9 / 22, abs=1e-15)
    assert (result.n, result.respondents) == (22, 9)

    expected = {}
    for variable, other in (("A", "B"), ("B", "A")):
        for category in sorted(frame[variable].unique()):
            members = [i for i in range(n) if frame[variable][i] == category]
            rho_k = sum(rho[i] for i in members) / len(members)
            unconditional = math.sqrt(len(members) / n) * (rho_k - mean)
            # the mean propensity of the people with the same value of the other variable
            within = 0.0
            for i in members:
                same = [h for h in range(n) if frame[other][h] == frame[other][i]]
                within += (rho[i] - sum(rho[h] for h in same) / len(same)) ** 2
            expected[(variable, category)] = (unconditional, math.sqrt(within / n))
    # two of them written out: P_U(A, b) = sqrt(14/22) (rho_b - 9/22) with rho_b = (4/4 + 2/2 + 8/4) / 14 = 2/7;
    # P_C(A, a)^2 = (1/22)(2 (1/2 - 1/3)^2 + 4 (3/4 - 2/3)^2 + 2 (1/2 - 3/10)^2), the others' cells x, y, z
    # having mean propensities 1/3, 2/3 and 3/10
    assert expected[("A", "b")][0] == pytest.approx(math.sqrt(14 / 22) * (2 / 7 - 9 / 22), abs=1e-15)
    pc_aa = math.sqrt((2 * (1 / 2 - 1 / 3) ** 2 + 4 * (3 / 4 - 2 / 3) ** 2 + 2 * (1 / 2 - 3 / 10) ** 2) / 22)
    assert expected[("A", "a")][1] == pytest.approx(pc_aa, abs=1e-15)

    partials = result.partials.set_index(["variable", "category"])
    assert len(partials) == 5
    for key, (unconditional, conditional) in expected.items():
        assert partials.loc[key, "unconditional"] == pytest.approx(unconditional, abs=1e-9)
        assert partials.loc[key, "conditional"] == pytest.approx(conditional, abs=1e-9)
    assert partials.loc[("B", "z"), ["n", "respondents"]].tolist() == [10, 3]
    assert partials.loc[("B", "z"), "response_rate"] == pytest.approx(3 / 10)
    variables = result.variables.set_index("variable")
    for variable in ("A", "B"):
        u = math.sqrt(sum(v[0] ** 2 for k, v in expected.items() if k[0] == variable))
        c = math.sqrt(sum(v[1] ** 2 for k, v in expected.items() if k[0] == variable))
        assert variables.loc[variable, "unconditional"] == pytest.approx(u, abs=1e-9)
        assert variables.loc[variable, "conditional"] == pytest.approx(c, abs=1e-9)
    # most negative unconditional first
    assert result.partials["unconditional"].is_monotonic_increasing
    assert tuple(result.partials.iloc[0][["variable", "category"]]) == min(expected, key=lambda k: expected[k][0])


def test_bias_of_s2_for_a_saturated_model_matches_its_closed_form():
    # one auxiliary: the main-effects model is saturated, and the delta-method bias of the plug-in S^2 is
    # (sum_c rho_c (1 - rho_c) - sum_c n_c rho_c (1 - rho_c) / N) / (N - 1)
    cells = {"p": (10, 2), "q": (20, 10), "r": (30, 24)}
    frame = pd.DataFrame(
        [{"Z": z, "responded": i < resp} for z, (people, resp) in cells.items() for i in range(people)]
    )
    result = r_indicator(frame, "responded", ["Z"], bootstrap=0)
    n = 60
    w = {z: (resp / people) * (1 - resp / people) for z, (people, resp) in cells.items()}
    bias = (sum(w.values()) - sum(cells[z][0] * w[z] for z in cells) / n) / (n - 1)
    assert result.s_bias == pytest.approx(bias, abs=1e-9)
    assert result.r_adjusted == pytest.approx(1 - 2 * math.sqrt(result.s**2 - bias), abs=1e-9)
    assert result.r_adjusted > result.r


def test_bias_adjustment_removes_most_of_the_small_cell_bias():
    # a small frame with small cells (N = 300, 3 x 4 categories): the plug-in S^2 overstates the spread of
    # the true propensities; the adjusted one is close to it on average over 300 response draws
    rng = np.random.default_rng(11)
    n = 300
    frame = pd.DataFrame({name: rng.integers(0, 4, n).astype(str) for name in ("u", "v", "w")})
    logit = -0.3 + 0.25 * frame["u"].astype(int) - 0.2 * frame["v"].astype(int) + 0.1 * (frame["w"] == "3")
    truth = 1 / (1 + np.exp(-logit.to_numpy()))
    true_s2 = float(np.var(truth, ddof=1))
    plug_in, adjusted = [], []
    for _ in range(300):
        frame["responded"] = rng.random(n) < truth
        result = r_indicator(frame, "responded", ["u", "v", "w"], bootstrap=0)
        plug_in.append(result.s**2)
        adjusted.append(result.s**2 - result.s_bias)
    plug_in_bias = np.mean(plug_in) - true_s2
    adjusted_bias = np.mean(adjusted) - true_s2
    monte_carlo_se = np.std(plug_in, ddof=1) / math.sqrt(len(plug_in))
    assert plug_in_bias > 10 * monte_carlo_se  # the plug-in bias is real ...
    assert abs(adjusted_bias) < 0.2 * plug_in_bias  # ... and the adjustment removes most of it


# ---------------------------------------------------------------------------------------------------------
# The logistic fit against statsmodels


def test_logistic_fit_matches_statsmodels_glm():
    rng = np.random.default_rng(3)
    n = 1500
    frame = pd.DataFrame(
        {
            "institution": rng.choice(["hbo", "wo"], n),
            "cohort": rng.choice(["2016", "2018", "2020", "2022"], n),
            "work": rng.choice(["none", "part-time", "full-time"], n).astype(object),
        }
    )
    frame.loc[rng.random(n) < 0.05, "work"] = None  # missing: the category "unknown"
    logit = -0.4 + 0.8 * (frame["institution"] == "wo") - 0.3 * (frame["cohort"] == "2022") + 0.5 * frame["work"].isna()
    frame["responded"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    result = r_indicator(frame, "responded", ["institution", "cohort", "work"], bootstrap=0)

    # statsmodels on its own dummy coding: sorted categories, "unknown" last, the first the reference
    columns = {"Intercept": np.ones(n)}
    for name in ("institution", "cohort", "work"):
        values = frame[name].fillna(UNKNOWN)
        levels = sorted(set(frame[name].dropna())) + ([UNKNOWN] if frame[name].isna().any() else [])
        for level in levels[1:]:
            columns[f"{name}[{level}]"] = (values == level).to_numpy(dtype=float)
    design = pd.DataFrame(columns)
    glm = sm.GLM(frame["responded"].astype(float), design, family=sm.families.Binomial()).fit(tol=1e-12)
    assert list(result.coefficients.index) == list(design.columns)
    np.testing.assert_allclose(result.coefficients.to_numpy(), glm.params.to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.propensities.to_numpy(), glm.fittedvalues.to_numpy(), rtol=0, atol=1e-8)


def test_bootstrap_refits_match_statsmodels_on_the_replicate_counts():
    # the bootstrap refits replicates by chord steps (information held at the estimate's), falling back to
    # Newton steps: each replicate's propensities must still be its own maximum likelihood fit
    from analysis import representativeness as rep

    rng = np.random.default_rng(9)
    n = 800
    frame = pd.DataFrame(
        {"g": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.28, 0.02]), "h": rng.choice(["x", "y"], n)}
    )
    frame["responded"] = rng.random(n) < np.where(frame["g"] == "a", 0.6, 0.3)
    responded = frame["responded"].to_numpy()
    cells = rep._cells(frame, responded, ["g", "h"])
    people, respondents = cells.people[None, :], cells.respondents[None, :]
    beta = rep._fit(cells.design, people, respondents, np.zeros(cells.design.shape[1]))[0]
    information = rep._information(cells.design, cells.people, 1 / (1 + np.exp(-(cells.design @ beta))))
    counts = np.concatenate([cells.respondents, cells.people - cells.respondents])
    draws = rng.multinomial(n, counts / n, size=40).astype(float)
    boot_respondents = draws[:, : cells.people.size]
    boot_people = boot_respondents + draws[:, cells.people.size :]
    mu = rep._propensities(cells, boot_people, boot_respondents, beta, information)
    for b in range(40):
        keep = boot_people[b] > 0
        endog = np.column_stack([boot_respondents[b, keep], boot_people[b, keep] - boot_respondents[b, keep]])
        design = cells.design[keep][:, cells.design[keep].any(axis=0)]  # a category may be absent
        glm = sm.GLM(endog, design, family=sm.families.Binomial()).fit(tol=1e-12)
        np.testing.assert_allclose(mu[b, keep], glm.fittedvalues, rtol=0, atol=1e-7)


# ---------------------------------------------------------------------------------------------------------
# Planted truth

INSTITUTION = {"wo": 0.0, "hbo": -0.9, UNKNOWN: -0.5}
COHORT = {"2010-2013": -1.0, "2014-2016": 0.0, "2017-2019": 0.1, "2020-2022": 0.2}
GENDER = {"man": 0.0, "woman": 0.2}
PLANTED_LAGGING = {("institution", "hbo"), ("cohort", "2010-2013")}


def planted_frame(rng: np.random.Generator, n: int = 5000) -> tuple[pd.DataFrame, np.ndarray]:
    """A frame whose response propensities are logistic in institution, cohort and gender; and those."""
    frame = pd.DataFrame(
        {
            "institution": rng.choice(list(INSTITUTION), n, p=[0.5, 0.45, 0.05]),
            "cohort": rng.choice(list(COHORT), n),
            "gender": rng.choice(list(GENDER), n, p=[0.78, 0.22]),
        }
    )
    logit = (
        -0.2 + frame["institution"].map(INSTITUTION) + frame["cohort"].map(COHORT) + frame["gender"].map(GENDER)
    ).to_numpy()
    truth = 1 / (1 + np.exp(-logit))
    frame["responded"] = rng.random(n) < truth
    return frame, truth


def test_planted_truth_intervals_cover_and_lagging_categories_rank_first():
    rng = np.random.default_rng(2026)
    replications = 200
    covered_r = covered_partial = ranked = 0
    errors, standard_errors = [], []
    for replication in range(replications):
        frame, truth = planted_frame(rng)
        result = r_indicator(frame, "responded", ["institution", "cohort", "gender"], random_state=replication)
        true_r = 1 - 2 * np.std(truth, ddof=1)
        covered_r += result.r_ci[0] <= true_r <= result.r_ci[1]
        errors.append(result.r - true_r)
        standard_errors.append(result.r_se)
        first_two = {tuple(row) for row in result.partials[["variable", "category"]].head(2).to_numpy()}
        ranked += first_two == PLANTED_LAGGING and bool(result.partials["lagging"].head(2).all())
        partials = result.partials.set_index(["variable", "category"])
        for variable, category in sorted(PLANTED_LAGGING):
            members = (frame[variable] == category).to_numpy()
            true_partial = math.sqrt(members.mean()) * (truth[members].mean() - truth.mean())
            row = partials.loc[(variable, category)]
            covered_partial += row["unconditional_lower"] <= true_partial <= row["unconditional_upper"]
    assert covered_r / replications >= 0.90
    assert covered_partial / (2 * replications) >= 0.90
    assert ranked == replications
    # the bootstrap standard error is the spread of the estimate around the truth over replications
    assert np.mean(standard_errors) == pytest.approx(np.std(errors, ddof=1), rel=0.15)


# ---------------------------------------------------------------------------------------------------------
# The result and its dictionary

TOP_KEYS = {"n", "respondents", "response_rate", "r", "r_se", "r_ci", "cv", "cv_se", "cv_ci", "method"}
VARIABLE_KEYS = {"variable", "unconditional", "unconditional_ci", "conditional", "conditional_ci"}
PARTIAL_KEYS = {
    "variable",
    "category",
    "n",
    "respondents",
    "response_rate",
    "unconditional",
    "unconditional_ci",
    "conditional",
    "conditional_ci",
    "lagging",
    "suppressed",
}


def test_to_dict_has_the_agreed_shape_and_plain_json_types():
    frame, _ = planted_frame(np.random.default_rng(5), n=2000)
    result = r_indicator(frame, "responded", ["institution", "cohort", "gender"], random_state=1)
    data = result.to_dict()
    assert set(data) == TOP_KEYS | {"variables", "partials"}
    assert isinstance(data["n"], int) and isinstance(data["respondents"], int)
    for key in ("response_rate", "r", "r_se", "cv", "cv_se"):
        assert isinstance(data[key], float)
        assert data[key] == round(data[key], 6)
    assert data["r"] == round(result.r, 6)
    for key in ("r_ci", "cv_ci"):
        assert isinstance(data[key], list) and len(data[key]) == 2
        assert data[key][0] < data[key][1]
    assert data["r_ci"][0] < data["r"] < data["r_ci"][1]
    assert isinstance(data["method"], str) and "bootstrap" in data["method"] and "logistic" in data["method"].lower()
    assert [v["variable"] for v in data["variables"]] == ["institution", "cohort", "gender"]
    assert all(set(v) == VARIABLE_KEYS for v in data["variables"])
    assert all(set(p) == PARTIAL_KEYS for p in data["partials"])
    assert len(data["partials"]) == 3 + 4 + 2
    unconditional = [p["unconditional"] for p in data["partials"]]
    assert unconditional == sorted(unconditional)
    for p in data["partials"]:
        assert isinstance(p["n"], int) and isinstance(p["lagging"], bool) and isinstance(p["suppressed"], bool)
        assert p["lagging"] == (p["unconditional_ci"][1] < 0)
    assert data["partials"][0]["lagging"] and not data["partials"][-1]["lagging"]
    json.dumps(data, allow_nan=False)  # plain JSON, no NaN
    assert "unconditional" in result.summary() and len(result.to_frame()) == 9


# ---------------------------------------------------------------------------------------------------------
# Edge cases


@pytest.mark.parametrize("everyone", [True, False])
def test_everyone_or_no_one_responded(everyone):
    frame = pd.DataFrame({"g": ["a"] * 12 + ["b"] * 8, "h": ["x", "y"] * 10, "responded": everyone})
    result = r_indicator(frame, "responded", ["g", "h"], random_state=0)
    assert result.r == 1.0 and result.r_se == 0.0 and result.r_ci == (1.0, 1.0)
    assert result.response_rate == float(everyone)
    assert (result.propensities == float(everyone)).all()
    assert not result.partials["lagging"].any()
    assert (result.partials["unconditional"] == 0).all() and (result.partials["conditional"] == 0).all()
    data = result.to_dict()
    json.dumps(data, allow_nan=False)
    if everyone:
        assert data["cv"] == 0.0
    else:
        assert data["cv"] is None and data["cv_se"] is None and data["cv_ci"] == [None, None]


def test_constant_auxiliary_missing_values_and_small_categories():
    rng = np.random.default_rng(8)
    n = 400
    frame = pd.DataFrame(
        {
            "country": "NL",  # one category
            "profile": rng.choice(["Nerd", "Innovator", "All-rounder"], n).astype(object),
            "year": rng.choice([2016.0, 2018.0], n),
        }
    )
    frame.loc[:29, "profile"] = None  # 30 missing: the category "unknown"
    frame.loc[30:35, "year"] = 2020.0  # a category of 6 people
    frame.loc[36:38, "year"] = np.nan  # and a missing year for 3
    frame["responded"] = rng.random(n) < np.where(frame["profile"].isna(), 0.2, 0.5)
    result = r_indicator(frame, "responded", ["country", "profile", "year"], random_state=0, min_cell_size=10)
    partials = result.partials.set_index(["variable", "category"])
    assert partials.loc[("country", "NL"), "unconditional"] == 0.0
    assert partials.loc[("country", "NL"), "conditional"] == pytest.approx(0.0, abs=1e-12)
    assert partials.loc[("profile", UNKNOWN), "n"] == 30
    assert set(partials.loc["year"].index) == {"2016", "2018", "2020", UNKNOWN}
    assert partials.loc[("year", "2020"), "suppressed"] and partials.loc[("year", UNKNOWN), "suppressed"]
    assert not partials.loc[("year", "2016"), "suppressed"]
    # suppressed categories stay in the computation: counts add up, the variable level includes them
    for variable in ("profile", "year"):
        assert partials.loc[variable, "n"].sum() == n
        level = result.variables.set_index("variable").loc[variable, "unconditional"]
        assert level == pytest.approx(math.sqrt((partials.loc[variable, "unconditional"] ** 2).sum()), abs=1e-12)
    assert partials.loc[("year", "2020"), "unconditional"] != 0.0
    json.dumps(result.to_dict(), allow_nan=False)


def test_separation_keeps_the_fit_finite():
    # everyone in category "c" responded, no one in "d": no maximum likelihood estimate exists
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"g": ["a"] * 50 + ["b"] * 50 + ["c"] * 12 + ["d"] * 15, "h": rng.choice(["x", "y"], 127)})
    frame["responded"] = np.r_[rng.random(100) < 0.5, np.ones(12, bool), np.zeros(15, bool)]
    result = r_indicator(frame, "responded", ["g", "h"], random_state=0)
    assert np.isfinite(result.coefficients).all()
    propensity = result.propensities.groupby(frame["g"]).mean()
    assert propensity["c"] > 1 - 1e-6 and propensity["d"] < 1e-6
    assert 0 < result.r < 1 and np.isfinite(result.r_se)
    partials = result.partials.set_index(["variable", "category"])
    assert partials.loc[("g", "d"), "lagging"]


def test_category_order_and_reference():
    # a categorical keeps its own order (its first category the reference); mixed types sort as text
    frame = pd.DataFrame(
        {
            "institution": pd.Categorical(["wo", "hbo", "wo", "hbo"] * 10, categories=["wo", "hbo", "other"]),
            "mixed": [1, "b", 2.0, "a"] * 10,
            "responded": [1, 0, 0, 1, 1, 1, 0, 0] * 5,
        }
    )
    result = r_indicator(frame, "responded", ["institution", "mixed"], bootstrap=0)
    assert list(result.coefficients.index) == ["Intercept", "institution[hbo]", "mixed[2]", "mixed[a]", "mixed[b]"]
    assert set(result.partials["category"]) == {"wo", "hbo", "1", "2", "a", "b"}  # "other" never occurs


def test_invalid_input():
    frame = pd.DataFrame({"g": ["a", "b", "a"], "responded": [1, 0, 2]})
    with pytest.raises(ValueError, match="0/1"):
        r_indicator(frame, "responded", ["g"])
    with pytest.raises(KeyError):
        r_indicator(frame, "responded", ["missing"])
    with pytest.raises(ValueError, match="auxiliary"):
        r_indicator(frame, "responded", [])
    with pytest.raises(ValueError, match="distinct"):
        r_indicator(frame, "responded", ["g", "g"])
    with pytest.raises(ValueError, match="negative"):
        r_indicator(frame, "responded", ["g"], bootstrap=-1)
    with pytest.raises(ValueError, match="two people"):
        r_indicator(frame.head(1), "responded", ["g"])
    with pytest.raises(ValueError, match="missing values"):
        r_indicator(frame.assign(responded=[1, None, 0]), "responded", ["g"])


# ---------------------------------------------------------------------------------------------------------
# Targeted reminders


@pytest.fixture(scope="module")
def fieldwork():
    """A wave part-way through fieldwork: a planted frame with a status per person, and its R-indicator."""
    frame, _ = planted_frame(np.random.default_rng(17), n=3000)
    rng = np.random.default_rng(18)
    status = np.where(frame["responded"], "completed", "invited")
    status[(~frame["responded"]).to_numpy() & (rng.random(len(frame)) < 0.05)] = "withdrawn"
    status[(~frame["responded"]).to_numpy() & (rng.random(len(frame)) < 0.05)] = "paused"
    frame["status"] = status
    frame.index = [f"P{i:05d}" for i in range(len(frame))]  # pseudonyms
    result = r_indicator(frame, "responded", ["institution", "cohort", "gender"], random_state=0)
    # the caller's contract: only people who may get a reminder (not completed, withdrawn or paused)
    eligible = frame[frame["status"] == "invited"]
    return frame, result, eligible


def test_targeting_chooses_the_most_lagging_category_first_within_the_budget(fieldwork):
    frame, result, eligible = fieldwork
    lagging = result.partials[result.partials["lagging"]]
    assert {tuple(row) for row in lagging[["variable", "category"]].head(2).to_numpy()} == PLANTED_LAGGING
    first = tuple(lagging.iloc[0][["variable", "category"]])
    members = eligible[eligible[first[0]] == first[1]]
    decision = plan_targeted_reminders(result, eligible, budget=10_000)
    assert decision.categories[0] == first
    assert decision.people[: len(members)] == list(members.index)
    assert decision.messages == len(decision.people) == len(set(decision.people)) <= 10_000
    # the caller contract: completed, withdrawn and paused people were not passed, so they are never chosen
    assert set(decision.people) <= set(eligible.index)
    assert (frame.loc[decision.people, "status"] == "invited").all()
    # people in several lagging categories are counted once
    union = np.zeros(len(eligible), dtype=bool)
    for variable, category in decision.categories:
        union |= (eligible[variable] == category).to_numpy()
    assert decision.messages == union.sum()
    json.dumps(decision.to_dict(), allow_nan=False)


@pytest.mark.parametrize("budget", [0, 1, 50, 400, 700, 1200, 5000])
def test_targeting_never_exceeds_the_budget_and_never_splits_a_category(fieldwork, budget):
    _, result, eligible = fieldwork
    decision = plan_targeted_reminders(result, eligible, budget)
    assert decision.messages == len(decision.people) == len(set(decision.people)) <= budget
    assert decision.budget == budget
    # every chosen category is reminded whole
    chosen = set(decision.people)
    for variable, category in decision.categories:
        assert set(eligible.index[eligible[variable] == category]) <= chosen
    reasons = {(p["variable"], p["category"]): p["reason"] for p in decision.basis["passed_over"]}
    for variable, category in decision.categories:
        assert (variable, category) not in reasons
    lagging = result.partials[result.partials["lagging"]]
    assert len(decision.categories) + len(reasons) == len(lagging)
    if budget == 0:
        assert decision.people == [] and all("does not fit whole" in r for r in reasons.values())


def test_a_category_that_does_not_fit_is_passed_over_and_the_next_tried():
    # "big" lags most (it is large), "small" lags less; a budget below big's eligible count skips big whole
    rng = np.random.default_rng(12)
    sizes_rates = {"big": (1000, 0.25), "small": (150, 0.15), "rest": (1850, 0.5)}
    frame = pd.DataFrame({"g": [g for g, (size, _) in sizes_rates.items() for _ in range(size)]})
    frame["h"] = rng.choice(["x", "y"], len(frame))
    frame["responded"] = rng.random(len(frame)) < frame["g"].map({g: rate for g, (_, rate) in sizes_rates.items()})
    result = r_indicator(frame, "responded", ["g", "h"], random_state=0)
    lagging = result.partials[result.partials["lagging"]]
    assert [tuple(row) for row in lagging[["variable", "category"]].to_numpy()] == [("g", "big"), ("g", "small")]
    eligible = frame[~frame["responded"]]
    big, small = (set(eligible.index[eligible["g"] == g]) for g in ("big", "small"))
    assert len(small) < 500 < len(big)
    decision = plan_targeted_reminders(result, eligible, budget=500)
    assert decision.categories == [("g", "small")]
    assert set(decision.people) == small and decision.messages == len(small)
    (passed,) = decision.basis["passed_over"]
    assert (passed["variable"], passed["category"]) == ("g", "big")
    assert "does not fit whole" in passed["reason"] and passed["eligible"] == len(big)
    assert passed["unconditional"] == round(float(lagging.iloc[0]["unconditional"]), 6)
    assert passed["unconditional_ci"][1] < 0
    # with room for both, both are reminded, the most lagging first
    decision = plan_targeted_reminders(result, eligible, budget=len(big) + len(small))
    assert decision.categories == [("g", "big"), ("g", "small")]
    assert decision.people == list(eligible.index[eligible["g"] == "big"]) + list(
        eligible.index[eligible["g"] == "small"]
    )


def test_targeting_is_empty_when_nothing_lags():
    rng = np.random.default_rng(21)
    frame = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 2000), "h": rng.choice(["x", "y"], 2000)})
    frame["responded"] = rng.random(2000) < 0.4  # response independent of the auxiliaries
    result = r_indicator(frame, "responded", ["g", "h"], random_state=0)
    assert not result.partials["lagging"].any()
    decision = plan_targeted_reminders(result, frame[~frame["responded"]], budget=500)
    assert decision.categories == [] and decision.people == [] and decision.messages == 0
    assert decision.basis["chosen"] == [] and decision.basis["passed_over"] == []


def test_suppressed_categories_are_never_targeted():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"g": ["small"] * 40 + list(rng.choice(["a", "b"], 960))})
    frame["responded"] = np.r_[np.zeros(40, bool), rng.random(960) < 0.6]
    result = r_indicator(frame, "responded", ["g"], random_state=0, min_cell_size=50)
    small = result.partials.set_index("category").loc["small"]
    assert small["lagging"] and small["suppressed"]
    decision = plan_targeted_reminders(result, frame[~frame["responded"]], budget=1000)
    assert ("g", "small") not in decision.categories
    assert not set(decision.people) & set(frame.index[:40])
    passed = {(p["variable"], p["category"]): p for p in decision.basis["passed_over"]}
    assert "suppressed" in passed[("g", "small")]["reason"]
    assert "unconditional" not in passed[("g", "small")]  # its figures stay out of the log


def test_targeting_rejects_bad_input(fieldwork):
    _, result, eligible = fieldwork
    with pytest.raises(ValueError, match="budget"):
        plan_targeted_reminders(result, eligible, -1)
    with pytest.raises(ValueError, match="duplicate"):
        plan_targeted_reminders(result, pd.concat([eligible, eligible.head(1)]), 100)
    with pytest.raises(KeyError, match="cohort"):
        plan_targeted_reminders(result, eligible.drop(columns="cohort"), 100)


def test_targeting_logs_a_lagging_category_without_eligible_people_and_integer_labels(fieldwork):
    _, result, eligible = fieldwork
    # everyone of the 2010-2013 cohort has answered or left; labels are integers (numpy in the index)
    rest = eligible[eligible["cohort"] != "2010-2013"].reset_index(drop=True)
    decision = plan_targeted_reminders(result, rest, budget=10_000)
    passed = {(p["variable"], p["category"]): p for p in decision.basis["passed_over"]}
    assert passed[("cohort", "2010-2013")]["reason"] == "no eligible people in the category"
    assert passed[("cohort", "2010-2013")]["eligible"] == 0
    assert ("institution", "hbo") in decision.categories
    data = decision.to_dict()
    assert all(type(label) is int for label in data["people"])
    assert json.loads(json.dumps(data)) == data

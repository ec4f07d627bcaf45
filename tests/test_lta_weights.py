"""Case weights in the latent transition model: replicated rows, weights of one, planted attrition, refusals,
and the sandwich standard errors."""

# Matrix notation (X, K, T, A, log_A) as in analysis/lta/.
# ruff: noqa: N806

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.lta import LatentTransitionModel, match_profiles
from analysis.lta.em import _em, _var_floor
from analysis.lta.panel import _prepare
from analysis.lta.structural import _Params, _Settings, _to_coef
from analysis.lta.three_step import StepOne, _naive_from, _step1
from analysis.lta_simulation import simulate_lta
from analysis.mixture import classification_error

INDICATORS = ["x1", "x2", "x3", "x4"]


@pytest.fixture(scope="module")
def small():
    """300 participants, 3 waves, 20% dropout per wave, a categorical item and a covariate with an effect."""
    effect = np.zeros((3, 3))
    effect[0, 1] = 1.5
    data, _ = simulate_lta(
        n=300,
        n_profiles=3,
        n_indicators=4,
        separation=2.0,
        attrition=0.2,
        item_missing=0.03,
        covariate_effects={"transitions": {"wo": effect}},
        random_state=3,
    )
    rng = np.random.default_rng(4)
    # a 3-category item that depends on the profile (through x1) and is sometimes missing
    data["c"] = pd.cut(data["x1"] + rng.normal(0, 0.5, len(data)), [-np.inf, 3.5, 4.5, np.inf], labels=["a", "b", "c"])
    data["c"] = data["c"].astype(object).where(rng.random(len(data)) > 0.05)
    multiplicity = pd.Series(rng.integers(1, 4, 300), index=pd.RangeIndex(1, 301, name="id"))
    return data, multiplicity


def replicate(data: pd.DataFrame, multiplicity: pd.Series) -> pd.DataFrame:
    """Every participant copied ``multiplicity`` times, each copy with an id of its own."""
    copies = []
    for r in range(int(multiplicity.max())):
        keep = multiplicity.index[multiplicity > r]
        part = data[data["id"].isin(keep)].copy()
        part["id"] = part["id"] + 10_000 * (r + 1)
        copies.append(part)
    return pd.concat(copies, ignore_index=True)


CASES = {
    "VVI": dict(parameterisation="VVI", indicators=INDICATORS, categorical=None, covariates=None),
    "EEI": dict(parameterisation="EEI", indicators=INDICATORS, categorical=None, covariates=None),
    "categorical": dict(parameterisation="VVI", indicators=["c", "x2", "x3"], categorical=["c"], covariates=None),
    "covariate": dict(parameterisation="VVI", indicators=INDICATORS, categorical=None, covariates=["wo"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_integer_weights_equal_replicated_participants(small, case):
    data, multiplicity = small
    spec = CASES[case]
    kw = dict(
        indicators=spec["indicators"],
        id_col="id",
        wave_col="wave",
        waves=None,
        covariates=spec["covariates"],
        covariates_on="transitions",
        categorical=spec["categorical"],
    )
    weighted, _ = _prepare(data, **kw, weights=multiplicity)
    copied, _ = _prepare(replicate(data, multiplicity), **kw)
    assert copied.n == multiplicity.sum() and weighted.n == 300
    np.testing.assert_allclose(weighted.w, multiplicity.to_numpy() / multiplicity.mean())
    settings = _Settings(K=3, parameterisation=spec["parameterisation"], max_iter=300, tol=1e-9)
    # One start for both: a short unweighted fit of the original data, moved away from its optimum.
    plain = LatentTransitionModel(3, spec["parameterisation"], n_starts=1, max_iter=5, random_state=0)
    plain.categorical = spec["categorical"]
    plain.fit(data, indicators=spec["indicators"])
    params = plain._params
    start = _Params(
        means=params.means + 0.3,
        variances=params.variances * 1.5,
        log_init=np.log(np.full(3, 1 / 3)),
        log_trans=np.log(np.full((2, 3, 3), 0.1) + 0.7 * np.eye(3)),
        probs=None if params.probs is None else 0.5 * params.probs + 0.5 / 3,
    )
    if spec["covariates"]:
        start = _to_coef(start, weighted, settings)
    floor = _var_floor(weighted)  # the same floor for both (the pooled variances differ a little)
    fit_w = _em(weighted, start, settings, floor, settings.max_iter)
    fit_c = _em(copied, start, settings, floor, settings.max_iter)
    assert fit_w.n_iter == fit_c.n_iter > 10
    # Weights of mean 1: the weighted log-likelihood is the replicated one over the mean multiplicity.
    assert fit_w.loglik * multiplicity.mean() == pytest.approx(fit_c.loglik, rel=1e-9)
    pw, pc = fit_w.params, fit_c.params
    for a, b in [(pw.means, pc.means), (pw.variances, pc.variances)]:
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    if spec["categorical"]:
        assert pw.probs is not None and pc.probs is not None
        np.testing.assert_allclose(pw.probs, pc.probs, atol=1e-6, rtol=0)
    if spec["covariates"]:
        np.testing.assert_allclose(pw.trans_coef, pc.trans_coef, atol=1e-6, rtol=0)
        np.testing.assert_allclose(pw.init_coef, pc.init_coef, atol=1e-6, rtol=0)
    else:
        np.testing.assert_allclose(np.exp(pw.log_init), np.exp(pc.log_init), atol=1e-6, rtol=0)
        np.testing.assert_allclose(np.exp(pw.log_trans), np.exp(pc.log_trans), atol=1e-6, rtol=0)
    # Not vacuous: the unweighted fit from the same start is elsewhere.
    unweighted, _ = _prepare(data, **kw)
    fit_u = _em(unweighted, start, settings, floor, settings.max_iter)
    assert np.abs(fit_u.params.means - pw.means).max() > 1e-3


def test_public_fit_with_weights_matches_replicated_fit_and_reports_it(small):
    data, multiplicity = small
    weighted = LatentTransitionModel(3, n_starts=4, tol=1e-10, random_state=0)
    weighted.fit(data, indicators=INDICATORS, weights=multiplicity)
    copied = LatentTransitionModel(3, n_starts=4, tol=1e-10, random_state=0)
    copied.fit(replicate(data, multiplicity), indicators=INDICATORS)
    weighted = weighted.relabel(match_profiles(weighted.means_, copied.means_) + 1)
    np.testing.assert_allclose(weighted.means_, copied.means_, atol=1e-4)
    np.testing.assert_allclose(np.stack(weighted.transitions_), np.stack(copied.transitions_), atol=1e-4)
    assert weighted.loglik_ * multiplicity.mean() == pytest.approx(copied.loglik_, rel=1e-7)
    # loglik_ is sum_i w_i ll_i with the weights of mean 1, and BIC counts the 300 participants
    per_id = weighted.score_samples()
    assert weighted.loglik_ == pytest.approx(float((per_id * weighted.weights_).sum()), rel=1e-10)
    assert weighted.score() == pytest.approx(weighted.loglik_, rel=1e-10)
    assert weighted.bic_ == pytest.approx(-2 * weighted.loglik_ + weighted.n_parameters_ * np.log(300))
    assert weighted.weighted_ and not copied.weighted_
    assert weighted.weights_.mean() == pytest.approx(1.0)
    pd.testing.assert_series_equal(
        weighted.weights_, (multiplicity / multiplicity.mean()).rename("weight"), check_index_type=False
    )
    assert (copied.weights_ == 1.0).all()
    assert "weighted: case weights rescaled to mean 1" in weighted.summary()
    assert "weighted" not in copied.summary()
    assert weighted.to_frame().attrs["weighted"] is True and copied.to_frame().attrs["weighted"] is False
    # With covariates the reported shares and transitions are weighted averages over the participants.
    kw = dict(indicators=INDICATORS, covariates=["wo"])
    cov_w = LatentTransitionModel(3, n_starts=4, tol=1e-10, random_state=0).fit(data, **kw, weights=multiplicity)
    cov_c = LatentTransitionModel(3, n_starts=4, tol=1e-10, random_state=0).fit(replicate(data, multiplicity), **kw)
    cov_w = cov_w.relabel(match_profiles(cov_w.means_, cov_c.means_) + 1)
    np.testing.assert_allclose(cov_w.initial_, cov_c.initial_, atol=1e-4)
    np.testing.assert_allclose(np.stack(cov_w.transitions_), np.stack(cov_c.transitions_), atol=1e-4)
    np.testing.assert_allclose(cov_w.trans_coef_, cov_c.trans_coef_, atol=1e-3)
    # a bootstrap draw keeps the drawn participants' weights
    idx = np.array([0, 0, 5, 7])
    np.testing.assert_array_equal(weighted._panel.take(idx).w, weighted._panel.w[idx])


def test_weights_of_one_give_exactly_the_unweighted_fit(small):
    data, _ = small
    kw = dict(indicators=INDICATORS, covariates=["wo"])
    plain = LatentTransitionModel(3, n_starts=3, random_state=0).fit(data, **kw)
    ones = LatentTransitionModel(3, n_starts=3, random_state=0).fit(data.assign(w=1.0), **kw, weights="w")
    assert ones.weighted_ and not plain.weighted_
    assert ones.loglik_ == plain.loglik_
    assert ones.loglik_trace_ == plain.loglik_trace_
    for name in ("means_", "covariances_", "initial_", "init_coef_", "trans_coef_"):
        np.testing.assert_array_equal(getattr(ones, name), getattr(plain, name))
    np.testing.assert_array_equal(np.stack(ones.transitions_), np.stack(plain.transitions_))
    pd.testing.assert_frame_equal(ones.posterior_, plain.posterior_)
    # the weighted default is the sandwich, which the unweighted fit gives on request
    pd.testing.assert_frame_equal(ones.covariate_effects(), plain.covariate_effects(se="robust"))
    pd.testing.assert_frame_equal(ones.covariate_effects(se="observed"), plain.covariate_effects())


# ------------------------------------------------------------------------------------------ planted truth


def test_weights_undo_attrition_that_depends_on_a_frame_variable():
    # Z ("wo", half the population) makes moving from profile 1 to 2 far more likely (about 0.6 against 0.06)
    # and makes people drop out: Z = 1 stay for each later wave with probability 0.6, Z = 0 with 0.95.
    A = np.array([[0.90, 0.06, 0.04], [0.05, 0.90, 0.05], [0.04, 0.06, 0.90]])
    effect = np.zeros((3, 3))
    effect[0, 1] = 3.3
    data, truth = simulate_lta(
        n=6000,
        n_profiles=3,
        n_indicators=6,
        separation=2.5,
        attrition=0.0,
        initial=np.array([0.5, 0.25, 0.25]),
        transitions=[A, A],
        covariate_effects={"transitions": {"wo": effect}},
        random_state=100,
    )
    z = truth["covariates"]["wo"].to_numpy()
    states = truth["states"]
    # the truth: the transitions of the whole wave-1 population
    population = []
    for t in range(2):
        C = np.zeros((3, 3))
        np.add.at(C, (states[:, t], states[:, t + 1]), 1.0)
        population.append(C / C.sum(axis=1, keepdims=True))
    truth_12 = np.array([P[0, 1] for P in population])
    rng = np.random.default_rng(0)
    retention = np.where(z == 1, 0.6, 0.95)
    complete = (rng.random(len(z)) < retention) & (rng.random(len(z)) < retention)
    answered = data[data["id"].isin(np.flatnonzero(complete) + 1)].copy()
    answered["w"] = 1.0 / retention[answered["id"].to_numpy() - 1] ** 2  # the true inverse retention
    assert 0.2 < z[complete].mean() < 0.35  # the balanced panel under-represents Z = 1

    def fit(weights: str | None) -> LatentTransitionModel:
        model = LatentTransitionModel(3, n_starts=2, random_state=0)
        model.fit(answered, indicators=truth["indicators"], weights=weights)
        return model.relabel(match_profiles(model.means_, truth["means"]) + 1)

    unweighted, weighted = fit(None), fit("w")
    est_u = np.array([P[0, 1] for P in unweighted.transitions_])
    est_w = np.array([P[0, 1] for P in weighted.transitions_])
    assert np.all(np.abs(est_u - truth_12) > 0.05)
    assert np.all(np.abs(est_w - truth_12) < 0.02)
    # the other cells too
    assert np.abs(np.stack(weighted.transitions_) - np.stack(population)).max() < 0.03
    # and what the weights can do at best: weighted counts of the true profiles of those who answered
    w = 1.0 / retention[complete] ** 2
    oracle = []
    for t in range(2):
        C = np.zeros((3, 3))
        np.add.at(C, (states[complete, t], states[complete, t + 1]), w)
        oracle.append(C[0, 1] / C[0].sum())
    np.testing.assert_allclose(est_w, oracle, atol=0.005)
    # A weighted bootstrap's interval covers the population value; the unweighted one misses it.
    boot_w = weighted.bootstrap(40, random_state=1)
    lo, hi = boot_w.transitions_ci[:, 0, 1, 0], boot_w.transitions_ci[:, 0, 1, 1]
    assert np.all((lo <= truth_12) & (truth_12 <= hi))
    boot_u = unweighted.bootstrap(40, random_state=1)
    assert np.all(boot_u.transitions_ci[:, 0, 1, 1] < truth_12)
    # The naive table and the three-step estimator with the same weights.
    naive_w = weighted.naive_transitions(answered, indicators=truth["indicators"], weights="w")
    naive_u = weighted.naive_transitions(answered, indicators=truth["indicators"])
    assert naive_w.weighted and not naive_u.weighted
    assert np.all(np.abs(np.array([P[0, 1] for P in naive_u.transitions]) - truth_12) > 0.05)
    three_step = [weighted.three_step(answered, m, truth["indicators"], weights="w") for m in ("ML", "BCH")]
    for result in (naive_w, *three_step):
        perm = match_profiles(result.means, truth["means"])
        est = np.array([P[np.ix_(perm, perm)][0, 1] for P in result.transitions])
        assert np.all(np.abs(est - truth_12) < 0.02)


def test_weighted_classification_error_and_naive_counts_equal_replicated_rows(small):
    # Step 1 is unweighted, so both panels get the same classification; steps 2 and 3 must then treat a
    # participant of weight m as m copies.
    data, multiplicity = small
    kw = dict(indicators=INDICATORS, id_col="id", wave_col="wave", waves=None)
    weighted, _ = _prepare(data, **kw, weights=multiplicity)
    plain, _ = _prepare(data, **kw)
    how = StepOne(_Settings(K=3), n_starts=2, n_init_iter=10, random_state=0)
    m = multiplicity.to_numpy()
    for step1 in ("pooled", "per_wave"):
        post, assigned, D, _, _ = _step1(weighted, how, step1)
        post_u, _, D_u, _, _ = _step1(plain, how, step1)
        np.testing.assert_array_equal(post, post_u)
        copies = np.repeat(np.arange(len(m)), m)
        if step1 == "pooled":
            seen = plain.observed[copies]
            want = classification_error(post[copies][seen])
        else:
            want = np.stack([classification_error(post[copies, t][plain.observed[copies, t]]) for t in range(3)])
        np.testing.assert_allclose(D, want, atol=1e-12)
        assert np.abs(D - D_u).max() > 1e-4  # not vacuous: the weights change D
        initial, trans, counts = _naive_from(assigned, 3, weighted.w)
        initial_c, trans_c, counts_c = _naive_from(assigned[copies], 3)
        np.testing.assert_allclose(initial, initial_c, atol=1e-12)
        np.testing.assert_allclose(np.stack(trans), np.stack(trans_c), atol=1e-12)
        np.testing.assert_allclose(np.stack(counts) * m.mean(), np.stack(counts_c), atol=1e-9)
    result = LatentTransitionModel(3, n_starts=2, random_state=0).naive_transitions(
        data, INDICATORS, weights=multiplicity
    )
    assert result.weighted and "weighted" in result.summary()


# ------------------------------------------------------------------------------------------------ refusals


def test_bad_weights_are_refused_with_a_clear_message(small):
    data, multiplicity = small
    model = LatentTransitionModel(3, n_starts=1, max_iter=3, random_state=0)
    fit = dict(indicators=INDICATORS)

    def series(pid: int, value: float) -> pd.Series:
        out = multiplicity.astype(float).copy()
        out.loc[pid] = value
        return out

    with pytest.raises(ValueError, match=r"negative for participant 7"):
        model.fit(data, **fit, weights=series(7, -1.0))
    with pytest.raises(ValueError, match=r"missing or infinite for participant 8"):
        model.fit(data, **fit, weights=series(8, np.nan))
    with pytest.raises(ValueError, match=r"missing or infinite for participant 9"):
        model.fit(data, **fit, weights=series(9, np.inf))
    with pytest.raises(ValueError, match=r"no weight for participant 10 \(and 1 more\)"):
        model.fit(data, **fit, weights=multiplicity.drop([10, 11]))
    with pytest.raises(ValueError, match=r"zero for every participant"):
        model.fit(data, **fit, weights=multiplicity * 0.0)
    with pytest.raises(ValueError, match=r"more than one value"):
        model.fit(data, **fit, weights=pd.concat([multiplicity, multiplicity.iloc[:1]]))
    stayed = int(data.loc[data["wave"] == 2, "id"].iloc[3])
    varying = data.assign(w=1.0)
    varying.loc[(varying["id"] == stayed) & (varying["wave"] == 2), "w"] = 2.0
    with pytest.raises(ValueError, match=rf"varies within participant {stayed}\b"):
        model.fit(varying, **fit, weights="w")
    missing = data.assign(w=1.0)
    missing.loc[missing["id"] == 13, "w"] = np.nan
    with pytest.raises(ValueError, match=r"missing or infinite for participant 13"):
        model.fit(missing, **fit, weights="w")
    with pytest.raises(ValueError, match=r"no weights column 'nope'"):
        model.fit(data, **fit, weights="nope")
    with pytest.raises(TypeError, match=r"column name of data or a pandas Series"):
        model.fit(data, **fit, weights=multiplicity.to_numpy())
    # A weights column is not taken for an indicator, and zero weights for some participants are fine.
    zero_some = data.assign(w=np.where(data["id"] <= 20, 0.0, 1.0))
    kept = LatentTransitionModel(2, n_starts=1, max_iter=3, random_state=0).fit(zero_some, weights="w")
    assert "w" not in kept.indicators_
    assert (kept.weights_.loc[:20] == 0).all() and kept.weights_.mean() == pytest.approx(1.0)


def test_invariance_test_refuses_weights(small):
    data, multiplicity = small
    model = LatentTransitionModel(3, n_starts=1, random_state=0)
    with pytest.raises(ValueError, match="not chi-square"):
        model.invariance_test(data, indicators=INDICATORS, weights=multiplicity)
    model.fit(data, indicators=INDICATORS, weights=multiplicity)
    with pytest.raises(ValueError, match="not chi-square"):
        model.invariance_test(data, indicators=INDICATORS)


# ---------------------------------------------------------------------------------------- sandwich SEs


def test_sandwich_standard_errors_with_weights():
    effect = np.zeros((2, 2))
    effect[0, 1] = 1.0
    data, truth = simulate_lta(
        n=500,
        n_profiles=2,
        n_indicators=4,
        separation=1.5,
        attrition=0.0,
        transitions=[np.array([[0.8, 0.2], [0.15, 0.85]])] * 2,
        covariate_effects={"transitions": {"wo": effect}},
        random_state=12,
    )
    ids = pd.Index(np.arange(1, 501), name="id")
    fit = dict(indicators=truth["indicators"], covariates=["wo"])
    # Weights all one: the sandwich and the inverse information estimate the same thing at the true model.
    ones = LatentTransitionModel(2, n_starts=2, covariates_on="transitions", random_state=0)
    ones.fit(data, **fit, weights=pd.Series(1.0, index=ids))
    ratio = ones.covariate_effects()["se"] / ones.covariate_effects(se="observed")["se"]  # default: sandwich
    assert ratio.between(0.8, 1.2).all()
    # Unequal integer weights, larger for wo = 1 (the people whose scores carry the wo slopes): the sandwich
    # against the bootstrap of the same coefficients (participants drawn with their weights, each draw refitted
    # from the estimate).
    wo = truth["covariates"]["wo"].to_numpy()
    rng = np.random.default_rng(13)
    multiplicity = pd.Series(np.where(wo == 1, rng.integers(4, 9, 500), rng.integers(1, 3, 500)), index=ids)
    model = LatentTransitionModel(2, n_starts=2, covariates_on="transitions", tol=1e-6, random_state=0)
    model.fit(data, **fit, weights=multiplicity)
    table = model.covariate_effects()
    pd.testing.assert_frame_equal(table, model.covariate_effects(se="robust"))
    rows = table[table["part"] == "transition"]
    panel, params, settings = model._panel, model._params, model._settings_
    draws = []
    for _ in range(150):
        sub = panel.take(rng.integers(0, panel.n, panel.n))
        draws.append(_em(sub, params, settings, _var_floor(sub), 200).params.trans_coef)
    sd = np.std(draws, axis=0, ddof=1)  # (origin, term, destination)
    terms = ["(intercept) 1->2", "(intercept) 2->3", "wo"]  # the columns of trans_coef[origin]
    at = [(o - 1, terms.index(t), d - 1) for o, t, d in rows[["from_profile", "term", "to_profile"]].to_numpy()]
    np.testing.assert_allclose(rows["coef"], [model.trans_coef_[a] for a in at])
    boot_se = np.array([sd[a] for a in at])
    sandwich = rows["se"].to_numpy()
    np.testing.assert_allclose(sandwich, boot_se, rtol=0.25)
    # The inverse information of the pseudo-likelihood (rescaled weights taken as frequencies) is further off.
    observed = model.covariate_effects(se="observed").loc[rows.index, "se"].to_numpy()
    assert np.mean(np.abs(np.log(sandwich / boot_se))) < 0.10
    assert np.mean(np.abs(np.log(observed / boot_se))) > 0.15

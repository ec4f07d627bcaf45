"""Latent transition analysis: likelihood against hmmlearn and brute force, EM, recovery of planted truth."""

# Matrix notation (X, K, T, A, log_A) as in analysis/lta/.
# ruff: noqa: N803, N806

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import logsumexp

from analysis.lta import LatentTransitionModel, match_profiles
from analysis.lta.em import _em, _estep, _var_floor
from analysis.lta.forward_backward import _forward_backward, _forward_backward_log
from analysis.lta.inference import _pack, _scores, _unpack
from analysis.lta.structural import _mnl_newton
from analysis.lta_simulation import (
    adjusted_rand_index,
    recovery,
    relative_entropy_at,
    separation_for_entropy,
    simulate_lta,
)


def random_parameters(rng: np.random.Generator, K: int, P: int, n_pairs: int):
    initial = rng.dirichlet(np.ones(K))
    transitions = [rng.dirichlet(np.full(K, 2.0), size=K) for _ in range(n_pairs)]
    means = rng.normal(0.0, 1.5, (K, P))
    variances = rng.uniform(0.5, 2.0, (K, P))
    return initial, transitions, means, variances


def long_frame(X: np.ndarray, waves: list | None = None) -> pd.DataFrame:
    """A complete long frame from an (N, T, P) array."""
    N, T, P = X.shape
    waves = waves or list(range(1, T + 1))
    ii, tt = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    frame = pd.DataFrame(X.reshape(N * T, P), columns=[f"x{j + 1}" for j in range(P)])
    frame.insert(0, "wave", np.asarray(waves, dtype=object)[tt.ravel()])
    frame.insert(0, "id", ii.ravel() + 1)
    return frame


def hmmlearn_model(initial, transmat, means, variances):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from hmmlearn.hmm import GaussianHMM

        hmm = GaussianHMM(len(initial), covariance_type="diag", init_params="", params="")
    hmm.startprob_ = initial
    hmm.transmat_ = transmat
    hmm.means_ = means
    hmm.covars_ = variances
    return hmm


# ------------------------------------------------------------------------------------------- likelihood


def test_loglik_and_posteriors_equal_hmmlearn_forward_algorithm():
    rng = np.random.default_rng(11)
    K, P, T, N = 4, 5, 3, 300
    initial, (A,), means, variances = random_parameters(rng, K, P, 1)
    X = rng.normal(0.0, 2.0, (N, T, P))
    model = LatentTransitionModel.from_parameters(initial, [A, A], means, variances, waves=[1, 2, 3])
    hmm = hmmlearn_model(initial, A, means, variances)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = hmm.score(X.reshape(N * T, P), lengths=[T] * N)
        expected_post = hmm.predict_proba(X.reshape(N * T, P), lengths=[T] * N)
        expected_first = hmm.score(X[0])
    data = long_frame(X)
    assert model.score(data) == pytest.approx(expected, abs=1e-6, rel=0)
    assert model.score_samples(data).loc[1] == pytest.approx(expected_first, abs=1e-9, rel=0)
    post = model.predict_proba(data)[[f"profile_{k + 1}" for k in range(K)]].to_numpy()
    np.testing.assert_allclose(post, expected_post, atol=1e-8)
    # A wrong parameter must show: the comparison is not vacuous.
    shifted = LatentTransitionModel.from_parameters(initial, [A, A], means + 0.1, variances, waves=[1, 2, 3])
    assert abs(shifted.score(data) - expected) > 1.0


def brute_force_loglik(frame: pd.DataFrame, initial, transitions, means, variances, waves) -> pd.Series:
    """Sum over every profile path of path probability times the densities of the observed values."""
    K, T = len(initial), len(waves)
    cols = [c for c in frame.columns if c.startswith("x")]
    out = {}
    for pid, rows in frame.groupby("id"):
        dens = np.zeros((T, K))  # a missed wave contributes 1
        for wave, x in zip(rows["wave"], rows[cols].to_numpy(dtype=float), strict=True):
            seen = ~np.isnan(x)
            for k in range(K):
                dens[waves.index(wave), k] = stats.norm.logpdf(
                    x[seen], means[k][seen], np.sqrt(variances[k][seen])
                ).sum()
        terms = [
            np.log(initial[path[0]])
            + sum(np.log(transitions[t][path[t], path[t + 1]]) for t in range(T - 1))
            + sum(dens[t, path[t]] for t in range(T))
            for path in itertools.product(range(K), repeat=T)
        ]
        out[pid] = logsumexp(terms)
    return pd.Series(out)


@pytest.mark.parametrize(("K", "T", "seed"), [(2, 3, 0), (3, 3, 1), (3, 4, 2)])
def test_missing_waves_and_items_match_brute_force_over_paths(K, T, seed):
    rng = np.random.default_rng(seed)
    P, N = 3, 25
    waves = [f"w{t}" for t in range(T)]  # labels, ordered by waves=
    initial, transitions, means, variances = random_parameters(rng, K, P, T - 1)
    frame = long_frame(rng.normal(0.0, 1.5, (N, T, P)), waves)
    frame = frame.sample(frac=0.7, random_state=seed).reset_index(drop=True)  # whole waves missed
    holes = rng.random((len(frame), P)) < 0.2  # single items missed
    frame[["x1", "x2", "x3"]] = frame[["x1", "x2", "x3"]].mask(holes)
    model = LatentTransitionModel.from_parameters(initial, transitions, means, variances, waves=waves)
    got = model.score_samples(frame, waves=waves)
    want = brute_force_loglik(frame, initial, transitions, means, variances, waves)
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), atol=1e-9, rtol=0)


def test_scaled_and_log_space_recursions_agree_and_fallback_survives_underflow():
    rng = np.random.default_rng(5)
    N, T, K = 40, 4, 3
    logB = rng.normal(0.0, 30.0, (N, T, K))
    log_pi = np.log(rng.dirichlet(np.ones(K)))[None]
    log_A = np.log(rng.dirichlet(np.ones(K), size=(N, T - 1, K)))
    for a, b in zip(_forward_backward(logB, log_pi, log_A), _forward_backward_log(logB, log_pi, log_A), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    # A structural zero against overwhelming evidence: scaling underflows, the log-space fallback does not.
    with np.errstate(divide="ignore"):
        log_A0 = np.log(np.array([[[1.0, 0.0], [0.0, 1.0]]]))[None]
    logB0 = np.array([[[0.0, -2000.0], [-2000.0, 0.0]]])  # two paths, each e^-2000 likely
    ll, gamma, _ = _forward_backward(logB0, np.log([[0.5, 0.5]]), log_A0)
    assert ll[0] == pytest.approx(-2000.0, abs=1e-9)
    np.testing.assert_allclose(gamma[0], 0.5, atol=1e-12)


# ------------------------------------------------------------------------------------------------- EM


@pytest.fixture(scope="module")
def small_panel():
    return simulate_lta(n=600, n_profiles=3, n_indicators=6, separation=1.2, item_missing=0.05, random_state=7)


def test_em_is_monotone_and_stops_at_a_fixed_point(small_panel):
    data, truth = small_panel
    model = LatentTransitionModel(3, n_starts=4, tol=1e-10, random_state=0).fit(data, indicators=truth["indicators"])
    trace = np.array(model.loglik_trace_)
    assert len(trace) > 5
    assert np.all(np.diff(trace) >= -1e-9 * abs(trace[-1]))
    assert model.converged_
    assert model.loglik_ == pytest.approx(model.score(), abs=1e-8)
    assert model.loglik_ == pytest.approx(trace[-1], abs=1e-8)
    # One more EM step from the solution moves nothing of substance.
    again = _em(model._panel, model._params, model._settings_, _var_floor(model._panel), 1)
    np.testing.assert_allclose(again.params.means, model._params.means, atol=1e-4)
    np.testing.assert_allclose(np.exp(again.params.log_trans), np.exp(model._params.log_trans), atol=1e-4)
    assert abs(again.loglik - model.loglik_) < 1e-6
    # Every final start reached a log-likelihood no better than the one kept.
    assert max(model.start_logliks_) == pytest.approx(model.loglik_, abs=1e-6)


def test_covariate_em_is_monotone_and_score_is_the_gradient(small_panel):
    data, truth = small_panel
    model = LatentTransitionModel(3, n_starts=3, random_state=0).fit(
        data, indicators=truth["indicators"], covariates=["woman", "wo"]
    )
    trace = np.array(model.loglik_trace_)
    assert np.all(np.diff(trace) >= -1e-9 * abs(trace[-1]))
    S, ll = _scores(model._panel, model._params, model._settings_)
    assert ll == pytest.approx(model.loglik_, abs=1e-6)
    theta = _pack(model._params, model._settings_)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(theta), 10, replace=False):
        h = 1e-5
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        ll_up = _estep(model._panel, _unpack(up, model._params, model._settings_))[0].sum()
        ll_down = _estep(model._panel, _unpack(down, model._params, model._settings_))[0].sum()
        assert S[:, i].sum() == pytest.approx((ll_up - ll_down) / (2 * h), abs=1e-4)


def test_fitted_homogeneous_model_is_a_fixed_point_of_hmmlearn_baum_welch():
    rng = np.random.default_rng(21)
    K, P, T, N = 3, 4, 3, 400
    initial, (A,), means, variances = random_parameters(rng, K, P, 1)
    means *= 2.0
    states = np.empty((N, T), dtype=int)
    states[:, 0] = rng.choice(K, N, p=initial)
    for t in range(1, T):
        states[:, t] = [rng.choice(K, p=A[s]) for s in states[:, t - 1]]
    X = means[states] + np.sqrt(variances[states]) * rng.standard_normal((N, T, P))
    model = LatentTransitionModel(K, homogeneous=True, n_starts=5, tol=1e-11, max_iter=5000, random_state=1)
    model.fit(long_frame(X))
    hmm = hmmlearn_model(model.initial_, model.transitions_[0], model.means_, model.covariances_)
    hmm.set_params(params="stmc", n_iter=50, tol=1e-12, covars_prior=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert hmm.score(X.reshape(N * T, P), lengths=[T] * N) == pytest.approx(model.loglik_, abs=1e-6)
        hmm.fit(X.reshape(N * T, P), lengths=[T] * N)
        refit = hmm.score(X.reshape(N * T, P), lengths=[T] * N)
    assert refit - model.loglik_ < 1e-4
    np.testing.assert_allclose(hmm.means_, model.means_, atol=1e-3)
    np.testing.assert_allclose(hmm.transmat_, model.transitions_[0], atol=1e-3)
    np.testing.assert_allclose(np.diagonal(hmm.covars_, axis1=1, axis2=2), model.covariances_, atol=1e-3)
    np.testing.assert_allclose(hmm.startprob_, model.initial_, atol=1e-3)


# ------------------------------------------------------------------------------------------- recovery


def test_recovery_at_realistic_separation_beats_naive_cross_tabulation():
    # The full configuration: N = 2,000, 3 waves, 6 profiles, 20 indicators, 20% attrition per wave,
    # with the separation that gives the latent Markov model a relative entropy of 0.80.
    sep = separation_for_entropy(0.80, kind="lta", n=3000, tol=5e-3)
    data, truth = simulate_lta(n=2000, separation=sep, attrition=0.2, random_state=2024)
    model = LatentTransitionModel(6, n_starts=6, random_state=0).fit(data, indicators=truth["indicators"])
    assert 0.75 <= model.entropy_ <= 0.85
    lta = recovery(model.means_, model.initial_, model.transitions_, truth)
    naive_result = model.naive_transitions(data, indicators=truth["indicators"])
    naive = recovery(naive_result.means, naive_result.initial, naive_result.transitions, truth)
    assert lta["transition_mae"] <= 0.03
    assert naive["transition_mae"] >= 2 * lta["transition_mae"]
    # Naive cross-tabulation overstates change: its stability is far below the truth, the model's is not.
    assert all(n < s - 0.1 for n, s in zip(naive["stability"], lta["true_stability"], strict=True))
    assert all(abs(e - s) < 0.05 for e, s in zip(lta["stability"], lta["true_stability"], strict=True))
    observed = truth["observed"]
    modal = model.predict()["profile"].to_numpy().reshape(observed.shape) - 1
    ari = adjusted_rand_index(truth["states"][observed], modal[observed])
    assert 0.6 < ari < 0.95


def test_three_step_ml_and_bch_correct_the_naive_stability():
    # The illustration: 4 profiles, relative entropy about 0.77, true stability about 0.78.
    sep = separation_for_entropy(0.77, kind="wave", n_profiles=4, n_indicators=12, n=8000)
    transitions = [np.full((4, 4), 0.22 / 3) + np.eye(4) * (0.78 - 0.22 / 3)] * 2
    data, truth = simulate_lta(
        n=1500, n_profiles=4, n_indicators=12, separation=sep, transitions=transitions, random_state=3
    )
    model = LatentTransitionModel(4, n_starts=4, random_state=0)
    ml = model.three_step(data, "ML", indicators=truth["indicators"])
    bch = model.three_step(data, "BCH", indicators=truth["indicators"])
    assert 0.7 < ml.entropy < 0.85
    true_stab = np.array(recovery(ml.means, ml.initial, ml.transitions, truth)["true_stability"])
    ml_stab = np.array(recovery(ml.means, ml.initial, ml.transitions, truth)["stability"])
    bch_stab = np.array(recovery(bch.means, bch.initial, bch.transitions, truth)["stability"])
    naive_stab = np.array(recovery(ml.naive.means, ml.naive.initial, ml.naive.transitions, truth)["stability"])
    assert np.all(naive_stab < true_stab - 0.08)
    assert np.all(np.abs(ml_stab - true_stab) < 0.5 * np.abs(naive_stab - true_stab))
    assert np.all(np.abs(bch_stab - true_stab) < 0.5 * np.abs(naive_stab - true_stab))
    # D is P(assigned | true): rows sum to one and the diagonal dominates.
    D = ml.classification_error
    np.testing.assert_allclose(D.sum(axis=1), 1.0)
    assert np.all(np.diag(D) > 0.7)


def oracle_logit(design: np.ndarray, outcome: np.ndarray, K: int, ref: int) -> np.ndarray:
    """Multinomial-logit MLE on the true (latent) profiles: what the model would give without measurement error."""
    return _mnl_newton(design, np.eye(K)[outcome], np.zeros((design.shape[1], K)), ref=ref, max_steps=100)


def test_covariate_effects_on_initial_profile_and_transition_are_recovered():
    effects = {
        "initial": {"woman": [0.0, 1.0, 0.0]},
        "transitions": {"wo": [[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]},
    }
    data, truth = simulate_lta(
        n=1500, n_profiles=3, n_indicators=8, separation=1.3, covariate_effects=effects, random_state=6
    )
    model = LatentTransitionModel(3, n_starts=4, random_state=0)
    model.fit(data, indicators=truth["indicators"], covariates=["woman", "wo"])
    model = model.relabel(match_profiles(model.means_, truth["means"]) + 1)
    table = model.covariate_effects()
    init = table.query("part == 'initial' and to_profile == 2 and term == 'woman'").iloc[0]
    move = table.query("part == 'transition' and from_profile == 1 and to_profile == 2 and term == 'wo'").iloc[0]
    for row, true in ((init, 1.0), (move, 1.5)):
        assert row["coef"] > 0 and row["p_value"] < 0.001
        assert row["or_lower"] < np.exp(true) < row["or_upper"]
    # Against the same regressions on the true profiles: the model's error is small next to its standard error.
    Z = truth["covariates"][["woman", "wo"]].to_numpy(dtype=float)
    states = truth["states"]
    ones = np.ones((len(Z), 1))
    oracle_init = oracle_logit(np.hstack([ones, Z]), states[:, 0], 3, ref=0)[1, 1]
    from_one = [states[:, t] == 0 for t in range(2)]
    design = np.vstack([np.hstack([ones * (t == 0), ones * (t == 1), Z])[f] for t, f in enumerate(from_one)])
    oracle_move = oracle_logit(design, np.concatenate([states[f, t + 1] for t, f in enumerate(from_one)]), 3, 0)[3, 1]
    assert abs(init["coef"] - oracle_init) < 0.5 * init["se"]
    assert abs(move["coef"] - oracle_move) < 0.5 * move["se"]
    # Effects planted at zero: most 95% intervals cover one.
    nulls = table[~table["term"].str.startswith("(intercept)")].drop(index=[init.name, move.name])
    assert ((nulls["or_lower"] < 1) & (nulls["or_upper"] > 1)).mean() >= 0.8
    robust = model.covariate_effects(se="robust")
    ratio = robust.loc[[init.name, move.name], "se"] / table.loc[[init.name, move.name], "se"]
    assert ratio.between(0.7, 1.4).all()
    assert "odds ratios" in model.summary()


def test_invariance_test_accepts_invariant_truth_and_rejects_a_shift_at_wave_two():
    kw = dict(n=800, n_profiles=3, n_indicators=6, separation=1.5, random_state=8)
    model = LatentTransitionModel(3, n_starts=3, random_state=0)
    data, truth = simulate_lta(**kw)
    null = model.invariance_test(data, indicators=truth["indicators"])
    assert null.df == 2 * 3 * 6 * 2
    assert null.p_value > 0.05
    shifted, _ = simulate_lta(**kw, mean_shift={1: 0.5})
    alt = model.invariance_test(shifted, indicators=truth["indicators"])
    assert alt.p_value < 1e-6
    assert alt.loglik_free >= alt.loglik_invariant
    assert set(alt.to_frame()["model"]) == {"invariant", "wave-specific"}


def test_bootstrap_intervals_cover_the_planted_matrices():
    transitions = [np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.05, 0.15, 0.8]])] * 2
    data, truth = simulate_lta(
        n=800, n_profiles=3, n_indicators=8, separation=1.4, transitions=transitions, random_state=9
    )
    model = LatentTransitionModel(3, n_starts=3, random_state=0).fit(data, indicators=truth["indicators"])
    model = model.relabel(match_profiles(model.means_, truth["means"]) + 1)
    boot = model.bootstrap(25, random_state=1)
    lo, hi = boot.transitions_ci[..., 0], boot.transitions_ci[..., 1]
    true = np.stack(truth["transitions"])
    covered = (lo <= true) & (true <= hi)
    assert covered.mean() >= 0.8
    assert np.all(
        (boot.initial_ci[:, 0] <= truth["initial"] + 0.02) & (truth["initial"] - 0.02 <= boot.initial_ci[:, 1])
    )
    # Not covering by being wide: intervals are narrow, and a wrong matrix is mostly outside them.
    assert np.median(hi - lo) < 0.15
    wrong = true[:, [1, 2, 0]]
    assert ((lo <= wrong) & (wrong <= hi)).mean() < 0.3
    assert {"ci_lower", "ci_upper", "se"}.isdisjoint(model.transitions_frame().columns)  # the model is unchanged
    frame = model.transitions_frame(bootstrap=boot)
    assert {"ci_lower", "ci_upper", "se"} <= set(frame.columns)
    assert "bootstrap percentile intervals" in model.summary(bootstrap=boot)
    assert (frame["ci_lower"] <= frame["probability"] + 1e-12).all()


# -------------------------------------------------------------------------------------------- the API


def test_result_frames_and_input_checks(small_panel):
    data, truth = small_panel
    model = LatentTransitionModel(3, n_starts=2, random_state=0).fit(data, indicators=truth["indicators"])
    frame = model.to_frame()
    assert set(frame["parameter"]) == {"initial", "transition", "mean", "variance"}
    assert len(model.transitions_frame()) == 2 * 9
    assert model.transitions_frame(wide=True).shape == (6, 3)
    for A in model.transitions_:
        np.testing.assert_allclose(A.sum(axis=1), 1.0)
    assert model.n_parameters_ == 3 * 6 * 2 + 2 + 2 * 3 * 2
    assert model.bic_ == pytest.approx(-2 * model.loglik_ + model.n_parameters_ * np.log(600))
    assert model.posterior_.shape == (600 * 3, 3 + 3)
    assert (model.assignments_["viterbi"] == model.assignments_["modal"]).mean() > 0.9
    assert "Transitions 1->2" in model.summary()
    # All-NaN rows are missed waves, not zeros.
    blank = data.copy()
    blank.loc[blank["wave"] == 3, truth["indicators"]] = np.nan
    dropped = data[data["wave"] != 3]
    assert model.score(blank) == pytest.approx(model.score(dropped), abs=1e-9)
    with pytest.raises(ValueError, match="constant within"):
        bad = data.copy()
        bad.loc[bad.index[0], "woman"] = 1 - bad.loc[bad.index[0], "woman"]
        LatentTransitionModel(3, n_starts=1).fit(bad, indicators=truth["indicators"], covariates=["woman"])
    with pytest.raises(ValueError, match="more than one row"):
        LatentTransitionModel(3).fit(pd.concat([data, data.head(1)]), indicators=truth["indicators"])
    with pytest.raises(RuntimeError, match="not fitted"):
        LatentTransitionModel(3).summary()


def test_adjusted_rand_index_matches_scikit_learn():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 4, 500))
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert adjusted_rand_index(a, (a + 1) % 4) == pytest.approx(1.0)


def test_separation_helper_hits_its_target():
    sep = separation_for_entropy(0.7, n_profiles=3, n_indicators=6, n=5000)
    assert relative_entropy_at(sep, n_profiles=3, n_indicators=6, n=5000) == pytest.approx(0.7, abs=2e-3)
    assert relative_entropy_at(sep * 1.5, n_profiles=3, n_indicators=6, n=5000) > 0.8


def test_eei_measurement_shares_variances_across_profiles(small_panel):
    data, truth = small_panel
    model = LatentTransitionModel(3, "EEI", n_starts=2, random_state=0).fit(data, indicators=truth["indicators"])
    np.testing.assert_allclose(model.covariances_, np.broadcast_to(model.covariances_[0], model.covariances_.shape))
    assert model.n_parameters_ == 3 * 6 + 6 + 2 + 2 * 3 * 2
    assert np.all(np.diff(model.loglik_trace_) >= -1e-9 * abs(model.loglik_))


def test_categorical_covariates_are_dummy_coded_and_may_come_from_a_participant_frame(small_panel):
    data, truth = small_panel
    jobs = np.array(["engineer", "manager", "researcher"])
    people = pd.DataFrame({"id": np.arange(1, 601), "job": jobs[np.arange(600) % 3]})
    model = LatentTransitionModel(3, n_starts=1, max_iter=50, covariates_on="initial", random_state=0)
    model.fit(data, indicators=truth["indicators"], covariates=["job"], covariate_data=people)
    assert model.covariate_terms_ == ["job[manager]", "job[researcher]"]
    assert model.init_coef_.shape == (3, 3) and np.all(model.init_coef_[:, 0] == 0)
    assert model.trans_coef_.shape == (3, 2, 3)  # per wave pair intercepts only
    inline = LatentTransitionModel(3, n_starts=1, max_iter=50, covariates_on="initial", random_state=0)
    inline.fit(data.merge(people, on="id"), indicators=truth["indicators"], covariates=["job"])
    assert inline.loglik_ == pytest.approx(model.loglik_, abs=1e-8)
    with pytest.raises(ValueError, match="missing covariate"):
        LatentTransitionModel(3, n_starts=1).fit(
            data, indicators=truth["indicators"], covariates=["job"], covariate_data=people.iloc[:-1]
        )


def test_scikit_learn_contract(small_panel):
    """get_params / set_params / clone, nothing fitted outside fit, relabel returns a copy, Pipeline."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    data, truth = small_panel
    model = LatentTransitionModel(3, "EEI", n_starts=2, random_state=0)
    assert model.get_params()["parameterisation"] == "EEI" and model.get_params()["n_init_iter"] == 20
    assert not any(name.endswith("_") for name in vars(model))
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model
    assert model.set_params(n_starts=3) is model and model.n_starts == 3
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(measurement="VVI")
    fitted = model.fit(data, indicators=truth["indicators"])
    assert fitted is model
    before = {name: value for name, value in vars(model).items() if name.endswith("_")}
    relabelled = model.relabel([3, 1, 2])
    assert relabelled is not model
    np.testing.assert_allclose(relabelled.means_, model.means_[[2, 0, 1]])
    np.testing.assert_allclose(relabelled.loglik_, model.loglik_)
    assert {name for name in vars(model) if name.endswith("_")} == set(before)
    np.testing.assert_array_equal(model.means_, before["means_"])
    model.bootstrap(2, random_state=0)
    assert not hasattr(model, "bootstrap_")
    np.testing.assert_array_equal(model.means_, before["means_"])
    pipe = Pipeline([("lta", LatentTransitionModel(3, "EEI", n_starts=2, random_state=0))])
    labels = pipe.fit(data[["id", "wave", *truth["indicators"]]]).predict(data[["id", "wave", *truth["indicators"]]])
    direct = model.set_params(n_starts=2).fit(data, indicators=truth["indicators"]).predict()
    np.testing.assert_array_equal(labels["profile"].to_numpy(), direct["profile"].to_numpy())

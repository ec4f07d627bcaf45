"""Latent profile analysis (analysis.lpa), checked against planted truth and independent references.

References: scipy.stats densities and hand-written EM steps, StepMix (the same model from the same
starting values) and, when Rscript with mclust is installed, R's mclust.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp

from analysis.lpa import (
    LatentProfileModel,
    LPAWarning,
    ReplicationWarning,
    enumerate_profiles,
    lmr_test,
)

ROOT = Path(__file__).resolve().parents[1]
THREE_MEANS = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0, 3.0, -1.0, 2.0, 0.0, 3.0],
        [-3.0, 2.0, 3.0, -2.0, 3.0, 0.0],
    ]
)
THREE_WEIGHTS = np.array([0.5, 0.3, 0.2])


def simulate(n, means, weights, sds, seed):
    """Rows from a diagonal Gaussian mixture, and the generating profile of each row."""
    rng = np.random.default_rng(seed)
    means = np.asarray(means, dtype=float)
    labels = rng.choice(len(weights), size=n, p=weights)
    sds = np.broadcast_to(np.asarray(sds, dtype=float), means.shape)
    values = means[labels] + rng.standard_normal((n, means.shape[1])) * sds[labels]
    columns = [f"item_{j + 1}" for j in range(means.shape[1])]
    return pd.DataFrame(values, columns=columns), labels


@pytest.fixture(scope="module")
def three_profiles():
    sds = np.array([[1.0] * 6, [0.8, 1.2, 1.0, 0.7, 1.0, 0.9], [1.1, 0.9, 0.8, 1.0, 1.3, 1.0]])
    return simulate(600, THREE_MEANS, THREE_WEIGHTS, sds, seed=11)


def adjusted_rand_index(a, b):
    """Hubert & Arabie's ARI from the contingency table."""
    table = pd.crosstab(np.asarray(a), np.asarray(b)).to_numpy()

    def pairs(x):
        return (x * (x - 1) / 2.0).sum()

    index, rows, cols = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * cols / pairs(np.array([table.sum()]))
    return (index - expected) / (0.5 * (rows + cols) - expected)


def match(estimated, truth):
    """Permutation of the estimated profiles that best matches the true means."""
    cost = ((estimated[:, None, :] - truth[None, :, :]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    return rows[np.argsort(cols)]


def scipy_loglik_and_posterior(model, values):
    """Log-likelihood and posterior of a fitted model, evaluated with scipy.stats.multivariate_normal."""
    k = model.weights_.size
    cov = model.covariances_
    if model.parameterisation_ == "EEI":
        covs = [np.diag(cov)] * k
    elif model.parameterisation_ == "VVI":
        covs = [np.diag(c) for c in cov]
    elif model.parameterisation_ == "EEE":
        covs = [cov] * k
    else:
        covs = list(cov)
    log_joint = np.column_stack(
        [
            np.log(model.weights_[j]) + stats.multivariate_normal(model.means_[j], covs[j]).logpdf(values)
            for j in range(k)
        ]
    )
    row_ll = logsumexp(log_joint, axis=1)
    return row_ll.sum(), np.exp(log_joint - row_ll[:, None])


# ---- (a) recovery of planted profiles -----------------------------------------------------------


@pytest.mark.parametrize("parameterisation", ["EEI", "VVI"])
def test_recovers_planted_profiles(three_profiles, parameterisation):
    frame, labels = three_profiles
    model = LatentProfileModel(3, parameterisation, n_starts=10, random_state=1).fit(frame)
    assert adjusted_rand_index(model.predict(frame), labels) > 0.95
    order = match(model.means_, THREE_MEANS)
    np.testing.assert_allclose(model.means_[order], THREE_MEANS, atol=0.25)
    np.testing.assert_allclose(model.weights_[order], THREE_WEIGHTS, atol=0.05)
    assert model.converged_
    assert model.replication_count_ >= 2
    assert np.all(np.diff(model.weights_) <= 0)  # profile 1 is the largest


def test_bic_picks_the_planted_number_of_profiles(three_profiles):
    frame, _ = three_profiles
    result = enumerate_profiles(frame, range(1, 6), ("EEI", "VVI"), n_starts=10, bootstrap=0, random_state=2)
    table = result.to_frame()
    assert list(table.index.names) == ["parameterisation", "n_profiles"]
    assert table.loc["VVI", "bic"].idxmin() == 3
    assert table.loc["EEI", "bic"].idxmin() == 3
    assert result.recommended.n_profiles == 3
    assert "BIC is lowest" in result.recommended.reason and "bootstrap=0" in result.recommended.reason
    assert table.loc[("EEI", 1), "n_parameters"] == 12
    # more profiles never fit worse: each K's log-likelihood is at least that of K - 1
    assert np.all(np.diff(table.loc["VVI", "loglik"].to_numpy()) > -1e-6)
    text = result.summary()
    assert "Recommended: 3 profiles" in text and "sabic" in text


# ---- (b) StepMix from the same starting values ---------------------------------------------------


def _stepmix_from(start, measurement, frame, missing=False):
    stepmix = pytest.importorskip("stepmix")

    class StepMixFrom(stepmix.StepMix):
        """StepMix whose every initialisation is the given parameters."""

        def _initialize_parameters(self, X, random_state):  # noqa: N803 (StepMix's signature)
            self.weights_ = np.array(start["weights"], dtype=float)
            self._initialize_parameters_measurement(X, random_state, init_emission=False)
            params = {"means": np.array(start["means"], float), "covariances": np.array(start["covariances"], float)}
            self._mm.set_parameters(params)
            self.log_resp_ = np.zeros((X.shape[0], self.n_components))

    model = StepMixFrom(n_components=len(start["weights"]), measurement=measurement, n_init=1, max_iter=20000)
    model.set_params(abs_tol=1e-13, progress_bar=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party deprecations are not ours to fail on
        model.fit(frame)
        loglik = model.score(frame) * len(frame)
    return model, loglik


@pytest.mark.parametrize(
    ("parameterisation", "measurement"),
    [("VVI", "gaussian_diag"), ("VVV", "gaussian_full"), ("EEE", "gaussian_tied")],
)
@pytest.mark.parametrize("accelerate", [False, True])
def test_agrees_with_stepmix_from_the_same_start(three_profiles, parameterisation, measurement, accelerate):
    frame, _ = three_profiles
    rng = np.random.default_rng(5)
    d = frame.shape[1]
    covariances = {"VVI": np.ones((3, d)), "VVV": np.tile(np.eye(d), (3, 1, 1)), "EEE": np.eye(d)}[parameterisation]
    start = {
        "weights": np.full(3, 1 / 3),
        "means": THREE_MEANS + rng.normal(0, 0.7, THREE_MEANS.shape),
        "covariances": covariances,
    }
    reference, reference_ll = _stepmix_from(start, measurement, frame)
    ours = LatentProfileModel(3, parameterisation, tol=1e-13, accelerate=accelerate).fit_from(frame, **start)
    assert abs(ours.loglik_ - reference_ll) / abs(reference_ll) < 1e-8  # the brief asks for 1e-4
    params = reference.get_parameters()
    order = match(ours.means_, params["measurement"]["means"])
    np.testing.assert_allclose(ours.means_[order], params["measurement"]["means"], atol=1e-5)
    np.testing.assert_allclose(ours.weights_[order], params["weights"], atol=1e-6)
    reference_cov = params["measurement"]["covariances"]
    ours_cov = ours.covariances_ if parameterisation == "EEE" else ours.covariances_[order]
    np.testing.assert_allclose(ours_cov, reference_cov, atol=1e-5)
    assert ours.n_parameters_ == reference.n_parameters


def test_fiml_agrees_with_stepmix_and_a_direct_computation(three_profiles):
    frame, _ = three_profiles
    rng = np.random.default_rng(8)
    holed = frame.mask(rng.random(frame.shape) < 0.15)
    holed = holed[holed.notna().any(axis=1)]
    start = {"weights": np.full(3, 1 / 3), "means": THREE_MEANS + 0.5, "covariances": np.ones((3, 6))}
    _, reference_ll = _stepmix_from(start, "gaussian_diag_nan", holed)
    ours = LatentProfileModel(3, "VVI", tol=1e-13).fit_from(holed, **start)
    assert ours.n_samples_ == len(holed)
    assert abs(ours.loglik_ - reference_ll) / abs(reference_ll) < 1e-6
    # the observed-data likelihood, indicator by indicator, with scipy.stats.norm
    values = holed.to_numpy()
    observed = ~np.isnan(values)
    log_joint = np.zeros((len(values), 3))
    for j in range(3):
        dens = stats.norm(ours.means_[j], np.sqrt(ours.covariances_[j])).logpdf(np.nan_to_num(values))
        log_joint[:, j] = np.log(ours.weights_[j]) + np.where(observed, dens, 0.0).sum(axis=1)
    assert logsumexp(log_joint, axis=1).sum() == pytest.approx(ours.loglik_, rel=1e-10)


def test_full_covariance_drops_incomplete_rows_with_a_warning(three_profiles):
    frame, _ = three_profiles
    holed = frame.copy()
    holed.iloc[:10, 0] = np.nan
    with pytest.warns(LPAWarning, match="10 row"):
        model = LatentProfileModel(3, "EEE", n_starts=4, random_state=0).fit(holed)
    assert model.n_samples_ == len(frame) - 10
    proba = model.predict_proba(holed)
    assert proba.iloc[:10].isna().all().all() and proba.iloc[10:].notna().all().all()


# ---- (c) EEI and EEE against a direct computation ----------------------------------------------


@pytest.mark.parametrize("parameterisation", ["EEI", "EEE"])
def test_loglik_and_fixed_point_against_scipy(three_profiles, parameterisation):
    frame, _ = three_profiles
    model = LatentProfileModel(3, parameterisation, n_starts=8, tol=1e-14, random_state=3).fit(frame)
    values = frame.to_numpy()
    loglik, posterior = scipy_loglik_and_posterior(model, values)
    assert model.loglik_ == pytest.approx(loglik, rel=1e-8)
    assert model.score(frame) == pytest.approx(loglik / len(frame), rel=1e-8)
    np.testing.assert_allclose(model.predict_proba(frame).to_numpy(), posterior, atol=1e-10)
    # One more EM step, written out by hand, leaves the estimates where they are: the reported solution is
    # the fixed point of EM without the ridge (issue 15: the ridge must not lower the reported log-likelihood).
    n = len(values)
    size = posterior.sum(axis=0)
    means = posterior.T @ values / size[:, None]
    scatter = sum((posterior[:, j, None] * (values - means[j])).T @ (values - means[j]) for j in range(len(size))) / n
    np.testing.assert_allclose(size / n, model.weights_, atol=1e-9)
    np.testing.assert_allclose(means, model.means_, atol=1e-7)
    expected_cov = np.diag(scatter) if parameterisation == "EEI" else scatter
    np.testing.assert_allclose(expected_cov, model.covariances_, atol=1e-7)


# ---- (d) information criteria ---------------------------------------------------------------------


@pytest.mark.parametrize(("parameterisation", "n_cov"), [("EEI", 6), ("VVI", 18), ("EEE", 21), ("VVV", 63)])
def test_information_criteria_by_hand(three_profiles, parameterisation, n_cov):
    frame, _ = three_profiles
    model = LatentProfileModel(3, parameterisation, n_starts=6, random_state=4).fit(frame)
    n, ll = len(frame), model.loglik_
    p = 2 + 3 * 6 + n_cov
    assert model.n_parameters_ == p
    assert model.aic() == pytest.approx(-2 * ll + 2 * p)
    assert model.bic() == pytest.approx(-2 * ll + p * math.log(n))
    # Sclove's n* = (n + 2) / 24, not StepMix's ln(n (n + 2) / 24)
    assert model.sabic() == pytest.approx(-2 * ll + p * math.log((n + 2) / 24))
    assert model.sabic() != pytest.approx(-2 * ll + p * math.log(n * (n + 2) / 24))
    posterior = model.predict_proba(frame).to_numpy()
    entropy = -(posterior * np.log(np.clip(posterior, 1e-300, None))).sum()
    assert model.icl() == pytest.approx(model.bic() + 2 * entropy, rel=1e-9)
    assert model.entropy() == pytest.approx(1 - entropy / (n * math.log(3)), rel=1e-9)
    assert model.bic(frame) == pytest.approx(model.bic(), rel=1e-10)
    statistics = model.fit_statistics()
    assert statistics["sabic"] == pytest.approx(model.sabic())
    assert statistics["smallest_share"] == pytest.approx(model.weights_.min())


def test_one_profile_is_the_sample_mean_and_variance(three_profiles):
    frame, _ = three_profiles
    model = LatentProfileModel(1, "VVI", reg_covar=0.0).fit(frame)
    np.testing.assert_allclose(model.means_[0], frame.mean().to_numpy())
    np.testing.assert_allclose(model.covariances_[0], frame.var(ddof=0).to_numpy())
    expected = stats.norm(frame.mean(), frame.std(ddof=0)).logpdf(frame).sum()
    assert model.loglik_ == pytest.approx(expected, rel=1e-12)
    assert math.isnan(model.entropy())


# ---- (e) replication -----------------------------------------------------------------------------


def test_warns_when_the_best_loglik_is_not_replicated():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(size=(150, 3)), columns=["a", "b", "c"])  # no profiles: many optima
    with pytest.warns(ReplicationWarning, match="reached by only 1 of 5"):
        model = LatentProfileModel(6, "VVI", n_starts=5, n_final_starts=5, max_starts=5, random_state=0).fit(frame)
    assert model.replication_count_ == 1
    assert model.replication_ == pytest.approx(1 / 5)
    assert model.loglik_ == pytest.approx(model.start_logliks_.max(), abs=1e-6)
    assert model.warnings_ and "local maximum" in model.warnings_[0]


def test_replicated_solution_gives_no_warning(three_profiles):
    frame, _ = three_profiles
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LatentProfileModel(3, "VVI", n_starts=12, random_state=5).fit(frame)
    assert model.replication_ > 0.5 and model.warnings_ == []


def test_two_stage_starts_reach_the_full_run_maximum(three_profiles):
    frame, _ = three_profiles
    plain = LatentProfileModel(3, "VVI", n_starts=10, n_final_starts=10, random_state=6).fit(frame)
    staged = LatentProfileModel(3, "VVI", n_starts=40, n_final_starts=10, n_init_iter=20, random_state=6).fit(frame)
    assert staged.loglik_ >= plain.loglik_ - 1e-6
    assert staged.start_completed_.sum() == 10 and plain.start_completed_.all()
    assert np.isfinite(staged.start_logliks_).all()
    # the initial stage ranks, it does not decide: every completed start has a float64 log-likelihood
    assert staged.loglik_ == pytest.approx(staged.start_logliks_[staged.start_completed_].max(), abs=1e-6)


# ---- (f) LMR and the bootstrapped LRT ------------------------------------------------------------


def test_lmr_and_blrt_find_two_profiles():
    means = [[0.0, 0.0, 0.0, 0.0], [2.5, 2.5, -1.0, 1.5]]
    frame, _ = simulate(250, means, [0.6, 0.4], 1.0, seed=21)
    result = enumerate_profiles(frame, range(1, 4), ("EEI",), bootstrap=39, bootstrap_starts=8, random_state=7)
    table = result.to_frame().loc["EEI"]
    assert table.loc[2, "lmr_p"] < 0.01 and table.loc[2, "blrt_p"] < 0.05
    assert table.loc[3, "lmr_p"] > 0.05 and table.loc[3, "blrt_p"] > 0.05
    assert math.isnan(table.loc[1, "blrt_p"])
    recommended = result.recommended
    assert (recommended.n_profiles, recommended.bic_choice, recommended.blrt_choice) == (2, 2, 2)
    assert "agrees" in recommended.reason
    for k in (2, 3):
        draws = result.bootstrap_draws[("EEI", k)]
        observed = 2 * (table.loc[k, "loglik"] - table.loc[k - 1, "loglik"])
        assert len(draws) == 39 and (draws >= 0).all()
        assert table.loc[k, "blrt_p"] == pytest.approx((1 + (draws >= observed).sum()) / 40)


def test_lmr_statistic_matches_tidylpa_formula():
    # tidyLPA's documented example: calc_lrt(150, -741.02, 8, 1, -488.91, 13, 2)
    statistic, p_value = lmr_test(-741.02, -488.91, 8, 13, 150, 1)
    lr = 2 * (-488.91 + 741.02)
    expected = lr / (1 + 1 / (3 * math.log(150)))
    assert statistic == pytest.approx(expected)
    assert p_value == pytest.approx(stats.chi2.sf(expected, 5))


# ---- API -------------------------------------------------------------------------------------------


def test_estimator_conventions(three_profiles):
    frame, _ = three_profiles
    model = LatentProfileModel(3, "vvi", n_starts=4, random_state=9)
    assert not any(name.endswith("_") for name in vars(model))
    assert model.fit(frame) is model
    assert model.parameterisation_ == "VVI" and model.covariances_.shape == (3, 6)
    proba = model.predict_proba(frame)
    assert list(proba.columns) == ["profile_1", "profile_2", "profile_3"] and proba.index.equals(frame.index)
    assert isinstance(model.predict(frame.to_numpy()), np.ndarray)
    params = model.get_parameters_df()
    assert set(params["parameter"]) == {"weight", "mean", "variance"} and len(params) == 3 + 18 + 18
    assert model.get_means_df().shape == (3, 7)
    assert "3 profile(s), VVI" in model.summary()
    again = LatentProfileModel(**model.get_params()).fit(frame)
    assert again.loglik_ == model.loglik_
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(measurement="VVI")
    sample, labels = model.sample(50, random_state=1)
    assert list(sample.columns) == list(frame.columns) and labels.shape == (50,)
    with pytest.raises(ValueError, match="columns"):
        model.predict(frame.rename(columns={"item_1": "other"}))
    with pytest.raises(ValueError, match="parameterisation"):
        LatentProfileModel(2, "XYZ").fit(frame)


def test_analysis_imports_neither_flask_nor_the_database():
    code = "import sys, analysis.lpa; sys.exit(any(m in sys.modules for m in ('flask', 'sqlalchemy', 'sqlmodel')))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


# ---- R's mclust ------------------------------------------------------------------------------------

R_SCRIPT = """
suppressPackageStartupMessages(library(mclust))
x <- as.matrix(read.csv("{data}"))
z <- as.matrix(read.csv("{posterior}"))
one <- me(data = x, modelName = "{model}", z = z)
best <- Mclust(x, G = 3, modelNames = "{model}", verbose = FALSE)
cat("me", sprintf("%.12f", one$loglik), "\\n")
cat("mclust", sprintf("%.12f", best$loglik), "\\n")
cat("pro", sprintf("%.12f", one$parameters$pro), "\\n")
cat("mean", sprintf("%.12f", one$parameters$mean), "\\n")
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
@pytest.mark.parametrize("parameterisation", ["EEI", "VVI", "EEE", "VVV"])
def test_agrees_with_mclust(three_profiles, parameterisation, tmp_path):
    if subprocess.run(["Rscript", "-e", "library(mclust)"], capture_output=True).returncode != 0:
        pytest.skip("the R package mclust is not installed")
    frame, _ = three_profiles
    model = LatentProfileModel(3, parameterisation, n_starts=10, reg_covar=0.0, tol=1e-13, random_state=10).fit(frame)
    frame.to_csv(tmp_path / "x.csv", index=False)
    model.predict_proba(frame).to_csv(tmp_path / "z.csv", index=False)
    script = R_SCRIPT.format(data=tmp_path / "x.csv", posterior=tmp_path / "z.csv", model=parameterisation)
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True).stdout
    values = {line.split()[0]: np.array(line.split()[1:], dtype=float) for line in out.splitlines() if line.strip()}
    # EM in mclust from our posterior stays at our maximum ...
    assert values["me"][0] == pytest.approx(model.loglik_, rel=1e-9)
    np.testing.assert_allclose(values["pro"], model.weights_, atol=1e-6)
    np.testing.assert_allclose(values["mean"].reshape(3, 6), model.means_, atol=1e-6)
    # ... and mclust's own fit (hierarchical start, looser tolerance) reaches it, not higher.
    assert abs(values["mclust"][0] - model.loglik_) / abs(model.loglik_) < 1e-4
    assert values["mclust"][0] <= model.loglik_ + 1e-6


def test_scikit_learn_clone_and_pipeline(three_profiles):
    """clone gives an unfitted copy with equal parameters; the model is the last step of a Pipeline."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, _ = three_profiles
    model = LatentProfileModel(3, "VVI", n_starts=4, random_state=9)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "weights_")
    pipe = Pipeline([("scale", StandardScaler()), ("lpa", LatentProfileModel(3, "VVI", n_starts=4, random_state=9))])
    labels = pipe.fit(frame).predict(frame)
    scaled = (frame - frame.mean()) / frame.std(ddof=0)
    direct = clone(model).fit(scaled.to_numpy())
    np.testing.assert_array_equal(labels, direct.predict(scaled.to_numpy()))
    np.testing.assert_allclose(pipe.named_steps["lpa"].loglik_, direct.loglik_, rtol=1e-9)
    assert pipe.score(frame) == pytest.approx(direct.score(scaled.to_numpy()))


@pytest.mark.parametrize("parameterisation", ["EEI", "VVI", "EEE", "VVV"])
def test_squarem_extrapolates_from_its_second_cycle(parameterisation):
    """SQUAREM's step bound starts at 1, where the extrapolation is the second EM step itself; that step
    counts as accepted, so the bound grows and the second cycle extrapolates. It used to be kept only if
    strictly better than itself: the bound grew only when rounding happened to favour it, and until then
    accelerated EM took exactly the steps of plain EM (on this machine, all 31 M-steps of a mixed model).
    After two cycles (six M-steps) from eight different starts, no accelerated run is where plain EM is."""
    frame, _ = simulate(
        1500,
        np.array([[0.0, 0.0, 0.0], [1.2, 0.8, 0.0], [0.0, 1.5, 1.0]]),
        [0.5, 0.3, 0.2],
        np.array([[1.0, 1.0, 1.0], [0.8, 1.2, 1.0], [1.0, 0.7, 0.9]]),
        seed=5,
    )
    fitted = quiet(lambda: LatentProfileModel(3, parameterisation, n_starts=10, random_state=0).fit(frame))
    rng = np.random.default_rng(1)
    same = []
    for start in range(8):
        given = {
            "weights": np.full(3, 1 / 3),
            "means": fitted.means_ + rng.normal(0.0, 0.5, size=fitted.means_.shape),
            "covariances": fitted.covariances_,
        }
        runs = [
            quiet(
                lambda a=accelerate, g=given: LatentProfileModel(
                    3, parameterisation, max_iter=6, accelerate=a
                ).fit_from(frame, **g)
            )
            for accelerate in (True, False)
        ]
        if np.allclose(runs[0].means_, runs[1].means_, rtol=0.0, atol=1e-9):
            same.append(start)
    assert same == []


def quiet(fit):
    """``fit()`` with the fit's warnings (here: not converged within max_iter) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit()

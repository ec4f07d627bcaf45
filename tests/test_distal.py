"""Distal outcomes with three-step corrections: coverage on planted truth, StepMix, edge cases."""

# Matrix notation (D, K, X) as in analysis/distal.py.
# ruff: noqa: N803, N806

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from analysis.distal import METHODS, DistalResult, distal_outcome, distal_outcomes
from analysis.lpa import LatentProfileModel
from analysis.mixture import classification_error, match_profiles, relative_entropy

# Planted truth: three profiles on five indicators, separation tuned so that the relative entropy of a
# fitted model is 0.75-0.85 (the study's range).
SEPARATION = 1.35
TRUE_MEANS = (
    np.array(
        [
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 1.0, 0.0, -1.0, 1.0],
            [2.0, 0.0, 1.0, 1.0, -1.0],
        ]
    )
    * SEPARATION
)
SHARES = np.array([0.4, 0.35, 0.25])
OUTCOME_MEANS = np.array([0.0, 0.5, 1.2])  # continuous outcome, residual sd 1
OUTCOME_PROBS = np.array([0.2, 0.5, 0.8])  # binary outcome
N = 1000
REPLICATIONS = 100


def planted(rng: np.random.Generator, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Indicators, true profiles, a continuous and a binary outcome."""
    z = rng.choice(3, size=n, p=SHARES)
    X = TRUE_MEANS[z] + rng.normal(size=(n, TRUE_MEANS.shape[1]))
    y = OUTCOME_MEANS[z] + rng.normal(size=n)
    b = (rng.random(n) < OUTCOME_PROBS[z]).astype(float)
    return X, z, y, b


def fitted_posteriors(X: np.ndarray, seed: int) -> np.ndarray:
    """Step 1: a fitted three-profile LPA (few starts), profiles matched to the planted ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # replication diagnostics of a step-1 model with few starts
        model = LatentProfileModel(3, "EEI", n_starts=4, random_state=seed).fit(X)
    perm = match_profiles(model.means_, TRUE_MEANS)
    return np.asarray(model.predict_proba(X))[:, perm]


@dataclass(frozen=True)
class Simulation:
    entropy: np.ndarray  # (R,)
    bias: dict[tuple[str, str], np.ndarray]  # (method, kind) -> (R, K) estimate minus truth
    covered: dict[tuple[str, str], np.ndarray]  # (method, kind) -> (R, K) bool


@pytest.fixture(scope="module")
def simulation() -> Simulation:
    rng = np.random.default_rng(20261130)
    entropy = []
    bias: dict[tuple[str, str], list[np.ndarray]] = {(m, k): [] for m in METHODS for k in ("continuous", "binary")}
    covered: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in bias}
    for r in range(REPLICATIONS):
        X, _, y, b = planted(rng)
        post = fitted_posteriors(X, r)
        entropy.append(relative_entropy(post))
        for kind, outcome, truth in (("continuous", y, OUTCOME_MEANS), ("binary", b, OUTCOME_PROBS)):
            for method, result in distal_outcomes(post, outcome).items():
                assert result.kind == kind
                bias[method, kind].append(result.estimate - truth)
                covered[method, kind].append((result.ci_low <= truth) & (truth <= result.ci_high))
    return Simulation(
        np.array(entropy),
        {key: np.array(value) for key, value in bias.items()},
        {key: np.array(value) for key, value in covered.items()},
    )


def test_planted_truth_has_the_study_entropy(simulation: Simulation) -> None:
    assert 0.75 <= simulation.entropy.mean() <= 0.85
    assert simulation.entropy.min() >= 0.75, simulation.entropy
    assert simulation.entropy.max() <= 0.85, simulation.entropy


@pytest.mark.parametrize("kind", ["continuous", "binary"])
@pytest.mark.parametrize("method", ["BCH", "ML"])
def test_corrected_intervals_cover_the_truth(simulation: Simulation, method: str, kind: str) -> None:
    coverage = simulation.covered[method, kind].mean(axis=0)
    assert (coverage >= 0.90).all(), coverage
    # and the corrected estimates are unbiased: mean error within 3 Monte Carlo standard errors
    errors = simulation.bias[method, kind]
    mc_se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    assert (np.abs(errors.mean(axis=0)) < 3 * mc_se + 0.005).all(), (errors.mean(axis=0), mc_se)


@pytest.mark.parametrize("kind", ["continuous", "binary"])
def test_naive_estimates_are_biased_towards_each_other(simulation: Simulation, kind: str) -> None:
    errors = simulation.bias["naive", kind]
    mean_bias = errors.mean(axis=0)
    mc_se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    truth = OUTCOME_MEANS if kind == "continuous" else OUTCOME_PROBS
    # the lowest profile is pulled up, the highest down, each by far more than Monte Carlo error
    assert mean_bias[0] > 0.02 and mean_bias[0] > 5 * mc_se[0]
    assert mean_bias[2] < -0.02 and mean_bias[2] < -5 * mc_se[2]
    # so the contrast of the extreme profiles shrinks towards zero (by 8-14 % of its true size)
    shrinkage = (mean_bias[2] - mean_bias[0]) / (truth[2] - truth[0])
    assert shrinkage < -0.05
    # and the naive intervals miss the truth far more often than the nominal 5 %
    assert simulation.covered["naive", kind].mean(axis=0).min() < 0.85
    # the corrected contrast is not shrunk
    corrected = simulation.bias["BCH", kind].mean(axis=0)
    assert abs(corrected[2] - corrected[0]) < abs(mean_bias[2] - mean_bias[0]) / 3


# --------------------------------------------------------------------------------------------------
# Against StepMix (an independent implementation of the same estimators)


@pytest.fixture(scope="module")
def stepmix_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, _, y, b = planted(np.random.default_rng(3))
    return X, y, b


@pytest.mark.parametrize("kind", ["continuous", "binary"])
@pytest.mark.parametrize("correction", [None, "BCH", "ML"])
def test_matches_stepmix(stepmix_data: tuple[np.ndarray, np.ndarray, np.ndarray], kind: str, correction: str | None):
    """Same posteriors, same step 3: StepMix 3.0's ``n_steps=3`` estimates.

    StepMix's D (``compute_bch_matrix``) and BCH weights (``modal @ pinv(D)``) and its naive step 3 are
    those of :mod:`analysis.distal`, so BCH and naive agree to rounding. StepMix's ML step 3 keeps the
    profile shares at their step-1 values (``freeze_measurement``); ours estimates them with the outcome
    (Vermunt 2010), so the continuous means differ by a small fraction of a standard error (here about
    0.01 SE); for a binary outcome the two ML fits coincide with BCH (the model is saturated).
    """
    stepmix = pytest.importorskip("stepmix")
    X, y, b = stepmix_data
    outcome = y if kind == "continuous" else b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # StepMix's FutureWarnings from scikit-learn
        model = stepmix.StepMix(
            3,
            n_steps=3,
            measurement="continuous",
            structural=kind,
            correction=correction,
            n_init=5,
            abs_tol=1e-12,
            max_iter=5000,
            random_state=1,
            progress_bar=0,
        )
        model.fit(X, outcome.reshape(-1, 1))
        post = model.predict_proba_class(X)
    params = model.get_parameters()["structural"]
    theirs = params["means"][:, 0] if kind == "continuous" else params["pis"][:, 0]
    ours = distal_outcome(post, outcome, correction or "naive")
    assert 0.75 <= ours.entropy <= 0.85
    if correction == "ML" and kind == "continuous":
        assert np.abs(ours.estimate - theirs).max() < 0.05 * ours.se.min()
    elif correction == "ML":
        np.testing.assert_allclose(ours.estimate, theirs, atol=1e-4)
    else:
        np.testing.assert_allclose(ours.estimate, theirs, atol=1e-9)


# --------------------------------------------------------------------------------------------------
# Numerics and edge cases


def test_classification_error_matrix() -> None:
    prob = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]])
    D = classification_error(prob)
    # profile 1's mass 2.0, of which 1.5 is assigned to profile 1; profile 2's mass 2.0, 0.5 assigned to 1
    np.testing.assert_allclose(D, [[0.75, 0.25], [0.25, 0.75]])


def test_covariate_adjusted_means() -> None:
    """With covariates, naive is OLS on modal dummies (HC0 as statsmodels) and BCH is WLS on n x K rows."""
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(5)
    X, _, y, _ = planted(rng, 600)
    post = fitted_posteriors(X, 0)
    age = rng.normal(40, 10, 600)
    y = y + 0.03 * (age - 40)
    result = distal_outcome(post, y, "BCH", covariates=pd.DataFrame({"age": age}))
    W = np.linalg.inv(classification_error(post))[post.argmax(axis=1)]
    # statsmodels' WLS takes square roots of the weights, so only the naive (0/1) weights can go through it
    naive = distal_outcome(post, y, "naive", covariates=pd.DataFrame({"age": age}))
    a = post.argmax(axis=1)
    design = np.column_stack([np.eye(3)[a], age - age.mean()])
    fit = sm.OLS(y, design).fit(cov_type="HC0")
    np.testing.assert_allclose(naive.estimate, fit.params[:3], rtol=1e-10)
    np.testing.assert_allclose(naive.se, fit.bse[:3], rtol=1e-8)
    # and BCH by hand on the expanded data
    rows = np.repeat(np.arange(600), 3)
    Xe = np.column_stack([np.tile(np.eye(3), (600, 1)), (age - age.mean())[rows]])
    we = W.ravel()
    beta = np.linalg.solve(Xe.T @ (we[:, None] * Xe), Xe.T @ (we * y[rows]))
    np.testing.assert_allclose(result.estimate, beta[:3], rtol=1e-10)
    assert result.covariates == ("age",)
    assert abs(result.estimate - OUTCOME_MEANS).max() < 0.35


def test_result_shape_and_tests() -> None:
    rng = np.random.default_rng(11)
    X, _, y, b = planted(rng, 800)
    post = pd.DataFrame(fitted_posteriors(X, 1), columns=["low", "middle", "high"])
    y = pd.Series(y, name="identification")
    y[:25] = np.nan
    result = distal_outcome(post, y, "ML")
    assert isinstance(result, DistalResult)
    assert result.profiles == ("low", "middle", "high")
    assert result.n == 775 and result.n_dropped == 25 and result.n_modal.sum() == 775
    assert result.outcome == "identification"
    assert result.wald_df == 2 and result.wald_p < 1e-6
    assert list(result.pairwise["profile_a"]) == ["low", "low", "middle"]
    assert (result.pairwise["p_holm"] >= result.pairwise["p"]).all()
    assert result.odds_ratios is None
    assert "identification" in result.summary()
    assert list(result.to_frame().columns) == ["profile", "n_modal", "estimate", "se", "ci_low", "ci_high"]
    binary = distal_outcome(post, pd.Series(b.astype(bool), name="left"), "BCH", reference="middle")
    assert binary.kind == "binary"
    ors = binary.odds_ratios
    assert ors is not None
    assert list(ors["reference"].unique()) == ["middle"]
    middle = ors.set_index("profile").loc["middle"]
    assert middle["odds_ratio"] == 1.0
    high = ors.set_index("profile").loc["high"]
    p = binary.estimate
    assert high["odds_ratio"] == pytest.approx(p[2] / (1 - p[2]) / (p[1] / (1 - p[1])))
    assert high["ci_low"] < high["odds_ratio"] < high["ci_high"]


def test_ml_equal_variances_and_its_standard_errors() -> None:
    rng = np.random.default_rng(12)
    X, _, y, _ = planted(rng, 800)
    post = fitted_posteriors(X, 2)
    free = distal_outcome(post, y, "ML")
    equal = distal_outcome(post, y, "ML", equal_variances=True)
    # the outcome has equal variances, so both fits agree closely
    np.testing.assert_allclose(free.estimate, equal.estimate, atol=0.05)
    assert (free.se > 0).all() and (equal.se > 0).all()
    assert any("step-1" in note for note in free.notes)


def test_one_profile_gives_the_overall_mean() -> None:
    y = np.array([1.0, 2.0, 3.0, np.nan])
    for method in METHODS:
        result = distal_outcome(np.ones((4, 1)), y, method)
        assert result.estimate == pytest.approx([2.0], abs=1e-6)
        assert np.isnan(result.wald) and result.wald_df == 0
        assert result.pairwise.empty
        assert result.n_dropped == 1


def test_empty_assigned_profile() -> None:
    """Nobody modally in profile 3: BCH refuses (D singular), ML copes, naive gives NaN for it."""
    rng = np.random.default_rng(4)
    n = 400
    first = rng.uniform(0.2, 0.8, n)
    post = np.column_stack([first * 0.8, (1 - first) * 0.8, np.full(n, 0.2)])
    y = rng.normal(size=n)
    with pytest.raises(ValueError, match="no participant is modally assigned to profile_3"):
        distal_outcome(post, y, "BCH")
    naive = distal_outcome(post, y, "naive")
    assert np.isnan(naive.estimate[2]) and naive.wald_df == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the third profile is weakly identified
        ml = distal_outcome(post, y, "ML")
    assert np.isfinite(ml.estimate[:2]).all()


def test_outcome_all_missing() -> None:
    post = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="'intention' has no observed value"):
        distal_outcome(post, pd.Series([np.nan, None], name="intention"), "BCH")


def test_non_numeric_outcome_names_the_column() -> None:
    post = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match="outcome 'sector' must be numeric"):
        distal_outcome(post, pd.Series(["tech", "care", None], name="sector"), "ML")
    with pytest.raises(ValueError, match="outcome 'left' must be numeric"):
        distal_outcome(post, ["yes", 1, 0], "naive", name="left")


def test_bad_arguments() -> None:
    post = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match="method"):
        distal_outcome(post, [1.0, 2.0, 3.0], "DCON")
    with pytest.raises(ValueError, match="sum to 1"):
        distal_outcome(post * 2, [1.0, 2.0, 3.0], "BCH")
    with pytest.raises(ValueError, match="0/1"):
        distal_outcome(post, [1.0, 2.0, 0.0], "BCH", kind="binary")
    with pytest.raises(ValueError, match="not ML"):
        distal_outcome(post, [1.0, 2.0, 3.0], "ML", covariates=pd.DataFrame({"age": [1, 2, 3]}))
    with pytest.raises(ValueError, match="continuous outcome only"):
        distal_outcome(post, [1.0, 0.0, 1.0], "BCH", covariates=pd.DataFrame({"age": [1, 2, 3]}))


def test_bch_proportion_outside_the_unit_interval_is_reported_as_is() -> None:
    # two profiles, heavy misclassification, nobody in profile 2 with the outcome: the BCH proportion < 0
    post = np.array([[0.7, 0.3]] * 6 + [[0.35, 0.65]] * 4)
    b = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0], dtype=float)
    result = distal_outcome(post, b, "BCH")
    assert result.estimate[1] < 0
    assert any("outside [0, 1]" in note for note in result.notes)
    assert result.odds_ratios is not None and np.isnan(result.odds_ratios["odds_ratio"].iloc[1])


@pytest.mark.parametrize("method", METHODS)
def test_a_profile_without_events_has_no_odds_ratio(method: str) -> None:
    """Nobody in profile 2 has the outcome: its proportion is 0 (ML: at the boundary), its odds ratio NaN."""
    rng = np.random.default_rng(8)
    X, _, _, _ = planted(rng, 600)
    post = fitted_posteriors(X, 3)
    b = np.where(post.argmax(axis=1) == 1, 0.0, (rng.random(600) < 0.5).astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ML: the information matrix is singular at the boundary
        result = distal_outcome(post, b, method)
    assert result.odds_ratios is not None
    if method != "BCH":  # BCH's weighted proportion is not exactly 0: others' events leak in with weights
        assert result.estimate[1] < 1e-6
        assert np.isnan(result.odds_ratios["odds_ratio"].iloc[1])
    assert np.isfinite(result.odds_ratios["odds_ratio"].iloc[2])

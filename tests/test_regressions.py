"""Planted-truth tests for analysis.regressions: adjusted means by profile (OLS) and odds ratios (logit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.regressions import identification_by_profile, intention_to_leave

PROFILES = ["All-rounder", "Nerd", "Traditionalist"]
ALPHA = {"All-rounder": 5.0, "Nerd": 4.5, "Traditionalist": 4.0}
B_AGE, B_HOURS = 0.04, 0.05
JOB_EFFECT = {"engineer": 0.0, "consultant": 0.6, "manager": 1.0}


def _simulate_identification(n: int, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Simulate identification with covariates correlated with profile; return data and true adjusted means.

    The truth is the estimand on this sample: each profile's intercept plus the covariate part averaged over
    all rows (the sample's covariate distribution).
    """
    rng = np.random.default_rng(seed)
    profile = rng.choice(PROFILES, size=n, p=[0.3, 0.4, 0.3])
    # Confounding: the lowest profile is older, works more hours and is more often a manager.
    age_shift = pd.Series(profile).map({"All-rounder": -6.0, "Nerd": 0.0, "Traditionalist": 8.0}).to_numpy()
    hours_shift = pd.Series(profile).map({"All-rounder": -4.0, "Nerd": 0.0, "Traditionalist": 5.0}).to_numpy()
    age = 36 + age_shift + rng.normal(0, 8, n)
    hours = 36 + hours_shift + rng.normal(0, 6, n)
    p_manager = np.where(profile == "Traditionalist", 0.5, 0.1)
    u = rng.uniform(size=n)
    job = np.where(u < p_manager, "manager", np.where(u < p_manager + 0.3, "consultant", "engineer"))
    covariate_part = B_AGE * (age - 36) + B_HOURS * (hours - 36) + pd.Series(job).map(JOB_EFFECT).to_numpy()
    alpha = pd.Series(profile).map(ALPHA).to_numpy()
    y = alpha + covariate_part + rng.normal(0, 1.0, n)
    data = pd.DataFrame(
        {"identification": y, "profile": profile, "age": age, "contract_hours": hours, "job_group": job}
    )
    truth = {level: ALPHA[level] + float(covariate_part.mean()) for level in PROFILES}
    return data, truth


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, dict[str, float]]:
    return _simulate_identification(4000, seed=20240611)


def test_adjusted_means_recover_planted_truth_and_beat_raw_means(planted) -> None:
    data, truth = planted
    result = identification_by_profile(data)
    means = result.adjusted_means.set_index("profile")
    assert list(means.index) == PROFILES
    assert list(result.adjusted_means.columns[:1]) == ["profile"]
    for column in ["mean", "se", "ci_low", "ci_high"]:
        assert column in means.columns
    for level in PROFILES:
        assert abs(means.loc[level, "mean"] - truth[level]) < 0.1
        assert means.loc[level, "ci_low"] < means.loc[level, "mean"] < means.loc[level, "ci_high"]
    # Confounding: the naive group means are clearly off, the adjusted ones are not.
    raw = data.groupby("profile")["identification"].mean()
    raw_error = max(abs(raw[level] - truth[level]) for level in PROFILES)
    adjusted_error = max(abs(means.loc[level, "mean"] - truth[level]) for level in PROFILES)
    assert raw_error > 0.3
    assert raw_error > 3 * adjusted_error
    assert np.allclose(means["raw_mean"].to_numpy(), raw[PROFILES].to_numpy())
    assert means["n"].sum() == len(data) and result.n == len(data) and result.n_dropped == 0


def test_pairwise_differences_cover_truth_and_holm_is_conservative(planted) -> None:
    data, truth = planted
    result = identification_by_profile(data)
    pairwise = result.pairwise
    assert len(pairwise) == 3
    for row in pairwise.itertuples():
        true_difference = truth[row.profile_a] - truth[row.profile_b]
        assert row.ci_low <= true_difference <= row.ci_high
        assert abs(row.difference - true_difference) < 0.1
        assert row.p_holm >= row.p
        assert row.p_holm < 0.001  # true gaps of 0.5 and 1.0 with n = 4000 are unmistakable
    # Holm's smallest p-value is multiplied by the number of tests.
    smallest = pairwise["p"].idxmin()
    assert pairwise.loc[smallest, "p_holm"] == pytest.approx(min(1.0, 3 * pairwise.loc[smallest, "p"]))
    text = result.summary()
    assert "Traditionalist" in text and "Holm" in text
    assert result.to_frame().equals(result.adjusted_means)


def test_holm_matches_hand_computed_step_down() -> None:
    data, _ = _simulate_identification(600, seed=7)
    # Plant no gap between All-rounder and Nerd so that the p-values spread out over (0, 1).
    data.loc[data["profile"] == "Nerd", "identification"] += 0.5
    pairwise = identification_by_profile(data).pairwise
    p = pairwise["p"].to_numpy()
    order = np.argsort(p)
    expected = np.empty(3)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * p[index]))
        expected[index] = running
    assert np.allclose(pairwise["p_holm"].to_numpy(), expected)
    assert (pairwise["p_holm"] >= pairwise["p"]).all()
    null = pairwise[(pairwise["profile_a"] == "All-rounder") & (pairwise["profile_b"] == "Nerd")].iloc[0]
    assert null.p > 0.01  # the planted null is not rejected


def _hand_design(data: pd.DataFrame, profile: str | None = None) -> np.ndarray:
    """Treatment-coded design built with numpy, optionally with every row's profile set to ``profile``."""
    profiles = np.full(len(data), profile) if profile is not None else data["profile"].to_numpy()
    job = data["job_group"].to_numpy()
    return np.column_stack(
        [
            np.ones(len(data)),
            profiles == "Nerd",
            profiles == "Traditionalist",
            job == "consultant",
            job == "manager",
            data["age"].to_numpy(),
            data["contract_hours"].to_numpy(),
        ]
    ).astype(float)


def test_delta_method_se_matches_bootstrap() -> None:
    data, _ = _simulate_identification(1500, seed=11)
    result = identification_by_profile(data)
    # Independent re-implementation: numpy design, least squares, predictions averaged over all rows.
    design = _hand_design(data)
    mean_rows = np.array([_hand_design(data, level).mean(axis=0) for level in PROFILES])
    y = data["identification"].to_numpy()
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert np.allclose(mean_rows @ beta, result.adjusted_means["mean"].to_numpy())
    # The delta-method SE is conditional on the observed covariates (as in emmeans), so the matching
    # nonparametric bootstrap keeps the design fixed and resamples residuals.
    fitted = design @ beta
    residuals = y - fitted
    rng = np.random.default_rng(3)
    boot = []
    for _ in range(500):
        y_star = fitted + rng.choice(residuals, size=len(y), replace=True)
        beta_star, *_ = np.linalg.lstsq(design, y_star, rcond=None)
        boot.append(mean_rows @ beta_star)
    boot_se = np.asarray(boot).std(axis=0, ddof=1)
    delta_se = result.adjusted_means["se"].to_numpy()
    assert np.all(np.abs(delta_se / boot_se - 1) < 0.25), (delta_se, boot_se)
    # Differences too: the pairwise SE against the bootstrap SE of the difference.
    boot_diff_se = (np.asarray(boot)[:, 0] - np.asarray(boot)[:, 2]).std(ddof=1)
    pair = result.pairwise.query("profile_a == 'All-rounder' and profile_b == 'Traditionalist'").iloc[0]
    assert abs(pair.se / boot_diff_se - 1) < 0.25


def _simulate_leaving(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    profile = rng.choice(PROFILES, size=n)
    cluster = rng.choice([1, 2], size=n, p=[0.58, 0.42])
    job = np.where(rng.uniform(size=n) < 0.45, "non-technical", "technical")
    logit = (
        -2.3
        + pd.Series(profile).map({"All-rounder": 0.0, "Nerd": -0.2, "Traditionalist": 0.3}).to_numpy()
        + np.log(2.7) * (cluster == 2)
        + np.log(5.9) * (job == "non-technical")
    )
    leaves = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {"intends_to_leave": leaves.astype(int), "profile": profile, "study_cluster": cluster, "job_type": job}
    )


def test_logit_recovers_planted_odds_ratios() -> None:
    data = _simulate_leaving(20000, seed=42)
    result = intention_to_leave(data, reference={"job_type": "technical"})
    table = result.odds_ratios.set_index("term")
    assert list(result.odds_ratios.columns[:1]) == ["term"]
    planted = {"study_cluster: 2 vs 1": 2.7, "job_type: non-technical vs technical": 5.9}
    for term, odds_ratio in planted.items():
        row = table.loc[term]
        assert abs(row["odds_ratio"] / odds_ratio - 1) < 0.12
        assert row["ci_low"] <= odds_ratio <= row["ci_high"]
        assert row["p"] < 1e-10
    assert set(table.index) >= {"profile: Nerd vs All-rounder", "profile: Traditionalist vs All-rounder"}
    assert result.n == 20000 and result.n_dropped == 0
    assert "Odds ratios" in result.summary()
    assert result.to_frame().equals(result.odds_ratios)


def test_logit_default_reference_is_smallest_level() -> None:
    data = _simulate_leaving(5000, seed=5)
    table = intention_to_leave(data).odds_ratios.set_index("term")
    # Without a reference, "non-technical" sorts first: the odds ratio is inverted.
    row = table.loc["job_type: technical vs non-technical"]
    assert row["ci_low"] <= 1 / 5.9 <= row["ci_high"]


def test_logit_numeric_predictor_listed_before_a_factor_keeps_its_label() -> None:
    # Patsy moves numeric terms after the factors; the labels must follow the parameters, not the formula order.
    data = _simulate_leaving(20000, seed=8)
    result = intention_to_leave(data, predictors=("study_cluster", "job_type"), numeric=("study_cluster",))
    table = result.odds_ratios.set_index("term")
    assert list(table.index) == ["study_cluster: per unit", "job_type: technical vs non-technical"]
    assert abs(table.loc["study_cluster: per unit", "odds_ratio"] / 2.7 - 1) < 0.12
    assert abs(table.loc["job_type: technical vs non-technical", "odds_ratio"] * 5.9 - 1) < 0.12


def test_n_dropped_counts_rows_with_missing_values(planted) -> None:
    data, _ = planted
    data = data.copy()
    data["profile"] = data["profile"].astype(object)
    data.loc[[0, 1], "identification"] = np.nan
    data.loc[[1, 2], "age"] = np.nan  # row 1 is missing twice, counted once
    data.loc[3, "profile"] = None
    data.loc[4, "job_group"] = np.nan
    data["unused"] = np.nan  # columns outside the model do not drop rows
    result = identification_by_profile(data)
    assert result.n_dropped == 5
    assert result.n == len(data) - 5
    assert int(result.model.nobs) == len(data) - 5

    leaving = _simulate_leaving(3000, seed=9).astype({"intends_to_leave": float})
    leaving.loc[[10, 11, 12], "intends_to_leave"] = np.nan
    leaving.loc[[12, 13], "job_type"] = None
    logit = intention_to_leave(leaving)
    assert logit.n_dropped == 4
    assert int(logit.model.nobs) == 3000 - 4


def test_rejects_non_binary_outcome() -> None:
    data = _simulate_leaving(200, seed=1)
    data.loc[0, "intends_to_leave"] = 2
    with pytest.raises(ValueError, match="0/1"):
        intention_to_leave(data)

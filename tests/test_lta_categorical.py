"""Categorical and mixed indicators in latent transition analysis (a latent Markov model on categorical items
when all are categorical).

References: the likelihood summed over every profile path by brute force, the latent profile model (one
wave), and recovery of a planted model.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from analysis.lpa import LatentProfileModel
from analysis.lta import LatentTransitionModel

pytestmark = pytest.mark.filterwarnings("ignore:Category probabilities at the boundary")

INITIAL = np.array([0.45, 0.35, 0.20])
TRANSITION = np.array([[0.80, 0.15, 0.05], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])
MEANS = np.array([[0.0, 0.0], [2.5, -1.0], [-1.5, 2.5]])
PROBS = [
    np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]),
    np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.3, 0.6, 0.1]]),
    np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.1, 0.2, 0.6], [0.25, 0.05, 0.6, 0.1]]),
]
ITEMS = ["employed", "sector", "job"]
LABELS = [["no", "yes"], ["a", "b", "c"], ["clerk", "engineer", "manager", "technician"]]


def simulate(n, seed, waves=2, missing=0.10, continuous=True, copies=1):
    """Long data of the planted model, with ``missing`` of every indicator missing at random; and the profiles.

    ``copies`` > 1 draws the categorical items that many times (suffixed ``_2`` ...), independent given the
    profile.
    """
    rng = np.random.default_rng(seed)
    z = np.empty((n, waves), dtype=int)
    z[:, 0] = rng.choice(3, size=n, p=INITIAL)
    for t in range(1, waves):
        z[:, t] = (rng.random(n)[:, None] > np.cumsum(TRANSITION[z[:, t - 1]], axis=1)).sum(axis=1)
    frames = []
    for t in range(waves):
        frame = pd.DataFrame({"id": np.arange(n), "wave": t + 1})
        if continuous:
            frame[["score", "hours"]] = MEANS[z[:, t]] + rng.standard_normal((n, 2))
        for copy in range(copies):
            for name, probs, labels in zip(ITEMS, PROBS, LABELS, strict=True):
                codes = (rng.random(n)[:, None] > np.cumsum(probs[z[:, t]], axis=1)).sum(axis=1)
                frame[name if copy == 0 else f"{name}_{copy + 1}"] = np.asarray(labels, dtype=object)[codes]
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    for name in [c for c in data.columns if c not in ("id", "wave")]:
        data.loc[rng.random(len(data)) < missing, name] = np.nan
    return data, z


def order_by_truth(model):
    """``order[k]``: the fitted profile that is planted profile ``k`` (by the category probabilities)."""
    blocks = model.probabilities_[: len(PROBS)]
    fitted = np.hstack(blocks if model.invariant else [p[0] for p in blocks])
    truth = np.hstack(PROBS)
    cost = ((truth[:, None, :] - fitted[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    return cols[np.argsort(rows)]


def oracle_probabilities(data, z):
    """Category shares among the observed answers of each generating profile (what EM can at best recover)."""
    waves = sorted(data["wave"].unique())
    labels = z[data["id"].to_numpy(), data["wave"].map({w: t for t, w in enumerate(waves)}).to_numpy()]
    out = []
    for name, categories in zip(ITEMS, LABELS, strict=True):
        shares = [data.loc[labels == k, name].value_counts(normalize=True) for k in range(3)]
        out.append(np.array([[row.get(c, 0.0) for c in categories] for row in shares]))
    return out


@pytest.fixture(scope="module")
def planted():
    data, z = simulate(3000, seed=31)
    model = LatentTransitionModel(3, categorical=ITEMS, n_starts=6, random_state=2).fit(data)
    return data, z, model


def test_planted_mixed_latent_transition_model_is_recovered(planted):
    data, z, model = planted
    order = order_by_truth(model)
    np.testing.assert_allclose(model.transitions_[0][np.ix_(order, order)], TRANSITION, atol=0.05)
    np.testing.assert_allclose(model.initial_[order], INITIAL, atol=0.03)
    np.testing.assert_allclose(model.means_[order], MEANS, atol=0.1)
    # within 0.02 of what the generating profiles give, which are within sampling error of the planted values
    for estimated, oracle, truth in zip(model.probabilities_, oracle_probabilities(data, z), PROBS, strict=True):
        assert np.abs(estimated[order] - oracle).max() < 0.02
        assert np.abs(estimated[order] - truth).max() < 0.045
    assert model.categories_ == LABELS
    assert model.continuous_indicators_ == ["score", "hours"] and model.categorical_indicators_ == ITEMS
    # 2 initial + 6 transitions + 6 means + 6 variances + 3 profiles x (1 + 2 + 3) probabilities
    assert model.n_parameters_ == 2 + 6 + 6 + 6 + 18


def test_categorical_latent_markov_model_is_recovered():
    data, z = simulate(3000, seed=32, waves=3, continuous=False, copies=2)
    items = [c for c in data.columns if c not in ("id", "wave")]
    model = LatentTransitionModel(3, categorical=items, n_starts=8, homogeneous=True, random_state=3).fit(data)
    order = order_by_truth(model)
    np.testing.assert_allclose(model.transitions_[0][np.ix_(order, order)], TRANSITION, atol=0.05)
    for estimated, oracle in zip(model.probabilities_[:3], oracle_probabilities(data, z), strict=True):
        assert np.abs(estimated[order] - oracle).max() < 0.03
    assert model.means_.shape == (3, 0)
    assert model.n_parameters_ == 2 + 6 + 2 * 18


def test_likelihood_equals_the_sum_over_every_profile_path(planted):
    """The forward algorithm's log-likelihood against the brute-force sum over the K^T paths, for 40 people."""
    data, _, model = planted
    few = data[data["id"] < 40]
    scored = model.score_samples(few)
    variances = model.covariances_
    for person, rows in few.groupby("id"):
        rows = rows.sort_values("wave")
        emission = np.zeros((len(rows), 3))
        for t, (_, row) in enumerate(rows.iterrows()):
            for k in range(3):
                for j, name in enumerate(["score", "hours"]):
                    if not np.isnan(row[name]):
                        emission[t, k] += -0.5 * (
                            np.log(2 * np.pi * variances[k, j])
                            + (row[name] - model.means_[k, j]) ** 2 / variances[k, j]
                        )
                for j, name in enumerate(ITEMS):
                    if isinstance(row[name], str):
                        emission[t, k] += np.log(model.probabilities_[j][k, LABELS[j].index(row[name])])
        total = 0.0
        for path in itertools.product(range(3), repeat=len(rows)):
            p = model.initial_[path[0]] * np.exp(emission[0, path[0]])
            for t in range(1, len(rows)):
                p *= model.transitions_[t - 1][path[t - 1], path[t]] * np.exp(emission[t, path[t]])
            total += p
        assert scored[person] == pytest.approx(np.log(total), rel=1e-10)


def test_one_wave_agrees_with_the_latent_profile_model():
    data, _ = simulate(1500, seed=33, waves=1)
    lta = LatentTransitionModel(3, "VVI", categorical=ITEMS, n_starts=8, tol=1e-10, max_iter=5000, random_state=1)
    lta.fit(data)
    lpa = LatentProfileModel(3, "VVI", categorical=ITEMS, n_starts=20, tol=1e-12, random_state=1)
    lpa.fit(data.drop(columns=["id", "wave"]))
    assert lta.loglik_ == pytest.approx(lpa.loglik_, abs=1e-3)
    assert lta.n_parameters_ == lpa.n_parameters_


def test_wave_specific_probabilities_and_frames(planted):
    data, _, model = planted
    free = LatentTransitionModel(3, categorical=ITEMS, invariant=False, n_starts=3, random_state=2).fit(data)
    assert free.probabilities_[2].shape == (2, 3, 4)
    assert free.loglik_ >= model.loglik_ - 1e-6
    assert free.n_parameters_ == model.n_parameters_ + 12 + 18
    table = model.to_frame()
    probs = table[table["parameter"] == "probability"]
    assert len(probs) == 3 * (2 + 3 + 4) and set(probs["category"]) == {c for labels in LABELS for c in labels}
    long = model.probabilities_frame()
    np.testing.assert_allclose(long.groupby(["profile", "indicator"])["probability"].sum().to_numpy(), 1.0)
    assert set(model.profiles_frame()["indicator"]) == {"score", "hours"}
    assert "probabilities_" not in model.summary()
    posterior = model.predict_proba(data)
    assert np.allclose(posterior[["profile_1", "profile_2", "profile_3"]].sum(axis=1), 1.0)


def test_three_step_passes_categorical_to_step_one(planted):
    data, _, model = planted
    result = model.three_step(data, "ML")
    truth_like = model.transitions_[0]
    # the three-step profiles are numbered by step 1; compare the sorted stay probabilities
    np.testing.assert_allclose(np.sort(np.diag(result.transitions[0])), np.sort(np.diag(truth_like)), atol=0.05)
    per_wave = model.three_step(data, "BCH", step1="per_wave")
    assert np.isfinite(per_wave.transitions[0]).all()


def test_covariate_effects_with_categorical_indicators():
    data, _ = simulate(1200, seed=34, missing=0.05)
    rng = np.random.default_rng(5)
    data["age"] = data["id"].map(pd.Series(rng.normal(0, 1, 1200)))
    model = LatentTransitionModel(3, categorical=ITEMS, n_starts=3, random_state=4)
    model.fit(data, covariates=["age"])
    effects = model.covariate_effects()
    assert np.isfinite(effects["se"]).all() and (effects["se"] > 0).all()


def test_bootstrap_of_a_categorical_latent_markov_model():
    data, _ = simulate(600, seed=35, continuous=False)
    model = LatentTransitionModel(3, categorical=ITEMS, n_starts=3, random_state=4).fit(data)
    result = model.bootstrap(n_boot=3, random_state=1)
    assert result.transitions.shape == (3, 1, 3, 3)


def test_scikit_learn_parameters_include_categorical():
    from sklearn.base import clone

    model = LatentTransitionModel(2, categorical=["employed"])
    assert clone(model).get_params()["categorical"] == ["employed"]


def test_undeclared_text_indicator_is_refused():
    data, _ = simulate(100, seed=1)
    with pytest.raises(ValueError, match=r"'job' is not numeric.*categorical="):
        LatentTransitionModel(2, categorical=["employed", "sector"]).fit(data, indicators=["score", *ITEMS])


def test_categorical_outside_the_indicators_is_refused():
    data, _ = simulate(100, seed=1)
    with pytest.raises(ValueError, match="not indicators"):
        LatentTransitionModel(2, categorical=["employed"]).fit(data, indicators=["score", "hours"])


def test_single_category_is_refused():
    data, _ = simulate(100, seed=1)
    data["employed"] = "yes"
    with pytest.raises(ValueError, match="'employed' has 1 distinct"):
        LatentTransitionModel(2, categorical=ITEMS).fit(data)

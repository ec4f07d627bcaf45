"""Categorical and mixed indicators in latent profile analysis (latent class analysis when all are categorical).

References: StepMix's categorical measurement from the same starting values, the published latent class
log-likelihoods of Agresti's carcinoma data (poLCA's documentation), and recovery of planted parameters.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from analysis.categorical import PROBABILITY_FLOOR
from analysis.lpa import LatentProfileModel, LPAWarning, enumerate_profiles

DATA = Path(__file__).resolve().parent / "data"
# Boundary estimates (a category a profile never shows) are expected in small latent class fits.
pytestmark = pytest.mark.filterwarnings("ignore:Category probabilities at the boundary")

# Three profiles: two continuous indicators, a binary, a 3-category and a 4-category item.
TRUE_WEIGHTS = np.array([0.45, 0.35, 0.20])
TRUE_MEANS = np.array([[0.0, 0.0], [2.5, -1.0], [-1.5, 2.5]])
TRUE_SDS = np.array([[1.0, 1.0], [0.8, 1.2], [1.1, 0.9]])
TRUE_PROBS = [
    np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]),
    np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.3, 0.6, 0.1]]),
    np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.1, 0.2, 0.6], [0.25, 0.05, 0.6, 0.1]]),
]
CAT_NAMES = ["employed", "sector", "job"]
CATEGORY_LABELS = [["no", "yes"], ["a", "b", "c"], ["clerk", "engineer", "manager", "technician"]]


def simulate_mixed(n, seed, missing=0.0, labels_as_text=True, copies=1):
    """Rows of the planted mixed model; ``missing`` share of every indicator set missing at random.

    ``copies`` > 1 draws the categorical items that many times (names suffixed ``_2`` ...), independently
    given the profile.
    """
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=n, p=TRUE_WEIGHTS)
    frame = pd.DataFrame(TRUE_MEANS[z] + rng.standard_normal((n, 2)) * TRUE_SDS[z], columns=["score", "hours"])
    for copy in range(copies):
        for name, probs, labels in zip(CAT_NAMES, TRUE_PROBS, CATEGORY_LABELS, strict=True):
            codes = (rng.random(n)[:, None] > np.cumsum(probs[z], axis=1)).sum(axis=1)
            column = name if copy == 0 else f"{name}_{copy + 1}"
            frame[column] = np.asarray(labels, dtype=object)[codes] if labels_as_text else codes
    if missing:
        # missing at random: the categorical items go missing more often where the observed score is high
        score_high = frame["score"] > frame["score"].median()
        for name in frame.columns:
            rate = missing if name == "score" else np.where(score_high, 1.5 * missing, 0.5 * missing)
            frame.loc[rng.random(n) < rate, name] = np.nan
    return frame, z


def oracle_probabilities(frame, z):
    """Category shares among the observed values of each generating profile (what EM can at best recover)."""
    out = []
    for name, labels in zip(CAT_NAMES, CATEGORY_LABELS, strict=True):
        rows = [frame.loc[(z == k) & frame[name].notna(), name].value_counts(normalize=True) for k in range(3)]
        out.append(np.array([[row.get(label, 0.0) for label in labels] for row in rows]))
    return out


def match(estimated, truth):
    """Permutation ``order`` with ``estimated[order]`` closest to ``truth`` (rows are profiles)."""
    cost = ((truth[:, None, :] - estimated[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    return cols[np.argsort(rows)]


def carcinoma():
    table = pd.read_csv(DATA / "carcinoma.csv", comment="#")
    return table.loc[table.index.repeat(table["count"]), list("ABCDEFG")].reset_index(drop=True)


# ---- (a) StepMix from the same starting values ---------------------------------------------------


def _stepmix_from(start, measurement, frame):
    """StepMix fitted from ``start`` (weights, and per sub-model the parameters StepMix's set_parameters takes)."""
    stepmix = pytest.importorskip("stepmix")

    class StepMixFrom(stepmix.StepMix):
        def _initialize_parameters(self, X, random_state):  # noqa: N803 (StepMix's signature)
            self.weights_ = np.array(start["weights"], dtype=float)
            self._initialize_parameters_measurement(X, random_state, init_emission=False)
            self._mm.set_parameters(start["measurement"])
            self.log_resp_ = np.zeros((X.shape[0], self.n_components))

    model = StepMixFrom(n_components=len(start["weights"]), measurement=measurement, n_init=1, max_iter=20000)
    model.set_params(abs_tol=1e-13, progress_bar=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame)
        loglik = model.score(frame) * len(frame)
    return model, loglik


def _pis(blocks):
    """Our per-item probabilities as StepMix's Multinoulli parameters (items padded to the largest size)."""
    width = max(b.shape[1] for b in blocks)
    padded = [np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in blocks]
    return {"pis": np.hstack(padded), "max_n_outcomes": width, "total_outcomes": sum(b.shape[1] for b in blocks)}


def _from_pis(pis, sizes):
    width = max(sizes)
    return [pis[:, j * width : j * width + c] for j, c in enumerate(sizes)]


def _random_start_probs(rng, k):
    return [rng.dirichlet(np.ones(p.shape[1]), size=k) for p in TRUE_PROBS]


@pytest.mark.parametrize("accelerate", [False, True])
def test_latent_class_agrees_with_stepmix_from_the_same_start(accelerate):
    frame, _ = simulate_mixed(1500, seed=3, labels_as_text=False, copies=2)
    names = CAT_NAMES + [f"{name}_2" for name in CAT_NAMES]
    items = frame[names]
    rng = np.random.default_rng(4)
    probs = _random_start_probs(rng, 3) + _random_start_probs(rng, 3)
    start = {"weights": np.full(3, 1 / 3), "measurement": _pis(probs)}
    reference, reference_ll = _stepmix_from(start, "categorical", items)
    ours = LatentProfileModel(3, categorical=names, tol=1e-13, accelerate=accelerate)
    ours.fit_from(items, np.full(3, 1 / 3), None, None, probabilities=probs)
    assert abs(ours.loglik_ - reference_ll) / abs(reference_ll) < 1e-6
    params = reference.get_parameters()
    theirs = _from_pis(params["measurement"]["pis"], [2, 3, 4, 2, 3, 4])
    order = match(np.hstack(ours.probabilities_), np.hstack(theirs))
    for mine, other in zip(ours.probabilities_, theirs, strict=True):
        np.testing.assert_allclose(mine[order], other, atol=1e-5)
    np.testing.assert_allclose(ours.weights_[order], params["weights"], atol=1e-5)
    assert ours.n_parameters_ == reference.n_parameters == 2 + 3 * 2 * (1 + 2 + 3)
    assert ours.means_.shape == (3, 0) and ours.parameterisation_ == "EEI"


def test_mixed_vvi_agrees_with_stepmix_gaussian_diag_and_categorical():
    frame, _ = simulate_mixed(800, seed=5, labels_as_text=False)
    rng = np.random.default_rng(6)
    means = TRUE_MEANS + rng.normal(0, 0.8, TRUE_MEANS.shape)
    probs = _random_start_probs(rng, 3)
    start = {
        "weights": np.full(3, 1 / 3),
        "measurement": {"cont": {"means": means, "covariances": np.ones((3, 2))}, "cat": _pis(probs)},
    }
    measurement = {
        "cont": {"model": "gaussian_diag", "n_columns": 2},
        "cat": {"model": "categorical", "n_columns": 3},
    }
    reference, reference_ll = _stepmix_from(start, measurement, frame)
    ours = LatentProfileModel(3, "VVI", categorical=CAT_NAMES, tol=1e-13)
    ours.fit_from(frame, np.full(3, 1 / 3), means, np.ones((3, 2)), probabilities=probs)
    assert abs(ours.loglik_ - reference_ll) / abs(reference_ll) < 1e-6
    params = reference.get_parameters()["measurement"]
    order = match(ours.means_, params["cont"]["means"])
    np.testing.assert_allclose(ours.means_[order], params["cont"]["means"], atol=1e-5)
    np.testing.assert_allclose(ours.covariances_[order], params["cont"]["covariances"], atol=1e-5)
    for mine, other in zip(ours.probabilities_, _from_pis(params["cat"]["pis"], [2, 3, 4]), strict=True):
        np.testing.assert_allclose(mine[order], other, atol=1e-5)
    assert ours.n_parameters_ == reference.n_parameters


def test_mixed_fiml_agrees_with_stepmix_nan_models():
    frame, _ = simulate_mixed(800, seed=11, labels_as_text=False)
    frame = frame.astype(float)
    rng = np.random.default_rng(12)
    frame = frame.mask(rng.random(frame.shape) < 0.12)
    frame = frame[frame.notna().any(axis=1)]
    means = TRUE_MEANS + rng.normal(0, 0.8, TRUE_MEANS.shape)
    probs = _random_start_probs(rng, 3)
    start = {
        "weights": np.full(3, 1 / 3),
        "measurement": {"cont": {"means": means, "covariances": np.ones((3, 2))}, "cat": _pis(probs)},
    }
    measurement = {
        "cont": {"model": "gaussian_diag_nan", "n_columns": 2},
        "cat": {"model": "categorical_nan", "n_columns": 3},
    }
    _, reference_ll = _stepmix_from(start, measurement, frame)
    ours = LatentProfileModel(3, "VVI", categorical=CAT_NAMES, tol=1e-13)
    ours.fit_from(frame, np.full(3, 1 / 3), means, np.ones((3, 2)), probabilities=probs)
    assert ours.n_samples_ == len(frame)
    assert abs(ours.loglik_ - reference_ll) / abs(reference_ll) < 1e-6


def test_missing_categories_agree_with_stepmix_categorical_nan():
    frame, _ = simulate_mixed(800, seed=7, labels_as_text=False)
    items = frame[CAT_NAMES].astype(float)
    rng = np.random.default_rng(8)
    items = items.mask(rng.random(items.shape) < 0.15)
    items = items[items.notna().any(axis=1)]
    probs = _random_start_probs(rng, 3)
    start = {"weights": np.full(3, 1 / 3), "measurement": _pis(probs)}
    _, reference_ll = _stepmix_from(start, "categorical_nan", items)
    ours = LatentProfileModel(3, categorical=CAT_NAMES, tol=1e-13).fit_from(
        items, np.full(3, 1 / 3), None, None, probabilities=probs
    )
    assert ours.n_samples_ == len(items)
    assert abs(ours.loglik_ - reference_ll) / abs(reference_ll) < 1e-6
    # the observed-data likelihood, item by item
    log_joint = np.tile(np.log(ours.weights_), (len(items), 1))
    for j, name in enumerate(CAT_NAMES):
        values = items[name].to_numpy()
        seen = ~np.isnan(values)
        log_joint[seen] += np.log(ours.probabilities_[j][:, values[seen].astype(int)].T)
    direct = np.logaddexp.reduce(log_joint, axis=1).sum()
    assert direct == pytest.approx(ours.loglik_, rel=1e-10)


# ---- (b) published latent class results ----------------------------------------------------------


@pytest.mark.parametrize(("k", "published"), [(2, -317.2568), (3, -293.705), (4, -289.2858)])
def test_carcinoma_matches_the_published_log_likelihoods(k, published):
    """Agresti (2002, Table 13.1): 7 pathologists' ratings of 118 slides; poLCA's documented log-likelihoods."""
    slides = carcinoma()
    assert len(slides) == 118 and len(slides.drop_duplicates()) == 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LPAWarning)  # some probabilities are at the boundary, as in poLCA
        model = LatentProfileModel(k, categorical=list("ABCDEFG"), n_starts=40, random_state=2).fit(slides)
    assert model.loglik_ == pytest.approx(published, abs=5e-4)
    assert model.n_parameters_ == (k - 1) + 7 * k


def test_carcinoma_boundary_estimates_are_reported():
    with pytest.warns(LPAWarning, match="boundary"):
        model = LatentProfileModel(3, categorical=list("ABCDEFG"), n_starts=20, random_state=2).fit(carcinoma())
    smallest = min(block.min() for block in model.probabilities_)
    assert smallest == pytest.approx(PROBABILITY_FLOOR, rel=1e-3)


# ---- (c) recovery of planted parameters ----------------------------------------------------------


@pytest.fixture(scope="module")
def planted():
    frame, z = simulate_mixed(3000, seed=21, missing=0.10)
    model = LatentProfileModel(3, "VVI", categorical=CAT_NAMES, n_starts=20, random_state=3).fit(frame)
    return frame, z, model


def test_planted_mixed_parameters_are_recovered(planted):
    frame, z, model = planted
    order = match(model.means_, TRUE_MEANS)
    np.testing.assert_allclose(model.means_[order], TRUE_MEANS, atol=0.12)
    np.testing.assert_allclose(np.sqrt(model.covariances_[order]), TRUE_SDS, atol=0.1)
    np.testing.assert_allclose(model.weights_[order], TRUE_WEIGHTS, atol=0.03)
    # Within 0.03 of what the generating labels give (the sampling error of a 20% profile's 540 answers
    # alone is up to 0.02 per probability), and within three standard errors of the planted values.
    sizes = np.bincount(z, minlength=3)[:, None]
    for estimated, oracle, truth in zip(model.probabilities_, oracle_probabilities(frame, z), TRUE_PROBS, strict=True):
        assert np.abs(estimated[order] - oracle).max() < 0.03
        standard_error = np.sqrt(truth * (1 - truth) / (0.9 * sizes))
        assert (np.abs(estimated[order] - truth) < 3 * standard_error + 0.005).all()
    assert model.categories_ == CATEGORY_LABELS
    assert model.n_samples_ == int(frame.notna().any(axis=1).sum())


def test_planted_fit_reports_categorical_parameters(planted):
    _, _, model = planted
    table = model.get_parameters_df()
    assert {"parameter", "profile", "variable", "variable_2", "value", "category"} <= set(table.columns)
    probs = table[table["parameter"] == "probability"]
    assert len(probs) == 3 * (2 + 3 + 4)
    assert set(probs["category"]) == {c for labels in CATEGORY_LABELS for c in labels}
    sums = probs.groupby(["profile", "variable"])["value"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert list(model.get_means_df().columns) == ["share", "score", "hours"]
    long = model.get_probabilities_df()
    assert list(long.columns) == ["profile", "variable", "category", "probability"]
    assert model.n_parameters_ == 2 + 3 * 2 + 3 * 2 + 3 * (1 + 2 + 3)
    stats = model.fit_statistics()
    assert stats["bic"] == pytest.approx(-2 * model.loglik_ + model.n_parameters_ * np.log(model.n_samples_))
    assert "share" in model.summary()


def test_predict_score_and_sample_with_categories(planted):
    frame, z, model = planted
    post = model.predict_proba(frame)
    assert list(post.columns) == ["profile_1", "profile_2", "profile_3"]
    labels = model.predict(frame)
    order = match(model.means_, TRUE_MEANS)
    agreement = np.mean(np.argsort(order)[labels.to_numpy()] == z)
    assert agreement > 0.85
    ll = model.score_samples(frame)
    assert np.nansum(ll) == pytest.approx(model.loglik_, rel=1e-10)
    drawn, drawn_labels = model.sample(20000, random_state=1)
    assert list(drawn.columns) == list(frame.columns)
    share_yes = (drawn.loc[drawn_labels == 0, "employed"] == "yes").mean()
    assert share_yes == pytest.approx(model.probabilities_[0][0, 1], abs=0.02)
    # a model refitted on its own sample keeps the categories
    again = LatentProfileModel(3, "VVI", categorical=CAT_NAMES, n_starts=5, random_state=1).fit(drawn)
    assert again.categories_ == model.categories_


def test_squarem_and_plain_em_reach_the_same_maximum(planted):
    frame, _, model = planted
    start = {
        "weights": model.weights_,
        "means": model.means_ + 0.3,
        "covariances": model.covariances_,
        "probabilities": [np.full_like(b, 1.0 / b.shape[1]) * 0.5 + 0.5 * b for b in model.probabilities_],
    }
    fast = LatentProfileModel(3, "VVI", categorical=CAT_NAMES, tol=1e-12).fit_from(frame, **start)
    slow = LatentProfileModel(3, "VVI", categorical=CAT_NAMES, tol=1e-12, accelerate=False).fit_from(frame, **start)
    assert fast.loglik_ == pytest.approx(slow.loglik_, abs=1e-5)
    assert fast.n_iter_ < slow.n_iter_


@pytest.mark.parametrize("parameterisation", ["EEI", "EEE", "VVV"])
def test_other_parameterisations_take_categorical_items(parameterisation):
    frame, z = simulate_mixed(1000, seed=9)
    model = LatentProfileModel(3, parameterisation, categorical=CAT_NAMES, n_starts=8, random_state=1).fit(frame)
    order = match(model.means_, TRUE_MEANS)
    for estimated, oracle in zip(model.probabilities_, oracle_probabilities(frame, z), strict=True):
        assert np.abs(estimated[order] - oracle).max() < 0.05


def test_parameterisation_is_ignored_without_continuous_indicators():
    slides = carcinoma()
    fits = [
        LatentProfileModel(2, name, categorical=list("ABCDEFG"), n_starts=10, random_state=1).fit(slides)
        for name in ("EEI", "VVV")
    ]
    assert fits[0].loglik_ == pytest.approx(fits[1].loglik_, abs=1e-6)
    assert fits[1].parameterisation_ == "EEI" and fits[1].covariances_.shape == (0,)
    text = fits[1].summary()
    assert "Category probabilities" in text and "15 free parameters" in text


def test_arrays_take_column_indices():
    frame, _ = simulate_mixed(600, seed=10, labels_as_text=False)
    model = LatentProfileModel(3, "VVI", categorical=[2, 3, 4], n_starts=5, random_state=1).fit(frame.to_numpy())
    assert model.categorical_features_ == ["x3", "x4", "x5"] and model.means_.shape == (3, 2)
    assert model.predict(frame.to_numpy()).shape == (600,)


def test_enumeration_passes_categorical_through():
    slides = carcinoma()
    result = enumerate_profiles(slides, range(1, 4), categorical=list("ABCDEFG"), bootstrap=2, random_state=1)
    table = result.to_frame()
    # one class: the items are independent, the log-likelihood is that of their margins
    margins = sum((slides[c].value_counts() * np.log(slides[c].value_counts(normalize=True))).sum() for c in "ABCDEFG")
    np.testing.assert_allclose(table["loglik"].to_numpy(), [margins, -317.2568, -293.705], atol=5e-4)
    assert table["n_parameters"].tolist() == [7, 15, 23]


def test_scikit_learn_contract_with_categorical():
    from sklearn.base import clone

    model = LatentProfileModel(2, categorical=["A", "B"], n_starts=3)
    twin = clone(model)
    assert twin.get_params()["categorical"] == ["A", "B"]
    assert model.set_params(categorical=["C"]).categorical == ["C"]


# ---- (d) validation ------------------------------------------------------------------------------


def test_undeclared_text_column_is_refused_with_a_hint():
    frame, _ = simulate_mixed(200, seed=1)
    with pytest.raises(ValueError, match=r"'job' is not numeric.*categorical="):
        LatentProfileModel(2, categorical=["employed", "sector"]).fit(frame)


def test_single_category_is_refused():
    frame, _ = simulate_mixed(200, seed=1)
    frame["employed"] = "yes"
    with pytest.raises(ValueError, match="'employed' has 1 distinct"):
        LatentProfileModel(2, categorical=CAT_NAMES).fit(frame)


def test_too_many_categories_are_refused():
    frame, _ = simulate_mixed(200, seed=1)
    frame["sector"] = np.arange(200) % 60
    with pytest.raises(ValueError, match="'sector' has 60 distinct values"):
        LatentProfileModel(2, categorical=CAT_NAMES).fit(frame)


def test_unknown_categorical_column_is_refused():
    frame, _ = simulate_mixed(200, seed=1)
    with pytest.raises(ValueError, match=r"'salary'.*not a column"):
        LatentProfileModel(2, categorical=["salary"]).fit(frame)


def test_unseen_category_at_prediction_is_refused():
    frame, _ = simulate_mixed(300, seed=1)
    model = LatentProfileModel(2, categorical=CAT_NAMES, n_starts=3, random_state=1).fit(frame)
    other = frame.copy()
    other.loc[0, "job"] = "astronaut"
    with pytest.raises(ValueError, match="'job' has values not seen"):
        model.predict(other)


# ---- (e) the category chart ----------------------------------------------------------------------


def test_category_plot_draws_a_segment_per_profile_and_category(planted):
    import re

    from analysis.charts import category_plot

    _, _, model = planted
    svg = category_plot(model.get_probabilities_df(), labels={"job": "Job <type>"}, title="Mixed & planted")
    assert svg.startswith("<svg") and 'aria-label="Mixed &amp; planted"' in svg
    assert "Job &lt;type&gt;" in svg and "<type>" not in svg
    segments = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*data-probability="([\d.]+)"', svg)
    assert len(segments) == 3 * (2 + 3 + 4)
    for _, width, probability in segments:
        assert float(width) == pytest.approx(360.0 * float(probability), abs=0.05)  # both rounded
    assert svg.count("data-indicator=") == 3
    with pytest.raises(ValueError, match="more than one wave"):
        category_plot(model.get_probabilities_df().assign(wave=[1, 2] * 13 + [1]))
    with pytest.raises(ValueError, match="needs rows"):
        category_plot(pd.DataFrame(columns=["profile", "variable", "category", "probability"]))

"""Starts for K + 1 profiles from a K-profile fit: a split of each profile, and a small new profile."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.lpa import LatentProfileModel, enumerate_profiles, incremental_starts


def planted(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Three large profiles and a 2% profile far from them (5 indicators)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0, 0], [3, 3, 0, 0, 0], [0, 0, 3, 3, 0], [8, -6, 8, -6, 8]], dtype=float)
    sizes = [400, 350, 230, 20]
    x = np.vstack([rng.normal(c, 1.0, (m, 5)) for c, m in zip(centres, sizes, strict=True)])
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(5)]), centres


def test_the_new_profile_starts_at_the_rows_fitted_worst() -> None:
    data, _ = planted()
    three = LatentProfileModel(3, "VVI", n_starts=10, random_state=1).fit(data)
    starts = incremental_starts(three, data, outlier_shares=(0.02,), n_groups=0)
    assert len(starts) == 4  # three splits and the new profile
    # by default new profiles of 1%, 2% and 5%, and one at each of 6 groups of the worst-fitting tenth
    assert len(incremental_starts(three, data)) == 3 + 3 + 6
    new = starts[-1]
    assert new["means"].shape == (4, 5) and np.isclose(new["weights"].sum(), 1.0)
    # the worst-fitting rows by an independent computation of each row's mixture density
    from scipy.stats import multivariate_normal

    density = sum(
        w * multivariate_normal(m, np.diag(c)).pdf(data.to_numpy())
        for w, m, c in zip(three.weights_, three.means_, three.covariances_, strict=True)
    )
    worst = np.argsort(np.log(density))[:20]
    assert np.allclose(new["means"][-1], data.to_numpy()[worst].mean(axis=0))
    assert abs(new["weights"][-1] - 0.02) < 1e-9
    for start in starts[:3]:
        assert start["means"].shape == (4, 5) and np.isclose(start["weights"].sum(), 1.0)


def test_enumeration_with_incremental_starts_is_never_worse_and_finds_the_small_profile() -> None:
    data, centres = planted()
    plain = enumerate_profiles(data, range(3, 5), ["VVI"], n_starts=3, bootstrap=0, incremental=False, random_state=4)
    grown = enumerate_profiles(data, range(3, 5), ["VVI"], n_starts=3, bootstrap=0, random_state=4)
    table_plain, table_grown = plain.to_frame(), grown.to_frame()
    assert (table_grown["loglik"] >= table_plain["loglik"] - 1e-6).all()
    four = grown.models[("VVI", 4)]
    smallest = int(np.argmin(four.weights_))
    assert abs(four.weights_[smallest] - 0.02) < 0.005
    assert np.allclose(four.means_[smallest], centres[3], atol=0.6)

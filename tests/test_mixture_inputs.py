"""Bad input to the mixture models gives an error naming the problem, the same in LPA and LTA (issue 15).

Before: a constant indicator raised iris's EEI log-likelihood from -361.4 to +536.9 without a word, an
all-missing or infinite indicator ended in "every start failed" (LPA) or NaN (LTA), 2.7 profiles became
2, 20 profiles were fitted to 10 participants, and a text column gave an error naming no column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from analysis.lpa import LatentProfileModel
from analysis.lta import LatentTransitionModel
from analysis.validation import check_n_profiles

IRIS = pd.DataFrame(load_iris().data, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])


def fit_lpa(frame: pd.DataFrame, k=3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LatentProfileModel(k, "EEI", n_starts=4, random_state=0).fit(frame)


def fit_lta(frame: pd.DataFrame, k=2):
    long = frame.assign(id=np.arange(len(frame)) % 75, wave=np.arange(len(frame)) // 75 + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LatentTransitionModel(k, n_starts=2, max_iter=50, random_state=0).fit(
            long, indicators=list(frame.columns)
        )


FITS = [pytest.param(fit_lpa, id="LPA"), pytest.param(fit_lta, id="LTA")]


@pytest.mark.parametrize("fit", FITS)
def test_a_constant_indicator_is_refused_by_name(fit):
    with pytest.raises(ValueError, match=r"'tenure' is constant \(1 wherever observed\)"):
        fit(IRIS.assign(tenure=1.0))


@pytest.mark.parametrize("fit", FITS)
def test_an_all_missing_indicator_is_refused_by_name(fit):
    with pytest.raises(ValueError, match="'unanswered' has no observed value"):
        fit(IRIS.assign(unanswered=np.nan))


@pytest.mark.parametrize("fit", FITS)
def test_an_infinite_value_is_refused_by_name(fit):
    frame = IRIS.copy()
    frame.iloc[3, 1] = np.inf
    with pytest.raises(ValueError, match="'sepal_width' holds an infinite value"):
        fit(frame)


@pytest.mark.parametrize("fit", FITS)
def test_every_bad_indicator_is_listed_at_once(fit):
    with pytest.raises(ValueError, match=r"'a' is constant.*'b' has no observed value"):
        fit(IRIS.assign(a=2.0, b=np.nan))


@pytest.mark.parametrize("fit", FITS)
def test_a_text_indicator_is_refused_by_name(fit):
    frame = IRIS.assign(sector=["tech"] * 149 + [None])
    frame["sector"] = frame["sector"].astype(object)
    with pytest.raises(ValueError, match=r"Indicator 'sector' is not numeric: it holds 'tech'"):
        fit(frame)


@pytest.mark.parametrize("fit", FITS)
@pytest.mark.parametrize("k", [2.7, 0, -1, True, "3"])
def test_a_number_of_profiles_that_is_not_a_positive_whole_number_is_refused(fit, k):
    with pytest.raises(ValueError, match="n_profiles must be"):
        fit(IRIS, k)


@pytest.mark.parametrize("fit", FITS)
def test_more_profiles_than_participants_is_refused(fit):
    with pytest.raises(ValueError, match="n_profiles = 20 needs more than 20 participants with data; there are 10"):
        fit(IRIS.iloc[np.r_[0:5, 75:80]].reset_index(drop=True), 20)


def test_a_whole_float_and_numpy_integers_are_accepted():
    assert check_n_profiles(3.0) == 3
    assert check_n_profiles(np.int64(4), 10) == 4
    assert fit_lpa(IRIS, np.int32(2)).weights_.size == 2


def test_missing_values_and_booleans_still_fit():
    frame = IRIS.assign(tall=IRIS["sepal_length"] > 6)
    frame.iloc[0, 0] = np.nan
    model = fit_lpa(frame)
    assert np.isfinite(model.loglik_)

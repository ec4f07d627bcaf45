"""Checks of what a mixture model is asked to fit, shared by the latent profile and transition models.

Bad input must give an error that says what is wrong and where, not a number: a constant indicator makes
the likelihood unbounded (a variance of zero), an all-missing or infinite one makes it undefined, and a
fractional number of profiles is not a model. :class:`analysis.lpa.LatentProfileModel` and
:class:`analysis.lta.LatentTransitionModel` call these functions with the same rules and messages.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.mixture import Array

__all__ = ["check_indicator_values", "check_n_profiles", "numeric_indicators"]


def check_n_profiles(value: Any, n_rows: int | None = None, *, name: str = "n_profiles") -> int:
    """``value`` as a number of profiles: a positive whole number, and below ``n_rows`` when given.

    Parameters
    ----------
    value : object
        An integer (Python or NumPy) or a float with a whole value (``3.0``); not a bool.
    n_rows : int, optional
        Participants (rows) the model is fitted to; ``K`` must be smaller.
    name : str
        The parameter's name, for the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        For ``2.7``, ``0``, ``-1``, ``True``, ``"3"`` or ``K >= n_rows``.
    """
    whole = isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and float(value).is_integer())
    if isinstance(value, bool | np.bool_) or not whole:
        raise ValueError(f"{name} must be a whole number of profiles, got {value!r}.")
    k = int(value)
    if k < 1:
        raise ValueError(f"{name} must be at least 1, got {k}.")
    if n_rows is not None and k >= n_rows:
        raise ValueError(f"{name} = {k} needs more than {k} participants with data; there are {n_rows}.")
    return k


def numeric_indicators(frame: pd.DataFrame, columns: Sequence[Any] | None = None) -> Array:
    """The indicator columns of ``frame`` as a float matrix; a non-numeric column is named in the error.

    Booleans count as numeric (0/1); missing values (``None``, ``pd.NA``, NaN) become NaN.

    Raises
    ------
    ValueError
        Naming the first column that holds a value that is not a number, and that value.
    """
    columns = list(frame.columns) if columns is None else list(columns)
    selected = frame if columns == list(frame.columns) else frame[columns]
    try:  # all at once; column by column only to name the column that fails
        return np.asarray(selected.to_numpy(dtype=float, na_value=np.nan), dtype=float).reshape(len(frame), -1)
    except (TypeError, ValueError):
        pass
    out = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        series = selected.iloc[:, j]
        try:
            out[:, j] = series.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            converted = pd.to_numeric(series, errors="coerce")
            bad = series[converted.isna() & series.notna()]
            example = bad.iloc[0] if len(bad) else series.iloc[0]
            raise ValueError(
                f"Indicator {column!r} is not numeric: it holds {example!r} (row {bad.index[0]!r}). "
                f"If it is categorical, declare it with categorical=[{column!r}]; otherwise recode it or leave it out."
            ) from None
    return out


def check_indicator_values(values: Array, names: Sequence[str]) -> None:
    """Refuse indicators no mixture model can fit, naming each: infinite, all missing or constant.

    Parameters
    ----------
    values : ndarray of shape (n, d), or (n, T, d) for panel data
        The indicators, NaN where missing.
    names : sequence of str
        One name per indicator (the last axis).

    Raises
    ------
    ValueError
        Listing every offending indicator and why: an infinite value (the likelihood is undefined), no
        observed value (nothing to estimate), or one value only (a profile's variance goes to zero and the
        likelihood has no maximum: a constant indicator would raise it without bound).
    """
    if values.shape[-1] == 0:
        return
    flat = values.reshape(-1, values.shape[-1])
    problems = []
    for j, name in enumerate(names):
        column = flat[:, j]
        if np.isinf(column).any():
            problems.append(f"{name!r} holds an infinite value")
            continue
        observed = column[~np.isnan(column)]
        if observed.size == 0:
            problems.append(f"{name!r} has no observed value")
        elif observed.min() == observed.max():
            problems.append(f"{name!r} is constant ({observed[0]:g} wherever observed)")
    if problems:
        raise ValueError(
            "These indicators cannot enter the model: " + "; ".join(problems) + ". Leave them out or recode them."
        )

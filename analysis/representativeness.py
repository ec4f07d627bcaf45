"""R-indicators and partial R-indicators of a wave's response, and the adaptive reminder rule (issue 19).

How representative is the response so far? Statistics Netherlands answers with the R-indicator
(Schouten, Cobben & Bethlehem 2009) and its partial indicators (Schouten, Shlomo & Skinner 2011), as
implemented in CBS's RISQ software; :func:`r_indicator` computes them for the people invited to a wave
(the *frame*), :func:`plan_targeted_reminders` turns them into a reminder plan.

Definitions
-----------
* **Response propensities.** A logistic regression of the response indicator on the main effects of
  categorical auxiliary variables (each variable a set of dummies, its first category the reference).
  Missing values are a category of their own, ``"unknown"``. The model is fitted by Newton-Raphson
  (IRLS) on the covariate patterns (*cells*: people with the same auxiliary values), so its cost grows
  with the number of cells, not people. To keep the fit finite under separation (a category in which
  everyone, or no one, responded) the log-likelihood carries a ridge penalty of ``1e-10`` times the
  squared coefficients: it changes propensities by about ``1e-10`` when the maximum likelihood estimate
  exists, and holds the propensity of a separated category at about ``1e-10`` from 0 or 1 when it does
  not. When everyone or no one responded, every propensity is the response rate (1 or 0).
* **R-indicator** ``R = 1 - 2 S``, with ``S`` the standard deviation of the estimated propensities over
  the frame, unit design weights and the ``1/(N - 1)`` form of the variance. **CV** ``= S / mean``, the
  coefficient of variation of the propensities (undefined, ``None``, when no one responded).
* **Unconditional partial R-indicators** (between variance): for variable ``Z`` with categories ``k``,
  ``P_U(Z, k) = sqrt(n_k / N) (rho_k - rho)`` (signed: negative means the category lags) and
  ``P_U(Z) = sqrt(sum_k P_U(Z, k)^2)``, where ``rho_k`` is the mean propensity in category ``k`` and
  ``rho`` the mean over the frame. With ``Z`` in the model, ``rho_k`` equals the category's response rate.
* **Conditional partial R-indicators** (within variance): with ``rho_cell(i)`` the mean propensity of the
  people who share person ``i``'s values of all the *other* auxiliaries,
  ``P_C(Z, k) = sqrt((1/N) sum_{i in k} (rho_i - rho_cell(i))^2)`` (unsigned) and
  ``P_C(Z) = sqrt(sum_k P_C(Z, k)^2)``.
  Both partial indicators use ``1/N``, as in the 2011 paper and RISQ (``getPartialRUnconditional``,
  ``getPartialRConditional``); ``S`` uses ``1/(N - 1)``.

Standard errors and intervals: the bootstrap
--------------------------------------------
The standard errors of ``R``, ``CV`` and every partial indicator come from a bootstrap over people: the
frame is resampled with replacement, the model refitted and everything recomputed. On cells a replicate is
one multinomial draw of ``N`` people over the (cell x responded) counts, and all replicates are fitted
together, starting at the estimate: chord steps (Newton steps with the estimate's information matrix held
fixed, so a step costs one gradient), then full Newton steps for any replicate they leave unconverged;
each replicate converges to its own maximum likelihood fit. Intervals are **normal**: estimate
``± 1.96`` bootstrap standard errors, cut to the indicator's range (``R <= 1``; ``CV`` and the unsigned
indicators ``>= 0``). Normal rather than percentile because 200 replicates give a stable standard
deviation but put only about five replicates beyond each 2.5 % percentile, and because the plug-in
variance of the propensities is biased upwards in every replicate as well, which a percentile interval
would count twice. The analytic variance approximation of Shlomo, Skinner & Schouten (2012) is not
implemented: the bootstrap is the method.

Bias
----
The plug-in ``S`` overstates the spread of the true propensities, because estimation noise adds variance;
the excess is large for small cells. :attr:`RIndicator.r_adjusted` subtracts the first-order
(delta-method) bias of ``S^2``, ``(sum_i z_i' V z_i - N zbar' V zbar) / (N - 1)`` with
``z_i = rho_i (1 - rho_i) x_i`` and ``V`` the inverse Fisher information (for a saturated model it is
``(sum_c rho_c (1 - rho_c) - sum_c n_c rho_c (1 - rho_c) / N) / (N - 1)``). It is reported beside ``r``; ``r``
and its interval remain the plug-in value that the definition (and RISQ's ``RUnadj``) gives.

Adaptive reminders
------------------
:func:`plan_targeted_reminders` sends reminders to whole categories whose unconditional partial indicator
is significantly negative (its interval lies below zero), most negative first, within a message budget;
see its docstring for the rule.

References
----------
* B. Schouten, F. Cobben and J. Bethlehem (2009). Indicators for the representativeness of survey
  response. *Survey Methodology* 35(1), 101-113.
* B. Schouten, N. Shlomo and C. Skinner (2011). Indicators for monitoring and improving representativeness
  of response. *Journal of Official Statistics* 27(2), 231-253.
* N. Shlomo, C. Skinner and B. Schouten (2012). Estimation of an indicator of the representativeness of
  survey response. *Journal of Statistical Planning and Inference* 142(1), 201-211.

No Flask, no database: the caller loads the frame.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit

__all__ = ["UNKNOWN", "RIndicator", "TargetingDecision", "plan_targeted_reminders", "r_indicator"]

#: The category of a missing auxiliary value.
UNKNOWN = "unknown"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_RIDGE = 1e-10  # penalty on the squared coefficients: finite estimates under separation
_MAX_STEP = 10.0  # largest change of one coefficient in one Newton step (log-odds)
_MAX_ITER = 200
_TOL = 1e-9  # convergence: largest Newton step
_ALPHA = 0.05
_CHORD_ITER = 50  # chord steps for a bootstrap replicate before full Newton steps take over
_CHUNK = 4_000_000  # array elements of one batch of weighted design matrices in the bootstrap


# ---------------------------------------------------------------------------------------------------------
# Categories


def _label(value: Any) -> str:
    """Return the category label of one non-missing value (``2016.0`` reads ``"2016"``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _category_labels(series: pd.Series) -> tuple[pd.Series, list[str]]:
    """Return ``series`` as category labels (missing values ``"unknown"``) and the categories in order.

    The order is that of a categorical's categories, else the sorted values; ``"unknown"`` comes last.
    The first category is the reference of the dummy coding.
    """
    missing = series.isna().to_numpy()
    present = series[~missing]
    if isinstance(series.dtype, pd.CategoricalDtype):
        values: list[Any] = [c for c in series.cat.categories if (present == c).any()]
    else:
        uniques = list(pd.unique(present))
        try:
            values = sorted(uniques)
        except TypeError:
            values = sorted(uniques, key=str)
    label_of = {value: _label(value) for value in values}
    order = list(dict.fromkeys(label_of.values()))
    if missing.any() and UNKNOWN not in order:
        order.append(UNKNOWN)
    labels = np.full(len(series), UNKNOWN, dtype=object)
    labels[~missing] = [label_of[value] for value in present.astype(object)]
    return pd.Series(labels, index=series.index, name=series.name, dtype=object), order


def _as_labels(series: pd.Series) -> pd.Series:
    """Return ``series`` as the category labels :func:`r_indicator` gives its values."""
    return _category_labels(series)[0]


# ---------------------------------------------------------------------------------------------------------
# Cells, the fit and the indicators


@dataclass(frozen=True)
class _Cells:
    """The frame aggregated to covariate patterns."""

    codes: IntArray  # (C, J) category code of every auxiliary
    people: FloatArray  # (C,) people in the cell
    respondents: FloatArray  # (C,) respondents in the cell
    person_cell: IntArray  # (N,) the cell of every person
    design: FloatArray  # (C, p) intercept and dummies
    categories: list[list[str]]  # labels of each auxiliary, in code order
    others: list[tuple[IntArray, int]]  # per auxiliary: group of the other auxiliaries' pattern, count


def _cells(frame: pd.DataFrame, responded: npt.NDArray[np.bool_], auxiliaries: Sequence[str]) -> _Cells:
    """Aggregate the frame to cells and build the dummy-coded design matrix of the cells."""
    columns = []
    categories = []
    for name in auxiliaries:
        labels, order = _category_labels(frame[name])
        columns.append(pd.Categorical(labels, categories=order).codes.astype(np.int64))
        categories.append(order)
    codes, inverse = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    person_cell = np.asarray(inverse, dtype=np.int64).reshape(-1)
    n_cells = codes.shape[0]
    people = np.bincount(person_cell, minlength=n_cells).astype(np.float64)
    respondents = np.bincount(person_cell, weights=responded.astype(np.float64), minlength=n_cells).astype(np.float64)
    blocks = [np.ones((n_cells, 1))]
    for j, order in enumerate(categories):
        blocks.append((codes[:, j, None] == np.arange(1, len(order))[None, :]).astype(np.float64))
    design = np.hstack(blocks)
    others = []
    for j in range(len(auxiliaries)):
        rest = np.delete(codes, j, axis=1)
        if rest.shape[1] == 0:
            others.append((np.zeros(n_cells, dtype=np.int64), 1))
            continue
        groups, group = np.unique(rest, axis=0, return_inverse=True)
        others.append((np.asarray(group, dtype=np.int64).reshape(-1), groups.shape[0]))
    return _Cells(codes, people, respondents, person_cell, design, categories, others)


def _fit(design: FloatArray, people: FloatArray, respondents: FloatArray, start: FloatArray) -> FloatArray:
    """Fit the ridge-stabilised logistic regression to each row of cell counts; return the coefficients.

    ``people`` and ``respondents`` are ``(B, C)``: ``B`` frames (the data or bootstrap replicates) over the
    same ``C`` cells. Newton-Raphson steps for all frames at once, each stopping when its largest step is
    below the tolerance; ``start`` (``(p,)``) is the starting value of all.
    """
    n_frames, n_par = people.shape[0], design.shape[1]
    beta = np.tile(start, (n_frames, 1))
    active = np.arange(n_frames)
    ridge = _RIDGE * np.eye(n_par)
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        b = beta[active]
        mu = expit(b @ design.T)
        n = people[active]
        weights = n * mu * (1.0 - mu)
        gradient = (respondents[active] - n * mu) @ design - _RIDGE * b
        hessian = np.matmul(design.T[None, :, :] * weights[:, None, :], design) + ridge
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        step = np.clip(step, -_MAX_STEP, _MAX_STEP)
        beta[active] = b + step
        active = active[np.abs(step).max(axis=1) > _TOL]
    return beta


def _information(design: FloatArray, people: FloatArray, mu: FloatArray) -> FloatArray:
    """Return the (ridge-penalised) Fisher information ``X' diag(n rho (1 - rho)) X`` of one frame of cells."""
    weights = people * mu * (1.0 - mu)
    information: FloatArray = design.T @ (design * weights[:, None]) + _RIDGE * np.eye(design.shape[1])
    return information


def _fit_chord(
    design: FloatArray, people: FloatArray, respondents: FloatArray, start: FloatArray, information: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Refit bootstrap replicates by Newton steps with the estimate's information held fixed (chord method).

    A replicate's information differs from the estimate's by resampling noise, so the steps converge
    linearly to its maximum likelihood estimate; each costs a gradient (``B x C x p``) instead of a batch of
    information matrices (``B x C x p^2``). Returns the coefficients and the rows that did not converge.
    """
    inverse = np.linalg.inv(information)
    beta = np.tile(start, (people.shape[0], 1))
    active = np.arange(people.shape[0])
    for _ in range(_CHORD_ITER):
        if active.size == 0:
            break
        b = beta[active]
        mu = expit(b @ design.T)
        gradient = (respondents[active] - people[active] * mu) @ design - _RIDGE * b
        step = np.clip(gradient @ inverse, -_MAX_STEP, _MAX_STEP)
        beta[active] = b + step
        active = active[np.abs(step).max(axis=1) > _TOL]
    return beta, active


def _propensities(
    cells: _Cells, people: FloatArray, respondents: FloatArray, start: FloatArray, information: FloatArray
) -> FloatArray:
    """Return the cell propensities ``(B, C)`` of bootstrap replicates of the cell counts (rows of ``people``).

    Every replicate starts at the estimate ``start`` (information ``information``): chord steps first,
    full Newton steps (in batches that bound the memory) for any replicate they leave unconverged.
    """
    total = people.sum(axis=1)
    rate = respondents.sum(axis=1) / total
    mu = np.repeat(rate[:, None], people.shape[1], axis=1)
    # everyone or no one responded: the maximum likelihood limit is the response rate in every cell
    varying = np.flatnonzero((rate > 0) & (rate < 1))
    if varying.size == 0:
        return mu
    beta, unconverged = _fit_chord(cells.design, people[varying], respondents[varying], start, information)
    rows = varying[unconverged]
    chunk = max(1, _CHUNK // cells.design.size)
    for first in range(0, rows.size, chunk):
        batch = rows[first : first + chunk]
        beta[unconverged[first : first + chunk]] = _fit(cells.design, people[batch], respondents[batch], start)
    mu[varying] = expit(beta @ cells.design.T)
    return mu


def _group_sum(values: FloatArray, index: IntArray, size: int) -> FloatArray:
    """Return the sums of ``values`` (``(B, C)``) over the groups ``index`` (``(C,)``) of the cells: ``(B, size)``."""
    n_frames = values.shape[0]
    flat = (np.arange(n_frames)[:, None] * size + index[None, :]).reshape(-1)
    sums = np.bincount(flat, weights=values.reshape(-1), minlength=n_frames * size).astype(np.float64)
    return sums.reshape(n_frames, size)


@dataclass(frozen=True)
class _Statistics:
    """The indicators of ``B`` frames."""

    s: FloatArray  # (B,)
    r: FloatArray
    cv: FloatArray
    mean: FloatArray
    unconditional: FloatArray  # (B, K) category level, every auxiliary's categories in turn
    conditional: FloatArray
    unconditional_variable: FloatArray  # (B, J)
    conditional_variable: FloatArray


def _statistics(cells: _Cells, people: FloatArray, mu: FloatArray) -> _Statistics:
    """Compute R, CV and the partial indicators from cell counts and cell propensities (``(B, C)`` each)."""
    total = people.sum(axis=1)
    mean = (people * mu).sum(axis=1) / total
    variance = (people * (mu - mean[:, None]) ** 2).sum(axis=1) / (total - 1)
    s = np.sqrt(np.maximum(variance, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, s / mean, np.nan)
    unconditional, conditional, u_var, c_var = [], [], [], []
    for j, order in enumerate(cells.categories):
        size = len(order)
        category = cells.codes[:, j]
        n_k = _group_sum(people, category, size)
        sum_k = _group_sum(people * mu, category, size)
        rho_k = np.divide(sum_k, n_k, out=np.repeat(mean[:, None], size, axis=1), where=n_k > 0)
        p_u = np.sqrt(n_k / total[:, None]) * (rho_k - mean[:, None])
        group, n_groups = cells.others[j]
        n_g = _group_sum(people, group, n_groups)
        sum_g = _group_sum(people * mu, group, n_groups)
        rho_g = np.divide(sum_g, n_g, out=np.zeros_like(sum_g), where=n_g > 0)
        within = _group_sum(people * (mu - rho_g[:, group]) ** 2, category, size) / total[:, None]
        p_c = np.sqrt(np.maximum(within, 0.0))
        unconditional.append(p_u)
        conditional.append(p_c)
        u_var.append(np.sqrt((p_u**2).sum(axis=1)))
        c_var.append(np.sqrt((p_c**2).sum(axis=1)))
    return _Statistics(
        s=s,
        r=1.0 - 2.0 * s,
        cv=cv,
        mean=mean,
        unconditional=np.hstack(unconditional),
        conditional=np.hstack(conditional),
        unconditional_variable=np.column_stack(u_var),
        conditional_variable=np.column_stack(c_var),
    )


def _variance_bias(cells: _Cells, mu: FloatArray, information: FloatArray) -> float:
    """First-order (delta-method) bias of the plug-in variance of the propensities, ``1/(N - 1)`` form."""
    people = cells.people
    total = float(people.sum())
    w = mu * (1.0 - mu)
    design = cells.design
    covariance = np.linalg.inv(information)
    quadratic = np.einsum("cp,pq,cq->c", design, covariance, design)  # x_c' V x_c
    zbar = (people * w) @ design / total
    bias = (float(np.sum(people * w**2 * quadratic)) - total * float(zbar @ covariance @ zbar)) / (total - 1)
    return max(bias, 0.0)


# ---------------------------------------------------------------------------------------------------------
# Results


def _num(value: Any) -> float | None:
    """Return a float rounded to 6 decimals for JSON, ``None`` for NaN or infinity."""
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None


def _int(value: Any) -> int:
    """Return a count as a plain int."""
    return int(value)


def _pair(lower: Any, upper: Any) -> list[float | None]:
    """Return an interval as a JSON list."""
    return [_num(lower), _num(upper)]


def _json_label(label: Hashable) -> Any:
    """Return an index label as a plain JSON value."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, bool | int | str) or label is None:
        return label
    if isinstance(label, float):
        return _num(label)
    return str(label)


@dataclass(frozen=True)
class RIndicator:
    """Representativeness of the response in a frame: result of :func:`r_indicator`.

    Attributes
    ----------
    r : float
        The R-indicator ``1 - 2 S`` (plug-in ``S``, ``1/(N - 1)`` form).
    r_se : float
        Bootstrap standard error of ``r`` (NaN without bootstrap).
    r_ci : tuple of float
        95 % normal interval of ``r``, its upper bound cut at 1.
    r_adjusted : float
        ``r`` with the first-order bias of ``S^2`` removed (see the module docstring).
    s : float
        Standard deviation of the estimated propensities.
    s_bias : float
        The estimated bias of ``S^2`` subtracted for :attr:`r_adjusted`.
    cv, cv_se, cv_ci
        Coefficient of variation ``S / mean`` of the propensities, its standard error and interval (NaN
        when no one responded).
    response_rate : float
        Respondents over ``n``.
    n, respondents : int
        People in the frame and respondents among them.
    variables : pandas.DataFrame
        One row per auxiliary: ``variable``, ``categories``, ``unconditional``, ``unconditional_se``,
        ``unconditional_lower``, ``unconditional_upper``, ``conditional``, ``conditional_se``,
        ``conditional_lower``, ``conditional_upper``.
    partials : pandas.DataFrame
        One row per category: ``variable``, ``category``, ``n``, ``respondents``, ``response_rate``,
        ``unconditional`` (signed), ``unconditional_se``, ``unconditional_lower``, ``unconditional_upper``,
        ``conditional``, ``conditional_se``, ``conditional_lower``, ``conditional_upper``, ``lagging``
        (the unconditional interval lies below 0) and ``suppressed`` (``n < min_cell_size``: the caller
        hides the row; it counts in every figure). Sorted by ``unconditional``, most negative first.
    coefficients : pandas.Series
        The logistic regression's coefficients (``Intercept``, ``variable[category]``).
    propensities : pandas.Series
        Every person's estimated response propensity, indexed like the frame.
    auxiliaries : tuple of str
        The auxiliary variables, in model order.
    bootstrap : int
        Bootstrap replicates behind the standard errors.
    min_cell_size : int
        Categories with fewer people are marked ``suppressed``.
    method : str
        One sentence on model, bootstrap and interval.
    """

    r: float
    r_se: float
    r_ci: tuple[float, float]
    r_adjusted: float
    s: float
    s_bias: float
    cv: float
    cv_se: float
    cv_ci: tuple[float, float]
    response_rate: float
    n: int
    respondents: int
    variables: pd.DataFrame
    partials: pd.DataFrame
    coefficients: pd.Series
    propensities: pd.Series
    auxiliaries: tuple[str, ...]
    bootstrap: int
    min_cell_size: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Return the category-level partial indicators.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`partials`.
        """
        return self.partials.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON types (floats rounded to 6 decimals, ``None`` for NaN).

        Returns
        -------
        dict
            ``n``, ``respondents``, ``response_rate``, ``r``, ``r_se``, ``r_ci``, ``cv``, ``cv_se``,
            ``cv_ci``, ``method``, ``variables`` (``variable``, ``unconditional``, ``unconditional_ci``,
            ``conditional``, ``conditional_ci``) and ``partials`` (``variable``, ``category``, ``n``,
            ``respondents``, ``response_rate``, ``unconditional``, ``unconditional_ci``, ``conditional``,
            ``conditional_ci``, ``lagging``, ``suppressed``), most negative unconditional first.
        """
        variables = [
            {
                "variable": str(row.variable),
                "unconditional": _num(row.unconditional),
                "unconditional_ci": _pair(row.unconditional_lower, row.unconditional_upper),
                "conditional": _num(row.conditional),
                "conditional_ci": _pair(row.conditional_lower, row.conditional_upper),
            }
            for row in self.variables.itertuples(index=False)
        ]
        partials = [
            {
                "variable": str(row.variable),
                "category": str(row.category),
                "n": _int(row.n),
                "respondents": _int(row.respondents),
                "response_rate": _num(row.response_rate),
                "unconditional": _num(row.unconditional),
                "unconditional_ci": _pair(row.unconditional_lower, row.unconditional_upper),
                "conditional": _num(row.conditional),
                "conditional_ci": _pair(row.conditional_lower, row.conditional_upper),
                "lagging": bool(row.lagging),
                "suppressed": bool(row.suppressed),
            }
            for row in self.partials.itertuples(index=False)
        ]
        return {
            "n": int(self.n),
            "respondents": int(self.respondents),
            "response_rate": _num(self.response_rate),
            "r": _num(self.r),
            "r_se": _num(self.r_se),
            "r_ci": _pair(*self.r_ci),
            "cv": _num(self.cv),
            "cv_se": _num(self.cv_se),
            "cv_ci": _pair(*self.cv_ci),
            "method": self.method,
            "variables": variables,
            "partials": partials,
        }

    def summary(self) -> str:
        """Return a plain-text report: R, CV, the variable-level and the category-level partial indicators.

        Returns
        -------
        str
            The report.
        """

        def interval(pair: tuple[float, float]) -> str:
            return f"[{pair[0]:.3f}, {pair[1]:.3f}]"

        lines = [
            f"R-indicator: n = {self.n}, respondents = {self.respondents} ({self.response_rate:.1%})",
            f"R = {self.r:.3f} (SE {self.r_se:.3f}, 95% CI {interval(self.r_ci)}; bias-adjusted {self.r_adjusted:.3f})",
            f"CV = {self.cv:.3f} (SE {self.cv_se:.3f}, 95% CI {interval(self.cv_ci)})",
            self.method,
            "",
            "Partial R-indicators by variable:",
            self.variables.to_string(index=False, float_format=lambda x: f"{x:.4f}"),
            "",
            "Partial R-indicators by category (most lagging first; suppressed rows are for internal use):",
            self.partials.to_string(index=False, float_format=lambda x: f"{x:.4f}"),
        ]
        return "\n".join(lines)


def _interval(
    estimate: FloatArray, se: FloatArray, lower_bound: float, upper_bound: float
) -> tuple[FloatArray, FloatArray]:
    """Return the normal interval ``estimate ± z se`` cut to ``[lower_bound, upper_bound]``."""
    z = NormalDist().inv_cdf(1 - _ALPHA / 2)
    return np.clip(estimate - z * se, lower_bound, upper_bound), np.clip(estimate + z * se, lower_bound, upper_bound)


def r_indicator(
    frame: pd.DataFrame,
    responded: str,
    auxiliaries: list[str],
    *,
    bootstrap: int = 200,
    random_state: int | np.random.Generator | None = None,
    min_cell_size: int = 10,
) -> RIndicator:
    """Estimate the R-indicator, the CV and the partial R-indicators of the response in a frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per person invited (the frame, unit design weights).
    responded : str
        Column with the response indicator (bool or 0/1; no missing values).
    auxiliaries : list of str
        Categorical auxiliary variables of the response model (main effects). Missing values form the
        category ``"unknown"``; numbers are categories too (``2016.0`` is labelled ``"2016"``).
    bootstrap : int, default 200
        Bootstrap replicates for standard errors and intervals; 0 skips them (NaN standard errors and
        intervals, nothing ``lagging``).
    random_state : int, numpy.random.Generator or None
        Seed of the bootstrap.
    min_cell_size : int, default 10
        Categories with fewer people are marked ``suppressed`` (they still count in every figure).

    Returns
    -------
    RIndicator
        The indicators, their standard errors and 95 % normal intervals, and the partial indicators.

    Raises
    ------
    ValueError
        If the frame is empty or has one person, the response column has missing values or values other
        than 0/1, no auxiliary is given, or ``bootstrap`` or ``min_cell_size`` is negative.
    KeyError
        If a column is not in the frame.
    """
    columns = [responded, *auxiliaries]
    absent = [column for column in columns if column not in frame.columns]
    if absent:
        raise KeyError(f"columns not in the frame: {absent}")
    if not auxiliaries:
        raise ValueError("at least one auxiliary variable is needed")
    if len(set(auxiliaries)) != len(auxiliaries) or responded in auxiliaries:
        raise ValueError("auxiliaries must be distinct and must not include the response column")
    if bootstrap < 0 or min_cell_size < 0:
        raise ValueError("bootstrap and min_cell_size must not be negative")
    if len(frame) < 2:
        raise ValueError("the frame needs at least two people")
    response = frame[responded]
    if response.isna().any():
        raise ValueError(f"column {responded!r} has missing values")
    values = response.to_numpy()
    if not np.isin(values, [0, 1]).all():
        raise ValueError(f"column {responded!r} must be 0/1 or boolean")
    responded_mask = values.astype(bool)

    cells = _cells(frame, responded_mask, auxiliaries)
    n_par = cells.design.shape[1]
    people = cells.people[None, :]
    respondents = cells.respondents[None, :]
    total, responders = int(cells.people.sum()), int(cells.respondents.sum())
    rate = responders / total
    beta = np.zeros(n_par)
    if 0 < rate < 1:
        beta = _fit(cells.design, people, respondents, np.zeros(n_par))[0]
        mu = expit(beta @ cells.design.T)[None, :]
        information = _information(cells.design, cells.people, mu[0])
        bias = _variance_bias(cells, mu[0], information)
    else:
        # everyone or no one responded: the maximum likelihood limit is the response rate in every cell
        mu = np.full_like(people, rate)
        beta[0] = math.inf if rate == 1 else -math.inf
        information = np.eye(n_par)  # unused: every replicate has the same response rate
        bias = 0.0
    estimate = _statistics(cells, people, mu)

    n_categories = estimate.unconditional.shape[1]
    n_variables = len(auxiliaries)
    r_se = cv_se = math.nan
    u_se, c_se = np.full(n_categories, np.nan), np.full(n_categories, np.nan)
    uv_se, cv_var_se = np.full(n_variables, np.nan), np.full(n_variables, np.nan)
    if bootstrap > 0:
        rng = np.random.default_rng(random_state)
        counts = np.concatenate([cells.respondents, cells.people - cells.respondents])
        draws = rng.multinomial(total, counts / total, size=bootstrap).astype(np.float64)
        n_cells = cells.people.size
        boot_respondents = draws[:, :n_cells]
        boot_people = boot_respondents + draws[:, n_cells:]
        start = beta if 0 < rate < 1 else np.zeros(n_par)
        boot = _statistics(cells, boot_people, _propensities(cells, boot_people, boot_respondents, start, information))
        r_se = float(np.std(boot.r, ddof=1)) if bootstrap > 1 else math.nan
        # a replicate without respondents has no CV; the others give its spread
        finite_cv = boot.cv[np.isfinite(boot.cv)]
        cv_se = float(np.std(finite_cv, ddof=1)) if finite_cv.size > 1 else math.nan
        if bootstrap > 1:
            u_se = np.std(boot.unconditional, axis=0, ddof=1)
            c_se = np.std(boot.conditional, axis=0, ddof=1)
            uv_se = np.std(boot.unconditional_variable, axis=0, ddof=1)
            cv_var_se = np.std(boot.conditional_variable, axis=0, ddof=1)

    r_lower, r_upper = _interval(estimate.r, np.asarray([r_se]), -math.inf, 1.0)
    cv_lower, cv_upper = _interval(estimate.cv, np.asarray([cv_se]), 0.0, math.inf)
    u_lower, u_upper = _interval(estimate.unconditional[0], u_se, -math.inf, math.inf)
    c_lower, c_upper = _interval(estimate.conditional[0], c_se, 0.0, math.inf)
    uv_lower, uv_upper = _interval(estimate.unconditional_variable[0], uv_se, 0.0, math.inf)
    cvv_lower, cvv_upper = _interval(estimate.conditional_variable[0], cv_var_se, 0.0, math.inf)

    category_people = np.concatenate(
        [
            np.bincount(cells.codes[:, j], weights=cells.people, minlength=len(order))
            for j, order in enumerate(cells.categories)
        ]
    )
    category_respondents = np.concatenate(
        [
            np.bincount(cells.codes[:, j], weights=cells.respondents, minlength=len(order))
            for j, order in enumerate(cells.categories)
        ]
    )
    partials = pd.DataFrame(
        {
            "variable": [name for name, order in zip(auxiliaries, cells.categories, strict=True) for _ in order],
            "category": [label for order in cells.categories for label in order],
            "n": category_people.astype(np.int64),
            "respondents": category_respondents.astype(np.int64),
            "response_rate": category_respondents / category_people,
            "unconditional": estimate.unconditional[0],
            "unconditional_se": u_se,
            "unconditional_lower": u_lower,
            "unconditional_upper": u_upper,
            "conditional": estimate.conditional[0],
            "conditional_se": c_se,
            "conditional_lower": c_lower,
            "conditional_upper": c_upper,
        }
    )
    partials["lagging"] = (partials["unconditional_upper"] < 0).to_numpy()
    partials["suppressed"] = (partials["n"] < min_cell_size).to_numpy()
    partials = partials.sort_values("unconditional", kind="stable").reset_index(drop=True)
    variables = pd.DataFrame(
        {
            "variable": list(auxiliaries),
            "categories": [len(order) for order in cells.categories],
            "unconditional": estimate.unconditional_variable[0],
            "unconditional_se": uv_se,
            "unconditional_lower": uv_lower,
            "unconditional_upper": uv_upper,
            "conditional": estimate.conditional_variable[0],
            "conditional_se": cv_var_se,
            "conditional_lower": cvv_lower,
            "conditional_upper": cvv_upper,
        }
    )
    names = ["Intercept"] + [
        f"{name}[{label}]" for name, order in zip(auxiliaries, cells.categories, strict=True) for label in order[1:]
    ]
    s = float(estimate.s[0])
    s_adjusted = math.sqrt(max(s**2 - bias, 0.0))
    if bootstrap > 0:
        method = (
            f"Logistic regression of response on the main effects of {', '.join(auxiliaries)} (dummy coding, "
            f"missing values as 'unknown'); standard errors from {bootstrap} bootstrap replicates of the "
            f"{total} people (resampled with replacement, model refitted); 95% normal intervals "
            "(estimate ± 1.96 SE)."
        )
    else:
        method = (
            f"Logistic regression of response on the main effects of {', '.join(auxiliaries)} (dummy coding, "
            "missing values as 'unknown'); no bootstrap, so no standard errors or intervals."
        )
    return RIndicator(
        r=float(estimate.r[0]),
        r_se=r_se,
        r_ci=(float(r_lower[0]), float(r_upper[0])),
        r_adjusted=1.0 - 2.0 * s_adjusted,
        s=s,
        s_bias=bias,
        cv=float(estimate.cv[0]),
        cv_se=cv_se,
        cv_ci=(float(cv_lower[0]), float(cv_upper[0])),
        response_rate=rate,
        n=total,
        respondents=responders,
        variables=variables,
        partials=partials,
        coefficients=pd.Series(beta, index=names, name="coefficient"),
        propensities=pd.Series(mu[0][cells.person_cell], index=frame.index, name="propensity"),
        auxiliaries=tuple(auxiliaries),
        bootstrap=bootstrap,
        min_cell_size=min_cell_size,
        method=method,
    )


# ---------------------------------------------------------------------------------------------------------
# Adaptive reminders


@dataclass(frozen=True)
class TargetingDecision:
    """Which eligible people get a reminder: result of :func:`plan_targeted_reminders`.

    Attributes
    ----------
    categories : list of (str, str)
        The targeted ``(variable, category)`` pairs, in the order chosen (most lagging first).
    people : list
        Index labels of the chosen rows of ``eligible``, each once, in the order chosen.
    messages : int
        ``len(people)``: never more than ``budget``.
    budget : int
        The message budget.
    basis : dict
        JSON-able record of the figures the decision rests on: the rule, the R-indicator, and every chosen
        and every passed-over lagging category with its partial indicator, interval, eligible people and
        (when passed over) the reason.
    """

    categories: list[tuple[str, str]]
    people: list[Hashable]
    messages: int
    budget: int
    basis: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as plain JSON types, for the log.

        Returns
        -------
        dict
            ``categories`` (``[variable, category]`` pairs), ``people`` (index labels as JSON values),
            ``messages``, ``budget`` and ``basis``.
        """
        return {
            "categories": [[variable, category] for variable, category in self.categories],
            "people": [_json_label(label) for label in self.people],
            "messages": self.messages,
            "budget": self.budget,
            "basis": self.basis,
        }


_RULE = (
    "Whole categories whose unconditional partial R-indicator is significantly negative (95% interval below 0), "
    "most negative first, one message per eligible person not already chosen; a category that does not fit "
    "whole in the remaining budget is not split but passed over, and the next lagging category is tried; "
    "suppressed categories (n < min_cell_size) are never targeted."
)


def plan_targeted_reminders(result: RIndicator, eligible: pd.DataFrame, budget: int) -> TargetingDecision:
    """Choose who gets a reminder: the eligible people in the most lagging categories, within a budget.

    The rule: take the categories whose unconditional partial R-indicator is significantly negative (its
    95 % interval lies below 0) and that are not suppressed, most negative first. A category is targeted
    whole: every eligible person in it who is not already chosen gets one message. A category that does
    not fit whole in the remaining budget is **not split**: it is passed over (the basis says so) and the
    next lagging category is tried, so a smaller, less lagging category can still use the rest of the
    budget. People in several lagging categories are counted and messaged once. Nothing is chosen when no
    category lags significantly (or ``result`` has no bootstrap).

    Parameters
    ----------
    result : RIndicator
        The representativeness of the response so far (:func:`r_indicator`).
    eligible : pandas.DataFrame
        One row per person who may get a reminder, with the auxiliary columns of the frame ``result`` was
        computed on. **The caller passes only eligible people**: not completed, not withdrawn or
        unsubscribed, and not in a paused wave; this function does not check that. The index labels
        identify the people and must be unique.
    budget : int
        Most messages to send (non-negative).

    Returns
    -------
    TargetingDecision
        The categories, the people (index labels of ``eligible``), the number of messages and the basis.

    Raises
    ------
    ValueError
        If ``budget`` is negative or the index of ``eligible`` has duplicate labels.
    KeyError
        If ``eligible`` lacks the column of a lagging category's variable.
    """
    if budget < 0:
        raise ValueError("budget must not be negative")
    if not eligible.index.is_unique:
        raise ValueError("the index of eligible must identify people: it has duplicate labels")
    partials = result.partials
    lagging = partials[partials["lagging"].to_numpy(dtype=bool)].sort_values("unconditional", kind="stable")
    needed = [variable for variable in dict.fromkeys(lagging["variable"]) if variable not in eligible.columns]
    if needed:
        raise KeyError(f"eligible lacks the auxiliary columns {needed}")
    labels = {variable: _as_labels(eligible[variable]).to_numpy() for variable in dict.fromkeys(lagging["variable"])}
    chosen = np.zeros(len(eligible), dtype=bool)
    order: list[IntArray] = []
    categories: list[tuple[str, str]] = []
    chosen_basis: list[dict[str, Any]] = []
    passed_basis: list[dict[str, Any]] = []
    remaining = budget
    for row in lagging.itertuples(index=False):
        variable, category = str(row.variable), str(row.category)
        if bool(row.suppressed):
            passed_basis.append(
                {"variable": variable, "category": category, "reason": "suppressed (fewer people than min_cell_size)"}
            )
            continue
        members = labels[variable] == category
        new = members & ~chosen
        entry: dict[str, Any] = {
            "variable": variable,
            "category": category,
            "unconditional": _num(row.unconditional),
            "unconditional_ci": _pair(row.unconditional_lower, row.unconditional_upper),
            "response_rate": _num(row.response_rate),
            "eligible": int(members.sum()),
            "new_people": int(new.sum()),
        }
        if not members.any():
            passed_basis.append({**entry, "reason": "no eligible people in the category"})
        elif int(new.sum()) > remaining:
            passed_basis.append(
                {
                    **entry,
                    "reason": f"does not fit whole: {int(new.sum())} messages needed, {remaining} left "
                    "(categories are not split)",
                }
            )
        else:
            positions = np.flatnonzero(new)
            order.append(positions)
            chosen |= new
            remaining -= positions.size
            categories.append((variable, category))
            chosen_basis.append(entry)
    positions = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    people: list[Hashable] = eligible.index[positions].tolist()
    basis = {
        "rule": _RULE,
        "budget": budget,
        "messages": len(people),
        "eligible": len(eligible),
        "r": _num(result.r),
        "r_ci": _pair(*result.r_ci),
        "response_rate": _num(result.response_rate),
        "chosen": chosen_basis,
        "passed_over": passed_basis,
    }
    return TargetingDecision(categories=categories, people=people, messages=len(people), budget=budget, basis=basis)

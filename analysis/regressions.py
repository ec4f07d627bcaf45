"""Regressions on the study's outcomes: identification by profile (OLS) and intention to leave (logit).

:func:`identification_by_profile` fits an OLS model of identification with the profession on the latent
profile and covariates (age, contract hours, job group) and reports estimated marginal means (adjusted
means) per profile with pairwise differences, Holm-corrected. :func:`intention_to_leave` fits a logistic
regression of the intention to leave the technical sector and reports odds ratios.

Both work on pandas DataFrames; no Flask, no database. Rows with a missing value in any column the model
uses are dropped up front and counted in ``n_dropped``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import patsy
import statsmodels.formula.api as smf
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from scipy import stats
from statsmodels.stats.multitest import multipletests

__all__ = ["IdentificationResult", "LogitResult", "identification_by_profile", "intention_to_leave"]


def _name(column: str) -> str:
    """Return ``column`` as a formula name, quoted with ``Q()`` when it is not an identifier."""
    return column if column.isidentifier() else f"Q({column!r})"


def _is_categorical(series: pd.Series) -> bool:
    """Return whether ``series`` enters a model as a factor (anything but a non-boolean numeric column)."""
    return not is_numeric_dtype(series) or is_bool_dtype(series)


def _as_factor(series: pd.Series, reference: Any = None) -> pd.Series:
    """Return ``series`` as an unordered categorical with unused levels removed and ``reference`` first.

    The level order of an existing categorical is kept, otherwise levels are sorted; the first level is
    the reference (baseline) of the treatment coding.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [level for level in series.cat.categories if (series == level).any()]
    else:
        levels = sorted(series.unique().tolist())
    if reference is not None:
        if reference not in levels:
            raise ValueError(f"reference level {reference!r} does not occur in column {series.name!r}")
        levels = [reference, *[level for level in levels if level != reference]]
    return pd.Series(pd.Categorical(series.to_numpy(), categories=levels), index=series.index, name=series.name)


def _complete_rows(data: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Return the rows of ``data[columns]`` without missing values and the number of rows dropped."""
    missing = [column for column in columns if column not in data.columns]
    if missing:
        raise KeyError(f"columns not in data: {missing}")
    frame = data.loc[:, list(dict.fromkeys(columns))]
    complete = frame.dropna()
    return complete.copy(), len(frame) - len(complete)


def _design_spec(model: Any) -> Any:
    """Return the right-hand-side design specification of a formula-fitted statsmodels model.

    statsmodels 0.14 stores patsy's ``DesignInfo`` as ``data.design_info``; 0.15 stores it (or formulaic's
    ``ModelSpec``, depending on the formula engine) as ``data.model_spec``.
    """
    data = model.model.data
    spec = getattr(data, "model_spec", None)
    return spec if spec is not None else data.design_info


def _design_matrix(spec: Any, frame: pd.DataFrame) -> np.ndarray:
    """Return the design matrix that ``spec`` (patsy ``DesignInfo`` or formulaic ``ModelSpec``) gives ``frame``."""
    if isinstance(spec, patsy.DesignInfo):
        (exog,) = patsy.build_design_matrices([spec], frame, return_type="matrix")
        return np.asarray(exog, dtype=float)
    return np.asarray(spec.get_model_matrix(frame), dtype=float)  # pragma: no cover - formulaic engine


@dataclass(frozen=True)
class IdentificationResult:
    """Result of :func:`identification_by_profile`.

    Attributes
    ----------
    model : statsmodels.regression.linear_model.RegressionResultsWrapper
        The fitted OLS model.
    adjusted_means : pandas.DataFrame
        One row per profile: ``profile``, ``n``, ``raw_mean``, ``mean`` (estimated marginal mean),
        ``se`` (delta method), ``ci_low``, ``ci_high``.
    pairwise : pandas.DataFrame
        One row per pair of profiles: ``profile_a``, ``profile_b``, ``difference`` (a minus b), ``se``,
        ``ci_low``, ``ci_high``, ``p`` and ``p_holm`` (Holm-corrected over all pairs).
    n : int
        Rows used.
    n_dropped : int
        Rows dropped for a missing value in a used column.
    alpha : float
        One minus the confidence level of the intervals.
    """

    model: Any
    adjusted_means: pd.DataFrame
    pairwise: pd.DataFrame
    n: int
    n_dropped: int
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """Return the adjusted means, one row per profile.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`adjusted_means`.
        """
        return self.adjusted_means.copy()

    def summary(self) -> str:
        """Return a plain-text report: model fit, adjusted means and pairwise differences.

        Returns
        -------
        str
            The report.
        """
        level = round(100 * (1 - self.alpha))
        lines = [
            f"OLS: {self.model.model.formula}",
            f"n = {self.n} (dropped {self.n_dropped} with missing values), R² = {self.model.rsquared:.3f}",
            "",
            f"Adjusted (estimated marginal) means with {level}% CI:",
            self.adjusted_means.to_string(index=False, float_format=lambda x: f"{x:.3f}"),
            "",
            "Pairwise differences (Holm-corrected p):",
            self.pairwise.to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class LogitResult:
    """Result of :func:`intention_to_leave`.

    Attributes
    ----------
    model : statsmodels.discrete.discrete_model.BinaryResultsWrapper
        The fitted logit model.
    odds_ratios : pandas.DataFrame
        One row per non-intercept coefficient: ``term`` (readable), ``variable``, ``level``, ``reference``,
        ``odds_ratio``, ``ci_low``, ``ci_high`` (Wald) and ``p``.
    n : int
        Rows used.
    n_dropped : int
        Rows dropped for a missing value in a used column.
    alpha : float
        One minus the confidence level of the intervals.
    """

    model: Any
    odds_ratios: pd.DataFrame
    n: int
    n_dropped: int
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """Return the odds ratios, one row per term.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`odds_ratios`.
        """
        return self.odds_ratios.copy()

    def summary(self) -> str:
        """Return a plain-text report: model fit and odds ratios.

        Returns
        -------
        str
            The report.
        """
        level = round(100 * (1 - self.alpha))
        lines = [
            f"Logit: {self.model.model.formula}",
            f"n = {self.n} (dropped {self.n_dropped} with missing values), "
            f"pseudo R² = {self.model.prsquared:.3f}, converged = {self.model.mle_retvals['converged']}",
            "",
            f"Odds ratios with {level}% CI:",
            self.odds_ratios.to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        ]
        return "\n".join(lines)


def identification_by_profile(
    data: pd.DataFrame,
    *,
    outcome: str = "identification",
    profile: str = "profile",
    covariates: Sequence[str] = ("age", "contract_hours", "job_group"),
    alpha: float = 0.05,
) -> IdentificationResult:
    """Fit OLS of identification on profile and covariates and compute adjusted means per profile.

    The profile and every non-numeric (or boolean) covariate enter as factors with treatment coding;
    numeric covariates enter linearly. The adjusted mean of a profile is the estimated marginal mean over
    the sample's covariate distribution: the prediction for every row with the profile set to that level,
    averaged over rows. Its standard error comes from the delta method with the model's covariance matrix
    (the mean design row ``x̄`` gives ``se = sqrt(x̄ V x̄')``), conditional on the observed covariates, as
    in emmeans or Stata's ``margins``. Pairwise differences use the difference of the mean design rows;
    their p-values are two-sided t tests on the residual degrees of freedom, Holm-corrected over all pairs.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome : str
        Numeric outcome column.
    profile : str
        Profile column; a categorical keeps its level order, otherwise levels are sorted.
    covariates : sequence of str
        Adjustment covariates.
    alpha : float
        One minus the confidence level of the intervals.

    Returns
    -------
    IdentificationResult
        Model, adjusted means, pairwise differences and counts.

    Raises
    ------
    KeyError
        If a column is missing from ``data``.
    ValueError
        If fewer than two profiles remain after dropping incomplete rows.
    """
    covariates = list(covariates)
    frame, n_dropped = _complete_rows(data, [outcome, profile, *covariates])
    frame[profile] = _as_factor(frame[profile])
    levels = list(frame[profile].cat.categories)
    if len(levels) < 2:
        raise ValueError(f"need at least two profiles, found {levels}")
    terms = [f"C({_name(profile)})"]
    for covariate in covariates:
        if _is_categorical(frame[covariate]):
            frame[covariate] = _as_factor(frame[covariate])
            terms.append(f"C({_name(covariate)})")
        else:
            terms.append(_name(covariate))
    formula = f"{_name(outcome)} ~ {' + '.join(terms)}"
    model = smf.ols(formula, data=frame).fit()

    design_info = _design_spec(model)
    params = model.params.to_numpy()
    cov = model.cov_params().to_numpy()
    df_resid = model.df_resid
    t_crit = stats.t.ppf(1 - alpha / 2, df_resid)

    mean_rows: dict[Any, np.ndarray] = {}
    for level in levels:
        counterfactual = frame.copy()
        counterfactual[profile] = pd.Categorical([level] * len(frame), categories=levels)
        mean_rows[level] = _design_matrix(design_info, counterfactual).mean(axis=0)

    rows = []
    for level in levels:
        x_bar = mean_rows[level]
        estimate = float(x_bar @ params)
        se = float(np.sqrt(x_bar @ cov @ x_bar))
        in_level = frame[profile] == level
        rows.append(
            {
                "profile": level,
                "n": int(in_level.sum()),
                "raw_mean": float(frame.loc[in_level, outcome].mean()),
                "mean": estimate,
                "se": se,
                "ci_low": estimate - t_crit * se,
                "ci_high": estimate + t_crit * se,
            }
        )
    adjusted_means = pd.DataFrame(rows)

    pairs = []
    for a, b in combinations(levels, 2):
        contrast = mean_rows[a] - mean_rows[b]
        difference = float(contrast @ params)
        se = float(np.sqrt(contrast @ cov @ contrast))
        p = float(2 * stats.t.sf(abs(difference / se), df_resid)) if se > 0 else float("nan")
        pairs.append(
            {
                "profile_a": a,
                "profile_b": b,
                "difference": difference,
                "se": se,
                "ci_low": difference - t_crit * se,
                "ci_high": difference + t_crit * se,
                "p": p,
            }
        )
    pairwise = pd.DataFrame(pairs)
    pairwise["p_holm"] = multipletests(pairwise["p"].to_numpy(), method="holm")[1]

    return IdentificationResult(
        model=model,
        adjusted_means=adjusted_means,
        pairwise=pairwise,
        n=len(frame),
        n_dropped=n_dropped,
        alpha=alpha,
    )


def intention_to_leave(
    data: pd.DataFrame,
    *,
    outcome: str = "intends_to_leave",
    predictors: Sequence[str] = ("profile", "study_cluster", "job_type"),
    numeric: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    alpha: float = 0.05,
) -> LogitResult:
    """Fit a logistic regression of the intention to leave and report odds ratios.

    Every predictor enters as a factor with treatment coding, except those named in ``numeric``, which
    enter linearly (odds ratio per unit). The baseline of a factor is ``reference[predictor]`` if given,
    else the first category of a categorical column, else the smallest level.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome : str
        Binary outcome column: 0/1 or boolean.
    predictors : sequence of str
        Predictor columns.
    numeric : sequence of str
        Predictors to enter linearly instead of as factors.
    reference : mapping, optional
        Baseline level per factor predictor.
    alpha : float
        One minus the confidence level of the Wald intervals.

    Returns
    -------
    LogitResult
        Model, odds ratios and counts.

    Raises
    ------
    KeyError
        If a column is missing from ``data``.
    ValueError
        If the outcome is not binary, or a reference level does not occur.
    """
    predictors = list(predictors)
    reference = dict(reference or {})
    frame, n_dropped = _complete_rows(data, [outcome, *predictors])
    values = set(pd.unique(frame[outcome]).tolist())
    if not values <= {0, 1}:
        raise ValueError(f"outcome {outcome!r} must be 0/1 or boolean, found {sorted(values, key=str)}")
    frame[outcome] = frame[outcome].astype(int)

    terms = []
    rows: list[tuple[str, str, Any, Any]] = []  # (model parameter name, variable, level, reference)
    for predictor in predictors:
        if predictor in numeric:
            terms.append(_name(predictor))
            rows.append((_name(predictor), predictor, "per unit", ""))
            continue
        frame[predictor] = _as_factor(frame[predictor], reference.get(predictor))
        levels = list(frame[predictor].cat.categories)
        term = f"C({_name(predictor)})"
        terms.append(term)
        rows.extend((f"{term}[T.{level}]", predictor, level, levels[0]) for level in levels[1:])
    formula = f"{_name(outcome)} ~ {' + '.join(terms)}"
    model = smf.logit(formula, data=frame).fit(disp=False)

    # Parameters are looked up by name: patsy puts numeric terms after the factors, whatever the formula order.
    names = [name for name, *_ in rows]
    unknown = [name for name in names if name not in model.params.index]
    if unknown:  # pragma: no cover - guards the naming against formula-engine changes
        raise RuntimeError(f"model terms {unknown} not among {list(model.params.index)}")
    conf = model.conf_int(alpha=alpha)
    odds_ratios = pd.DataFrame(
        {
            "term": [
                f"{variable}: {level} vs {base}" if base != "" else f"{variable}: {level}"
                for _, variable, level, base in rows
            ],
            "variable": [variable for _, variable, _, _ in rows],
            "level": [level for _, _, level, _ in rows],
            "reference": [base for _, _, _, base in rows],
            "odds_ratio": np.exp(model.params[names].to_numpy()),
            "ci_low": np.exp(conf.loc[names, 0].to_numpy()),
            "ci_high": np.exp(conf.loc[names, 1].to_numpy()),
            "p": model.pvalues[names].to_numpy(),
        }
    )
    return LogitResult(model=model, odds_ratios=odds_ratios, n=len(frame), n_dropped=n_dropped, alpha=alpha)

"""Attrition in a panel: who keeps answering, and weights that let the stayers stand for the whole cohort.

People who drift away from a panel are seldom a random share (those who intend to leave the technical
sector stop answering a study about it), and an analysis of the later waves then describes the stayers.
This module models retention wave by wave and turns the model into inverse-probability-of-retention
weights, so that weighted results at a later wave estimate what the whole first-wave cohort would have
shown had nobody dropped out, provided dropout depends only on what the models include (missing at
random given the earlier answers and frame variables).

* :func:`retention_model`: logistic regression (statsmodels) of answering wave ``t + 1`` among those who
  answered wave ``t`` on their answers at ``t`` and frame variables; a :class:`RetentionModel` with a tidy
  table of odds ratios (:meth:`RetentionModel.to_frame`) and a text report.
* :func:`attrition_weights`: stabilised weights ``P(retained) / P(retained | x)`` per wave pair,
  multiplied over the waves (monotone dropout), trimmed at percentiles and normalised to mean 1 among the
  retained of each wave; an :class:`AttritionWeights` with the weights, the models and a trimming report.
* :func:`weighted_shares`, :func:`compare_shares`: shares of a category (e.g. the profile) with and
  without the weights, side by side, with linearisation (sandwich) standard errors and Wald intervals.
* :func:`weighted_transitions`: the transition table between two waves from profile assignments, with
  weighted counts.

Conventions
-----------
Input is a long ``panel`` frame: one row per participant and wave answered (``id_col``, ``wave_col`` and
the predictor columns; frame variables such as gender or institution repeated on every row). The first
wave defines the cohort: weights correct for attrition after it, not for nonresponse to it. A participant
is *retained* at wave ``t`` when they answered every wave up to ``t``; someone who skips a wave and comes
back is not weighted at the waves after the gap (``AttritionWeights.trimming["n_intermittent"]`` counts
them). The retention model of wave ``t`` is fitted on everyone who answered wave ``t``.

Design matrices: a predictor is categorical when it is not numeric (or boolean, or named in
``categorical``); a missing value is its own category ``"(missing)"``, and the reference level is the most
frequent level. A numeric predictor with missing values gets its observed mean in their place plus an
indicator term ``"<name>[missing]"`` (the missing-indicator method, so that nobody is dropped).

Separation: a level of a categorical predictor in which everybody stayed (or everybody left) has an
infinite maximum-likelihood coefficient. Such levels are taken out of the fit: their rows get their
observed retention rate (1 or 0) as fitted probability and the other coefficients are fitted on the
remaining rows, which is exactly the limit of the maximum-likelihood fit. The table shows their odds ratio
as ``inf`` (or 0) without interval, and :attr:`RetentionModel.separated` lists them. Separation that no
single level explains (e.g. by a numeric predictor) raises a ``ValueError``: coarsen the predictors.

References
----------
Robins, J. M., Hernán, M. A., & Brumback, B. (2000). Marginal structural models and causal inference in
epidemiology. Epidemiology, 11(5), 550-560 (stabilised weights).

Seaman, S. R., & White, I. R. (2013). Review of inverse probability weighting for dealing with missing
data. Statistical Methods in Medical Research, 22(3), 278-295 (monotone missingness, trimming).

Cole, S. R., & Hernán, M. A. (2008). Constructing inverse probability weights for marginal structural
models. American Journal of Epidemiology, 168(6), 656-664 (trimming at percentiles).
"""

# X for a design matrix, as in statsmodels.
# ruff: noqa: N806

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from scipy import stats

__all__ = [
    "MISSING",
    "AttritionWeights",
    "RetentionModel",
    "attrition_weights",
    "compare_shares",
    "retention_model",
    "weighted_shares",
    "weighted_transitions",
]

MISSING = "(missing)"


# ------------------------------------------------------------------------------------------ design


@dataclass
class _Term:
    """One column of the design: a level of a categorical predictor, a numeric predictor or its indicator."""

    name: str
    predictor: str
    kind: str  # "level", "numeric", "missing"
    level: Any = None


def _is_categorical(series: pd.Series, name: str, categorical: Sequence[str]) -> bool:
    return name in categorical or not is_numeric_dtype(series) or is_bool_dtype(series)


def _labels(series: pd.Series) -> pd.Series:
    """The series as object labels with missing values replaced by :data:`MISSING`."""
    out = series.astype(object).where(series.notna(), MISSING)
    return out


def _level_order(labels: pd.Series) -> list[Any]:
    """Levels, the most frequent first (the reference), ties and the rest in sorted (as text) order."""
    counts = labels.value_counts(sort=False)
    return sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))


def _design(
    frame: pd.DataFrame, predictors: Sequence[str], categorical: Sequence[str]
) -> tuple[pd.DataFrame, list[_Term], dict[str, Any]]:
    """Full design (without intercept) of ``frame``: every non-reference level and numeric term."""
    columns: dict[str, np.ndarray] = {}
    terms: list[_Term] = []
    references: dict[str, Any] = {}
    for name in predictors:
        series = frame[name]
        if _is_categorical(series, name, categorical):
            labels = _labels(series)
            levels = _level_order(labels)
            references[name] = levels[0]
            for level in levels[1:]:
                term = _Term(f"{name}[{level}]", name, "level", level)
                terms.append(term)
                columns[term.name] = (labels == level).to_numpy(dtype=float)
        else:
            values = series.to_numpy(dtype=float)
            missing = np.isnan(values)
            if missing.all():
                raise ValueError(f"predictor {name!r} has no observed value at this wave")
            references[name] = None
            terms.append(_Term(name, name, "numeric"))
            columns[name] = np.where(missing, np.nanmean(values), values)
            if missing.any():
                term = _Term(f"{name}[{MISSING.strip('()')}]", name, "missing")
                terms.append(term)
                columns[term.name] = missing.astype(float)
    return pd.DataFrame(columns, index=frame.index), terms, references


def _level_name(term: _Term) -> str | None:
    """A term's level as text: the category of a level, :data:`MISSING` for a missing-value indicator, and
    ``None`` for a numeric predictor's slope."""
    if term.kind == "level":
        return str(term.level)
    return MISSING if term.kind == "missing" else None


def _separated_rows(
    frame: pd.DataFrame, predictors: Sequence[str], categorical: Sequence[str], y: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, Any, int, float]]]:
    """Rows in a level (any categorical level, reference included) whose outcome is constant, found
    repeatedly: dropping one level's rows can leave another level with a constant outcome."""
    keep = np.ones(len(y), dtype=bool)
    found: list[tuple[str, Any, int, float]] = []
    changed = True
    while changed and keep.any():
        changed = False
        y_keep = y[keep]
        if y_keep.min() == y_keep.max():
            break  # the outcome is constant altogether: no model (handled by the caller)
        for name in predictors:
            series = frame[name]
            if not _is_categorical(series, name, categorical):
                continue
            labels = _labels(series).to_numpy()
            for level in pd.unique(labels[keep]):
                rows = keep & (labels == level)
                rate = float(y[rows].mean())
                if rate in (0.0, 1.0):
                    found.append((name, level, int(rows.sum()), rate))
                    keep &= ~rows
                    changed = True
            if changed:
                break
    return keep, found


# ------------------------------------------------------------------------------------ retention model


@dataclass
class RetentionModel:
    """Logistic regression of answering the next wave among those who answered this one.

    Attributes
    ----------
    wave, next_wave : hashable
        The wave the participants answered and the wave whose answering is modelled.
    predictors : list of str
        Predictor columns.
    references : dict
        Reference level per categorical predictor (``None`` for numeric predictors).
    result : statsmodels results or None
        The fitted ``statsmodels`` Logit (rows of separated levels excluded); ``None`` when the outcome is
        constant (nobody, or everybody, dropped out) after those rows are taken out.
    table : DataFrame
        ``term``, ``predictor`` and ``level`` (what the term is: ``None`` for the intercept, and as level
        for a numeric slope; :data:`MISSING` for a missing-value indicator), ``odds_ratio``, ``ci_low``,
        ``ci_high`` (Wald), ``p_value``, ``n`` (participants in the
        level, or with an observed value for a numeric term; all for the intercept) and ``n_retained``.
    separated : DataFrame
        ``predictor``, ``level``, ``n``, ``rate`` (retention, 0 or 1) of the levels taken out of the fit.
    fitted : Series
        ``P(retained | x)`` per participant who answered ``wave`` (indexed by id).
    n, n_retained : int
        Participants who answered ``wave``, and of them who answered ``next_wave``.
    alpha : float
        One minus the confidence level of the intervals.
    """

    wave: Hashable
    next_wave: Hashable
    predictors: list[str]
    references: dict[str, Any]
    result: Any
    table: pd.DataFrame
    separated: pd.DataFrame
    fitted: pd.Series
    n: int
    n_retained: int
    alpha: float

    @property
    def params(self) -> pd.Series:
        """Logit coefficients by term (``"Intercept"`` first); empty when there is no model."""
        if self.result is None:
            return pd.Series(dtype=float)
        return pd.Series(self.result.params, dtype=float)

    def to_frame(self) -> pd.DataFrame:
        """Return the tidy table: one row per term with odds ratio, interval, p-value and counts.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`table`.
        """
        return self.table.copy()

    def summary(self) -> str:
        """Return a plain-text report for a wave report.

        Returns
        -------
        str
            Counts, the model and the odds ratios of retention (above 1: more likely to keep answering).
        """
        level = round(100 * (1 - self.alpha))
        lines = [
            f"Retention from wave {self.wave} to wave {self.next_wave}: {self.n_retained} of {self.n} "
            f"answered again ({self.n_retained / self.n:.1%})."
            if self.n
            else f"Nobody answered wave {self.wave}.",
        ]
        if self.result is None:
            lines.append("No model: the outcome does not vary (apart from separated levels).")
        else:
            lines.append(
                f"Logit of answering wave {self.next_wave} on {', '.join(self.predictors) or 'nothing'}; "
                f"n = {int(self.result.nobs)}, pseudo R² = {self.result.prsquared:.3f}."
            )
        for row in self.separated.itertuples(index=False):
            lines.append(
                f"Separated: {row.predictor} = {row.level} ({row.n} participants, retention {row.rate:.0%}); "
                "taken out of the fit, fitted probability = its observed rate."
            )
        lines += ["", f"Odds ratios of retention with {level}% CI:"]
        lines.append(self.table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        return "\n".join(lines)


def _one_wave(panel: pd.DataFrame, id_col: str, wave_col: str, wave: Hashable) -> pd.DataFrame:
    rows = panel[panel[wave_col] == wave]
    return rows.set_index(id_col)


def _fit_retention(
    frame: pd.DataFrame,
    y: np.ndarray,
    predictors: Sequence[str],
    categorical: Sequence[str],
    alpha: float,
    wave: Hashable,
    next_wave: Hashable,
) -> RetentionModel:
    n = len(y)
    fitted = np.full(n, float(y.mean()) if n else np.nan)
    empty_sep = pd.DataFrame({"predictor": [], "level": [], "n": [], "rate": []})
    table_columns = ["term", "predictor", "level", "odds_ratio", "ci_low", "ci_high", "p_value", "n", "n_retained"]
    if n == 0 or y.min() == y.max():
        table = pd.DataFrame(columns=table_columns)
        return RetentionModel(
            wave=wave,
            next_wave=next_wave,
            predictors=list(predictors),
            references={},
            result=None,
            table=table,
            separated=empty_sep,
            fitted=pd.Series(fitted, index=frame.index, name="p_retained"),
            n=n,
            n_retained=int(y.sum()),
            alpha=alpha,
        )
    _, _, references = _design(frame, predictors, categorical)
    keep, found = _separated_rows(frame, predictors, categorical, y)
    separated = pd.DataFrame(found, columns=["predictor", "level", "n", "rate"]) if found else empty_sep
    labels = {name: _labels(frame[name]).to_numpy() for name in predictors if name in references}
    for name, level, _, rate in found:
        fitted[labels[name] == level] = rate
    result = None
    used_terms: list[_Term] = []
    if keep.any() and y[keep].min() != y[keep].max():
        # re-derive the design on the rows kept: reference = most frequent level among them
        design, used_terms, references = _design(frame[keep], predictors, categorical)
        design = design.loc[:, design.to_numpy().std(axis=0) > 0]
        used_terms = [t for t in used_terms if t.name in design.columns]
        X = sm.add_constant(design, has_constant="add").rename(columns={"const": "Intercept"})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = sm.Logit(y[keep], X).fit(disp=0, method="newton", maxiter=100)
            except Exception as exc:  # statsmodels' PerfectSeparationError and singular designs
                raise ValueError(
                    f"the retention model of wave {wave} cannot be fitted ({exc}); coarsen the predictors"
                ) from exc
        if any("separation" in str(w.message).lower() for w in caught) or not result.mle_retvals["converged"]:
            raise ValueError(
                f"the retention model of wave {wave} shows separation that no single category explains "
                "(or did not converge); coarsen the predictors"
            )
        fitted[keep] = result.predict(X)
    elif keep.any():
        fitted[keep] = float(y[keep].mean())

    z = stats.norm.ppf(1 - alpha / 2)
    rows: list[dict[str, Any]] = []
    if result is not None:
        params, bse, pvalues = result.params, result.bse, result.pvalues
        obs = {"Intercept": (int(keep.sum()), int(y[keep].sum()))}
        for t in used_terms:
            if t.kind == "numeric":
                mask = keep & frame[t.predictor].notna().to_numpy()
            elif t.kind == "missing":
                mask = keep & frame[t.predictor].isna().to_numpy()
            else:
                mask = keep & (labels[t.predictor] == t.level)
            obs[t.name] = (int(mask.sum()), int(y[mask].sum()))
        by_name = {t.name: t for t in used_terms}
        for name in params.index:
            b, se = float(params[name]), float(bse[name])
            term = by_name.get(name)
            rows.append(
                {
                    "term": name,
                    "predictor": term.predictor if term is not None else None,
                    "level": _level_name(term) if term is not None else None,
                    "odds_ratio": np.exp(b),
                    "ci_low": np.exp(b - z * se),
                    "ci_high": np.exp(b + z * se),
                    "p_value": float(pvalues[name]),
                    "n": obs[name][0],
                    "n_retained": obs[name][1],
                }
            )
    for name, level, count, rate in found:
        rows.append(
            {
                "term": f"{name}[{level}]",
                "predictor": name,
                "level": str(level),
                "odds_ratio": np.inf if rate == 1.0 else 0.0,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "p_value": np.nan,
                "n": count,
                "n_retained": round(rate * count),
            }
        )
    table = pd.DataFrame(rows, columns=table_columns)
    return RetentionModel(
        wave=wave,
        next_wave=next_wave,
        predictors=list(predictors),
        references=references,
        result=result,
        table=table,
        separated=separated,
        fitted=pd.Series(fitted, index=frame.index, name="p_retained"),
        n=n,
        n_retained=int(y.sum()),
        alpha=alpha,
    )


def _waves(panel: pd.DataFrame, wave_col: str, waves: Sequence[Hashable] | None) -> list[Hashable]:
    if waves is not None:
        return list(waves)
    values: list[Any] = panel[wave_col].unique().tolist()
    return sorted(values)


def _check_panel(panel: pd.DataFrame, id_col: str, wave_col: str, columns: Sequence[str]) -> None:
    missing = [c for c in (id_col, wave_col, *columns) if c not in panel.columns]
    if missing:
        raise KeyError(f"columns not in panel: {missing}")
    if panel.duplicated([id_col, wave_col]).any():
        raise ValueError(f"panel has more than one row for some ({id_col}, {wave_col}) pair")


def retention_model(
    panel: pd.DataFrame,
    wave: Hashable,
    predictors: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    id_col: str = "pseudonym",
    wave_col: str = "wave",
    waves: Sequence[Hashable] | None = None,
    alpha: float = 0.05,
) -> RetentionModel:
    """Fit the retention model of one wave: who answered the next wave among those who answered this one.

    Parameters
    ----------
    panel : DataFrame
        Long frame, one row per participant and wave answered: ``id_col``, ``wave_col`` and the predictors
        (answers of that wave; frame variables repeated on every row).
    wave : hashable
        The wave whose respondents are followed to the next wave.
    predictors : sequence of str
        Predictor columns, as answered at ``wave``. Categorical ones (non-numeric, boolean, or named in
        ``categorical``) are dummy coded against their most frequent level, a missing value being its own
        level ``"(missing)"``; numeric ones with missing values get a missing indicator.
    categorical : sequence of str, optional
        Numeric columns to treat as categorical (e.g. answer codes).
    id_col, wave_col : str
        Participant and wave columns.
    waves : sequence, optional
        Waves in order; default the sorted distinct values of ``wave_col``.
    alpha : float, default 0.05
        One minus the confidence level of the odds ratios' intervals.

    Returns
    -------
    RetentionModel
        The fit, its table (:meth:`RetentionModel.to_frame`) and fitted retention probabilities.

    Raises
    ------
    ValueError
        If ``wave`` is the last wave, or the model shows separation that no single level explains.
    """
    _check_panel(panel, id_col, wave_col, predictors)
    order = _waves(panel, wave_col, waves)
    if wave not in order or order.index(wave) == len(order) - 1:
        raise ValueError(f"wave {wave!r} is not followed by another wave in {order}")
    next_wave = order[order.index(wave) + 1]
    frame = _one_wave(panel, id_col, wave_col, wave)
    answered_next = set(panel.loc[panel[wave_col] == next_wave, id_col])
    y = frame.index.isin(list(answered_next)).astype(float)
    return _fit_retention(frame, y, predictors, categorical, alpha, wave, next_wave)


# ------------------------------------------------------------------------------------------ weights


@dataclass
class AttritionWeights:
    """Stabilised, cumulative, trimmed and normalised inverse-probability-of-retention weights.

    Attributes
    ----------
    weights : DataFrame
        One row per participant and wave at which they are retained (answered every wave so far):
        ``id``, ``wave``, ``weight`` (final: trimmed and normalised to mean 1 within the wave), ``stabilised``
        (cumulative stabilised weight before trimming and normalisation). The id column keeps its name.
    models : dict
        :class:`RetentionModel` per wave (the denominator models, keyed by the wave followed).
    numerator_models : dict
        The numerator models per wave when ``numerator`` names predictors, else empty.
    trimming : DataFrame
        Per wave: ``n_retained``, ``n_intermittent`` (answered the wave after missing an earlier one: not
        weighted), ``lower``, ``upper`` (trimming bounds, on the scale of ``stabilised``), ``n_trimmed_low``,
        ``n_trimmed_high``, ``max_before``, ``max_after`` (largest normalised weight before and after
        trimming) and ``n_effective`` (Kish: ``(sum w)^2 / sum w^2`` of the final weights).
    numerator : str
        What the numerator is: the marginal retention rate, or a model on named predictors.
    trim : tuple of float or None
        The trimming percentiles (as fractions).
    id_col, wave_col : str
        Participant and wave columns of the panel.
    """

    weights: pd.DataFrame
    models: dict[Hashable, RetentionModel]
    numerator_models: dict[Hashable, RetentionModel]
    trimming: pd.DataFrame
    numerator: str
    trim: tuple[float, float] | None
    id_col: str = "pseudonym"
    wave_col: str = "wave"
    waves: list[Hashable] = field(default_factory=list)

    def for_wave(self, wave: Hashable) -> pd.Series:
        """Return the final weights of one wave, indexed by participant.

        Parameters
        ----------
        wave : hashable
            The wave.

        Returns
        -------
        pandas.Series
            ``weight`` of the participants retained at ``wave``.
        """
        rows = self.weights[self.weights[self.wave_col] == wave]
        return rows.set_index(self.id_col)["weight"]

    def to_frame(self) -> pd.DataFrame:
        """Return the weights, one row per retained participant and wave.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`weights`.
        """
        return self.weights.copy()

    def summary(self) -> str:
        """Return a plain-text report: the numerator, trimming per wave and the retention models.

        Returns
        -------
        str
            The report.
        """
        trim = "none" if self.trim is None else f"at the {self.trim[0]:.0%} and {self.trim[1]:.0%} percentiles"
        lines = [
            "Inverse-probability-of-retention weights (stabilised, cumulative over waves, "
            "normalised to mean 1 among the retained of each wave).",
            f"Numerator: {self.numerator}. Trimming: {trim}.",
            self.trimming.to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        ]
        for model in self.models.values():
            lines += ["", model.summary()]
        return "\n".join(lines)


def attrition_weights(
    panel: pd.DataFrame,
    predictors: Sequence[str],
    *,
    numerator: Sequence[str] = (),
    categorical: Sequence[str] = (),
    trim: tuple[float, float] | None = (0.01, 0.99),
    id_col: str = "pseudonym",
    wave_col: str = "wave",
    waves: Sequence[Hashable] | None = None,
    alpha: float = 0.05,
) -> AttritionWeights:
    """Inverse-probability-of-retention weights for every wave, from a retention model per wave pair.

    For a participant who answered waves ``1..t+1`` the weight of wave pair ``t -> t+1`` is
    ``P(retained) / P(retained | x_t)``: the denominator from :func:`retention_model` on ``predictors``,
    the numerator the marginal retention rate of wave ``t`` (default) or a retention model on the subset
    ``numerator`` (then the weighted analysis must condition on those predictors). The weight at wave
    ``t + 1`` is the product over the pairs up to it (monotone dropout); at the first wave it is 1. Each
    wave's weights are trimmed (clipped) at the ``trim`` percentiles of that wave's weights (numpy's
    default linear interpolation) and then divided by their mean, so that they average 1 over the
    retained.

    Parameters
    ----------
    panel : DataFrame
        Long frame, one row per participant and wave answered, with ``id_col``, ``wave_col`` and the
        predictors (see :func:`retention_model`).
    predictors : sequence of str
        Predictors of the retention models (answers at the earlier wave and frame variables).
    numerator : sequence of str, optional
        Predictors of the numerator model (a subset of ``predictors``); empty: the marginal rate.
    categorical : sequence of str, optional
        Numeric columns to treat as categorical.
    trim : (float, float) or None, default (0.01, 0.99)
        Lower and upper percentile (as fractions) at which to trim; ``None``: no trimming.
    id_col, wave_col : str
        Participant and wave columns.
    waves : sequence, optional
        Waves in order; default the sorted distinct values of ``wave_col``.
    alpha : float, default 0.05
        For the retention models' intervals.

    Returns
    -------
    AttritionWeights
        Weights per retained participant and wave, the models and the trimming report.

    Raises
    ------
    ValueError
        For a numerator predictor not among ``predictors``, bad trimming percentiles, or a retention model
        that cannot be fitted.
    """
    _check_panel(panel, id_col, wave_col, predictors)
    if not set(numerator) <= set(predictors):
        raise ValueError("numerator predictors must be a subset of predictors")
    if trim is not None and not 0 <= trim[0] <= trim[1] <= 1:
        raise ValueError("trim must be two fractions 0 <= lower <= upper <= 1")
    order = _waves(panel, wave_col, waves)
    present = (
        pd.crosstab(panel[id_col], panel[wave_col]).reindex(columns=order, fill_value=0).astype(bool)
        if len(panel)
        else pd.DataFrame(columns=order, dtype=bool)
    )
    continuous = present.astype(int).cumprod(axis=1).astype(bool)  # answered every wave so far
    retained = continuous.loc[present[order[0]]] if order else continuous  # the cohort: answered wave 1

    models: dict[Hashable, RetentionModel] = {}
    numerator_models: dict[Hashable, RetentionModel] = {}
    cumulative = pd.Series(1.0, index=retained.index)
    rows: list[pd.DataFrame] = []
    report: list[dict[str, Any]] = []
    for i, wave in enumerate(order):
        if i > 0:
            previous = order[i - 1]
            frame = _one_wave(panel, id_col, wave_col, previous)
            y = present[wave].reindex(frame.index).to_numpy(dtype=float)
            model = _fit_retention(frame, y, predictors, categorical, alpha, previous, wave)
            models[previous] = model
            if numerator:
                num_model = _fit_retention(frame, y, numerator, categorical, alpha, previous, wave)
                numerator_models[previous] = num_model
                num = num_model.fitted
            else:
                num = pd.Series(model.n_retained / model.n if model.n else 1.0, index=frame.index)
            stay = retained.index[retained[wave]]
            cumulative = cumulative.loc[stay] * (num.loc[stay] / model.fitted.loc[stay])
        stabilised = cumulative.to_numpy(dtype=float)
        lower = upper = np.nan
        n_low = n_high = 0
        clipped = stabilised
        if trim is not None and stabilised.size:
            lower, upper = (float(q) for q in np.quantile(stabilised, trim))
            n_low, n_high = int((stabilised < lower).sum()), int((stabilised > upper).sum())
            clipped = np.clip(stabilised, lower, upper)
        final = clipped / clipped.mean() if clipped.size else clipped
        intermittent = int((present[wave] & ~continuous[wave]).sum())
        report.append(
            {
                "wave": wave,
                "n_retained": int(stabilised.size),
                "n_intermittent": intermittent,
                "lower": lower,
                "upper": upper,
                "n_trimmed_low": n_low,
                "n_trimmed_high": n_high,
                "max_before": float((stabilised / stabilised.mean()).max()) if stabilised.size else np.nan,
                "max_after": float(final.max()) if final.size else np.nan,
                "n_effective": float(final.sum() ** 2 / (final**2).sum()) if final.size else 0.0,
            }
        )
        rows.append(
            pd.DataFrame(
                {id_col: cumulative.index.to_numpy(), wave_col: wave, "weight": final, "stabilised": stabilised}
            )
        )
    weights = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame({id_col: [], wave_col: [], "weight": [], "stabilised": []})
    )
    described = f"retention model on {', '.join(numerator)}" if numerator else "marginal retention rate of each wave"
    return AttritionWeights(
        weights=weights,
        models=models,
        numerator_models=numerator_models,
        trimming=pd.DataFrame(report),
        numerator=described,
        trim=None if trim is None else (float(trim[0]), float(trim[1])),
        id_col=id_col,
        wave_col=wave_col,
        waves=order,
    )


# ------------------------------------------------------------------------------------ shares


def weighted_shares(
    values: pd.Series | np.ndarray | Sequence[Any],
    weights: pd.Series | Sequence[float] | np.ndarray | None = None,
    *,
    categories: Sequence[Any] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Shares of the categories of ``values``, weighted, with linearisation standard errors.

    The share of category ``c`` is ``p = sum w [v = c] / sum w``; its variance is the sandwich
    (linearisation) estimate of a ratio, ``n / (n - 1) * sum w^2 ([v = c] - p)^2 / (sum w)^2``, which is the
    HC1 robust variance of a weighted regression on a constant and, with equal weights, ``p (1 - p) /
    (n - 1)``. It treats the weights as known (ignoring that they were estimated, which tends to make it
    conservative for inverse-probability weights). The interval is Wald, clipped to [0, 1].

    Parameters
    ----------
    values : Series or sequence
        One category per person; missing values are left out.
    weights : Series or array, optional
        One weight per value (aligned by position); default all 1.
    categories : sequence, optional
        Categories to report, in order (absent ones get share 0); default those observed, sorted.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    pandas.DataFrame
        ``category``, ``n`` (unweighted count), ``share``, ``se``, ``ci_low``, ``ci_high`` and ``n_effective``
        (Kish's ``(sum w)^2 / sum w^2``, the same on every row).
    """
    v = pd.Series(np.asarray(values, dtype=object))
    w = np.ones(len(v)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(v):
        raise ValueError("values and weights differ in length")
    ok = v.notna().to_numpy()
    v, w = v[ok].reset_index(drop=True), w[ok]
    cats = sorted(v.unique().tolist(), key=str) if categories is None else list(categories)
    n = len(v)
    total = w.sum()
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for c in cats:
        y = (v == c).to_numpy(dtype=float)
        p = float((w * y).sum() / total) if n else np.nan
        var = n / (n - 1) * float((w**2 * (y - p) ** 2).sum()) / total**2 if n > 1 else np.nan
        se = float(np.sqrt(var))
        rows.append(
            {
                "category": c,
                "n": int(y.sum()),
                "share": p,
                "se": se,
                "ci_low": max(0.0, p - z * se),
                "ci_high": min(1.0, p + z * se),
                "n_effective": float(total**2 / (w**2).sum()) if n else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=["category", "n", "share", "se", "ci_low", "ci_high", "n_effective"])


def compare_shares(
    panel: pd.DataFrame,
    column: str,
    weights: AttritionWeights,
    *,
    categories: Sequence[Any] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Shares of ``column`` per wave among the retained, unweighted and weighted, side by side.

    Parameters
    ----------
    panel : DataFrame
        The long panel (as for :func:`attrition_weights`) with ``column`` (e.g. the profile assigned at
        each wave).
    column : str
        The categorical column whose shares to compare.
    weights : AttritionWeights
        From :func:`attrition_weights` on the same panel.
    categories : sequence, optional
        Categories in order; default all observed in the panel, sorted.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``category``, ``n``, ``share``, ``se``, ``ci_low``, ``ci_high`` (unweighted, among the
        retained of the wave), ``weighted_share``, ``weighted_se``, ``weighted_ci_low``,
        ``weighted_ci_high`` and ``n_effective``; see :func:`weighted_shares` for the intervals.
    """
    id_col, wave_col = weights.id_col, weights.wave_col
    cats = sorted(panel[column].dropna().unique().tolist(), key=str) if categories is None else list(categories)
    out = []
    for wave in weights.waves:
        w = weights.for_wave(wave)
        values = panel[panel[wave_col] == wave].set_index(id_col)[column].reindex(w.index)
        plain = weighted_shares(values, None, categories=cats, alpha=alpha)
        weighted = weighted_shares(values, w.to_numpy(), categories=cats, alpha=alpha)
        both = plain.drop(columns="n_effective").assign(
            weighted_share=weighted["share"],
            weighted_se=weighted["se"],
            weighted_ci_low=weighted["ci_low"],
            weighted_ci_high=weighted["ci_high"],
            n_effective=weighted["n_effective"],
        )
        both.insert(0, "wave", [wave] * len(both))
        out.append(both)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def weighted_transitions(
    panel: pd.DataFrame,
    column: str,
    weights: AttritionWeights,
    from_wave: Hashable,
    to_wave: Hashable,
    *,
    categories: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Transition table of ``column`` (e.g. modal profile) between two waves, with weighted counts.

    Participants retained at ``to_wave`` count with their weight of ``to_wave``; row shares are the
    counts divided by the row total (estimated transition probabilities).

    Parameters
    ----------
    panel : DataFrame
        The long panel with ``column``.
    column : str
        The categorical column (profile assignment).
    weights : AttritionWeights
        From :func:`attrition_weights` on the same panel.
    from_wave, to_wave : hashable
        The two waves (``from_wave`` before ``to_wave``).
    categories : sequence, optional
        Categories in order; default all observed in the panel, sorted.

    Returns
    -------
    pandas.DataFrame
        Long: ``from``, ``to``, ``n``, ``share`` (unweighted), ``weighted_n``, ``weighted_share``.
    """
    id_col, wave_col = weights.id_col, weights.wave_col
    cats = sorted(panel[column].dropna().unique().tolist(), key=str) if categories is None else list(categories)
    w = weights.for_wave(to_wave)
    origin = panel[panel[wave_col] == from_wave].set_index(id_col)[column].reindex(w.index)
    destination = panel[panel[wave_col] == to_wave].set_index(id_col)[column].reindex(w.index)
    ok = (origin.notna() & destination.notna()).to_numpy()
    pairs = pd.DataFrame({"from": origin[ok].to_numpy(), "to": destination[ok].to_numpy(), "w": w[ok].to_numpy()})
    full = pd.MultiIndex.from_product([cats, cats], names=["from", "to"])
    grouped = pairs.groupby(["from", "to"])["w"]
    table = pd.DataFrame({"n": grouped.size(), "weighted_n": grouped.sum()}).reindex(full, fill_value=0).reset_index()
    table["n"] = table["n"].astype(int)
    rows_n = table.groupby("from")["n"].transform("sum")
    rows_w = table.groupby("from")["weighted_n"].transform("sum")
    table["share"] = table["n"] / rows_n.where(rows_n > 0)
    table["weighted_share"] = table["weighted_n"] / rows_w.where(rows_w > 0)
    return table[["from", "to", "n", "share", "weighted_n", "weighted_share"]]

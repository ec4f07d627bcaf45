"""Scoring: facet and scale scores from answers, reliability per scale and wave, descriptives by wave.

The instrument definition (``docs/instrument-format.md``) says which items score into which facet or
scale, which items are reverse-keyed and what share of a scale's items must be answered for a score.
:func:`scales_from_instrument` turns a definition into :class:`ScaleDefinition` objects, :func:`score`
computes the scores from a wide frame of answers (one row per respondent-occasion, one column per item),
:func:`reliability` gives Cronbach's alpha and McDonald's omega per scale (and per wave), and
:func:`describe_by` gives n, mean, sd, min and max per group in a tidy long frame.

Reliability estimators
----------------------
Cronbach's alpha is ``k / (k - 1) * (1 - sum(s_i^2) / s_X^2)`` with item variances ``s_i^2`` and the
variance ``s_X^2`` of the sum score, both with ``ddof=1``, on the rows where every item is answered
(listwise deletion).

McDonald's omega (omega total) comes from a one-factor model fitted by minimum residual (MINRES, the
default factoring method of ``psych::fa`` and ``psych::omega``) to the Pearson correlation matrix of the
listwise complete rows: the loadings ``lambda`` minimise the sum of squared off-diagonal residuals
``sum_{i<j} (r_ij - lambda_i lambda_j)^2`` within ``[-1, 1]`` (so no Heywood case gives a negative
uniqueness), the uniquenesses are ``psi_i = 1 - lambda_i^2``, and
``omega = (sum lambda)^2 / ((sum lambda)^2 + sum psi)``. Items are therefore standardised: omega is the
reliability of the sum of standardised items. With two items a one-factor model is not identified; the
loadings are then taken equal (``lambda^2 = r``), which gives ``omega = 2r / (1 + r)``, the
Spearman-Brown (standardised alpha) value. Reverse-keyed items are recoded before either coefficient is
computed.

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika, 16(3),
297-334.

McDonald, R. P. (1999). Test theory: A unified treatment. Mahwah, NJ: Erlbaum.

Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals (minres). Psychometrika,
31(3), 351-368.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

__all__ = [
    "ScaleDefinition",
    "cronbach_alpha",
    "describe_by",
    "mcdonald_omega",
    "reliability",
    "scales_from_instrument",
    "score",
]

DEFAULT_MIN_ANSWERED = 0.5
# a share compared with answered / n_items; the tolerance keeps 0.5 * 6 == 3 answered from failing on rounding
_SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ScaleDefinition:
    """One facet or scale: its items, the reverse-keyed ones, the response range and the answered share.

    Parameters
    ----------
    code : str
        Facet or scale code, e.g. ``"career_clarity"``; the name of the score column.
    items : tuple of str
        Item codes that score into this scale, in questionnaire order.
    reverse : frozenset of str
        Item codes (a subset of ``items``) that are reverse-keyed, scored as ``max_value + min_value - x``.
    min_value, max_value : float
        The response scale's lowest and highest value.
    min_answered : float, default 0.5
        Share of ``items`` that must be answered for a score; fewer answered gives NaN.
    """

    code: str
    items: tuple[str, ...]
    reverse: frozenset[str] = field(default_factory=frozenset)
    min_value: float = 1
    max_value: float = 7
    min_answered: float = DEFAULT_MIN_ANSWERED

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError(f"scale {self.code!r} has no items")
        if len(set(self.items)) != len(self.items):
            raise ValueError(f"scale {self.code!r} lists an item twice")
        unknown = set(self.reverse) - set(self.items)
        if unknown:
            raise ValueError(f"scale {self.code!r}: reverse-keyed items not in the scale: {sorted(unknown)}")
        if not self.min_value < self.max_value:
            raise ValueError(f"scale {self.code!r}: min_value must be below max_value")
        if not 0 < self.min_answered <= 1:
            raise ValueError(f"scale {self.code!r}: min_answered must be a share in (0, 1]")


def scales_from_instrument(definition: Mapping[str, Any]) -> list[ScaleDefinition]:
    """Read the facets and scales of an instrument definition.

    Parameters
    ----------
    definition : mapping
        The instrument definition as a dict, as read from its YAML file or stored in the database
        (keys ``response_scales``, ``facets`` and ``sections[].items[]``; see ``docs/instrument-format.md``).

    Returns
    -------
    list of ScaleDefinition
        One per facet, in the order of ``facets``, with its items in questionnaire order. Facets without
        items are left out.

    Raises
    ------
    ValueError
        If an item names an unknown facet or response scale, is not a scale item, or the items of one facet
        use response scales with different ranges.
    """
    response_scales = definition.get("response_scales") or {}
    facets = definition.get("facets") or []
    facet_codes = [facet["code"] for facet in facets]
    items_by_facet: dict[str, list[Mapping[str, Any]]] = {code: [] for code in facet_codes}
    for section in definition.get("sections") or []:
        for item in section.get("items") or []:
            facet = item.get("facet")
            if not facet:
                continue
            if facet not in items_by_facet:
                raise ValueError(f"item {item['code']!r} names unknown facet {facet!r}")
            items_by_facet[facet].append(item)

    scales: list[ScaleDefinition] = []
    for facet in facets:
        items = items_by_facet[facet["code"]]
        if not items:
            continue
        ranges = set()
        for item in items:
            if item.get("type", "scale") != "scale":
                raise ValueError(f"item {item['code']!r} in facet {facet['code']!r} is not a scale item")
            scale_name = item.get("scale")
            if scale_name not in response_scales:
                raise ValueError(f"item {item['code']!r} names unknown response scale {scale_name!r}")
            response = response_scales[scale_name]
            ranges.add((response["min"], response["max"]))
        if len(ranges) > 1:
            raise ValueError(f"facet {facet['code']!r} mixes response scales with different ranges: {sorted(ranges)}")
        (min_value, max_value) = ranges.pop()
        min_answered = facet.get("min_answered")
        scales.append(
            ScaleDefinition(
                code=facet["code"],
                items=tuple(item["code"] for item in items),
                reverse=frozenset(item["code"] for item in items if item.get("reverse")),
                min_value=min_value,
                max_value=max_value,
                min_answered=DEFAULT_MIN_ANSWERED if min_answered is None else float(min_answered),
            )
        )
    return scales


def _keyed_items(answers: pd.DataFrame, scale: ScaleDefinition) -> pd.DataFrame:
    """The scale's items as floats, reverse-keyed items recoded; absent items are all-NaN columns."""
    columns = {}
    for item in scale.items:
        if item in answers.columns:
            values = pd.to_numeric(answers[item], errors="raise").astype(float)
        else:
            values = pd.Series(np.nan, index=answers.index, dtype=float)
        outside = values.notna() & ((values < scale.min_value) | (values > scale.max_value))
        if outside.any():
            raise ValueError(
                f"item {item!r} of scale {scale.code!r} has values outside {scale.min_value}..{scale.max_value}: "
                f"{sorted(values[outside].unique().tolist())}"
            )
        if item in scale.reverse:
            values = scale.max_value + scale.min_value - values
        columns[item] = values
    return pd.DataFrame(columns, index=answers.index)


def score(
    answers: pd.DataFrame, scales: Iterable[ScaleDefinition], *, id_columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Facet and scale scores: the mean of the answered items after reverse keying.

    Parameters
    ----------
    answers : DataFrame
        Wide answers, one row per respondent-occasion and one numeric column per item code, NaN where an
        item was not answered. Identifiers (pseudonym, wave, ...) may be the index or columns.
    scales : iterable of ScaleDefinition
        The scales to score, e.g. from :func:`scales_from_instrument`.
    id_columns : sequence of str, optional
        Columns of ``answers`` to carry over. By default every column that is not an item of one of
        ``scales`` is carried over.

    Returns
    -------
    DataFrame
        Same index as ``answers``; the id columns followed by one column per scale (named by its code).
        A score is NaN when the share of answered items is below the scale's ``min_answered``. Items
        absent from ``answers`` count as not answered.

    Raises
    ------
    ValueError
        If an answer lies outside its scale's ``min_value..max_value``.
    """
    scales = list(scales)
    if id_columns is None:
        item_codes = {item for scale in scales for item in scale.items}
        id_columns = [column for column in answers.columns if column not in item_codes]
    result = answers[list(id_columns)].copy()
    for scale in scales:
        keyed = _keyed_items(answers, scale)
        answered = keyed.notna().sum(axis=1)
        enough = answered >= scale.min_answered * len(scale.items) - _SHARE_TOLERANCE
        # mean over answered items only; rows with no answer at all are masked by ``enough`` anyway
        means = keyed.sum(axis=1, min_count=1) / answered.where(answered > 0)
        result[scale.code] = means.where(enough)
    return result


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of the items' sum, on the rows where every item is answered.

    Parameters
    ----------
    items : DataFrame
        One numeric column per item, already reverse-keyed; NaN for missing.

    Returns
    -------
    float
        ``k / (k - 1) * (1 - sum(var(item)) / var(sum))`` with ``ddof=1``, computed on the listwise
        complete rows. NaN when there are fewer than 2 items, fewer than 2 complete rows or the sum score
        has no variance.
    """
    complete = items.dropna().astype(float)
    k = complete.shape[1]
    if k < 2 or len(complete) < 2:
        return float("nan")
    total_variance = complete.sum(axis=1).var(ddof=1)
    if not total_variance > 0:
        return float("nan")
    item_variances = complete.var(axis=0, ddof=1).sum()
    return float(k / (k - 1) * (1 - item_variances / total_variance))


def _minres_one_factor(correlation: np.ndarray) -> np.ndarray:
    """Loadings of a one-factor model fitted by minimum residual to a correlation matrix (3+ items)."""
    p = correlation.shape[0]
    rows, cols = np.triu_indices(p, k=1)
    target = correlation[rows, cols]

    def residuals(loadings: np.ndarray) -> np.ndarray:
        return np.asarray(target - loadings[rows] * loadings[cols])

    def jacobian(loadings: np.ndarray) -> np.ndarray:
        jac = np.zeros((len(target), p))
        pairs = np.arange(len(target))
        jac[pairs, rows] = -loadings[cols]
        jac[pairs, cols] = -loadings[rows]
        return jac

    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    start = eigenvectors[:, -1] * np.sqrt(max(eigenvalues[-1], 0.0))
    start = np.clip(start, -0.95, 0.95)
    fit = least_squares(residuals, start, jac=jacobian, bounds=(-1.0, 1.0), method="trf", xtol=1e-12, ftol=1e-12)
    loadings = fit.x
    # a factor's sign is arbitrary: orient it so that the loadings sum to a positive number
    return -loadings if loadings.sum() < 0 else loadings


def mcdonald_omega(items: pd.DataFrame) -> float:
    """McDonald's omega total from a one-factor model fitted by minimum residual (MINRES).

    Parameters
    ----------
    items : DataFrame
        One numeric column per item, already reverse-keyed; NaN for missing. Rows with a missing item are
        dropped (listwise deletion).

    Returns
    -------
    float
        ``(sum lambda)^2 / ((sum lambda)^2 + sum psi)`` with standardised loadings ``lambda`` from a
        MINRES one-factor fit to the Pearson correlation matrix (bounded to ``[-1, 1]``) and
        uniquenesses ``psi = 1 - lambda^2``. With two items the loadings are taken equal, giving
        ``2r / (1 + r)``. NaN when there are fewer than 2 items, fewer than 3 complete rows, or an item
        has no variance.

    Notes
    -----
    Because the items are standardised, omega here is the reliability of the sum of standardised items
    (as in ``psych::omega``); for items with equal loadings and equal variances it equals alpha.
    """
    complete = items.dropna().astype(float)
    p = complete.shape[1]
    if p < 2 or len(complete) < 3:
        return float("nan")
    values = complete.to_numpy()
    if not (values.std(axis=0, ddof=1) > 0).all():
        return float("nan")
    correlation = np.corrcoef(values, rowvar=False)
    if p == 2:
        r = correlation[0, 1]
        return float(2 * r / (1 + r))
    loadings = _minres_one_factor(correlation)
    common = loadings.sum() ** 2
    unique = (1 - loadings**2).sum()
    return float(common / (common + unique))


def _as_columns(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """``frame`` with any of ``names`` that are index levels moved into columns."""
    index_names = [name for name in names if name not in frame.columns and name in (frame.index.names or [])]
    missing = [name for name in names if name not in frame.columns and name not in index_names]
    if missing:
        raise KeyError(f"not a column or index level: {missing}")
    return frame.reset_index(level=index_names) if index_names else frame


def reliability(
    answers: pd.DataFrame, scales: Iterable[ScaleDefinition], by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Cronbach's alpha and McDonald's omega per scale, and per group (such as wave) when ``by`` is given.

    Parameters
    ----------
    answers : DataFrame
        Wide answers as for :func:`score`. Reverse-keyed items are recoded before estimation; items absent
        from the frame count as missing (so no row is complete).
    scales : iterable of ScaleDefinition
        The scales to assess.
    by : str or sequence of str, optional
        Column(s) or index level(s) to group by, e.g. ``"wave"``.

    Returns
    -------
    DataFrame
        One row per scale (per group, groups in sorted order, scales in the given order) with columns
        ``scale``, the ``by`` columns, ``n_items`` (items in the scale's definition), ``n_complete`` (rows
        with every item answered: the rows both coefficients use), ``alpha``, ``omega`` (see
        :func:`cronbach_alpha` and :func:`mcdonald_omega`) and ``note``, which says why a coefficient is
        NaN (empty when both were computed).
    """
    scales = list(scales)
    by_columns = [] if by is None else [by] if isinstance(by, str) else list(by)
    frame = _as_columns(answers, by_columns)
    groups: list[tuple[tuple[Any, ...], pd.DataFrame]] = (
        list(frame.groupby(by_columns, sort=True)) if by_columns else [((), frame)]
    )

    rows = []
    for key, group in groups:
        for scale in scales:
            keyed = _keyed_items(group, scale)
            n_complete = int(keyed.notna().all(axis=1).sum())
            if len(scale.items) < 2:
                alpha, omega, note = float("nan"), float("nan"), "fewer than 2 items"
            else:
                alpha, omega = cronbach_alpha(keyed), mcdonald_omega(keyed)
                note = ""
                if n_complete < 3:
                    note = f"only {n_complete} complete rows"
                elif np.isnan(alpha) or np.isnan(omega):
                    note = "an item or the sum score has no variance"
            rows.append(
                {
                    "scale": scale.code,
                    **dict(zip(by_columns, key, strict=True)),
                    "n_items": len(scale.items),
                    "n_complete": n_complete,
                    "alpha": alpha,
                    "omega": omega,
                    "note": note,
                }
            )
    columns = ["scale", *by_columns, "n_items", "n_complete", "alpha", "omega", "note"]
    return pd.DataFrame(rows, columns=columns)


def describe_by(scores: pd.DataFrame, by: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Descriptives per group and column in a tidy long frame.

    Parameters
    ----------
    scores : DataFrame
        Scores, e.g. from :func:`score`.
    by : str
        Column or index level to group by, e.g. ``"wave"``. Rows where it is missing are left out.
    columns : sequence of str, optional
        Columns to describe; by default every numeric column other than ``by``.

    Returns
    -------
    DataFrame
        Columns ``by``, ``variable``, ``n`` (non-missing values), ``mean``, ``sd`` (``ddof=1``, NaN for
        fewer than 2 values), ``min`` and ``max``; one row per group and column, groups sorted and
        columns in the given order.
    """
    frame = _as_columns(scores, [by])
    if columns is None:
        columns = [c for c in frame.select_dtypes(include="number").columns if c != by]
    parts = []
    for position, column in enumerate(columns):
        stats = (
            frame.groupby(by, sort=True)[column]
            .agg(n="count", mean="mean", sd="std", min="min", max="max")
            .reset_index()
        )
        stats.insert(1, "variable", column)
        stats["_position"] = position
        parts.append(stats)
    if not parts:
        return pd.DataFrame(columns=[by, "variable", "n", "mean", "sd", "min", "max"])
    result = pd.concat(parts, ignore_index=True)
    result = result.sort_values([by, "_position"], kind="stable").drop(columns="_position")
    result["n"] = result["n"].astype(int)
    return result.reset_index(drop=True)

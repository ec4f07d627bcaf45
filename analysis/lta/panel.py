"""Long data to the participants x waves x indicators panel the latent transition model works on,
with the covariate designs of its initial and transition parts.
"""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N806

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.categorical import CategoricalDesign, encode_column
from analysis.validation import check_indicator_values, numeric_indicators


@dataclass
class _Panel:
    """Participants x waves x indicators, with the covariate designs of the initial and transition parts."""

    ids: np.ndarray
    waves: list[Any]
    indicators: list[str]
    X: np.ndarray  # (N, T, P), NaN where missing; categorical indicators hold category codes 0..C-1
    Zi: np.ndarray  # (N, qi) covariates on the initial profile (no intercept)
    Zt: np.ndarray  # (N, qt) covariates on the transitions (no intercept)
    cat_positions: list[int] = field(default_factory=list)  # which indicators are categorical
    categories: list[list[Any]] = field(default_factory=list)  # their categories
    weight: np.ndarray | None = None  # (N,) case weights (mean 1 when given to fit); None means ones
    Xc: np.ndarray = field(init=False, repr=False)  # (N, T, Pc) the continuous indicators
    X0: np.ndarray = field(init=False, repr=False)
    X2: np.ndarray = field(init=False, repr=False)
    M: np.ndarray = field(init=False, repr=False)
    observed: np.ndarray = field(init=False, repr=False)
    cat: CategoricalDesign | None = field(init=False, repr=False)  # rows are participant-waves, (N * T)

    def __post_init__(self) -> None:
        N, T, P = self.X.shape
        self.weight = np.ones(N) if self.weight is None else np.asarray(self.weight, dtype=float)
        continuous = [j for j in range(P) if j not in set(self.cat_positions)]
        self.Xc = self.X[..., continuous]
        miss = np.isnan(self.Xc)
        self.M = (~miss).astype(float)
        self.X0 = np.where(miss, 0.0, self.Xc)
        self.X2 = self.X0 * self.X0
        self.observed = np.asarray(np.isfinite(self.X).any(axis=2))
        self.cat = None
        if self.cat_positions:
            codes = self.X[..., self.cat_positions].reshape(N * T, len(self.cat_positions))
            self.cat = CategoricalDesign.from_codes(codes, [len(c) for c in self.categories])

    @property
    def continuous_indicators(self) -> list[str]:
        return [name for j, name in enumerate(self.indicators) if j not in set(self.cat_positions)]

    @property
    def categorical_indicators(self) -> list[str]:
        return [self.indicators[j] for j in self.cat_positions]

    @property
    def w(self) -> np.ndarray:
        """The case weights (N,) as an array (never None after construction)."""
        assert self.weight is not None  # set in __post_init__
        return self.weight

    @property
    def weighted(self) -> bool:
        """Whether any case weight differs from one (the unweighted code path is taken otherwise)."""
        return bool(np.any(self.w != 1.0))

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_waves(self) -> int:
        return int(self.X.shape[1])

    def take(self, idx: np.ndarray) -> _Panel:
        return _Panel(
            ids=np.arange(len(idx)),
            waves=self.waves,
            indicators=self.indicators,
            X=self.X[idx],
            Zi=self.Zi[idx],
            Zt=self.Zt[idx],
            cat_positions=self.cat_positions,
            categories=self.categories,
            weight=self.w[idx],
        )


@dataclass
class _CovariateSpec:
    """How covariate columns become design columns: numeric as is, categorical as dummies (first = reference)."""

    columns: list[str]
    levels: dict[str, list[Any] | None]
    terms: list[str]


def _covariate_design(per_id: pd.DataFrame, spec: _CovariateSpec) -> np.ndarray:
    cols = []
    for col in spec.columns:
        s = per_id[col]
        levels = spec.levels[col]
        if levels is None:
            cols.append(pd.to_numeric(s).to_numpy(dtype=float))
            continue
        unknown = set(s.unique()) - set(levels)
        if unknown:
            raise ValueError(f"covariate {col!r} has values not seen when fitting: {sorted(map(str, unknown))}")
        cols.extend((s == lev).to_numpy(dtype=float) for lev in levels[1:])
    if not cols:
        return np.zeros((len(per_id), 0))
    return np.column_stack(cols)


def _make_spec(per_id: pd.DataFrame, columns: list[str]) -> _CovariateSpec:
    levels: dict[str, list[Any] | None] = {}
    terms: list[str] = []
    for col in columns:
        s = per_id[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            levels[col] = None
            terms.append(col)
        else:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levs = [c for c in s.cat.categories if c in set(s.unique())]
            else:
                levs = sorted(s.unique(), key=str)
            if len(levs) < 2:
                raise ValueError(f"covariate {col!r} has fewer than two levels")
            levels[col] = levs
            terms.extend(f"{col}[{lev}]" for lev in levs[1:])
    return _CovariateSpec(columns=list(columns), levels=levels, terms=terms)


def _per_id_covariates(
    data: pd.DataFrame, ids: np.ndarray, columns: list[str], covariate_data: pd.DataFrame | None, id_col: str
) -> pd.DataFrame:
    if covariate_data is not None:
        cd = covariate_data.set_index(id_col) if id_col in covariate_data.columns else covariate_data
        if cd.index.duplicated().any():
            raise ValueError("covariate_data has more than one row for some participants")
        missing_cols = [c for c in columns if c not in cd.columns]
        if missing_cols:
            raise ValueError(f"covariate_data lacks columns {missing_cols}")
        per_id = cd[columns].reindex(pd.Index(ids))
    else:
        missing_cols = [c for c in columns if c not in data.columns]
        if missing_cols:
            raise ValueError(f"data lacks covariate columns {missing_cols}")
        grouped = data.groupby(id_col, sort=False)[columns]
        if (grouped.nunique(dropna=True) > 1).to_numpy().any():
            raise ValueError("covariates must be constant within a participant (id)")
        per_id = grouped.first().reindex(pd.Index(ids))
    n_missing = int(per_id.isna().any(axis=1).sum())
    if n_missing:
        raise ValueError(
            f"{n_missing} participants have missing covariate values; drop or impute them before fitting "
            "(the likelihood conditions on the covariates)"
        )
    return per_id


def _some(ids: Any) -> str:
    """The first of ``ids`` as it would be written in the data, and how many more there are."""
    first = ids[0].item() if isinstance(ids[0], np.generic) else ids[0]
    return f"{first!r}" + (f" (and {len(ids) - 1} more)" if len(ids) > 1 else "")


def _case_weights(data: pd.DataFrame, ids: np.ndarray, weights: str | pd.Series, id_col: str) -> np.ndarray:
    """Case weights of the participants ``ids``, checked and rescaled to mean 1 (as Mplus' WEIGHT option).

    ``weights`` is a column of ``data`` (constant within id) or a Series indexed by id. Negative, missing
    or infinite weights, participants without a weight and weights that are all zero are refused.
    """
    if isinstance(weights, str):
        if weights not in data.columns:
            raise ValueError(f"data has no weights column {weights!r}")
        rows = data[data[id_col].isin(ids)]
        try:
            values = pd.to_numeric(rows[weights])
        except (TypeError, ValueError) as err:
            raise ValueError(f"weights column {weights!r} is not numeric") from err
        distinct = values.groupby(rows[id_col], sort=False).nunique(dropna=True)
        varies = distinct.index[(distinct > 1).to_numpy()]
        if len(varies):
            raise ValueError(
                f"weights column {weights!r} varies within participant {_some(varies)}: "
                "a case weight is per participant"
            )
        per_id = values.groupby(rows[id_col], sort=False).first()
        # rows with a missing weight take the participant's weight from the other rows (as covariates do);
        # a participant whose weight is missing in every row has NaN here and is refused below
        per_id = per_id.reindex(pd.Index(ids))
        source = f"weights column {weights!r}"
    elif isinstance(weights, pd.Series):
        if weights.index.duplicated().any():
            raise ValueError("the weights Series has more than one value for some participants (ids)")
        lacking = pd.Index(ids).difference(weights.index)
        if len(lacking):
            raise ValueError(f"the weights Series has no weight for participant {_some(lacking)}")
        try:
            per_id = pd.to_numeric(weights).reindex(pd.Index(ids))
        except (TypeError, ValueError) as err:
            raise ValueError("the weights Series is not numeric") from err
        source = "the weights Series"
    else:
        raise TypeError("weights must be a column name of data or a pandas Series indexed by participant id")
    w = per_id.to_numpy(dtype=float)
    bad = ~np.isfinite(w)
    if bad.any():
        raise ValueError(f"{source} is missing or infinite for participant {_some(ids[bad])}")
    negative = w < 0
    if negative.any():
        raise ValueError(f"{source} is negative for participant {_some(ids[negative])}: weights must be >= 0")
    if not (w > 0).any():
        raise ValueError(f"{source} is zero for every participant")
    return np.asarray(w / w.mean())


def _prepare(
    data: pd.DataFrame,
    *,
    indicators: list[str] | None,
    id_col: str,
    wave_col: str,
    waves: list[Any] | None,
    covariates: list[str] | None = None,
    covariate_data: pd.DataFrame | None = None,
    covariates_on: str = "both",
    spec: _CovariateSpec | None = None,
    categorical: list[str] | None = None,
    categories: list[list[Any]] | None = None,
    weights: str | pd.Series | None = None,
) -> tuple[_Panel, _CovariateSpec | None]:
    """The panel of ``data``; ``categorical`` names categorical indicators (coded against ``categories``, a
    fitted model's, when given); ``weights`` the case weights (see :func:`_case_weights`)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame in long format (one row per participant and wave)")
    for col in (id_col, wave_col):
        if col not in data.columns:
            raise ValueError(f"data has no column {col!r}")
    covariates = list(covariates or [])
    if waves is None:
        waves = sorted(pd.unique(data[wave_col].dropna()).tolist())
    else:
        waves = list(waves)
        unknown = set(data[wave_col].dropna().unique()) - set(waves)
        if unknown:
            raise ValueError(f"data has waves not in waves=: {sorted(map(str, unknown))}")
    if len(waves) < 1:
        raise ValueError("data has no waves")
    categorical = list(categorical or [])
    if indicators is None:
        skip = {id_col, wave_col, *covariates, *([weights] if isinstance(weights, str) else [])}
        indicators = [
            c for c in data.columns if c not in skip and (pd.api.types.is_numeric_dtype(data[c]) or c in categorical)
        ]
    indicators = list(indicators)
    outside = [c for c in categorical if c not in indicators]
    if outside:
        raise ValueError(f"categorical= names {outside}, which are not indicators (indicators: {indicators}).")
    if not indicators:
        raise ValueError("no indicator columns")
    missing_cols = [c for c in indicators if c not in data.columns]
    if missing_cols:
        raise ValueError(f"data lacks indicator columns {missing_cols}")
    rows = data[data[wave_col].notna()]
    if rows.duplicated([id_col, wave_col]).any():
        raise ValueError("data has more than one row for some participant and wave")
    id_index = pd.Index(pd.unique(rows[id_col]))
    with contextlib.suppress(TypeError):  # ids of mixed types keep their order of appearance
        id_index = id_index.sort_values()
    wave_index = pd.Index(waves)
    X = np.full((len(id_index), len(waves), len(indicators)), np.nan)
    at_id = id_index.get_indexer(pd.Index(rows[id_col]))
    at_wave = wave_index.get_indexer(pd.Index(rows[wave_col]))
    values = np.empty((len(rows), len(indicators)))
    found: list[list[Any]] = []
    for j, col in enumerate(indicators):
        if col in categorical:
            known = None if categories is None else categories[categorical.index(col)]
            values[:, j], levels = encode_column(rows[col].to_numpy(), col, known)
            found.append(levels)
        else:
            values[:, j] = numeric_indicators(rows, [col])[:, 0]
    X[at_id, at_wave] = values
    continuous = [j for j, col in enumerate(indicators) if col not in categorical]
    check_indicator_values(X[..., continuous], [str(indicators[j]) for j in continuous])
    keep = ~np.isnan(X).all(axis=(1, 2))
    ids = id_index.to_numpy()[keep]
    X = X[keep]
    Zi = Zt = np.zeros((len(ids), 0))
    if covariates:
        per_id = _per_id_covariates(data, ids, covariates, covariate_data, id_col)
        if spec is None:
            spec = _make_spec(per_id, covariates)
        Z = _covariate_design(per_id, spec)
        if covariates_on in ("both", "initial"):
            Zi = Z
        if covariates_on in ("both", "transitions"):
            Zt = Z
    # categorical indicators in the order of the indicators (``found`` is in that order)
    positions = [j for j, col in enumerate(indicators) if col in categorical]
    weight = None if weights is None else _case_weights(data, ids, weights, id_col)
    panel = _Panel(
        ids=ids,
        waves=waves,
        indicators=indicators,
        X=X,
        Zi=Zi,
        Zt=Zt,
        cat_positions=positions,
        categories=found,
        weight=weight,
    )
    return panel, spec

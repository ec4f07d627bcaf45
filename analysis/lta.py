"""Latent transition analysis: a latent Markov model over waves with a Gaussian profile measurement model.

The model follows Mplus' LTA and R's LMest. Each participant ``i`` is in one of ``K`` latent profiles at
each wave ``t``; profiles follow a first-order Markov chain with initial shares ``pi`` and one transition
matrix per pair of consecutive waves (time-heterogeneous, or one shared matrix with ``homogeneous=True``);
given the profile, the indicators are independent Gaussians (``"VVI"``: profile-specific variances,
``"EEI"``: variances shared by profiles) whose means and variances are held equal over waves
(``invariant=True``) or free per wave.

Estimation is maximum likelihood by EM (Baum-Welch), vectorised over participants (loops run over waves
and iterations only). Emission densities are kept as logs; the forward-backward recursions shift them by
their maximum and renormalise at every wave (Rabiner's scaling, the log-likelihood being the sum of the log
normalisers), and participants for whom that would underflow are recomputed entirely in log space. A
participant who misses a wave has no row for it (or only missing indicators): that wave contributes an
emission of 1 to the recursions, and an indicator missing within a row is integrated out of the diagonal
Gaussian. This is full-information maximum likelihood, valid under missing at random.

Covariates act on the initial profile (multinomial logit, reference profile 1) and on the transitions
(multinomial logit of the destination given the origin, per origin; the reference destination is staying
in the origin profile, as in LMest; the intercepts are per wave pair, the covariate slopes are shared by
the wave pairs). Their standard errors come from the observed information matrix: central finite
differences of the analytic score (Fisher's identity) of the full likelihood, measurement parameters
included; a robust sandwich (observed information around the outer product of the per-participant scores)
is available too.

Beside the one-step model, :meth:`LatentTransitionModel.three_step` gives the three-step estimator with
classification-error correction (ML: Vermunt 2010; BCH: Bolck, Croon & Hagenaars 2004, Vermunt 2010) and
:meth:`LatentTransitionModel.naive_transitions` the naive classify-and-cross-tabulate table, which
overstates change.

Profiles are numbered 1..K in every frame; arrays are 0-based.
"""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import contextlib
import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import linear_sum_assignment

__all__ = [
    "BootstrapResult",
    "InvarianceTestResult",
    "LatentTransitionModel",
    "TransitionResult",
    "match_profiles",
]

LOG_2PI = math.log(2.0 * math.pi)
MEASUREMENTS = ("VVI", "EEI")
COVARIATE_TARGETS = ("both", "initial", "transitions")
TINY = 1e-300


# --------------------------------------------------------------------------------------------- numerics


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(a)))`` along ``axis``, stable and silent for rows that are all ``-inf``."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def _log_softmax(eta: np.ndarray, axis: int = -1) -> np.ndarray:
    return eta - np.expand_dims(_logsumexp(eta, axis=axis), axis)


def _safe_log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


def _relative_entropy(prob: np.ndarray) -> float:
    """Relative entropy ``1 - sum(-p log p) / (n log K)`` of posterior rows ``prob`` (n x K)."""
    n, k = prob.shape
    if n == 0 or k < 2:
        return float("nan")
    p = np.clip(prob, TINY, 1.0)
    ent = -np.sum(prob * np.log(p))
    return float(1.0 - ent / (n * math.log(k)))


# ------------------------------------------------------------------------------------------------ data


@dataclass
class _Panel:
    """Participants x waves x indicators, with the covariate designs of the initial and transition parts."""

    ids: np.ndarray
    waves: list
    indicators: list[str]
    X: np.ndarray  # (N, T, P), NaN where missing
    Zi: np.ndarray  # (N, qi) covariates on the initial profile (no intercept)
    Zt: np.ndarray  # (N, qt) covariates on the transitions (no intercept)
    X0: np.ndarray = field(init=False, repr=False)
    X2: np.ndarray = field(init=False, repr=False)
    M: np.ndarray = field(init=False, repr=False)
    observed: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        miss = np.isnan(self.X)
        self.M = (~miss).astype(float)
        self.X0 = np.where(miss, 0.0, self.X)
        self.X2 = self.X0 * self.X0
        self.observed = self.M.any(axis=2)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def n_waves(self) -> int:
        return self.X.shape[1]

    def take(self, idx: np.ndarray) -> _Panel:
        return _Panel(
            ids=np.arange(len(idx)),
            waves=self.waves,
            indicators=self.indicators,
            X=self.X[idx],
            Zi=self.Zi[idx],
            Zt=self.Zt[idx],
        )


@dataclass
class _CovariateSpec:
    """How covariate columns become design columns: numeric as is, categorical as dummies (first = reference)."""

    columns: list[str]
    levels: dict[str, list | None]
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
    levels: dict[str, list | None] = {}
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


def _prepare(
    data: pd.DataFrame,
    *,
    indicators: list[str] | None,
    id_col: str,
    wave_col: str,
    waves: list | None,
    covariates: list[str] | None = None,
    covariate_data: pd.DataFrame | None = None,
    covariates_on: str = "both",
    spec: _CovariateSpec | None = None,
) -> tuple[_Panel, _CovariateSpec | None]:
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
    if indicators is None:
        skip = {id_col, wave_col, *covariates}
        indicators = [c for c in data.columns if c not in skip and pd.api.types.is_numeric_dtype(data[c])]
    indicators = list(indicators)
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
    X[id_index.get_indexer(rows[id_col]), wave_index.get_indexer(rows[wave_col])] = rows[indicators].to_numpy(
        dtype=float, na_value=np.nan
    )
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
    return _Panel(ids=ids, waves=waves, indicators=indicators, X=X, Zi=Zi, Zt=Zt), spec


# ------------------------------------------------------------------------------------------ parameters


@dataclass
class _Params:
    """Parameters in the form the algorithms use: log probabilities or logit coefficients."""

    means: np.ndarray  # (Tm, K, P), Tm = 1 (invariant) or T
    variances: np.ndarray  # (Tm, K, P)
    log_init: np.ndarray | None = None  # (K,) without covariates
    log_trans: np.ndarray | None = None  # (Tt, K, K) without covariates; Tt = 1 (homogeneous) or T - 1
    init_coef: np.ndarray | None = None  # (1 + qi, K), column 0 is the reference (zero)
    trans_coef: np.ndarray | None = None  # (K, Tt + qt, K), trans_coef[j, :, j] is the reference (zero)

    def copy(self) -> _Params:
        return _Params(*(None if v is None else v.copy() for v in self.__dict__.values()))

    @property
    def has_coef(self) -> bool:
        return self.init_coef is not None


@dataclass(frozen=True)
class _Settings:
    K: int
    measurement: str = "VVI"
    invariant: bool = True
    homogeneous: bool = False
    max_iter: int = 1000
    tol: float = 1e-7


def _n_pairs(panel: _Panel) -> int:
    return max(panel.n_waves - 1, 0)


def _n_trans_sets(panel: _Panel, settings: _Settings) -> int:
    n_pairs = _n_pairs(panel)
    return min(n_pairs, 1) if settings.homogeneous else n_pairs


def _trans_design(panel: _Panel, t: int, n_sets: int) -> np.ndarray:
    """Design rows of wave pair ``t``: intercept dummies (one per transition set) then covariates."""
    dummies = np.zeros((panel.n, n_sets))
    dummies[:, min(t, n_sets - 1)] = 1.0
    return np.hstack([dummies, panel.Zt])


def _structural(params: _Params, panel: _Panel) -> tuple[np.ndarray, np.ndarray]:
    """Log initial shares (N or 1, K) and log transition matrices (N or 1, T-1, K, K)."""
    n_pairs = _n_pairs(panel)
    K = params.means.shape[1]
    if not params.has_coef:
        log_pi = params.log_init[None, :]
        lt = params.log_trans
        if n_pairs == 0:
            return log_pi, np.zeros((1, 0, K, K))
        if lt.shape[0] != n_pairs:
            lt = np.broadcast_to(lt[:1], (n_pairs, K, K))
        return log_pi, lt[None]
    Z1 = np.hstack([np.ones((panel.n, 1)), panel.Zi])
    log_pi = _log_softmax(Z1 @ params.init_coef, axis=1)
    log_A = np.empty((panel.n, n_pairs, K, K))
    n_sets = params.trans_coef.shape[1] - panel.Zt.shape[1]
    for t in range(n_pairs):
        D = _trans_design(panel, t, n_sets)
        log_A[:, t] = _log_softmax(np.einsum("nd,jdk->njk", D, params.trans_coef), axis=-1)
    return log_pi, log_A


def _log_emission(panel: _Panel, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Log density of each participant-wave under each profile (N, T, K); 0 for a missing wave."""
    N, T, _ = panel.X.shape
    K = means.shape[1]
    out = np.empty((N, T, K))
    for t in range(T):
        mu = means[t if means.shape[0] > 1 else 0]
        var = variances[t if variances.shape[0] > 1 else 0]
        inv = 1.0 / var
        const = LOG_2PI + np.log(var) + mu * mu * inv
        out[:, t] = -0.5 * (panel.M[:, t] @ const.T - 2.0 * panel.X0[:, t] @ (mu * inv).T + panel.X2[:, t] @ inv.T)
    return out


def _forward_backward_log(
    logB: np.ndarray, log_pi: np.ndarray, log_A: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward-backward entirely in log space (the fallback of :func:`_forward_backward`)."""
    N, T, K = logB.shape
    la = np.empty((N, T, K))
    la[:, 0] = log_pi + logB[:, 0]
    for t in range(1, T):
        la[:, t] = _logsumexp(la[:, t - 1, :, None] + log_A[:, t - 1], axis=1) + logB[:, t]
    ll = _logsumexp(la[:, -1], axis=1)
    lb = np.zeros((N, T, K))
    for t in range(T - 2, -1, -1):
        lb[:, t] = _logsumexp(log_A[:, t] + (logB[:, t + 1] + lb[:, t + 1])[:, None, :], axis=2)
    gamma = np.exp(la + lb - ll[:, None, None])
    xi = np.empty((N, T - 1, K, K))
    for t in range(T - 1):
        xi[:, t] = np.exp(
            la[:, t, :, None] + log_A[:, t] + (logB[:, t + 1] + lb[:, t + 1])[:, None, :] - ll[:, None, None]
        )
    return ll, gamma, xi


def _forward_backward(
    logB: np.ndarray, log_pi: np.ndarray, log_A: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-participant log-likelihood (N,), smoothed posteriors (N, T, K) and pair posteriors (N, T-1, K, K).

    Emissions arrive as logs and are shifted by their largest value per participant-wave before
    exponentiating; the forward variables are renormalised at every wave and the log-likelihood is the sum
    of the log normalisers and shifts (Rabiner's scaling), which cannot underflow. Participants for whom a
    normaliser still vanishes (zero transition probabilities against the evidence) are recomputed entirely
    in log space.
    """
    N, T, K = logB.shape
    shift = logB.max(axis=2)
    B = np.exp(logB - shift[:, :, None])
    pi = np.exp(log_pi)
    A = np.exp(log_A)
    shared = A.shape[0] == 1
    alpha = np.empty((N, T, K))
    c = np.empty((N, T))
    a = pi * B[:, 0]
    c[:, 0] = a.sum(axis=1)
    alpha[:, 0] = a / np.where(c[:, 0] > 0, c[:, 0], 1.0)[:, None]
    for t in range(1, T):
        a = alpha[:, t - 1] @ A[0, t - 1] if shared else np.matmul(alpha[:, t - 1, None, :], A[:, t - 1])[:, 0]
        a *= B[:, t]
        c[:, t] = a.sum(axis=1)
        alpha[:, t] = a / np.where(c[:, t] > 0, c[:, t], 1.0)[:, None]
    beta = np.ones((N, T, K))
    xi = np.empty((N, T - 1, K, K))
    for t in range(T - 2, -1, -1):
        bb = B[:, t + 1] * beta[:, t + 1] / np.where(c[:, t + 1] > 0, c[:, t + 1], 1.0)[:, None]
        beta[:, t] = bb @ A[0, t].T if shared else np.matmul(A[:, t], bb[:, :, None])[:, :, 0]
        xi[:, t] = alpha[:, t, :, None] * A[:, t] * bb[:, None, :]
    gamma = alpha * beta
    bad = ~(c > 1e-250).all(axis=1)
    with np.errstate(divide="ignore"):
        ll = np.log(c).sum(axis=1) + shift.sum(axis=1)
    if bad.any():
        ll_b, gamma_b, xi_b = _forward_backward_log(
            logB[bad], log_pi if log_pi.shape[0] == 1 else log_pi[bad], log_A if shared else log_A[bad]
        )
        ll[bad], gamma[bad], xi[bad] = ll_b, gamma_b, xi_b
    return ll, gamma, xi


def _viterbi(logB: np.ndarray, log_pi: np.ndarray, log_A: np.ndarray) -> np.ndarray:
    """Most likely profile path per participant (N, T), 0-based."""
    N, T, _ = logB.shape
    delta = log_pi + logB[:, 0]
    back = []
    for t in range(1, T):
        cand = delta[:, :, None] + log_A[:, t - 1]
        back.append(np.argmax(cand, axis=1))
        delta = np.max(cand, axis=1) + logB[:, t]
    path = np.empty((N, T), dtype=int)
    path[:, -1] = np.argmax(delta, axis=1)
    rows = np.arange(N)
    for t in range(T - 2, -1, -1):
        path[:, t] = back[t][rows, path[:, t + 1]]
    return path


# ---------------------------------------------------------------------------------------------- M-step


def _mstep_measurement(
    panel: _Panel, gamma: np.ndarray, settings: _Settings, var_floor: np.ndarray, old: _Params
) -> tuple[np.ndarray, np.ndarray]:
    if settings.invariant:
        N, T, K = gamma.shape
        G = gamma.reshape(N * T, K)
        S0 = np.einsum("rk,rp->kp", G, panel.M.reshape(N * T, -1))[None]
        S1 = np.einsum("rk,rp->kp", G, panel.X0.reshape(N * T, -1))[None]
        S2 = np.einsum("rk,rp->kp", G, panel.X2.reshape(N * T, -1))[None]
    else:
        S0 = np.einsum("ntk,ntp->tkp", gamma, panel.M)
        S1 = np.einsum("ntk,ntp->tkp", gamma, panel.X0)
        S2 = np.einsum("ntk,ntp->tkp", gamma, panel.X2)
    ok = S0 > 1e-8
    safe = np.where(ok, S0, 1.0)
    means = np.where(ok, S1 / safe, old.means)
    ss = np.maximum(S2 - 2.0 * means * S1 + means * means * S0, 0.0)
    if settings.measurement == "EEI":
        tot = S0.sum(axis=1, keepdims=True)
        var = np.where(tot > 1e-8, ss.sum(axis=1, keepdims=True) / np.where(tot > 1e-8, tot, 1.0), old.variances)
        var = np.broadcast_to(var, means.shape).copy()
    else:
        var = np.where(ok, ss / safe, old.variances)
    return means, np.maximum(var, var_floor)


def _mnl_objective(Xd: np.ndarray, R: np.ndarray, coef: np.ndarray) -> float:
    return float(np.sum(R * _log_softmax(Xd @ coef, axis=1)))


def _mnl_newton(Xd: np.ndarray, R: np.ndarray, coef: np.ndarray, ref: int, max_steps: int = 5) -> np.ndarray:
    """Increase the weighted multinomial-logit log-likelihood ``sum R log p`` by damped Newton steps.

    ``R`` holds soft counts (rows x K); column ``ref`` of ``coef`` stays zero. Each accepted step increases
    the objective (step halving), so EM with this M-step stays monotone (generalised EM).
    """
    K = R.shape[1]
    d = Xd.shape[1]
    free = [k for k in range(K) if k != ref]
    w = R.sum(axis=1)
    coef = coef.copy()
    obj = _mnl_objective(Xd, R, coef)
    for _ in range(max_steps):
        P = np.exp(_log_softmax(Xd @ coef, axis=1))
        Pf = P[:, free]
        G = Xd.T @ (R[:, free] - w[:, None] * Pf)  # (d, K-1)
        Q = -w[:, None, None] * Pf[:, :, None] * Pf[:, None, :]
        idx = np.arange(len(free))
        Q[:, idx, idx] += w[:, None] * Pf
        info = np.einsum("nab,nd,ne->adbe", Q, Xd, Xd).reshape(len(free) * d, len(free) * d)
        g = G.T.reshape(-1)
        ridge = 1e-10 * max(np.trace(info) / len(g), 1e-12)
        try:
            step = np.linalg.solve(info + ridge * np.eye(len(g)), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, g, rcond=None)[0]
        step = step.reshape(len(free), d).T
        scale = 1.0
        improved = False
        for _ in range(30):
            trial = coef.copy()
            trial[:, free] += scale * step
            new_obj = _mnl_objective(Xd, R, trial)
            if np.isfinite(new_obj) and new_obj >= obj:
                improved = new_obj > obj
                coef, obj = trial, new_obj
                break
            scale *= 0.5
        if not improved or np.max(np.abs(scale * step)) < 1e-9:
            break
    return coef


def _mstep_structural(
    panel: _Panel, gamma: np.ndarray, xi: np.ndarray, settings: _Settings, old: _Params
) -> tuple[Any, Any, Any, Any]:
    """New (log_init, log_trans, init_coef, trans_coef); only one of the pairs is not None."""
    n_pairs = _n_pairs(panel)
    if not old.has_coef:
        init = gamma[:, 0].sum(axis=0)
        log_init = _safe_log(init / init.sum())
        if n_pairs == 0:
            return log_init, old.log_trans, None, None
        counts = xi.sum(axis=0)
        if settings.homogeneous:
            counts = counts.sum(axis=0, keepdims=True)
        rows = counts.sum(axis=2, keepdims=True)
        old_trans = np.exp(old.log_trans)
        trans = np.where(rows > 1e-12, counts / np.where(rows > 1e-12, rows, 1.0), old_trans)
        return log_init, _safe_log(trans), None, None
    Z1 = np.hstack([np.ones((panel.n, 1)), panel.Zi])
    init_coef = _mnl_newton(Z1, gamma[:, 0], old.init_coef, ref=0)
    trans_coef = old.trans_coef.copy()
    n_sets = trans_coef.shape[1] - panel.Zt.shape[1]
    if n_pairs:
        Xd = np.vstack([_trans_design(panel, t, n_sets) for t in range(n_pairs)])
        for j in range(trans_coef.shape[0]):
            R = np.vstack([xi[:, t, j, :] for t in range(n_pairs)])
            trans_coef[j] = _mnl_newton(Xd, R, trans_coef[j], ref=j)
    return None, None, init_coef, trans_coef


# ------------------------------------------------------------------------------------------------- EM


@dataclass
class _Fit:
    params: _Params
    loglik: float
    history: list[float]
    converged: bool
    n_iter: int


def _estep(panel: _Panel, params: _Params, logB_fixed: np.ndarray | None = None):
    logB = _log_emission(panel, params.means, params.variances) if logB_fixed is None else logB_fixed
    log_pi, log_A = _structural(params, panel)
    return _forward_backward(logB, log_pi, log_A)


def _em(
    panel: _Panel,
    params: _Params,
    settings: _Settings,
    var_floor: np.ndarray,
    max_iter: int,
    logB_fixed: np.ndarray | None = None,
) -> _Fit:
    """EM from ``params``: stops when the log-likelihood gains less than ``tol`` per participant."""
    history: list[float] = []
    converged = False
    n_iter = 0
    params = params.copy()
    ll_n, gamma, xi = _estep(panel, params, logB_fixed)
    ll = float(ll_n.sum())
    history.append(ll)
    for n_iter in range(1, max_iter + 1):  # noqa: B007  (n_iter is reported)
        if logB_fixed is None:
            params.means, params.variances = _mstep_measurement(panel, gamma, settings, var_floor, params)
        li, lt, ic, tc = _mstep_structural(panel, gamma, xi, settings, params)
        params.log_init, params.log_trans, params.init_coef, params.trans_coef = li, lt, ic, tc
        ll_n, gamma, xi = _estep(panel, params, logB_fixed)
        new = float(ll_n.sum())
        history.append(new)
        gain = new - ll
        ll = new
        if gain < settings.tol * panel.n:
            converged = True
            break
    return _Fit(params=params, loglik=ll, history=history, converged=converged, n_iter=n_iter)


def _var_floor(panel: _Panel) -> np.ndarray:
    pooled = np.nanvar(panel.X[panel.observed], axis=0) if panel.observed.any() else np.ones(len(panel.indicators))
    pooled = np.where(np.isfinite(pooled) & (pooled > 0), pooled, 1.0)
    return 1e-6 * pooled


def _kmeans_labels(Y: np.ndarray, K: int, rng: np.random.Generator, n_iter: int = 10) -> np.ndarray:
    """k-means++ seeding and a few Lloyd steps: a rough partition to start EM from."""
    n = len(Y)
    centers = [Y[rng.integers(n)]]
    d2 = np.sum((Y - centers[0]) ** 2, axis=1)
    for _ in range(1, K):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1.0 / n)
        centers.append(Y[rng.choice(n, p=p)])
        d2 = np.minimum(d2, np.sum((Y - centers[-1]) ** 2, axis=1))
    C = np.array(centers)
    labels = np.zeros(n, dtype=int)
    for _ in range(n_iter):
        dist = (Y * Y).sum(1)[:, None] - 2.0 * Y @ C.T + (C * C).sum(1)[None, :]
        labels = np.argmin(dist, axis=1)
        for k in range(K):
            members = labels == k
            C[k] = Y[members].mean(axis=0) if members.any() else Y[rng.integers(n)]
    return labels


def _random_start(panel: _Panel, settings: _Settings, rng: np.random.Generator, var_floor: np.ndarray) -> _Params:
    K = settings.K
    N, T, P = panel.X.shape
    Y = panel.X[panel.observed]
    col_mean = np.nanmean(Y, axis=0)
    col_var = np.nanvar(Y, axis=0)
    col_sd = np.where(col_var > 0, np.sqrt(col_var), 1.0)
    Ys = (np.where(np.isnan(Y), col_mean, Y) - col_mean) / col_sd
    labels = _kmeans_labels(Ys, K, rng)
    gamma = np.zeros((N, T, K))
    gamma[panel.observed] = np.eye(K)[labels]
    old = _Params(
        means=np.broadcast_to(col_mean, (1, K, P)).copy(), variances=np.broadcast_to(col_var, (1, K, P)).copy()
    )
    means, variances = _mstep_measurement(panel, gamma, replace(settings, invariant=True), var_floor, old)
    if not settings.invariant:
        means, variances = np.repeat(means, T, axis=0), np.repeat(variances, T, axis=0)
    lab = np.full((N, T), -1)
    lab[panel.observed] = labels
    init = np.bincount(lab[:, 0][lab[:, 0] >= 0], minlength=K) + 1.0
    n_sets = _n_trans_sets(panel, settings)
    trans = np.ones((max(n_sets, 1), K, K))
    for t in range(_n_pairs(panel)):
        both = (lab[:, t] >= 0) & (lab[:, t + 1] >= 0)
        np.add.at(trans[min(t, n_sets - 1)], (lab[both, t], lab[both, t + 1]), 1.0)
    trans /= trans.sum(axis=2, keepdims=True)
    return _Params(
        means=means,
        variances=variances,
        log_init=np.log(init / init.sum()),
        log_trans=np.log(trans[:n_sets]) if n_sets else np.zeros((0, K, K)),
    )


def _fit_starts(
    panel: _Panel,
    settings: _Settings,
    rng: np.random.Generator,
    n_starts: int,
    init_iter: int,
    warm: list[_Params] | None = None,
) -> tuple[_Fit, list[float]]:
    """Best of several starts: every start runs ``init_iter`` EM steps, the best quarter run to convergence."""
    var_floor = _var_floor(panel)
    starts = list(warm or []) + [_random_start(panel, settings, rng, var_floor) for _ in range(n_starts)]
    if len(starts) == 1:
        fit = _em(panel, starts[0], settings, var_floor, settings.max_iter)
        return fit, [fit.loglik]
    short = [_em(panel, s, settings, var_floor, min(init_iter, settings.max_iter)) for s in starts]
    n_final = max(2, math.ceil(len(starts) / 4))
    order = np.argsort([-f.loglik for f in short])[:n_final]
    finals = [_em(panel, short[i].params, settings, var_floor, settings.max_iter) for i in order]
    for i, f in zip(order, finals, strict=True):
        f.history = short[i].history[:-1] + f.history
        f.n_iter += short[i].n_iter
    best = max(finals, key=lambda f: f.loglik)
    return best, sorted((f.loglik for f in finals), reverse=True)


def _to_coef(params: _Params, panel: _Panel, settings: _Settings) -> _Params:
    """Logit coefficients equal to an unconditional solution, covariate slopes zero."""
    K = settings.K
    qi, qt = panel.Zi.shape[1], panel.Zt.shape[1]
    li = np.log(np.clip(np.exp(params.log_init), 1e-8, None))
    init_coef = np.zeros((1 + qi, K))
    init_coef[0] = li - li[0]
    n_sets = _n_trans_sets(panel, settings)
    trans_coef = np.zeros((K, n_sets + qt, K))
    for s in range(n_sets):
        lt = np.log(np.clip(np.exp(params.log_trans[s]), 1e-8, None))
        trans_coef[:, s, :] = lt - np.diag(lt)[:, None]
    return _Params(means=params.means, variances=params.variances, init_coef=init_coef, trans_coef=trans_coef)


def _permute(params: _Params, perm: np.ndarray) -> _Params:
    """The same model with profile ``perm[k]`` renamed ``k``; logits re-referenced to the new profile 1."""
    out = params.copy()
    out.means = params.means[:, perm]
    out.variances = params.variances[:, perm]
    if params.log_init is not None:
        out.log_init = params.log_init[perm]
        out.log_trans = params.log_trans[:, perm][:, :, perm]
    if params.init_coef is not None:
        c = params.init_coef[:, perm]
        out.init_coef = c - c[:, :1]
        out.trans_coef = params.trans_coef[perm][:, :, perm]
    return out


def _marginal(log_pi: np.ndarray, log_A: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sample-averaged initial shares and transitions implied by person-specific ones."""
    pi = np.exp(log_pi)
    A = np.exp(log_A)
    init = pi.mean(axis=0)
    p = np.broadcast_to(pi, (max(pi.shape[0], A.shape[0]), pi.shape[1]))
    trans = []
    for t in range(A.shape[1]):
        At = np.broadcast_to(A[:, t], (p.shape[0], *A.shape[2:]))
        num = np.einsum("nj,njk->jk", p, At)
        trans.append(num / num.sum(axis=1, keepdims=True))
        p = np.einsum("nj,njk->nk", p, At)
    return init, trans


# ----------------------------------------------------------------------------------- scores and info


def _blocks(params: _Params, settings: _Settings) -> list[tuple[str, tuple[int, ...]]]:
    K = settings.K
    blocks = [("means", params.means.shape)]
    if settings.measurement == "EEI":
        blocks.append(("logvar", (params.variances.shape[0], params.variances.shape[2])))
    else:
        blocks.append(("logvar", params.variances.shape))
    blocks.append(("init", (params.init_coef.shape[0], K - 1)))
    blocks.append(("trans", (K, params.trans_coef.shape[1], K - 1)))
    return blocks


def _pack(params: _Params, settings: _Settings) -> np.ndarray:
    K = settings.K
    logvar = np.log(params.variances)
    if settings.measurement == "EEI":
        logvar = logvar[:, 0, :]
    trans = np.stack([np.delete(params.trans_coef[j], j, axis=1) for j in range(K)])
    return np.concatenate([params.means.ravel(), logvar.ravel(), params.init_coef[:, 1:].ravel(), trans.ravel()])


def _unpack(theta: np.ndarray, template: _Params, settings: _Settings) -> _Params:
    K = settings.K
    out = template.copy()
    pos = 0
    sizes = {name: int(np.prod(shape)) for name, shape in _blocks(template, settings)}
    shapes = dict(_blocks(template, settings))
    vals = {}
    for name, _ in _blocks(template, settings):
        vals[name] = theta[pos : pos + sizes[name]].reshape(shapes[name])
        pos += sizes[name]
    out.means = vals["means"].copy()
    lv = vals["logvar"]
    if settings.measurement == "EEI":
        lv = np.broadcast_to(lv[:, None, :], template.variances.shape)
    out.variances = np.exp(lv)
    out.init_coef = np.hstack([np.zeros((template.init_coef.shape[0], 1)), vals["init"]])
    tc = np.zeros_like(template.trans_coef)
    for j in range(K):
        free = [k for k in range(K) if k != j]
        tc[j][:, free] = vals["trans"][j]
    out.trans_coef = tc
    return out


def _scores(panel: _Panel, params: _Params, settings: _Settings) -> tuple[np.ndarray, float]:
    """Per-participant score vectors (N x n_theta) by Fisher's identity, and the log-likelihood."""
    K = settings.K
    N, T, P = panel.X.shape
    logB = _log_emission(panel, params.means, params.variances)
    log_pi, log_A = _structural(params, panel)
    ll, gamma, xi = _forward_backward(logB, log_pi, log_A)
    Tm = params.means.shape[0]
    s_mu = np.zeros((N, Tm, K, P))
    s_lv = np.zeros((N, Tm, K, P))
    for t in range(T):
        tm = t if Tm > 1 else 0
        mu, var = params.means[tm], params.variances[tm]
        dev = panel.X0[:, t, None, :] - mu[None]
        gm = gamma[:, t, :, None] * panel.M[:, t, None, :]
        s_mu[:, tm] += gm * dev / var[None]
        s_lv[:, tm] += gm * (0.5 * dev * dev / var[None] - 0.5)
    if settings.measurement == "EEI":
        s_lv = s_lv.sum(axis=2)
    Z1 = np.hstack([np.ones((N, 1)), panel.Zi])
    pi = np.exp(log_pi)
    s_init = Z1[:, :, None] * (gamma[:, 0, None, 1:] - pi[:, None, 1:])
    n_pairs = _n_pairs(panel)
    n_sets = params.trans_coef.shape[1] - panel.Zt.shape[1]
    s_trans = np.zeros((N, K, params.trans_coef.shape[1], K - 1))
    A = np.exp(log_A)
    for t in range(n_pairs):
        D = _trans_design(panel, t, n_sets)
        for j in range(K):
            free = [k for k in range(K) if k != j]
            resid = xi[:, t, j, free] - gamma[:, t, j, None] * A[:, t, j, free]
            s_trans[:, j] += D[:, :, None] * resid[:, None, :]
    S = np.hstack([s_mu.reshape(N, -1), s_lv.reshape(N, -1), s_init.reshape(N, -1), s_trans.reshape(N, -1)])
    return S, float(ll.sum())


def _observed_information(panel: _Panel, params: _Params, settings: _Settings, rel_step: float = 1e-5) -> np.ndarray:
    """Minus the Hessian of the log-likelihood by central differences of the analytic score."""
    theta = _pack(params, settings)
    n = len(theta)
    H = np.empty((n, n))
    for i in range(n):
        h = rel_step * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        g_up = _scores(panel, _unpack(up, params, settings), settings)[0].sum(axis=0)
        g_down = _scores(panel, _unpack(down, params, settings), settings)[0].sum(axis=0)
        H[:, i] = (g_up - g_down) / (2.0 * h)
    return -(H + H.T) / 2.0


# --------------------------------------------------------------------------------------------- results


def match_profiles(means: np.ndarray, reference: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """Match profiles to reference profiles by their means (Hungarian algorithm on squared distances).

    Parameters
    ----------
    means : ndarray of shape (K, P)
        Profile means to relabel.
    reference : ndarray of shape (K, P)
        Reference profile means (for example the original solution or the planted truth).
    scale : ndarray of shape (P,), optional
        Indicator standard deviations to standardise distances by.

    Returns
    -------
    ndarray of shape (K,)
        ``perm`` such that ``means[perm[k]]`` is the profile matched to reference profile ``k``.
    """
    means = np.asarray(means, dtype=float)
    reference = np.asarray(reference, dtype=float)
    s = np.ones(means.shape[1]) if scale is None else np.asarray(scale, dtype=float)
    cost = (((reference[:, None, :] - means[None, :, :]) / s) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=int)
    perm[rows] = cols
    return perm


def _pair_labels(waves: list) -> list[str]:
    return [f"{a}->{b}" for a, b in itertools.pairwise(waves)]


def _transitions_long(waves: list, transitions: list[np.ndarray], value: str = "probability") -> pd.DataFrame:
    rows = []
    for t, A in enumerate(transitions):
        K = A.shape[0]
        for j in range(K):
            for k in range(K):
                rows.append(
                    {
                        "from_wave": waves[t],
                        "to_wave": waves[t + 1],
                        "from_profile": j + 1,
                        "to_profile": k + 1,
                        value: float(A[j, k]),
                    }
                )
    return pd.DataFrame(rows, columns=["from_wave", "to_wave", "from_profile", "to_profile", value])


def _matrix_text(A: np.ndarray, digits: int = 3) -> str:
    K = A.shape[0]
    frame = pd.DataFrame(A, index=[f"from {j + 1}" for j in range(K)], columns=[f"to {k + 1}" for k in range(K)])
    return frame.round(digits).to_string()


@dataclass
class TransitionResult:
    """Initial shares and transition matrices from the three-step or the naive method.

    Attributes
    ----------
    method : str
        ``"naive"``, ``"ML"`` or ``"BCH"``.
    waves : list
        Wave labels in order.
    initial : ndarray of shape (K,)
        Profile shares at the first wave.
    transitions : list of ndarray of shape (K, K)
        Row-stochastic transition matrix per consecutive wave pair.
    means : ndarray
        Step-1 profile means, (K, P) when pooled or (T, K, P) per wave.
    entropy : float
        Relative entropy of the step-1 classification.
    classification_error : ndarray or None
        ``D[k, s] = P(assigned s | true k)``, (K, K) pooled or (T, K, K) per wave; ``None`` for naive.
    counts : list of ndarray or None
        Cross-tabulated (naive) or BCH-weighted counts per wave pair.
    n_participants : int
        Participants in the data.
    naive : TransitionResult or None
        The naive table from the same step-1 classification (three-step results only).
    """

    method: str
    waves: list
    initial: np.ndarray
    transitions: list[np.ndarray]
    means: np.ndarray
    entropy: float
    classification_error: np.ndarray | None = None
    counts: list[np.ndarray] | None = None
    n_participants: int = 0
    naive: TransitionResult | None = None

    def stability(self) -> np.ndarray:
        """Mean probability of staying in the same profile, per wave pair."""
        return np.array([float(np.mean(np.diag(A))) for A in self.transitions])

    def transitions_frame(self) -> pd.DataFrame:
        """Transition probabilities in long form: from_wave, to_wave, from_profile, to_profile, probability."""
        return _transitions_long(self.waves, self.transitions)

    def to_frame(self) -> pd.DataFrame:
        """Initial shares and transitions in one tidy frame (``parameter`` is ``initial`` or ``transition``)."""
        init = pd.DataFrame(
            {
                "parameter": "initial",
                "from_wave": self.waves[0],
                "to_wave": None,
                "from_profile": None,
                "to_profile": np.arange(1, len(self.initial) + 1),
                "probability": self.initial,
            }
        )
        trans = self.transitions_frame().assign(parameter="transition")
        out = pd.concat([init, trans[init.columns]], ignore_index=True)
        return out.astype({"from_profile": "Int64", "to_profile": "Int64"})

    def summary(self) -> str:
        """Plain-text report: method, step-1 entropy, initial shares and transition matrices."""
        lines = [
            f"Transitions by the {self.method} method ({self.n_participants} participants, {len(self.waves)} waves)",
            f"Step-1 relative entropy: {self.entropy:.3f}",
            "Initial shares: " + ", ".join(f"{k + 1}: {p:.3f}" for k, p in enumerate(self.initial)),
        ]
        for label, A in zip(_pair_labels(self.waves), self.transitions, strict=True):
            lines += ["", f"Transitions {label}", _matrix_text(A)]
        return "\n".join(lines)


@dataclass
class InvarianceTestResult:
    """Likelihood-ratio test of measurement invariance over waves.

    Attributes
    ----------
    chi2, df, p_value : float, int, float
        ``2 (loglik_free - loglik_invariant)``, the difference in free parameters, and the chi-square p-value.
    loglik_invariant, loglik_free : float
        Maximised log-likelihoods of the invariant and the wave-specific measurement model.
    n_parameters_invariant, n_parameters_free : int
        Free parameters of each model.
    bic_invariant, bic_free : float
        BIC of each model.
    """

    chi2: float
    df: int
    p_value: float
    loglik_invariant: float
    loglik_free: float
    n_parameters_invariant: int
    n_parameters_free: int
    bic_invariant: float
    bic_free: float

    def to_frame(self) -> pd.DataFrame:
        """One row per model with loglik, parameters and BIC, and the test in the free model's row."""
        return pd.DataFrame(
            {
                "model": ["invariant", "wave-specific"],
                "loglik": [self.loglik_invariant, self.loglik_free],
                "n_parameters": [self.n_parameters_invariant, self.n_parameters_free],
                "bic": [self.bic_invariant, self.bic_free],
                "chi2": [np.nan, self.chi2],
                "df": [np.nan, self.df],
                "p_value": [np.nan, self.p_value],
            }
        )

    def summary(self) -> str:
        """One-paragraph report of the test."""
        return (
            "Likelihood-ratio test of measurement invariance over waves\n"
            f"  invariant:     loglik {self.loglik_invariant:.3f}, {self.n_parameters_invariant} parameters, "
            f"BIC {self.bic_invariant:.1f}\n"
            f"  wave-specific: loglik {self.loglik_free:.3f}, {self.n_parameters_free} parameters, "
            f"BIC {self.bic_free:.1f}\n"
            f"  chi2({self.df}) = {self.chi2:.3f}, p = {self.p_value:.4g}"
        )


@dataclass
class BootstrapResult:
    """Nonparametric bootstrap over participants of initial shares and transition matrices.

    Attributes
    ----------
    initial : ndarray of shape (B, K)
        Initial shares per successful draw, relabelled to the original solution.
    transitions : ndarray of shape (B, T-1, K, K)
        Transition matrices per successful draw, relabelled.
    initial_ci, transitions_ci : ndarray
        Percentile limits, shapes (K, 2) and (T-1, K, K, 2).
    alpha : float
        One minus the confidence level.
    n_relabelled : int
        Draws whose profiles were permuted to match the original solution (label switching).
    estimate_initial, estimate_transitions : ndarray
        The original estimates.
    waves : list
        Wave labels.
    """

    initial: np.ndarray
    transitions: np.ndarray
    initial_ci: np.ndarray
    transitions_ci: np.ndarray
    alpha: float
    n_relabelled: int
    estimate_initial: np.ndarray
    estimate_transitions: np.ndarray
    waves: list

    @property
    def n_boot(self) -> int:
        return int(self.initial.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """Estimates, bootstrap standard errors and percentile limits in one tidy frame."""
        K = self.initial.shape[1]
        rows = []
        for k in range(K):
            rows.append(
                {
                    "parameter": "initial",
                    "from_wave": self.waves[0],
                    "to_wave": None,
                    "from_profile": None,
                    "to_profile": k + 1,
                    "estimate": float(self.estimate_initial[k]),
                    "se": float(np.std(self.initial[:, k], ddof=1)) if self.n_boot > 1 else np.nan,
                    "ci_lower": float(self.initial_ci[k, 0]),
                    "ci_upper": float(self.initial_ci[k, 1]),
                }
            )
        for t in range(self.transitions.shape[1]):
            for j in range(K):
                for k in range(K):
                    draws = self.transitions[:, t, j, k]
                    rows.append(
                        {
                            "parameter": "transition",
                            "from_wave": self.waves[t],
                            "to_wave": self.waves[t + 1],
                            "from_profile": j + 1,
                            "to_profile": k + 1,
                            "estimate": float(self.estimate_transitions[t, j, k]),
                            "se": float(np.std(draws, ddof=1)) if self.n_boot > 1 else np.nan,
                            "ci_lower": float(self.transitions_ci[t, j, k, 0]),
                            "ci_upper": float(self.transitions_ci[t, j, k, 1]),
                        }
                    )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text table of estimates with percentile intervals."""
        level = 100 * (1 - self.alpha)
        head = f"Bootstrap ({self.n_boot} draws, {level:.0f}% percentile intervals; {self.n_relabelled} relabelled)"
        return head + "\n" + self.to_frame().round(3).to_string(index=False)


# ----------------------------------------------------------------------------------------------- model


class LatentTransitionModel:
    """Latent transition analysis: a latent Markov model with a Gaussian latent profile measurement model.

    Parameters
    ----------
    n_profiles : int
        Number of latent profiles ``K``.
    n_starts : int, default 20
        Random starts (k-means++ partitions). Each runs ``init_iter`` EM iterations; the best quarter (at
        least two) run to convergence, and the best of those is kept. ``start_logliks_`` shows whether the
        best log-likelihood was replicated.
    max_iter : int, default 1000
        Maximum EM iterations per start.
    tol : float, default 1e-7
        Convergence: stop when the log-likelihood gains less than ``tol`` per participant.
    measurement : {"VVI", "EEI"}, default "VVI"
        ``"VVI"``: profile-specific diagonal variances; ``"EEI"``: diagonal variances equal over profiles.
    invariant : bool, default True
        Hold means and variances equal over waves; ``False`` gives wave-specific profiles.
    homogeneous : bool, default False
        One transition matrix for all wave pairs instead of one per pair.
    covariates_on : {"both", "initial", "transitions"}, default "both"
        Which part of the model the covariates passed to :meth:`fit` act on.
    init_iter : int, default 20
        EM iterations of the first stage of every start.
    random_state : int or numpy.random.Generator, optional
        Seed for the starts and the bootstrap.

    Attributes
    ----------
    initial_ : ndarray of shape (K,)
        Profile shares at the first wave (with covariates: averaged over participants).
    transitions_ : list of ndarray of shape (K, K)
        Transition matrix per consecutive wave pair, rows = origin (with covariates: the sample-averaged
        transition, each participant weighted by the model-implied probability of the origin).
    means_, variances_ : ndarray
        Profile means and variances, (K, P) when invariant, (T, K, P) otherwise.
    loglik_, n_parameters_, bic_, aic_ : float, int, float, float
        Maximised log-likelihood, free parameters, BIC (with the number of participants) and AIC.
    entropy_ : float
        Relative entropy of the smoothed posteriors over the observed participant-waves.
    posterior_ : DataFrame
        ``id``, ``wave``, ``observed`` and ``profile_1..K`` smoothed probabilities (missed waves included,
        predicted from the other waves).
    assignments_ : DataFrame
        ``id``, ``wave``, ``observed``, ``modal`` (largest posterior) and ``viterbi`` (most likely path).
    waves_, indicators_, covariate_terms_ : list
        Wave order, indicator columns, covariate design terms.
    n_participants_, n_observations_ : int
        Participants and observed participant-waves.
    converged_, n_iter_, loglik_trace_ : bool, int, list
        EM diagnostics of the kept solution (the log-likelihood after every iteration of its final run).
    start_logliks_, n_best_starts_ : list, int
        Final log-likelihoods of the starts run to convergence (with covariates: of the unconditional model
        the covariate model starts from), and how many of them reached the best one (within 1e-6
        relative): fewer than two means the best solution was not replicated; add starts.
    init_coef_, trans_coef_ : ndarray or None
        With covariates: logit coefficients, (1 + q, K) with column 0 the reference profile, and
        (K origins, n_sets + q, K) with the origin's own column the reference (staying).
    bootstrap_ : BootstrapResult or None
        Set by :meth:`bootstrap`.

    Notes
    -----
    The likelihood of participant ``i`` is
    ``sum_s pi(s_1) f(x_1|s_1) prod_t A_t(s_t, s_t+1) f(x_t+1|s_t+1)`` with ``f = 1`` for a missed wave,
    computed by the forward algorithm in log space.
    """

    def __init__(
        self,
        n_profiles: int,
        *,
        n_starts: int = 20,
        max_iter: int = 1000,
        tol: float = 1e-7,
        measurement: str = "VVI",
        invariant: bool = True,
        homogeneous: bool = False,
        covariates_on: str = "both",
        init_iter: int = 20,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_profiles = n_profiles
        self.n_starts = n_starts
        self.max_iter = max_iter
        self.tol = tol
        self.measurement = measurement
        self.invariant = invariant
        self.homogeneous = homogeneous
        self.covariates_on = covariates_on
        self.init_iter = init_iter
        self.random_state = random_state

    # ------------------------------------------------------------------ plumbing

    def _settings(self, **overrides: Any) -> _Settings:
        if self.measurement not in MEASUREMENTS:
            raise ValueError(f"measurement must be one of {MEASUREMENTS}")
        if self.covariates_on not in COVARIATE_TARGETS:
            raise ValueError(f"covariates_on must be one of {COVARIATE_TARGETS}")
        if int(self.n_profiles) < 1:
            raise ValueError("n_profiles must be at least 1")
        base = _Settings(
            K=int(self.n_profiles),
            measurement=self.measurement,
            invariant=bool(self.invariant),
            homogeneous=bool(self.homogeneous),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
        )
        return replace(base, **overrides)

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_state)

    def _check_fitted(self) -> None:
        if not hasattr(self, "_params"):
            raise RuntimeError("this LatentTransitionModel is not fitted yet; call fit first")

    def _panel_for(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        id_col: str | None = None,
        wave_col: str | None = None,
        waves: list | None = None,
        covariate_data: pd.DataFrame | None = None,
        with_covariates: bool = True,
    ) -> _Panel:
        fitted = hasattr(self, "_params")
        spec = getattr(self, "_spec", None) if with_covariates else None
        panel, _ = _prepare(
            data,
            indicators=indicators if indicators is not None else (self.indicators_ if fitted else None),
            id_col=id_col or (self.id_col_ if fitted else "id"),
            wave_col=wave_col or (self.wave_col_ if fitted else "wave"),
            waves=waves if waves is not None else (self.waves_ if fitted else None),
            covariates=spec.columns if spec is not None else None,
            covariate_data=covariate_data,
            covariates_on=self.covariates_on,
            spec=spec,
        )
        return panel

    def _n_parameters(self, params: _Params, panel: _Panel, settings: _Settings) -> int:
        K = settings.K
        Tm, _, P = params.means.shape
        n = Tm * K * P + (Tm * K * P if settings.measurement == "VVI" else Tm * P)
        n += (K - 1) * (1 + panel.Zi.shape[1])
        if _n_pairs(panel):
            n += K * (K - 1) * (_n_trans_sets(panel, settings) + panel.Zt.shape[1])
        return int(n)

    def _set_fitted(self, panel: _Panel, settings: _Settings, fit: _Fit, start_logliks: list[float]) -> None:
        params = fit.params
        self._params = params
        self._panel = panel
        self._settings_ = settings
        self.waves_ = list(panel.waves)
        self.indicators_ = list(panel.indicators)
        self.n_participants_ = panel.n
        self.n_observations_ = int(panel.observed.sum())
        log_pi, log_A = _structural(params, panel)
        self.initial_, self.transitions_ = _marginal(log_pi, log_A)
        self.means_ = params.means[0].copy() if settings.invariant else params.means.copy()
        self.variances_ = params.variances[0].copy() if settings.invariant else params.variances.copy()
        self.init_coef_ = None if params.init_coef is None else params.init_coef.copy()
        self.trans_coef_ = None if params.trans_coef is None else params.trans_coef.copy()
        self.loglik_ = float(fit.loglik)
        self.n_parameters_ = self._n_parameters(params, panel, settings)
        self.bic_ = -2.0 * self.loglik_ + self.n_parameters_ * math.log(panel.n)
        self.aic_ = -2.0 * self.loglik_ + 2.0 * self.n_parameters_
        self.converged_ = bool(fit.converged)
        self.n_iter_ = int(fit.n_iter)
        self.loglik_trace_ = list(fit.history)
        self.start_logliks_ = list(start_logliks)
        best = max(start_logliks)
        self.n_best_starts_ = int(sum(best - ll < 1e-6 * max(1.0, abs(best)) for ll in start_logliks))
        logB = _log_emission(panel, params.means, params.variances)
        _, gamma, _ = _forward_backward(logB, log_pi, log_A)
        self.entropy_ = _relative_entropy(gamma[panel.observed])
        self.posterior_ = self._posterior_frame(panel, gamma)
        self.assignments_ = self._assignment_frame(panel, gamma, _viterbi(logB, log_pi, log_A))
        self.bootstrap_ = None
        self._information = None

    def _posterior_frame(self, panel: _Panel, gamma: np.ndarray) -> pd.DataFrame:
        N, T, K = gamma.shape
        frame = pd.DataFrame(
            {
                "id": np.repeat(panel.ids, T),
                "wave": np.tile(np.asarray(panel.waves, dtype=object), N),
                "observed": panel.observed.reshape(-1),
            }
        )
        probs = pd.DataFrame(gamma.reshape(N * T, K), columns=[f"profile_{k + 1}" for k in range(K)])
        return pd.concat([frame, probs], axis=1)

    def _assignment_frame(self, panel: _Panel, gamma: np.ndarray, path: np.ndarray) -> pd.DataFrame:
        N, T, _ = gamma.shape
        return pd.DataFrame(
            {
                "id": np.repeat(panel.ids, T),
                "wave": np.tile(np.asarray(panel.waves, dtype=object), N),
                "observed": panel.observed.reshape(-1),
                "modal": gamma.argmax(axis=2).reshape(-1) + 1,
                "viterbi": path.reshape(-1) + 1,
            }
        )

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        *,
        covariates: list[str] | None = None,
        covariate_data: pd.DataFrame | None = None,
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list | None = None,
    ) -> LatentTransitionModel:
        """Fit the model by EM from several random starts.

        Parameters
        ----------
        data : DataFrame
            Long format: one row per participant and wave that was observed, with ``id_col``, ``wave_col``
            and the indicator columns. Missing indicators are NaN; a missed wave has no row.
        indicators : list of str, optional
            Indicator columns; by default every numeric column other than id, wave and covariates.
        covariates : list of str, optional
            Participant-level covariates (constant within id in ``data``, or columns of ``covariate_data``).
            Numeric and boolean columns enter as they are; other columns are dummy coded with their first
            level (sorted, or the categorical order) as reference. Participants with a missing covariate
            raise an error.
        covariate_data : DataFrame, optional
            One row per participant (indexed by id, or with an ``id_col`` column) holding the covariates.
        id_col, wave_col : str
            Names of the participant and wave columns.
        waves : list, optional
            Wave labels in order; by default the sorted distinct values of ``wave_col``.

        Returns
        -------
        LatentTransitionModel
            The fitted model (``self``).
        """
        settings = self._settings()
        panel, spec = _prepare(
            data,
            indicators=indicators,
            id_col=id_col,
            wave_col=wave_col,
            waves=waves,
            covariates=covariates,
            covariate_data=covariate_data,
            covariates_on=self.covariates_on,
        )
        self._spec = spec
        self.id_col_ = id_col
        self.wave_col_ = wave_col
        self.covariate_terms_ = [] if spec is None else list(spec.terms)
        rng = self._rng()
        has_cov = panel.Zi.shape[1] + panel.Zt.shape[1] > 0
        if has_cov:
            # Unconditional model first (the covariates do not enter the starts), then the covariate model
            # from its solution with zero slopes.
            bare = replace(panel, Zi=np.zeros((panel.n, 0)), Zt=np.zeros((panel.n, 0)))
            base, base_logliks = _fit_starts(bare, settings, rng, max(int(self.n_starts), 1), int(self.init_iter))
            start = _to_coef(base.params, panel, settings)
            fit = _em(panel, start, settings, _var_floor(panel), settings.max_iter)
            logliks = base_logliks
        else:
            fit, logliks = _fit_starts(panel, settings, rng, max(int(self.n_starts), 1), int(self.init_iter))
        self._set_fitted(panel, settings, fit, logliks)
        return self

    @classmethod
    def from_parameters(
        cls,
        initial: np.ndarray,
        transitions: list[np.ndarray] | np.ndarray,
        means: np.ndarray,
        variances: np.ndarray,
        *,
        waves: list | None = None,
        indicators: list[str] | None = None,
        measurement: str = "VVI",
    ) -> LatentTransitionModel:
        """A model with given parameters, for scoring and posteriors (no covariates).

        Parameters
        ----------
        initial : array of shape (K,)
            Initial profile shares.
        transitions : sequence of arrays of shape (K, K)
            One transition matrix per consecutive wave pair.
        means, variances : array of shape (K, P) or (T, K, P)
            Profile means and diagonal variances, invariant or per wave.
        waves : list, optional
            Wave labels; default ``0..T-1``.
        indicators : list of str, optional
            Indicator columns; default ``x1..xP``.
        measurement : {"VVI", "EEI"}
            Recorded for the parameter count.

        Returns
        -------
        LatentTransitionModel
            A model usable with :meth:`score`, :meth:`score_samples`, :meth:`predict_proba` and
            :meth:`predict`.
        """
        initial = np.asarray(initial, dtype=float)
        trans = np.asarray(transitions, dtype=float)
        means = np.asarray(means, dtype=float)
        variances = np.asarray(variances, dtype=float)
        invariant = means.ndim == 2
        K = len(initial)
        n_waves = trans.shape[0] + 1
        model = cls(K, measurement=measurement, invariant=invariant)
        model._spec = None
        model.id_col_, model.wave_col_ = "id", "wave"
        model.waves_ = list(waves) if waves is not None else list(range(n_waves))
        P = means.shape[-1]
        model.indicators_ = list(indicators) if indicators is not None else [f"x{j + 1}" for j in range(P)]
        model.covariate_terms_ = []
        model._params = _Params(
            means=means[None] if invariant else means,
            variances=variances[None] if invariant else variances,
            log_init=_safe_log(initial),
            log_trans=_safe_log(trans),
        )
        model._settings_ = model._settings()
        model.initial_, model.transitions_ = initial, list(trans)
        model.means_, model.variances_ = means, variances
        return model

    def relabel(self, order: list[int] | np.ndarray) -> LatentTransitionModel:
        """Renumber the profiles, for example to follow a published table or a simulation's truth.

        The likelihood is unchanged; initial logits are re-referenced to the new profile 1; a stored
        bootstrap is dropped (run it again).

        Parameters
        ----------
        order : sequence of int
            ``order[k]`` is the current number (1-based) of the profile that becomes profile ``k + 1``.

        Returns
        -------
        LatentTransitionModel
            ``self``, relabelled.
        """
        self._check_fitted()
        perm = np.asarray(order, dtype=int) - 1
        if sorted(perm.tolist()) != list(range(int(self.n_profiles))):
            raise ValueError("order must be a permutation of 1..K")
        params = _permute(self._params, perm)
        if not hasattr(self, "_panel"):
            self._params = params
            self.initial_ = np.asarray(self.initial_)[perm]
            self.transitions_ = [np.asarray(A)[np.ix_(perm, perm)] for A in self.transitions_]
            self.means_ = params.means[0] if self.invariant else params.means
            self.variances_ = params.variances[0] if self.invariant else params.variances
            return self
        fit = _Fit(
            params=params,
            loglik=self.loglik_,
            history=self.loglik_trace_,
            converged=self.converged_,
            n_iter=self.n_iter_,
        )
        self._set_fitted(self._panel, self._settings_, fit, self.start_logliks_)
        return self

    # ------------------------------------------------------------------ prediction

    def _estep_on(self, data: pd.DataFrame | None, **kw: Any):
        self._check_fitted()
        if data is None and not hasattr(self, "_panel"):
            raise ValueError("this model was not fitted on data; pass data")
        panel = self._panel if data is None else self._panel_for(data, **kw)
        params = self._params
        logB = _log_emission(panel, params.means, params.variances)
        log_pi, log_A = _structural(params, panel)
        return panel, logB, log_pi, log_A

    def score_samples(
        self,
        data: pd.DataFrame | None = None,
        *,
        indicators: list[str] | None = None,
        id_col: str | None = None,
        wave_col: str | None = None,
        waves: list | None = None,
        covariate_data: pd.DataFrame | None = None,
    ) -> pd.Series:
        """Log-likelihood of each participant under the fitted parameters.

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`; default the data the model was fitted on.
        indicators, id_col, wave_col, waves, covariate_data
            As for :meth:`fit`; default the fitted ones.

        Returns
        -------
        Series
            Log-likelihood indexed by participant id.
        """
        kw = dict(indicators=indicators, id_col=id_col, wave_col=wave_col, waves=waves, covariate_data=covariate_data)
        panel, logB, log_pi, log_A = self._estep_on(data, **kw)
        ll, _, _ = _forward_backward(logB, log_pi, log_A)
        return pd.Series(ll, index=pd.Index(panel.ids, name="id"), name="loglik")

    def score(self, data: pd.DataFrame | None = None, **kwargs: Any) -> float:
        """Total log-likelihood of ``data`` (default: the fitted data) under the fitted parameters.

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`.
        **kwargs
            ``indicators``, ``id_col``, ``wave_col``, ``waves``, ``covariate_data`` as for :meth:`score_samples`.

        Returns
        -------
        float
            Sum of the participants' log-likelihoods.
        """
        return float(self.score_samples(data, **kwargs).sum())

    def predict_proba(self, data: pd.DataFrame | None = None, **kwargs: Any) -> pd.DataFrame:
        """Smoothed profile probabilities per participant and wave (forward-backward).

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`; default the fitted data.
        **kwargs
            ``indicators``, ``id_col``, ``wave_col``, ``waves``, ``covariate_data``.

        Returns
        -------
        DataFrame
            ``id``, ``wave``, ``observed``, ``profile_1..K``.
        """
        panel, logB, log_pi, log_A = self._estep_on(data, **kwargs)
        _, gamma, _ = _forward_backward(logB, log_pi, log_A)
        return self._posterior_frame(panel, gamma)

    def predict(self, data: pd.DataFrame | None = None, method: str = "modal", **kwargs: Any) -> pd.DataFrame:
        """Profile per participant and wave (1..K).

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`; default the fitted data.
        method : {"modal", "viterbi"}
            Largest smoothed posterior per wave, or the most likely profile path.
        **kwargs
            ``indicators``, ``id_col``, ``wave_col``, ``waves``, ``covariate_data``.

        Returns
        -------
        DataFrame
            ``id``, ``wave``, ``observed``, ``profile``.
        """
        if method not in ("modal", "viterbi"):
            raise ValueError("method must be 'modal' or 'viterbi'")
        panel, logB, log_pi, log_A = self._estep_on(data, **kwargs)
        _, gamma, _ = _forward_backward(logB, log_pi, log_A)
        frame = self._assignment_frame(panel, gamma, _viterbi(logB, log_pi, log_A))
        return frame[["id", "wave", "observed"]].assign(profile=frame[method])

    # ------------------------------------------------------------------ covariates

    def _info(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._information is None:
            settings = self._settings_
            info = _observed_information(self._panel, self._params, settings)
            S, _ = _scores(self._panel, self._params, settings)
            try:
                bread = np.linalg.inv(info)
            except np.linalg.LinAlgError:
                bread = np.linalg.pinv(info)
            self._information = (info, bread, bread @ (S.T @ S) @ bread)
        return self._information

    def covariate_effects(self, se: str = "observed", alpha: float = 0.05) -> pd.DataFrame:
        """Logit coefficients of the covariates with standard errors, odds ratios and confidence intervals.

        Parameters
        ----------
        se : {"observed", "robust"}, default "observed"
            ``"observed"``: inverse observed information (minus the Hessian of the full log-likelihood, by
            central differences of the analytic score; measurement parameters included). ``"robust"``: the
            sandwich ``I^-1 (sum_i s_i s_i') I^-1`` with per-participant scores ``s_i``.
        alpha : float, default 0.05
            One minus the confidence level of the intervals.

        Returns
        -------
        DataFrame
            One row per coefficient: ``part`` (``initial``/``transition``), ``from_profile`` (origin, for
            transitions), ``to_profile``, ``term`` (``(intercept)`` per wave pair, or a covariate term),
            ``coef``, ``se``, ``z``, ``p_value``, ``odds_ratio``, ``or_lower``, ``or_upper``. The initial
            logits compare each profile with profile 1; the transition logits compare moving to
            ``to_profile`` with staying in ``from_profile``.
        """
        self._check_fitted()
        if self._params.init_coef is None:
            raise ValueError("the model was fitted without covariates")
        if se not in ("observed", "robust"):
            raise ValueError("se must be 'observed' or 'robust'")
        settings = self._settings_
        _, bread, robust = self._info()
        cov = bread if se == "observed" else robust
        theta = _pack(self._params, settings)
        n_meas = sum(
            int(np.prod(shape)) for name, shape in _blocks(self._params, settings) if name in ("means", "logvar")
        )
        K = settings.K
        panel = self._panel
        qi, qt = panel.Zi.shape[1], panel.Zt.shape[1]
        terms = self.covariate_terms_
        init_terms = ["(intercept)"] + (terms if qi else [])
        n_sets = self._params.trans_coef.shape[1] - qt
        pairs = _pair_labels(self.waves_)
        set_labels = ["(intercept)"] if n_sets == 1 else [f"(intercept) {p}" for p in pairs]
        trans_terms = set_labels + (terms if qt else [])
        rows = []
        pos = n_meas
        for d, term in enumerate(init_terms):
            for k in range(1, K):
                rows.append(("initial", None, k + 1, term, pos + d * (K - 1) + (k - 1)))
        pos += len(init_terms) * (K - 1)
        if _n_pairs(panel):
            for j in range(K):
                free = [k for k in range(K) if k != j]
                for d, term in enumerate(trans_terms):
                    for a, k in enumerate(free):
                        idx = pos + j * len(trans_terms) * (K - 1) + d * (K - 1) + a
                        rows.append(("transition", j + 1, k + 1, term, idx))
        z_crit = stats.norm.ppf(1 - alpha / 2)
        out = []
        for part, origin, dest, term, idx in rows:
            coef = float(theta[idx])
            s = float(math.sqrt(cov[idx, idx])) if cov[idx, idx] > 0 else float("nan")
            z = coef / s if s > 0 else float("nan")
            out.append(
                {
                    "part": part,
                    "from_profile": origin,
                    "to_profile": dest,
                    "term": term,
                    "coef": coef,
                    "se": s,
                    "z": z,
                    "p_value": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
                    "odds_ratio": math.exp(coef),
                    "or_lower": math.exp(coef - z_crit * s) if np.isfinite(s) else float("nan"),
                    "or_upper": math.exp(coef + z_crit * s) if np.isfinite(s) else float("nan"),
                }
            )
        return pd.DataFrame(out).astype({"from_profile": "Int64"})

    # ------------------------------------------------------------------ inference

    def bootstrap(
        self,
        n_boot: int = 200,
        *,
        alpha: float = 0.05,
        n_starts: int = 0,
        max_iter: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> BootstrapResult:
        """Percentile confidence intervals of initial shares and transitions by resampling participants.

        Each draw resamples participants with replacement, refits from the original solution (plus
        ``n_starts`` random starts), and relabels the profiles to the original ones by Hungarian matching on
        the standardised means before anything is stored. The result is also kept as ``bootstrap_``, so
        that :meth:`transitions_frame` and :meth:`summary` show the intervals.

        Parameters
        ----------
        n_boot : int, default 200
            Bootstrap draws.
        alpha : float, default 0.05
            One minus the confidence level.
        n_starts : int, default 0
            Random starts per draw besides the original solution.
        max_iter : int, optional
            EM iterations per draw; default the model's ``max_iter``.
        random_state : int or Generator, optional
            Seed of the resampling; default the model's ``random_state``.

        Returns
        -------
        BootstrapResult
            Draws and percentile limits.
        """
        self._check_fitted()
        if not hasattr(self, "_panel"):
            raise RuntimeError("bootstrap needs a model fitted on data")
        settings = self._settings_
        if max_iter is not None:
            settings = replace(settings, max_iter=int(max_iter))
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        panel = self._panel
        ref_means = self._params.means.mean(axis=0)
        scale = np.sqrt(_var_floor(panel) / 1e-6)
        inits, transes = [], []
        n_relabelled = 0
        for _ in range(int(n_boot)):
            sub = panel.take(rng.integers(0, panel.n, panel.n))
            if self._params.has_coef:
                fit = _em(sub, self._params, settings, _var_floor(sub), settings.max_iter)
            else:
                fit, _ = _fit_starts(sub, settings, rng, int(n_starts), int(self.init_iter), warm=[self._params])
            perm = match_profiles(fit.params.means.mean(axis=0), ref_means, scale)
            n_relabelled += int(np.any(perm != np.arange(len(perm))))
            log_pi, log_A = _structural(fit.params, sub)
            init, trans = _marginal(log_pi, log_A)
            inits.append(init[perm])
            transes.append(np.stack([A[np.ix_(perm, perm)] for A in trans]))
        init_draws = np.array(inits)
        trans_draws = np.array(transes)
        q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
        result = BootstrapResult(
            initial=init_draws,
            transitions=trans_draws,
            initial_ci=np.moveaxis(np.percentile(init_draws, q, axis=0), 0, -1),
            transitions_ci=np.moveaxis(np.percentile(trans_draws, q, axis=0), 0, -1),
            alpha=alpha,
            n_relabelled=n_relabelled,
            estimate_initial=np.asarray(self.initial_),
            estimate_transitions=np.stack(self.transitions_),
            waves=self.waves_,
        )
        self.bootstrap_ = result
        return result

    def invariance_test(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        *,
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list | None = None,
    ) -> InvarianceTestResult:
        """Likelihood-ratio test of measurement invariance: invariant versus wave-specific means and variances.

        Both models are fitted without covariates with this model's settings. The wave-specific model starts
        from the invariant solution (so its log-likelihood is at least as large) and from the random starts.

        Parameters
        ----------
        data : DataFrame
            Long data as for :meth:`fit`.
        indicators, id_col, wave_col, waves
            As for :meth:`fit`.

        Returns
        -------
        InvarianceTestResult
            ``chi2 = 2 (loglik_free - loglik_invariant)`` on ``df`` = the difference in free parameters.
        """
        panel, _ = _prepare(data, indicators=indicators, id_col=id_col, wave_col=wave_col, waves=waves)
        if panel.n_waves < 2:
            raise ValueError("the invariance test needs at least two waves")
        rng = self._rng()
        n_starts, init_iter = max(int(self.n_starts), 1), int(self.init_iter)
        s_inv = self._settings(invariant=True)
        s_free = self._settings(invariant=False)
        inv, _ = _fit_starts(panel, s_inv, rng, n_starts, init_iter)
        T = panel.n_waves
        warm = inv.params.copy()
        warm.means = np.repeat(warm.means, T, axis=0)
        warm.variances = np.repeat(warm.variances, T, axis=0)
        free, _ = _fit_starts(panel, s_free, rng, n_starts, init_iter, warm=[warm])
        if free.loglik < inv.loglik:  # the wave-specific model nests the invariant one
            free = _em(panel, warm, s_free, _var_floor(panel), s_free.max_iter)
        k_inv = self._n_parameters(inv.params, panel, s_inv)
        k_free = self._n_parameters(free.params, panel, s_free)
        chi2 = max(2.0 * (free.loglik - inv.loglik), 0.0)
        df = k_free - k_inv
        log_n = math.log(panel.n)
        return InvarianceTestResult(
            chi2=chi2,
            df=df,
            p_value=float(stats.chi2.sf(chi2, df)),
            loglik_invariant=inv.loglik,
            loglik_free=free.loglik,
            n_parameters_invariant=k_inv,
            n_parameters_free=k_free,
            bic_invariant=-2 * inv.loglik + k_inv * log_n,
            bic_free=-2 * free.loglik + k_free * log_n,
        )

    # ------------------------------------------------------------------ three-step and naive

    def _step1(
        self, panel: _Panel, step1: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
        """Mixture per wave or pooled: (posteriors (N, T, K), assigned (N, T; -1 missing), D, means, entropy)."""
        if step1 not in ("pooled", "per_wave"):
            raise ValueError("step1 must be 'pooled' or 'per_wave'")
        K = int(self.n_profiles)
        N, T, _ = panel.X.shape
        rng = self._rng()
        settings = self._settings(invariant=True)
        n_starts, init_iter = max(int(self.n_starts), 1), int(self.init_iter)
        post = np.zeros((N, T, K))

        def mixture(rows: np.ndarray) -> _Fit:
            sub = _Panel(
                ids=np.arange(len(rows)),
                waves=[0],
                indicators=panel.indicators,
                X=rows[:, None, :],
                Zi=np.zeros((len(rows), 0)),
                Zt=np.zeros((len(rows), 0)),
            )
            fit, _ = _fit_starts(sub, settings, rng, n_starts, init_iter)
            _, gamma, _ = _estep(sub, fit.params)
            return fit, gamma[:, 0]

        if step1 == "pooled":
            fit, gamma = mixture(panel.X[panel.observed])
            post[panel.observed] = gamma
            means = fit.params.means[0]
            assigned = np.full((N, T), -1)
            assigned[panel.observed] = gamma.argmax(axis=1)
            D = self._error_matrix(gamma, gamma.argmax(axis=1), K)
            entropy = _relative_entropy(gamma)
        else:
            means_t, D_t = [], []
            assigned = np.full((N, T), -1)
            scale = np.sqrt(_var_floor(panel) / 1e-6)
            for t in range(T):
                obs = panel.observed[:, t]
                fit, gamma = mixture(panel.X[obs, t])
                m = fit.params.means[0]
                if t > 0:
                    perm = match_profiles(m, means_t[0], scale)
                    m, gamma = m[perm], gamma[:, perm]
                post[obs, t] = gamma
                assigned[obs, t] = gamma.argmax(axis=1)
                means_t.append(m)
                D_t.append(self._error_matrix(gamma, gamma.argmax(axis=1), K))
            means, D = np.stack(means_t), np.stack(D_t)
            entropy = _relative_entropy(post[panel.observed])
        return post, assigned, D, means, entropy

    @staticmethod
    def _error_matrix(gamma: np.ndarray, assigned: np.ndarray, K: int) -> np.ndarray:
        """``D[k, s] = P(assigned s | true k)`` from posteriors (Vermunt 2010, eq. 6)."""
        num = gamma.T @ np.eye(K)[assigned]
        tot = gamma.sum(axis=0)[:, None]
        return np.where(tot > 0, num / np.where(tot > 0, tot, 1.0), np.eye(K))

    @staticmethod
    def _naive_from(assigned: np.ndarray, K: int) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        T = assigned.shape[1]
        first = assigned[:, 0][assigned[:, 0] >= 0]
        initial = np.bincount(first, minlength=K) / max(len(first), 1)
        trans, counts = [], []
        for t in range(T - 1):
            both = (assigned[:, t] >= 0) & (assigned[:, t + 1] >= 0)
            C = np.zeros((K, K))
            np.add.at(C, (assigned[both, t], assigned[both, t + 1]), 1.0)
            rows = C.sum(axis=1, keepdims=True)
            trans.append(np.where(rows > 0, C / np.where(rows > 0, rows, 1.0), np.nan))
            counts.append(C)
        return initial, trans, counts

    def naive_transitions(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        *,
        step1: str = "pooled",
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list | None = None,
    ) -> TransitionResult:
        """The naive table: classify each wave by modal assignment, cross-tabulate consecutive waves.

        Classification error makes this table overstate change (it pulls the diagonal down); it is here to
        show by how much. Participants observed at both waves of a pair enter that pair's table.

        Parameters
        ----------
        data : DataFrame
            Long data as for :meth:`fit`.
        indicators, id_col, wave_col, waves
            As for :meth:`fit`.
        step1 : {"pooled", "per_wave"}, default "pooled"
            One Gaussian mixture on all participant-waves (profiles equal over waves), or one per wave with
            profiles matched to wave 1 by their means.

        Returns
        -------
        TransitionResult
            Row-normalised cross-tabulations (``method="naive"``).
        """
        panel, _ = _prepare(data, indicators=indicators, id_col=id_col, wave_col=wave_col, waves=waves)
        _, assigned, _, means, entropy = self._step1(panel, step1)
        initial, trans, counts = self._naive_from(assigned, int(self.n_profiles))
        return TransitionResult(
            method="naive",
            waves=panel.waves,
            initial=initial,
            transitions=trans,
            means=means,
            entropy=entropy,
            counts=counts,
            n_participants=panel.n,
        )

    def three_step(
        self,
        data: pd.DataFrame,
        method: str = "ML",
        indicators: list[str] | None = None,
        *,
        step1: str = "pooled",
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list | None = None,
    ) -> TransitionResult:
        """Three-step latent transition estimates corrected for classification error.

        Step 1 fits a diagonal Gaussian mixture (pooled over waves, or per wave); step 2 assigns each
        participant-wave to its modal profile and computes ``D[k, s] = P(assigned s | true k)``; step 3
        estimates initial shares and transitions of the true profiles.

        ``method="ML"`` (Vermunt 2010): a latent Markov model with the assigned profile as single indicator
        whose error probabilities are fixed at ``D``, estimated by EM; missed waves by full information.
        ``method="BCH"`` (Bolck, Croon & Hagenaars 2004; Vermunt 2010): weights ``W = D^-1``; the weighted
        count of a pair of waves is ``sum_i W[s_it, :]' W[s_it+1, :]`` over the participants observed at both
        waves (errors are independent over waves given the profiles). Negative cells of the weighted counts
        (possible with BCH) are set to zero before the rows are normalised.

        The step-1 mixture uses this model's ``n_profiles``, ``measurement``, ``n_starts`` and
        ``random_state``; the three-step estimators here take no covariates and give no standard errors
        (use :meth:`fit` with covariates, or bootstrap the whole procedure).

        Parameters
        ----------
        data : DataFrame
            Long data as for :meth:`fit`.
        method : {"ML", "BCH"}, default "ML"
            Correction method.
        indicators, id_col, wave_col, waves
            As for :meth:`fit`.
        step1 : {"pooled", "per_wave"}, default "pooled"
            Step-1 mixture on all participant-waves, or per wave with profiles matched to wave 1.

        Returns
        -------
        TransitionResult
            Corrected estimates, with the naive table from the same classification as ``naive``.
        """
        if method not in ("ML", "BCH"):
            raise ValueError("method must be 'ML' or 'BCH'")
        panel, _ = _prepare(data, indicators=indicators, id_col=id_col, wave_col=wave_col, waves=waves)
        K = int(self.n_profiles)
        N, T, _ = panel.X.shape
        _, assigned, D, means, entropy = self._step1(panel, step1)
        n_init, n_trans, n_counts = self._naive_from(assigned, K)
        naive = TransitionResult(
            method="naive",
            waves=panel.waves,
            initial=n_init,
            transitions=n_trans,
            means=means,
            entropy=entropy,
            counts=n_counts,
            n_participants=N,
        )
        D_t = D if D.ndim == 3 else np.broadcast_to(D, (T, K, K))
        counts = None
        if method == "ML":
            logB = np.zeros((N, T, K))
            for t in range(T):
                obs = assigned[:, t] >= 0
                logB[obs, t] = np.log(np.clip(D_t[t][:, assigned[obs, t]].T, 1e-12, None))
            settings = self._settings(max_iter=max(int(self.max_iter), 2000), tol=min(float(self.tol), 1e-9))
            start_trans = [np.nan_to_num(A, nan=1.0 / K) * 0.9 + 0.1 / K for A in n_trans]
            if settings.homogeneous:
                start_trans = [np.mean(start_trans, axis=0)]
            start = _Params(
                means=np.zeros((1, K, 1)),
                variances=np.ones((1, K, 1)),
                log_init=np.log(0.9 * n_init + 0.1 / K),
                log_trans=np.log(np.stack(start_trans)) if start_trans else np.zeros((0, K, K)),
            )
            bare = replace(panel, Zi=np.zeros((N, 0)), Zt=np.zeros((N, 0)))
            fit = _em(bare, start, settings, _var_floor(panel), settings.max_iter, logB_fixed=logB)
            log_pi, log_A = _structural(fit.params, bare)
            initial, trans = _marginal(log_pi, log_A)
        else:
            W_t = [np.linalg.inv(D_t[t]) for t in range(T)]
            first = assigned[:, 0] >= 0
            initial = np.clip(W_t[0][assigned[first, 0]].mean(axis=0), 0.0, None)
            initial = initial / initial.sum()
            trans, counts = [], []
            for t in range(T - 1):
                both = (assigned[:, t] >= 0) & (assigned[:, t + 1] >= 0)
                C = W_t[t][assigned[both, t]].T @ W_t[t + 1][assigned[both, t + 1]]
                counts.append(C)
                Cp = np.clip(C, 0.0, None)
                rows = Cp.sum(axis=1, keepdims=True)
                trans.append(np.where(rows > 0, Cp / np.where(rows > 0, rows, 1.0), np.nan))
            if self.homogeneous and trans:
                Cp = np.clip(sum(counts), 0.0, None)
                trans = [Cp / Cp.sum(axis=1, keepdims=True)] * (T - 1)
        return TransitionResult(
            method=method,
            waves=panel.waves,
            initial=np.asarray(initial),
            transitions=list(trans),
            means=means,
            entropy=entropy,
            classification_error=D,
            counts=counts,
            n_participants=N,
            naive=naive,
        )

    # ------------------------------------------------------------------ reporting

    def transitions_frame(self, wide: bool = False) -> pd.DataFrame:
        """Transition probabilities, with bootstrap intervals when :meth:`bootstrap` has run.

        Parameters
        ----------
        wide : bool, default False
            ``False``: long form (from_wave, to_wave, from_profile, to_profile, probability[, se, ci_lower,
            ci_upper]); ``True``: one K x K block per wave pair, indexed by (pair, from_profile).

        Returns
        -------
        DataFrame
            The transition probabilities.
        """
        self._check_fitted()
        frame = _transitions_long(self.waves_, self.transitions_)
        if wide:
            frame["pair"] = frame["from_wave"].astype(str) + "->" + frame["to_wave"].astype(str)
            return frame.pivot_table(
                index=["pair", "from_profile"], columns="to_profile", values="probability", sort=False
            )
        if getattr(self, "bootstrap_", None) is not None:
            boot = self.bootstrap_.to_frame()
            boot = boot[boot["parameter"] == "transition"].reset_index(drop=True)
            frame[["se", "ci_lower", "ci_upper"]] = boot[["se", "ci_lower", "ci_upper"]].to_numpy()
        return frame

    def profiles_frame(self) -> pd.DataFrame:
        """Profile means and variances per indicator (and wave when not invariant), in long form.

        Returns
        -------
        DataFrame
            ``wave`` (None when invariant), ``profile``, ``indicator``, ``mean``, ``variance``.
        """
        self._check_fitted()
        means = self._params.means
        var = self._params.variances
        rows = []
        for tm in range(means.shape[0]):
            wave = None if means.shape[0] == 1 else self.waves_[tm]
            for k in range(means.shape[1]):
                for p, name in enumerate(self.indicators_):
                    rows.append(
                        {
                            "wave": wave,
                            "profile": k + 1,
                            "indicator": name,
                            "mean": float(means[tm, k, p]),
                            "variance": float(var[tm, k, p]),
                        }
                    )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """All parameters in one tidy frame.

        Returns
        -------
        DataFrame
            ``parameter`` (``initial``, ``transition``, ``mean``, ``variance``), ``from_wave``, ``to_wave``,
            ``from_profile``, ``to_profile`` (the profile for initial, mean and variance rows), ``indicator``
            and ``estimate``.
        """
        self._check_fitted()
        init = pd.DataFrame(
            {
                "parameter": "initial",
                "from_wave": self.waves_[0],
                "to_profile": np.arange(1, len(self.initial_) + 1),
                "estimate": self.initial_,
            }
        )
        trans = _transitions_long(self.waves_, self.transitions_, value="estimate").assign(parameter="transition")
        prof = self.profiles_frame().rename(columns={"wave": "from_wave", "profile": "to_profile"})
        meas = pd.concat(
            [
                prof.drop(columns="variance").rename(columns={"mean": "estimate"}).assign(parameter="mean"),
                prof.drop(columns="mean").rename(columns={"variance": "estimate"}).assign(parameter="variance"),
            ]
        )
        cols = ["parameter", "from_wave", "to_wave", "from_profile", "to_profile", "indicator", "estimate"]
        out = pd.concat([init, trans, meas], ignore_index=True).reindex(columns=cols)
        return out.astype({"from_profile": "Int64", "to_profile": "Int64"})

    def summary(self) -> str:
        """Plain-text report: fit statistics, initial shares, transition matrices, covariate effects.

        Returns
        -------
        str
            The report; print it.
        """
        self._check_fitted()
        K = int(self.n_profiles)
        T = len(self.waves_)
        lines = [
            "Latent transition analysis",
            f"  profiles: {K}   waves: {', '.join(map(str, self.waves_))}   measurement: {self.measurement}"
            f" ({'invariant' if self.invariant else 'wave-specific'}),"
            f" transitions: {'homogeneous' if self.homogeneous else 'per wave pair'}",
        ]
        if hasattr(self, "n_participants_"):
            n_best = self.n_best_starts_
            lines += [
                f"  participants: {self.n_participants_}   observed participant-waves: {self.n_observations_}"
                f" of {self.n_participants_ * T}",
                f"  log-likelihood: {self.loglik_:.3f}   parameters: {self.n_parameters_}   BIC: {self.bic_:.1f}"
                f"   AIC: {self.aic_:.1f}",
                f"  relative entropy: {self.entropy_:.3f}   converged: {self.converged_} ({self.n_iter_} iterations)"
                f"   best log-likelihood reached by {n_best} of {len(self.start_logliks_)} final starts",
            ]
        lines += [
            "",
            "Initial profile shares",
            "  " + "  ".join(f"{k + 1}: {p:.3f}" for k, p in enumerate(self.initial_)),
        ]
        boot = getattr(self, "bootstrap_", None)
        for t, (label, A) in enumerate(zip(_pair_labels(self.waves_), self.transitions_, strict=True)):
            lines += ["", f"Transitions {label} (rows: from, columns: to)", _matrix_text(A)]
            if boot is not None:
                lo, hi = boot.transitions_ci[t, ..., 0], boot.transitions_ci[t, ..., 1]
                ci = pd.DataFrame(
                    [[f"[{lo[j, k]:.2f}, {hi[j, k]:.2f}]" for k in range(K)] for j in range(K)],
                    index=[f"from {j + 1}" for j in range(K)],
                    columns=[f"to {k + 1}" for k in range(K)],
                )
                level = 100 * (1 - boot.alpha)
                lines += [f"  {level:.0f}% bootstrap percentile intervals ({boot.n_boot} draws)", ci.to_string()]
        if getattr(self, "init_coef_", None) is not None and hasattr(self, "_panel"):
            eff = self.covariate_effects()
            eff = eff[~eff["term"].str.startswith("(intercept)")]
            if len(eff):
                lines += [
                    "",
                    "Covariate effects (odds ratios, 95% CI; initial: vs profile 1, transitions: vs staying)",
                    eff[
                        [
                            "part",
                            "from_profile",
                            "to_profile",
                            "term",
                            "coef",
                            "se",
                            "odds_ratio",
                            "or_lower",
                            "or_upper",
                            "p_value",
                        ]
                    ]
                    .round(3)
                    .to_string(index=False),
                ]
        return "\n".join(lines)

"""The three estimators of :mod:`analysis.distal` (naive, BCH, ML) on prepared posteriors and outcome."""

# Matrix notation (D, K, W) follows the three-step literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from analysis.mixture import Array, logsumexp

_LOG_2PI = math.log(2.0 * math.pi)
#: Proportions this close to 0 or 1 have no usable log-odds (ML clips its proportions at 1e-10).
_BOUNDARY = 1e-8


class DistalWarning(UserWarning):
    """A distal-outcome estimate that needs the analyst's attention (an ill-conditioned ``D``, a weak Hessian)."""


# --------------------------------------------------------------------------------------------------
# Input checks


@dataclass(frozen=True)
class _Prepared:
    prob: Array  # (m, K) step-1 rows
    assigned: Array  # (m,) modal profiles
    used: Array  # bool (m,): outcome (and covariates) observed
    y: Array  # (n,) the used outcomes
    Z: Array  # (n, p) centred covariates (p = 0 without)
    covariate_names: tuple[str, ...]
    kind: str
    name: str
    profiles: tuple[str, ...]
    n_dropped: int


def _posteriors(posteriors: Any) -> tuple[Array, tuple[str, ...]]:
    if isinstance(posteriors, pd.DataFrame):
        names = tuple(str(c) for c in posteriors.columns)
        try:
            prob = posteriors.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError("posterior probabilities must be numeric") from exc
    else:
        prob = np.asarray(posteriors, dtype=float)
        names = tuple(f"profile_{k + 1}" for k in range(prob.shape[1] if prob.ndim == 2 else 0))
    if prob.ndim != 2 or prob.shape[1] < 1:
        raise ValueError(f"posterior probabilities must be an (n, K) array, got shape {prob.shape}")
    ok = np.isfinite(prob).all(axis=1)
    if (prob[ok] < -1e-9).any() or not np.allclose(prob[ok].sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("posterior probabilities must be non-negative and sum to 1 in every row")
    return prob, names


def _numeric_outcome(outcome: Any, name: str) -> Array:
    series = outcome if isinstance(outcome, pd.Series) else pd.Series(np.asarray(outcome, dtype=object))
    if is_bool_dtype(series.dtype):
        return series.astype(float).to_numpy()
    if is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    present = series[series.notna()]
    bad = [v for v in present if isinstance(v, (str, bytes)) or not isinstance(v, (int, float, np.number))]
    if bad:
        raise ValueError(f"outcome {name!r} must be numeric (0/1 for a binary outcome); found {bad[0]!r}")
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _covariate_matrix(covariates: pd.DataFrame | None, m: int) -> tuple[Array, tuple[str, ...], list[str]]:
    if covariates is None or covariates.shape[1] == 0:
        return np.zeros((m, 0)), (), []
    if len(covariates) != m:
        raise ValueError(f"covariates have {len(covariates)} rows, the posteriors {m}")
    names = tuple(str(c) for c in covariates.columns)
    frame = covariates.reset_index(drop=True)
    parts: list[pd.DataFrame] = []
    labels: list[str] = []
    for column in frame.columns:
        series = frame[column]
        if is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
            parts.append(series.astype(float).to_frame(str(column)))
            labels.append(str(column))
        else:
            dummies = pd.get_dummies(series, prefix=str(column), drop_first=True, dtype=float)
            dummies[series.isna().to_numpy()] = np.nan
            parts.append(dummies)
            labels.extend(str(c) for c in dummies.columns)
    Z = pd.concat(parts, axis=1).to_numpy(dtype=float) if parts else np.zeros((m, 0))
    return Z, names, labels


def _prepare(posteriors: Any, outcome: Any, kind: str, name: str | None, covariates: pd.DataFrame | None) -> _Prepared:
    prob, profiles = _posteriors(posteriors)
    m = prob.shape[0]
    label = name or (str(outcome.name) if isinstance(outcome, pd.Series) and outcome.name is not None else "outcome")
    y_all = _numeric_outcome(outcome, label)
    if y_all.shape != (m,):
        raise ValueError(f"outcome {label!r} has {y_all.shape[0]} values, the posteriors {m} rows")
    Z_all, covariate_names, _ = _covariate_matrix(covariates, m)
    step1 = np.isfinite(prob).all(axis=1)
    used = step1 & np.isfinite(y_all) & np.isfinite(Z_all).all(axis=1)
    if not used.any():
        raise ValueError(f"outcome {label!r} has no observed value among the participants with profiles")
    y = y_all[used]
    observed = set(np.unique(y).tolist())
    if kind == "auto":
        kind = "binary" if observed <= {0.0, 1.0} else "continuous"
    if kind not in ("continuous", "binary"):
        raise ValueError("kind must be 'auto', 'continuous' or 'binary'")
    if kind == "binary" and not observed <= {0.0, 1.0}:
        raise ValueError(f"binary outcome {label!r} must be 0/1 or boolean, found {sorted(observed)[:5]}")
    Z = Z_all[used]
    Z = Z - Z.mean(axis=0) if Z.shape[1] else Z
    prob_s1 = prob[step1]
    return _Prepared(
        prob=prob_s1,
        assigned=prob_s1.argmax(axis=1),
        used=used[step1],
        y=y,
        Z=Z,
        covariate_names=covariate_names,
        kind=kind,
        name=label,
        profiles=profiles,
        n_dropped=int(m - used.sum()),
    )


# --------------------------------------------------------------------------------------------------
# Step 3: the estimators


def _weighted_ls(y: Array, W: Array, Z: Array) -> tuple[Array, Array]:
    """Weighted least squares on the expanded data (person i, profile k) with weight ``W[i, k]``.

    The design of row (i, k) is the profile dummy ``e_k`` and the centred covariates ``z_i``, so the first
    ``K`` coefficients are the adjusted means. Covariance: sandwich with the person as cluster,
    ``A^-1 (sum_i u_i u_i') A^-1`` with ``A = sum_ik w_ik x_ik x_ik'`` and ``u_i = sum_k w_ik x_ik e_ik``.
    Negative weights (BCH) are allowed; statsmodels' WLS would take their square roots.
    """
    K = W.shape[1]
    p = Z.shape[1]
    A = np.zeros((K + p, K + p))
    A[:K, :K] = np.diag(W.sum(axis=0))
    A[:K, K:] = W.T @ Z
    A[K:, :K] = A[:K, K:].T
    A[K:, K:] = (Z * W.sum(axis=1)[:, None]).T @ Z
    b = np.concatenate([W.T @ y, Z.T @ (W.sum(axis=1) * y)])
    beta = np.linalg.solve(A, b)
    resid = y[:, None] - beta[:K][None, :] - (Z @ beta[K:])[:, None]  # (n, K)
    WE = W * resid
    U = np.concatenate([WE, Z * WE.sum(axis=1)[:, None]], axis=1)
    bread = np.linalg.inv(A)
    return beta, bread @ (U.T @ U) @ bread


def _bch_weights(D: Array, assigned: Array, profiles: tuple[str, ...]) -> Array:
    K = D.shape[0]
    counts = np.bincount(assigned, minlength=K)
    empty = [profiles[s] for s in range(K) if counts[s] == 0]
    if empty:
        raise ValueError(
            f"no participant is modally assigned to {', '.join(empty)}: the classification-error matrix is "
            "singular and BCH weights do not exist (use ML, or a model with fewer profiles)"
        )
    condition = float(np.linalg.cond(D))
    if condition > 1e6:
        warnings.warn(
            f"the classification-error matrix is ill-conditioned (condition number {condition:.3g}); "
            "BCH estimates will be unstable",
            DistalWarning,
            stacklevel=3,
        )
    return np.asarray(np.linalg.inv(D)[assigned])


def _naive(prep: _Prepared) -> tuple[Array, Array, list[str]]:
    K = prep.prob.shape[1]
    a = prep.assigned[prep.used]
    notes: list[str] = []
    if prep.Z.shape[1]:
        beta, cov = _weighted_ls(prep.y, np.eye(K)[a], prep.Z)
        return beta[:K], cov[:K, :K], notes
    est = np.full(K, np.nan)
    var = np.full(K, np.nan)
    for k in range(K):
        yk = prep.y[a == k]
        if len(yk) == 0:
            notes.append(f"no participant with an observed outcome is modally assigned to {prep.profiles[k]}")
            continue
        est[k] = yk.mean()
        if prep.kind == "binary":
            var[k] = est[k] * (1 - est[k]) / len(yk)
        else:
            var[k] = yk.var(ddof=1) / len(yk) if len(yk) > 1 else np.nan
    return est, np.diag(var), notes


def _bch(prep: _Prepared, D: Array) -> tuple[Array, Array, list[str]]:
    K = D.shape[0]
    W = _bch_weights(D, prep.assigned, prep.profiles)[prep.used]
    beta, cov = _weighted_ls(prep.y, W, prep.Z)
    notes: list[str] = []
    if (W < 0).any():
        notes.append("some BCH weights are negative, as is usual with classification error")
    est = beta[:K]
    if prep.kind == "binary":
        outside = [prep.profiles[k] for k in range(K) if not -_BOUNDARY <= est[k] <= 1.0 + _BOUNDARY]
        if outside:
            notes.append(
                f"the BCH proportion of {', '.join(outside)} lies outside [0, 1]; it is reported as estimated "
                "(not clipped) and its odds ratio is undefined"
            )
    return est, cov[:K, :K], notes


# ML: parameters theta = (logits of P(k) for k >= 1, then mu_k, then log var (K or 1)) or, for a binary
# outcome, (logits of P(k), then logit p_k).


def _ml_unpack(theta: Array, K: int, kind: str, equal: bool) -> tuple[Array, Array, Array]:
    eta = np.concatenate([[0.0], theta[: K - 1]])
    log_pi = eta - logsumexp(eta[None, :], axis=1)[0]
    loc = theta[K - 1 : 2 * K - 1]
    if kind == "binary":
        return log_pi, loc, np.zeros(K)
    log_var = theta[2 * K - 1 :]
    return log_pi, loc, np.broadcast_to(log_var, (K,)) if equal else log_var


def _ml_terms(theta: Array, y: Array, log_D: Array, kind: str, equal: bool) -> tuple[Array, Array, Array, Array]:
    """Per-person log-likelihood, posteriors and the (n, K) pieces the gradient needs."""
    K = log_D.shape[1]
    log_pi, loc, log_var = _ml_unpack(theta, K, kind, equal)
    if kind == "binary":
        log_f = y[:, None] * -np.logaddexp(0.0, -loc)[None, :] + (1 - y[:, None]) * -np.logaddexp(0.0, loc)[None, :]
    else:
        var = np.exp(log_var)
        log_f = -0.5 * (_LOG_2PI + log_var[None, :] + (y[:, None] - loc[None, :]) ** 2 / var[None, :])
    joint = log_pi[None, :] + log_D + log_f
    ll = logsumexp(joint, axis=1)
    resp = np.exp(joint - ll[:, None])
    return ll, resp, log_pi, log_var


def _ml_gradient(theta: Array, y: Array, log_D: Array, kind: str, equal: bool) -> Array:
    K = log_D.shape[1]
    _, resp, log_pi, log_var = _ml_terms(theta, y, log_D, kind, equal)
    pi = np.exp(log_pi)
    g_eta = (resp - pi[None, :]).sum(axis=0)[1:]
    loc = theta[K - 1 : 2 * K - 1]
    if kind == "binary":
        p = 1.0 / (1.0 + np.exp(-loc))
        return np.concatenate([g_eta, (resp * (y[:, None] - p[None, :])).sum(axis=0)])
    var = np.exp(log_var)
    dev = y[:, None] - loc[None, :]
    g_mu = (resp * dev / var[None, :]).sum(axis=0)
    g_lv = (resp * (-0.5 + 0.5 * dev**2 / var[None, :])).sum(axis=0)
    return np.concatenate([g_eta, g_mu, [g_lv.sum()] if equal else g_lv])


def _ml(prep: _Prepared, D: Array, equal_variances: bool) -> tuple[Array, Array, list[str]]:
    if prep.Z.shape[1]:
        raise ValueError("covariates are supported with the BCH and naive estimators, not ML")
    K = D.shape[0]
    y = prep.y
    a = prep.assigned[prep.used]
    with np.errstate(divide="ignore"):
        log_D = np.log(np.clip(D[:, a].T, 1e-300, None))  # (n, K): log P(assigned a_i | true k)
    binary = prep.kind == "binary"
    # start from the modal groups (the empty ones from the overall figures)
    onehot = np.eye(K)[a]
    counts = onehot.sum(axis=0)
    overall = float(y.mean())
    loc = np.where(counts > 0, (onehot.T @ y) / np.maximum(counts, 1), overall)
    floor = 1e-6 * max(float(y.var()), 1e-12)
    if binary:
        loc = np.clip(loc, 0.05, 0.95)
        var = np.ones(K)
    else:
        var = np.full(K, max(float(y.var()), floor))
    pi = (counts + 1.0) / (counts.sum() + K)
    previous = -np.inf
    for _ in range(5000):
        if binary:
            log_f = y[:, None] * np.log(loc)[None, :] + (1 - y[:, None]) * np.log1p(-loc)[None, :]
        else:
            log_f = -0.5 * (_LOG_2PI + np.log(var)[None, :] + (y[:, None] - loc[None, :]) ** 2 / var[None, :])
        joint = np.log(pi)[None, :] + log_D + log_f
        ll_i = logsumexp(joint, axis=1)
        resp = np.exp(joint - ll_i[:, None])
        total = float(ll_i.sum())
        mass = resp.sum(axis=0)
        pi = np.clip(mass / mass.sum(), 1e-12, None)
        loc = (resp.T @ y) / np.maximum(mass, 1e-300)
        if binary:
            loc = np.clip(loc, 1e-10, 1 - 1e-10)
        else:
            sq = (resp * (y[:, None] - loc[None, :]) ** 2).sum(axis=0)
            var = np.full(K, sq.sum() / mass.sum()) if equal_variances else sq / np.maximum(mass, 1e-300)
            var = np.maximum(var, floor)
        if total - previous <= 1e-10 * abs(total):
            break
        previous = total
    eta = np.log(pi[1:]) - np.log(pi[0])
    if binary:
        theta = np.concatenate([eta, np.log(loc) - np.log1p(-loc)])
    else:
        log_var = np.log(var[:1]) if equal_variances else np.log(var)
        theta = np.concatenate([eta, loc, log_var])
    # observed information: central differences of the analytic score
    P = len(theta)
    H = np.empty((P, P))
    for j in range(P):
        h = 1e-5 * max(1.0, abs(float(theta[j])))
        step = np.zeros(P)
        step[j] = h
        H[:, j] = (
            _ml_gradient(theta + step, y, log_D, prep.kind, equal_variances)
            - _ml_gradient(theta - step, y, log_D, prep.kind, equal_variances)
        ) / (2 * h)
    H = 0.5 * (H + H.T)
    notes = ["standard errors from the observed information with D fixed (step-1 uncertainty ignored)"]
    eig = np.linalg.eigvalsh(-H)
    if eig.min() <= 1e-10 * max(float(eig.max()), 1e-300):
        warnings.warn(
            "the ML information matrix is not positive definite; using its pseudo-inverse", DistalWarning, stacklevel=3
        )
        notes.append("the information matrix is singular (a profile at a boundary?); pseudo-inverse used")
        cov_theta = np.linalg.pinv(-H)
    else:
        cov_theta = np.linalg.inv(-H)
    block = cov_theta[K - 1 : 2 * K - 1, K - 1 : 2 * K - 1]
    if binary:
        jac = np.diag(loc * (1 - loc))
        return loc, jac @ block @ jac, notes
    return loc, block, notes

"""EM (Baum-Welch) for the latent transition model: the measurement M-step, EM runs and random starts."""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np

from analysis.categorical import categorical_m_step, partition_probabilities
from analysis.lta.forward_backward import _forward_backward, _log_emission
from analysis.lta.panel import _Panel
from analysis.lta.structural import _mstep_structural, _n_pairs, _n_trans_sets, _Params, _Settings, _structural
from analysis.mixture import kmeans_centres, nearest_centre


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
    if settings.parameterisation == "EEI":
        tot = S0.sum(axis=1, keepdims=True)
        var = np.where(tot > 1e-8, ss.sum(axis=1, keepdims=True) / np.where(tot > 1e-8, tot, 1.0), old.variances)
        var = np.broadcast_to(var, means.shape).copy()
    else:
        var = np.where(ok, ss / safe, old.variances)
    return means, np.maximum(var, var_floor)


def _wave_rows(panel: _Panel, weights: np.ndarray, invariant: bool) -> np.ndarray:
    """Per-row weights (N, T, K) as the (Tm * K, N * T) matrix the categorical M-step takes: one block of K
    rows over all waves when invariant, else one block per wave holding only that wave's rows."""
    N, T, K = weights.shape
    if invariant:
        return np.ascontiguousarray(weights.reshape(N * T, K).T)
    out = np.zeros((T, K, N, T))
    for t in range(T):
        out[t, :, :, t] = weights[:, t].T
    return out.reshape(T * K, N * T)


def _mstep_categorical(panel: _Panel, gamma: np.ndarray, settings: _Settings) -> np.ndarray | None:
    """Category probabilities (Tm, K, C): held equal over waves like the means when ``invariant``."""
    if panel.cat is None:
        return None
    probs = categorical_m_step(panel.cat, _wave_rows(panel, gamma, settings.invariant))
    return probs.reshape(-1, settings.K, probs.shape[-1])


# ------------------------------------------------------------------------------------------------- EM


@dataclass
class _Fit:
    params: _Params
    loglik: float
    history: list[float]
    converged: bool
    n_iter: int


def _estep(
    panel: _Panel, params: _Params, logB_fixed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    logB = _log_emission(panel, params.means, params.variances, params.probs) if logB_fixed is None else logB_fixed
    log_pi, log_A = _structural(params, panel)
    return _forward_backward(logB, log_pi, log_A)


def _weighted_posteriors(panel: _Panel, gamma: np.ndarray, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``gamma`` (N, T, K) and ``xi`` (N, T-1, K, K) times the case weights: what every M-step sums.

    Unweighted panels get the posteriors themselves, so their fits are bit for bit what they were.
    """
    if not panel.weighted:
        return gamma, xi
    w = panel.w
    return gamma * w[:, None, None], xi * w[:, None, None, None]


def _total_loglik(panel: _Panel, ll_n: np.ndarray) -> float:
    """``sum_i w_i ll_i``: the (pseudo-)log-likelihood; the plain sum without weights."""
    return float((panel.w * ll_n).sum()) if panel.weighted else float(ll_n.sum())


def _em(
    panel: _Panel,
    params: _Params,
    settings: _Settings,
    var_floor: np.ndarray,
    max_iter: int,
    logB_fixed: np.ndarray | None = None,
) -> _Fit:
    """EM from ``params``: stops when the log-likelihood gains less than ``tol`` per participant.

    With case weights the E-step is unchanged, the M-steps sum the posteriors times the weights and the
    log-likelihood (and so the stopping rule) is the weighted sum (weights of mean 1 keep ``tol`` per
    participant).
    """
    history: list[float] = []
    converged = False
    n_iter = 0
    params = params.copy()
    ll_n, gamma, xi = _estep(panel, params, logB_fixed)
    ll = _total_loglik(panel, ll_n)
    history.append(ll)
    for n_iter in range(1, max_iter + 1):  # noqa: B007  (n_iter is reported)
        gamma, xi = _weighted_posteriors(panel, gamma, xi)
        if logB_fixed is None:
            params.means, params.variances = _mstep_measurement(panel, gamma, settings, var_floor, params)
            params.probs = _mstep_categorical(panel, gamma, settings)
        li, lt, ic, tc = _mstep_structural(panel, gamma, xi, settings, params)
        params.log_init, params.log_trans, params.init_coef, params.trans_coef = li, lt, ic, tc
        ll_n, gamma, xi = _estep(panel, params, logB_fixed)
        new = _total_loglik(panel, ll_n)
        history.append(new)
        gain = new - ll
        ll = new
        if gain < settings.tol * panel.n:
            converged = True
            break
    return _Fit(params=params, loglik=ll, history=history, converged=converged, n_iter=n_iter)


def _var_floor(panel: _Panel) -> np.ndarray:
    n_continuous = panel.Xc.shape[2]
    pooled = np.nanvar(panel.Xc[panel.observed], axis=0) if panel.observed.any() else np.ones(n_continuous)
    pooled = np.where(np.isfinite(pooled) & (pooled > 0), pooled, 1.0)
    return 1e-6 * pooled


def _random_start(panel: _Panel, settings: _Settings, rng: np.random.Generator, var_floor: np.ndarray) -> _Params:
    K = settings.K
    N, T, P = panel.Xc.shape
    Y = panel.Xc[panel.observed]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an indicator observed in no participant-wave
        col_mean = np.nanmean(Y, axis=0)
        col_var = np.nanvar(Y, axis=0)
    col_mean = np.where(np.isfinite(col_mean), col_mean, 0.0)
    col_var = np.where(np.isfinite(col_var), col_var, 1.0)
    col_sd = np.where(col_var > 0, np.sqrt(col_var), 1.0)
    Ys = (np.where(np.isnan(Y), col_mean, Y) - col_mean) / col_sd
    if P == 0 and panel.cat is not None:  # categorical only: k-means on the one-hot items
        Ys = panel.cat.onehot[panel.observed.ravel()]
    labels = nearest_centre(Ys, kmeans_centres(Ys, K, 1, rng)[0])  # k-means++ and Lloyd, as in LPA
    gamma = np.zeros((N, T, K))
    gamma[panel.observed] = np.eye(K)[labels]
    old = _Params(
        means=np.broadcast_to(col_mean, (1, K, P)).copy(), variances=np.broadcast_to(col_var, (1, K, P)).copy()
    )
    means, variances = _mstep_measurement(panel, gamma, replace(settings, invariant=True), var_floor, old)
    probs = None
    if panel.cat is not None:
        membership = _wave_rows(panel, gamma, invariant=True)
        probs = partition_probabilities(panel.cat, membership)[None]
    if not settings.invariant:
        means, variances = np.repeat(means, T, axis=0), np.repeat(variances, T, axis=0)
        probs = None if probs is None else np.repeat(probs, T, axis=0)
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
        probs=probs,
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

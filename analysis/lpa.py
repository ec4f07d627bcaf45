"""Latent profile analysis: Gaussian mixtures with the parameterisations used in LPA, on pandas DataFrames.

A latent profile model says that each participant belongs to one of ``K`` unobserved profiles and that,
within profile ``k``, the indicators are multivariate normal with mean ``mu_k`` and covariance ``Sigma_k``.
Four covariance structures are offered, named as in mclust (Scrucca et al. 2016) and tidyLPA:

========  ==========================================  ====================  ===============================
name      covariance                                  tidyLPA model         StepMix ``measurement``
========  ==========================================  ====================  ===============================
``EEI``   diagonal, equal across profiles             1 (Mplus default)     (none)
``VVI``   diagonal, varying across profiles           2                     ``"gaussian_diag"``
``EEE``   full, equal across profiles                 3                     ``"gaussian_tied"``
``VVV``   full, varying across profiles               6                     ``"gaussian_full"``
========  ==========================================  ====================  ===============================

Estimation is maximum likelihood by EM with many starting values. All starts are iterated together as
one batch, so that each E- and M-step for all starts is a handful of matrix products (for the diagonal
models one product over all starts and profiles at once), and EM is accelerated by SQUAREM (Varadhan &
Roland 2008), which keeps the log-likelihood monotone. Starting values come from k-means++ with Lloyd
iterations, random partitions and random posterior probabilities (see :class:`LatentProfileModel`). By
default every start is iterated to convergence; Mplus's two-stage ``STARTS = n_starts n_final_starts``
(short runs for all, the best few to convergence) is available through ``n_final_starts``. The best
log-likelihood must be reached by at least two of the starts iterated to convergence, or a
:class:`ReplicationWarning` is given.

Missing values: the diagonal models (EEI, VVI) use full information maximum likelihood (each row's
likelihood is over its observed indicators, valid under missing at random); the full-covariance models
drop incomplete rows with a warning. See ``missing`` in :class:`LatentProfileModel`.

:func:`enumerate_profiles` fits ``K = 1..8`` for one or more parameterisations and returns an
:class:`EnumerationResult` with the fit table researchers report (log-likelihood, AIC, BIC,
sample-size adjusted BIC, ICL, entropy, smallest profile, replication, LMR and bootstrapped LRT) and a
recommended number of profiles.

References
----------
Nylund, K. L., Asparouhov, T., & Muthén, B. O. (2007). Deciding on the number of classes in latent class
analysis and growth mixture modeling: A Monte Carlo simulation study. Structural Equation Modeling, 14(4),
535-569.

Lo, Y., Mendell, N. R., & Rubin, D. B. (2001). Testing the number of components in a normal mixture.
Biometrika, 88(3), 767-778.

McLachlan, G. J. (1987). On bootstrapping the likelihood ratio test statistic for the number of
components in a normal mixture. Applied Statistics, 36(3), 318-324.

Varadhan, R., & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scandinavian Journal of Statistics, 35(2), 335-353.

Ramaswamy, V., DeSarbo, W. S., Reibstein, D. J., & Robinson, W. T. (1993). An empirical pooling approach
for estimating marketing mix elasticities with PIMS data. Marketing Science, 12(1), 103-124.

Sclove, S. L. (1987). Application of model-selection criteria to some problems in multivariate analysis.
Psychometrika, 52(3), 333-343.

Biernacki, C., Celeux, G., & Govaert, G. (2000). Assessing a mixture model for clustering with the
integrated completed likelihood. IEEE Transactions on Pattern Analysis and Machine Intelligence, 22(7),
719-725.

Scrucca, L., Fop, M., Murphy, T. B., & Raftery, A. E. (2016). mclust 5: clustering, classification and
density estimation using Gaussian finite mixture models. The R Journal, 8(1), 289-317.
"""

# ruff: noqa: N803  (X for the data matrix, as in scikit-learn)
from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "PARAMETERISATIONS",
    "EnumerationResult",
    "LPAWarning",
    "LatentProfileModel",
    "Recommendation",
    "ReplicationWarning",
    "enumerate_profiles",
    "incremental_starts",
    "lmr_test",
]

PARAMETERISATIONS = ("EEI", "VVI", "EEE", "VVV")
_DIAGONAL = {"EEI": True, "VVI": True, "EEE": False, "VVV": False}
_SHARED = {"EEI": True, "VVI": False, "EEE": True, "VVV": False}
_LOG_2PI = math.log(2.0 * math.pi)
# A profile whose expected size falls below this many observations has collapsed: the start is dropped.
_MIN_PROFILE_SIZE = 1.0


class LPAWarning(UserWarning):
    """A latent profile estimate that needs the analyst's attention."""


class ReplicationWarning(LPAWarning):
    """The best log-likelihood was reached by only one of the starts iterated to convergence."""


# --------------------------------------------------------------------------------------------------
# Data and parameter containers (internal; indicators are centred on their means)


@dataclass
class _Data:
    """Indicators prepared for EM: centred, missing values set to 0, the products EM needs precomputed."""

    x: np.ndarray  # (n, d), centred; 0 where missing
    mask: np.ndarray | None  # (n, d) 1.0 where observed, or None when complete
    center: np.ndarray  # (d,) what was subtracted
    design: np.ndarray | None  # diagonal models: (n, c) columns [x**2, x, (mask), 1]
    design_t: np.ndarray | None  # the same, transposed and contiguous, for the E-step product
    xtx: np.ndarray | None  # EEE: x'x
    n: int
    d: int

    @property
    def n_observed(self) -> np.ndarray:
        return np.full(self.d, float(self.n)) if self.mask is None else self.mask.sum(axis=0)


@dataclass
class _Params:
    """Parameters of ``S`` starts at once, on the centred scale.

    ``cov`` is ``(S, Kc, d)`` (diagonal) or ``(S, Kc, d, d)`` (full) with ``Kc`` 1 for the shared
    parameterisations and ``K`` otherwise.
    """

    weights: np.ndarray  # (S, K)
    means: np.ndarray  # (S, K, d)
    cov: np.ndarray

    @property
    def n_starts(self) -> int:
        return self.weights.shape[0]

    def take(self, index: np.ndarray) -> _Params:
        return _Params(self.weights[index], self.means[index], self.cov[index])

    @staticmethod
    def concat(parts: Sequence[_Params]) -> _Params:
        return _Params(
            np.concatenate([p.weights for p in parts]),
            np.concatenate([p.means for p in parts]),
            np.concatenate([p.cov for p in parts]),
        )


def _prepare(x: np.ndarray, parameterisation: str, center: np.ndarray | None = None) -> _Data:
    """Centre the indicators (the likelihood is unchanged by a shift; the sums of squares lose less precision)."""
    observed = np.isfinite(x)
    complete = bool(observed.all())
    if center is None:
        center = x.mean(axis=0) if complete else np.nanmean(x, axis=0)
    xc = x - center
    mask = None
    if not complete:
        xc = np.where(observed, xc, 0.0)
        mask = observed.astype(float)
    n, d = xc.shape
    design = design_t = xtx = None
    if parameterisation == "EEE":
        xtx = xc.T @ xc
    if _DIAGONAL[parameterisation]:
        blocks = [xc * xc, xc] + ([] if mask is None else [mask]) + [np.ones((n, 1))]
        design = np.hstack(blocks)
        design_t = np.ascontiguousarray(design.T)
    return _Data(np.ascontiguousarray(xc), mask, center, design, design_t, xtx, n, d)


# --------------------------------------------------------------------------------------------------
# E-step. Arrays over starts, profiles and observations are laid out (S, K, n): the reductions over
# profiles are then sums of contiguous rows.


def _log_joint(data: _Data, p: _Params, parameterisation: str) -> tuple[np.ndarray, np.ndarray]:
    """``log pi_k + log f_k(x_i)`` as an ``(S, K, n)`` array, and a flag per start whose covariance failed."""
    if _DIAGONAL[parameterisation]:
        return _log_joint_diagonal(data, p), np.zeros(p.n_starts, dtype=bool)
    return _log_joint_full(data, p)


def _log_joint_diagonal(data: _Data, p: _Params) -> np.ndarray:
    n_starts, k, d = p.means.shape
    var = np.broadcast_to(p.cov, (n_starts, k, d))
    prec = 1.0 / var
    mean_prec = p.means * prec
    with np.errstate(divide="ignore"):
        log_w = np.log(p.weights)
    # One matrix product gives every start and profile: the design holds x^2, x, (the mask) and 1, so
    # -0.5 sum_d (x_d - mu_d)^2 / var_d - 0.5 sum_d log(2 pi var_d) + log w is linear in its columns.
    if data.mask is None:
        const = -0.5 * ((p.means * mean_prec).sum(-1) + np.log(var).sum(-1) + d * _LOG_2PI) + log_w
        coef = np.concatenate([-0.5 * prec, mean_prec, const[..., None]], axis=-1)
    else:
        per_feature = -0.5 * (p.means * mean_prec + np.log(var) + _LOG_2PI)
        coef = np.concatenate([-0.5 * prec, mean_prec, per_feature, log_w[..., None]], axis=-1)
    out = coef.reshape(n_starts * k, -1) @ data.design_t
    return out.reshape(n_starts, k, data.n)


def _log_joint_full(data: _Data, p: _Params) -> tuple[np.ndarray, np.ndarray]:
    n_starts, k, d = p.means.shape
    out = np.empty((n_starts, k, data.n))
    failed = np.zeros(n_starts, dtype=bool)
    with np.errstate(divide="ignore"):
        log_w = np.log(p.weights)
    for s in range(n_starts):
        try:
            chol = np.linalg.cholesky(p.cov[s])  # (Kc, d, d)
        except np.linalg.LinAlgError:
            failed[s] = True
            out[s] = -np.inf
            continue
        # z = (x - mu) L^{-T}: its squared norm is the Mahalanobis distance.
        whiten = np.swapaxes(np.linalg.inv(chol), -1, -2)  # (Kc, d, d)
        half_logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)  # (Kc,)
        z = data.x @ whiten  # (Kc, n, d)
        z = z - (p.means[s][:, None, :] @ whiten)  # (K, n, d)
        quad = np.einsum("knd,knd->kn", z, z)
        out[s] = -0.5 * (quad + d * _LOG_2PI) - half_logdet[:, None] + log_w[s][:, None]
    return out, failed


def _normalise(log_joint: np.ndarray, low_precision: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Posterior probabilities and per-observation log-likelihood ``(S, n)``.

    The log-sum-exp over profiles subtracts the largest term first, so nothing overflows. With
    ``low_precision`` the exponentials are taken in float32 (about four times faster here); that is
    used only to rank starting values in the initial stage, never for convergence or reported values.
    """
    top = log_joint.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    np.subtract(log_joint, top, out=log_joint)
    resp = np.exp(log_joint.astype(np.float32)) if low_precision else np.exp(log_joint, out=log_joint)
    total = resp.sum(axis=1, keepdims=True)
    np.divide(resp, total, out=resp)
    with np.errstate(divide="ignore"):
        row_ll = top[:, 0, :] + np.log(total[:, 0, :].astype(float))
    return resp, row_ll


# --------------------------------------------------------------------------------------------------
# M-step


def _m_step(data: _Data, resp: np.ndarray, parameterisation: str, reg_covar: float) -> tuple[_Params, np.ndarray]:
    """Maximise the expected complete-data log-likelihood; also flag starts with a collapsed profile.

    ``resp`` is ``(S, K, n)``. With missing values (diagonal models only) each mean and variance uses the
    observations where that indicator is observed, which is the exact M-step of the observed-data
    likelihood under local independence.
    """
    n_starts, k, n = resp.shape
    d = data.d
    flat = resp.reshape(n_starts * k, n)
    if _DIAGONAL[parameterisation]:
        sums = flat @ data.design  # (S*K, c): sums of r x^2, r x, (r * observed), r
        size = sums[:, -1]
        s_x2, s_x = sums[:, :d], sums[:, d : 2 * d]
        denom = size[:, None] if data.mask is None else sums[:, 2 * d : 3 * d]
        safe = np.maximum(denom, 1e-300)
        means = s_x / safe
        if parameterisation == "VVI":
            var = np.maximum(s_x2 / safe - means * means, 0.0).reshape(n_starts, k, d)
        else:  # EEI: pooled within-profile variance per indicator
            within = (s_x2 - means * means * denom).reshape(n_starts, k, d).sum(axis=1)
            var = np.maximum(within / data.n_observed, 0.0)[:, None, :]
        cov = var + reg_covar
        means = means.reshape(n_starts, k, d)
    else:
        size = flat.sum(axis=1)
        means = ((flat @ data.x) / np.maximum(size, 1e-300)[:, None]).reshape(n_starts, k, d)
        sizes = size.reshape(n_starts, k)
        if parameterisation == "EEE":
            # Pooled within-profile scatter: x'x minus the between-profile part (x is centred).
            between = np.einsum("sk,skd,ske->sde", sizes, means, means)
            cov = ((data.xtx[None] - between) / data.n)[:, None]
        else:
            cov = np.empty((n_starts, k, d, d))
            for s in range(n_starts):
                diff = data.x[None, :, :] - means[s][:, None, :]  # (K, n, d)
                scatter = np.swapaxes(resp[s][:, :, None] * diff, 1, 2) @ diff  # sum_i r_ik (x_i - mu_k)(..)'
                cov[s] = scatter / np.maximum(sizes[s], 1e-300)[:, None, None]
        cov = 0.5 * (cov + np.swapaxes(cov, -1, -2)) + reg_covar * np.eye(d)
    sizes = size.reshape(n_starts, k)
    collapsed = (sizes < _MIN_PROFILE_SIZE).any(axis=1)
    return _Params(sizes / data.n, means, cov), collapsed


# --------------------------------------------------------------------------------------------------
# Starting values


def _kmeans_centres(x: np.ndarray, k: int, n_starts: int, rng: np.random.Generator, n_lloyd: int = 10) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd iterations for ``n_starts`` runs at once."""
    n, d = x.shape
    sq = np.einsum("nd,nd->n", x, x)
    centres = np.empty((n_starts, k, d))
    first = rng.integers(n, size=n_starts)
    centres[:, 0] = x[first]
    closest = np.maximum(sq[None, :] - 2.0 * centres[:, 0] @ x.T + sq[first][:, None], 0.0)  # (S, n)
    for j in range(1, k):
        cumulative = np.cumsum(closest, axis=1)
        total = cumulative[:, -1]
        draw = rng.random(n_starts) * total
        pick = np.array([np.searchsorted(cumulative[s], draw[s], side="right") for s in range(n_starts)])
        pick = np.where(total > 0, np.minimum(pick, n - 1), rng.integers(n, size=n_starts))
        centres[:, j] = x[pick]
        dist = np.maximum(sq[None, :] - 2.0 * centres[:, j] @ x.T + sq[pick][:, None], 0.0)
        np.minimum(closest, dist, out=closest)
    labels = None
    for _ in range(n_lloyd):
        flat = centres.reshape(n_starts * k, d)
        dist = (flat * flat).sum(axis=1) - 2.0 * (x @ flat.T)  # (n, S*K), up to the constant |x|^2
        new_labels = dist.reshape(n, n_starts, k).argmin(axis=2)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        onehot = (labels[:, :, None] == np.arange(k)).reshape(n, n_starts * k).astype(float)
        counts = onehot.sum(axis=0)
        sums = onehot.T @ x
        filled = counts > 0
        flat = flat.copy()
        flat[filled] = sums[filled] / counts[filled, None]
        centres = flat.reshape(n_starts, k, d)
    return centres


def _random_centres(x: np.ndarray, k: int, n_starts: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct observations drawn at random per start (their nearest-centre partition is the start)."""
    n = x.shape[0]
    picks = np.argpartition(rng.random((n_starts, n)), k - 1, axis=1)[:, :k]
    return x[picks]


def _params_from_centres(data: _Data, centres: np.ndarray, parameterisation: str, reg_covar: float) -> _Params:
    """Starting values from the nearest-centre partition: its shares and means, and the pooled covariance.

    Every profile starts with the pooled within-partition covariance (as Mplus starts all classes from
    the same variances), so that a small cluster cannot start near a singular covariance.
    """
    n_starts, k, d = centres.shape
    flat = centres.reshape(n_starts * k, d)
    dist = (flat * flat).sum(axis=1) - 2.0 * (data.x @ flat.T)
    labels = dist.reshape(data.n, n_starts, k).argmin(axis=2)  # (n, S)
    onehot = (labels[:, :, None] == np.arange(k)).astype(float)  # (n, S, K)
    counts = onehot.sum(axis=0)  # (S, K)
    observed = np.ones_like(data.x) if data.mask is None else data.mask
    sums = np.einsum("nsk,nd->skd", onehot, data.x)
    n_obs = np.einsum("nsk,nd->skd", onehot, observed)
    means = np.where(n_obs > 0, sums / np.maximum(n_obs, 1.0), centres)
    weights = np.maximum(counts, 1.0)
    weights /= weights.sum(axis=1, keepdims=True)
    if _DIAGONAL[parameterisation]:
        cov = np.empty((n_starts, 1, d))
        for s in range(n_starts):
            resid = (data.x - means[s][labels[:, s]]) * observed
            cov[s, 0] = (resid * resid).sum(axis=0) / np.maximum(observed.sum(axis=0), 1.0)
        cov = np.maximum(cov, 1e-12) + reg_covar
    else:
        cov = np.empty((n_starts, 1, d, d))
        for s in range(n_starts):
            resid = data.x - means[s][labels[:, s]]
            cov[s, 0] = resid.T @ resid / data.n
        cov = cov + reg_covar * np.eye(d)
    if not _SHARED[parameterisation]:
        cov = np.repeat(cov, k, axis=1)
    return _Params(weights, means, cov)


# --------------------------------------------------------------------------------------------------
# EM over many starts


@dataclass
class _EMResult:
    best: _Params  # one start
    best_index: int
    loglik: float
    logliks: np.ndarray  # (S,) at the end of each start's run (-inf for failed starts)
    n_iter: np.ndarray  # (S,) M-steps performed
    converged: np.ndarray  # (S,) bool
    completed: np.ndarray  # (S,) bool: iterated to convergence (or max_iter), not abandoned after the first stage
    failed: np.ndarray  # (S,) bool: a profile collapsed or a covariance became singular


def _evaluate(data: _Data, params: _Params, parameterisation: str, collapsed: np.ndarray, low_precision=False):
    """E-step: posteriors ``(S, K, n)``, total log-likelihood per start, and which starts are unusable."""
    log_joint, singular = _log_joint(data, params, parameterisation)
    resp, row_ll = _normalise(log_joint, low_precision)
    with np.errstate(invalid="ignore"):
        ll = row_ll.sum(axis=1)
    bad = singular | collapsed | ~np.isfinite(ll)
    return resp, np.where(bad, -np.inf, ll), bad


def _free(params: _Params, diagonal: bool) -> list[np.ndarray]:
    """Unconstrained coordinates for extrapolation: log weights, means, log variances or log-Cholesky factors."""
    with np.errstate(divide="ignore"):
        parts = [np.log(params.weights), params.means]
    if diagonal:
        parts.append(np.log(params.cov))
    else:
        chol = np.linalg.cholesky(params.cov)
        idx = np.arange(chol.shape[-1])
        chol[..., idx, idx] = np.log(chol[..., idx, idx])
        parts.append(chol)
    return parts


def _unfree(parts: list[np.ndarray], diagonal: bool) -> _Params:
    log_w, means, cov = parts
    log_w = log_w - log_w.max(axis=1, keepdims=True)
    weights = np.exp(log_w)
    weights /= weights.sum(axis=1, keepdims=True)
    if diagonal:
        cov = np.exp(np.clip(cov, -700.0, 700.0))
    else:
        chol = np.tril(cov)
        idx = np.arange(chol.shape[-1])
        chol[..., idx, idx] = np.exp(np.clip(chol[..., idx, idx], -350.0, 350.0))
        cov = chol @ np.swapaxes(chol, -1, -2)
    return _Params(weights, means, cov)


def _extrapolate(
    p0: _Params, p1: _Params, p2: _Params, diagonal: bool, step_max: np.ndarray
) -> tuple[_Params, np.ndarray]:
    """SQUAREM step (Varadhan & Roland 2008, scheme S3): ``theta0 - 2 a r + a^2 v``, ``a = -|r|/|v|``.

    The step length is kept in ``[-step_max, -1]``; also returns whether it was cut at ``-step_max``.
    """
    f0, f1, f2 = _free(p0, diagonal), _free(p1, diagonal), _free(p2, diagonal)
    r = [b - a for a, b in zip(f0, f1, strict=True)]
    v = [c - 2.0 * b + a for a, b, c in zip(f0, f1, f2, strict=True)]
    n_starts = p0.n_starts

    def norm(parts: list[np.ndarray]) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(sum(np.nan_to_num(x * x).reshape(n_starts, -1).sum(axis=1) for x in parts))

    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = -norm(r) / norm(v)
    alpha = np.where(np.isfinite(alpha), np.minimum(alpha, -1.0), -1.0)
    at_max = alpha <= -step_max
    alpha = np.maximum(alpha, -step_max)
    out = []
    for a, dr, dv in zip(f0, r, v, strict=True):
        shape = (n_starts,) + (1,) * (a.ndim - 1)
        al = alpha.reshape(shape)
        with np.errstate(invalid="ignore"):
            out.append(np.where(np.isfinite(dv), a - 2.0 * al * dr + al * al * dv, a))
    return _unfree(out, diagonal), at_max


class _Tracker:
    """Per-start bookkeeping for :func:`_run_em`: final log-likelihoods, iterations and the best solution."""

    def __init__(self, n_total: int) -> None:
        self.logliks = np.full(n_total, -np.inf)
        self.n_iter = np.zeros(n_total, dtype=int)
        self.converged = np.zeros(n_total, dtype=bool)
        self.completed = np.zeros(n_total, dtype=bool)
        self.failed = np.zeros(n_total, dtype=bool)
        self.done = np.zeros(n_total, dtype=bool)
        self.best: _Params | None = None
        self.best_index = -1
        self.best_ll = -np.inf

    def fail(self, ids: np.ndarray) -> None:
        ids = ids[~self.done[ids]]
        self.failed[ids] = True
        self.done[ids] = True

    def finish(self, ids: np.ndarray, local: np.ndarray, params: _Params, ll: np.ndarray, converged: bool, it: int):
        """Record starts ``ids`` (positions ``local`` in ``params``) as iterated to the end."""
        fresh = ~self.done[ids]
        ids, local = ids[fresh], local[fresh]
        if ids.size == 0:
            return
        self.logliks[ids] = ll[local]
        self.n_iter[ids] = it
        self.converged[ids] = converged
        self.completed[ids] = True
        self.done[ids] = True
        top = int(np.argmax(ll[local]))
        if ll[local][top] > self.best_ll:
            self.best_ll = float(ll[local][top])
            self.best_index = int(ids[top])
            self.best = params.take(local[top : top + 1])


def _run_em(
    data: _Data,
    start: _Params,
    parameterisation: str,
    *,
    n_final: int,
    n_init_iter: int,
    max_iter: int,
    tol: float,
    reg_covar: float,
    accelerate: bool = True,
) -> _EMResult:
    """Iterate all starts together; after ``n_init_iter`` iterations only the ``n_final`` best go on.

    A start has converged when one plain EM step raises its log-likelihood by at most ``tol * |loglik|``.
    With ``accelerate`` each cycle is two EM steps, a SQUAREM extrapolation (accepted only if it beats the
    two EM steps, so the log-likelihood never decreases) and one more EM step from the point kept. The
    initial stage (only when ``n_final`` is below the number of starts) ranks the starts with float32
    exponentials and checks no convergence; everything after it is in float64.
    """
    diagonal = _DIAGONAL[parameterisation]
    n_total = start.n_starts
    track = _Tracker(n_total)
    active = np.arange(n_total)
    staged = n_final < n_total
    iteration = 0
    p0 = start
    # SQUAREM's step.max: starts at 1 (two plain EM steps), x4 whenever the step is cut and accepted.
    step_max = np.ones(n_total)
    low = staged
    resp0, ll0, bad0 = _evaluate(data, p0, parameterisation, np.zeros(n_total, dtype=bool), low)

    def small_gain(new: np.ndarray, old: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return new - old <= tol * np.abs(new)

    while True:
        track.fail(active[bad0])
        track.logliks[active] = np.where(track.done[active], track.logliks[active], ll0)
        track.n_iter[active] = np.where(track.done[active], track.n_iter[active], iteration)
        if iteration >= max_iter:
            idx = np.flatnonzero(~track.done[active])
            track.finish(active[idx], idx, p0, ll0, False, iteration)
        if staged and iteration >= n_init_iter:
            # End of the initial stage: only the n_final best starts (finished ones included) go on.
            ranking = np.where(track.failed, -np.inf, track.logliks)
            chosen = np.argsort(-ranking, kind="stable")[:n_final]
            abandoned = active[~np.isin(active, chosen) & ~track.done[active]]
            track.done[abandoned] = True
            staged = False
        keep = ~track.done[active]
        if not keep.any():
            break
        if not keep.all():
            active, p0, resp0, ll0 = active[keep], p0.take(keep), resp0[keep], ll0[keep]
            step_max = step_max[keep]
        if low and not staged:
            # Leaving the initial stage: recompute the E-step in float64 before any convergence check.
            low = False
            resp0, ll0, bad0 = _evaluate(data, p0, parameterisation, np.zeros(active.size, dtype=bool))
            continue
        ids = active
        local = np.arange(ids.size)

        p1, col1 = _m_step(data, resp0, parameterisation, reg_covar)
        resp1, ll1, bad1 = _evaluate(data, p1, parameterisation, col1, low)
        iteration += 1
        track.fail(ids[bad1])
        conv = ~bad1 & (not low) & small_gain(ll1, ll0)
        track.finish(ids[conv], local[conv], p1, ll1, True, iteration)
        if not accelerate or iteration >= max_iter:
            p0, resp0, ll0, bad0 = p1, resp1, ll1, bad1
            continue

        p2, col2 = _m_step(data, resp1, parameterisation, reg_covar)
        resp2, ll2, bad2 = _evaluate(data, p2, parameterisation, col2, low)
        iteration += 1
        track.fail(ids[bad2])
        conv = ~bad2 & (not low) & small_gain(ll2, ll1)
        track.finish(ids[conv], local[conv], p2, ll2, True, iteration)
        if iteration >= max_iter:
            p0, resp0, ll0, bad0 = p2, resp2, ll2, bad2
            continue

        usable = ~(bad1 | bad2)
        pe = _Params(p2.weights.copy(), p2.means.copy(), p2.cov.copy())
        at_max = np.zeros(ids.size, dtype=bool)
        if usable.any():
            jumped, at_max[usable] = _extrapolate(
                p0.take(usable), p1.take(usable), p2.take(usable), diagonal, step_max[usable]
            )
            pe.weights[usable], pe.means[usable], pe.cov[usable] = jumped.weights, jumped.means, jumped.cov
        resp_e, ll_e, bad_e = _evaluate(data, pe, parameterisation, np.zeros(ids.size, dtype=bool), low)
        accept = usable & ~bad_e & (ll_e > ll2)
        step_max = np.where(accept, np.where(at_max, 4.0 * step_max, step_max), np.maximum(1.0, step_max / 4.0))
        resp_e[~accept] = resp2[~accept]
        ll_from = np.where(accept, ll_e, ll2)
        p3, col3 = _m_step(data, resp_e, parameterisation, reg_covar)
        resp3, ll3, bad3 = _evaluate(data, p3, parameterisation, col3, low)
        iteration += 1
        conv = ~bad3 & (not low) & small_gain(ll3, ll_from)
        track.finish(ids[conv], local[conv], p3, ll3, True, iteration)
        p0, resp0, ll0, bad0 = p3, resp3, ll3, bad3 | bad1 | bad2

    if track.best is None:
        raise RuntimeError(
            "Every start failed: a profile collapsed to fewer than one observation or a covariance matrix "
            "became singular. Fit fewer profiles or a more constrained parameterisation."
        )
    return _EMResult(
        track.best,
        track.best_index,
        track.best_ll,
        track.logliks,
        track.n_iter,
        track.converged,
        track.completed,
        track.failed,
    )


# --------------------------------------------------------------------------------------------------
# Helpers for the public API


def _as_matrix(X: Any) -> tuple[np.ndarray, list[str], pd.Index | None]:
    """A float matrix, column names and (for a DataFrame) the row index."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        try:
            values = X.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError("Every indicator must be numeric.") from exc
        return values, names, X.index
    if isinstance(X, pd.Series):
        raise ValueError("Pass a DataFrame (one column per indicator), not a Series.")
    values = np.asarray(X, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"Expected a 2-dimensional array of indicators, got shape {values.shape}.")
    return values, [f"x{j + 1}" for j in range(values.shape[1])], None


def _random_resp_params(data: _Data, k: int, n_starts: int, rng, parameterisation: str, reg_covar: float) -> _Params:
    """Random posterior probabilities and their M-step, with equal weights (StepMix's ``init_params="random"``)."""
    resp = rng.random((n_starts, k, data.n))
    resp /= resp.sum(axis=1, keepdims=True)
    params, _ = _m_step(data, resp, parameterisation, reg_covar)
    params.weights[:] = 1.0 / k
    return params


def _n_cov_parameters(parameterisation: str, k: int, d: int) -> int:
    per_matrix = d if _DIAGONAL[parameterisation] else d * (d + 1) // 2
    return per_matrix * (1 if _SHARED[parameterisation] else k)


def _check_parameterisation(parameterisation: str) -> str:
    name = str(parameterisation).upper()
    if name not in PARAMETERISATIONS:
        raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}.")
    return name


def _profile_labels(k: int) -> list[str]:
    return [f"profile_{j + 1}" for j in range(k)]


def _entropy_terms(resp: np.ndarray) -> float:
    """``-sum p log p`` over observations and profiles (0 log 0 = 0)."""
    positive = resp[resp > 0]
    return float(-(positive * np.log(positive)).sum())


# --------------------------------------------------------------------------------------------------
# The estimator


class LatentProfileModel:
    """Latent profile model (a Gaussian mixture) with one of the LPA covariance parameterisations.

    Parameters
    ----------
    n_profiles : int, default=2
        Number of latent profiles ``K``.
    parameterisation : {"EEI", "VVI", "EEE", "VVV"}, default="EEI"
        Covariance structure within profiles: ``EEI`` diagonal and equal across profiles (local
        independence with equal variances; the Mplus and tidyLPA default), ``VVI`` diagonal and varying,
        ``EEE`` full and equal, ``VVV`` full and varying.
    n_starts : int, default=20
        Number of sets of random starting values (Mplus's first ``STARTS`` number). ``K = 1`` needs one.
    n_kmeans_starts : int, optional
        How many of the ``n_starts`` come from k-means (k-means++ seeding and ten Lloyd iterations).
        Default: a tenth, at least one. Of the others, half are random partitions (each observation to the
        nearest of ``K`` observations drawn at random) and half are random posterior probabilities
        (StepMix's and scikit-learn's ``init_params="random"``, which start all profiles near the overall
        mean and let EM split them). Partition starts take the partition's shares and means and its
        pooled within-partition covariance for every profile. Different kinds of start reach different
        local maxima; none dominates.
    n_final_starts : int, optional
        How many starts are iterated to convergence (Mplus's second ``STARTS`` number). When it is below
        ``n_starts``, every start first gets ``n_init_iter`` EM iterations and only the best
        ``n_final_starts`` go on. Default: all (every start is iterated to convergence). Screening is a
        gamble when K is larger than the data support: a start that is behind after ``n_init_iter``
        iterations can still end highest, so a screened run can end below a full run of fewer starts.
    n_init_iter : int, default=50
        EM iterations of the initial stage (Mplus's ``STITERATIONS``), used when ``n_final_starts`` is
        below ``n_starts``.
    max_iter : int, default=5000
        Maximum EM iterations (M-steps) per start.
    tol : float, default=1e-10
        Convergence: a start has converged when one EM step raises the log-likelihood by at most
        ``tol * |loglik|`` (for ``N = 2000`` and 25 indicators about 7e-6 log-likelihood points).
    reg_covar : float, default=1e-6
        Added to every variance (the diagonal of every covariance matrix), as in scikit-learn and
        StepMix, so that no profile can collapse onto a point.
    replication_tol : float, default=0.01
        Starts whose final log-likelihood is within this many points of the best count as replicating it.
    missing : {"fiml", "listwise"}, default="fiml"
        Missing values (NaN). ``"fiml"``: diagonal models (EEI, VVI) use every observed value (full
        information maximum likelihood under missing at random; each row's likelihood is over its
        observed indicators); full-covariance models (EEE, VVV) drop rows with a missing value, with a
        warning. Rows with no observed indicator are always dropped with a warning. ``"listwise"``: drop
        every row with a missing value.
    accelerate : bool, default=True
        SQUAREM acceleration of EM (Varadhan & Roland 2008): each cycle takes two EM steps,
        extrapolates, keeps the extrapolated point only if its log-likelihood is higher, and takes one
        more EM step. The log-likelihood never decreases; it reaches the same fixed point in far fewer
        iterations. ``False`` runs plain EM.
    init_params : dict or list of dict, optional
        Extra starting values, each ``{"weights", "means", "covariances"}`` in the shapes of the fitted
        attributes (see below), added to the random starts.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for the starting values (and for :meth:`sample`).

    Attributes
    ----------
    weights_ : ndarray of shape (K,)
        Profile shares, in decreasing order (profile 1 is the largest).
    means_ : ndarray of shape (K, d)
    covariances_ : ndarray
        ``(d,)`` for EEI, ``(K, d)`` for VVI, ``(d, d)`` for EEE, ``(K, d, d)`` for VVV.
    loglik_ : float
        Log-likelihood of the fitted model on the rows used.
    n_parameters_ : int
        Free parameters: ``K - 1`` weights, ``K d`` means and the covariance parameters.
    n_samples_ : int
        Rows used (after dropping rows, see ``missing``).
    converged_, n_iter_ :
        Whether the best start converged, and its number of EM iterations (M-steps).
    start_logliks_ : ndarray of shape (n_starts,)
        Log-likelihood at the end of each start's run: at convergence for the starts iterated to the end
        (``start_completed_``), after the initial stage for the others, ``-inf`` for failed starts.
    start_completed_, start_failed_ : ndarray of bool
    replication_count_, replication_ :
        How many, and which share, of the completed starts reached the best log-likelihood (within
        ``replication_tol``). Fewer than two gives a :class:`ReplicationWarning`.
    feature_names_in_ : list of str
    warnings_ : list of str
        The warnings given by the last fit.

    Notes
    -----
    Estimation is EM on all starts at once (see the module docstring). The indicators are centred
    internally; means are reported on the original scale.

    Examples
    --------
    >>> model = LatentProfileModel(3, "VVI", random_state=1).fit(frame)  # doctest: +SKIP
    >>> model.get_parameters_df()  # doctest: +SKIP
    >>> print(model.summary())  # doctest: +SKIP
    """

    def __init__(
        self,
        n_profiles: int = 2,
        parameterisation: str = "EEI",
        *,
        n_starts: int = 20,
        n_kmeans_starts: int | None = None,
        n_final_starts: int | None = None,
        n_init_iter: int = 50,
        max_iter: int = 5000,
        tol: float = 1e-10,
        reg_covar: float = 1e-6,
        replication_tol: float = 0.01,
        missing: str = "fiml",
        accelerate: bool = True,
        init_params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_profiles = n_profiles
        self.parameterisation = parameterisation
        self.n_starts = n_starts
        self.n_kmeans_starts = n_kmeans_starts
        self.n_final_starts = n_final_starts
        self.n_init_iter = n_init_iter
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.replication_tol = replication_tol
        self.missing = missing
        self.accelerate = accelerate
        self.init_params = init_params
        self.random_state = random_state

    def __repr__(self) -> str:
        return f"LatentProfileModel(n_profiles={self.n_profiles}, parameterisation={self.parameterisation!r})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters, as in scikit-learn."""
        names = [
            "n_profiles",
            "parameterisation",
            "n_starts",
            "n_kmeans_starts",
            "n_final_starts",
            "n_init_iter",
            "max_iter",
            "tol",
            "reg_covar",
            "replication_tol",
            "missing",
            "accelerate",
            "init_params",
            "random_state",
        ]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> LatentProfileModel:
        """Set constructor parameters, as in scikit-learn."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Unknown parameter {name!r}.")
            setattr(self, name, value)
        return self

    # ---- fitting -----------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame | np.ndarray, y: None = None) -> LatentProfileModel:
        """Estimate the model by EM from many starting values.

        Parameters
        ----------
        X : DataFrame or array of shape (n, d)
            One row per participant, one column per indicator; NaN for a missing value.
        y : ignored

        Returns
        -------
        self : LatentProfileModel
        """
        extra = self.init_params
        if isinstance(extra, Mapping):
            extra = [extra]
        return self._fit(X, list(extra or []), int(self.n_starts))

    def fit_from(self, X: pd.DataFrame | np.ndarray, weights: Any, means: Any, covariances: Any) -> LatentProfileModel:
        """Run EM to convergence from the given parameters only (no random starts).

        Parameters
        ----------
        X : DataFrame or array of shape (n, d)
        weights : array of shape (K,)
        means : array of shape (K, d)
        covariances : array
            In the shape of ``covariances_`` for this parameterisation.

        Returns
        -------
        self : LatentProfileModel
        """
        return self._fit(X, [{"weights": weights, "means": means, "covariances": covariances}], 0)

    def _validate(self) -> tuple[str, int]:
        parameterisation = _check_parameterisation(self.parameterisation)
        k = int(self.n_profiles)
        if k < 1:
            raise ValueError("n_profiles must be at least 1.")
        if self.missing not in ("fiml", "listwise"):
            raise ValueError("missing must be 'fiml' or 'listwise'.")
        if int(self.n_starts) < 0 or int(self.max_iter) < 1 or not self.tol >= 0 or not self.reg_covar >= 0:
            raise ValueError("n_starts must be >= 0, max_iter >= 1, tol >= 0 and reg_covar >= 0.")
        return parameterisation, k

    def _rows(self, values: np.ndarray, parameterisation: str, messages: list[str]) -> np.ndarray:
        """Which rows the fit uses."""
        observed = np.isfinite(values)
        keep = observed.any(axis=1)
        if (~keep).any():
            messages.append(f"{int((~keep).sum())} row(s) without any observed indicator were dropped.")
        if not observed[keep].all():
            if self.missing == "listwise":
                keep &= observed.all(axis=1)
            elif not _DIAGONAL[parameterisation]:
                dropped = int((keep & ~observed.all(axis=1)).sum())
                keep &= observed.all(axis=1)
                messages.append(
                    f"{dropped} row(s) with missing values were dropped: full information maximum likelihood "
                    f"is implemented for the diagonal parameterisations (EEI, VVI) only."
                )
        return keep

    def _starting_values(self, data: _Data, parameterisation: str, k: int, n_random: int, rng) -> _Params:
        if k == 1:
            params, _ = _m_step(data, np.ones((1, 1, data.n)), parameterisation, self.reg_covar)
            return params
        n_kmeans = self.n_kmeans_starts
        n_kmeans = max(1, round(n_random / 10)) if n_kmeans is None else int(n_kmeans)
        n_kmeans = min(max(n_kmeans, 0), n_random)
        parts = []
        if n_kmeans:
            centres = _kmeans_centres(data.x, k, n_kmeans, rng)
            parts.append(_params_from_centres(data, centres, parameterisation, self.reg_covar))
        n_partitions = (n_random - n_kmeans) // 2
        if n_partitions:
            centres = _random_centres(data.x, k, n_partitions, rng)
            parts.append(_params_from_centres(data, centres, parameterisation, self.reg_covar))
        n_posteriors = n_random - n_kmeans - n_partitions
        if n_posteriors:
            parts.append(_random_resp_params(data, k, n_posteriors, rng, parameterisation, self.reg_covar))
        return _Params.concat(parts)

    def _internal(self, given: Mapping[str, Any], data: _Data, parameterisation: str, k: int) -> _Params:
        """User-given parameters (public shapes, original scale) as one internal start."""
        d = data.d
        weights = np.asarray(given["weights"], dtype=float).reshape(k)
        means = np.asarray(given["means"], dtype=float).reshape(k, d) - data.center
        cov = np.asarray(given["covariances"], dtype=float)
        shapes = {"EEI": (d,), "VVI": (k, d), "EEE": (d, d), "VVV": (k, d, d)}
        expected = shapes[parameterisation]
        if cov.shape != expected:
            raise ValueError(f"covariances for {parameterisation} must have shape {expected}, got {cov.shape}.")
        if parameterisation == "EEI":
            cov = cov[None, :]
        elif parameterisation == "EEE":
            cov = cov[None, :, :]
        if weights.min() <= 0:
            raise ValueError("Every starting weight must be positive.")
        return _Params((weights / weights.sum())[None], means[None], cov[None].copy())

    def _fit(self, X: Any, extra: list[Mapping[str, Any]], n_random: int) -> LatentProfileModel:
        parameterisation, k = self._validate()
        values, names, _ = _as_matrix(X)
        messages: list[str] = []
        keep = self._rows(values, parameterisation, messages)
        used = values[keep]
        if used.shape[0] <= k:
            raise ValueError(f"{used.shape[0]} usable rows are too few for {k} profiles.")
        data = _prepare(used, parameterisation)
        rng = np.random.default_rng(self.random_state)
        parts = [self._internal(given, data, parameterisation, k) for given in extra]
        if k == 1 or n_random > 0:
            parts.append(self._starting_values(data, parameterisation, k, n_random, rng))
        if not parts:
            raise ValueError("No starting values: n_starts is 0 and no init_params were given.")
        start = _Params.concat(parts)
        n_total = start.n_starts
        n_final = n_total if self.n_final_starts is None else min(max(int(self.n_final_starts), 1), n_total)
        result = _run_em(
            data,
            start,
            parameterisation,
            n_final=n_final,
            n_init_iter=int(self.n_init_iter),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            reg_covar=float(self.reg_covar),
            accelerate=bool(self.accelerate),
        )
        self._store(result, data, parameterisation, k, names, messages)
        return self

    def _store(self, result: _EMResult, data: _Data, parameterisation: str, k: int, names, messages) -> None:
        best = result.best
        order = np.argsort(-best.weights[0], kind="stable")
        weights = best.weights[0][order]
        means = best.means[0][order] + data.center
        cov = best.cov[0]
        if not _SHARED[parameterisation]:
            cov = cov[order]
        self.parameterisation_ = parameterisation
        self.weights_ = weights
        self.means_ = means
        self.covariances_ = cov[0] if _SHARED[parameterisation] else cov
        self.feature_names_in_ = list(names)
        self.n_features_in_ = data.d
        self.n_samples_ = data.n
        self._center = data.center
        # Recompute the E-step at the reported parameters in float64: loglik_ is exactly theirs.
        internal = _Params(
            weights[None], (means - data.center)[None], best.cov if _SHARED[parameterisation] else cov[None]
        )
        resp, ll, _ = _evaluate(data, internal, parameterisation, np.zeros(1, dtype=bool))
        self.loglik_ = float(ll[0])
        self.n_parameters_ = (k - 1) + k * data.d + _n_cov_parameters(parameterisation, k, data.d)
        self.converged_ = bool(result.converged[result.best_index])
        self.n_iter_ = int(result.n_iter[result.best_index])
        self.start_logliks_ = result.logliks.copy()
        self.start_completed_ = result.completed.copy()
        self.start_failed_ = result.failed.copy()
        completed = result.logliks[result.completed]
        self.replication_count_ = int((completed >= result.loglik - self.replication_tol).sum())
        self.replication_ = self.replication_count_ / max(int(result.completed.sum()), 1)
        posterior = resp[0]  # (K, n)
        self.classification_entropy_ = _entropy_terms(posterior)
        labels = posterior.argmax(axis=0)
        self.modal_counts_ = np.bincount(labels, minlength=k)
        messages = list(messages)
        if k > 1 and result.completed.sum() > 1 and self.replication_count_ < 2:
            messages.insert(
                0,
                f"The best log-likelihood ({self.loglik_:.3f}) was reached by only 1 of "
                f"{int(result.completed.sum())} starts iterated to convergence: it may be a local maximum. "
                "Increase n_starts (and n_final_starts).",
            )
        if not self.converged_:
            messages.append(f"EM did not converge within max_iter={self.max_iter} iterations.")
        variances = np.diagonal(self.covariances_, axis1=-2, axis2=-1) if not _DIAGONAL[parameterisation] else None
        variances = self.covariances_ if variances is None else variances
        overall = np.nanvar(data.x if data.mask is None else np.where(data.mask > 0, data.x, np.nan), axis=0)
        if np.any(np.asarray(variances) < 1e-4 * np.maximum(overall, 1e-300)):
            messages.append(
                "A profile has a (near) zero variance on an indicator: the likelihood may be degenerate "
                "(a spurious maximum). Consider fewer profiles or an equal-variance parameterisation."
            )
        self.warnings_ = messages
        for message in messages:
            category = ReplicationWarning if message.startswith("The best log-likelihood") else LPAWarning
            warnings.warn(message, category, stacklevel=4)

    # ---- using a fitted model ------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise RuntimeError("This LatentProfileModel is not fitted yet: call fit(X) first.")

    def _internal_params(self) -> _Params:
        cov = self.covariances_
        if self.parameterisation_ == "EEI":
            cov = cov[None, :]
        elif self.parameterisation_ == "EEE":
            cov = cov[None, :, :]
        return _Params(self.weights_[None], (self.means_ - self._center)[None], cov[None])

    def _posterior(self, X: Any) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
        """Posterior ``(n, K)`` and per-row log-likelihood ``(n,)``; NaN for rows the model cannot score."""
        self._check_fitted()
        values, names, index = _as_matrix(X)
        if values.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {values.shape[1]} indicators; the model was fitted on {self.n_features_in_}.")
        if index is not None and names != self.feature_names_in_:
            raise ValueError(f"X has columns {names}; the model was fitted on {self.feature_names_in_}.")
        observed = np.isfinite(values)
        usable = observed.any(axis=1) if _DIAGONAL[self.parameterisation_] else observed.all(axis=1)
        resp = np.full((values.shape[0], self.weights_.size), np.nan)
        row_ll = np.full(values.shape[0], np.nan)
        if usable.any():
            data = _prepare(values[usable], self.parameterisation_, center=self._center)
            log_joint, _ = _log_joint(data, self._internal_params(), self.parameterisation_)
            post, ll = _normalise(log_joint)
            resp[usable] = post[0].T
            row_ll[usable] = ll[0]
        return resp, row_ll, index

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
        """Posterior probability of each profile for each row.

        Parameters
        ----------
        X : DataFrame or array of shape (n, d)

        Returns
        -------
        DataFrame (columns ``profile_1`` ...; the index of ``X``) when ``X`` is a DataFrame, else an array
        of shape (n, K). Rows the model cannot score (no observed indicator; any missing value for EEE and
        VVV) are NaN.
        """
        resp, _, index = self._posterior(X)
        if index is None:
            return resp
        return pd.DataFrame(resp, index=index, columns=_profile_labels(self.weights_.size))

    def predict(self, X: pd.DataFrame | np.ndarray) -> pd.Series | np.ndarray:
        """Most likely profile (0-based; ``-1`` for rows that cannot be scored), as a Series for a DataFrame."""
        resp, _, index = self._posterior(X)
        valid = np.isfinite(resp).all(axis=1)
        labels = np.full(resp.shape[0], -1)
        labels[valid] = resp[valid].argmax(axis=1)
        if index is None:
            return labels
        return pd.Series(labels, index=index, name="profile")

    def score_samples(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Log-likelihood of each row (over its observed indicators); NaN for rows that cannot be scored."""
        return self._posterior(X)[1]

    def score(self, X: pd.DataFrame | np.ndarray, y: None = None) -> float:
        """Mean log-likelihood per scored row (scikit-learn's convention for mixtures)."""
        return float(np.nanmean(self.score_samples(X)))

    def _loglik_n(self, X: Any | None) -> tuple[float, int]:
        if X is None:
            self._check_fitted()
            return self.loglik_, self.n_samples_
        row_ll = self.score_samples(X)
        scored = np.isfinite(row_ll)
        return float(row_ll[scored].sum()), int(scored.sum())

    def aic(self, X: pd.DataFrame | np.ndarray | None = None) -> float:
        """Akaike information criterion ``-2 LL + 2 p`` (on the training data when ``X`` is None)."""
        ll, _ = self._loglik_n(X)
        return -2.0 * ll + 2.0 * self.n_parameters_

    def bic(self, X: pd.DataFrame | np.ndarray | None = None) -> float:
        """Bayesian information criterion ``-2 LL + p ln n`` (Schwarz 1978)."""
        ll, n = self._loglik_n(X)
        return -2.0 * ll + self.n_parameters_ * math.log(n)

    def sabic(self, X: pd.DataFrame | np.ndarray | None = None) -> float:
        """Sample-size adjusted BIC ``-2 LL + p ln((n + 2) / 24)`` (Sclove 1987), as Mplus and tidyLPA report it."""
        ll, n = self._loglik_n(X)
        return -2.0 * ll + self.n_parameters_ * math.log((n + 2.0) / 24.0)

    def classification_entropy(self, X: pd.DataFrame | np.ndarray | None = None) -> float:
        """``EN = -sum_i sum_k p_ik ln p_ik`` over the posterior probabilities."""
        if X is None:
            self._check_fitted()
            return self.classification_entropy_
        resp, _, _ = self._posterior(X)
        return _entropy_terms(resp[np.isfinite(resp).all(axis=1)])

    def icl(self, X: pd.DataFrame | np.ndarray | None = None) -> float:
        """ICL-BIC ``BIC + 2 EN`` (Biernacki, Celeux & Govaert 2000; McLachlan & Peel 2000), lower is better."""
        return self.bic(X) + 2.0 * self.classification_entropy(X)

    def entropy(self, X: pd.DataFrame | np.ndarray | None = None) -> float:
        """Relative entropy ``1 - EN / (n ln K)`` (Ramaswamy et al. 1993).

        1 is a perfect classification; NaN for one profile.
        """
        k = self.weights_.size if hasattr(self, "weights_") else int(self.n_profiles)
        if k == 1:
            return float("nan")
        if X is None:
            n = self.n_samples_
        else:
            resp, _, _ = self._posterior(X)
            n = int(np.isfinite(resp).all(axis=1).sum())
        return 1.0 - self.classification_entropy(X) / (n * math.log(k))

    def fit_statistics(self) -> pd.Series:
        """The fit numbers a paper's enumeration table needs, for the training data."""
        self._check_fitted()
        k = self.weights_.size
        return pd.Series(
            {
                "loglik": self.loglik_,
                "n_parameters": self.n_parameters_,
                "n": self.n_samples_,
                "aic": self.aic(),
                "bic": self.bic(),
                "sabic": self.sabic(),
                "icl": self.icl(),
                "entropy": self.entropy(),
                "smallest_share": float(self.weights_.min()),
                "smallest_n": int(self.modal_counts_.min()),
                "replication": self.replication_ if k > 1 else float("nan"),
                "converged": self.converged_,
            },
            name=(self.parameterisation_, k),
        )

    def sample(
        self, n_samples: int = 1, random_state: int | np.random.Generator | None = None
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Draw from the fitted model.

        Parameters
        ----------
        n_samples : int
        random_state : int, Generator or None
            Defaults to the model's ``random_state``.

        Returns
        -------
        X : DataFrame of shape (n_samples, d), columns as in the training data
        labels : ndarray of shape (n_samples,), the generating profile (0-based)
        """
        self._check_fitted()
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        k, d = self.means_.shape
        labels = rng.choice(k, size=n_samples, p=self.weights_ / self.weights_.sum())
        noise = rng.standard_normal((n_samples, d))
        cov = self.covariances_
        if self.parameterisation_ in ("EEI", "VVI"):
            sd = np.sqrt(np.broadcast_to(cov, (k, d)))
            values = self.means_[labels] + noise * sd[labels]
        else:
            chol = np.linalg.cholesky(np.broadcast_to(cov, (k, d, d)))
            values = self.means_[labels] + np.einsum("nij,nj->ni", chol[labels], noise)
        return pd.DataFrame(values, columns=self.feature_names_in_), labels

    # ---- reporting ----------------------------------------------------------------------------------

    def get_parameters_df(self) -> pd.DataFrame:
        """All parameters in long form.

        Returns
        -------
        DataFrame with columns ``parameter`` (``weight``, ``mean``, ``variance`` or ``covariance``),
        ``profile`` (``profile_1`` ...; ``all`` for a covariance shared by every profile), ``variable``,
        ``variable_2`` (the second indicator of a covariance) and ``value``.
        """
        self._check_fitted()
        k, d = self.means_.shape
        labels = _profile_labels(k)
        names = self.feature_names_in_
        rows: list[tuple[str, str, str | None, str | None, float]] = []
        rows += [("weight", labels[j], None, None, float(self.weights_[j])) for j in range(k)]
        rows += [("mean", labels[j], names[i], None, float(self.means_[j, i])) for j in range(k) for i in range(d)]
        shared = _SHARED[self.parameterisation_]
        owners = ["all"] if shared else labels
        covs = self.covariances_[None] if shared else self.covariances_
        for owner, cov in zip(owners, covs, strict=True):
            if _DIAGONAL[self.parameterisation_]:
                rows += [("variance", owner, names[i], None, float(cov[i])) for i in range(d)]
            else:
                rows += [
                    ("covariance", owner, names[i], names[j], float(cov[i, j])) for i in range(d) for j in range(i, d)
                ]
        return pd.DataFrame(rows, columns=["parameter", "profile", "variable", "variable_2", "value"])

    def get_means_df(self) -> pd.DataFrame:
        """Profile means, one row per profile (with its share) and one column per indicator."""
        self._check_fitted()
        frame = pd.DataFrame(self.means_, index=_profile_labels(self.weights_.size), columns=self.feature_names_in_)
        frame.insert(0, "share", self.weights_)
        return frame

    def summary(self) -> str:
        """A readable report: fit statistics, replication and the profile means."""
        self._check_fitted()
        stats_ = self.fit_statistics()
        k = self.weights_.size
        lines = [
            f"Latent profile model: {k} profile(s), {self.parameterisation_} ({_DESCRIPTIONS[self.parameterisation_]})",
            f"n = {self.n_samples_}, {self.n_features_in_} indicators, {self.n_parameters_} free parameters",
            f"log-likelihood {self.loglik_:.3f}   AIC {stats_['aic']:.2f}   BIC {stats_['bic']:.2f}   "
            f"SABIC {stats_['sabic']:.2f}   ICL {stats_['icl']:.2f}",
            f"entropy {stats_['entropy']:.3f}   smallest profile {stats_['smallest_share']:.1%} "
            f"(modal n = {stats_['smallest_n']})",
            f"best log-likelihood reached by {self.replication_count_} of {int(self.start_completed_.sum())} "
            f"start(s) iterated to convergence; converged: {self.converged_} after {self.n_iter_} iterations",
            "",
            self.get_means_df().round(3).to_string(),
        ]
        if self.warnings_:
            lines += ["", "Warnings:"] + [f"  - {message}" for message in self.warnings_]
        return "\n".join(lines)


_DESCRIPTIONS = {
    "EEI": "diagonal covariance, equal across profiles",
    "VVI": "diagonal covariance, varying across profiles",
    "EEE": "full covariance, equal across profiles",
    "VVV": "full covariance, varying across profiles",
}


# --------------------------------------------------------------------------------------------------
# Tests of K - 1 against K profiles


def lmr_test(
    loglik_null: float, loglik_alt: float, n_parameters_null: int, n_parameters_alt: int, n: int, k_null: int
) -> tuple[float, float]:
    """Ad hoc adjusted Lo-Mendell-Rubin likelihood ratio test of ``k_null`` against ``k_null + 1`` profiles.

    This is the approximation tidyLPA computes (its ``calc_lrt``), after the ad hoc adjustment of Lo,
    Mendell & Rubin (2001): the likelihood ratio ``LR = 2 (LL_alt - LL_null)`` is divided by
    ``1 + 1 / (((3 k_alt - 1) - (3 k_null - 1)) ln n)`` (the parameter counts of univariate normal
    mixtures, so the divisor is ``1 + 1 / (3 ln n)``) and referred to a chi-square distribution with
    ``n_parameters_alt - n_parameters_null`` degrees of freedom. It is *not* the Vuong-Lo-Mendell-Rubin
    test of Mplus TECH11, whose reference distribution is a weighted sum of chi-squares built from the
    score and information matrices of both models; tidyLPA's documentation calls its version an
    approximation, and so do we. Prefer the bootstrapped LRT (``blrt_p``) for decisions.

    Parameters
    ----------
    loglik_null, loglik_alt : float
        Log-likelihoods of the ``k_null`` and ``k_null + 1`` profile models on the same data.
    n_parameters_null, n_parameters_alt : int
    n : int
        Number of observations.
    k_null : int

    Returns
    -------
    statistic : float
        The adjusted likelihood ratio.
    p_value : float
    """
    lr = 2.0 * (loglik_alt - loglik_null)
    k_alt = k_null + 1
    adjusted = lr / (1.0 + 1.0 / (((3 * k_alt - 1) - (3 * k_null - 1)) * math.log(n)))
    df = n_parameters_alt - n_parameters_null
    if not math.isfinite(adjusted) or df <= 0:
        return float("nan"), float("nan")
    return float(adjusted), float(stats.chi2.sf(max(adjusted, 0.0), df))


def incremental_starts(
    model: LatentProfileModel,
    X: pd.DataFrame | np.ndarray,
    *,
    outlier_shares: Sequence[float] = (0.01, 0.02, 0.05),
    n_groups: int = 6,
) -> list[dict[str, np.ndarray]]:
    """Starting values for ``K + 1`` profiles built from a fitted ``K``-profile model.

    One start per profile splits that profile in two along its direction of largest variance; one more
    per share in ``outlier_shares`` adds a small new profile at the rows the model fits worst (that share
    of rows with the lowest log-likelihood), with their mean and the model's average covariance, and one
    per group when the worst-fitting tenth of the rows is split into ``n_groups`` by k-means. Random
    starts seldom find such small profiles, yet over-extracted solutions often hold one (greedy EM,
    Verbeek, Vlassis & Kröse 2003). :func:`enumerate_profiles` adds these to the random starts of every
    K after the first.

    Parameters
    ----------
    model : LatentProfileModel
        A fitted model with ``K`` profiles.
    X : DataFrame or array of shape (n, d)
        The data it was fitted on.
    outlier_shares : sequence of float, default=(0.01, 0.02, 0.05)
        Shares of rows that seed a new profile (each at least ``d + 1`` rows).
    n_groups : int, default=6
        Groups the worst-fitting tenth of the rows is split into, each seeding a new profile.

    Returns
    -------
    list of dict
        ``{"weights", "means", "covariances"}`` for ``K + 1`` profiles, for ``init_params``.
    """
    starts = _split_starts(model)
    values, _, _ = _as_matrix(X)
    row_ll = model.score_samples(X)
    scored = np.flatnonzero(np.isfinite(row_ll))
    order = scored[np.argsort(row_ll[scored])]
    d = values.shape[1]
    param = model.parameterisation_
    if _SHARED[param]:
        covariances = model.covariances_
    else:
        covariances = np.concatenate([model.covariances_, model.covariances_.mean(axis=0, keepdims=True)])
    seen: set[int] = set()
    for outlier_share in outlier_shares:
        count = min(len(scored), max(d + 1, round(outlier_share * len(scored))))
        if count < 2 or count in seen:
            continue
        seen.add(count)
        mean = np.nanmean(values[order[:count]], axis=0)
        mean = np.where(np.isfinite(mean), mean, np.nanmean(values, axis=0))
        share = count / len(scored)
        weights = np.append(model.weights_ * (1.0 - share), share)
        starts.append({"weights": weights, "means": np.vstack([model.means_, mean]), "covariances": covariances})
    # the worst-fitting tenth split into groups: a small profile may sit at any of them
    pool = order[: max(2 * (d + 1), len(scored) // 10)]
    complete = pool[np.isfinite(values[pool]).all(axis=1)]
    groups = min(n_groups, len(complete) // (d + 1))
    if groups >= 2:
        rng = np.random.default_rng(len(scored) * 7919 + model.n_profiles)
        centres = _kmeans_centres(values[complete], groups, 1, rng)[0]
        labels = ((values[complete][:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        for group in range(groups):
            members = complete[labels == group]
            if len(members) < 2:
                continue
            share = len(members) / len(scored)
            weights = np.append(model.weights_ * (1.0 - share), share)
            mean = values[members].mean(axis=0)
            starts.append({"weights": weights, "means": np.vstack([model.means_, mean]), "covariances": covariances})
    return starts


def _adopt(original: LatentProfileModel, probe: LatentProfileModel) -> LatentProfileModel:
    """``probe`` (fitted from extra starts only, with a higher maximum) as if its starts had been the
    original's extra starts: the start records joined, replication counted over all of them."""
    probe.n_starts = original.n_starts
    probe.init_params = [*(original.init_params or []), *(probe.init_params or [])]
    probe.start_logliks_ = np.concatenate([original.start_logliks_, probe.start_logliks_])
    probe.start_completed_ = np.concatenate([original.start_completed_, probe.start_completed_])
    probe.start_failed_ = np.concatenate([original.start_failed_, probe.start_failed_])
    completed = probe.start_logliks_[probe.start_completed_]
    probe.replication_count_ = int((completed >= probe.loglik_ - probe.replication_tol).sum())
    probe.replication_ = probe.replication_count_ / max(completed.size, 1)
    messages = [m for m in probe.warnings_ if not m.startswith("The best log-likelihood")]
    if completed.size > 1 and probe.replication_count_ < 2:
        messages.insert(
            0,
            f"The best log-likelihood ({probe.loglik_:.3f}) was reached by only 1 of {completed.size} starts "
            "iterated to convergence: it may be a local maximum. Increase n_starts (and n_final_starts).",
        )
    probe.warnings_ = messages
    return probe


def _pruned_starts(model: LatentProfileModel) -> list[dict[str, np.ndarray]]:
    """Starting values for ``K - 1`` profiles from a ``K``-profile model: each profile left out in turn."""
    k = model.n_profiles
    starts = []
    for j in range(k):
        keep = [i for i in range(k) if i != j]
        weights = model.weights_[keep] / model.weights_[keep].sum()
        covariances = model.covariances_ if _SHARED[model.parameterisation_] else model.covariances_[keep]
        starts.append({"weights": weights, "means": model.means_[keep], "covariances": covariances})
    return starts


def _split_starts(model: LatentProfileModel) -> list[dict[str, np.ndarray]]:
    """Starting values for ``K`` profiles from a ``K - 1`` profile model: each profile split in two along its
    direction of largest variance (half a standard deviation either side), the others kept."""
    k, d = model.means_.shape
    param = model.parameterisation_
    starts = []
    for j in range(k):
        cov_j = model.covariances_ if _SHARED[param] else model.covariances_[j]
        if _DIAGONAL[param]:
            axis = np.zeros(d)
            top = int(np.argmax(cov_j))
            axis[top] = math.sqrt(cov_j[top])
        else:
            values, vectors = np.linalg.eigh(cov_j)
            axis = vectors[:, -1] * math.sqrt(max(values[-1], 0.0))
        means = np.vstack([model.means_, model.means_[j] - 0.5 * axis])
        means[j] = model.means_[j] + 0.5 * axis
        weights = np.append(model.weights_, model.weights_[j] / 2.0)
        weights[j] /= 2.0
        if _SHARED[param]:
            cov = model.covariances_
        else:
            cov = np.concatenate([model.covariances_, model.covariances_[j : j + 1]])
        starts.append({"weights": weights, "means": means, "covariances": cov})
    return starts


def _bootstrap_lrt(
    null: LatentProfileModel,
    alt: LatentProfileModel,
    n_draws: int,
    n_starts: int,
    rng: np.random.Generator,
    model_params: Mapping[str, Any],
) -> tuple[float, np.ndarray]:
    """Parametric bootstrap of the likelihood ratio (McLachlan 1987; Nylund et al. 2007).

    Each draw simulates ``n`` rows from the fitted ``K - 1`` model, fits ``K - 1`` profiles from the
    generating values and ``K`` profiles from ``n_starts`` random starts (a quarter iterated to
    convergence) plus the ``K - 1`` solution with each profile split (as Mplus's ``LRTSTARTS = 0 0 20 5``).
    The p-value is ``(1 + #{LR_b >= LR}) / (1 + n_draws)``.
    """
    observed = 2.0 * (alt.loglik_ - null.loglik_)
    k = alt.weights_.size
    draws = np.empty(n_draws)
    generating = {"weights": null.weights_, "means": null.means_, "covariances": null.covariances_}
    params = {key: value for key, value in model_params.items() if key not in ("init_params", "random_state")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(n_draws):
            sample, _ = null.sample(null.n_samples_, random_state=rng)
            try:
                h0 = LatentProfileModel(k - 1, null.parameterisation_, **params).fit_from(sample, **generating)
                h1 = LatentProfileModel(
                    k,
                    null.parameterisation_,
                    **{
                        **params,
                        "n_starts": n_starts,
                        "n_final_starts": max(1, n_starts // 4),
                        "init_params": _split_starts(h0),
                        "random_state": rng,
                    },
                ).fit(sample)
            except RuntimeError:  # every start collapsed on this draw
                draws[b] = np.nan
                continue
            draws[b] = max(0.0, 2.0 * (h1.loglik_ - h0.loglik_))
    valid = draws[np.isfinite(draws)]
    p_value = (1.0 + float(np.sum(valid >= observed))) / (1.0 + valid.size)
    return p_value, draws


# --------------------------------------------------------------------------------------------------
# Enumeration


@dataclass(frozen=True)
class Recommendation:
    """The number of profiles an enumeration points to, and why."""

    parameterisation: str
    n_profiles: int
    reason: str
    bic_choice: int
    blrt_choice: int | None

    def __str__(self) -> str:
        return f"{self.n_profiles} profiles ({self.parameterisation}): {self.reason}"


_TABLE_COLUMNS = [
    "loglik",
    "n_parameters",
    "n",
    "aic",
    "bic",
    "sabic",
    "icl",
    "entropy",
    "smallest_share",
    "smallest_n",
    "replication",
    "lmr_p",
    "blrt_p",
    "converged",
    "warnings",
]


class EnumerationResult:
    """Fits for a range of profile numbers and parameterisations, with the table researchers report.

    Attributes
    ----------
    models : dict
        ``{(parameterisation, K): LatentProfileModel}`` for every model that could be fitted.
    alpha : float
        Significance level used by :attr:`recommended` for the BLRT.
    bootstrap_draws : dict
        ``{(parameterisation, K): ndarray}``, the bootstrapped likelihood ratios of ``K - 1`` vs ``K``.
    """

    def __init__(self, table: pd.DataFrame, models: dict, bootstrap_draws: dict, alpha: float) -> None:
        self._table = table
        self.models = models
        self.bootstrap_draws = bootstrap_draws
        self.alpha = alpha

    def to_frame(self) -> pd.DataFrame:
        """The fit table: one row per parameterisation and K (a ``(parameterisation, n_profiles)`` index).

        Columns: ``loglik``, ``n_parameters``, ``n``, ``aic``, ``bic``, ``sabic`` (Sclove's
        ``n* = (n + 2) / 24``), ``icl`` (BIC + 2 x classification entropy), ``entropy`` (relative),
        ``smallest_share`` (smallest estimated profile share), ``smallest_n`` (smallest modal profile size),
        ``replication`` (share of starts iterated to convergence that reached the best log-likelihood),
        ``lmr_p`` (ad hoc adjusted LMR test of K - 1 vs K, see :func:`lmr_test`), ``blrt_p`` (bootstrapped
        LRT of K - 1 vs K), ``converged`` and ``warnings``.
        """
        return self._table.copy()

    @property
    def recommended(self) -> Recommendation:
        """The K with the lowest BIC, cross-checked with the BLRT.

        BIC and the bootstrapped LRT were the most reliable indicators in the simulations of Nylund,
        Asparouhov & Muthén (2007). The BLRT's choice is the K before the first non-significant test
        (``blrt_p >= alpha``) in the BIC's parameterisation. When they disagree the BIC's K is returned and
        the reason says so.
        """
        table = self._table[np.isfinite(self._table["bic"])]
        if table.empty:
            raise ValueError("No model could be fitted.")
        parameterisation, k = table["bic"].idxmin()
        rows = table.loc[parameterisation]
        ks = sorted(rows.index)
        bic = rows["bic"]
        parts = [f"BIC is lowest for {parameterisation} with K = {k} (BIC {bic[k]:.1f})"]
        others = bic.drop(k)
        if not others.empty:
            runner = others.idxmin()
            parts[0] += f"; next best K = {runner} ({others[runner]:.1f})"
        parts[0] += "."
        if k == max(ks) and len(ks) > 1:
            parts.append("BIC still falls at the largest K fitted: fit more profiles before deciding.")
        blrt = rows["blrt_p"]
        tested = [kk for kk in ks if kk >= 2 and np.isfinite(blrt[kk])]
        blrt_choice = None
        if tested:
            first_ns = next((kk for kk in tested if blrt[kk] >= self.alpha), None)
            blrt_choice = (first_ns - 1) if first_ns is not None else max(tested)
            if blrt_choice == k:
                detail = f"K = {k} improves on K = {k - 1}" if k - 1 in ks and k in tested else f"K = {k}"
                if k in tested:
                    detail += f" (BLRT p = {blrt[k]:.3f})"
                if first_ns is not None:
                    detail += f" and K = {first_ns} does not (p = {blrt[first_ns]:.3f})"
                parts.append(f"The bootstrapped LRT agrees: {detail}.")
            else:
                where = (
                    f"it first fails to improve at K = {first_ns} (p = {blrt[first_ns]:.3f})"
                    if first_ns is not None
                    else f"every K up to {max(tested)} improves significantly"
                )
                parts.append(
                    f"The bootstrapped LRT disagrees: {where}, which points to K = {blrt_choice}. BIC and BLRT "
                    "performed best in Nylund, Asparouhov & Muthén (2007); weigh the profiles' interpretation, "
                    "the smallest profile and the entropy."
                )
        else:
            parts.append("No bootstrapped LRT was run (bootstrap=0), so BIC alone decides.")
        notes = rows.loc[k, "warnings"]
        if notes:
            parts.append(f"Note on this model: {notes}")
        return Recommendation(parameterisation, int(k), " ".join(parts), int(k), blrt_choice)

    def summary(self) -> str:
        """The fit table and the recommendation as text."""
        table = self._table
        shown = table.drop(columns=["warnings"]).copy()
        formats = {
            "loglik": "{:.2f}",
            "aic": "{:.1f}",
            "bic": "{:.1f}",
            "sabic": "{:.1f}",
            "icl": "{:.1f}",
            "entropy": "{:.3f}",
            "smallest_share": "{:.3f}",
            "replication": "{:.2f}",
            "lmr_p": "{:.3f}",
            "blrt_p": "{:.3f}",
        }
        for column, fmt in formats.items():
            shown[column] = [("-" if not np.isfinite(v) else fmt.format(v)) for v in table[column].astype(float)]
        lines = ["Latent profile enumeration", shown.to_string(), ""]
        if table["n"].nunique() > 1:
            lines.append("Note: the parameterisations used different rows (missing values); compare BIC within one.")
        flagged = table[table["warnings"] != ""]
        if not flagged.empty:
            lines.append("Warnings:")
            lines += [f"  {param} K={k}: {text}" for (param, k), text in flagged["warnings"].items()]
            lines.append("")
        try:
            lines.append(f"Recommended: {self.recommended}")
        except ValueError as exc:
            lines.append(f"No recommendation: {exc}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<EnumerationResult: {len(self._table)} models>"


def enumerate_profiles(
    X: pd.DataFrame | np.ndarray,
    k_range: Iterable[int] = range(1, 9),
    parameterisations: Iterable[str] = ("EEI",),
    *,
    n_starts: int = 20,
    bootstrap: int = 100,
    bootstrap_starts: int = 20,
    alpha: float = 0.05,
    incremental: bool = True,
    random_state: int | np.random.Generator | None = None,
    **model_params: Any,
) -> EnumerationResult:
    """Fit latent profile models for each K and parameterisation and tabulate the fit.

    Parameters
    ----------
    X : DataFrame or array of shape (n, d)
        One row per participant (a wave, or waves pooled), one column per indicator.
    k_range : iterable of int, default=range(1, 9)
        Numbers of profiles. For the LMR test and BLRT of the smallest K, ``K - 1`` is fitted too.
    parameterisations : iterable of {"EEI", "VVI", "EEE", "VVV"}, default=("EEI",)
    n_starts : int, default=20
        Random starts per model (see :class:`LatentProfileModel`).
    bootstrap : int, default=100
        Draws of the bootstrapped LRT per K; 0 skips it (``blrt_p`` is then NaN).
    bootstrap_starts : int, default=20
        Random starts of the K-profile model in each bootstrap draw (a quarter iterated to convergence).
    alpha : float, default=0.05
        Significance level for the BLRT in :attr:`EnumerationResult.recommended`.
    incremental : bool, default=True
        Also start each K from the fitted ``K - 1`` model (:func:`incremental_starts`: every profile split
        in two, and small new profiles at the worst-fitting rows), besides the ``n_starts`` random starts;
        then, from the largest K down, from the ``K + 1`` solution with each profile left out in turn (kept
        when that reaches a higher maximum, its starts counted with the others for the replication). Over-extracted
        solutions have many local maxima with small profiles that random starts seldom reach.
    random_state : int, Generator or None
    **model_params
        Further :class:`LatentProfileModel` parameters (``n_final_starts``, ``tol``, ``missing`` ...).

    Returns
    -------
    EnumerationResult

    Notes
    -----
    Warnings of the individual fits (for instance a best log-likelihood that was not replicated) are
    not raised; they are listed in the table's ``warnings`` column and in :meth:`EnumerationResult.summary`.
    """
    rng = np.random.default_rng(random_state)
    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 1:
        raise ValueError("k_range must hold positive integers.")
    to_fit = ([ks[0] - 1] if ks[0] > 1 else []) + ks
    params_list = [_check_parameterisation(p) for p in parameterisations]
    n_rows = len(_as_matrix(X)[0])
    models: dict[tuple[str, int], LatentProfileModel] = {}
    draws: dict[tuple[str, int], np.ndarray] = {}
    rows = []
    notes: dict[tuple[str, int], str] = {}
    seeds: dict[tuple[str, int], int] = {}

    def fit(parameterisation: str, k: int, init: list[dict[str, np.ndarray]] | None) -> None:
        model = LatentProfileModel(
            k,
            parameterisation,
            n_starts=n_starts,
            random_state=seeds[(parameterisation, k)],
            init_params=init or None,
            **model_params,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            notes[(parameterisation, k)] = str(exc)
            return
        models[(parameterisation, k)] = model

    for parameterisation in params_list:
        for k in to_fit:
            seeds[(parameterisation, k)] = int(rng.integers(2**63))
            previous = models.get((parameterisation, k - 1)) if incremental else None
            fit(parameterisation, k, incremental_starts(previous, X) if previous is not None else None)
        if incremental:
            # backwards: start each K also from the K + 1 solution with one profile left out; refit with
            # every start (the same random ones) when that finds a higher maximum
            for k in reversed(to_fit[:-1]):
                bigger, current = models.get((parameterisation, k + 1)), models.get((parameterisation, k))
                if bigger is None or current is None or k < 2:
                    continue
                pruned = _pruned_starts(bigger)
                probe = LatentProfileModel(k, parameterisation, n_starts=0, init_params=pruned, **model_params)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        probe.fit(X)
                except (RuntimeError, ValueError, np.linalg.LinAlgError):
                    continue
                if probe.loglik_ > current.loglik_ + 1e-6:
                    models[(parameterisation, k)] = _adopt(current, probe)

    for parameterisation in params_list:
        for k in to_fit:
            model = models.get((parameterisation, k))
            note = notes.get((parameterisation, k), "")
            if k not in ks:
                continue
            row: dict[str, Any] = {"parameterisation": parameterisation, "n_profiles": k}
            if model is None:
                row.update({column: np.nan for column in _TABLE_COLUMNS})
                row.update({"n": n_rows, "converged": False, "warnings": note})
                rows.append(row)
                continue
            row.update(model.fit_statistics().to_dict())
            row["warnings"] = " ".join(model.warnings_)
            null = models.get((parameterisation, k - 1))
            row["lmr_p"] = row["blrt_p"] = np.nan
            if null is not None and k >= 2:
                if model.loglik_ < null.loglik_ - 1e-6:
                    row["warnings"] = (
                        row["warnings"] + f" The log-likelihood is below that of K = {k - 1}: more starts needed."
                    ).strip()
                row["lmr_p"] = lmr_test(
                    null.loglik_, model.loglik_, null.n_parameters_, model.n_parameters_, model.n_samples_, k - 1
                )[1]
                if bootstrap > 0:
                    seed = np.random.default_rng(int(rng.integers(2**63)))
                    p_value, lr_draws = _bootstrap_lrt(
                        null, model, int(bootstrap), bootstrap_starts, seed, model_params
                    )
                    row["blrt_p"] = p_value
                    draws[(parameterisation, k)] = lr_draws
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["parameterisation", "n_profiles"])[_TABLE_COLUMNS]
    return EnumerationResult(table, models, draws, alpha)

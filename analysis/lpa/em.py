"""The EM engine of latent profile analysis: data preparation, E- and M-steps, starting values and
SQUAREM-accelerated EM over many starts at once.

Internal to :mod:`analysis.lpa`; the estimator is :class:`analysis.lpa.LatentProfileModel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from analysis.categorical import (
    CategoricalDesign,
    categorical_log_density,
    categorical_m_step,
    normalise_log,
    partition_probabilities,
)
from analysis.mixture import LOG_2PI as _LOG_2PI
from analysis.mixture import diagonal_gaussian_terms

PARAMETERISATIONS = ("EEI", "VVI", "EEE", "VVV")
_DIAGONAL = {"EEI": True, "VVI": True, "EEE": False, "VVV": False}
_SHARED = {"EEI": True, "VVI": False, "EEE": True, "VVV": False}
# A profile whose expected size falls below this many observations has collapsed: the start is dropped.
_MIN_PROFILE_SIZE = 1.0


# --------------------------------------------------------------------------------------------------
# Data and parameter containers (internal; indicators are centred on their means)


@dataclass
class _Data:
    """Indicators prepared for EM: centred, missing values set to 0, the products EM needs precomputed."""

    x: np.ndarray  # (n, d), centred; 0 where missing
    mask: np.ndarray | None  # (n, d) 1.0 where observed, or None when complete
    center: np.ndarray  # (d,) what was subtracted
    scale: np.ndarray  # (d,) each indicator's variance over its observed values
    design: np.ndarray | None  # diagonal models: (n, c) columns [x**2, x, (mask), 1]
    design_t: np.ndarray | None  # the same, transposed and contiguous, for the E-step product
    xtx: np.ndarray | None  # EEE: x'x
    outer: np.ndarray | None  # VVV: (n, d * d) the products x_i x_i' of each row, for the M-step
    n: int
    d: int
    cat: CategoricalDesign | None = None  # categorical items (one-hot), if any

    @property
    def n_observed(self) -> np.ndarray:
        return np.full(self.d, float(self.n)) if self.mask is None else self.mask.sum(axis=0)

    @cached_property
    def design32(self) -> tuple[np.ndarray, np.ndarray]:
        """The design and its transpose in float32, for the products of the initial stage (a ranking)."""
        assert self.design is not None and self.design_t is not None  # diagonal models
        return self.design.astype(np.float32), self.design_t.astype(np.float32)


@dataclass
class _Params:
    """Parameters of ``S`` starts at once, on the centred scale.

    ``cov`` is ``(S, Kc, d)`` (diagonal) or ``(S, Kc, d, d)`` (full) with ``Kc`` 1 for the shared
    parameterisations and ``K`` otherwise.
    """

    weights: np.ndarray  # (S, K)
    means: np.ndarray  # (S, K, d)
    cov: np.ndarray
    probs: np.ndarray | None = None  # (S, K, C): category probabilities of the categorical items, if any

    @property
    def n_starts(self) -> int:
        return int(self.weights.shape[0])

    def take(self, index: np.ndarray) -> _Params:
        probs = None if self.probs is None else self.probs[index]
        return _Params(self.weights[index], self.means[index], self.cov[index], probs)

    @staticmethod
    def missing(n_starts: int, like: _Params) -> _Params:
        """``n_starts`` starts of NaN in the shapes of ``like``'s (for starts that have no result yet)."""

        def nan(part: np.ndarray) -> np.ndarray:
            return np.full((n_starts, *part.shape[1:]), np.nan)

        probs = None if like.probs is None else nan(like.probs)
        return _Params(nan(like.weights), nan(like.means), nan(like.cov), probs)

    def copy(self) -> _Params:
        probs = None if self.probs is None else self.probs.copy()
        return _Params(self.weights.copy(), self.means.copy(), self.cov.copy(), probs)

    @staticmethod
    def concat(parts: Sequence[_Params]) -> _Params:
        probs = None if parts[0].probs is None else np.concatenate([p.probs for p in parts if p.probs is not None])
        return _Params(
            np.concatenate([p.weights for p in parts]),
            np.concatenate([p.means for p in parts]),
            np.concatenate([p.cov for p in parts]),
            probs,
        )


def _prepare(
    x: np.ndarray, parameterisation: str, center: np.ndarray | None = None, cat: CategoricalDesign | None = None
) -> _Data:
    """Centre the indicators (the likelihood is unchanged by a shift; the sums of squares lose less precision).

    ``x`` holds the continuous indicators (possibly none); ``cat`` the categorical items of the same rows.
    """
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
    scale = np.asarray(np.nanvar(np.where(observed, xc, np.nan), axis=0)) if mask is not None else xc.var(axis=0)
    design = design_t = xtx = outer = None
    if parameterisation == "EEE":
        xtx = xc.T @ xc
    if parameterisation == "VVV":
        outer = (xc[:, :, None] * xc[:, None, :]).reshape(n, d * d)
    if _DIAGONAL[parameterisation]:
        blocks = [xc * xc, xc] + ([] if mask is None else [mask]) + [np.ones((n, 1))]
        design = np.hstack(blocks)
        design_t = np.ascontiguousarray(design.T)
    return _Data(np.ascontiguousarray(xc), mask, center, scale, design, design_t, xtx, outer, n, d, cat)


# --------------------------------------------------------------------------------------------------
# E-step. Arrays over starts, profiles and observations are laid out (S, K, n): the reductions over
# profiles are then sums of contiguous rows.


def _log_joint(
    data: _Data, p: _Params, parameterisation: str, low_precision: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``log pi_k + log f_k(x_i)`` as an ``(S, K, n)`` array, and a flag per start whose covariance failed.

    Categorical items add ``onehot @ log(p).T`` (local independence; :mod:`analysis.categorical`). With
    ``low_precision`` the diagonal models' product is taken in float32 (the initial stage's ranking).
    """
    if _DIAGONAL[parameterisation]:
        out, failed = _log_joint_diagonal(data, p, low_precision), np.zeros(p.n_starts, dtype=bool)
    else:
        out, failed = _log_joint_full(data, p)
    if data.cat is not None and p.probs is not None:
        out += categorical_log_density(data.cat, p.probs)
    return out, failed


def _log_joint_diagonal(data: _Data, p: _Params, low_precision: bool = False) -> np.ndarray:
    n_starts, k, d = p.means.shape
    var = np.broadcast_to(p.cov, (n_starts, k, d))
    half_prec, mean_prec, per_feature = diagonal_gaussian_terms(p.means, var, constants=data.mask is not None)
    with np.errstate(divide="ignore"):
        log_w = np.log(p.weights)
    # One matrix product gives every start and profile: the design holds x^2, x, (the mask) and 1, and the
    # log-density is linear in its columns (analysis.mixture.diagonal_gaussian_terms). Without missing
    # values the per-indicator constants are summed into the intercept (summed term by term, as always).
    if data.mask is None:
        const = -0.5 * ((p.means * mean_prec).sum(-1) + np.log(var).sum(-1) + d * _LOG_2PI) + log_w
        coef = np.concatenate([half_prec, mean_prec, const[..., None]], axis=-1)
    else:
        coef = np.concatenate([half_prec, mean_prec, per_feature, log_w[..., None]], axis=-1)
    coef = coef.reshape(n_starts * k, -1)
    out = coef.astype(np.float32) @ data.design32[1] if low_precision else coef @ data.design_t
    return np.asarray(out.reshape(n_starts, k, data.n))


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
    if low_precision and log_joint.dtype != np.float32:
        log_joint = log_joint.astype(np.float32)
    top = log_joint.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    np.subtract(log_joint, top, out=log_joint)
    resp = np.exp(log_joint, out=log_joint)
    total = resp.sum(axis=1, keepdims=True)
    np.divide(resp, total, out=resp)
    with np.errstate(divide="ignore"):
        row_ll = top[:, 0, :].astype(float) + np.log(total[:, 0, :].astype(float))
    return resp, row_ll


# --------------------------------------------------------------------------------------------------
# M-step


def _m_step(
    data: _Data, resp: np.ndarray, parameterisation: str, reg_covar: float | np.ndarray
) -> tuple[_Params, np.ndarray]:
    """Maximise the expected complete-data log-likelihood; also flag starts with a collapsed profile.

    ``reg_covar`` (a number, or one per indicator) is added to every variance, the ridge of the search.

    ``resp`` is ``(S, K, n)``. With missing values (diagonal models only) each mean and variance uses the
    observations where that indicator is observed, which is the exact M-step of the observed-data
    likelihood under local independence.
    """
    n_starts, k, n = resp.shape
    d = data.d
    flat = resp.reshape(n_starts * k, n)
    if _DIAGONAL[parameterisation]:
        # (S*K, c): sums of r x^2, r x, (r * observed), r; in float32 for the initial stage's posteriors
        sums = (flat @ data.design32[0]).astype(float) if flat.dtype == np.float32 else flat @ data.design
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
            assert data.xtx is not None  # prepared for EEE
            cov = ((data.xtx[None] - between) / data.n)[:, None]
        else:
            # sum_i r_ik x_i x_i' / n_k - mu_k mu_k' for every start and profile in one product
            assert data.outer is not None  # prepared for VVV
            second = (flat @ data.outer).reshape(n_starts, k, d, d) / np.maximum(sizes, 1e-300)[:, :, None, None]
            cov = second - means[:, :, :, None] * means[:, :, None, :]
        cov = 0.5 * (cov + np.swapaxes(cov, -1, -2)) + np.diag(np.broadcast_to(reg_covar, (d,)))
    sizes = size.reshape(n_starts, k)
    collapsed = (sizes < _MIN_PROFILE_SIZE).any(axis=1)
    probs = None if data.cat is None else categorical_m_step(data.cat, flat).reshape(n_starts, k, -1)
    return _Params(sizes / data.n, means, cov, probs), collapsed


# --------------------------------------------------------------------------------------------------
# Starting values


def _random_centres(x: np.ndarray, k: int, n_starts: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct observations drawn at random per start (their nearest-centre partition is the start)."""
    n = x.shape[0]
    picks = np.argpartition(rng.random((n_starts, n)), k - 1, axis=1)[:, :k]
    return x[picks]


def _partition_space(data: _Data) -> np.ndarray:
    """Where partition starts are drawn: the standardised continuous indicators (so that no indicator
    dominates by its unit), or the one-hot categorical items when there are none."""
    if data.d == 0 and data.cat is not None:
        return data.cat.onehot
    return np.asarray(data.x / np.sqrt(np.maximum(data.scale, 1e-300)))


def _params_from_centres(
    data: _Data, centres: np.ndarray, parameterisation: str, reg_covar: float | np.ndarray
) -> _Params:
    """Starting values from the nearest-centre partition: its shares and means, and the pooled covariance.

    Every profile starts with the pooled within-partition covariance (as Mplus starts all classes from
    the same variances), so that a small cluster cannot start near a singular covariance. ``centres`` are
    in :func:`_partition_space`; categorical items start from the partition's category shares (with one
    pseudo-count per category).
    """
    n_starts, k, width = centres.shape
    d = data.d
    space = _partition_space(data)
    flat = centres.reshape(n_starts * k, width)
    dist = (flat * flat).sum(axis=1) - 2.0 * (space @ flat.T)
    labels = dist.reshape(data.n, n_starts, k).argmin(axis=2)  # (n, S)
    onehot = (labels[:, :, None] == np.arange(k)).astype(float)  # (n, S, K)
    counts = onehot.sum(axis=0)  # (S, K)
    observed = np.ones_like(data.x) if data.mask is None else data.mask
    sums = np.einsum("nsk,nd->skd", onehot, data.x)
    n_obs = np.einsum("nsk,nd->skd", onehot, observed)
    fallback = centres * np.sqrt(np.maximum(data.scale, 1e-300)) if data.d and width == d else 0.0
    means = np.where(n_obs > 0, sums / np.maximum(n_obs, 1.0), fallback)
    probs = None
    if data.cat is not None:
        membership = onehot.reshape(data.n, n_starts * k).T
        probs = partition_probabilities(data.cat, membership).reshape(n_starts, k, -1)
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
        cov = cov + np.diag(np.broadcast_to(reg_covar, (d,)))
    if not _SHARED[parameterisation]:
        cov = np.repeat(cov, k, axis=1)
    return _Params(weights, means, cov, probs)


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
    finals: _Params  # every start's parameters where its run ended (NaN for starts not completed)

    def take(self, index: np.ndarray) -> _Params:
        """The final parameters of start ``index`` as a one-start :class:`_Params`."""
        return self.finals.take(np.atleast_1d(index))

    @staticmethod
    def concat(parts: Sequence[_EMResult]) -> _EMResult:
        """The starts of several runs as one run: the best over all of them, every record joined."""
        offsets = np.cumsum([0] + [part.logliks.size for part in parts])
        top = int(np.argmax([part.loglik for part in parts]))
        return _EMResult(
            parts[top].best,
            int(offsets[top] + parts[top].best_index),
            parts[top].loglik,
            np.concatenate([part.logliks for part in parts]),
            np.concatenate([part.n_iter for part in parts]),
            np.concatenate([part.converged for part in parts]),
            np.concatenate([part.completed for part in parts]),
            np.concatenate([part.failed for part in parts]),
            _Params.concat([part.finals for part in parts]),
        )


def _evaluate(
    data: _Data, params: _Params, parameterisation: str, collapsed: np.ndarray, low_precision: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E-step: posteriors ``(S, K, n)``, total log-likelihood per start, and which starts are unusable."""
    log_joint, singular = _log_joint(data, params, parameterisation, low_precision)
    resp, row_ll = _normalise(log_joint, low_precision)
    with np.errstate(invalid="ignore"):
        ll = row_ll.sum(axis=1)
    bad = singular | collapsed | ~np.isfinite(ll)
    return resp, np.where(bad, -np.inf, ll), bad


def _free(params: _Params, diagonal: bool) -> list[np.ndarray]:
    """Unconstrained coordinates for extrapolation: log weights, means, log variances or log-Cholesky factors,
    and the log category probabilities (multinomial logits up to a constant per item)."""
    with np.errstate(divide="ignore"):
        parts = [np.log(params.weights), params.means]
    if diagonal:
        parts.append(np.log(params.cov))
    else:
        chol = np.linalg.cholesky(params.cov)
        idx = np.arange(chol.shape[-1])
        chol[..., idx, idx] = np.log(chol[..., idx, idx])
        parts.append(chol)
    if params.probs is not None:
        parts.append(np.log(params.probs))
    return parts


def _unfree(parts: list[np.ndarray], diagonal: bool, cat: CategoricalDesign | None = None) -> _Params:
    log_w, means, cov = parts[:3]
    probs = None if cat is None or len(parts) < 4 else normalise_log(parts[3], cat)
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
    return _Params(weights, means, cov, probs)


def _extrapolate(
    p0: _Params, p1: _Params, p2: _Params, diagonal: bool, step_max: np.ndarray, cat: CategoricalDesign | None = None
) -> tuple[_Params, np.ndarray, np.ndarray]:
    """SQUAREM step (Varadhan & Roland 2008, scheme S3): ``theta0 - 2 a r + a^2 v``, ``a = -|r|/|v|``.

    The step length is kept in ``[-step_max, -1]`` (at -1 the result is the second EM step); also returns
    the lengths and whether each was cut at ``-step_max``.
    """
    f0, f1, f2 = _free(p0, diagonal), _free(p1, diagonal), _free(p2, diagonal)
    r = [b - a for a, b in zip(f0, f1, strict=True)]
    v = [c - 2.0 * b + a for a, b, c in zip(f0, f1, f2, strict=True)]
    n_starts = p0.n_starts

    def norm(parts: list[np.ndarray]) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.asarray(np.sqrt(sum(np.nan_to_num(x * x).reshape(n_starts, -1).sum(axis=1) for x in parts)))

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
    return _unfree(out, diagonal, cat), alpha, at_max


def _positive_definite(cov: np.ndarray) -> np.ndarray:
    """Per start, whether every covariance matrix in ``cov`` (``(S, Kc, d, d)``) has a Cholesky factor."""
    try:
        np.linalg.cholesky(cov)
        return np.ones(cov.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.ones(cov.shape[0], dtype=bool)
        for s in range(cov.shape[0]):
            try:
                np.linalg.cholesky(cov[s])
            except np.linalg.LinAlgError:
                out[s] = False
        return out


class _Tracker:
    """Per-start bookkeeping for :func:`_run_em`: final log-likelihoods, iterations and the best solution."""

    def __init__(self, start: _Params) -> None:
        n_total = start.n_starts
        self.finals = _Params.missing(n_total, start)
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

    def finish(
        self, ids: np.ndarray, local: np.ndarray, params: _Params, ll: np.ndarray, converged: bool, it: int
    ) -> None:
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
        self.finals.weights[ids] = params.weights[local]
        self.finals.means[ids] = params.means[local]
        self.finals.cov[ids] = params.cov[local]
        if self.finals.probs is not None and params.probs is not None:
            self.finals.probs[ids] = params.probs[local]
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
    reg_covar: float | np.ndarray,
    accelerate: bool = True,
) -> _EMResult:
    """Iterate all starts together; after ``n_init_iter`` iterations only the ``n_final`` best go on.

    A start has converged when one plain EM step raises its log-likelihood by at most ``tol * |loglik|``.
    With ``accelerate`` each cycle is two EM steps, a SQUAREM extrapolation (kept only if its log-likelihood
    is at least that after the first EM step, so the log-likelihood never decreases; otherwise the cycle
    goes on from the second EM step) and one more EM step from the point kept. The
    initial stage (only when ``n_final`` is below the number of starts) ranks the starts with float32
    exponentials and checks no convergence; everything after it is in float64.
    """
    diagonal = _DIAGONAL[parameterisation]
    n_total = start.n_starts
    track = _Tracker(start)
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
            return np.asarray(new - old <= tol * np.abs(new))

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
        iteration += 1
        if iteration >= max_iter:
            resp2, ll2, bad2 = _evaluate(data, p2, parameterisation, col2, low)
            track.fail(ids[bad2])
            conv = ~bad2 & (not low) & small_gain(ll2, ll1)
            track.finish(ids[conv], local[conv], p2, ll2, True, iteration)
            p0, resp0, ll0, bad0 = p2, resp2, ll2, bad2
            continue

        # SQUAREM from p0, p1, p2 (p2's E-step is needed only where the extrapolation is not kept). A step
        # of length -1 is p2 itself; a longer one is kept if its log-likelihood is at least p1's (so the
        # log-likelihood never decreases). The bound on the length grows when a step at the bound is kept
        # (the first cycle's length-1 step included) and shrinks when a longer step is refused.
        usable = ~bad1 & ~col2
        if not diagonal:
            usable &= _positive_definite(p2.cov)
        alpha, at_max = np.full(ids.size, -1.0), np.zeros(ids.size, dtype=bool)
        jumped = None
        if usable.any():
            jumped, alpha[usable], at_max[usable] = _extrapolate(
                p0.take(usable), p1.take(usable), p2.take(usable), diagonal, step_max[usable], data.cat
            )
        longer = usable & (alpha < -1.0)
        jump = np.zeros(ids.size, dtype=bool)
        resp_from, ll_from, bad2 = resp1, ll1.copy(), np.zeros(ids.size, dtype=bool)  # resp1's memory is reused
        if jumped is not None and longer.any():
            tried = np.flatnonzero(longer)
            r_e, l_e, b_e = _evaluate(
                data, jumped.take(longer[usable]), parameterisation, np.zeros(tried.size, dtype=bool), low
            )
            kept = ~b_e & (l_e >= ll1[tried])
            jump[tried[kept]] = True
            resp_from[tried[kept]], ll_from[tried[kept]] = r_e[kept], l_e[kept]
        if not jump.all():
            # the rest go on from p2: its E-step, the convergence check of that plain EM step
            rest = np.flatnonzero(~jump)
            p2_rest = p2.take(rest)
            r_2, l_2, b_2 = _evaluate(data, p2_rest, parameterisation, col2[rest], low)
            bad2[rest] = b_2
            track.fail(ids[rest[b_2]])
            conv = ~b_2 & (not low) & small_gain(l_2, ll1[rest])
            track.finish(ids[rest[conv]], np.flatnonzero(conv), p2_rest, l_2, True, iteration)
            resp_from[rest], ll_from[rest] = r_2, l_2
        step_max = np.where(
            jump | (usable & ~longer),
            np.where(at_max, 4.0 * step_max, step_max),
            np.where(longer, np.maximum(1.0, step_max / 4.0), step_max),
        )
        p3, col3 = _m_step(data, resp_from, parameterisation, reg_covar)
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
        track.finals,
    )


def _random_resp_params(
    data: _Data, k: int, n_starts: int, rng: np.random.Generator, parameterisation: str, reg_covar: float | np.ndarray
) -> _Params:
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

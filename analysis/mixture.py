"""Numerics shared by the latent profile and latent transition models.

One home for what both mixture engines need: stable log-sum-exp and softmax, the classification entropy,
k-means++ starting centres, the diagonal Gaussian log-density of rows with missing values, and the
matching of profiles to reference profiles (label switching), and the classification-error matrix of
modal assignment that the three-step estimators correct with. :mod:`analysis.lpa` and
:mod:`analysis.lta` import these; neither keeps a copy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

__all__ = [
    "LOG_2PI",
    "Array",
    "classification_error",
    "diagonal_gaussian_terms",
    "diagonal_log_density",
    "entropy_terms",
    "kmeans_centres",
    "log_softmax",
    "logsumexp",
    "match_profiles",
    "nearest_centre",
    "relative_entropy",
    "safe_log",
]

#: An ndarray of any dtype (the annotations of this package use it for every array).
Array = npt.NDArray[Any]

LOG_2PI = math.log(2.0 * math.pi)


def logsumexp(a: Array, axis: int) -> Array:
    """``log(sum(exp(a)))`` along ``axis``, stable and silent for rows that are all ``-inf``."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.asarray(np.squeeze(out, axis=axis))


def log_softmax(eta: Array, axis: int = -1) -> Array:
    """``eta`` minus its log-sum-exp along ``axis``: log probabilities from logits."""
    return np.asarray(eta - np.expand_dims(logsumexp(eta, axis=axis), axis))


def safe_log(p: Array) -> Array:
    """``log(p)`` with ``log(0) = -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def entropy_terms(resp: Array) -> float:
    """Classification entropy ``EN = -sum p log p`` over all posterior probabilities (``0 log 0 = 0``)."""
    positive = resp[resp > 0]
    return float(-(positive * np.log(positive)).sum())


def relative_entropy(prob: Array) -> float:
    """Relative entropy ``1 - EN / (n log K)`` of posterior rows ``prob`` (n x K) (Ramaswamy et al. 1993).

    1 is a perfect classification; NaN without rows or with one profile.
    """
    n, k = prob.shape
    if n == 0 or k < 2:
        return float("nan")
    return float(1.0 - entropy_terms(prob) / (n * math.log(k)))


def classification_error(prob: Array, assigned: Array | None = None) -> Array:
    """Classification-error matrix ``D[k, s] = P(assigned s | true k)`` of an assignment (Vermunt 2010, eq. 6).

    ``D[k, s] = sum_i p_ik 1[a_i = s] / sum_i p_ik``: the posterior mass of profile ``k`` that the
    assignment puts in profile ``s``, over the profile's total mass. The three-step estimators of
    :mod:`analysis.lta.three_step` and :mod:`analysis.distal` correct with it.

    Parameters
    ----------
    prob : ndarray of shape (n, K)
        Posterior probabilities of the step-1 model.
    assigned : ndarray of int of shape (n,), optional
        The assigned profiles; default the modal ones, ``prob.argmax(axis=1)``.

    Returns
    -------
    ndarray of shape (K, K)
        Rows sum to 1; a profile without posterior mass gets the identity row.

    References
    ----------
    Vermunt, J. K. (2010). Latent class modeling with covariates: Two improved three-step approaches.
    Political Analysis, 18(4), 450-469.

    Bakk, Z., Tekle, F. B., & Vermunt, J. K. (2013). Estimating the association between latent class
    membership and external variables using bias-adjusted three-step approaches. Sociological
    Methodology, 43(1), 272-311.
    """
    prob = np.asarray(prob, dtype=float)
    k = prob.shape[1]
    labels = prob.argmax(axis=1) if assigned is None else np.asarray(assigned, dtype=int)
    num = prob.T @ np.eye(k)[labels]
    tot = prob.sum(axis=0)[:, None]
    return np.asarray(np.where(tot > 0, num / np.where(tot > 0, tot, 1.0), np.eye(k)))


def diagonal_gaussian_terms(means: Array, variances: Array, constants: bool = True) -> tuple[Array, Array, Array]:
    """The coefficients that make a diagonal Gaussian log-density linear in ``x**2``, ``x`` and 1.

    ``log N(x_d; mu_d, var_d) = a_d x_d**2 + b_d x_d + c_d`` with ``a = -1 / (2 var)``, ``b = mu / var``
    and ``c = -(mu**2 / var + log var + log 2 pi) / 2``; summing ``c_d`` only over the observed indicators
    integrates the missing ones out. Any leading shape (starts, profiles) broadcasts.

    Parameters
    ----------
    means, variances : ndarray of the same shape
    constants : bool, default=True
        Compute ``c``; without it ``c`` is an empty array (for a caller that folds the constants itself).

    Returns
    -------
    a, b, c : ndarray, each of the shape of ``means``
    """
    precision = 1.0 / variances
    mean_precision = means * precision
    if not constants:
        return -0.5 * precision, mean_precision, np.empty(0)
    return -0.5 * precision, mean_precision, -0.5 * (means * mean_precision + np.log(variances) + LOG_2PI)


def diagonal_log_density(x: Array, x2: Array, mask: Array, means: Array, variances: Array) -> Array:
    """Log density of rows under diagonal Gaussians, over each row's observed indicators only.

    Parameters
    ----------
    x, x2 : ndarray of shape (n, d)
        The indicators with missing values set to 0, and their squares.
    mask : ndarray of shape (n, d)
        1.0 where observed, 0.0 where missing (a missing indicator is integrated out: it contributes 0).
    means, variances : ndarray of shape (K, d)

    Returns
    -------
    ndarray of shape (n, K)
        ``sum_d mask_d log N(x_d; mu_kd, var_kd)``; a row with nothing observed has density 1 (log 0).
    """
    a, b, c = diagonal_gaussian_terms(means, variances)
    return np.asarray(x2 @ a.T + x @ b.T + mask @ c.T)


def kmeans_centres(x: Array, k: int, n_starts: int, rng: np.random.Generator, n_lloyd: int = 10) -> Array:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd iterations, for ``n_starts`` runs at once.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Complete rows.
    k : int
        Number of centres.
    n_starts : int
        Independent runs, seeded and iterated together.
    rng : numpy.random.Generator
    n_lloyd : int, default=10
        At most this many Lloyd iterations (fewer when the partition stops changing).

    Returns
    -------
    ndarray of shape (n_starts, k, d)
    """
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


def nearest_centre(x: Array, centres: Array) -> Array:
    """Index of the nearest of ``centres`` (k, d) for each row of ``x`` (n, d), by squared distance."""
    dist = (centres * centres).sum(axis=1)[None, :] - 2.0 * (x @ centres.T)
    return np.asarray(dist.argmin(axis=1))


def match_profiles(means: Array, reference: Array, scale: Array | None = None) -> Array:
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

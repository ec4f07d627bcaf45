"""Emission densities, the scaled forward-backward recursions (with a log-space fallback) and Viterbi."""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import numpy as np

from analysis.categorical import categorical_log_density
from analysis.lta.panel import _Panel
from analysis.mixture import Array, diagonal_log_density, logsumexp


def _log_emission(panel: _Panel, means: Array, variances: Array, probs: Array | None = None) -> Array:
    """Log density of each participant-wave under each profile (N, T, K); 0 for a missing wave.

    The continuous indicators' diagonal Gaussian plus, with ``probs`` (Tm, K, C), the categorical items'
    ``log p`` of the observed categories (local independence; :mod:`analysis.categorical`).
    """
    N, T, _ = panel.X.shape
    K = means.shape[1]
    out = np.empty((N, T, K))
    for t in range(T):
        tm = t if means.shape[0] > 1 else 0
        tv = t if variances.shape[0] > 1 else 0
        out[:, t] = diagonal_log_density(panel.X0[:, t], panel.X2[:, t], panel.M[:, t], means[tm], variances[tv])
    if panel.cat is not None and probs is not None:
        dens = categorical_log_density(panel.cat, probs)  # (Tm, K, N * T)
        dens = dens.reshape(probs.shape[0], K, N, T)
        for t in range(T):
            out[:, t] += dens[t if probs.shape[0] > 1 else 0, :, :, t].T
    return out


def _forward_backward_log(
    logB: np.ndarray, log_pi: np.ndarray, log_A: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward-backward entirely in log space (the fallback of :func:`_forward_backward`)."""
    N, T, K = logB.shape
    la = np.empty((N, T, K))
    la[:, 0] = log_pi + logB[:, 0]
    for t in range(1, T):
        la[:, t] = logsumexp(la[:, t - 1, :, None] + log_A[:, t - 1], axis=1) + logB[:, t]
    ll = logsumexp(la[:, -1], axis=1)
    lb = np.zeros((N, T, K))
    for t in range(T - 2, -1, -1):
        lb[:, t] = logsumexp(log_A[:, t] + (logB[:, t + 1] + lb[:, t + 1])[:, None, :], axis=2)
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

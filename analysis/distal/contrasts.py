"""Tests and contrasts of :mod:`analysis.distal` estimates: Wald test, Holm-corrected pairs, odds ratios."""

# Matrix notation (D, K, W) follows the three-step literature; lowercase names would obscure it.
# ruff: noqa: N806

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.distal.estimators import _BOUNDARY
from analysis.mixture import Array


def _exp(x: float) -> float:
    """``exp(x)``: inf instead of an OverflowError, NaN stays NaN."""
    with np.errstate(over="ignore"):
        return float(np.exp(x))


# --------------------------------------------------------------------------------------------------
# Tests and contrasts


def _wald(est: Array, cov: Array) -> tuple[float, int, float]:
    keep = np.flatnonzero(np.isfinite(est) & np.isfinite(np.diag(cov)))
    if len(keep) < 2:
        return float("nan"), 0, float("nan")
    C = np.zeros((len(keep) - 1, len(est)))
    C[np.arange(len(keep) - 1), keep[1:]] = 1.0
    C[:, keep[0]] = -1.0
    d = C @ np.nan_to_num(est)
    V = C @ np.nan_to_num(cov) @ C.T
    stat = float(d @ np.linalg.pinv(V) @ d)
    df = len(keep) - 1
    return stat, df, float(stats.chi2.sf(stat, df))


def _holm(p: Array) -> Array:
    """Holm's step-down adjusted p-values (statsmodels' ``multipletests`` runs a garbage collection per call)."""
    order = np.argsort(p)
    m = len(p)
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def _pairwise(est: Array, cov: Array, profiles: tuple[str, ...], z: float) -> pd.DataFrame:
    rows = []
    for a, b in combinations(range(len(est)), 2):
        diff = float(est[a] - est[b])
        se = float(np.sqrt(max(cov[a, a] + cov[b, b] - 2 * cov[a, b], 0.0)))
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float("nan")
        rows.append(
            {
                "profile_a": profiles[a],
                "profile_b": profiles[b],
                "difference": diff,
                "se": se,
                "ci_low": diff - z * se,
                "ci_high": diff + z * se,
                "p": p,
            }
        )
    columns = ["profile_a", "profile_b", "difference", "se", "ci_low", "ci_high", "p", "p_holm"]
    frame = pd.DataFrame(rows, columns=columns[:-1])
    ok = frame["p"].notna().to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    holm = np.full(len(frame), np.nan)
    if ok.any():
        holm[ok] = _holm(frame.loc[ok, "p"].to_numpy())
    frame["p_holm"] = holm
    return frame[columns]


def _odds_ratios(est: Array, cov: Array, profiles: tuple[str, ...], reference: int, z: float) -> pd.DataFrame:
    inside = (est > _BOUNDARY) & (est < 1 - _BOUNDARY)  # log-odds of 0 or 1 (or beyond, BCH) do not exist
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.where(inside, np.log(est) - np.log1p(-est), np.nan)
        grad = np.where(inside, 1.0 / (est * (1 - est)), np.nan)
    r = reference
    rows = []
    for k in range(len(est)):
        lo_se = float(grad[k] * np.sqrt(max(cov[k, k], 0.0)))
        if k == r:
            log_or, se = 0.0, float("nan")
        else:
            log_or = float(logit[k] - logit[r])
            var = grad[k] ** 2 * cov[k, k] + grad[r] ** 2 * cov[r, r] - 2 * grad[k] * grad[r] * cov[k, r]
            se = float(np.sqrt(max(var, 0.0))) if np.isfinite(var) else float("nan")
        p = float(2 * stats.norm.sf(abs(log_or) / se)) if k != r and se > 0 else float("nan")
        rows.append(
            {
                "profile": profiles[k],
                "reference": profiles[r],
                "log_odds": float(logit[k]),
                "log_odds_se": lo_se,
                "odds_ratio": _exp(log_or),
                "ci_low": _exp(log_or - z * se) if k != r else float("nan"),
                "ci_high": _exp(log_or + z * se) if k != r else float("nan"),
                "p": p,
            }
        )
    return pd.DataFrame(rows)

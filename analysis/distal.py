"""Distal outcomes of latent profiles with three-step corrections for classification error.

A distal outcome is a variable the profiles are meant to explain (identification with the profession,
intention to leave, leaving the technical sector by the next wave). The naive analysis assigns everyone
to the modal profile of a fitted model and compares the groups as if the profiles were known; with a
relative entropy of 0.75-0.85 about one participant in five is misclassified, which pulls the profile
means towards one another (towards zero for the differences). The three-step corrections keep the
latent profile model (step 1) and the modal assignment (step 2) and correct the outcome model (step 3)
with the classification-error matrix ``D[k, s] = P(assigned s | true k)``
(:func:`analysis.mixture.classification_error`):

``"BCH"`` (Bolck, Croon & Hagenaars 2004; Vermunt 2010; Bakk & Vermunt 2016)
    Each participant enters every profile ``k`` with weight ``w_ik = (D^-1)[a_i, k]`` (``a_i`` the modal
    profile); profile means are the weighted means, or with covariates a weighted least-squares fit on
    the expanded data of ``n x K`` rows. Standard errors come from the sandwich (robust) estimator with
    the participant as cluster. Weights can be negative, so a binary outcome's weighted proportion can
    fall outside [0, 1]; it is reported as estimated (not clipped), with a note, and its odds ratio is
    then undefined (NaN).
``"ML"`` (Vermunt 2010; Bakk, Tekle & Vermunt 2013; Mplus DCON/DCAT)
    Maximises ``sum_i log sum_k P(k) D[k, a_i] f(y_i | k)`` with ``D`` fixed: a latent class model with
    the modal profile as single indicator of known error, and the outcome normal (profile-specific or
    equal variances) or Bernoulli. Estimated by EM; standard errors from the observed information (a
    numerical Hessian of the log-likelihood).
``"naive"``
    The modal groups' means (proportions) with the usual standard errors.

All three ignore the uncertainty of step 1 (the profile model and ``D`` are taken as known), as in the
literature and in Mplus, Latent GOLD and StepMix; Bakk, Oberski & Vermunt (2014) show the effect is
small unless the classes are badly separated. Intervals are Wald intervals with normal quantiles.

``D`` is computed from every participant with posterior probabilities (the step-1 sample); the outcome
model uses those whose outcome (and covariates) are observed. The correction is valid when whether the
outcome is missing depends on the profile but not, given the profile, on the assignment.

References
----------
Bolck, A., Croon, M., & Hagenaars, J. (2004). Estimating latent structure models with categorical
variables: One-step versus three-step estimators. Political Analysis, 12(1), 3-27.

Vermunt, J. K. (2010). Latent class modeling with covariates: Two improved three-step approaches.
Political Analysis, 18(4), 450-469.

Bakk, Z., Tekle, F. B., & Vermunt, J. K. (2013). Estimating the association between latent class
membership and external variables using bias-adjusted three-step approaches. Sociological Methodology,
43(1), 272-311.

Bakk, Z., Oberski, D. L., & Vermunt, J. K. (2014). Relating latent class assignments to external
variables: Standard errors for correct inference. Political Analysis, 22(4), 520-540.

Bakk, Z., & Vermunt, J. K. (2016). Robustness of stepwise latent class modeling with continuous distal
outcomes. Structural Equation Modeling, 23(1), 20-31.

Asparouhov, T., & Muthén, B. (2014). Auxiliary variables in mixture modeling: Using the BCH method in
Mplus to estimate a distal outcome model and an arbitrary secondary model. Mplus Web Notes, 21.
"""

# Matrix notation (D, K, W) follows the three-step literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from scipy import stats

from analysis.mixture import Array, classification_error, logsumexp, relative_entropy

__all__ = ["METHODS", "DistalResult", "DistalWarning", "distal_outcome", "distal_outcomes"]

#: The estimators of :func:`distal_outcome`.
METHODS = ("naive", "BCH", "ML")

_LOG_2PI = math.log(2.0 * math.pi)
#: Proportions this close to 0 or 1 have no usable log-odds (ML clips its proportions at 1e-10).
_BOUNDARY = 1e-8


def _exp(x: float) -> float:
    """``exp(x)``: inf instead of an OverflowError, NaN stays NaN."""
    with np.errstate(over="ignore"):
        return float(np.exp(x))


class DistalWarning(UserWarning):
    """A distal-outcome estimate that needs the analyst's attention (an ill-conditioned ``D``, a weak Hessian)."""


@dataclass(frozen=True)
class DistalResult:
    """Profile means (continuous outcome) or proportions (binary outcome) of one estimator.

    Attributes
    ----------
    method : {"naive", "BCH", "ML"}
    kind : {"continuous", "binary"}
    outcome : str
        The outcome's name.
    profiles : tuple of str
        Profile labels, in the order of the posterior columns.
    estimate, se, ci_low, ci_high : ndarray of shape (K,)
        Profile means or proportions (adjusted means with covariates), their standard errors and Wald
        intervals.
    covariance : ndarray of shape (K, K)
        Covariance matrix of ``estimate``.
    n_modal : ndarray of int of shape (K,)
        Participants with an observed outcome modally assigned to each profile.
    n : int
        Participants used (posterior probabilities and outcome observed).
    n_dropped : int
        Rows dropped for a missing outcome, covariate or posterior.
    wald, wald_df, wald_p : float, int, float
        Omnibus Wald test that all profile estimates are equal (chi-square with ``K - 1`` degrees of
        freedom); NaN with one profile.
    pairwise : pandas.DataFrame
        ``profile_a``, ``profile_b``, ``difference`` (a minus b), ``se``, ``ci_low``, ``ci_high``, ``p``
        and ``p_holm`` (Holm-corrected over all pairs).
    odds_ratios : pandas.DataFrame or None
        Binary outcome: ``profile``, ``reference``, ``log_odds`` (of the profile), ``log_odds_se``,
        ``odds_ratio`` (profile vs reference), ``ci_low``, ``ci_high``, ``p`` (delta method); None for a
        continuous outcome.
    classification_error : ndarray of shape (K, K)
        ``D[k, s] = P(assigned s | true k)`` of the step-1 sample.
    entropy : float
        Relative entropy of the step-1 posteriors.
    alpha : float
        One minus the confidence level.
    covariates : tuple of str
        Covariates the means are adjusted for (continuous outcome, BCH or naive).
    notes : tuple of str
        What the reader should know about these numbers (negative BCH weights, clipped proportions, ...).
    """

    method: str
    kind: str
    outcome: str
    profiles: tuple[str, ...]
    estimate: Array
    se: Array
    ci_low: Array
    ci_high: Array
    covariance: Array
    n_modal: Array
    n: int
    n_dropped: int
    wald: float
    wald_df: int
    wald_p: float
    pairwise: pd.DataFrame
    odds_ratios: pd.DataFrame | None
    classification_error: Array
    entropy: float
    alpha: float
    covariates: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per profile: ``profile``, ``n_modal``, ``estimate``, ``se``, ``ci_low``, ``ci_high``.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.DataFrame(
            {
                "profile": list(self.profiles),
                "n_modal": self.n_modal,
                "estimate": self.estimate,
                "se": self.se,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )

    def summary(self) -> str:
        """A plain-text report: estimates, the Wald test, pairwise differences and (binary) odds ratios.

        Returns
        -------
        str
        """
        level = round(100 * (1 - self.alpha))
        what = "means" if self.kind == "continuous" else "proportions"
        adjusted = f", adjusted for {', '.join(self.covariates)}" if self.covariates else ""
        lines = [
            f"{self.outcome}: profile {what} ({self.method}{adjusted}), n = {self.n} "
            f"(dropped {self.n_dropped}), relative entropy {self.entropy:.3f}",
            self.to_frame().to_string(index=False, float_format=lambda x: f"{x:.3f}"),
            f"Wald test of equal {what}: chi2({self.wald_df}) = {self.wald:.2f}, p = {self.wald_p:.4g}",
            "",
            f"Pairwise differences with {level}% CI (Holm-corrected p):",
            self.pairwise.to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        ]
        if self.odds_ratios is not None:
            lines += ["", "Odds ratios:", self.odds_ratios.to_string(index=False, float_format=lambda x: f"{x:.4g}")]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


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


# --------------------------------------------------------------------------------------------------
# Public API


def distal_outcome(
    posteriors: pd.DataFrame | Array,
    outcome: pd.Series | Sequence[Any] | Array,
    method: str = "BCH",
    *,
    kind: str = "auto",
    equal_variances: bool = False,
    covariates: pd.DataFrame | None = None,
    reference: int | str = 0,
    alpha: float = 0.05,
    name: str | None = None,
) -> DistalResult:
    """Profile means or proportions of a distal outcome, naive or corrected for classification error.

    Parameters
    ----------
    posteriors : DataFrame or ndarray of shape (n, K)
        Posterior profile probabilities of a fitted model (for example
        :meth:`analysis.lpa.LatentProfileModel.predict_proba`); a DataFrame's columns name the profiles.
        Rows with a missing posterior are dropped (and counted).
    outcome : Series or array-like of length n
        Continuous, or binary 0/1 (or boolean). Missing values (NaN, None) drop the row (counted in
        ``n_dropped``).
    method : {"naive", "BCH", "ML"}, default "BCH"
        See the module docstring.
    kind : {"auto", "continuous", "binary"}, default "auto"
        ``"auto"``: binary when every observed value is 0 or 1.
    equal_variances : bool, default False
        ML with a continuous outcome: one residual variance for all profiles instead of one per profile.
    covariates : DataFrame, optional
        Continuous outcome with BCH or naive only: adjust the profile means for these columns (numeric
        ones enter linearly, others as treatment-coded factors). The adjusted mean of a profile is the
        prediction averaged over the participants' covariates (estimated marginal means, as in
        :func:`analysis.regressions.identification_by_profile`); the covariates are centred, so it is
        the profile's coefficient.
    reference : int or str, default 0
        Reference profile of the odds ratios (binary outcome), by position or label.
    alpha : float, default 0.05
        One minus the confidence level.
    name : str, optional
        The outcome's name in messages and results; default the Series' name.

    Returns
    -------
    DistalResult

    Raises
    ------
    ValueError
        An unknown method; a non-numeric outcome (the message names it); no observed outcome; a binary
        outcome with other values than 0 and 1; covariates with ML or a binary outcome; for BCH, a profile
        to which nobody is modally assigned (``D`` is singular: the weights ``D^-1`` do not exist, and a
        pseudo-inverse would give a silently wrong answer). ML copes with such a profile; naive reports
        NaN for it.

    Warns
    -----
    DistalWarning
        BCH with an ill-conditioned ``D``; ML with a singular information matrix.

    Notes
    -----
    With ``K = 1`` every method gives the overall mean (proportion); the Wald test is NaN.

    Examples
    --------
    >>> model = LatentProfileModel(3, random_state=1).fit(indicators)  # doctest: +SKIP
    >>> distal_outcome(model.predict_proba(indicators), frame["identification"], "BCH")  # doctest: +SKIP
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    prep = _prepare(posteriors, outcome, kind, name, covariates)
    K = prep.prob.shape[1]
    if prep.Z.shape[1] and prep.kind == "binary":
        raise ValueError("covariates are supported for a continuous outcome only")
    if isinstance(reference, str):
        if reference not in prep.profiles:
            raise ValueError(f"reference profile {reference!r} not among {list(prep.profiles)}")
        ref = prep.profiles.index(reference)
    else:
        ref = int(reference)
        if not 0 <= ref < K:
            raise ValueError(f"reference profile {reference} out of range for {K} profiles")
    D = classification_error(prep.prob, prep.assigned)
    if method == "naive":
        est, cov, notes = _naive(prep)
    elif method == "BCH":
        est, cov, notes = _bch(prep, D)
    else:
        est, cov, notes = _ml(prep, D, equal_variances)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    z = float(stats.norm.ppf(1 - alpha / 2))
    wald, wald_df, wald_p = _wald(est, cov)
    return DistalResult(
        method=method,
        kind=prep.kind,
        outcome=prep.name,
        profiles=prep.profiles,
        estimate=est,
        se=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        covariance=cov,
        n_modal=np.bincount(prep.assigned[prep.used], minlength=K),
        n=int(prep.used.sum()),
        n_dropped=prep.n_dropped,
        wald=wald,
        wald_df=wald_df,
        wald_p=wald_p,
        pairwise=_pairwise(est, cov, prep.profiles, z),
        odds_ratios=_odds_ratios(est, cov, prep.profiles, ref, z) if prep.kind == "binary" else None,
        classification_error=D,
        entropy=relative_entropy(prep.prob),
        alpha=alpha,
        covariates=prep.covariate_names,
        notes=tuple(notes),
    )


def distal_outcomes(
    posteriors: pd.DataFrame | Array,
    outcome: pd.Series | Sequence[Any] | Array,
    methods: Sequence[str] = METHODS,
    **options: Any,
) -> dict[str, DistalResult]:
    """:func:`distal_outcome` for several methods on the same data (default naive, BCH and ML).

    Parameters
    ----------
    posteriors, outcome
        As for :func:`distal_outcome`.
    methods : sequence of str
        Any of :data:`METHODS`.
    **options
        Passed to :func:`distal_outcome` (``kind``, ``equal_variances``, ``reference``, ``alpha``, ``name``;
        ``covariates`` goes to BCH and naive only).

    Returns
    -------
    dict
        Method name to :class:`DistalResult`, in the order of ``methods``.
    """
    results: dict[str, DistalResult] = {}
    for method in methods:
        kwargs = dict(options)
        if method == "ML":
            kwargs.pop("covariates", None)
        results[method] = distal_outcome(posteriors, outcome, method, **kwargs)
    return results

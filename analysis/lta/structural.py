"""The structural part of the latent transition model: parameters, initial shares and transition
matrices (with multinomial-logit covariate effects), their M-step, relabelling and marginalisation.
"""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.lta.panel import _Panel, _prepare
from analysis.mixture import Array, log_softmax, safe_log


@dataclass
class _Params:
    """Parameters in the form the algorithms use: log probabilities or logit coefficients."""

    means: np.ndarray  # (Tm, K, P), Tm = 1 (invariant) or T
    variances: np.ndarray  # (Tm, K, P)
    log_init: np.ndarray | None = None  # (K,) without covariates
    log_trans: np.ndarray | None = None  # (Tt, K, K) without covariates; Tt = 1 (homogeneous) or T - 1
    init_coef: np.ndarray | None = None  # (1 + qi, K), column 0 is the reference (zero)
    trans_coef: np.ndarray | None = None  # (K, Tt + qt, K), trans_coef[j, :, j] is the reference (zero)
    probs: np.ndarray | None = None  # (Tm, K, C) category probabilities of the categorical indicators, if any

    def copy(self) -> _Params:
        def own(v: Array | None) -> Array | None:
            return None if v is None else v.copy()

        return _Params(
            self.means.copy(),
            self.variances.copy(),
            own(self.log_init),
            own(self.log_trans),
            own(self.init_coef),
            own(self.trans_coef),
            own(self.probs),
        )

    def chain(self) -> tuple[Array, Array]:
        """``(log_init, log_trans)`` of a model without covariates."""
        assert self.log_init is not None and self.log_trans is not None, "a model with covariates"
        return self.log_init, self.log_trans

    def coefficients(self) -> tuple[Array, Array]:
        """``(init_coef, trans_coef)`` of a model with covariates."""
        assert self.init_coef is not None and self.trans_coef is not None, "a model without covariates"
        return self.init_coef, self.trans_coef

    @property
    def has_coef(self) -> bool:
        return self.init_coef is not None


@dataclass(frozen=True)
class _Settings:
    K: int
    parameterisation: str = "VVI"
    invariant: bool = True
    homogeneous: bool = False
    max_iter: int = 1000
    tol: float = 1e-7


class _EstimatorParts:
    """What the mixins of :class:`LatentTransitionModel` use of it (declared for the type checker only)."""

    if TYPE_CHECKING:  # provided by LatentTransitionModel
        n_starts: int
        n_init_iter: int
        random_state: int | np.random.Generator | None
        categorical: list[str] | None

        def _settings(self, **overrides: Any) -> _Settings: ...

        def _rng(self) -> np.random.Generator: ...

        def _check_fitted(self) -> None: ...

    def _bare_panel(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None,
        id_col: str,
        wave_col: str,
        waves: list[Any] | None,
        weights: str | pd.Series | None = None,
    ) -> _Panel:
        """``data`` as a panel without covariates (with case ``weights`` if given), for the estimators and
        tests that refit it."""
        panel, _ = _prepare(
            data,
            indicators=indicators,
            id_col=id_col,
            wave_col=wave_col,
            waves=waves,
            categorical=self.categorical,
            weights=weights,
        )
        return panel


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
        log_init, lt = params.chain()
        log_pi = log_init[None, :]
        if n_pairs == 0:
            return log_pi, np.zeros((1, 0, K, K))
        if lt.shape[0] != n_pairs:
            lt = np.broadcast_to(lt[:1], (n_pairs, K, K))
        return log_pi, lt[None]
    init_coef, trans_coef = params.coefficients()
    Z1 = np.hstack([np.ones((panel.n, 1)), panel.Zi])
    log_pi = log_softmax(Z1 @ init_coef, axis=1)
    log_A = np.empty((panel.n, n_pairs, K, K))
    n_sets = trans_coef.shape[1] - panel.Zt.shape[1]
    for t in range(n_pairs):
        D = _trans_design(panel, t, n_sets)
        log_A[:, t] = log_softmax(np.einsum("nd,jdk->njk", D, trans_coef), axis=-1)
    return log_pi, log_A


def _mnl_objective(Xd: np.ndarray, R: np.ndarray, coef: np.ndarray) -> float:
    return float(np.sum(R * log_softmax(Xd @ coef, axis=1)))


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
        P = np.exp(log_softmax(Xd @ coef, axis=1))
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
    """New (log_init, log_trans, init_coef, trans_coef); only one of the pairs is not None.

    ``gamma`` and ``xi`` arrive multiplied by the case weights when there are any (:func:`analysis.lta.em._em`),
    so the shares are weighted counts and the multinomial logits weighted (pseudo-)likelihoods.
    """
    n_pairs = _n_pairs(panel)
    if not old.has_coef:
        init = gamma[:, 0].sum(axis=0)
        log_init = safe_log(init / init.sum())
        if n_pairs == 0:
            return log_init, old.log_trans, None, None
        counts = xi.sum(axis=0)
        if settings.homogeneous:
            counts = counts.sum(axis=0, keepdims=True)
        rows = counts.sum(axis=2, keepdims=True)
        old_trans = np.exp(old.chain()[1])
        trans = np.where(rows > 1e-12, counts / np.where(rows > 1e-12, rows, 1.0), old_trans)
        return log_init, safe_log(trans), None, None
    Z1 = np.hstack([np.ones((panel.n, 1)), panel.Zi])
    old_init, old_trans_coef = old.coefficients()
    init_coef = _mnl_newton(Z1, gamma[:, 0], old_init, ref=0)
    trans_coef = old_trans_coef.copy()
    n_sets = trans_coef.shape[1] - panel.Zt.shape[1]
    if n_pairs:
        Xd = np.vstack([_trans_design(panel, t, n_sets) for t in range(n_pairs)])
        for j in range(trans_coef.shape[0]):
            R = np.vstack([xi[:, t, j, :] for t in range(n_pairs)])
            trans_coef[j] = _mnl_newton(Xd, R, trans_coef[j], ref=j)
    return None, None, init_coef, trans_coef


def _to_coef(params: _Params, panel: _Panel, settings: _Settings) -> _Params:
    """Logit coefficients equal to an unconditional solution, covariate slopes zero."""
    K = settings.K
    qi, qt = panel.Zi.shape[1], panel.Zt.shape[1]
    log_init, log_trans = params.chain()
    li = np.log(np.clip(np.exp(log_init), 1e-8, None))
    init_coef = np.zeros((1 + qi, K))
    init_coef[0] = li - li[0]
    n_sets = _n_trans_sets(panel, settings)
    trans_coef = np.zeros((K, n_sets + qt, K))
    for s in range(n_sets):
        lt = np.log(np.clip(np.exp(log_trans[s]), 1e-8, None))
        trans_coef[:, s, :] = lt - np.diag(lt)[:, None]
    return _Params(means=params.means, variances=params.variances, init_coef=init_coef, trans_coef=trans_coef)


def _permute(params: _Params, perm: np.ndarray) -> _Params:
    """The same model with profile ``perm[k]`` renamed ``k``; logits re-referenced to the new profile 1."""
    out = params.copy()
    out.means = params.means[:, perm]
    out.variances = params.variances[:, perm]
    if params.probs is not None:
        out.probs = params.probs[:, perm]
    if not params.has_coef:
        log_init, log_trans = params.chain()
        out.log_init = log_init[perm]
        out.log_trans = log_trans[:, perm][:, :, perm]
    else:
        init_coef, trans_coef = params.coefficients()
        c = init_coef[:, perm]
        out.init_coef = c - c[:, :1]
        out.trans_coef = trans_coef[perm][:, :, perm]
    return out


def _marginal(
    log_pi: np.ndarray, log_A: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sample-averaged initial shares and transitions implied by person-specific ones.

    With case ``weight`` (N,) and person-specific parts, the averages are weighted (population averages).
    """
    pi = np.exp(log_pi)
    A = np.exp(log_A)
    n_rows = max(pi.shape[0], A.shape[0])
    weighted = weight is not None and n_rows > 1 and bool(np.any(weight != 1.0))
    init = pi.mean(axis=0)
    p = np.broadcast_to(pi, (n_rows, pi.shape[1]))
    if weighted:
        assert weight is not None
        if pi.shape[0] > 1:
            init = np.average(pi, axis=0, weights=weight)
        p = p * weight[:, None]
    trans = []
    for t in range(A.shape[1]):
        At = np.broadcast_to(A[:, t], (p.shape[0], *A.shape[2:]))
        num = np.einsum("nj,njk->jk", p, At)
        trans.append(num / num.sum(axis=1, keepdims=True))
        p = np.einsum("nj,njk->nk", p, At)
    return init, trans


def _n_parameters(params: _Params, panel: _Panel, settings: _Settings) -> int:
    K = settings.K
    Tm, _, P = params.means.shape
    n = Tm * K * P + (Tm * K * P if settings.parameterisation == "VVI" else Tm * P)
    if panel.cat is not None:
        n += Tm * K * panel.cat.n_free
    n += (K - 1) * (1 + panel.Zi.shape[1])
    if _n_pairs(panel):
        n += K * (K - 1) * (_n_trans_sets(panel, settings) + panel.Zt.shape[1])
    return int(n)

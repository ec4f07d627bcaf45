"""Inference for the latent transition model: per-participant scores, the observed information, and
the bootstrap over participants.
"""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N806

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.categorical import CategoricalDesign, normalise_log
from analysis.lta.em import _em, _fit_starts, _var_floor
from analysis.lta.forward_backward import _forward_backward, _log_emission
from analysis.lta.panel import _Panel
from analysis.lta.results import BootstrapResult, InvarianceTestResult, _pair_labels
from analysis.lta.structural import (
    _EstimatorParts,
    _marginal,
    _n_pairs,
    _n_parameters,
    _Params,
    _Settings,
    _structural,
    _trans_design,
)
from analysis.mixture import Array, match_profiles


def _free_categories(cat: CategoricalDesign) -> np.ndarray:
    """Which one-hot columns are free logits (every category but each item's first, the reference)."""
    free = np.ones(cat.item_of.size, dtype=bool)
    free[cat.starts] = False
    return free


def _blocks(
    params: _Params, settings: _Settings, cat: CategoricalDesign | None = None
) -> list[tuple[str, tuple[int, ...]]]:
    K = settings.K
    blocks = [("means", params.means.shape)]
    if settings.parameterisation == "EEI":
        blocks.append(("logvar", (params.variances.shape[0], params.variances.shape[2])))
    else:
        blocks.append(("logvar", params.variances.shape))
    if cat is not None and params.probs is not None:
        blocks.append(("logit", (params.probs.shape[0], K, int(_free_categories(cat).sum()))))
    init_coef, trans_coef = params.coefficients()
    blocks.append(("init", (init_coef.shape[0], K - 1)))
    blocks.append(("trans", (K, trans_coef.shape[1], K - 1)))
    return blocks


def _pack(params: _Params, settings: _Settings, cat: CategoricalDesign | None = None) -> np.ndarray:
    K = settings.K
    logvar = np.log(params.variances)
    if settings.parameterisation == "EEI":
        logvar = logvar[:, 0, :]
    init_coef, trans_coef = params.coefficients()
    trans = np.stack([np.delete(trans_coef[j], j, axis=1) for j in range(K)])
    logits = np.zeros(0)
    if cat is not None and params.probs is not None:
        log_p = np.log(params.probs)
        logits = (log_p - log_p[..., cat.starts][..., cat.item_of])[..., _free_categories(cat)].ravel()
    return np.concatenate([params.means.ravel(), logvar.ravel(), logits, init_coef[:, 1:].ravel(), trans.ravel()])


def _unpack(theta: np.ndarray, template: _Params, settings: _Settings, cat: CategoricalDesign | None = None) -> _Params:
    K = settings.K
    out = template.copy()
    pos = 0
    blocks = _blocks(template, settings, cat)
    sizes = {name: int(np.prod(shape)) for name, shape in blocks}
    shapes = dict(blocks)
    vals: dict[str, Array] = {}
    for name, _ in blocks:
        vals[name] = theta[pos : pos + sizes[name]].reshape(shapes[name])
        pos += sizes[name]
    out.means = vals["means"].copy()
    lv = vals["logvar"]
    if settings.parameterisation == "EEI":
        lv = np.broadcast_to(lv[:, None, :], template.variances.shape)
    out.variances = np.exp(lv)
    if "logit" in vals and cat is not None and template.probs is not None:
        full = np.zeros(template.probs.shape)
        full[..., _free_categories(cat)] = vals["logit"]
        out.probs = normalise_log(full, cat)
    init_coef, trans_coef = template.coefficients()
    out.init_coef = np.hstack([np.zeros((init_coef.shape[0], 1)), vals["init"]])
    tc = np.zeros_like(trans_coef)
    for j in range(K):
        free = [k for k in range(K) if k != j]
        tc[j][:, free] = vals["trans"][j]
    out.trans_coef = tc
    return out


def _scores(panel: _Panel, params: _Params, settings: _Settings) -> tuple[np.ndarray, float]:
    """Per-participant score vectors (N x n_theta) by Fisher's identity, and the log-likelihood."""
    K = settings.K
    N, T, _ = panel.X.shape
    logB = _log_emission(panel, params.means, params.variances, params.probs)
    log_pi, log_A = _structural(params, panel)
    ll, gamma, xi = _forward_backward(logB, log_pi, log_A)
    Tm = params.means.shape[0]
    P = panel.Xc.shape[2]
    s_mu = np.zeros((N, Tm, K, P))
    s_lv = np.zeros((N, Tm, K, P))
    s_logit = np.zeros((N, 0))
    if panel.cat is not None and params.probs is not None:
        # d log p_k(y) / d logit_kc = y_c - p_kc for an observed item (reference: the item's first category)
        cat = panel.cat
        onehot = cat.onehot.reshape(N, T, -1)
        seen = cat.observed[:, cat.item_of].reshape(N, T, -1)
        s_cat = np.zeros((N, Tm, K, onehot.shape[2]))
        for t in range(T):
            tm = t if Tm > 1 else 0
            resid = onehot[:, t, None, :] - seen[:, t, None, :] * params.probs[tm][None]
            s_cat[:, tm] += gamma[:, t, :, None] * resid
        s_logit = s_cat[..., _free_categories(cat)].reshape(N, -1)
    for t in range(T):
        tm = t if Tm > 1 else 0
        mu, var = params.means[tm], params.variances[tm]
        dev = panel.X0[:, t, None, :] - mu[None]
        gm = gamma[:, t, :, None] * panel.M[:, t, None, :]
        s_mu[:, tm] += gm * dev / var[None]
        s_lv[:, tm] += gm * (0.5 * dev * dev / var[None] - 0.5)
    if settings.parameterisation == "EEI":
        s_lv = s_lv.sum(axis=2)
    Z1 = np.hstack([np.ones((N, 1)), panel.Zi])
    pi = np.exp(log_pi)
    s_init = Z1[:, :, None] * (gamma[:, 0, None, 1:] - pi[:, None, 1:])
    n_pairs = _n_pairs(panel)
    trans_coef = params.coefficients()[1]
    n_sets = trans_coef.shape[1] - panel.Zt.shape[1]
    s_trans = np.zeros((N, K, trans_coef.shape[1], K - 1))
    A = np.exp(log_A)
    for t in range(n_pairs):
        D = _trans_design(panel, t, n_sets)
        for j in range(K):
            free = [k for k in range(K) if k != j]
            resid = xi[:, t, j, free] - gamma[:, t, j, None] * A[:, t, j, free]
            s_trans[:, j] += D[:, :, None] * resid[:, None, :]
    S = np.hstack([s_mu.reshape(N, -1), s_lv.reshape(N, -1), s_logit, s_init.reshape(N, -1), s_trans.reshape(N, -1)])
    return S, float(ll.sum())


def _total_score(panel: _Panel, params: _Params, settings: _Settings) -> np.ndarray:
    """Gradient of the (weighted) log-likelihood: ``sum_i w_i s_i``."""
    S = _scores(panel, params, settings)[0]
    return np.asarray(S.T @ panel.w) if panel.weighted else np.asarray(S.sum(axis=0))


def _observed_information(panel: _Panel, params: _Params, settings: _Settings, rel_step: float = 1e-5) -> np.ndarray:
    """Minus the Hessian of the (weighted) log-likelihood by central differences of the analytic score."""
    theta = _pack(params, settings, panel.cat)
    n = len(theta)
    H = np.empty((n, n))
    for i in range(n):
        h = rel_step * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        g_up = _total_score(panel, _unpack(up, params, settings, panel.cat), settings)
        g_down = _total_score(panel, _unpack(down, params, settings, panel.cat), settings)
        H[:, i] = (g_up - g_down) / (2.0 * h)
    return -(H + H.T) / 2.0


def _information(panel: _Panel, params: _Params, settings: _Settings) -> tuple[Array, Array, Array]:
    """Observed information, its inverse, and the robust sandwich ``I^-1 (sum_i s_i s_i') I^-1``.

    With case weights ``I`` is the information of the weighted log-likelihood and the meat is
    ``sum_i w_i^2 s_i s_i'`` (the scores of the weighted pseudo-log-likelihood are ``w_i s_i``).
    """
    info = _observed_information(panel, params, settings)
    S, _ = _scores(panel, params, settings)
    if panel.weighted:
        S = S * panel.w[:, None]
    try:
        bread = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        bread = np.linalg.pinv(info)
    return info, bread, bread @ (S.T @ S) @ bread


def _covariate_table(
    panel: _Panel,
    params: _Params,
    settings: _Settings,
    information: tuple[Array, Array, Array],
    terms: list[str],
    waves: list[Any],
    se: str,
    alpha: float,
) -> pd.DataFrame:
    """The table of :meth:`LatentTransitionModel.covariate_effects`."""
    _, bread, robust = information
    cov = bread if se == "observed" else robust
    theta = _pack(params, settings, panel.cat)
    n_meas = sum(
        int(np.prod(shape))
        for name, shape in _blocks(params, settings, panel.cat)
        if name in ("means", "logvar", "logit")
    )
    K = settings.K
    qi, qt = panel.Zi.shape[1], panel.Zt.shape[1]
    terms = list(terms)
    init_terms = ["(intercept)"] + (terms if qi else [])
    n_sets = params.coefficients()[1].shape[1] - qt
    pairs = _pair_labels(waves)
    set_labels = ["(intercept)"] if n_sets == 1 else [f"(intercept) {p}" for p in pairs]
    trans_terms = set_labels + (terms if qt else [])
    rows: list[tuple[str, int | None, int, str, int]] = []
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


def _signature(params: _Params, scale: Array) -> Array:
    """What profiles are matched by across fits: standardised means and category probabilities (K, .)."""
    parts = [params.means.mean(axis=0) / scale]
    if params.probs is not None:
        parts.append(params.probs.mean(axis=0))
    return np.hstack(parts)


def _bootstrap(
    panel: _Panel,
    params: _Params,
    settings: _Settings,
    *,
    initial: Array,
    transitions: list[Array],
    waves: list[Any],
    n_boot: int,
    alpha: float,
    n_starts: int,
    n_init_iter: int,
    rng: np.random.Generator,
) -> BootstrapResult:
    """The draws of :meth:`LatentTransitionModel.bootstrap`."""
    scale = np.sqrt(_var_floor(panel) / 1e-6)
    reference = _signature(params, scale)
    inits, transes = [], []
    n_relabelled = 0
    for _ in range(int(n_boot)):
        sub = panel.take(rng.integers(0, panel.n, panel.n))
        if params.has_coef:
            fit = _em(sub, params, settings, _var_floor(sub), settings.max_iter)
        else:
            fit, _ = _fit_starts(sub, settings, rng, int(n_starts), int(n_init_iter), warm=[params])
        perm = match_profiles(_signature(fit.params, scale), reference)
        n_relabelled += int(np.any(perm != np.arange(len(perm))))
        log_pi, log_A = _structural(fit.params, sub)
        init, trans = _marginal(log_pi, log_A, sub.w)
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
        estimate_initial=np.asarray(initial),
        estimate_transitions=np.stack(transitions),
        waves=list(waves),
    )
    return result


def _invariance_test(
    panel: _Panel,
    s_inv: _Settings,
    s_free: _Settings,
    rng: np.random.Generator,
    n_starts: int,
    init_iter: int,
) -> InvarianceTestResult:
    """The invariant and the wave-specific model compared (:meth:`LatentTransitionModel.invariance_test`)."""
    inv, _ = _fit_starts(panel, s_inv, rng, n_starts, init_iter)
    T = panel.n_waves
    warm = inv.params.copy()
    warm.means = np.repeat(warm.means, T, axis=0)
    warm.variances = np.repeat(warm.variances, T, axis=0)
    if warm.probs is not None:
        warm.probs = np.repeat(warm.probs, T, axis=0)
    free, _ = _fit_starts(panel, s_free, rng, n_starts, init_iter, warm=[warm])
    if free.loglik < inv.loglik:  # the wave-specific model nests the invariant one
        free = _em(panel, warm, s_free, _var_floor(panel), s_free.max_iter)
    k_inv = _n_parameters(inv.params, panel, s_inv)
    k_free = _n_parameters(free.params, panel, s_free)
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


class _InferenceMixin(_EstimatorParts):
    """Covariate effects, the bootstrap and the invariance test of :class:`LatentTransitionModel`."""

    _panel: _Panel
    _params: _Params
    _settings_: _Settings
    _information: tuple[Array, Array, Array] | None
    weighted_: bool
    covariate_terms_: list[str]
    waves_: list[Any]
    initial_: Array
    transitions_: list[Array]

    # ------------------------------------------------------------------ covariates

    def _info(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._information is None:
            self._information = _information(self._panel, self._params, self._settings_)
        return self._information

    def covariate_effects(self, se: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Logit coefficients of the covariates with standard errors, odds ratios and confidence intervals.

        Parameters
        ----------
        se : {"observed", "robust"}, optional
            ``"observed"``: inverse observed information (minus the Hessian of the full log-likelihood, by
            central differences of the analytic score; measurement parameters included). ``"robust"``: the
            sandwich ``I^-1 (sum_i s_i s_i') I^-1`` with per-participant scores ``s_i``. The default is
            ``"observed"`` for an unweighted fit and ``"robust"`` for a weighted one: with case weights the
            inverse information of the pseudo-log-likelihood is not a valid covariance (it treats the
            rescaled weights as frequencies), and the sandwich is ``H^-1 (sum_i w_i^2 s_i s_i') H^-1`` with
            ``H`` the information of ``sum_i w_i ll_i`` (Binder 1983; Mplus' MLR with WEIGHT).
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
        if se is None:
            se = "robust" if getattr(self, "weighted_", False) else "observed"
        if se not in ("observed", "robust"):
            raise ValueError("se must be 'observed' or 'robust'")
        return _covariate_table(
            self._panel, self._params, self._settings_, self._info(), self.covariate_terms_, self.waves_, se, alpha
        )

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

        Each draw resamples participants with replacement (each with their case weight, when the model is
        weighted: the weighted estimator is refitted on the draw), refits from the original solution (plus
        ``n_starts`` random starts), and relabels the profiles to the original ones by Hungarian matching on
        the standardised means before anything is stored. The model is not changed; pass the result to
        :meth:`transitions_frame` or :meth:`summary` to show the intervals.

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
        result = _bootstrap(
            self._panel,
            self._params,
            settings,
            initial=self.initial_,
            transitions=self.transitions_,
            waves=self.waves_,
            n_boot=int(n_boot),
            alpha=alpha,
            n_starts=int(n_starts),
            n_init_iter=int(self.n_init_iter),
            rng=rng,
        )
        return result

    def invariance_test(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        *,
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list[Any] | None = None,
        weights: str | pd.Series | None = None,
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
        weights : None
            Case weights are refused (ValueError), as is a model fitted with them: twice the difference of
            weighted pseudo-log-likelihoods is not chi-square distributed (it is a mixture of scaled
            chi-squares; a Satorra-Bentler type correction would be needed), so the p-value would be wrong.

        Returns
        -------
        InvarianceTestResult
            ``chi2 = 2 (loglik_free - loglik_invariant)`` on ``df`` = the difference in free parameters.
        """
        if weights is not None or getattr(self, "weighted_", False):
            raise ValueError(
                "invariance_test does not take case weights: with weights the likelihood-ratio statistic is "
                "not chi-square distributed. Compare the invariant and wave-specific weighted fits by BIC, or "
                "run the test unweighted (on a model fitted without weights)."
            )
        panel = self._bare_panel(data, indicators, id_col, wave_col, waves)
        if panel.n_waves < 2:
            raise ValueError("the invariance test needs at least two waves")
        return _invariance_test(
            panel,
            self._settings(invariant=True),
            self._settings(invariant=False),
            self._rng(),
            max(int(self.n_starts), 1),
            int(self.n_init_iter),
        )

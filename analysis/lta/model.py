"""The latent transition estimator: :class:`LatentTransitionModel`."""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N806

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from analysis._estimator import ParamsMixin
from analysis.lta.em import _em, _Fit, _fit_starts, _var_floor
from analysis.lta.forward_backward import _forward_backward, _log_emission, _viterbi
from analysis.lta.inference import _InferenceMixin
from analysis.lta.panel import _Panel, _prepare
from analysis.lta.results import (
    BootstrapResult,
    _assignment_frame,
    _effects_text,
    _parameters_long,
    _posterior_frame,
    _profiles_long,
    _transitions_long,
    _transitions_text,
)
from analysis.lta.structural import _marginal, _n_parameters, _Params, _permute, _Settings, _structural, _to_coef
from analysis.lta.three_step import _ThreeStepMixin
from analysis.mixture import relative_entropy, safe_log
from analysis.validation import check_n_profiles

__all__ = ["COVARIATE_TARGETS", "PARAMETERISATIONS", "LatentTransitionModel"]


def _probability_blocks(params: _Params, panel: _Panel, invariant: bool) -> list[np.ndarray]:
    """Per categorical indicator, its probabilities (K, C_j), or (T, K, C_j) when not invariant."""
    if panel.cat is None or params.probs is None:
        return []
    probs = params.probs[0] if invariant else params.probs
    return [block.copy() for block in panel.cat.split(probs)]


PARAMETERISATIONS = ("VVI", "EEI")
COVARIATE_TARGETS = ("both", "initial", "transitions")


class LatentTransitionModel(_InferenceMixin, _ThreeStepMixin, ParamsMixin):
    """Latent transition analysis: a latent Markov model with a Gaussian latent profile measurement model.

    Parameters
    ----------
    n_profiles : int, default=2
        Number of latent profiles ``K``.
    parameterisation : {"VVI", "EEI"}, default="VVI"
        Covariance structure within profiles, named as in :class:`analysis.lpa.LatentProfileModel`:
        ``"VVI"`` profile-specific diagonal variances; ``"EEI"`` diagonal variances equal over profiles.
    n_starts : int, default=20
        Random starts (k-means++ partitions). Each runs ``n_init_iter`` EM iterations; the best quarter (at
        least two) run to convergence, and the best of those is kept. ``start_logliks_`` shows whether the
        best log-likelihood was replicated.
    max_iter : int, default 1000
        Maximum EM iterations per start.
    tol : float, default 1e-7
        Convergence: stop when the log-likelihood gains less than ``tol`` per participant.
    invariant : bool, default True
        Hold means and variances equal over waves; ``False`` gives wave-specific profiles.
    homogeneous : bool, default False
        One transition matrix for all wave pairs instead of one per pair.
    covariates_on : {"both", "initial", "transitions"}, default "both"
        Which part of the model the covariates passed to :meth:`fit` act on.
    n_init_iter : int, default=20
        EM iterations of the first stage of every start (as ``n_init_iter`` of
        :class:`analysis.lpa.LatentProfileModel`).
    random_state : int or numpy.random.Generator, optional
        Seed for the starts and the bootstrap.
    categorical : list of str, optional
        Categorical (binary, ordinal-as-nominal or nominal) indicator columns; strings are fine. Each has
        one probability per category and profile (held equal over waves when ``invariant``, like the
        means), independent of the other indicators given the profile; a missing value drops the item
        from that participant-wave (FIML). With only categorical indicators this is a latent Markov model
        on categorical items (``parameterisation`` then has nothing to act on). See
        :mod:`analysis.categorical`.

    Attributes
    ----------
    initial_ : ndarray of shape (K,)
        Profile shares at the first wave (with covariates: averaged over participants).
    transitions_ : list of ndarray of shape (K, K)
        Transition matrix per consecutive wave pair, rows = origin (with covariates: the sample-averaged
        transition, each participant weighted by the model-implied probability of the origin).
    means_, covariances_ : ndarray
        Profile means and (diagonal) variances of the continuous indicators (``continuous_indicators_``),
        (K, P) when invariant, (T, K, P) otherwise.
    probabilities_ : list of ndarray
        Category probabilities per categorical indicator (``categorical_indicators_``, ``categories_``),
        (K, C_j) when invariant, (T, K, C_j) otherwise.
    loglik_, n_parameters_, bic_, aic_ : float, int, float, float
        Maximised log-likelihood, free parameters, BIC (with the number of participants) and AIC. With case
        weights, ``loglik_`` is the weighted pseudo-log-likelihood ``sum_i w_i ll_i`` with the weights
        rescaled to mean 1, so that BIC and AIC refer to the ``n`` participants (as in Mplus).
    weighted_ : bool
        Whether :meth:`fit` was given case weights.
    weights_ : Series
        The case weights by participant id, rescaled to mean 1 (ones without weights).
    entropy_ : float
        Relative entropy of the smoothed posteriors over the observed participant-waves (unweighted: it
        describes the classification of the sample at hand).
    posterior_ : DataFrame
        ``id``, ``wave``, ``observed`` and ``profile_1..K`` smoothed probabilities (missed waves included,
        predicted from the other waves).
    assignments_ : DataFrame
        ``id``, ``wave``, ``observed``, ``modal`` (largest posterior) and ``viterbi`` (most likely path).
    waves_, indicators_, covariate_terms_ : list
        Wave order, indicator columns, covariate design terms.
    n_participants_, n_observations_ : int
        Participants and observed participant-waves.
    converged_, n_iter_, loglik_trace_ : bool, int, list
        EM diagnostics of the kept solution (the log-likelihood after every iteration of its final run).
    start_logliks_, n_best_starts_ : list, int
        Final log-likelihoods of the starts run to convergence (with covariates: of the unconditional model
        the covariate model starts from), and how many of them reached the best one (within 1e-6
        relative): fewer than two means the best solution was not replicated; add starts.
    init_coef_, trans_coef_ : ndarray or None
        With covariates: logit coefficients, (1 + q, K) with column 0 the reference profile, and
        (K origins, n_sets + q, K) with the origin's own column the reference (staying).

    Notes
    -----
    The likelihood of participant ``i`` is
    ``sum_s pi(s_1) f(x_1|s_1) prod_t A_t(s_t, s_t+1) f(x_t+1|s_t+1)`` with ``f = 1`` for a missed wave,
    computed by the forward algorithm in log space.

    Case weights (``fit(..., weights=...)``, sampling or attrition weights, as Mplus' WEIGHT option) make
    the estimator maximise the pseudo-log-likelihood ``sum_i w_i ll_i`` (Skinner 1989; Asparouhov 2005):
    the E-step is unchanged and every M-step sums the posteriors times ``w_i``. The weights are rescaled to
    mean 1. Standard errors then come from the sandwich (:meth:`covariate_effects`) or from the bootstrap,
    which resamples participants together with their weights; the likelihood-ratio
    :meth:`invariance_test` is refused. The random starts (k-means partitions) ignore the weights; only
    the EM runs from them use them.
    """

    def __init__(
        self,
        n_profiles: int = 2,
        parameterisation: str = "VVI",
        *,
        n_starts: int = 20,
        n_init_iter: int = 20,
        max_iter: int = 1000,
        tol: float = 1e-7,
        invariant: bool = True,
        homogeneous: bool = False,
        covariates_on: str = "both",
        random_state: int | np.random.Generator | None = None,
        categorical: list[str] | None = None,
    ) -> None:
        self.n_profiles = n_profiles
        self.parameterisation = parameterisation
        self.n_starts = n_starts
        self.n_init_iter = n_init_iter
        self.max_iter = max_iter
        self.tol = tol
        self.invariant = invariant
        self.homogeneous = homogeneous
        self.covariates_on = covariates_on
        self.random_state = random_state
        self.categorical = categorical

    # ------------------------------------------------------------------ plumbing

    def _settings(self, **overrides: Any) -> _Settings:
        if self.parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}")
        if self.covariates_on not in COVARIATE_TARGETS:
            raise ValueError(f"covariates_on must be one of {COVARIATE_TARGETS}")
        base = _Settings(
            K=check_n_profiles(self.n_profiles),
            parameterisation=self.parameterisation,
            invariant=bool(self.invariant),
            homogeneous=bool(self.homogeneous),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
        )
        return replace(base, **overrides)

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_state)

    def _check_fitted(self) -> None:
        if not hasattr(self, "_params"):
            raise RuntimeError("this LatentTransitionModel is not fitted yet; call fit first")

    def _panel_for(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        id_col: str | None = None,
        wave_col: str | None = None,
        waves: list[Any] | None = None,
        covariate_data: pd.DataFrame | None = None,
        with_covariates: bool = True,
    ) -> _Panel:
        fitted = hasattr(self, "_params")
        spec = getattr(self, "_spec", None) if with_covariates else None
        panel, _ = _prepare(
            data,
            indicators=indicators if indicators is not None else (self.indicators_ if fitted else None),
            id_col=id_col or (self.id_col_ if fitted else "id"),
            wave_col=wave_col or (self.wave_col_ if fitted else "wave"),
            waves=waves if waves is not None else (self.waves_ if fitted else None),
            covariates=spec.columns if spec is not None else None,
            covariate_data=covariate_data,
            covariates_on=self.covariates_on,
            spec=spec,
            categorical=self.categorical_indicators_ if fitted else self.categorical,
            categories=self.categories_ if fitted else None,
        )
        return panel

    def _n_parameters(self, params: _Params, panel: _Panel, settings: _Settings) -> int:
        return _n_parameters(params, panel, settings)

    def _set_fitted(self, panel: _Panel, settings: _Settings, fit: _Fit, start_logliks: list[float]) -> None:
        params = fit.params
        self._params = params
        self._panel = panel
        self._settings_ = settings
        self.waves_ = list(panel.waves)
        self.indicators_ = list(panel.indicators)
        self.continuous_indicators_ = panel.continuous_indicators
        self.categorical_indicators_ = panel.categorical_indicators
        self.categories_ = [list(c) for c in panel.categories]
        self.probabilities_ = _probability_blocks(params, panel, settings.invariant)
        self.n_participants_ = panel.n
        self.n_observations_ = int(panel.observed.sum())
        log_pi, log_A = _structural(params, panel)
        self.initial_, self.transitions_ = _marginal(log_pi, log_A, panel.w)
        self.means_ = params.means[0].copy() if settings.invariant else params.means.copy()
        self.covariances_ = params.variances[0].copy() if settings.invariant else params.variances.copy()
        self.init_coef_ = None if params.init_coef is None else params.init_coef.copy()
        self.trans_coef_ = None if params.trans_coef is None else params.trans_coef.copy()
        self.loglik_ = float(fit.loglik)
        self.n_parameters_ = self._n_parameters(params, panel, settings)
        self.bic_ = -2.0 * self.loglik_ + self.n_parameters_ * math.log(panel.n)
        self.aic_ = -2.0 * self.loglik_ + 2.0 * self.n_parameters_
        self.converged_ = bool(fit.converged)
        self.n_iter_ = int(fit.n_iter)
        self.loglik_trace_ = list(fit.history)
        self.start_logliks_ = list(start_logliks)
        best = max(start_logliks)
        self.n_best_starts_ = int(sum(best - ll < 1e-6 * max(1.0, abs(best)) for ll in start_logliks))
        logB = _log_emission(panel, params.means, params.variances, params.probs)
        _, gamma, _ = _forward_backward(logB, log_pi, log_A)
        self.entropy_ = relative_entropy(gamma[panel.observed])
        self.posterior_ = _posterior_frame(panel, gamma)
        self.assignments_ = _assignment_frame(panel, gamma, _viterbi(logB, log_pi, log_A))
        self._information = None
        self.weights_ = pd.Series(panel.w.copy(), index=pd.Index(panel.ids, name="id"), name="weight")

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        *,
        covariates: list[str] | None = None,
        covariate_data: pd.DataFrame | None = None,
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list[Any] | None = None,
        weights: str | pd.Series | None = None,
    ) -> LatentTransitionModel:
        """Fit the model by EM from several random starts.

        Parameters
        ----------
        data : DataFrame
            Long format: one row per participant and wave that was observed, with ``id_col``, ``wave_col``
            and the indicator columns. Missing indicators are NaN; a missed wave has no row.
        indicators : list of str, optional
            Indicator columns; by default every numeric column other than id, wave and covariates.
        covariates : list of str, optional
            Participant-level covariates (constant within id in ``data``, or columns of ``covariate_data``).
            Numeric and boolean columns enter as they are; other columns are dummy coded with their first
            level (sorted, or the categorical order) as reference. Participants with a missing covariate
            raise an error.
        covariate_data : DataFrame, optional
            One row per participant (indexed by id, or with an ``id_col`` column) holding the covariates.
        id_col, wave_col : str
            Names of the participant and wave columns.
        waves : list, optional
            Wave labels in order; by default the sorted distinct values of ``wave_col``.
        weights : str or Series, optional
            Person-level case weights (sampling or attrition weights): a column of ``data``, constant
            within id (rows where it is missing take the participant's weight from the other rows), or a
            Series indexed by id. Weights must be finite and non-negative, every participant needs one and
            not all may be zero (a ValueError otherwise). They are rescaled to mean 1 (as Mplus does), so
            ``loglik_`` is ``sum_i w_i ll_i`` on the scale of ``n`` participants and BIC uses ``n``. Weights
            that are all one give exactly the unweighted fit. See the class notes for what changes in the
            inference.

        Returns
        -------
        LatentTransitionModel
            The fitted model (``self``).
        """
        settings = self._settings()
        panel, spec = _prepare(
            data,
            indicators=indicators,
            id_col=id_col,
            wave_col=wave_col,
            waves=waves,
            covariates=covariates,
            covariate_data=covariate_data,
            covariates_on=self.covariates_on,
            categorical=self.categorical,
            weights=weights,
        )
        check_n_profiles(settings.K, panel.n)
        self.weighted_ = weights is not None
        self._spec = spec
        self.id_col_ = id_col
        self.wave_col_ = wave_col
        self.covariate_terms_ = [] if spec is None else list(spec.terms)
        rng = self._rng()
        has_cov = panel.Zi.shape[1] + panel.Zt.shape[1] > 0
        if has_cov:
            # Unconditional model first (the covariates do not enter the starts), then the covariate model
            # from its solution with zero slopes.
            bare = replace(panel, Zi=np.zeros((panel.n, 0)), Zt=np.zeros((panel.n, 0)))
            base, base_logliks = _fit_starts(bare, settings, rng, max(int(self.n_starts), 1), int(self.n_init_iter))
            start = _to_coef(base.params, panel, settings)
            fit = _em(panel, start, settings, _var_floor(panel), settings.max_iter)
            logliks = base_logliks
        else:
            fit, logliks = _fit_starts(panel, settings, rng, max(int(self.n_starts), 1), int(self.n_init_iter))
        self._set_fitted(panel, settings, fit, logliks)
        return self

    @classmethod
    def from_parameters(
        cls,
        initial: np.ndarray,
        transitions: list[np.ndarray] | np.ndarray,
        means: np.ndarray,
        covariances: np.ndarray,
        *,
        waves: list[Any] | None = None,
        indicators: list[str] | None = None,
        parameterisation: str = "VVI",
    ) -> LatentTransitionModel:
        """A model with given parameters, for scoring and posteriors (no covariates).

        Parameters
        ----------
        initial : array of shape (K,)
            Initial profile shares.
        transitions : sequence of arrays of shape (K, K)
            One transition matrix per consecutive wave pair.
        means, covariances : array of shape (K, P) or (T, K, P)
            Profile means and diagonal variances, invariant or per wave.
        waves : list, optional
            Wave labels; default ``0..T-1``.
        indicators : list of str, optional
            Indicator columns; default ``x1..xP``.
        parameterisation : {"VVI", "EEI"}
            Recorded for the parameter count.

        Returns
        -------
        LatentTransitionModel
            A model usable with :meth:`score`, :meth:`score_samples`, :meth:`predict_proba` and
            :meth:`predict`.
        """
        initial = np.asarray(initial, dtype=float)
        trans = np.asarray(transitions, dtype=float)
        means = np.asarray(means, dtype=float)
        variances = np.asarray(covariances, dtype=float)
        invariant = means.ndim == 2
        K = len(initial)
        n_waves = trans.shape[0] + 1
        model = cls(K, parameterisation, invariant=invariant)
        model._spec = None
        model.id_col_, model.wave_col_ = "id", "wave"
        model.waves_ = list(waves) if waves is not None else list(range(n_waves))
        P = means.shape[-1]
        model.indicators_ = list(indicators) if indicators is not None else [f"x{j + 1}" for j in range(P)]
        model.covariate_terms_ = []
        model.continuous_indicators_ = list(model.indicators_)
        model.categorical_indicators_, model.categories_, model.probabilities_ = [], [], []
        model._params = _Params(
            means=means[None] if invariant else means,
            variances=variances[None] if invariant else variances,
            log_init=safe_log(initial),
            log_trans=safe_log(trans),
        )
        model._settings_ = model._settings()
        model.weighted_ = False
        model.initial_, model.transitions_ = initial, list(trans)
        model.means_, model.covariances_ = means, variances
        return model

    def relabel(self, order: list[int] | np.ndarray) -> LatentTransitionModel:
        """A copy with the profiles renumbered, for example to follow a published table or a simulation's truth.

        The likelihood is unchanged; initial logits are re-referenced to the new profile 1. This model is
        left as it is (a bootstrap of it describes its own numbering: run it again on the copy).

        Parameters
        ----------
        order : sequence of int
            ``order[k]`` is the current number (1-based) of the profile that becomes profile ``k + 1``.

        Returns
        -------
        LatentTransitionModel
            A relabelled copy.
        """
        self._check_fitted()
        perm = np.asarray(order, dtype=int) - 1
        if sorted(perm.tolist()) != list(range(int(self.n_profiles))):
            raise ValueError("order must be a permutation of 1..K")
        params = _permute(self._params, perm)
        new = copy.deepcopy(self)
        if not hasattr(self, "_panel"):
            new._params = params
            new.initial_ = np.asarray(self.initial_)[perm]
            new.transitions_ = [np.asarray(A)[np.ix_(perm, perm)] for A in self.transitions_]
            new.means_ = params.means[0] if self.invariant else params.means
            new.covariances_ = params.variances[0] if self.invariant else params.variances
            return new
        fit = _Fit(
            params=params,
            loglik=self.loglik_,
            history=self.loglik_trace_,
            converged=self.converged_,
            n_iter=self.n_iter_,
        )
        new._set_fitted(self._panel, self._settings_, fit, self.start_logliks_)
        return new

    # ------------------------------------------------------------------ prediction

    def _estep_on(self, data: pd.DataFrame | None, **kw: Any) -> tuple[_Panel, np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        if data is None and not hasattr(self, "_panel"):
            raise ValueError("this model was not fitted on data; pass data")
        panel = self._panel if data is None else self._panel_for(data, **kw)
        params = self._params
        logB = _log_emission(panel, params.means, params.variances, params.probs)
        log_pi, log_A = _structural(params, panel)
        return panel, logB, log_pi, log_A

    def score_samples(
        self,
        data: pd.DataFrame | None = None,
        *,
        indicators: list[str] | None = None,
        id_col: str | None = None,
        wave_col: str | None = None,
        waves: list[Any] | None = None,
        covariate_data: pd.DataFrame | None = None,
    ) -> pd.Series:
        """Log-likelihood of each participant under the fitted parameters.

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`; default the data the model was fitted on.
        indicators, id_col, wave_col, waves, covariate_data
            As for :meth:`fit`; default the fitted ones.

        Returns
        -------
        Series
            Log-likelihood indexed by participant id.
        """
        kw = dict(indicators=indicators, id_col=id_col, wave_col=wave_col, waves=waves, covariate_data=covariate_data)
        panel, logB, log_pi, log_A = self._estep_on(data, **kw)
        ll, _, _ = _forward_backward(logB, log_pi, log_A)
        return pd.Series(ll, index=pd.Index(panel.ids, name="id"), name="loglik")

    def score(self, data: pd.DataFrame | None = None, **kwargs: Any) -> float:
        """Total log-likelihood of ``data`` (default: the fitted data) under the fitted parameters.

        Without ``data`` a weighted model gives its weighted sum (``loglik_`` at the fitted parameters);
        new ``data`` is scored unweighted (:meth:`score_samples` is always per participant, unweighted).

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`.
        **kwargs
            ``indicators``, ``id_col``, ``wave_col``, ``waves``, ``covariate_data`` as for :meth:`score_samples`.

        Returns
        -------
        float
            Sum of the participants' log-likelihoods.
        """
        per_id = self.score_samples(data, **kwargs)
        if data is None and getattr(self, "weighted_", False):
            return float((per_id * self.weights_.reindex(per_id.index)).sum())
        return float(per_id.sum())

    def predict_proba(self, data: pd.DataFrame | None = None, **kwargs: Any) -> pd.DataFrame:
        """Smoothed profile probabilities per participant and wave (forward-backward).

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`; default the fitted data.
        **kwargs
            ``indicators``, ``id_col``, ``wave_col``, ``waves``, ``covariate_data``.

        Returns
        -------
        DataFrame
            ``id``, ``wave``, ``observed``, ``profile_1..K``.
        """
        panel, logB, log_pi, log_A = self._estep_on(data, **kwargs)
        _, gamma, _ = _forward_backward(logB, log_pi, log_A)
        return _posterior_frame(panel, gamma)

    def predict(self, data: pd.DataFrame | None = None, method: str = "modal", **kwargs: Any) -> pd.DataFrame:
        """Profile per participant and wave (1..K).

        Parameters
        ----------
        data : DataFrame, optional
            Long data as for :meth:`fit`; default the fitted data.
        method : {"modal", "viterbi"}
            Largest smoothed posterior per wave, or the most likely profile path.
        **kwargs
            ``indicators``, ``id_col``, ``wave_col``, ``waves``, ``covariate_data``.

        Returns
        -------
        DataFrame
            ``id``, ``wave``, ``observed``, ``profile``.
        """
        if method not in ("modal", "viterbi"):
            raise ValueError("method must be 'modal' or 'viterbi'")
        panel, logB, log_pi, log_A = self._estep_on(data, **kwargs)
        _, gamma, _ = _forward_backward(logB, log_pi, log_A)
        frame = _assignment_frame(panel, gamma, _viterbi(logB, log_pi, log_A))
        return frame[["id", "wave", "observed"]].assign(profile=frame[method])

    # ------------------------------------------------------------------ reporting

    def transitions_frame(self, wide: bool = False, bootstrap: BootstrapResult | None = None) -> pd.DataFrame:
        """Transition probabilities, with bootstrap intervals when a :meth:`bootstrap` result is given.

        Parameters
        ----------
        wide : bool, default False
            ``False``: long form (from_wave, to_wave, from_profile, to_profile, probability[, se, ci_lower,
            ci_upper]); ``True``: one K x K block per wave pair, indexed by (pair, from_profile).
        bootstrap : BootstrapResult, optional
            The result of :meth:`bootstrap` on this model: adds ``se``, ``ci_lower`` and ``ci_upper``.

        Returns
        -------
        DataFrame
            The transition probabilities.
        """
        self._check_fitted()
        frame = _transitions_long(self.waves_, self.transitions_)
        if wide:
            frame["pair"] = frame["from_wave"].astype(str) + "->" + frame["to_wave"].astype(str)
            return frame.pivot_table(
                index=["pair", "from_profile"], columns="to_profile", values="probability", sort=False
            )
        if bootstrap is not None:
            boot = bootstrap.to_frame()
            boot = boot[boot["parameter"] == "transition"].reset_index(drop=True)
            frame[["se", "ci_lower", "ci_upper"]] = boot[["se", "ci_lower", "ci_upper"]].to_numpy()
        return frame

    def profiles_frame(self) -> pd.DataFrame:
        """Profile means and variances per indicator (and wave when not invariant), in long form.

        Returns
        -------
        DataFrame
            ``wave`` (None when invariant), ``profile``, ``indicator``, ``mean``, ``variance``.
        """
        self._check_fitted()
        names = getattr(self, "continuous_indicators_", self.indicators_)
        return _profiles_long(self._params.means, self._params.variances, self.waves_, names)

    def probabilities_frame(self) -> pd.DataFrame:
        """Category probabilities of the categorical indicators in long form.

        Returns
        -------
        DataFrame
            ``wave`` (None when invariant), ``profile``, ``indicator``, ``category``, ``probability``.
        """
        self._check_fitted()
        rows = []
        for name, categories, block in zip(
            getattr(self, "categorical_indicators_", []),
            getattr(self, "categories_", []),
            self.probabilities_,
            strict=True,
        ):
            waves = [None] if block.ndim == 2 else self.waves_
            blocks = [block] if block.ndim == 2 else list(block)
            for wave, probs in zip(waves, blocks, strict=True):
                for k in range(probs.shape[0]):
                    for c, category in enumerate(categories):
                        rows.append((wave, k + 1, name, category, float(probs[k, c])))
        return pd.DataFrame(rows, columns=["wave", "profile", "indicator", "category", "probability"])

    def to_frame(self) -> pd.DataFrame:
        """All parameters in one tidy frame.

        Returns
        -------
        DataFrame
            ``parameter`` (``initial``, ``transition``, ``mean``, ``variance``, ``probability``), ``from_wave``,
            ``to_wave``, ``from_profile``, ``to_profile`` (the profile for initial, mean, variance and
            probability rows), ``indicator``, ``estimate`` and ``category`` (of probability rows).
            ``frame.attrs["weighted"]`` says whether the fit used case weights.
        """
        self._check_fitted()
        frame = _parameters_long(self.initial_, self.transitions_, self.waves_, self.profiles_frame())
        frame["category"] = None
        frame.attrs["weighted"] = bool(getattr(self, "weighted_", False))
        probs = self.probabilities_frame()
        if probs.empty:
            return frame
        extra = pd.DataFrame(
            {
                "parameter": "probability",
                "from_wave": probs["wave"],
                "to_wave": None,
                "from_profile": None,
                "to_profile": probs["profile"],
                "indicator": probs["indicator"],
                "estimate": probs["probability"],
                "category": probs["category"],
            }
        )
        out = pd.concat([frame, extra[frame.columns]], ignore_index=True)
        out.attrs["weighted"] = frame.attrs["weighted"]
        return out

    def summary(self, bootstrap: BootstrapResult | None = None) -> str:
        """Plain-text report: fit statistics, initial shares, transition matrices, covariate effects.

        Parameters
        ----------
        bootstrap : BootstrapResult, optional
            The result of :meth:`bootstrap` on this model: adds percentile intervals to the transitions.

        Returns
        -------
        str
            The report; print it.
        """
        self._check_fitted()
        K = int(self.n_profiles)
        T = len(self.waves_)
        lines = [
            "Latent transition analysis",
            f"  profiles: {K}   waves: {', '.join(map(str, self.waves_))}   parameterisation: {self.parameterisation}"
            f" ({'invariant' if self.invariant else 'wave-specific'}),"
            f" transitions: {'homogeneous' if self.homogeneous else 'per wave pair'}",
        ]
        if hasattr(self, "n_participants_"):
            n_best = self.n_best_starts_
            lines += [
                f"  participants: {self.n_participants_}   observed participant-waves: {self.n_observations_}"
                f" of {self.n_participants_ * T}",
                f"  log-likelihood: {self.loglik_:.3f}   parameters: {self.n_parameters_}   BIC: {self.bic_:.1f}"
                f"   AIC: {self.aic_:.1f}",
                f"  relative entropy: {self.entropy_:.3f}   converged: {self.converged_} ({self.n_iter_} iterations)"
                f"   best log-likelihood reached by {n_best} of {len(self.start_logliks_)} final starts",
            ]
            if getattr(self, "weighted_", False):
                w = self.weights_
                lines += [
                    f"  weighted: case weights rescaled to mean 1 (min {w.min():.3f}, max {w.max():.3f})",
                    "  the log-likelihood is a weighted pseudo-log-likelihood; standard errors are robust (sandwich)",
                ]
        lines += [
            "",
            "Initial profile shares",
            "  " + "  ".join(f"{k + 1}: {p:.3f}" for k, p in enumerate(self.initial_)),
        ]
        lines += _transitions_text(self.waves_, self.transitions_, bootstrap)
        if getattr(self, "init_coef_", None) is not None and hasattr(self, "_panel"):
            lines += _effects_text(self.covariate_effects())
        return "\n".join(lines)

"""The latent profile estimator: :class:`LatentProfileModel`, a Gaussian mixture with the LPA parameterisations."""

# ruff: noqa: N803  (X for the data matrix, as in scikit-learn)
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis._estimator import ParamsMixin
from analysis.lpa.categorical_items import (
    _CategoricalMixin,
    _ColumnSpec,
    encode_input,
    make_data,
)
from analysis.lpa.em import (
    _DIAGONAL,
    _SHARED,
    _check_parameterisation,
    _Data,
    _EMResult,
    _evaluate,
    _log_joint,
    _n_cov_parameters,
    _normalise,
    _Params,
)
from analysis.lpa.starts import _StartsMixin
from analysis.mixture import entropy_terms as _entropy_terms
from analysis.validation import check_indicator_values, check_n_profiles


class LPAWarning(UserWarning):
    """A latent profile estimate that needs the analyst's attention."""


class ReplicationWarning(LPAWarning):
    """The best log-likelihood was reached by only one of the starts iterated to convergence."""


class SpuriousSolutionWarning(LPAWarning):
    """A solution was degenerate (see :mod:`analysis.lpa.guard`): set aside, or the only kind found."""


def _category(message: str) -> type[LPAWarning]:
    if message.startswith("The best log-likelihood"):
        return ReplicationWarning
    if "spurious" in message:
        return SpuriousSolutionWarning
    return LPAWarning


def _profile_labels(k: int) -> list[str]:
    return [f"profile_{j + 1}" for j in range(k)]


# --------------------------------------------------------------------------------------------------
# The estimator


class LatentProfileModel(_StartsMixin, _CategoricalMixin, ParamsMixin):
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
        How many starts are iterated to convergence (Mplus's second ``STARTS`` number). Every start (the
        random ones, and any given or grown from another solution) first gets ``n_init_iter`` EM
        iterations, and only the best ``n_final_starts`` go on. Default: a quarter of ``n_starts``, at
        least two (Mplus's default ``STARTS = 20 4`` is a fifth); ``n_starts`` or more iterates every
        start to convergence. Screening is a gamble when K is larger than the data support (a start that
        is behind after ``n_init_iter`` iterations can still end highest); the starts that adapt (see
        ``max_starts``) make up for it where the best solution is not replicated.
    n_init_iter : int, default=10
        EM iterations of the initial stage (Mplus's ``STITERATIONS``, default 10), used when fewer starts
        are iterated to convergence than were run.
    max_iter : int, default=5000
        Maximum EM iterations (M-steps) per start.
    tol : float, default=1e-10
        Convergence: a start has converged when one EM step raises the log-likelihood by at most
        ``tol * |loglik|`` (for ``N = 2000`` and 25 indicators about 7e-6 log-likelihood points).
    reg_covar : float, default=1e-6
        The ridge of the search: ``reg_covar`` times each indicator's overall variance is added to every
        variance (the diagonal of every covariance matrix) during EM, so that no profile can collapse onto
        a point (scikit-learn and StepMix add ``reg_covar`` itself; scaled, it means the same on any unit).
        The solution reported is then iterated to convergence without the ridge, so that the estimates and
        ``loglik_`` are those of the unregularised model (the regularised solution is kept only if that
        would make it spurious). ``0`` runs EM without a ridge.
    replication_tol : float, default=0.01
        Starts whose final log-likelihood is within this many points of the best count as replicating it.
    missing : {"fiml", "listwise"}, default="fiml"
        Missing values (NaN). ``"fiml"``: diagonal models (EEI, VVI) use every observed value (full
        information maximum likelihood under missing at random; each row's likelihood is over its
        observed indicators); full-covariance models (EEE, VVV) drop rows with a missing value, with a
        warning. Rows with no observed indicator are always dropped with a warning. ``"listwise"``: drop
        every row with a missing value.
    max_starts : int, optional
        Starts that adapt: when fewer than two regular starts reach the best regular log-likelihood, as
        many random starts as have been run are added (doubling) until the best is replicated or
        ``max_starts`` random starts have been run; only then is a :class:`ReplicationWarning` given
        (Mplus's advice to raise STARTS until the best value is replicated). Added starts are screened as
        the first ones: ``n_init_iter`` EM iterations each, and the same share of them (a quarter by
        default, at least two) iterated to convergence. Default: ``2 * n_starts`` (one doubling);
        ``n_starts`` turns it off.
    min_profile_share : float, default=0.0
        A solution with a profile whose share is below this is spurious (besides the guard's own rules,
        see :mod:`analysis.lpa.guard`).
    accelerate : bool, default=True
        SQUAREM acceleration of EM (Varadhan & Roland 2008): each cycle takes two EM steps,
        extrapolates along them (the step length's bound starts at 1 and grows fourfold when a step at
        the bound is kept), keeps the extrapolated point only if its log-likelihood is at least that
        after the first EM step, and takes one more EM step. The log-likelihood never decreases; it
        reaches a fixed point of EM in far fewer iterations (not always the one plain EM reaches from
        the same start). ``False`` runs plain EM.
    init_params : dict or list of dict, optional
        Extra starting values, each ``{"weights", "means", "covariances"}`` in the shapes of the fitted
        attributes (see below), added to the random starts.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for the starting values (and for :meth:`sample`).
    categorical : list of str or int, optional
        Categorical (binary, ordinal-as-nominal or nominal) indicators: column names of a DataFrame, or
        column indices of an array. Each one's sorted distinct non-missing values are its categories
        (``categories_``; strings are fine); within a profile it has one probability per category,
        independent of the other indicators (local independence). Missing values drop the item from that
        row's likelihood (FIML). The continuous columns keep ``parameterisation``; with only categorical
        columns the model is a latent class model and ``parameterisation`` is ignored (``"EEI"`` is
        recorded; there are no means or variances). See :mod:`analysis.categorical`.

    Attributes
    ----------
    weights_ : ndarray of shape (K,)
        Profile shares, in decreasing order (profile 1 is the largest).
    means_ : ndarray of shape (K, d)
        Means of the ``d`` continuous indicators (``continuous_features_``).
    probabilities_ : list of ndarray of shape (K, C_j)
        Category probabilities of each categorical indicator (``categorical_features_``, ``categories_``).
    covariances_ : ndarray
        ``(d,)`` for EEI, ``(K, d)`` for VVI, ``(d, d)`` for EEE, ``(K, d, d)`` for VVV.
    loglik_ : float
        Log-likelihood of the fitted model on the rows used.
    n_parameters_ : int
        Free parameters: ``K - 1`` weights, ``K d`` means, the covariance parameters and ``K (C_j - 1)`` per
        categorical indicator.
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
    n_starts_used_ : int
        Starts run, the ones ``max_starts`` added included.
    best_start_ : int
        Which start the reported solution comes from (an index into ``start_logliks_``).
    start_spurious_ : ndarray of bool
        Which starts ended at a spurious solution (:mod:`analysis.lpa.guard`).
    spurious_, spurious_reason_ :
        Whether the reported solution is itself spurious (every start ended spurious), and why.
    set_aside_loglik_, set_aside_reason_ :
        The highest log-likelihood of a spurious solution above the reported one, set aside (NaN when
        there was none), and why it is spurious.
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
        n_init_iter: int = 10,
        max_iter: int = 5000,
        tol: float = 1e-10,
        reg_covar: float = 1e-6,
        replication_tol: float = 0.01,
        missing: str = "fiml",
        max_starts: int | None = None,
        min_profile_share: float = 0.0,
        accelerate: bool = True,
        init_params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        random_state: int | np.random.Generator | None = None,
        categorical: Sequence[str | int] | None = None,
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
        self.max_starts = max_starts
        self.min_profile_share = min_profile_share
        self.accelerate = accelerate
        self.init_params = init_params
        self.random_state = random_state
        self.categorical = categorical

    def __repr__(self) -> str:
        return f"LatentProfileModel(n_profiles={self.n_profiles}, parameterisation={self.parameterisation!r})"

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

    def fit_from(
        self, X: pd.DataFrame | np.ndarray, weights: Any, means: Any, covariances: Any, probabilities: Any = None
    ) -> LatentProfileModel:
        """Run EM to convergence from the given parameters only (no random starts).

        Parameters
        ----------
        X : DataFrame or array of shape (n, d)
        weights : array of shape (K,)
        means : array of shape (K, d)
        covariances : array
            In the shape of ``covariances_`` for this parameterisation.
        probabilities : list of arrays of shape (K, C_j), optional
            Category probabilities per categorical indicator (as ``probabilities_``).

        Returns
        -------
        self : LatentProfileModel
        """
        given = {"weights": weights, "means": means, "covariances": covariances, "probabilities": probabilities}
        return self._fit(X, [given], 0)

    def _validate(self) -> tuple[str, int]:
        parameterisation = _check_parameterisation(self.parameterisation)
        k = check_n_profiles(self.n_profiles)
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
        return np.asarray(keep)

    def _fit(self, X: Any, extra: list[Mapping[str, Any]], n_random: int) -> LatentProfileModel:
        parameterisation, k = self._validate()
        values, names, _, spec = encode_input(X, self.categorical)
        continuous = spec.continuous(values.shape[1])
        check_indicator_values(values[:, continuous], [names[j] for j in continuous])
        if len(spec.positions) == values.shape[1]:
            parameterisation = "EEI"  # a latent class model: no continuous indicator, no covariance
        messages: list[str] = []
        keep = self._rows(values, parameterisation, messages)
        used = values[keep]
        check_n_profiles(k, used.shape[0])
        data = make_data(used, spec, parameterisation)
        rng = np.random.default_rng(self.random_state)
        parts = [self._internal(given, data, parameterisation, k) for given in extra]
        if k == 1 or n_random > 0:
            parts.append(self._starting_values(data, parameterisation, k, n_random, rng))
        if not parts:
            raise ValueError("No starting values: n_starts is 0 and no init_params were given.")
        first = _Params.concat(parts)
        guarded = [names[j] for j in continuous]
        result, spurious = self._search(data, first, parameterisation, k, n_random, rng, guarded)
        self._store(result, spurious, data, parameterisation, k, names, spec, messages)
        return self

    def _store(
        self,
        result: _EMResult,
        spurious: list[str],
        data: _Data,
        parameterisation: str,
        k: int,
        names: list[str],
        spec: _ColumnSpec,
        messages: list[str],
    ) -> None:
        guarded = [names[j] for j in spec.continuous(len(names))]
        usable = result.completed & ~result.failed & np.isfinite(result.logliks)
        flagged = np.array([bool(reason) for reason in spurious])
        regular = usable & ~flagged
        pool = regular if regular.any() else usable
        best_start = int(np.flatnonzero(pool)[np.argmax(result.logliks[pool])])
        chosen = result.take(np.array([best_start]))
        if regular.any():
            chosen = self._unregularised(data, chosen, parameterisation, guarded)
        order = np.argsort(-chosen.weights[0], kind="stable")
        probs = None if chosen.probs is None else chosen.probs[:, order]
        messages = list(messages) + self._store_categorical(None if probs is None else probs[0], data, spec, names)
        weights = chosen.weights[0][order]
        means = chosen.means[0][order] + data.center
        cov = chosen.cov[0] if _SHARED[parameterisation] else chosen.cov[0][order]
        self.parameterisation_ = parameterisation
        self.weights_ = weights
        self.means_ = means
        self.covariances_ = cov[0] if _SHARED[parameterisation] else cov
        self.feature_names_in_ = list(names)
        self.n_features_in_ = len(names)
        self.n_samples_ = data.n
        self._center = data.center
        # Recompute the E-step at the reported parameters in float64: loglik_ is exactly theirs.
        internal = _Params(weights[None], (means - data.center)[None], cov[None], probs)
        resp, ll, _ = _evaluate(data, internal, parameterisation, np.zeros(1, dtype=bool))
        self.loglik_ = float(ll[0])
        self.n_parameters_ = (k - 1) + k * data.d + _n_cov_parameters(parameterisation, k, data.d)
        self.n_parameters_ += 0 if data.cat is None else k * data.cat.n_free
        self.converged_ = bool(result.converged[best_start])
        self.n_iter_ = int(result.n_iter[best_start])
        self.best_start_ = best_start
        self.start_logliks_ = result.logliks.copy()
        self.start_completed_ = result.completed.copy()
        self.start_failed_ = result.failed.copy()
        self.start_spurious_ = flagged
        self.n_starts_used_ = int(result.logliks.size)
        self.spurious_ = not regular.any()
        self.spurious_reason_ = spurious[best_start]
        above = usable & flagged & (result.logliks > result.logliks[best_start])
        top = int(np.flatnonzero(above)[np.argmax(result.logliks[above])]) if above.any() else -1
        self.set_aside_loglik_ = float(result.logliks[top]) if top >= 0 else float("nan")
        self.set_aside_reason_ = spurious[top] if top >= 0 else ""
        posterior = resp[0]  # (K, n)
        self.classification_entropy_ = _entropy_terms(posterior)
        self.modal_counts_ = np.bincount(posterior.argmax(axis=0), minlength=k)
        self.warnings_ = self._start_warnings() + list(messages)
        if not self.converged_:
            self.warnings_.append(f"EM did not converge within max_iter={self.max_iter} iterations.")
        for message in self.warnings_:
            warnings.warn(message, _category(message), stacklevel=4)

    def _start_warnings(self) -> list[str]:
        """Count the replication of the reported solution and say what its starts found (spurious, not replicated)."""
        completed = self.start_completed_ & ~self.start_failed_
        peers = completed & (self.start_spurious_ == self.spurious_)
        reference = self.start_logliks_[self.best_start_]
        self.replication_count_ = int((self.start_logliks_[peers] >= reference - self.replication_tol).sum())
        self.replication_ = self.replication_count_ / max(int(self.start_completed_.sum()), 1)
        out = []
        if self.spurious_:
            out.append(
                f"Every solution the starts found is spurious: {self.spurious_reason_}. Do not interpret this model: "
                "fit fewer profiles or a more constrained parameterisation."
            )
        elif np.isfinite(self.set_aside_loglik_):
            out.append(
                f"A higher log-likelihood ({self.set_aside_loglik_:.3f}) was reached by a spurious solution and set "
                f"aside: {self.set_aside_reason_}. This is the best regular solution."
            )
        if self.weights_.size > 1 and int(completed.sum()) > 1 and self.replication_count_ < 2:
            out.append(
                f"The best log-likelihood ({self.loglik_:.3f}) was reached by only 1 of {int(completed.sum())} starts "
                f"iterated to convergence ({self.n_starts_used_} run; random starts were added up to max_starts): "
                "it may be a local maximum. "
                "Increase n_starts or max_starts."
            )
        return out

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
        probs = np.concatenate(self.probabilities_, axis=1)[None] if self.probabilities_ else None
        return _Params(self.weights_[None], (self.means_ - self._center)[None], cov[None], probs)

    def _posterior(self, X: Any) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
        """Posterior ``(n, K)`` and per-row log-likelihood ``(n,)``; NaN for rows the model cannot score."""
        self._check_fitted()
        if np.ndim(X) == 2 and np.shape(X)[1] != self.n_features_in_:
            raise ValueError(f"X has {np.shape(X)[1]} indicators; the model was fitted on {self.n_features_in_}.")
        if isinstance(X, pd.DataFrame) and [str(c) for c in X.columns] != self.feature_names_in_:
            raise ValueError(f"X has columns {list(X.columns)}; the model was fitted on {self.feature_names_in_}.")
        values, _, index, _ = encode_input(X, None, self._spec)
        observed = np.isfinite(values)
        usable = observed.any(axis=1) if _DIAGONAL[self.parameterisation_] else observed.all(axis=1)
        resp = np.full((values.shape[0], self.weights_.size), np.nan)
        row_ll = np.full(values.shape[0], np.nan)
        if usable.any():
            data = make_data(values[usable], self._spec, self.parameterisation_, center=self._center)
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
                "starts": self.n_starts_used_,
                "spurious": self.spurious_,
                "set_aside_loglik": self.set_aside_loglik_,
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
        X : DataFrame of shape (n_samples, d), columns as in the training data (categorical indicators
            hold drawn categories)
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
        frame = pd.DataFrame(values, columns=self.continuous_features_)
        for name, drawn in self._sample_categories(labels, rng).items():
            frame[name] = drawn
        return frame[self.feature_names_in_], labels

    # ---- reporting ----------------------------------------------------------------------------------

    def get_parameters_df(self) -> pd.DataFrame:
        """All parameters in long form.

        Returns
        -------
        DataFrame with columns ``parameter`` (``weight``, ``mean``, ``variance`` or ``covariance``),
        ``profile`` (``profile_1`` ...; ``all`` for a covariance shared by every profile), ``variable``,
        ``variable_2`` (the second indicator of a covariance), ``value`` and ``category`` (for the rows
        ``parameter="probability"`` of categorical indicators, see :meth:`get_probabilities_df`).
        """
        self._check_fitted()
        k, d = self.means_.shape
        labels = _profile_labels(k)
        names = self.continuous_features_
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
        frame = pd.DataFrame(rows, columns=["parameter", "profile", "variable", "variable_2", "value"])
        frame["category"] = None
        return pd.concat([frame, self._probability_rows()], ignore_index=True) if self.probabilities_ else frame

    def get_means_df(self) -> pd.DataFrame:
        """Profile means, one row per profile (with its share) and one column per continuous indicator
        (categorical indicators: :meth:`get_probabilities_df`)."""
        self._check_fitted()
        frame = pd.DataFrame(self.means_, index=_profile_labels(self.weights_.size), columns=self.continuous_features_)
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
        if self.probabilities_:
            table = self.get_probabilities_df().pivot_table(
                "probability", ["variable", "category"], "profile", sort=False
            )
            lines += ["", "Category probabilities", table.round(3).to_string()]
        if self.warnings_:
            lines += ["", "Warnings:"] + [f"  - {message}" for message in self.warnings_]
        return "\n".join(lines)


_DESCRIPTIONS = {
    "EEI": "diagonal covariance, equal across profiles",
    "VVI": "diagonal covariance, varying across profiles",
    "EEE": "full covariance, equal across profiles",
    "VVV": "full covariance, varying across profiles",
}

"""The three-step estimator with classification-error correction, and the naive transition table.

Step 1 fits a latent profile model (:class:`analysis.lpa.LatentProfileModel` in the diagonal
parameterisation of the transition model) to the participant-waves, pooled or per wave; step 2 assigns
each participant-wave to its modal profile and computes ``D[k, s] = P(assigned s | true k)``; step 3
estimates initial shares and transitions of the true profiles by ML (Vermunt 2010) or BCH (Bolck, Croon
& Hagenaars 2004). The naive table cross-tabulates the modal assignments.
"""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.lpa import LatentProfileModel, LPAWarning
from analysis.lta.em import _em, _var_floor
from analysis.lta.panel import _Panel
from analysis.lta.results import TransitionResult
from analysis.lta.structural import _EstimatorParts, _marginal, _Params, _Settings, _structural
from analysis.mixture import Array, classification_error, match_profiles, relative_entropy

__all__ = ["StepOne", "naive_transitions", "three_step"]


@dataclass(frozen=True)
class StepOne:
    """How step 1 is fitted: the transition model's profiles, parameterisation and starts."""

    settings: _Settings
    n_starts: int
    n_init_iter: int
    random_state: int | np.random.Generator | None


def _classification_error(gamma: Array, weight: Array | None) -> Array:
    """``D`` of the modal assignment; with case weights each row's posterior counts ``weight`` times."""
    if weight is None:
        return classification_error(gamma)
    return classification_error(gamma * weight[:, None], gamma.argmax(axis=1))


def _step1(panel: _Panel, how: StepOne, step1: str) -> tuple[Array, Array, Array, Array, float]:
    """Mixture per wave or pooled: (posteriors (N, T, K), assigned (N, T; -1 missing), D, means, entropy).

    The mixture itself is unweighted (:class:`analysis.lpa.LatentProfileModel` takes no case weights);
    with case weights on the panel, ``D`` is the weighted classification error.
    """
    if step1 not in ("pooled", "per_wave"):
        raise ValueError("step1 must be 'pooled' or 'per_wave'")
    K = how.settings.K
    N, T, _ = panel.X.shape
    rng = np.random.default_rng(how.random_state)
    post = np.zeros((N, T, K))
    weight = np.broadcast_to(panel.w[:, None], (N, T)) if panel.weighted else None

    def mixture(rows: Array) -> tuple[LatentProfileModel, Array]:
        model = LatentProfileModel(
            K,
            how.settings.parameterisation,
            n_starts=max(int(how.n_starts), 1),
            n_init_iter=int(how.n_init_iter),
            random_state=rng,
            categorical=panel.cat_positions or None,
        )
        with warnings.catch_warnings():
            # the step-1 model is a means to an end; its own diagnostics (replication) are not reported
            warnings.simplefilter("ignore", LPAWarning)
            model.fit(rows)
        return model, np.asarray(model.predict_proba(rows))

    if step1 == "pooled":
        fit, gamma = mixture(panel.X[panel.observed])
        post[panel.observed] = gamma
        means = fit.means_
        assigned = np.full((N, T), -1)
        assigned[panel.observed] = gamma.argmax(axis=1)
        D = _classification_error(gamma, None if weight is None else weight[panel.observed])
        entropy = relative_entropy(gamma)
    else:
        means_t: list[Array] = []
        D_t: list[Array] = []
        assigned = np.full((N, T), -1)
        scale = np.sqrt(_var_floor(panel) / 1e-6)
        signatures: list[Array] = []
        for t in range(T):
            obs = panel.observed[:, t]
            fit, gamma = mixture(panel.X[obs, t])
            m = fit.means_
            # profiles are matched by standardised means and category probabilities
            signature = np.hstack([m / scale, *fit.probabilities_])
            if t > 0:
                perm = match_profiles(signature, signatures[0])
                m, gamma = m[perm], gamma[:, perm]
            signatures.append(signature)
            post[obs, t] = gamma
            assigned[obs, t] = gamma.argmax(axis=1)
            means_t.append(m)
            D_t.append(_classification_error(gamma, None if weight is None else weight[obs, t]))
        means, D = np.stack(means_t), np.stack(D_t)
        entropy = relative_entropy(post[panel.observed])
    return post, assigned, D, means, entropy


def _naive_from(assigned: Array, K: int, weight: Array | None = None) -> tuple[Array, list[Array], list[Array]]:
    """Shares and row-normalised cross-tabulations of the assignments; counts weighted by ``weight`` if given."""
    T = assigned.shape[1]
    seen = assigned[:, 0] >= 0
    first = assigned[:, 0][seen]
    if weight is None:
        initial = np.bincount(first, minlength=K) / max(len(first), 1)
    else:
        mass = np.bincount(first, weights=weight[seen], minlength=K)
        initial = mass / mass.sum() if mass.sum() > 0 else np.full(K, np.nan)
    trans, counts = [], []
    for t in range(T - 1):
        both = (assigned[:, t] >= 0) & (assigned[:, t + 1] >= 0)
        C = np.zeros((K, K))
        np.add.at(C, (assigned[both, t], assigned[both, t + 1]), 1.0 if weight is None else weight[both])
        rows = C.sum(axis=1, keepdims=True)
        trans.append(np.where(rows > 0, C / np.where(rows > 0, rows, 1.0), np.nan))
        counts.append(C)
    return initial, trans, counts


def naive_transitions(panel: _Panel, how: StepOne, step1: str = "pooled") -> TransitionResult:
    """The naive table from the modal step-1 assignments (see :meth:`LatentTransitionModel.naive_transitions`)."""
    _, assigned, _, means, entropy = _step1(panel, how, step1)
    return _naive_result(panel, assigned, means, entropy, how.settings.K)


def _naive_result(panel: _Panel, assigned: Array, means: Array, entropy: float, K: int) -> TransitionResult:
    initial, trans, counts = _naive_from(assigned, K, panel.w if panel.weighted else None)
    return TransitionResult(
        method="naive",
        waves=panel.waves,
        initial=initial,
        transitions=trans,
        means=means,
        entropy=entropy,
        counts=counts,
        n_participants=panel.n,
        weighted=panel.weighted,
    )


def three_step(panel: _Panel, how: StepOne, method: str = "ML", step1: str = "pooled") -> TransitionResult:
    """Three-step latent transition estimates corrected for classification error.

    Step 1 fits a diagonal Gaussian mixture (pooled over waves, or per wave); step 2 assigns each
    participant-wave to its modal profile and computes ``D[k, s] = P(assigned s | true k)``; step 3
    estimates initial shares and transitions of the true profiles.

    ``method="ML"`` (Vermunt 2010): a latent Markov model with the assigned profile as single indicator
    whose error probabilities are fixed at ``D``, estimated by EM; missed waves by full information.
    ``method="BCH"`` (Bolck, Croon & Hagenaars 2004; Vermunt 2010): weights ``W = D^-1``; the weighted
    count of a pair of waves is ``sum_i W[s_it, :]' W[s_it+1, :]`` over the participants observed at both
    waves (errors are independent over waves given the profiles). Negative cells of the weighted counts
    (possible with BCH) are set to zero before the rows are normalised.

    The three-step estimators here take no covariates and give no standard errors (use
    :meth:`LatentTransitionModel.fit` with covariates, or bootstrap the whole procedure).

    With case weights on the panel, step 1 stays unweighted (the step-1 latent profile model takes no
    weights; this presumes that the measurement model does not differ by what the weights correct for),
    ``D`` is the weighted classification error, ML maximises the weighted step-3 pseudo-log-likelihood and
    BCH sums the participants' weighted counts.

    Parameters
    ----------
    panel : _Panel
        The participants' waves.
    how : StepOne
        Profiles, parameterisation, starts and seed of step 1.
    method : {"ML", "BCH"}, default "ML"
    step1 : {"pooled", "per_wave"}, default "pooled"

    Returns
    -------
    TransitionResult
        Corrected estimates, with the naive table from the same classification as ``naive``.
    """
    if method not in ("ML", "BCH"):
        raise ValueError("method must be 'ML' or 'BCH'")
    K = how.settings.K
    N, T, _ = panel.X.shape
    _, assigned, D, means, entropy = _step1(panel, how, step1)
    naive = _naive_result(panel, assigned, means, entropy, K)
    n_init, n_trans = naive.initial, naive.transitions
    D_t = D if D.ndim == 3 else np.broadcast_to(D, (T, K, K))
    counts = None
    if method == "ML":
        logB = np.zeros((N, T, K))
        for t in range(T):
            obs = assigned[:, t] >= 0
            logB[obs, t] = np.log(np.clip(D_t[t][:, assigned[obs, t]].T, 1e-12, None))
        settings = replace(how.settings, max_iter=max(how.settings.max_iter, 2000), tol=min(how.settings.tol, 1e-9))
        start_trans = [np.nan_to_num(A, nan=1.0 / K) * 0.9 + 0.1 / K for A in n_trans]
        if settings.homogeneous:
            start_trans = [np.mean(start_trans, axis=0)]
        start = _Params(
            means=np.zeros((1, K, 1)),
            variances=np.ones((1, K, 1)),
            log_init=np.log(0.9 * n_init + 0.1 / K),
            log_trans=np.log(np.stack(start_trans)) if start_trans else np.zeros((0, K, K)),
        )
        bare = replace(panel, Zi=np.zeros((N, 0)), Zt=np.zeros((N, 0)))
        fit = _em(bare, start, settings, _var_floor(panel), settings.max_iter, logB_fixed=logB)
        log_pi, log_A = _structural(fit.params, bare)
        initial, trans = _marginal(log_pi, log_A, bare.w)
    else:
        W_t = [np.linalg.inv(D_t[t]) for t in range(T)]
        first = assigned[:, 0] >= 0
        w = panel.w if panel.weighted else None
        if w is None:
            initial = np.clip(W_t[0][assigned[first, 0]].mean(axis=0), 0.0, None)
        else:
            initial = np.clip(np.average(W_t[0][assigned[first, 0]], axis=0, weights=w[first]), 0.0, None)
        initial = initial / initial.sum()
        trans, counts = [], []
        for t in range(T - 1):
            both = (assigned[:, t] >= 0) & (assigned[:, t + 1] >= 0)
            left = W_t[t][assigned[both, t]]
            if w is not None:
                left = left * w[both][:, None]
            C = left.T @ W_t[t + 1][assigned[both, t + 1]]
            counts.append(C)
            Cp = np.clip(C, 0.0, None)
            rows = Cp.sum(axis=1, keepdims=True)
            trans.append(np.where(rows > 0, Cp / np.where(rows > 0, rows, 1.0), np.nan))
        if how.settings.homogeneous and trans:
            Cp = np.clip(sum(counts), 0.0, None)
            trans = [Cp / Cp.sum(axis=1, keepdims=True)] * (T - 1)
    return TransitionResult(
        method=method,
        waves=panel.waves,
        initial=np.asarray(initial),
        transitions=list(trans),
        means=means,
        entropy=entropy,
        classification_error=D,
        counts=counts,
        n_participants=N,
        naive=naive,
        weighted=panel.weighted,
    )


class _ThreeStepMixin(_EstimatorParts):
    """The naive table and the three-step estimator as methods of :class:`LatentTransitionModel`."""

    # ------------------------------------------------------------------ three-step and naive

    def _step_one(self) -> StepOne:
        return StepOne(self._settings(), int(self.n_starts), int(self.n_init_iter), self.random_state)

    def naive_transitions(
        self,
        data: pd.DataFrame,
        indicators: list[str] | None = None,
        *,
        step1: str = "pooled",
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list[Any] | None = None,
        weights: str | pd.Series | None = None,
    ) -> TransitionResult:
        """The naive table: classify each wave by modal assignment, cross-tabulate consecutive waves.

        Classification error makes this table overstate change (it pulls the diagonal down); it is here to
        show by how much. Participants observed at both waves of a pair enter that pair's table.

        Parameters
        ----------
        data : DataFrame
            Long data as for :meth:`fit`.
        indicators, id_col, wave_col, waves
            As for :meth:`fit`.
        step1 : {"pooled", "per_wave"}, default "pooled"
            One Gaussian mixture on all participant-waves (profiles equal over waves), or one per wave with
            profiles matched to wave 1 by their means.
        weights : str or Series, optional
            Case weights as for :meth:`fit`: the shares and cross-tabulations are weighted counts (the
            step-1 classification is unweighted).

        Returns
        -------
        TransitionResult
            Row-normalised cross-tabulations (``method="naive"``).
        """
        panel = self._bare_panel(data, indicators, id_col, wave_col, waves, weights)
        return naive_transitions(panel, self._step_one(), step1)

    def three_step(
        self,
        data: pd.DataFrame,
        method: str = "ML",
        indicators: list[str] | None = None,
        *,
        step1: str = "pooled",
        id_col: str = "id",
        wave_col: str = "wave",
        waves: list[Any] | None = None,
        weights: str | pd.Series | None = None,
    ) -> TransitionResult:
        """Three-step latent transition estimates corrected for classification error.

        Step 1 fits a latent profile model to the participant-waves (pooled, or per wave) with this model's
        ``n_profiles``, ``parameterisation``, ``n_starts`` and ``random_state``; step 2 takes the modal
        profiles and their classification errors; step 3 estimates the transitions of the true profiles by
        ML (Vermunt 2010) or BCH (Bolck, Croon & Hagenaars 2004). No covariates and no standard errors; see
        :func:`analysis.lta.three_step.three_step` for the details.

        Parameters
        ----------
        data : DataFrame
            Long data as for :meth:`fit`.
        method : {"ML", "BCH"}, default "ML"
            Correction method.
        indicators, id_col, wave_col, waves
            As for :meth:`fit`.
        step1 : {"pooled", "per_wave"}, default "pooled"
            Step-1 mixture on all participant-waves, or per wave with profiles matched to wave 1.
        weights : str or Series, optional
            Case weights as for :meth:`fit`: step 1 is unweighted, the classification errors are weighted
            and step 3 maximises the weighted pseudo-log-likelihood (ML) or sums weighted counts (BCH).

        Returns
        -------
        TransitionResult
            Corrected estimates, with the naive table from the same classification as ``naive``.
        """
        panel = self._bare_panel(data, indicators, id_col, wave_col, waves, weights)
        return three_step(panel, self._step_one(), method, step1)

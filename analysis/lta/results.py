"""Result objects of the latent transition model: transitions, the invariance test and the bootstrap."""

# Matrix notation (X, K, T, D, log_A) follows the LTA literature; lowercase names would obscure it.
# ruff: noqa: N803, N806

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.lta.panel import _Panel
from analysis.mixture import Array


def _pair_labels(waves: list[Any]) -> list[str]:
    return [f"{a}->{b}" for a, b in itertools.pairwise(waves)]


def _transitions_long(waves: list[Any], transitions: list[np.ndarray], value: str = "probability") -> pd.DataFrame:
    rows = []
    for t, A in enumerate(transitions):
        K = A.shape[0]
        for j in range(K):
            for k in range(K):
                rows.append(
                    {
                        "from_wave": waves[t],
                        "to_wave": waves[t + 1],
                        "from_profile": j + 1,
                        "to_profile": k + 1,
                        value: float(A[j, k]),
                    }
                )
    return pd.DataFrame(rows, columns=["from_wave", "to_wave", "from_profile", "to_profile", value])


def _matrix_text(A: np.ndarray, digits: int = 3) -> str:
    K = A.shape[0]
    frame = pd.DataFrame(A, index=[f"from {j + 1}" for j in range(K)], columns=[f"to {k + 1}" for k in range(K)])
    return frame.round(digits).to_string()


@dataclass
class TransitionResult:
    """Initial shares and transition matrices from the three-step or the naive method.

    Attributes
    ----------
    method : str
        ``"naive"``, ``"ML"`` or ``"BCH"``.
    waves : list
        Wave labels in order.
    initial : ndarray of shape (K,)
        Profile shares at the first wave.
    transitions : list of ndarray of shape (K, K)
        Row-stochastic transition matrix per consecutive wave pair.
    means : ndarray
        Step-1 profile means, (K, P) when pooled or (T, K, P) per wave.
    entropy : float
        Relative entropy of the step-1 classification.
    classification_error : ndarray or None
        ``D[k, s] = P(assigned s | true k)``, (K, K) pooled or (T, K, K) per wave; ``None`` for naive.
    counts : list of ndarray or None
        Cross-tabulated (naive) or BCH-weighted counts per wave pair.
    n_participants : int
        Participants in the data.
    naive : TransitionResult or None
        The naive table from the same step-1 classification (three-step results only).
    weighted : bool
        Whether steps 2 and 3 (or the naive counts) used case weights.
    """

    method: str
    waves: list[Any]
    initial: np.ndarray
    transitions: list[np.ndarray]
    means: np.ndarray
    entropy: float
    classification_error: np.ndarray | None = None
    counts: list[np.ndarray] | None = None
    n_participants: int = 0
    naive: TransitionResult | None = None
    weighted: bool = False

    def stability(self) -> np.ndarray:
        """Mean probability of staying in the same profile, per wave pair."""
        return np.array([float(np.mean(np.diag(A))) for A in self.transitions])

    def transitions_frame(self) -> pd.DataFrame:
        """Transition probabilities in long form: from_wave, to_wave, from_profile, to_profile, probability."""
        return _transitions_long(self.waves, self.transitions)

    def to_frame(self) -> pd.DataFrame:
        """Initial shares and transitions in one tidy frame (``parameter`` is ``initial`` or ``transition``)."""
        init = pd.DataFrame(
            {
                "parameter": "initial",
                "from_wave": self.waves[0],
                "to_wave": None,
                "from_profile": None,
                "to_profile": np.arange(1, len(self.initial) + 1),
                "probability": self.initial,
            }
        )
        trans = self.transitions_frame().assign(parameter="transition")
        out = pd.concat([init, trans[init.columns]], ignore_index=True)
        return out.astype({"from_profile": "Int64", "to_profile": "Int64"})

    def summary(self) -> str:
        """Plain-text report: method, step-1 entropy, initial shares and transition matrices."""
        lines = [
            f"Transitions by the {self.method} method ({self.n_participants} participants, {len(self.waves)} waves)",
            f"Step-1 relative entropy: {self.entropy:.3f}"
            + ("   weighted: case weights in steps 2 and 3 (step 1 unweighted)" if self.weighted else ""),
            "Initial shares: " + ", ".join(f"{k + 1}: {p:.3f}" for k, p in enumerate(self.initial)),
        ]
        for label, A in zip(_pair_labels(self.waves), self.transitions, strict=True):
            lines += ["", f"Transitions {label}", _matrix_text(A)]
        return "\n".join(lines)


@dataclass
class InvarianceTestResult:
    """Likelihood-ratio test of measurement invariance over waves.

    Attributes
    ----------
    chi2, df, p_value : float, int, float
        ``2 (loglik_free - loglik_invariant)``, the difference in free parameters, and the chi-square p-value.
    loglik_invariant, loglik_free : float
        Maximised log-likelihoods of the invariant and the wave-specific measurement model.
    n_parameters_invariant, n_parameters_free : int
        Free parameters of each model.
    bic_invariant, bic_free : float
        BIC of each model.
    """

    chi2: float
    df: int
    p_value: float
    loglik_invariant: float
    loglik_free: float
    n_parameters_invariant: int
    n_parameters_free: int
    bic_invariant: float
    bic_free: float

    def to_frame(self) -> pd.DataFrame:
        """One row per model with loglik, parameters and BIC, and the test in the free model's row."""
        return pd.DataFrame(
            {
                "model": ["invariant", "wave-specific"],
                "loglik": [self.loglik_invariant, self.loglik_free],
                "n_parameters": [self.n_parameters_invariant, self.n_parameters_free],
                "bic": [self.bic_invariant, self.bic_free],
                "chi2": [np.nan, self.chi2],
                "df": [np.nan, self.df],
                "p_value": [np.nan, self.p_value],
            }
        )

    def summary(self) -> str:
        """One-paragraph report of the test."""
        return (
            "Likelihood-ratio test of measurement invariance over waves\n"
            f"  invariant:     loglik {self.loglik_invariant:.3f}, {self.n_parameters_invariant} parameters, "
            f"BIC {self.bic_invariant:.1f}\n"
            f"  wave-specific: loglik {self.loglik_free:.3f}, {self.n_parameters_free} parameters, "
            f"BIC {self.bic_free:.1f}\n"
            f"  chi2({self.df}) = {self.chi2:.3f}, p = {self.p_value:.4g}"
        )


@dataclass
class BootstrapResult:
    """Nonparametric bootstrap over participants of initial shares and transition matrices.

    Attributes
    ----------
    initial : ndarray of shape (B, K)
        Initial shares per successful draw, relabelled to the original solution.
    transitions : ndarray of shape (B, T-1, K, K)
        Transition matrices per successful draw, relabelled.
    initial_ci, transitions_ci : ndarray
        Percentile limits, shapes (K, 2) and (T-1, K, K, 2).
    alpha : float
        One minus the confidence level.
    n_relabelled : int
        Draws whose profiles were permuted to match the original solution (label switching).
    estimate_initial, estimate_transitions : ndarray
        The original estimates.
    waves : list
        Wave labels.
    """

    initial: np.ndarray
    transitions: np.ndarray
    initial_ci: np.ndarray
    transitions_ci: np.ndarray
    alpha: float
    n_relabelled: int
    estimate_initial: np.ndarray
    estimate_transitions: np.ndarray
    waves: list[Any]

    @property
    def n_boot(self) -> int:
        """Number of successful bootstrap draws."""
        return int(self.initial.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """Estimates, bootstrap standard errors and percentile limits in one tidy frame."""
        K = self.initial.shape[1]
        rows = []
        for k in range(K):
            rows.append(
                {
                    "parameter": "initial",
                    "from_wave": self.waves[0],
                    "to_wave": None,
                    "from_profile": None,
                    "to_profile": k + 1,
                    "estimate": float(self.estimate_initial[k]),
                    "se": float(np.std(self.initial[:, k], ddof=1)) if self.n_boot > 1 else np.nan,
                    "ci_lower": float(self.initial_ci[k, 0]),
                    "ci_upper": float(self.initial_ci[k, 1]),
                }
            )
        for t in range(self.transitions.shape[1]):
            for j in range(K):
                for k in range(K):
                    draws = self.transitions[:, t, j, k]
                    rows.append(
                        {
                            "parameter": "transition",
                            "from_wave": self.waves[t],
                            "to_wave": self.waves[t + 1],
                            "from_profile": j + 1,
                            "to_profile": k + 1,
                            "estimate": float(self.estimate_transitions[t, j, k]),
                            "se": float(np.std(draws, ddof=1)) if self.n_boot > 1 else np.nan,
                            "ci_lower": float(self.transitions_ci[t, j, k, 0]),
                            "ci_upper": float(self.transitions_ci[t, j, k, 1]),
                        }
                    )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text table of estimates with percentile intervals."""
        level = 100 * (1 - self.alpha)
        head = f"Bootstrap ({self.n_boot} draws, {level:.0f}% percentile intervals; {self.n_relabelled} relabelled)"
        return head + "\n" + self.to_frame().round(3).to_string(index=False)


# ------------------------------------------------------------------ frames and text of a fitted model


def _posterior_frame(panel: _Panel, gamma: Array) -> pd.DataFrame:
    """``id``, ``wave``, ``observed`` and ``profile_1..K`` smoothed probabilities."""
    N, T, K = gamma.shape
    frame = pd.DataFrame(
        {
            "id": np.repeat(panel.ids, T),
            "wave": np.tile(np.asarray(panel.waves, dtype=object), N),
            "observed": panel.observed.reshape(-1),
        }
    )
    probs = pd.DataFrame(gamma.reshape(N * T, K), columns=[f"profile_{k + 1}" for k in range(K)])
    return pd.concat([frame, probs], axis=1)


def _assignment_frame(panel: _Panel, gamma: Array, path: Array) -> pd.DataFrame:
    """``id``, ``wave``, ``observed``, ``modal`` and ``viterbi`` profiles (1-based)."""
    N, T, _ = gamma.shape
    return pd.DataFrame(
        {
            "id": np.repeat(panel.ids, T),
            "wave": np.tile(np.asarray(panel.waves, dtype=object), N),
            "observed": panel.observed.reshape(-1),
            "modal": gamma.argmax(axis=2).reshape(-1) + 1,
            "viterbi": path.reshape(-1) + 1,
        }
    )


def _profiles_long(means: Array, variances: Array, waves: list[Any], indicators: list[str]) -> pd.DataFrame:
    """Means and variances (Tm, K, P) in long form: wave (None when invariant), profile, indicator."""
    rows = []
    for tm in range(means.shape[0]):
        wave = None if means.shape[0] == 1 else waves[tm]
        for k in range(means.shape[1]):
            for p, name in enumerate(indicators):
                rows.append(
                    {
                        "wave": wave,
                        "profile": k + 1,
                        "indicator": name,
                        "mean": float(means[tm, k, p]),
                        "variance": float(variances[tm, k, p]),
                    }
                )
    return pd.DataFrame(rows)


def _parameters_long(
    initial: Array, transitions: list[Array], waves: list[Any], profiles: pd.DataFrame
) -> pd.DataFrame:
    """Initial shares, transitions and the profiles frame in one tidy frame."""
    init = pd.DataFrame(
        {
            "parameter": "initial",
            "from_wave": waves[0],
            "to_profile": np.arange(1, len(initial) + 1),
            "estimate": initial,
        }
    )
    trans = _transitions_long(waves, transitions, value="estimate").assign(parameter="transition")
    prof = profiles.rename(columns={"wave": "from_wave", "profile": "to_profile"})
    meas = pd.concat(
        [
            prof.drop(columns="variance").rename(columns={"mean": "estimate"}).assign(parameter="mean"),
            prof.drop(columns="mean").rename(columns={"variance": "estimate"}).assign(parameter="variance"),
        ]
    )
    cols = ["parameter", "from_wave", "to_wave", "from_profile", "to_profile", "indicator", "estimate"]
    out = pd.concat([init, trans, meas], ignore_index=True).reindex(columns=cols)
    return out.astype({"from_profile": "Int64", "to_profile": "Int64"})


def _transitions_text(waves: list[Any], transitions: list[Array], bootstrap: BootstrapResult | None) -> list[str]:
    """The transition matrices as text, each with its bootstrap intervals when given."""
    lines: list[str] = []
    for t, (label, A) in enumerate(zip(_pair_labels(waves), transitions, strict=True)):
        lines += ["", f"Transitions {label} (rows: from, columns: to)", _matrix_text(A)]
        if bootstrap is not None:
            K = A.shape[0]
            lo, hi = bootstrap.transitions_ci[t, ..., 0], bootstrap.transitions_ci[t, ..., 1]
            ci = pd.DataFrame(
                [[f"[{lo[j, k]:.2f}, {hi[j, k]:.2f}]" for k in range(K)] for j in range(K)],
                index=[f"from {j + 1}" for j in range(K)],
                columns=[f"to {k + 1}" for k in range(K)],
            )
            level = 100 * (1 - bootstrap.alpha)
            lines += [f"  {level:.0f}% bootstrap percentile intervals ({bootstrap.n_boot} draws)", ci.to_string()]
    return lines


def _effects_text(effects: pd.DataFrame) -> list[str]:
    """The covariate slopes of :meth:`LatentTransitionModel.covariate_effects` as text (none: no lines)."""
    eff = effects[~effects["term"].str.startswith("(intercept)")]
    if not len(eff):
        return []
    columns = ["part", "from_profile", "to_profile", "term", "coef", "se", "odds_ratio", "or_lower", "or_upper"]
    return [
        "",
        "Covariate effects (odds ratios, 95% CI; initial: vs profile 1, transitions: vs staying)",
        eff[[*columns, "p_value"]].round(3).to_string(index=False),
    ]

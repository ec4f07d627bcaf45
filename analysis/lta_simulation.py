"""Planted-truth panels for latent transition analysis: simulate, tune separation to an entropy, score recovery.

The simulated study follows the Bridge the Gap design: participants measured in waves on facet scores,
profiles that are high on some facets and low on others (and average on the rest), profile shares like the
six profiles of *Mind the Gap!*, mostly stable profiles with some change between waves, monotone attrition,
and participant covariates (gender, hbo/wo, study cluster, job type) that can be given effects on the
initial profile and on the transitions.

``separation`` scales the distances between profile means; :func:`separation_for_entropy` finds the
separation that gives a target relative entropy, either of a single wave's classification (``kind="wave"``,
what a cross-sectional profile analysis reports) or of the smoothed latent Markov posteriors
(``kind="lta"``, which borrow strength from the other waves and are higher).
"""

# Matrix notation (K, P, T, A) follows the LTA literature.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.lta import LatentTransitionModel, match_profiles

__all__ = [
    "COVARIATES",
    "adjusted_rand_index",
    "default_initial",
    "default_transitions",
    "profile_structure",
    "recovery",
    "relative_entropy_at",
    "separation_for_entropy",
    "simulate_lta",
]

#: Covariates the simulator draws: name -> share of participants with value 1.
COVARIATES = {"woman": 0.22, "wo": 0.50, "cluster2": 0.42, "technical_job": 0.49}
STUDY_SHARES = np.array([0.22, 0.19, 0.11, 0.16, 0.16, 0.16])  # Status Seeker, All-rounder, Innovator, ...
BASELINE = 4.0  # middle of the 7-point scale the facet scores are on


def profile_structure(
    n_profiles: int, n_indicators: int, random_state: int = 0, share: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """Which indicators mark each profile, and the profile-specific variances.

    Each profile is high on some indicators and low on others (``share`` of the indicators, random signs
    and strengths between 0.6 and 1) and average on the rest. Of 50 random draws the one whose closest two
    profiles are farthest apart is kept, so that no two profiles nearly coincide.

    Parameters
    ----------
    n_profiles, n_indicators : int
        ``K`` and ``P``.
    random_state : int, default 0
        Seed of the structure (not of the data).
    share : float, default 0.4
        Share of the indicators on which a profile departs from the average.

    Returns
    -------
    pattern : ndarray of shape (K, P)
        Departures from the baseline in units of ``separation``.
    variances : ndarray of shape (K, P)
        Within-profile variances, between 0.6 and 1.4.
    """
    rng = np.random.default_rng(random_state)
    K, P = n_profiles, n_indicators
    m = max(1, round(share * P))
    best, best_gap = None, -1.0
    for _ in range(50):
        pattern = np.zeros((K, P))
        for k in range(K):
            idx = rng.choice(P, m, replace=False)
            pattern[k, idx] = rng.choice([-1.0, 1.0], m) * rng.uniform(0.6, 1.0, m)
        d = np.sqrt(((pattern[:, None] - pattern[None]) ** 2).sum(axis=2))
        gap = np.min(d[np.triu_indices(K, 1)]) if K > 1 else 1.0
        if gap > best_gap:
            best, best_gap = pattern, gap
    variances = rng.uniform(0.6, 1.4, (K, P))
    assert best is not None  # the loop runs at least once
    return best, variances


def default_initial(n_profiles: int) -> np.ndarray:
    """Initial shares: the *Mind the Gap!* shares for six profiles, otherwise gently unequal shares."""
    if n_profiles == 6:
        return STUDY_SHARES.copy()
    w = np.linspace(1.4, 0.6, n_profiles)
    return np.asarray(w / w.sum())


def default_transitions(
    n_profiles: int, n_pairs: int, stay: tuple[float, ...] = (0.80, 0.75), random_state: int = 0
) -> list[np.ndarray]:
    """Mostly stable transition matrices: staying near ``stay[t]`` (+-0.05 by profile), moves spread unevenly.

    Parameters
    ----------
    n_profiles, n_pairs : int
        ``K`` and the number of consecutive wave pairs.
    stay : tuple of float
        Mean probability of staying per wave pair (the last value repeats).
    random_state : int
        Seed.

    Returns
    -------
    list of ndarray of shape (K, K)
    """
    rng = np.random.default_rng(random_state)
    K = n_profiles
    out = []
    for t in range(n_pairs):
        s = stay[min(t, len(stay) - 1)]
        A = np.zeros((K, K))
        for j in range(K):
            sj = float(np.clip(s + rng.uniform(-0.05, 0.05), 0.0, 1.0)) if K > 1 else 1.0
            others = [k for k in range(K) if k != j]
            A[j, j] = sj
            if others:
                A[j, others] = (1.0 - sj) * rng.dirichlet(np.full(len(others), 2.0))
        out.append(A)
    return out


def _coef_arrays(
    covariate_effects: dict[str, dict[str, Any]] | None, K: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    effects = covariate_effects or {}
    unknown = set(effects) - {"initial", "transitions"}
    if unknown:
        raise ValueError(f"covariate_effects keys must be 'initial' and/or 'transitions', not {sorted(unknown)}")
    init = {c: np.asarray(v, dtype=float) for c, v in effects.get("initial", {}).items()}
    trans = {c: np.asarray(v, dtype=float) for c, v in effects.get("transitions", {}).items()}
    for c in [*init, *trans]:
        if c not in COVARIATES:
            raise ValueError(f"unknown covariate {c!r}; the simulator draws {sorted(COVARIATES)}")
    for c, v in init.items():
        if v.shape != (K,) or v[0] != 0:
            raise ValueError(f"initial effect of {c!r} must have shape (K,) with 0 for profile 1 (the reference)")
    for c, v in trans.items():
        if v.shape != (K, K) or np.any(np.diag(v) != 0):
            raise ValueError(f"transition effect of {c!r} must be K x K with zeros on the diagonal (staying)")
    return init, trans


def simulate_lta(
    n: int = 2000,
    n_waves: int = 3,
    n_profiles: int = 6,
    n_indicators: int = 20,
    separation: float = 1.5,
    attrition: float = 0.2,
    initial: np.ndarray | None = None,
    transitions: list[np.ndarray] | None = None,
    covariate_effects: dict[str, dict[str, Any]] | None = None,
    mean_shift: dict[int, float | np.ndarray] | None = None,
    item_missing: float = 0.0,
    structure_seed: int = 0,
    random_state: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate a panel from a latent transition model with known truth.

    Parameters
    ----------
    n : int, default 2000
        Participants.
    n_waves, n_profiles, n_indicators : int
        ``T``, ``K`` and ``P``.
    separation : float, default 1.5
        Scale of the departures of profile means from the baseline (within-profile SDs are about 1).
    attrition : float, default 0.2
        Share of the participants still in the study who miss each next wave and all later ones (monotone
        dropout, completely at random).
    initial : array of shape (K,), optional
        Initial shares (for participants with all covariates 0); default :func:`default_initial`.
    transitions : list of (K, K) arrays, optional
        One matrix per wave pair (for covariates 0); default :func:`default_transitions`.
    covariate_effects : dict, optional
        ``{"initial": {cov: (K,) log-odds vs profile 1}, "transitions": {cov: (K, K) log-odds of moving
        j -> k vs staying in j}}`` for covariates among :data:`COVARIATES`.
    mean_shift : dict, optional
        ``{wave_index: shift}``: at that wave (0-based) every profile's mean on the first quarter of the
        indicators moves by ``shift`` (a float), or all means move by a (K, P) array: measurement
        non-invariance.
    item_missing : float, default 0.0
        Share of indicator values missing completely at random within observed waves.
    structure_seed : int, default 0
        Seed of the profile structure and default transitions (the population), fixed across data sets.
    random_state : int or Generator, optional
        Seed of the sample.

    Returns
    -------
    data : DataFrame
        Long format: ``id`` (1..n), ``wave`` (1..T), ``x1..xP``, and the covariates; one row per observed
        participant-wave.
    truth : dict
        ``states`` (n, T) true profiles 0-based (for missed waves too), ``observed`` (n, T), ``initial``,
        ``transitions``, ``means`` (K, P), ``wave_means`` (T, K, P), ``variances``, ``covariate_effects``,
        ``separation``, ``indicators``, ``covariates`` (n x 4 frame by id).
    """
    rng = np.random.default_rng(random_state)
    K, P, T = n_profiles, n_indicators, n_waves
    pattern, variances = profile_structure(K, P, structure_seed)
    means = BASELINE + separation * pattern
    initial = default_initial(K) if initial is None else np.asarray(initial, dtype=float)
    if transitions is None:
        transitions = default_transitions(K, T - 1, random_state=structure_seed)
    transitions = [np.asarray(A, dtype=float) for A in transitions]
    if len(transitions) != T - 1:
        raise ValueError("transitions must have one matrix per consecutive wave pair")
    init_eff, trans_eff = _coef_arrays(covariate_effects, K)

    cov = pd.DataFrame(
        {c: (rng.random(n) < p).astype(int) for c, p in COVARIATES.items()}, index=pd.RangeIndex(1, n + 1, name="id")
    )
    eta = np.broadcast_to(np.log(initial), (n, K)).copy()
    for c, b in init_eff.items():
        eta += cov[c].to_numpy()[:, None] * b[None, :]
    p0 = np.exp(eta - eta.max(axis=1, keepdims=True))
    p0 /= p0.sum(axis=1, keepdims=True)
    states = np.empty((n, T), dtype=int)
    states[:, 0] = np.minimum((p0.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1), K - 1)
    for t in range(T - 1):
        with np.errstate(divide="ignore"):
            base = np.log(transitions[t])
        logit = base[states[:, t]] - base[states[:, t], states[:, t]][:, None]
        for c, B in trans_eff.items():
            logit = logit + cov[c].to_numpy()[:, None] * B[states[:, t]]
        pt = np.exp(logit - logit.max(axis=1, keepdims=True))
        pt /= pt.sum(axis=1, keepdims=True)
        states[:, t + 1] = np.minimum((pt.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1), K - 1)

    wave_means = np.broadcast_to(means, (T, K, P)).copy()
    for t, shift in (mean_shift or {}).items():
        if np.ndim(shift) == 0:
            wave_means[t, :, : max(1, P // 4)] += float(shift)
        else:
            wave_means[t] += np.asarray(shift, dtype=float)

    observed = np.ones((n, T), dtype=bool)
    for t in range(1, T):
        observed[:, t] = observed[:, t - 1] & (rng.random(n) >= attrition)
    noise = rng.standard_normal((n, T, P))
    X = wave_means[np.arange(T)[None, :], states] + np.sqrt(variances[states]) * noise
    if item_missing > 0:
        X[rng.random((n, T, P)) < item_missing] = np.nan

    ii, tt = np.nonzero(observed)
    indicators = [f"x{j + 1}" for j in range(P)]
    data = pd.DataFrame(X[ii, tt], columns=indicators)
    data.insert(0, "wave", tt + 1)
    data.insert(0, "id", ii + 1)
    for c in COVARIATES:
        data[c] = cov[c].to_numpy()[ii]
    truth = {
        "states": states,
        "observed": observed,
        "initial": initial,
        "transitions": transitions,
        "means": means,
        "wave_means": wave_means,
        "variances": variances,
        "covariate_effects": {"initial": init_eff, "transitions": trans_eff},
        "separation": float(separation),
        "indicators": indicators,
        "covariates": cov,
    }
    return data, truth


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings (Hubert & Arabie 1985).

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Labels.

    Returns
    -------
    float
        1 for identical partitions, about 0 for unrelated ones.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1.0)

    def pairs(x: np.ndarray) -> float:
        return float(np.sum(x * (x - 1) / 2.0))

    n_pairs = len(a) * (len(a) - 1) / 2.0
    index = pairs(table)
    row, col = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = row * col / n_pairs if n_pairs else 0.0
    top = 0.5 * (row + col)
    if top == expected:
        return 1.0
    return float((index - expected) / (top - expected))


def recovery(
    means: np.ndarray, initial: np.ndarray, transitions: list[np.ndarray], truth: dict[str, Any]
) -> dict[str, Any]:
    """Errors of estimated initial shares and transitions against the truth, after matching profiles.

    Profiles are matched to the true ones by their means (Hungarian algorithm); the mean absolute error is
    over all cells of all transition matrices.

    Parameters
    ----------
    means : ndarray of shape (K, P) or (T, K, P)
        Estimated profile means (averaged over waves when per wave).
    initial : ndarray of shape (K,)
        Estimated initial shares.
    transitions : list of (K, K) arrays
        Estimated transition matrices.
    truth : dict
        From :func:`simulate_lta`.

    Returns
    -------
    dict
        ``perm`` (estimated profile per true profile), ``transition_mae``, ``initial_mae``, ``stability``
        (estimated mean diagonal per pair), ``true_stability``, aligned ``initial`` and ``transitions``.
    """
    m = np.asarray(means)
    m = m.mean(axis=0) if m.ndim == 3 else m
    perm = match_profiles(m, truth["means"])
    init = np.asarray(initial)[perm]
    trans = [np.asarray(A)[np.ix_(perm, perm)] for A in transitions]
    true_t = truth["transitions"]
    mae = float(np.mean([np.nanmean(np.abs(A - B)) for A, B in zip(trans, true_t, strict=True)]))
    return {
        "perm": perm,
        "transition_mae": mae,
        "initial_mae": float(np.mean(np.abs(init - truth["initial"]))),
        "stability": [float(np.mean(np.diag(A))) for A in trans],
        "true_stability": [float(np.mean(np.diag(A))) for A in true_t],
        "initial": init,
        "transitions": trans,
    }


def _wave_entropy(
    separation: float, pattern: np.ndarray, variances: np.ndarray, shares: np.ndarray, z: np.ndarray, s: np.ndarray
) -> float:
    means = BASELINE + separation * pattern
    X = means[s] + np.sqrt(variances[s]) * z
    logp = (
        np.log(shares)[None]
        - 0.5 * np.sum(np.log(2 * np.pi * variances), axis=1)[None]
        - 0.5 * (((X[:, None, :] - means[None]) ** 2) / variances[None]).sum(axis=2)
    )
    logp -= logp.max(axis=1, keepdims=True)
    post = np.exp(logp)
    post /= post.sum(axis=1, keepdims=True)
    ent = -np.sum(post * np.log(np.clip(post, 1e-300, 1.0)))
    return float(1.0 - ent / (len(X) * math.log(len(shares))))


def relative_entropy_at(
    separation: float,
    *,
    kind: str = "wave",
    n_profiles: int = 6,
    n_indicators: int = 20,
    n: int = 20000,
    structure_seed: int = 0,
    random_state: int = 0,
    **simulate_kwargs: Any,
) -> float:
    """Relative entropy of the true-parameter posteriors at a given separation (Monte Carlo).

    Parameters
    ----------
    separation : float
        As in :func:`simulate_lta`.
    kind : {"wave", "lta"}, default "wave"
        ``"wave"``: one wave classified on its own (shares: the initial shares); ``"lta"``: smoothed
        posteriors of the latent Markov model over the observed participant-waves of a simulated panel.
    n_profiles, n_indicators, structure_seed
        As in :func:`simulate_lta`.
    n : int, default 20000
        Monte Carlo sample size (participant-waves for ``"wave"``, participants for ``"lta"``).
    random_state : int, default 0
        Seed of the Monte Carlo sample (common random numbers across separations).
    **simulate_kwargs
        Other arguments of :func:`simulate_lta` (``n_waves``, ``attrition``, ``initial``, ``transitions``).

    Returns
    -------
    float
        Relative entropy between 0 and 1.
    """
    if kind == "wave":
        pattern, variances = profile_structure(n_profiles, n_indicators, structure_seed)
        shares = simulate_kwargs.get("initial")
        shares = default_initial(n_profiles) if shares is None else np.asarray(shares, dtype=float)
        rng = np.random.default_rng(random_state)
        s = rng.choice(n_profiles, n, p=shares)
        z = rng.standard_normal((n, n_indicators))
        return _wave_entropy(separation, pattern, variances, shares, z, s)
    if kind != "lta":
        raise ValueError("kind must be 'wave' or 'lta'")
    data, truth = simulate_lta(
        n=n,
        n_profiles=n_profiles,
        n_indicators=n_indicators,
        separation=separation,
        structure_seed=structure_seed,
        random_state=random_state,
        **simulate_kwargs,
    )
    T = truth["observed"].shape[1]
    model = LatentTransitionModel.from_parameters(
        truth["initial"],
        truth["transitions"],
        truth["means"],
        truth["variances"],
        waves=list(range(1, T + 1)),
        indicators=truth["indicators"],
    )
    post = model.predict_proba(data)
    probs = post.loc[post["observed"], [f"profile_{k + 1}" for k in range(n_profiles)]].to_numpy()
    ent = -np.sum(probs * np.log(np.clip(probs, 1e-300, 1.0)))
    return float(1.0 - ent / (len(probs) * math.log(n_profiles)))


def separation_for_entropy(
    target: float,
    *,
    kind: str = "wave",
    bounds: tuple[float, float] = (0.05, 8.0),
    tol: float = 1e-3,
    **kwargs: Any,
) -> float:
    """The separation whose true-parameter relative entropy is ``target`` (bisection).

    Parameters
    ----------
    target : float
        Relative entropy to reach, between 0 and 1.
    kind : {"wave", "lta"}, default "wave"
        Which entropy, see :func:`relative_entropy_at`.
    bounds : tuple of float
        Search interval of the separation.
    tol : float, default 1e-3
        Tolerance on the entropy.
    **kwargs
        Passed to :func:`relative_entropy_at` (``n_profiles``, ``n_indicators``, ``n``, ``structure_seed``,
        ``random_state``, simulation arguments).

    Returns
    -------
    float
        The separation.
    """
    if not 0.0 < target < 1.0:
        raise ValueError("target must be between 0 and 1")
    lo, hi = bounds
    mid = 0.5 * (lo + hi)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        e = relative_entropy_at(mid, kind=kind, **kwargs)
        if abs(e - target) < tol:
            break
        if e < target:
            lo = mid
        else:
            hi = mid
    return float(mid)

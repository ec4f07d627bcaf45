"""Choosing the number of profiles: :func:`enumerate_profiles`, the LMR test and the bootstrapped LRT."""

# ruff: noqa: N803  (X for the data matrix, as in scikit-learn)
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.lpa.categorical_items import encode_input
from analysis.lpa.em import _DIAGONAL, _SHARED, _check_parameterisation
from analysis.lpa.model import LatentProfileModel, LPAWarning, _category
from analysis.mixture import kmeans_centres as _kmeans_centres

# --------------------------------------------------------------------------------------------------
# Tests of K - 1 against K profiles


def lmr_test(
    loglik_null: float, loglik_alt: float, n_parameters_null: int, n_parameters_alt: int, n: int, k_null: int
) -> tuple[float, float]:
    """Ad hoc adjusted Lo-Mendell-Rubin likelihood ratio test of ``k_null`` against ``k_null + 1`` profiles.

    This is the approximation tidyLPA computes (its ``calc_lrt``), after the ad hoc adjustment of Lo,
    Mendell & Rubin (2001): the likelihood ratio ``LR = 2 (LL_alt - LL_null)`` is divided by
    ``1 + 1 / (((3 k_alt - 1) - (3 k_null - 1)) ln n)`` (the parameter counts of univariate normal
    mixtures, so the divisor is ``1 + 1 / (3 ln n)``) and referred to a chi-square distribution with
    ``n_parameters_alt - n_parameters_null`` degrees of freedom. It is *not* the Vuong-Lo-Mendell-Rubin
    test of Mplus TECH11, whose reference distribution is a weighted sum of chi-squares built from the
    score and information matrices of both models; tidyLPA's documentation calls its version an
    approximation, and so do we. Prefer the bootstrapped LRT (``blrt_p``) for decisions.

    Parameters
    ----------
    loglik_null, loglik_alt : float
        Log-likelihoods of the ``k_null`` and ``k_null + 1`` profile models on the same data.
    n_parameters_null, n_parameters_alt : int
    n : int
        Number of observations.
    k_null : int

    Returns
    -------
    statistic : float
        The adjusted likelihood ratio.
    p_value : float
    """
    lr = 2.0 * (loglik_alt - loglik_null)
    k_alt = k_null + 1
    adjusted = lr / (1.0 + 1.0 / (((3 * k_alt - 1) - (3 * k_null - 1)) * math.log(n)))
    df = n_parameters_alt - n_parameters_null
    if not math.isfinite(adjusted) or df <= 0:
        return float("nan"), float("nan")
    return float(adjusted), float(stats.chi2.sf(max(adjusted, 0.0), df))


def incremental_starts(
    model: LatentProfileModel,
    X: pd.DataFrame | np.ndarray,
    *,
    outlier_shares: Sequence[float] = (0.01, 0.02, 0.05),
    n_groups: int = 6,
) -> list[dict[str, np.ndarray]]:
    """Starting values for ``K + 1`` profiles built from a fitted ``K``-profile model.

    One start per profile splits that profile in two along its direction of largest variance; one more
    per share in ``outlier_shares`` adds a small new profile at the rows the model fits worst (that share
    of rows with the lowest log-likelihood), with their mean and the model's average covariance, and one
    per group when the worst-fitting tenth of the rows is split into ``n_groups`` by k-means. Random
    starts seldom find such small profiles, yet over-extracted solutions often hold one (greedy EM,
    Verbeek, Vlassis & Kröse 2003). :func:`enumerate_profiles` adds these to the random starts of every
    K after the first.

    Parameters
    ----------
    model : LatentProfileModel
        A fitted model with ``K`` profiles.
    X : DataFrame or array of shape (n, d)
        The data it was fitted on.
    outlier_shares : sequence of float, default=(0.01, 0.02, 0.05)
        Shares of rows that seed a new profile (each at least ``d + 1`` rows).
    n_groups : int, default=6
        Groups the worst-fitting tenth of the rows is split into, each seeding a new profile.

    Returns
    -------
    list of dict
        ``{"weights", "means", "covariances"}`` for ``K + 1`` profiles, for ``init_params`` (with
        ``"probabilities"`` for categorical indicators: a new small profile starts from the categories'
        overall shares). The rows are placed by the continuous indicators only.
    """
    starts = _split_starts(model)
    coded, _, _, spec = encode_input(X, None, model._spec)
    values = coded[:, spec.continuous(coded.shape[1])]
    row_ll = model.score_samples(X)
    scored = np.flatnonzero(np.isfinite(row_ll))
    order = scored[np.argsort(row_ll[scored])]
    d = values.shape[1]
    param = model.parameterisation_
    if _SHARED[param]:
        covariances = model.covariances_
    else:
        covariances = np.concatenate([model.covariances_, model.covariances_.mean(axis=0, keepdims=True)])
    seen: set[int] = set()
    for outlier_share in outlier_shares:
        count = min(len(scored), max(d + 1, round(outlier_share * len(scored))))
        if count < 2 or count in seen:
            continue
        seen.add(count)
        mean = np.nanmean(values[order[:count]], axis=0)
        mean = np.where(np.isfinite(mean), mean, np.nanmean(values, axis=0))
        share = count / len(scored)
        weights = np.append(model.weights_ * (1.0 - share), share)
        starts.append(_with_probabilities(model, weights, np.vstack([model.means_, mean]), covariances))
    # the worst-fitting tenth split into groups: a small profile may sit at any of them
    pool = order[: max(2 * (d + 1), len(scored) // 10)]
    complete = pool[np.isfinite(values[pool]).all(axis=1)]
    groups = min(n_groups, len(complete) // (d + 1))
    if groups >= 2:
        rng = np.random.default_rng(len(scored) * 7919 + model.n_profiles)
        centres = _kmeans_centres(values[complete], groups, 1, rng)[0]
        labels = ((values[complete][:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        for group in range(groups):
            members = complete[labels == group]
            if len(members) < 2:
                continue
            share = len(members) / len(scored)
            weights = np.append(model.weights_ * (1.0 - share), share)
            mean = values[members].mean(axis=0)
            starts.append(_with_probabilities(model, weights, np.vstack([model.means_, mean]), covariances))
    return starts


def _with_probabilities(
    model: LatentProfileModel, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> dict[str, Any]:
    """A start with one profile added last: its category probabilities are the model's overall shares."""
    start: dict[str, Any] = {"weights": weights, "means": means, "covariances": covariances}
    if model.probabilities_:
        start["probabilities"] = [np.vstack([block, model.weights_ @ block]) for block in model.probabilities_]
    return start


def _adopt(original: LatentProfileModel, probe: LatentProfileModel) -> LatentProfileModel:
    """``probe`` (fitted from extra starts only, with a higher maximum) as if its starts had been the
    original's extra starts: the start records joined, replication counted over all of them."""
    probe.n_starts = original.n_starts
    probe.init_params = [*(original.init_params or []), *(probe.init_params or [])]
    offset = original.start_logliks_.size
    for name in ("start_logliks_", "start_completed_", "start_failed_", "start_spurious_"):
        setattr(probe, name, np.concatenate([getattr(original, name), getattr(probe, name)]))
    probe.best_start_ += offset
    probe.n_starts_used_ += original.n_starts_used_
    higher = original.set_aside_loglik_ > probe.set_aside_loglik_ or not np.isfinite(probe.set_aside_loglik_)
    if higher and original.set_aside_loglik_ > probe.loglik_:
        probe.set_aside_loglik_, probe.set_aside_reason_ = original.set_aside_loglik_, original.set_aside_reason_
    others = [message for message in probe.warnings_ if _category(message) is LPAWarning]
    probe.warnings_ = probe._start_warnings() + others
    return probe


def _pruned_starts(model: LatentProfileModel) -> list[dict[str, np.ndarray]]:
    """Starting values for ``K - 1`` profiles from a ``K``-profile model: each profile left out in turn."""
    k = model.n_profiles
    starts = []
    for j in range(k):
        keep = [i for i in range(k) if i != j]
        weights = model.weights_[keep] / model.weights_[keep].sum()
        covariances = model.covariances_ if _SHARED[model.parameterisation_] else model.covariances_[keep]
        start = {"weights": weights, "means": model.means_[keep], "covariances": covariances}
        if model.probabilities_:
            start["probabilities"] = [block[keep] for block in model.probabilities_]
        starts.append(start)
    return starts


def _split_starts(model: LatentProfileModel) -> list[dict[str, np.ndarray]]:
    """Starting values for ``K`` profiles from a ``K - 1`` profile model: each profile split in two along its
    direction of largest variance (half a standard deviation either side), the others kept."""
    k, d = model.means_.shape
    param = model.parameterisation_
    starts = []
    for j in range(k):
        cov_j = model.covariances_ if _SHARED[param] else model.covariances_[j]
        if d == 0:
            axis = np.zeros(0)
        elif _DIAGONAL[param]:
            axis = np.zeros(d)
            top = int(np.argmax(cov_j))
            axis[top] = math.sqrt(cov_j[top])
        else:
            values, vectors = np.linalg.eigh(cov_j)
            axis = vectors[:, -1] * math.sqrt(max(values[-1], 0.0))
        means = np.vstack([model.means_, model.means_[j] - 0.5 * axis])
        means[j] = model.means_[j] + 0.5 * axis
        weights = np.append(model.weights_, model.weights_[j] / 2.0)
        weights[j] /= 2.0
        if _SHARED[param]:
            cov = model.covariances_
        else:
            cov = np.concatenate([model.covariances_, model.covariances_[j : j + 1]])
        start = {"weights": weights, "means": means, "covariances": cov}
        if model.probabilities_:
            # the halves differ in the categorical items too: one sharpened, one flattened
            start["probabilities"] = [_split_block(block, j) for block in model.probabilities_]
        starts.append(start)
    return starts


def _split_block(block: np.ndarray, j: int) -> np.ndarray:
    sharp, flat = block[j] ** 1.5, block[j] ** 0.5
    out = np.vstack([block, flat / flat.sum()])
    out[j] = sharp / sharp.sum()
    return out


def _bootstrap_lrt(
    null: LatentProfileModel,
    alt: LatentProfileModel,
    n_draws: int,
    n_starts: int,
    rng: np.random.Generator,
    model_params: Mapping[str, Any],
) -> tuple[float, np.ndarray]:
    """Parametric bootstrap of the likelihood ratio (McLachlan 1987; Nylund et al. 2007).

    Each draw simulates ``n`` rows from the fitted ``K - 1`` model, fits ``K - 1`` profiles from the
    generating values and ``K`` profiles from ``n_starts`` random starts (a quarter iterated to
    convergence) plus the ``K - 1`` solution with each profile split (as Mplus's ``LRTSTARTS = 0 0 20 5``).
    The p-value is ``(1 + #{LR_b >= LR}) / (1 + n_draws)``.
    """
    observed = 2.0 * (alt.loglik_ - null.loglik_)
    k = alt.weights_.size
    draws = np.empty(n_draws)
    generating = {"weights": null.weights_, "means": null.means_, "covariances": null.covariances_}
    generating["probabilities"] = null.probabilities_ or None
    params = {key: value for key, value in model_params.items() if key not in ("init_params", "random_state")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(n_draws):
            sample, _ = null.sample(null.n_samples_, random_state=rng)
            try:
                h0 = LatentProfileModel(k - 1, null.parameterisation_, **params).fit_from(sample, **generating)
                h1 = LatentProfileModel(
                    k,
                    null.parameterisation_,
                    **{
                        **params,
                        "n_starts": n_starts,
                        "n_final_starts": max(1, n_starts // 4),
                        "max_starts": n_starts,  # the draws' starts are fixed, as Mplus's LRTSTARTS
                        "init_params": _split_starts(h0),
                        "random_state": rng,
                    },
                ).fit(sample)
            except RuntimeError:  # every start collapsed on this draw
                draws[b] = np.nan
                continue
            draws[b] = max(0.0, 2.0 * (h1.loglik_ - h0.loglik_))
    valid = draws[np.isfinite(draws)]
    p_value = (1.0 + float(np.sum(valid >= observed))) / (1.0 + valid.size)
    return p_value, draws


# --------------------------------------------------------------------------------------------------
# Enumeration


@dataclass(frozen=True)
class Recommendation:
    """The number of profiles an enumeration points to, and why."""

    parameterisation: str
    n_profiles: int
    reason: str
    bic_choice: int
    blrt_choice: int | None

    def __str__(self) -> str:
        return f"{self.n_profiles} profiles ({self.parameterisation}): {self.reason}"


_TABLE_COLUMNS = [
    "loglik",
    "n_parameters",
    "n",
    "aic",
    "bic",
    "sabic",
    "icl",
    "entropy",
    "smallest_share",
    "smallest_n",
    "replication",
    "starts",
    "spurious",
    "set_aside_loglik",
    "lmr_p",
    "blrt_p",
    "converged",
    "warnings",
]


class EnumerationResult:
    """Fits for a range of profile numbers and parameterisations, with the table researchers report.

    Attributes
    ----------
    models : dict
        ``{(parameterisation, K): LatentProfileModel}`` for every model that could be fitted.
    alpha : float
        Significance level used by :attr:`recommended` for the BLRT.
    bootstrap_draws : dict
        ``{(parameterisation, K): ndarray}``, the bootstrapped likelihood ratios of ``K - 1`` vs ``K``.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        models: dict[tuple[str, int], LatentProfileModel],
        bootstrap_draws: dict[tuple[str, int], np.ndarray],
        alpha: float,
    ) -> None:
        self._table = table
        self.models = models
        self.bootstrap_draws = bootstrap_draws
        self.alpha = alpha

    def to_frame(self) -> pd.DataFrame:
        """The fit table: one row per parameterisation and K (a ``(parameterisation, n_profiles)`` index).

        Columns: ``loglik``, ``n_parameters``, ``n``, ``aic``, ``bic``, ``sabic`` (Sclove's
        ``n* = (n + 2) / 24``), ``icl`` (BIC + 2 x classification entropy), ``entropy`` (relative),
        ``smallest_share`` (smallest estimated profile share), ``smallest_n`` (smallest modal profile size),
        ``replication`` (share of starts iterated to convergence that reached the best log-likelihood),
        ``starts`` (starts run, those added because the best was not replicated included), ``spurious``
        (every solution found is degenerate: never recommended), ``set_aside_loglik`` (the higher
        log-likelihood of a spurious solution set aside for the regular one shown; see
        :mod:`analysis.lpa.guard`),
        ``lmr_p`` (ad hoc adjusted LMR test of K - 1 vs K, see :func:`lmr_test`), ``blrt_p`` (bootstrapped
        LRT of K - 1 vs K), ``converged`` and ``warnings``.
        """
        return self._table.copy()

    @property
    def recommended(self) -> Recommendation:
        """The K with the lowest BIC among the solutions that are not spurious, cross-checked with the BLRT.

        BIC and the bootstrapped LRT were the most reliable indicators in the simulations of Nylund,
        Asparouhov & Muthén (2007). The BLRT's choice is the K before the first non-significant test
        (``blrt_p >= alpha``) in the BIC's parameterisation. When they disagree the BIC's K is returned and
        the reason says so.
        """
        fitted = self._table[np.isfinite(self._table["bic"])]
        spurious = fitted["spurious"].astype(bool)
        table = fitted[~spurious]
        if table.empty:
            raise ValueError(
                "No model could be fitted without a spurious solution." if len(fitted) else "No model could be fitted."
            )
        parameterisation, k = table["bic"].idxmin()
        rows = table.loc[parameterisation]
        ks = sorted(rows.index)
        bic = rows["bic"]
        parts = [f"BIC is lowest for {parameterisation} with K = {k} (BIC {bic[k]:.1f})"]
        others = bic.drop(k)
        if not others.empty:
            runner = others.idxmin()
            parts[0] += f"; next best K = {runner} ({others[runner]:.1f})"
        parts[0] += "."
        passed = fitted[spurious & (fitted["bic"] < bic[k])]
        if not passed.empty:
            names = ", ".join(f"{p} K = {kk}" for p, kk in passed.index)
            parts.append(f"Not considered, as every solution found was spurious: {names}.")
        if k == max(ks) and len(ks) > 1:
            parts.append("BIC still falls at the largest K fitted: fit more profiles before deciding.")
        blrt = rows["blrt_p"]
        tested = [kk for kk in ks if kk >= 2 and np.isfinite(blrt[kk])]
        blrt_choice = None
        if tested:
            first_ns = next((kk for kk in tested if blrt[kk] >= self.alpha), None)
            blrt_choice = (first_ns - 1) if first_ns is not None else max(tested)
            if blrt_choice == k:
                detail = f"K = {k} improves on K = {k - 1}" if k - 1 in ks and k in tested else f"K = {k}"
                if k in tested:
                    detail += f" (BLRT p = {blrt[k]:.3f})"
                if first_ns is not None:
                    detail += f" and K = {first_ns} does not (p = {blrt[first_ns]:.3f})"
                parts.append(f"The bootstrapped LRT agrees: {detail}.")
            else:
                where = (
                    f"it first fails to improve at K = {first_ns} (p = {blrt[first_ns]:.3f})"
                    if first_ns is not None
                    else f"every K up to {max(tested)} improves significantly"
                )
                parts.append(
                    f"The bootstrapped LRT disagrees: {where}, which points to K = {blrt_choice}. BIC and BLRT "
                    "performed best in Nylund, Asparouhov & Muthén (2007); weigh the profiles' interpretation, "
                    "the smallest profile and the entropy."
                )
        else:
            parts.append("No bootstrapped LRT was run (bootstrap=0), so BIC alone decides.")
        notes = rows.loc[k, "warnings"]
        if notes:
            parts.append(f"Note on this model: {notes}")
        return Recommendation(parameterisation, int(k), " ".join(parts), int(k), blrt_choice)

    def summary(self) -> str:
        """The fit table and the recommendation as text."""
        table = self._table
        shown = table.drop(columns=["warnings"]).copy()
        formats = {
            "loglik": "{:.2f}",
            "aic": "{:.1f}",
            "bic": "{:.1f}",
            "sabic": "{:.1f}",
            "icl": "{:.1f}",
            "entropy": "{:.3f}",
            "smallest_share": "{:.3f}",
            "replication": "{:.2f}",
            "set_aside_loglik": "{:.2f}",
            "lmr_p": "{:.3f}",
            "blrt_p": "{:.3f}",
        }
        for column, fmt in formats.items():
            shown[column] = [("-" if not np.isfinite(v) else fmt.format(v)) for v in table[column].astype(float)]
        lines = ["Latent profile enumeration", shown.to_string(), ""]
        if table["n"].nunique() > 1:
            lines.append("Note: the parameterisations used different rows (missing values); compare BIC within one.")
        flagged = table[table["warnings"] != ""]
        if not flagged.empty:
            lines.append("Warnings:")
            lines += [f"  {key[0]} K={key[1]}: {text}" for key, text in flagged["warnings"].items()]  # type: ignore[index]  # pandas-stubs type MultiIndex labels as Hashable
            lines.append("")
        try:
            lines.append(f"Recommended: {self.recommended}")
        except ValueError as exc:
            lines.append(f"No recommendation: {exc}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<EnumerationResult: {len(self._table)} models>"


def enumerate_profiles(
    X: pd.DataFrame | np.ndarray,
    k_range: Iterable[int] = range(1, 9),
    parameterisations: Iterable[str] = ("EEI",),
    *,
    n_starts: int = 20,
    bootstrap: int = 100,
    bootstrap_starts: int = 20,
    alpha: float = 0.05,
    incremental: bool = True,
    random_state: int | np.random.Generator | None = None,
    on_fit: Callable[[str, int], None] | None = None,
    **model_params: Any,
) -> EnumerationResult:
    """Fit latent profile models for each K and parameterisation and tabulate the fit.

    Parameters
    ----------
    X : DataFrame or array of shape (n, d)
        One row per participant (a wave, or waves pooled), one column per indicator.
    k_range : iterable of int, default=range(1, 9)
        Numbers of profiles. For the LMR test and BLRT of the smallest K, ``K - 1`` is fitted too.
    parameterisations : iterable of {"EEI", "VVI", "EEE", "VVV"}, default=("EEI",)
    n_starts : int, default=20
        Random starts per model (see :class:`LatentProfileModel`).
    bootstrap : int, default=100
        Draws of the bootstrapped LRT per K; 0 skips it (``blrt_p`` is then NaN).
    bootstrap_starts : int, default=20
        Random starts of the K-profile model in each bootstrap draw (a quarter iterated to convergence).
    alpha : float, default=0.05
        Significance level for the BLRT in :attr:`EnumerationResult.recommended`.
    incremental : bool, default=True
        Also start each K from the fitted ``K - 1`` model (:func:`incremental_starts`: every profile split
        in two, and small new profiles at the worst-fitting rows), besides the ``n_starts`` random starts;
        then, from the largest K down, from the ``K + 1`` solution with each profile left out in turn (kept
        when that reaches a higher maximum, its starts counted with the others for the replication). Over-extracted
        solutions have many local maxima with small profiles that random starts seldom reach.
    random_state : int, Generator or None
    on_fit : callable, optional
        Called with the parameterisation and K before each model is fitted (to show progress).
    **model_params
        Further :class:`LatentProfileModel` parameters (``n_final_starts``, ``tol``, ``missing`` ...).

    Returns
    -------
    EnumerationResult

    Notes
    -----
    Warnings of the individual fits (for instance a best log-likelihood that was not replicated) are
    not raised; they are listed in the table's ``warnings`` column and in :meth:`EnumerationResult.summary`.
    """
    rng = np.random.default_rng(random_state)
    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 1:
        raise ValueError("k_range must hold positive integers.")
    to_fit = ([ks[0] - 1] if ks[0] > 1 else []) + ks
    params_list = [_check_parameterisation(p) for p in parameterisations]
    n_rows = len(X)
    models: dict[tuple[str, int], LatentProfileModel] = {}
    draws: dict[tuple[str, int], np.ndarray] = {}
    rows = []
    notes: dict[tuple[str, int], str] = {}
    seeds: dict[tuple[str, int], int] = {}

    def fit(parameterisation: str, k: int, init: list[dict[str, np.ndarray]] | None) -> None:
        if on_fit is not None:
            on_fit(parameterisation, k)
        model = LatentProfileModel(
            k,
            parameterisation,
            n_starts=n_starts,
            random_state=seeds[(parameterisation, k)],
            init_params=init or None,
            **model_params,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            notes[(parameterisation, k)] = str(exc)
            return
        models[(parameterisation, k)] = model

    for parameterisation in params_list:
        for k in to_fit:
            seeds[(parameterisation, k)] = int(rng.integers(2**63))
            previous = models.get((parameterisation, k - 1)) if incremental else None
            fit(parameterisation, k, incremental_starts(previous, X) if previous is not None else None)
        if incremental:
            # backwards: start each K also from the K + 1 solution with one profile left out; refit with
            # every start (the same random ones) when that finds a higher maximum
            for k in reversed(to_fit[:-1]):
                bigger, current = models.get((parameterisation, k + 1)), models.get((parameterisation, k))
                if bigger is None or current is None or k < 2:
                    continue
                pruned = _pruned_starts(bigger)
                probe = LatentProfileModel(k, parameterisation, n_starts=0, init_params=pruned, **model_params)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        probe.fit(X)
                except (RuntimeError, ValueError, np.linalg.LinAlgError):
                    continue
                if probe.loglik_ > current.loglik_ + 1e-6:
                    models[(parameterisation, k)] = _adopt(current, probe)

    for parameterisation in params_list:
        for k in to_fit:
            model = models.get((parameterisation, k))
            note = notes.get((parameterisation, k), "")
            if k not in ks:
                continue
            row: dict[str, Any] = {"parameterisation": parameterisation, "n_profiles": k}
            if model is None:
                row.update({column: np.nan for column in _TABLE_COLUMNS})
                row.update({"n": n_rows, "converged": False, "spurious": False, "warnings": note})
                rows.append(row)
                continue
            row.update({str(name): value for name, value in model.fit_statistics().items()})
            row["warnings"] = " ".join(model.warnings_)
            null = models.get((parameterisation, k - 1))
            row["lmr_p"] = row["blrt_p"] = np.nan
            if null is not None and k >= 2:
                if model.loglik_ < null.loglik_ - 1e-6:
                    row["warnings"] = (
                        row["warnings"] + f" The log-likelihood is below that of K = {k - 1}: more starts needed."
                    ).strip()
                row["lmr_p"] = lmr_test(
                    null.loglik_, model.loglik_, null.n_parameters_, model.n_parameters_, model.n_samples_, k - 1
                )[1]
                if bootstrap > 0:
                    seed = np.random.default_rng(int(rng.integers(2**63)))
                    p_value, lr_draws = _bootstrap_lrt(
                        null, model, int(bootstrap), bootstrap_starts, seed, model_params
                    )
                    row["blrt_p"] = p_value
                    draws[(parameterisation, k)] = lr_draws
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["parameterisation", "n_profiles"])[_TABLE_COLUMNS]
    return EnumerationResult(table, models, draws, alpha)

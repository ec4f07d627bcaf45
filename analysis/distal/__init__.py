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
# ruff: noqa: N806

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.distal.contrasts import _odds_ratios, _pairwise, _wald
from analysis.distal.estimators import DistalWarning, _bch, _ml, _naive, _prepare
from analysis.mixture import Array, classification_error, relative_entropy

__all__ = ["METHODS", "DistalResult", "DistalWarning", "distal_outcome", "distal_outcomes"]

#: The estimators of :func:`distal_outcome`.
METHODS = ("naive", "BCH", "ML")


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

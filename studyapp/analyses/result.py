"""The stored result of a profile and transition analysis, as typed models with a schema version.

:func:`studyapp.analyses.compute.run_analysis` builds an :class:`AnalysisResult`; the run stores it as
JSON (``AnalysisRun.result``, via :func:`to_stored`); pages, PDFs, the CLI and the briefings get it back
through :func:`load_result` only, which migrates what older versions of the app stored and refuses,
with a message a researcher can act on, what it cannot read. Nothing else reads the stored JSON.

Changing the shape: add a field with a default (old runs still parse), or raise
:data:`SCHEMA_VERSION` and add a step to :data:`MIGRATIONS` that turns the previous version's JSON
into the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from studyapp.core.models import AnalysisRun

log = logging.getLogger(__name__)

#: The version :func:`load_result` reads; runs stored before versions existed (no ``schema_version``) are 1.
SCHEMA_VERSION: Final = 3

Matrix = list[list[float]]
#: naive and three-step tables, and bootstrap limits: a profile nobody is in gives an empty (None) row
SparseMatrix = list[list[float | None]]


class _Part(BaseModel):
    """A part of the result written by our own code: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Row(BaseModel):
    """A row of a table the analysis package returns: columns it adds later are dropped, not refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FieldworkRow(_Row):
    """Invitations and completions of one wave, and how many also completed the previous wave."""

    wave: str
    invited: int
    completed: int
    rate: float | None = None
    retained: int | None = None
    retention: float | None = None


class ReliabilityRow(_Row):
    """Cronbach's alpha and McDonald's omega of one scale at one wave."""

    scale: str
    wave: str
    n_items: int
    n_complete: int
    alpha: float | None = None
    omega: float | None = None
    note: str = ""


class DescriptiveRow(_Row):
    """A scale's distribution at one wave."""

    wave: str
    variable: str
    n: int
    mean: float | None = None
    sd: float | None = None
    min: float | None = None
    max: float | None = None


class FitRow(_Row):
    """One fitted profile model of the enumeration (a row of the fit table)."""

    parameterisation: str
    n_profiles: int
    loglik: float | None = None
    n_parameters: int | None = None
    n: int | None = None
    aic: float | None = None
    bic: float | None = None
    sabic: float | None = None
    icl: float | None = None
    entropy: float | None = None
    smallest_share: float | None = None
    smallest_n: int | None = None
    replication: float | None = None
    starts: int | None = None
    spurious: bool | None = None
    set_aside_loglik: float | None = None
    lmr_p: float | None = None
    blrt_p: float | None = None
    converged: bool | None = None
    warnings: str = ""


class Recommendation(_Part):
    """The number of profiles carried into the transition model, and why."""

    k: int
    parameterisation: str
    reason: str = ""


class Invariance(_Part):
    """Likelihood-ratio test of profiles equal over waves against wave-specific profiles."""

    statistic: float | None = None
    df: int
    p_value: float | None = None
    bic_invariant: float | None = None
    bic_free: float | None = None


class WeightedTransitions(_Part):
    """The transition model refitted on those who answered every wave, each weighted by their attrition
    weight at the last wave (the longitudinal weight), beside the same people unweighted.

    ``model[t]``, ``ci_low``/``ci_high`` and ``shares`` are in the main model's profile order (matched by
    their means); ``unweighted[t]`` is the same fit without the weights, so that the two differ by the
    weighting alone.
    """

    n: int
    n_effective: float
    model: list[Matrix]
    unweighted: list[Matrix]
    shares: list[list[float]]
    unweighted_shares: list[list[float]]
    ci_low: list[SparseMatrix] | None = None
    ci_high: list[SparseMatrix] | None = None
    bootstrap_draws: int = 0


class Transitions(_Part):
    """The latent transition model: named profiles, their shares per wave and the transition matrices.

    ``model[t]`` is the matrix from ``waves[t]`` to ``waves[t + 1]`` (rows: from, columns: to, in ``names``
    order); ``ci_low``/``ci_high`` its bootstrap interval (when bootstrapped), ``naive`` and
    ``three_step`` the classify-and-cross-tabulate and ML three-step estimates (with two or more waves).
    """

    k: int
    measurement: str
    waves: list[str]
    names: list[str]
    similarity: list[float | None]
    second_best: list[str]
    standardised_means: SparseMatrix
    initial: list[float]
    model: list[Matrix]
    loglik: float | None = None
    bic: float | None = None
    entropy: float | None = None
    n_best_starts: int | None = None
    #: (pseudonym, wave, profile index into ``names``): each participant-wave's most likely profile
    assignments: list[tuple[str, str, int]] = []
    shares: list[list[float]]
    expected_counts: list[Matrix] = []
    ci_low: list[SparseMatrix] | None = None
    ci_high: list[SparseMatrix] | None = None
    bootstrap_draws: int = 0
    naive: list[SparseMatrix] | None = None
    three_step: list[SparseMatrix] | None = None
    naive_counts: list[list[list[int]]] | None = None
    invariance: Invariance | None = None
    #: the same model with attrition weights (results kept before these were fitted have none)
    weighted: WeightedTransitions | None = None


class AdjustedMean(_Row):
    """A profile's raw and covariate-adjusted mean identification."""

    profile: str
    n: int | None = None
    raw_mean: float | None = None
    mean: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class PairwiseDifference(_Row):
    """The difference in adjusted means of two profiles, Holm-corrected."""

    profile_a: str
    profile_b: str
    difference: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None
    p_holm: float | None = None


class IdentificationModel(_Part):
    """OLS of identification with the profession on profile and covariates."""

    n: int
    r2: float | None = None
    means: list[AdjustedMean]
    pairs: list[PairwiseDifference]


class OddsRatio(_Row):
    """One term of the intention-to-leave logit."""

    term: str
    variable: str | None = None
    level: str | None = None
    reference: str | None = None
    odds_ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None


class LeaveModel(_Part):
    """Logit of the intention to leave the technical sector."""

    n: int
    odds_ratios: list[OddsRatio]


class Regressions(_Part):
    """The report's regressions at the latest wave; a model that could not be fitted says why."""

    wave: str
    identification: IdentificationModel | None = None
    identification_error: str | None = None
    leave: LeaveModel | None = None
    leave_error: str | None = None


class DistalEstimate(_Row):
    """One profile's mean (continuous outcome) or proportion (binary outcome), with its 95% interval."""

    profile: str
    n_modal: int | None = None
    estimate: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class DistalOddsRatio(_Row):
    """A profile's odds of a binary outcome against the reference profile's."""

    profile: str
    reference: str
    odds_ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None


class DistalFit(_Part):
    """One estimator's profile figures for an outcome (see :mod:`analysis.distal`)."""

    method: str  # naive, BCH or ML
    estimates: list[DistalEstimate]
    wald: float | None = None
    wald_df: int = 0
    wald_p: float | None = None
    pairs: list[PairwiseDifference] = []
    odds_ratios: list[DistalOddsRatio] = []
    notes: list[str] = []


class DistalOutcome(_Part):
    """An outcome by profile, corrected for classification error (BCH, ML) beside the naive figures.

    The profiles are those of ``profile_wave`` (the transition model's posteriors at that wave); the outcome
    is measured at ``outcome_wave`` (the same wave, or the next one). ``error`` says why nothing was estimated.
    """

    code: str
    label: str
    kind: Literal["continuous", "binary"]
    profile_wave: str
    outcome_wave: str
    n: int = 0
    n_dropped: int = 0
    entropy: float | None = None
    fits: dict[str, DistalFit] = {}
    error: str | None = None


class DistalOutcomes(_Part):
    """Profile differences in the study's outcomes with three-step corrections; ``primary`` is shown first."""

    primary: str = "BCH"
    outcomes: list[DistalOutcome] = []


class RetentionRow(_Row):
    """One term of a retention model: the odds ratio of answering the next wave, with its interval."""

    term: str
    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int
    n_retained: int
    #: what the term is (both ``None`` for the intercept; ``level`` ``None`` for a numeric slope)
    predictor: str | None = None
    level: str | None = None


class SeparatedLevel(_Row):
    """A level everyone (``rate`` 1) or no one (0) of whom answered again, taken out of a retention model."""

    predictor: str
    level: str
    n: int
    rate: float


class RetentionTable(_Part):
    """Who answered the next wave among those who answered this one (logistic regression)."""

    wave: str
    next_wave: str
    n: int
    n_retained: int
    pseudo_r2: float | None = None
    rows: list[RetentionRow] = []
    #: levels everyone (or no one) of whom came back, taken out of the fit: "predictor = level (n, rate)"
    #: (results kept before ``separated_levels``; the page shows these when there are no such levels)
    separated: list[str] = []
    separated_levels: list[SeparatedLevel] = []
    #: each categorical predictor's reference level (the most frequent), against which its odds ratios are
    references: dict[str, str] = {}


class TrimmingRow(_Row):
    """How a wave's weights were trimmed."""

    wave: str
    n_retained: int
    lower: float | None
    upper: float | None
    n_trimmed_low: int
    n_trimmed_high: int
    max_before: float | None
    max_after: float | None
    n_effective: float | None


class ShareComparison(_Row):
    """A profile's share at a wave among those still answering: unweighted and attrition-weighted."""

    wave: str
    profile: str
    n: int
    share: float
    ci_low: float
    ci_high: float
    weighted_share: float
    weighted_ci_low: float
    weighted_ci_high: float


class Attrition(_Part):
    """Attrition: retention models per wave pair, the inverse-probability-of-retention weights (stabilised,
    trimmed) and the profile shares with and without them."""

    predictors: list[str]
    numerator: str
    trim: list[float] | None
    retention: list[RetentionTable] = []
    trimming: list[TrimmingRow] = []
    shares: list[ShareComparison] = []
    #: (pseudonym, wave, weight) of everyone still answering at each wave
    weights: list[tuple[str, str, float]] = []
    #: each answer predictor's levels as readers see them: predictor -> level -> language -> option text
    labels: dict[str, dict[str, dict[str, str]]] = {}


class AnalysisResult(_Part):
    """Everything one analysis run found, as stored with the run.

    ``message`` is set (and the fitted parts are empty) when there were too few responses to fit.
    """

    schema_version: Literal[3] = SCHEMA_VERSION
    waves: list[str]
    indicators: list[str]
    indicator_names: dict[str, str]
    #: every facet's and scale's name in each language the instrument gives (``indicator_names`` holds the
    #: indicators' English names; results kept before this field show those)
    scale_names: dict[str, dict[str, str]] = {}
    n_participants: int
    n_observations: int
    per_wave: dict[str, int]
    reliability: list[ReliabilityRow] = []
    descriptives: list[DescriptiveRow] = []
    fieldwork: list[FieldworkRow] = []
    message: str | None = None
    fit: list[FitRow] = []
    recommended: Recommendation | None = None
    transitions: Transitions | None = None
    regressions: Regressions | None = None
    distal: DistalOutcomes | None = None
    attrition: Attrition | None = None


class ResultSummary(BaseModel):
    """The little a list of runs shows, read without validating the whole result."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[3] = SCHEMA_VERSION
    message: str | None = None
    recommended: Recommendation | None = None


class UnreadableResult(ValueError):
    """A stored result this version of the app cannot read (the message says what to do)."""


def _from_version_1(stored: dict[str, Any]) -> dict[str, Any]:
    """Version 1: the plain dict stored before results were typed (no ``schema_version``).

    Its keys are the fields of version 2; the parts it left out (``message`` when the models were fitted,
    the bootstrap, the naive and three-step tables with one wave) take the models' empty defaults.
    """
    return {**stored, "schema_version": 2}


def _from_version_2(stored: dict[str, Any]) -> dict[str, Any]:
    """Version 2: before the outcomes by profile corrected for classification error (``distal``).

    Such a run stored only the naive regressions (kept as they are); the corrected figures need the
    transition model's posteriors, which were not stored, so ``distal`` stays empty until it is run again.
    """
    return {**stored, "schema_version": 3}


#: ``MIGRATIONS[n]`` turns the stored JSON of version ``n`` into that of version ``n + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_version_1, 2: _from_version_2}

STALE = "This analysis was stored by an older version of the app and cannot be read any more; run it again."
NEWER = "This analysis was stored by a newer version of the app (result format {version}); run it again here."


def _current(stored: Any) -> dict[str, Any]:
    """The stored JSON migrated to :data:`SCHEMA_VERSION`, or :class:`UnreadableResult`."""
    if not isinstance(stored, dict) or not stored:
        raise UnreadableResult(STALE)
    current: dict[str, Any] = stored
    version = current.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UnreadableResult(STALE)
    if version > SCHEMA_VERSION:
        raise UnreadableResult(NEWER.format(version=version))
    while version < SCHEMA_VERSION:
        current = MIGRATIONS[version](current)
        version += 1
    return current


def parse_result(stored: Any, *, source: str = "the stored result") -> AnalysisResult:
    """Migrate and validate stored result JSON; :class:`UnreadableResult` (logged) when it cannot be read."""
    try:
        return AnalysisResult.model_validate(_current(stored))
    except UnreadableResult as error:
        log.warning("Cannot read %s: %s", source, error)
        raise
    except ValidationError as error:
        log.warning("Cannot read %s: %s", source, error)
        raise UnreadableResult(STALE) from None


def load_result(run: AnalysisRun) -> AnalysisResult:
    """The result of a finished run, migrated from older versions.

    Raises :class:`UnreadableResult` with a message for the researcher when the run was stored in a
    format this version cannot read (a newer one, or a broken older one), or has no result.
    """
    if run.status != "done":
        raise UnreadableResult(f"Analysis {run.id} is {run.status}; it has no result.")
    return parse_result(run.result, source=f"analysis {run.id}")


def result_summary(run: AnalysisRun) -> ResultSummary | None:
    """The recommendation (or message) of a finished run for lists; None when the run has none to show."""
    if run.status != "done":
        return None
    try:
        return ResultSummary.model_validate(_current(run.result))
    except (UnreadableResult, ValidationError):
        return None


def to_stored(result: AnalysisResult) -> dict[str, Any]:
    """The JSON stored with the run (NaN already None; tuples become lists)."""
    return result.model_dump(mode="json")

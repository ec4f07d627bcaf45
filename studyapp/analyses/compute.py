"""A cohort's profile and transition analysis as one typed result (no database, no Flask).

Latent profiles are enumerated on the identity facets pooled over waves (:func:`analysis.lpa.enumerate_profiles`);
the recommended number is carried into a latent transition model with measurement invariant over waves
(:class:`analysis.lta.LatentTransitionModel`), whose transitions get bootstrap intervals and are shown beside
the three-step (ML) and the naive classify-and-cross-tabulate estimates. Profiles are named after the
reference profiles of *Mind the Gap!* (:func:`analysis.reference_profiles.name_profiles`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from analysis.attrition import RetentionModel, attrition_weights, compare_shares
from analysis.distal import DistalResult, DistalWarning, distal_outcome
from analysis.lpa import LPAWarning, enumerate_profiles
from analysis.lta import LatentTransitionModel, TransitionResult
from analysis.reference_profiles import UNMATCHED, name_profiles
from analysis.scoring import describe_by, reliability
from studyapp.analyses.data import JOB_GROUP_ITEM, CohortData
from studyapp.analyses.result import (
    AdjustedMean,
    AnalysisResult,
    Attrition,
    DescriptiveRow,
    DistalEstimate,
    DistalFit,
    DistalOddsRatio,
    DistalOutcome,
    DistalOutcomes,
    FieldworkRow,
    FitRow,
    IdentificationModel,
    Invariance,
    LeaveModel,
    OddsRatio,
    PairwiseDifference,
    Recommendation,
    Regressions,
    ReliabilityRow,
    RetentionRow,
    RetentionTable,
    SeparatedLevel,
    ShareComparison,
    Transitions,
    TrimmingRow,
    WeightedTransitions,
)
from waves.representativeness import EARLIER_ITEMS

RowT = TypeVar("RowT", bound=BaseModel)

#: usable responses (participant x wave) below which no profiles are fitted
MIN_OBSERVATIONS = 30
#: Attrition weights are trimmed at these percentiles of each wave's weights.
ATTRITION_TRIM = (0.01, 0.99)


@dataclass(frozen=True)
class AnalysisParameters:
    """What to fit; defaults suit a cohort of a few hundred people on two cores."""

    k_min: int = 1
    k_max: int = 7
    parameterisations: tuple[str, ...] = ("EEI", "VVI")
    n_starts: int = 20
    blrt_draws: int = 0
    transition_bootstrap: int = 50
    random_state: int = 2026
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AnalysisParameters:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__ and k != "extra"}
        if "parameterisations" in known:
            known["parameterisations"] = tuple(known["parameterisations"])
        parameters = cls(**known)
        parameters.check()
        return parameters

    def to_dict(self) -> dict[str, Any]:
        return {
            "k_min": self.k_min,
            "k_max": self.k_max,
            "parameterisations": list(self.parameterisations),
            "n_starts": self.n_starts,
            "blrt_draws": self.blrt_draws,
            "transition_bootstrap": self.transition_bootstrap,
            "random_state": self.random_state,
        }

    def check(self) -> None:
        """Refuse settings that cannot be fitted, naming each problem."""
        problems = []
        if not 1 <= self.k_min <= self.k_max <= 10:
            problems.append("profiles: need 1 <= from <= to <= 10")
        unknown = set(self.parameterisations) - {"EEI", "VVI", "EEE", "VVV"}
        if unknown or not self.parameterisations:
            problems.append("models: choose from EEI, VVI, EEE, VVV")
        if not 1 <= self.n_starts <= 500:
            problems.append("starts: between 1 and 500")
        if not 0 <= self.blrt_draws <= 500 or not 0 <= self.transition_bootstrap <= 1000:
            problems.append("bootstrap draws: between 0 and 500 (BLRT) and 0 and 1000 (transitions)")
        if problems:
            raise ValueError("; ".join(problems))


def _clean(value: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become None, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else round(float(value), 6) + 0.0  # no -0.0
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _rows(model: type[RowT], records: Iterable[Mapping[Any, Any]]) -> list[RowT]:
    """Table records (numpy numbers, NaN) as typed rows."""
    return [model.model_validate(_clean(record)) for record in records]


def usable_scores(scores: pd.DataFrame, indicators: list[str]) -> pd.DataFrame:
    """The rows of ``scores`` the profile models are fitted on: a score on at least half of the
    ``indicators`` (and on three or more). The queue-time check counts the same rows."""
    return scores[scores[indicators].notna().sum(axis=1) >= max(3, len(indicators) // 2)]


def run_analysis(
    data: CohortData, parameters: AnalysisParameters, *, on_stage: Callable[[str], None] | None = None
) -> AnalysisResult:
    """Fit everything and return the typed result (stored as JSON with its schema version).

    ``on_stage`` is told what is being done as the fit moves on ("fitting K=3 (EEI)", "transition
    model", ...), for the analysis page to show while it runs.
    """
    stage = on_stage or (lambda _: None)
    indicators = data.identity_facets
    scores = data.scores
    usable = usable_scores(scores, indicators)

    def described(**fitted: Any) -> AnalysisResult:
        """The cohort's description with what was fitted (or the message why nothing was)."""
        return AnalysisResult(
            waves=[str(w) for w in data.waves],
            indicators=indicators,
            indicator_names={code: data.facet_names.get(code, code) for code in indicators},
            scale_names=data.facet_labels,
            n_participants=int(usable["pseudonym"].nunique()),
            n_observations=len(usable),
            per_wave={str(w): int((usable["wave"] == w).sum()) for w in data.waves},
            reliability=_rows(ReliabilityRow, _reliability(data)),
            descriptives=_rows(DescriptiveRow, _descriptives(data)),
            fieldwork=_rows(FieldworkRow, data.fieldwork),
            **fitted,
        )

    if len(usable) < MIN_OBSERVATIONS or len(indicators) < 3:
        return described(
            message=f"Too few submitted responses (at least {MIN_OBSERVATIONS} needed) for profile analyses."
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LPAWarning)
        enumeration = enumerate_profiles(
            usable[indicators],
            range(parameters.k_min, parameters.k_max + 1),
            parameters.parameterisations,
            n_starts=parameters.n_starts,
            bootstrap=parameters.blrt_draws,
            random_state=parameters.random_state,
            on_fit=lambda parameterisation, k: stage(f"fitting K={k} ({parameterisation})"),
        )
    table = enumeration.to_frame().reset_index()
    recommendation = enumeration.recommended
    fit = table.drop(columns=["warnings"]).assign(warnings=table["warnings"].astype(str)).to_dict("records")
    k = max(2, recommendation.n_profiles)
    stage("transition model")
    transitions, posterior = _transitions(
        usable, indicators, data.waves, k, recommendation.parameterisation, parameters
    )
    stage("regressions and distal outcomes")
    regressions = _regressions(data, transitions)
    stage("attrition weights")
    attrition = _attrition(data, transitions)
    if attrition is not None:
        stage("weighted transition model")
        weighted = _weighted_transitions(usable, indicators, transitions, attrition, parameters)
        transitions = transitions.model_copy(update={"weighted": weighted})
    return described(
        fit=_rows(FitRow, fit),
        recommended=Recommendation(
            k=recommendation.n_profiles, parameterisation=recommendation.parameterisation, reason=recommendation.reason
        ),
        transitions=transitions,
        regressions=regressions,
        distal=_distal(data, transitions, posterior),
        attrition=attrition,
    )


#: Earlier answers that predict who keeps answering, beside the profile and the frame variables: the main
#: occupation and where one wants to work in future (the fieldwork's R-indicators group people by them too).
RETENTION_ITEMS = EARLIER_ITEMS


def _attrition(data: CohortData, transitions: Transitions) -> Attrition | None:
    """Retention models per wave pair (on the profile, earlier answers and frame variables at the wave
    before), stabilised inverse-probability-of-retention weights trimmed at the 1st and 99th percentiles,
    and the profile shares with and without them; ``None`` with a single wave."""
    if len(transitions.waves) < 2 or not transitions.assignments:
        return None
    panel = pd.DataFrame(transitions.assignments, columns=["pseudonym", "wave", "profile"])
    panel["profile"] = [transitions.names[i] for i in panel["profile"]]
    items = [code for code in RETENTION_ITEMS if code in data.items]
    answers = data.items[["pseudonym", "wave", *items]].assign(wave=lambda f: f["wave"].astype(str))
    for code in items:  # answer codes as the options give them ("2", not "2.0"), so that they find their texts
        answers[code] = answers[code].map(_answer_code, na_action="ignore")
    panel = panel.merge(answers, on=["pseudonym", "wave"], how="left").merge(data.frame, on="pseudonym", how="left")
    frame_variables = [c for c in data.frame.columns if c != "pseudonym" and panel[c].notna().any()]
    predictors = ["profile", *items, *frame_variables]
    try:
        weights = attrition_weights(
            panel, predictors, categorical=predictors, waves=transitions.waves, trim=ATTRITION_TRIM
        )
    except ValueError:  # e.g. a wave nobody answered again: the report shows the shares unweighted only
        return None
    shares = compare_shares(panel, "profile", weights, categories=transitions.names)
    return Attrition(
        predictors=predictors,
        numerator=weights.numerator,
        trim=list(ATTRITION_TRIM),
        retention=[_retention_table(model) for model in weights.models.values()],
        trimming=_rows(
            TrimmingRow, weights.trimming.assign(wave=weights.trimming["wave"].astype(str)).to_dict("records")
        ),
        shares=[
            ShareComparison(
                wave=str(row["wave"]),
                profile=str(row["category"]),
                n=int(row["n"]),
                share=float(row["share"]),
                ci_low=float(row["ci_low"]),
                ci_high=float(row["ci_high"]),
                weighted_share=float(row["weighted_share"]),
                weighted_ci_low=float(row["weighted_ci_low"]),
                weighted_ci_high=float(row["weighted_ci_high"]),
            )
            for row in shares.to_dict("records")
        ],
        weights=[
            (str(pseudonym), str(wave), round(float(weight), 6))
            for pseudonym, wave, weight in weights.weights[["pseudonym", "wave", "weight"]].itertuples(index=False)
        ],
        labels={code: data.option_labels[code] for code in items if code in data.option_labels},
    )


def _answer_code(value: Any) -> str:
    """An answer's value as its option names it: whole numbers without decimals."""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


def _retention_table(model: RetentionModel) -> RetentionTable:
    """A retention model as the report prints it."""
    result = model.result
    return RetentionTable(
        wave=str(model.wave),
        next_wave=str(model.next_wave),
        n=model.n,
        n_retained=model.n_retained,
        pseudo_r2=_clean(float(result.prsquared)) if result is not None else None,
        rows=_rows(RetentionRow, model.table.to_dict("records")),
        separated_levels=_rows(SeparatedLevel, model.separated.to_dict("records")),
        references={str(name): str(level) for name, level in model.references.items() if level is not None},
    )


def _regressions(data: CohortData, transitions: Transitions) -> Regressions:
    """The report's regressions at the latest wave: identification by profile (adjusted means, Holm-corrected
    pairs) and the intention to leave the technical sector (logit odds ratios)."""
    from analysis.regressions import identification_by_profile, intention_to_leave

    wave = transitions.waves[-1]
    names = transitions.names
    assigned = {p: names[k] for p, w, k in transitions.assignments if w == wave}
    items = data.items[data.items["wave"] == wave].set_index("pseudonym")
    scores = data.scores[data.scores["wave"] == wave].set_index("pseudonym")
    frame = pd.DataFrame(index=items.index)
    frame["profile"] = pd.Categorical(frame.index.map(assigned), categories=names)
    frame["identification"] = scores.get("identification")
    frame["age"] = items.get("bg_age")
    frame["contract_hours"] = items.get("work_contract_hours")
    labels = {"technical": "technical", "non_technical": "non-technical"}
    job = items.get(JOB_GROUP_ITEM)
    frame["job_type"] = (
        job.map(lambda v: labels.get(data.job_groups.get(v), "other") if pd.notna(v) else None)
        if job is not None
        else None
    )
    frame["study_cluster"] = items["bg_study_cluster"].map({1: "science & engineering", 2: "interdisciplinary"})
    frame["intends_to_leave"] = items["work_future_sector"].map({1: 0, 2: 1})
    out: dict[str, Any] = {"wave": wave}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = identification_by_profile(
                frame.dropna(subset=["profile"]), covariates=("age", "contract_hours", "job_type")
            )
            out["identification"] = IdentificationModel(
                n=fitted.n,
                r2=_clean(float(fitted.model.rsquared)),
                means=_rows(AdjustedMean, fitted.adjusted_means.to_dict("records")),
                pairs=_rows(PairwiseDifference, fitted.pairwise.to_dict("records")),
            )
        except (KeyError, ValueError) as error:
            out["identification_error"] = str(error)
        try:
            logit = intention_to_leave(
                frame.dropna(subset=["profile"]), predictors=("profile", "study_cluster", "job_type")
            )
            out["leave"] = LeaveModel(n=logit.n, odds_ratios=_rows(OddsRatio, logit.odds_ratios.to_dict("records")))
        except (KeyError, ValueError, np.linalg.LinAlgError) as error:
            out["leave_error"] = str(error)
    return Regressions(**out)


#: The corrected estimator shown first. BCH rather than ML: it assumes nothing about the outcome's distribution
#: within a profile (identification is a skewed 1-7 scale mean; ML's normal model with profile variances is
#: biased when that fails, Bakk & Vermunt 2016; Asparouhov & Muthén 2014, Mplus web note 21, recommend BCH for
#: continuous distal outcomes). It can put a binary outcome's proportion outside [0, 1]; the notes say so.
PRIMARY_DISTAL = "BCH"


def _distal(data: CohortData, transitions: Transitions, posterior: pd.DataFrame) -> DistalOutcomes:
    """Identification and intentions by profile at the latest wave, and leaving the technical sector between the
    last two waves, corrected for classification error (BCH and ML three-step, beside the naive modal figures).

    The profiles' posteriors are the transition model's (smoothed over a participant's waves); its modal
    assignments are the ones every other page counts.
    """
    names = transitions.names
    waves = transitions.waves
    columns = [f"profile_{k + 1}" for k in range(len(names))]
    observed = posterior[posterior["observed"].astype(bool)]

    def profiles_at(wave: str) -> pd.DataFrame:
        frame = observed[observed["wave"].astype(str) == wave].set_index("id")[columns]
        frame.index = frame.index.astype(str)
        frame.columns = pd.Index(names)
        return frame

    def item(wave: str, code: str, index: pd.Index) -> pd.Series:
        items = data.items[data.items["wave"] == wave].set_index("pseudonym")
        if code not in items:
            return pd.Series(np.nan, index=index)
        return items[code].reindex(index)

    latest = waves[-1]
    now = profiles_at(latest)
    scores = data.scores[data.scores["wave"] == latest].set_index("pseudonym")
    identification = scores["identification"].reindex(now.index) if "identification" in scores else None
    outcomes = [
        _distal_outcome(
            "identification", "Identification with the profession", "continuous", now, identification, latest, latest
        ),
        _distal_outcome(
            "intends_to_leave",
            "Intention to leave the technical sector",
            "binary",
            now,
            item(latest, "work_future_sector", now.index).map({1: 0.0, 2: 1.0}),
            latest,
            latest,
        ),
    ]
    if len(waves) >= 2:
        before = profiles_at(waves[-2])
        in_sector = item(waves[-2], "work_tech_sector_self", before.index) == 1
        later = item(latest, "work_tech_sector_self", before.index).map({1: 0.0, 2: 1.0})
        outcomes.append(
            _distal_outcome(
                "left_sector",
                "Left the technical sector by the next wave (of those working in it, in their own view)",
                "binary",
                before,
                later.where(in_sector),
                waves[-2],
                latest,
            )
        )
    return DistalOutcomes(primary=PRIMARY_DISTAL, outcomes=outcomes)


def _distal_outcome(
    code: str,
    label: str,
    kind: str,
    posteriors: pd.DataFrame,
    outcome: pd.Series | None,
    profile_wave: str,
    outcome_wave: str,
) -> DistalOutcome:
    """One outcome's naive, BCH and ML figures; a reason instead when it cannot be estimated."""
    parts: dict[str, Any] = {
        "code": code,
        "label": label,
        "kind": kind,
        "profile_wave": profile_wave,
        "outcome_wave": outcome_wave,
    }
    if outcome is None:
        return DistalOutcome(**parts, error="the outcome is not in this instrument")
    fits: dict[str, DistalFit] = {}
    first: DistalResult | None = None
    for method in ("naive", PRIMARY_DISTAL, "ML"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DistalWarning)
            try:
                fit = distal_outcome(posteriors, outcome, method, kind=kind, name=code)
            except (ValueError, np.linalg.LinAlgError) as error:
                return DistalOutcome(**parts, error=str(error))
        first = first or fit
        fits[method] = _distal_fit(fit, [str(w.message) for w in caught if issubclass(w.category, DistalWarning)])
    assert first is not None
    return DistalOutcome(**parts, n=first.n, n_dropped=first.n_dropped, entropy=_clean(first.entropy), fits=fits)


def _distal_fit(fit: DistalResult, warned: list[str]) -> DistalFit:
    estimates = fit.to_frame().to_dict("records")
    return DistalFit(
        method=fit.method,
        estimates=_rows(DistalEstimate, estimates),
        wald=_clean(fit.wald),
        wald_df=fit.wald_df,
        wald_p=_clean(fit.wald_p),
        pairs=_rows(PairwiseDifference, fit.pairwise.to_dict("records")),
        odds_ratios=_rows(DistalOddsRatio, fit.odds_ratios.to_dict("records")) if fit.odds_ratios is not None else [],
        notes=[*fit.notes, *warned],
    )


def _reliability(data: CohortData) -> list[dict[Hashable, Any]]:
    table = reliability(data.items, data.scales, by="wave")
    table["wave"] = table["wave"].astype(str)
    return table.to_dict("records")


def _descriptives(data: CohortData) -> list[dict[Hashable, Any]]:
    columns = [s.code for s in data.scales if data.facet_kinds.get(s.code) == "scale"]
    frame = data.scores.assign(wave=data.scores["wave"].astype(str))
    return describe_by(frame, "wave", columns).to_dict("records")


def _transitions(
    usable: pd.DataFrame,
    indicators: list[str],
    waves: list[str],
    k: int,
    parameterisation: str,
    parameters: AnalysisParameters,
) -> tuple[Transitions, pd.DataFrame]:
    """The latent transition model at ``k`` profiles, with intervals and the naive and three-step tables, and
    its smoothed posteriors (``id``, ``wave``, ``observed``, ``profile_1..k`` in ``names`` order)."""
    long = usable.rename(columns={"pseudonym": "id"}).assign(wave=usable["wave"].astype(str))
    present = [w for w in waves if (long["wave"] == w).any()]
    measurement = parameterisation if parameterisation in ("EEI", "VVI") else "VVI"
    model = LatentTransitionModel(k, measurement, n_starts=parameters.n_starts, random_state=parameters.random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(long, indicators, waves=present)
    pooled_mean = usable[indicators].mean()
    pooled_sd = usable[indicators].std(ddof=1).replace(0, 1.0)
    means = pd.DataFrame(model.means_.reshape(k, -1), columns=model.indicators_)
    standardised = (means - pooled_mean[model.indicators_]) / pooled_sd[model.indicators_]
    standardised.index = [f"Profile {i + 1}" for i in range(k)]
    naming = name_profiles(standardised)
    names = [name if name != UNMATCHED else f"Profile {i + 1} (unmatched)" for i, name in enumerate(naming["name"])]
    out: dict[str, Any] = {
        "k": k,
        "measurement": measurement,
        "waves": present,
        "names": names,
        "similarity": naming["similarity"].tolist(),
        "second_best": naming["second_best"].tolist(),
        "standardised_means": standardised.to_numpy().tolist(),
        "initial": model.initial_.tolist(),
        "model": [a.tolist() for a in model.transitions_],
        "loglik": model.loglik_,
        "bic": model.bic_,
        "entropy": model.entropy_,
        "n_best_starts": model.n_best_starts_,
    }
    assigned = model.assignments_[model.assignments_["observed"]]
    # each participant-wave's most likely profile (0-based, in ``names`` order): briefings count these
    out["assignments"] = [
        [str(person), str(wave), int(modal) - 1]  # modal is 1-based
        for person, wave, modal in zip(assigned["id"], assigned["wave"], assigned["modal"], strict=True)
    ]
    out["shares"] = _implied_shares(model)
    n = model.n_participants_
    out["expected_counts"] = [
        (n * np.asarray(out["shares"][t])[:, None] * m).tolist() for t, m in enumerate(model.transitions_)
    ]
    if len(present) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            naive = model.naive_transitions(long, indicators, waves=present)
            three = model.three_step(long, "ML", indicators, waves=present)
            if parameters.transition_bootstrap:
                boot = model.bootstrap(parameters.transition_bootstrap, random_state=parameters.random_state)
                out["ci_low"] = boot.transitions_ci[..., 0].tolist()
                out["ci_high"] = boot.transitions_ci[..., 1].tolist()
                out["bootstrap_draws"] = boot.n_boot
            invariance = model.invariance_test(long, indicators, waves=present)
        out["naive"] = [_aligned(model, naive, t).tolist() for t in range(len(present) - 1)]
        out["three_step"] = [_aligned(model, three, t).tolist() for t in range(len(present) - 1)]
        out["naive_counts"] = [c.tolist() for c in naive.counts] if naive.counts is not None else None
        out["invariance"] = Invariance(
            statistic=_clean(2 * (invariance.loglik_free - invariance.loglik_invariant)),
            df=_clean(invariance.df),
            p_value=_clean(invariance.p_value),
            bic_invariant=_clean(invariance.bic_invariant),
            bic_free=_clean(invariance.bic_free),
        )
    return Transitions.model_validate(_clean(out)), model.posterior_


def _matching(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """For each of our profiles (rows of means), the index of the other fit's profile with the nearest means
    (one to one)."""
    from scipy.optimize import linear_sum_assignment

    k = len(ours)
    ours, theirs = np.asarray(ours).reshape(k, -1), np.asarray(theirs).reshape(k, -1)
    _, order = linear_sum_assignment(((ours[:, None, :] - theirs[None, :, :]) ** 2).sum(axis=2))
    return order


def _aligned(model: LatentTransitionModel, other: TransitionResult, t: int) -> np.ndarray:
    """``other``'s transition matrix for pair ``t`` with its profiles matched to the model's by their means."""
    order = _matching(model.means_, other.means)
    return np.asarray(other.transitions[t])[np.ix_(order, order)]


#: fewer people who answered every wave than this per profile, and no weighted model is fitted
MIN_COMPLETE_PER_PROFILE = 10


def _weighted_transitions(
    usable: pd.DataFrame,
    indicators: list[str],
    transitions: Transitions,
    attrition: Attrition,
    parameters: AnalysisParameters,
) -> WeightedTransitions | None:
    """The transition model on those who answered every wave of ``transitions``, weighted by their attrition
    weight at the last wave and, beside it, unweighted; ``None`` when too few answered every wave.

    Weighting corrects for dropout that depends on what the retention models saw at the wave before
    (profile, earlier answers, frame variables); a pseudo-likelihood (Mplus's WEIGHT) with bootstrap
    intervals that resample people with their weights.
    """
    waves = transitions.waves
    k = transitions.k
    weights = pd.DataFrame(attrition.weights, columns=["pseudonym", "wave", "weight"])
    last = weights[weights["wave"] == waves[-1]].set_index("pseudonym")["weight"]
    long = usable.rename(columns={"pseudonym": "id"}).assign(wave=usable["wave"].astype(str))
    long = long[long["wave"].isin(waves)]
    answered = long.groupby("id")["wave"].nunique()
    complete = answered.index[answered == len(waves)].intersection(last.index)
    if len(waves) < 2 or len(complete) < MIN_COMPLETE_PER_PROFILE * k:
        return None
    panel = long[long["id"].isin(complete)]
    reference = np.asarray(transitions.standardised_means, dtype=float)
    pooled_mean = usable[indicators].mean()
    pooled_sd = usable[indicators].std(ddof=1).replace(0, 1.0)

    def fitted(case_weights: pd.Series | None) -> LatentTransitionModel:
        """Fitted on the complete cases, its profiles in the main model's order."""
        model = LatentTransitionModel(
            k, transitions.measurement, n_starts=parameters.n_starts, random_state=parameters.random_state
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(panel, indicators, waves=waves, weights=case_weights)
        means = pd.DataFrame(np.asarray(model.means_).reshape(k, -1), columns=model.indicators_)
        standardised = ((means - pooled_mean[model.indicators_]) / pooled_sd[model.indicators_]).to_numpy()
        return model.relabel(_matching(reference, standardised) + 1)

    weighted = fitted(last.loc[complete])
    unweighted = fitted(None)
    out: dict[str, Any] = {
        "n": len(complete),
        "n_effective": float(last.loc[complete].sum() ** 2 / (last.loc[complete] ** 2).sum()),
        "model": [a.tolist() for a in weighted.transitions_],
        "unweighted": [a.tolist() for a in unweighted.transitions_],
        "shares": _implied_shares(weighted),
        "unweighted_shares": _implied_shares(unweighted),
    }
    if parameters.transition_bootstrap:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            boot = weighted.bootstrap(parameters.transition_bootstrap, random_state=parameters.random_state)
        out["ci_low"] = boot.transitions_ci[..., 0].tolist()
        out["ci_high"] = boot.transitions_ci[..., 1].tolist()
        out["bootstrap_draws"] = boot.n_boot
    return WeightedTransitions.model_validate(_clean(out))


def _implied_shares(model: LatentTransitionModel) -> list[list[float]]:
    """The profile shares at each wave that the model's initial shares and transitions imply."""
    shares = [np.asarray(model.initial_)]
    for matrix in model.transitions_:
        shares.append(shares[-1] @ matrix)
    return [s.tolist() for s in shares]

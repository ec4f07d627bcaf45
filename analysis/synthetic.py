"""Synthetic Bridge the Gap cohorts: every item of the Carrière Kompas answered by simulated participants.

:func:`simulate_cohort` draws participants with the background of the *Mind the Gap!* sample (MISSION.md),
gives each a true professional profile per wave following a Markov chain over the six reference profiles
(:mod:`analysis.reference_profiles`), and lets them answer the whole instrument in every wave they take
part in. The result is what a service would load from the database — a participants frame and a long
answers frame — plus the planted truth, so that scoring, profile and transition analyses, exports and
briefings can be tested and demonstrated without real data.

How answers are generated
-------------------------
* Identity items: the participant's facet level is the true profile's mean on the facet plus a stable
  personal deviation (sd 0.5, the same in every wave). Profile means are 4 on facets outside the profile's
  signature and ``4 ± 1.5 * separation`` on its high (+) and low (-) facets, i.e. 5.5 and 2.5 by default.
  An item is its facet level plus noise (sd 1.1); a reverse-keyed item is mirrored (8 - x) before
  rounding and clipping to the response scale (1..7). ``separation`` thus scales the distances between
  profiles; the noise stays the same.
* Scales (identification, career clarity/commitment/exploration, gender stigma): a profile-linked mean
  (identification highest for All-rounder and Innovator, lowest for Einzelgänger and Traditionalist, as in
  the 2016 report), a personal deviation (sd 0.7) and item noise (sd 0.9); gender stigma is mainly higher
  for women. Reverse-keyed scale items are mirrored like identity items.
* Work and background items are answered from the participants frame and do not change between waves,
  except the wish to work inside or outside the technical sector, which follows the current profile (the
  report's intention-to-stay percentages) with the report's odds ratios for cluster-2 graduates (2.7) and
  non-technical jobs (5.9).
* Text items get a row with an empty (NaN) value; so does the institution question for the 4% whose
  institution is unknown (they did not answer it).

Background variables are drawn independently of the profiles, except that sector depends on whether the
job is technical so that the four job x sector groups come out near the report's 37/31/12/20%.
"""

# Matrix notation (P for the transition matrix) follows the Markov chain literature.
# ruff: noqa: N803, N806

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import brentq
from scipy.special import expit

from analysis.reference_profiles import REFERENCE_PROFILES

__all__ = [
    "DEFAULT_DEFINITION",
    "PROFILE_NAMES",
    "SyntheticCohort",
    "default_transition",
    "load_definition",
    "simulate_cohort",
]

DEFAULT_DEFINITION = (
    Path(__file__).resolve().parents[1] / "studyapp" / "instruments" / "definitions" / "carriere-kompas-2026.1.yaml"
)
PROFILE_NAMES: tuple[str, ...] = tuple(REFERENCE_PROFILES)

# Sample facts of MISSION.md: category -> share.
GENDER = {"woman": 0.22, "man": 0.78}
INSTITUTION = {"hbo": 0.46, "wo": 0.50, "unknown": 0.04}
DEGREE = {"wo_msc": 0.59, "hbo_bsc": 0.27, "phd": 0.11, "hbo_msc": 0.03}
CLUSTER = {1: 0.58, 2: 0.42}
JOB_GROUP = {
    "engineer": 0.24,
    "researcher": 0.10,
    "programmer_ict": 0.11,
    "consultant": 0.18,
    "project_leader": 0.09,
    "manager": 0.15,
    "teacher": 0.04,
    "other": 0.09,
}
TECHNICAL_JOBS = ("engineer", "researcher", "programmer_ict")
SECTOR = {
    "technical_industry": 0.62,
    "technical_consultancy": 0.05,
    "non_technical": 0.24,
    "higher_education": 0.09,
}
TECHNICAL_SECTORS = ("technical_industry", "technical_consultancy")
# Report: technical job in technical sector 37%, non-technical job in it 31%, technical job outside 12%.
P_TECH_SECTOR = {True: 37 / 49, False: 31 / 51}
# Intention to stay in the technical sector, by profile (report).
STAY = {
    "Nerd": 0.89,
    "Einzelgänger": 0.89,
    "Traditionalist": 0.83,
    "Innovator": 0.84,
    "All-rounder": 0.84,
    "Status Seeker": 0.98,
}
ODDS_LEAVE_CLUSTER2 = 2.7
ODDS_LEAVE_NON_TECHNICAL_JOB = 5.9

# Profile-linked means of the scales (1..7 agree scale).
SCALE_MEANS = {
    "identification": {
        "Nerd": 4.7,
        "Einzelgänger": 4.1,
        "Traditionalist": 4.2,
        "Innovator": 5.3,
        "All-rounder": 5.4,
        "Status Seeker": 4.9,
    },
    "career_clarity": {
        "Nerd": 4.4,
        "Einzelgänger": 4.2,
        "Traditionalist": 4.8,
        "Innovator": 5.1,
        "All-rounder": 5.3,
        "Status Seeker": 5.3,
    },
    "career_commitment": {
        "Nerd": 4.2,
        "Einzelgänger": 4.0,
        "Traditionalist": 3.9,
        "Innovator": 5.0,
        "All-rounder": 5.0,
        "Status Seeker": 5.4,
    },
    "career_exploration": {
        "Nerd": 3.4,
        "Einzelgänger": 3.2,
        "Traditionalist": 3.8,
        "Innovator": 4.8,
        "All-rounder": 4.8,
        "Status Seeker": 4.6,
    },
}
STIGMA_MEAN = {"woman": 3.8, "man": 2.2}

BASELINE = 4.0
FACET_STEP = 1.5  # high / low facets sit this far from the baseline (times separation)
FACET_PERSON_SD = 0.5
ITEM_NOISE_SD = 1.1
SCALE_PERSON_SD = 0.7
SCALE_NOISE_SD = 0.9
SURVEY_YEAR = 2026


@dataclass
class SyntheticCohort:
    """A simulated cohort: participants, their answers per wave, and the planted truth.

    Attributes
    ----------
    participants : DataFrame
        One row per participant: ``pseudonym``, ``gender``, ``institution``, ``highest_degree``,
        ``study_cluster``, ``age``, ``contract_hours``, ``job_group``, ``technical_job``, ``sector``,
        ``technical_sector``, ``last_wave`` (last wave taken part in) and ``profile_w1`` ... the true
        profile in each wave (also for waves missed).
    answers : DataFrame
        Long frame ``pseudonym``, ``wave`` (1..n_waves), ``item`` (item code), ``value`` (float; NaN for
        text items and unanswered questions). Waves a participant missed have no rows.
    truth : dict
        ``initial`` (Series of initial shares by profile), ``transition`` (profile x profile DataFrame,
        rows sum to 1), ``states`` (long frame ``pseudonym``, ``wave``, ``profile``, ``observed``),
        ``separation``, ``attrition`` and ``attrition_mechanism`` (``driver``: "random", "intention" or
        "profile"; ``bias``; ``intercepts`` a_t per wave pair; ``rule``: the dropout model in words).
    """

    participants: pd.DataFrame
    answers: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)


def load_definition(path: str | Path = DEFAULT_DEFINITION) -> dict[str, Any]:
    """Read an instrument definition (YAML) into a dict, without validation."""
    with open(path, encoding="utf-8") as fh:
        definition: dict[str, Any] = yaml.safe_load(fh)
    return definition


def default_transition(stay: float = 0.75) -> pd.DataFrame:
    """A plausible 6 x 6 transition matrix between the reference profiles.

    Each profile is kept with probability ``stay``; the rest moves mostly to similar profiles (Nerd <->
    Einzelgänger, Innovator <-> All-rounder, All-rounder <-> Status Seeker, Traditionalist <-> Einzelgänger)
    and a little to the others.
    """
    if not 0 < stay < 1:
        raise ValueError("stay must be between 0 and 1")
    k = len(PROFILE_NAMES)
    idx = {name: i for i, name in enumerate(PROFILE_NAMES)}
    weight = np.ones((k, k))
    for a, b in [
        ("Nerd", "Einzelgänger"),
        ("Innovator", "All-rounder"),
        ("All-rounder", "Status Seeker"),
        ("Traditionalist", "Einzelgänger"),
    ]:
        weight[idx[a], idx[b]] = weight[idx[b], idx[a]] = 4.0
    np.fill_diagonal(weight, 0.0)
    P = (1 - stay) * weight / weight.sum(axis=1, keepdims=True)
    np.fill_diagonal(P, stay)
    return pd.DataFrame(P, index=list(PROFILE_NAMES), columns=list(PROFILE_NAMES))


def _draw(rng: np.random.Generator, shares: Mapping[Any, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _as_transition(transition: Any) -> np.ndarray:
    if transition is None:
        return default_transition().to_numpy()
    if isinstance(transition, pd.DataFrame):
        P = transition.loc[list(PROFILE_NAMES), list(PROFILE_NAMES)].to_numpy(dtype=float)
    else:
        P = np.asarray(transition, dtype=float)
    k = len(PROFILE_NAMES)
    if P.shape != (k, k) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0):
        raise ValueError(f"transition must be a {k} x {k} matrix of probabilities with rows summing to 1")
    return P


def _participants(rng: np.random.Generator, n: int) -> pd.DataFrame:
    job = _draw(rng, JOB_GROUP, n)
    technical_job = np.isin(job, TECHNICAL_JOBS)
    p_tech_sector = np.where(technical_job, P_TECH_SECTOR[True], P_TECH_SECTOR[False])
    in_tech = rng.random(n) < p_tech_sector
    tech_part = {k: SECTOR[k] for k in TECHNICAL_SECTORS}
    other_part = {k: v for k, v in SECTOR.items() if k not in TECHNICAL_SECTORS}
    sector = np.where(in_tech, _draw(rng, tech_part, n), _draw(rng, other_part, n))
    return pd.DataFrame(
        {
            "pseudonym": [f"S{i:06d}" for i in range(1, n + 1)],
            "gender": _draw(rng, GENDER, n),
            "institution": _draw(rng, INSTITUTION, n),
            "highest_degree": _draw(rng, DEGREE, n),
            "study_cluster": _draw(rng, CLUSTER, n).astype(int),
            # right-skewed like an alumni sample: 21 + gamma, tuned so that after clipping mean 36, sd 10.8
            "age": np.clip(np.rint(21 + rng.gamma((15.3 / 11.8) ** 2, 11.8**2 / 15.3, n)), 21, 70).astype(int),
            "contract_hours": np.clip(np.rint(rng.normal(36, 8.5, n)), 4, 80).astype(int),
            "job_group": job,
            "technical_job": technical_job,
            "sector": sector,
            "technical_sector": in_tech,
        }
    )


def _markov(rng: np.random.Generator, n: int, n_waves: int, initial: np.ndarray, P: np.ndarray) -> np.ndarray:
    k = len(initial)
    states = np.empty((n, n_waves), dtype=int)
    states[:, 0] = rng.choice(k, size=n, p=initial)
    cum = np.cumsum(P, axis=1)
    for t in range(1, n_waves):
        u = rng.random(n)[:, None]
        states[:, t] = np.minimum((u > cum[states[:, t - 1]]).sum(axis=1), k - 1)
    return states


def _leave_intercepts(p_nontech: float, p_cluster2: float) -> np.ndarray:
    """Per-profile logit intercepts so that, with the report's odds ratios, the share leaving matches."""
    b_c, b_j = np.log(ODDS_LEAVE_CLUSTER2), np.log(ODDS_LEAVE_NON_TECHNICAL_JOB)
    combos = [
        (c, j, (p_cluster2 if c else 1 - p_cluster2) * (p_nontech if j else 1 - p_nontech))
        for c in (0, 1)
        for j in (0, 1)
    ]
    out = []
    for name in PROFILE_NAMES:
        target = 1 - STAY[name]
        out.append(brentq(lambda a, t=target: sum(w * expit(a + b_c * c + b_j * j) for c, j, w in combos) - t, -20, 20))
    return np.array(out)


def _items(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [item for section in definition["sections"] for item in section["items"]]


def simulate_cohort(
    n: int = 1000,
    n_waves: int = 3,
    *,
    transition: pd.DataFrame | np.ndarray | None = None,
    attrition: float = 0.15,
    separation: float = 1.0,
    random_state: int | np.random.Generator | None = None,
    definition: Mapping[str, Any] | None = None,
    attrition_bias: float | Mapping[str, float] = 0.0,
) -> SyntheticCohort:
    """Simulate a cohort followed over waves, answering every item of the Carrière Kompas.

    Parameters
    ----------
    n : int, default 1000
        Number of participants (all take part in wave 1).
    n_waves : int, default 3
        Number of waves.
    transition : DataFrame or array, optional
        6 x 6 transition matrix between the reference profiles (rows: from, columns: to, in the order of
        :data:`PROFILE_NAMES` or labelled by profile name). Default :func:`default_transition` (stability
        0.75).
    attrition : float, default 0.15
        Share of the participants of a wave who drop out before the next one (monotone: who leaves does not
        come back). With ``attrition_bias`` it is the expected share per wave, averaged over the wave's
        participants.
    separation : float, default 1.0
        Scales the distances between the profiles' facet means (1: high facets 5.5, low 2.5, others 4);
        item noise is unchanged, so larger values give clearer profiles.
    random_state : int or Generator, optional
        Seed.
    definition : mapping, optional
        The instrument definition (a parsed YAML dict); default the bundled carriere-kompas-2026.1.
    attrition_bias : float or mapping of profile name to float, default 0.0
        Informative (missing-at-random) dropout: the chance of dropping out before wave ``t + 1`` depends
        on an answer of wave ``t`` through ``logit P(drop) = a_t + x_t``. A float ``b`` gives
        ``x_t = b * [wants to work outside the technical sector at wave t]`` (the answer to
        ``work_future_sector``); a mapping gives ``x_t = attrition_bias[profile at wave t]`` (true profile;
        profiles not named get 0). ``a_t`` is solved per wave so that the expected share dropping out among
        the wave's participants equals ``attrition``. 0 (the default) keeps dropout completely at random,
        drawn exactly as without this argument. ``truth["attrition_mechanism"]`` records the driver, the
        bias and the intercepts ``a_t``.

    Returns
    -------
    SyntheticCohort
        ``participants``, long ``answers`` and the planted ``truth``; see :class:`SyntheticCohort`.
    """
    if n < 1 or n_waves < 1:
        raise ValueError("n and n_waves must be at least 1")
    if not 0 <= attrition < 1:
        raise ValueError("attrition must be in [0, 1)")
    if separation < 0:
        raise ValueError("separation must be non-negative")
    _check_bias(attrition_bias)
    rng = np.random.default_rng(random_state)
    definition = load_definition() if definition is None else definition
    P = _as_transition(transition)
    initial = np.array([REFERENCE_PROFILES[name].share for name in PROFILE_NAMES])
    initial = initial / initial.sum()

    people = _participants(rng, n)
    states = _markov(rng, n, n_waves, initial, P)
    for t in range(n_waves):
        people[f"profile_w{t + 1}"] = np.asarray(PROFILE_NAMES, dtype=object)[states[:, t]]
    # Monotone dropout, drawn here (the order of the draws keeps the default cohort as it was) and applied
    # once the answers it may depend on (the wish to leave the technical sector) are known.
    stay_u = rng.random((n, max(n_waves - 1, 0)))

    facet_kind = {f["code"]: f.get("kind") for f in definition.get("facets", [])}
    scales = definition.get("response_scales", {})
    items = _items(definition)
    facet_codes = [code for code, kind in facet_kind.items() if kind == "facet"]
    scale_codes = [code for code, kind in facet_kind.items() if kind == "scale"]
    profile_facet = np.full((len(PROFILE_NAMES), len(facet_codes)), BASELINE)
    for i, name in enumerate(PROFILE_NAMES):
        for j, code in enumerate(facet_codes):
            profile_facet[i, j] += FACET_STEP * separation * REFERENCE_PROFILES[name].signature.get(code, 0)
    facet_person = rng.normal(0, FACET_PERSON_SD, (n, len(facet_codes)))
    scale_person = rng.normal(0, SCALE_PERSON_SD, (n, len(scale_codes)))
    woman = (people["gender"] == "woman").to_numpy()
    leave_a = _leave_intercepts(
        1 - np.isin(list(JOB_GROUP), TECHNICAL_JOBS) @ np.array(list(JOB_GROUP.values())), CLUSTER[2]
    )
    leave_shift = (
        np.log(ODDS_LEAVE_CLUSTER2) * (people["study_cluster"].to_numpy() == 2)
        + np.log(ODDS_LEAVE_NON_TECHNICAL_JOB) * ~people["technical_job"].to_numpy()
    )
    background = _background_answers(rng, people)
    future_u = rng.random((n, n_waves))
    wants_out = future_u < expit(leave_a[states] + leave_shift[:, None])  # work_future_sector == 2, per wave
    present, mechanism = _dropout(stay_u, attrition, attrition_bias, states, wants_out)
    people["last_wave"] = present.sum(axis=1)

    frames = []
    for t in range(n_waves):
        who = np.flatnonzero(present[:, t])
        if who.size == 0:
            continue
        state = states[who, t]
        columns: dict[str, np.ndarray] = {}
        for item in items:
            code, kind = item["code"], item["type"]
            if kind == "scale":
                lo, hi = scales[item["scale"]]["min"], scales[item["scale"]]["max"]
                facet = item.get("facet")
                if facet in facet_codes:
                    j = facet_codes.index(facet)
                    level = profile_facet[state, j] + facet_person[who, j]
                    noise = ITEM_NOISE_SD
                elif facet in scale_codes:
                    j = scale_codes.index(facet)
                    if facet == "gender_stigma":
                        mean = np.where(woman[who], STIGMA_MEAN["woman"], STIGMA_MEAN["man"])
                    else:
                        table = SCALE_MEANS.get(str(facet), dict.fromkeys(PROFILE_NAMES, BASELINE))
                        mean = np.array([table[name] for name in PROFILE_NAMES])[state]
                    level = mean + scale_person[who, j]
                    noise = SCALE_NOISE_SD
                else:
                    level, noise = np.full(who.size, (lo + hi) / 2), ITEM_NOISE_SD
                x = level + rng.normal(0, noise, who.size)
                if item.get("reverse"):
                    x = lo + hi - x
                columns[code] = np.clip(np.rint(x), lo, hi)
            elif code == "work_future_sector":
                columns[code] = np.where(wants_out[who, t], 2.0, 1.0)
            elif code in background:
                columns[code] = background[code][who]
            else:  # text items and items the simulator has no model for stay empty
                columns[code] = np.full(who.size, np.nan)
        wide = pd.DataFrame(columns)
        frames.append(
            pd.DataFrame(
                {
                    "pseudonym": np.repeat(people["pseudonym"].to_numpy()[who], len(items)),
                    "wave": t + 1,
                    "item": np.tile(np.asarray(list(columns), dtype=object), who.size),
                    "value": wide.to_numpy(dtype=float).ravel(),
                }
            )
        )
    answers = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"pseudonym": [], "wave": [], "item": [], "value": []})
    )
    answers["wave"] = answers["wave"].astype(int)

    truth_states = pd.DataFrame(
        {
            "pseudonym": np.repeat(people["pseudonym"].to_numpy(), n_waves),
            "wave": np.tile(np.arange(1, n_waves + 1), n),
            "profile": np.asarray(PROFILE_NAMES, dtype=object)[states.ravel()],
            "observed": present.ravel(),
        }
    )
    truth = {
        "initial": pd.Series(initial, index=list(PROFILE_NAMES), name="share"),
        "transition": pd.DataFrame(P, index=list(PROFILE_NAMES), columns=list(PROFILE_NAMES)),
        "states": truth_states,
        "separation": separation,
        "attrition": attrition,
        "attrition_mechanism": mechanism,
    }
    return SyntheticCohort(participants=people, answers=answers, truth=truth)


def _check_bias(bias: float | Mapping[str, float]) -> None:
    if isinstance(bias, Mapping):
        unknown = set(bias) - set(PROFILE_NAMES)
        if unknown:
            raise ValueError(f"attrition_bias names unknown profiles: {sorted(unknown)}")
        values = [float(v) for v in bias.values()]
    else:
        values = [float(bias)]
    if not all(np.isfinite(values)):
        raise ValueError("attrition_bias must be finite")


def _dropout(
    stay_u: np.ndarray,
    attrition: float,
    bias: float | Mapping[str, float],
    states: np.ndarray,
    wants_out: np.ndarray,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Who takes part in each wave (n, n_waves), monotone, and a description of the dropout mechanism."""
    n, n_waves = states.shape
    at_random = not any(bias.values()) if isinstance(bias, Mapping) else float(bias) == 0.0
    if at_random:
        # completely at random: exactly the draw the generator has always made
        stays = stay_u >= attrition
        present = np.column_stack([np.ones(n, dtype=bool), np.cumprod(stays, axis=1).astype(bool)])[:, :n_waves]
        return present, {"driver": "random", "bias": 0.0, "intercepts": [], "rule": "P(drop) = attrition"}
    if isinstance(bias, Mapping):
        shift = np.array([float(bias.get(name, 0.0)) for name in PROFILE_NAMES])[states]
        driver = "profile"
        rule = "logit P(drop before wave t+1) = a_t + bias[true profile at wave t]"
    else:
        shift = float(bias) * wants_out
        driver = "intention"
        rule = "logit P(drop before wave t+1) = a_t + bias * [work_future_sector == 2 at wave t]"
    present = np.zeros((n, n_waves), dtype=bool)
    present[:, 0] = True
    intercepts: list[float] = []
    for t in range(n_waves - 1):
        who = present[:, t]
        x = shift[who, t]
        if attrition == 0 or x.size == 0:
            a = -np.inf
        else:
            span = 50.0 + float(np.abs(x).max())
            a = brentq(lambda a, x=x: float(expit(a + x).mean()) - attrition, -span, span)
        intercepts.append(float(a))
        present[:, t + 1] = who & (stay_u[:, t] >= expit(a + shift[:, t]))
    return present, {
        "driver": driver,
        "bias": dict(bias) if isinstance(bias, Mapping) else float(bias),
        "intercepts": intercepts,
        "rule": rule,
    }


def _background_answers(rng: np.random.Generator, people: pd.DataFrame) -> dict[str, np.ndarray]:
    """Answers to the work and background choice/number items, fixed over waves (float codes)."""
    n = len(people)
    job_codes = {name: i + 1 for i, name in enumerate(JOB_GROUP)}
    job = people["job_group"].map(job_codes).to_numpy(dtype=float)
    technical_job = people["technical_job"].to_numpy()
    in_tech = people["technical_sector"].to_numpy()
    woman = (people["gender"] == "woman").to_numpy()
    age = people["age"].to_numpy()
    hours = people["contract_hours"].to_numpy()
    degree = people["highest_degree"].to_numpy()

    title = np.select([job == 1, job == 3, job == 2], [1.0, 2.0, 3.0], default=4.0)
    # some non-engineers still call themselves engineers
    title = np.where((title == 4) & (rng.random(n) < 0.4), 1.0, title)
    correct = rng.random(n) < 0.9
    tech_self = np.where(correct, np.where(in_tech, 1.0, 2.0), 3.0)
    tech_background = np.select(
        [technical_job, in_tech], [np.where(rng.random(n) < 0.85, 1.0, 2.0), 2.0], default=3.0
    ).astype(float)
    ratio = np.where(rng.random(n) < np.where(woman, 0.45, 0.7), 1.0, np.where(rng.random(n) < 0.8, 2.0, 3.0))
    contract_type = _draw(rng, {1: 0.64, 2: 0.15, 3: 0.03, 4: 0.04, 5: 0.05, 6: 0.05, 7: 0.01, 8: 0.03}, n)
    contract_type = np.where(degree == "phd", np.where(rng.random(n) < 0.3, 6, contract_type), contract_type)
    monthly = 1500 + 95 * (age - 21) + 25 * (hours - 36) + rng.normal(0, 700, n)
    income = np.clip(np.floor((monthly - 1500) / 1000) + 2, 1, 8)
    income = np.where(rng.random(n) < 0.05, 99.0, income)
    region = _draw(
        rng,
        {
            1: 0.02,
            2: 0.02,
            3: 0.02,
            4: 0.14,
            5: 0.03,
            6: 0.03,
            7: 0.10,
            8: 0.10,
            9: 0.30,
            10: 0.07,
            11: 0.01,
            12: 0.11,
            13: 0.05,
        },
        n,
    )
    institution = people["institution"].map({"hbo": 1.0, "wo": 2.0}).to_numpy(dtype=float)  # unknown -> NaN
    degree_code = people["highest_degree"].map({"hbo_bsc": 1.0, "hbo_msc": 2.0, "wo_msc": 4.0, "phd": 5.0})
    graduation = np.clip(SURVEY_YEAR - (age - 23) + rng.integers(-1, 2, n), 1970, 2030)
    return {
        "prof_title": title,
        "work_status": np.where(np.isin(contract_type, (4, 5)), 2.0, 1.0),  # own company / freelance
        "work_job_group": job,
        "work_tech_sector_self": tech_self,
        "work_tech_background": tech_background,
        "work_gender_ratio": ratio,
        "work_contract_hours": hours.astype(float),
        "work_contract_type": contract_type.astype(float),
        "work_income": income.astype(float),
        "work_region": region.astype(float),
        "bg_age": age.astype(float),
        "bg_gender": np.where(woman, 1.0, 2.0),
        "bg_institution_type": institution,
        "bg_highest_degree": degree_code.to_numpy(dtype=float),
        "bg_study_cluster": people["study_cluster"].to_numpy(dtype=float),
        "bg_graduation_year": graduation.astype(float),
    }

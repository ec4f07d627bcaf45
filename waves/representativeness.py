"""How representative a wave's response is, live: R-indicators from database state.

The figures (:mod:`analysis.representativeness`) are computed from who was invited to a wave and who
completed it, by the study's frame variables (the enrolment list's columns kept for everyone, e.g.
institution and gender) and, from the second wave of a cohort on, by the wave before: the profile each
person was most likely in (from the cohort's latest finished analysis), their main occupation and where
they want to work in future (inside or outside the technical sector). The scheduler computes them on each tick
(:func:`record_representativeness`) and keeps one row per wave and day, so that a page view only reads a
few rows and the rows of a wave are its figures over time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from analysis.representativeness import UNKNOWN, r_indicator
from analysis.suppression import suppress_table
from studyapp.core.latest_analysis import latest_finished, modal_profiles
from studyapp.core.models import (
    Answer,
    Cohort,
    Invitation,
    Item,
    Participant,
    RepresentativenessFigures,
    Response,
    Study,
    Wave,
    key,
)
from waves.i18n import N_, translated

#: Choice items of the wave before whose answers are auxiliary variables from a cohort's second wave on:
#: the main occupation and where one wants to work in future (inside or outside the technical sector).
EARLIER_ITEMS = ("work_status", "work_future_sector")
#: The profile at the wave before is one too, from the cohort's latest finished analysis.
PROFILE = "profile"
#: What readers call those (the questions themselves are too long for a table's row).
EARLIER_NAMES = {
    PROFILE: N_("profile"),
    "work_status": N_("main occupation"),
    "work_future_sector": N_("preferred sector in future"),
}
#: Bootstrap replicates behind each interval.
BOOTSTRAP = 200
#: A wave's figures are kept up to date from its opening until this long after it closed.
AFTER_CLOSING = timedelta(days=1)
#: A wave's figures are computed again on a tick at most this often (a frame of many fine categories
#: can take seconds at 100,000 people, and the response does not change much in a minute).
REFRESH = timedelta(minutes=10)


#: Why a wave has no representativeness figures although people were invited (the page and the CLI say it).
NOTHING_TO_COMPARE = N_(
    "Nothing to compare groups by: the study keeps no frame variable with more than one value among those "
    "invited (name the enrolment list's columns to keep on the study's edit page), and this is the cohort's "
    "first wave."
)


class NothingToMeasure(ValueError):
    """A wave whose representativeness cannot be measured: ``"nobody invited"`` yet, or ``"no auxiliaries"``
    (the study keeps no frame variable with more than one value among those invited, and there are no
    earlier answers)."""


@dataclass(frozen=True)
class WaveFrame:
    """The people invited to a wave, one row each: ``responded`` and one column per auxiliary variable.

    ``frame_variables`` are the auxiliaries the enrolment list gave (the rest are earlier answers);
    ``labels`` gives, for auxiliaries that are answers, each value's option text per language, and
    ``answers`` which item and wave each of them is (``{"item": code, "wave": label}``).
    """

    wave: Wave
    people: pd.DataFrame
    auxiliaries: list[str]
    frame_variables: list[str]
    labels: dict[str, dict[str, dict[str, str]]]
    answers: dict[str, dict[str, str]]


def _study_of(session: Session, wave: Wave) -> Study | None:
    cohort = session.get(Cohort, wave.cohort_id)
    return session.get(Study, cohort.study_id) if cohort is not None else None


def wave_frame(session: Session, wave: Wave) -> WaveFrame:
    """Everyone invited to ``wave`` with whether they completed it and their auxiliary variables."""
    study = _study_of(session, wave)
    frame_variables = list(study.frame_variables) if study is not None else []
    rows = session.execute(
        sa_select(col(Invitation.participant_id), col(Invitation.state), col(Participant.frame))
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .where(col(Invitation.wave_id) == key(wave))
        .order_by(col(Invitation.participant_id))
    ).all()
    people = pd.DataFrame(
        {
            "participant_id": [row[0] for row in rows],
            "responded": [row[1] == "completed" for row in rows],
            **{name: [(row[2] or {}).get(name) or UNKNOWN for row in rows] for name in frame_variables},
        }
    )
    earlier, labels, answers = _earlier_answers(session, wave, people["participant_id"])
    for name, values in earlier.items():
        people[name] = values
    # a variable with one value for everyone (a column the list did not have, a question nobody answered)
    # tells the groups apart by nothing
    auxiliaries = [name for name in [*frame_variables, *earlier] if people[name].nunique() > 1]
    return WaveFrame(
        wave=wave,
        people=people[["participant_id", "responded", *auxiliaries]],
        auxiliaries=auxiliaries,
        frame_variables=[name for name in auxiliaries if name in frame_variables],
        labels={name: labels[name] for name in auxiliaries if name in labels},
        answers={name: answers[name] for name in auxiliaries if name in answers},
    )


def _earlier_answers(
    session: Session, wave: Wave, participant_ids: pd.Series
) -> tuple[dict[str, list[str]], dict[str, dict[str, dict[str, str]]], dict[str, dict[str, str]]]:
    """The profile (:func:`_earlier_profiles`) and the answers to :data:`EARLIER_ITEMS` at the cohort's wave
    before ``wave``, one column each named ``<profile or item> (<wave label>)``, each answer's option texts,
    and which item and wave each column is."""
    before = session.exec(
        select(Wave)
        .where(Wave.cohort_id == wave.cohort_id, Wave.position < wave.position)
        .order_by(col(Wave.position).desc())
    ).first()
    if before is None or participant_ids.empty:
        return {}, {}, {}
    items = session.exec(
        select(Item).where(
            Item.instrument_id == before.instrument_id, col(Item.code).in_(EARLIER_ITEMS), Item.type == "choice"
        )
    ).all()
    columns: dict[str, list[str]] = {}
    labels: dict[str, dict[str, dict[str, str]]] = {}
    answers: dict[str, dict[str, str]] = {}
    profiles = _earlier_profiles(session, wave, before, participant_ids)
    if profiles is not None:
        name = f"{PROFILE} ({before.label})"
        columns[name] = profiles
        answers[name] = {"item": PROFILE, "wave": before.label}
    for item in sorted(items, key=lambda i: EARLIER_ITEMS.index(i.code)):
        answered = dict(
            session.execute(
                sa_select(col(Invitation.participant_id), col(Answer.value_number))
                .join(Response, col(Response.invitation_id) == Invitation.id)
                .join(Answer, col(Answer.response_id) == Response.id)
                .where(
                    col(Invitation.wave_id) == key(before),
                    col(Response.submitted_at).is_not(None),
                    col(Answer.item_id) == key(item),
                    col(Answer.value_number).is_not(None),
                )
            ).all()
        )
        name = f"{item.code} ({before.label})"
        columns[name] = [str(answered[pid]) if pid in answered else UNKNOWN for pid in participant_ids.tolist()]
        labels[name] = {str(option["value"]): dict(option.get("label", {})) for option in item.options}
        answers[name] = {"item": item.code, "wave": before.label}
    return columns, labels, answers


def measure_wave(session: Session, wave: Wave, *, min_cell_size: int, bootstrap: int = BOOTSTRAP) -> dict[str, Any]:
    """A wave's representativeness figures now, as plain values (see :func:`record_representativeness`).

    Raises :class:`NothingToMeasure` when nobody has been invited to the wave yet, or no auxiliary
    variable tells any of those invited apart.
    """
    frame = wave_frame(session, wave)
    if frame.people.empty:
        raise NothingToMeasure("nobody invited")
    if not frame.auxiliaries:
        raise NothingToMeasure("no auxiliaries")
    result = r_indicator(
        frame.people,
        "responded",
        frame.auxiliaries,
        bootstrap=bootstrap,
        random_state=key(wave),
        min_cell_size=min_cell_size,
    )
    return {
        **result.to_dict(),
        "auxiliaries": frame.auxiliaries,
        "labels": frame.labels,
        "answers": frame.answers,
        "bootstrap": bootstrap,
    }


def waves_in_fieldwork(session: Session, now: datetime) -> list[Wave]:
    """The waves whose figures are kept up to date at ``now``: with invitations, opened, and not closed
    more than :data:`AFTER_CLOSING` ago."""
    with_invitations = select(col(Invitation.wave_id)).distinct()
    waves = session.exec(select(Wave).where(col(Wave.id).in_(with_invitations))).all()
    return [
        wave
        for wave in waves
        if (wave.opens_at is None or wave.opens_at <= now)
        and (wave.closes_at is None or wave.closes_at + AFTER_CLOSING > now)
    ]


def record_representativeness(
    *, session: Session, now: datetime, min_cell_size: int, waves: Sequence[Wave] | None = None
) -> int:
    """Compute and keep the figures of every wave in fieldwork whose figures are :data:`REFRESH` old (or of
    ``waves``, at once): one row per wave and day in the study's time zone, replaced on each call of that
    day. Returns how many waves were measured."""
    measured = 0
    for wave in waves if waves is not None else _due(session, waves_in_fieldwork(session, now), now):
        try:
            figures = measure_wave(session, wave, min_cell_size=min_cell_size)
        except NothingToMeasure:
            continue
        study = _study_of(session, wave)
        day = now.astimezone(ZoneInfo(study.timezone if study is not None else "UTC")).date()
        row = session.exec(
            select(RepresentativenessFigures).where(
                RepresentativenessFigures.wave_id == key(wave), RepresentativenessFigures.day == day
            )
        ).first() or RepresentativenessFigures(
            wave_id=key(wave), day=day, invited=0, respondents=0, r_indicator=0.0, r_lower=0.0, r_upper=0.0
        )
        row.computed_at = now
        row.invited = int(figures["n"])
        row.respondents = int(figures["respondents"])
        row.r_indicator, (row.r_lower, row.r_upper) = float(figures["r"]), map(float, figures["r_ci"])
        row.figures = figures
        session.add(row)
        measured += 1
    return measured


def _due(session: Session, waves: Sequence[Wave], now: datetime) -> list[Wave]:
    """The ``waves`` whose figures were last computed :data:`REFRESH` or longer before ``now`` (or never)."""
    if not waves:
        return []
    last = dict(
        session.execute(
            sa_select(col(RepresentativenessFigures.wave_id), func.max(col(RepresentativenessFigures.computed_at)))
            .where(col(RepresentativenessFigures.wave_id).in_([key(w) for w in waves]))
            .group_by(col(RepresentativenessFigures.wave_id))
        ).all()
    )
    return [w for w in waves if key(w) not in last or now - last[key(w)] >= REFRESH or last[key(w)] > now]


def latest_figures(session: Session, wave_ids: Sequence[int]) -> dict[int, list[RepresentativenessFigures]]:
    """Each wave's kept figures, day by day (the last is the latest)."""
    if not wave_ids:
        return {}
    kept: dict[int, list[RepresentativenessFigures]] = {wave_id: [] for wave_id in wave_ids}
    for row in session.exec(
        select(RepresentativenessFigures)
        .where(col(RepresentativenessFigures.wave_id).in_(list(wave_ids)))
        .order_by(col(RepresentativenessFigures.wave_id), col(RepresentativenessFigures.day))
    ):
        kept[row.wave_id].append(row)
    return kept


@dataclass(frozen=True)
class ShownFigures:
    """A wave's figures as a page or the command line may show them: categories too small to show left
    out (see :func:`shown_figures`), every category with a label in the reader's language."""

    figures: dict[str, Any]
    categories: list[dict[str, Any]]
    hidden: int
    method: str


def _earlier_profiles(session: Session, wave: Wave, before: Wave, participant_ids: pd.Series) -> list[str] | None:
    """Each of ``participant_ids``' most likely profile at ``before`` in the cohort's latest finished
    analysis (:data:`UNKNOWN` for those it did not place there), or ``None`` without such an analysis."""
    run = latest_finished(session, wave.cohort_id)
    profiles = modal_profiles(run.result) if run is not None else {}
    if not any(label == before.label for _, label in profiles):
        return None
    pseudonyms = dict(
        session.execute(
            sa_select(col(Invitation.participant_id), col(Participant.pseudonym))
            .join(Participant, col(Participant.id) == Invitation.participant_id)
            .where(col(Invitation.wave_id) == key(wave))
        ).all()
    )
    return [profiles.get((pseudonyms.get(pid, ""), before.label), UNKNOWN) for pid in participant_ids.tolist()]


def variable_label(figures: dict[str, Any], variable: str, language: str) -> str:
    """``variable`` as readers of ``language`` see it: an earlier answer by what it asked and at which wave
    ("main occupation at T1", "profile at T1"), a frame variable by the enrolment list's column name."""
    answer = figures.get("answers", {}).get(variable)
    if not answer or answer.get("item") not in EARLIER_NAMES:
        return variable
    return translated(language, N_("%(answer)s at %(wave)s")) % {
        "answer": translated(language, EARLIER_NAMES[answer["item"]]),
        "wave": answer["wave"],
    }


def method_text(figures: dict[str, Any], language: str) -> str:
    """How the figures were computed, in ``language``; figures kept before the method was described
    this way keep the English sentence they were stored with."""
    if "bootstrap" not in figures:
        return str(figures.get("method", ""))
    values = {
        "variables": ", ".join(variable_label(figures, v, language) for v in figures.get("auxiliaries", [])),
        "replicates": figures["bootstrap"],
        "people": figures["n"],
    }
    if figures["bootstrap"]:
        message = N_(
            "Logistic regression of response on the main effects of %(variables)s (dummy coding, missing "
            "values as 'unknown'); standard errors from %(replicates)s bootstrap replicates of the %(people)s "
            "people (resampled with replacement, model refitted); 95%% normal intervals (estimate ± 1.96 SE)."
        )
    else:
        message = N_(
            "Logistic regression of response on the main effects of %(variables)s (dummy coding, missing "
            "values as 'unknown'); no bootstrap, so no standard errors or intervals."
        )
    return translated(language, message) % values


def category_label(figures: dict[str, Any], variable: str, category: str, language: str) -> str:
    """``category`` of ``variable`` as readers of ``language`` see it: an answer's option text, or the
    value from the enrolment list as given; unknown values and missing answers as one word."""
    if category == UNKNOWN:
        return translated(language, "unknown")
    option = figures.get("labels", {}).get(variable, {}).get(category)
    if option:
        return str(option.get(language) or option.get("en") or category)
    return category


def hidden_categories(sizes: Iterable[tuple[str, str, int]], *, min_cell_size: int) -> set[tuple[str, str]]:
    """Of the categories ``(variable, category, people)``, the ``(variable, category)`` pairs never shown (nor
    targeted): fewer than ``min_cell_size`` people, or a size that could be worked out from the others and
    the number invited (cell suppression per variable, safe against the interval attack:
    :func:`analysis.suppression.suppress_table`)."""
    by_variable: dict[str, dict[str, int]] = {}
    for variable, category, people in sizes:
        by_variable.setdefault(str(variable), {})[str(category)] = int(people)
    hidden: set[tuple[str, str]] = set()
    for variable, counts in by_variable.items():
        mask = suppress_table(pd.Series(counts), min_cell=min_cell_size).mask.iloc[0]
        hidden |= {(variable, str(category)) for category, is_hidden in mask.items() if bool(is_hidden)}
    return hidden


def shown_figures(figures: dict[str, Any], *, min_cell_size: int, language: str) -> ShownFigures:
    """The categories that may be shown, with their labels.

    Categories of fewer than ``min_cell_size`` people are hidden, and with them as many others as keep
    their sizes from being worked out from the number invited (:func:`hidden_categories`).
    """
    partials = list(figures.get("partials", []))
    hidden = hidden_categories(((p["variable"], p["category"], p["n"]) for p in partials), min_cell_size=min_cell_size)
    categories = [
        {
            **p,
            "label": f"{variable_label(figures, p['variable'], language)}: "
            f"{category_label(figures, p['variable'], p['category'], language)}",
        }
        for p in partials
        if (p["variable"], p["category"]) not in hidden
    ]
    return ShownFigures(
        figures=figures, categories=categories, hidden=len(hidden), method=method_text(figures, language)
    )


__all__ = [
    "EARLIER_ITEMS",
    "EARLIER_NAMES",
    "NOTHING_TO_COMPARE",
    "PROFILE",
    "UNKNOWN",
    "NothingToMeasure",
    "ShownFigures",
    "WaveFrame",
    "category_label",
    "hidden_categories",
    "latest_figures",
    "measure_wave",
    "method_text",
    "record_representativeness",
    "shown_figures",
    "variable_label",
    "wave_frame",
    "waves_in_fieldwork",
]

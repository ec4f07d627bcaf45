"""Operations on studies, cohorts and waves, shared by the admin pages, CLI and demo."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.inputs import INT32_MAX, column_length, line_problem, text_problem
from studyapp.core.models import (
    LINKAGE_MODES,
    Cohort,
    Instrument,
    Invitation,
    Participant,
    Study,
    User,
    Wave,
    key,
)
from studyapp.participants.enrolment import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from studyapp.studies.schedule import WaveSchedule, is_known_timezone, schedule_problems

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: A frame variable's name: an enrolment-list column heading (lowercase, digits and underscores).
FRAME_VARIABLE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: At most this many frame variables (each is a column of every representativeness table).
MAX_FRAME_VARIABLES = 12


@dataclass(frozen=True)
class StudyData:
    """What a researcher types to create or edit a study."""

    slug: str
    name: str
    description: str = ""
    timezone: str = "Europe/Amsterdam"
    frame_variables: tuple[str, ...] = ()


def parse_frame_variables(text: str) -> tuple[str, ...]:
    """Frame-variable names typed as a list (commas, semicolons or spaces between them), lowercased."""
    return tuple(name for name in re.split(r"[\s,;]+", text.strip().casefold()) if name)


def _frame_problem(names: tuple[str, ...]) -> str | None:
    bad = [name for name in names if not FRAME_VARIABLE_PATTERN.fullmatch(name)]
    if bad:
        return _(
            "%(names)s: use a column heading of lowercase letters, digits and underscores (e.g. institution).",
            names=", ".join(repr(name[:40]) for name in bad[:5]),
        )
    reserved = [name for name in names if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if reserved:
        return _("%(names)s: the enrolment list has these columns already.", names=", ".join(reserved))
    if len(set(names)) < len(names):
        return _("Each frame variable once.")
    if len(names) > MAX_FRAME_VARIABLES:
        return _("At most %(count)d frame variables.", count=MAX_FRAME_VARIABLES)
    return None


@dataclass(frozen=True)
class WaveData:
    """What a researcher types to create or edit a wave."""

    label: str
    instrument_id: int | None
    schedule: WaveSchedule
    paused: bool = False
    # adaptive design: an extra reminder to the categories lagging behind on this day, within this budget
    targeted_reminder_day: int | None = None
    targeted_reminder_budget: int | None = None


#: The latest day of fieldwork a targeted reminder can be set for, and the largest budget.
MAX_TARGETED_DAY = 366
MAX_TARGETED_BUDGET = 1_000_000


def _targeting_problems(data: WaveData) -> dict[str, str]:
    day, budget = data.targeted_reminder_day, data.targeted_reminder_budget
    problems: dict[str, str] = {}
    if (day is None) != (budget is None):
        missing = "targeted_reminder_budget" if budget is None else "targeted_reminder_day"
        problems[missing] = _("Give both the day and the budget of the targeted reminder, or neither.")
    if day is not None and not 1 <= day <= MAX_TARGETED_DAY:
        problems["targeted_reminder_day"] = _("A day from 1 to %(days)d.", days=MAX_TARGETED_DAY)
    if budget is not None and not 1 <= budget <= MAX_TARGETED_BUDGET:
        problems["targeted_reminder_budget"] = _("From 1 to %(count)d messages.", count=MAX_TARGETED_BUDGET)
    return problems


@dataclass
class CohortOverview:
    """A cohort with its waves and headcount, for listing."""

    cohort: Cohort
    waves: list[Wave] = field(default_factory=list)
    participants: int = 0


def slug_from_name(*, session: Session, name: str, study_id: int | None = None) -> str:
    """A short name made from a study's name ("Bridge the Gap – 2027" -> "bridge-the-gap-2027").

    Accents are dropped, everything but letters and digits becomes a single dash, and a number is added
    ("-2", "-3", ...) when another study (not ``study_id``) already uses it. Empty when the name has no
    letters or digits at all.
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    base = "-".join(re.findall(r"[a-z0-9]+", plain))
    limit = column_length(Study.slug)
    base = base[:limit].strip("-")
    if not base:
        return ""
    taken = set(
        session.exec(
            select(Study.slug).where(col(Study.slug).startswith(base[: limit - 4]), col(Study.id) != (study_id or -1))
        ).all()
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: limit - len(suffix)].rstrip("-") + suffix
    return candidate


def _with_slug(session: Session, data: StudyData, study_id: int | None) -> StudyData:
    """``data`` with a short name made from the name when none was typed."""
    if data.slug.strip():
        return data
    return replace(data, slug=slug_from_name(session=session, name=data.name, study_id=study_id))


def _study_problems(session: Session, data: StudyData, *, study_id: int | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not SLUG_PATTERN.fullmatch(data.slug):  # fullmatch: "$" would let a final newline through
        problems["slug"] = _("Use lowercase letters, digits and single dashes (e.g. bridge-the-gap).")
    elif len(data.slug) > column_length(Study.slug):
        problems["slug"] = _("At most %(length)d characters.", length=column_length(Study.slug))
    else:
        clash = session.exec(select(Study).where(Study.slug == data.slug)).first()
        if clash is not None and clash.id != study_id:
            problems["slug"] = _("Another study already uses %(slug)s.", slug=repr(data.slug))
    if not data.name.strip():
        problems["name"] = _("A study needs a name.")
    elif problem := line_problem(data.name.strip(), field=_("The name"), max_length=column_length(Study.name)):
        problems["name"] = problem
    if problem := text_problem(data.description, field=_("The description")):
        problems["description"] = problem
    if line_problem(data.timezone, field="", max_length=column_length(Study.timezone)) or not is_known_timezone(
        data.timezone
    ):
        problems["timezone"] = _(
            "%(zone)s is not a known time zone (e.g. Europe/Amsterdam).", zone=repr(data.timezone[:70])
        )
    if frame_problem := _frame_problem(data.frame_variables):
        problems["frame_variables"] = frame_problem
    return problems


def create_study(*, session: Session, data: StudyData, user: User | None = None) -> Study:
    """Create a study; raises :class:`ValidationFailed` naming each bad field.

    Without a short name, one is made from the name (:func:`slug_from_name`).
    """
    data = _with_slug(session, data, None)
    problems = _study_problems(session, data, study_id=None)
    if problems:
        raise ValidationFailed(problems)
    study = Study(
        slug=data.slug,
        name=data.name.strip(),
        description=data.description.strip(),
        timezone=data.timezone,
        frame_variables=list(data.frame_variables),
    )
    session.add(study)
    session.flush()
    audit.record(
        session=session,
        action="study.created",
        user=user,
        target_type="study",
        target_id=study.id,
        detail={"slug": study.slug},
    )
    return study


def update_study(*, session: Session, study: Study, data: StudyData, user: User | None = None) -> Study:
    """Change a study's details; raises :class:`ValidationFailed` naming each bad field.

    A short name left empty is made from the name again (:func:`slug_from_name`).
    """
    data = _with_slug(session, data, study.id)
    problems = _study_problems(session, data, study_id=study.id)
    if problems:
        raise ValidationFailed(problems)
    study.slug = data.slug
    study.name = data.name.strip()
    study.description = data.description.strip()
    study.timezone = data.timezone
    study.frame_variables = list(data.frame_variables)
    session.add(study)
    audit.record(session=session, action="study.updated", user=user, target_type="study", target_id=study.id)
    return study


def delete_study(*, session: Session, study: Study, user: User | None = None) -> None:
    """Delete a study that has no cohorts; raises :class:`NotAllowed` otherwise."""
    if session.exec(select(Cohort.id).where(Cohort.study_id == study.id)).first() is not None:
        raise NotAllowed(_("This study has cohorts. Delete its cohorts first."))
    audit.record(
        session=session,
        action="study.deleted",
        user=user,
        target_type="study",
        target_id=study.id,
        detail={"slug": study.slug},
    )
    session.delete(study)


def cohort_problems(
    *, session: Session, study: Study, name: str, description: str, linkage: str | None, cohort: Cohort | None = None
) -> dict[str, str]:
    """Every rule a new cohort of ``study`` (or ``cohort``, renamed) breaks, by form field, all at once."""
    problems = {}
    if problem := text_problem(description, field=_("The description")):
        problems["description"] = problem
    if not name.strip():
        problems["name"] = _("A cohort needs a name.")
    elif problem := line_problem(name.strip(), field=_("The name"), max_length=column_length(Cohort.name)):
        problems["name"] = problem
    else:
        clash = session.exec(select(Cohort).where(Cohort.study_id == study.id, Cohort.name == name.strip())).first()
        if clash is not None and (cohort is None or clash.id != cohort.id):
            problems["name"] = _("This study already has a cohort called %(name)s.", name=repr(name.strip()))
    if cohort is None or (linkage is not None and linkage != cohort.linkage):
        if linkage not in LINKAGE_MODES:
            problems["linkage"] = _("Choose how waves are linked.")
        elif (
            cohort is not None
            and session.exec(select(Participant.id).where(Participant.cohort_id == cohort.id)).first()
        ):
            problems["linkage"] = _("This cohort has participants: how its waves are linked can no longer change.")
    return problems


def create_cohort(
    *,
    session: Session,
    study: Study,
    name: str,
    description: str = "",
    linkage: str = "contact",
    user: User | None = None,
) -> Cohort:
    """Add a cohort to a study; raises :class:`ValidationFailed` on a missing or taken name."""
    problems = cohort_problems(session=session, study=study, name=name, description=description, linkage=linkage)
    if problems:
        raise ValidationFailed(problems)
    cohort = Cohort(study_id=key(study), name=name.strip(), description=description.strip(), linkage=linkage)
    session.add(cohort)
    session.flush()
    audit.record(
        session=session,
        action="cohort.created",
        user=user,
        target_type="cohort",
        target_id=cohort.id,
        detail={"study_id": study.id, "name": cohort.name},
    )
    return cohort


def update_cohort(
    *,
    session: Session,
    cohort: Cohort,
    name: str,
    description: str = "",
    linkage: str | None = None,
    user: User | None = None,
) -> Cohort:
    """Rename or describe a cohort, or change how its waves are linked (only while it is empty)."""
    study = session.get(Study, cohort.study_id)
    assert study is not None
    problems = cohort_problems(
        session=session, study=study, name=name, description=description, linkage=linkage, cohort=cohort
    )
    if problems:
        raise ValidationFailed(problems)
    cohort.name = name.strip()
    cohort.description = description.strip()
    if linkage is not None:
        cohort.linkage = linkage
    session.add(cohort)
    audit.record(session=session, action="cohort.updated", user=user, target_type="cohort", target_id=cohort.id)
    return cohort


def delete_cohort(*, session: Session, cohort: Cohort, user: User | None = None) -> None:
    """Delete a cohort without participants, with its waves; raises :class:`NotAllowed` otherwise."""
    if session.exec(select(Participant.id).where(Participant.cohort_id == cohort.id)).first():
        raise NotAllowed(_("This cohort has participants; it cannot be deleted."))
    for wave in session.exec(select(Wave).where(Wave.cohort_id == cohort.id)):
        session.delete(wave)
    audit.record(
        session=session,
        action="cohort.deleted",
        user=user,
        target_type="cohort",
        target_id=cohort.id,
        detail={"name": cohort.name},
    )
    session.delete(cohort)


def _wave_problems(
    session: Session, cohort: Cohort, data: WaveData, *, position: int, wave_id: int | None
) -> dict[str, str]:
    problems = schedule_problems(data.schedule, position=position)
    label = data.label.strip()
    if not label:
        problems["label"] = _("A wave needs a label (e.g. T1).")
    elif problem := line_problem(label, field=_("The label"), max_length=column_length(Wave.label)):
        problems["label"] = problem
    else:
        clash = session.exec(select(Wave).where(Wave.cohort_id == cohort.id, Wave.label == label)).first()
        if clash is not None and clash.id != wave_id:
            problems["label"] = _("This cohort already has a wave labelled %(label)s.", label=repr(label))
    if (
        data.instrument_id is None
        or not 0 < data.instrument_id <= INT32_MAX  # beyond any id: not looked up
        or session.get(Instrument, data.instrument_id) is None
    ):
        problems["instrument_id"] = _("Choose a loaded instrument.")
    return problems | _targeting_problems(data)


def wave_problems(*, session: Session, cohort: Cohort, data: WaveData, wave: Wave | None = None) -> dict[str, str]:
    """Every rule ``data`` breaks for a new wave of ``cohort`` (or for ``wave``), by form field."""
    if wave is not None:
        return _wave_problems(session, cohort, data, position=wave.position, wave_id=wave.id)
    last = session.exec(select(func.max(Wave.position)).where(Wave.cohort_id == cohort.id)).one()
    return _wave_problems(session, cohort, data, position=(last or 0) + 1, wave_id=None)


def study_problems(*, session: Session, data: StudyData, study: Study | None = None) -> dict[str, str]:
    """Every rule ``data`` breaks for a new study (or for ``study``), by form field."""
    study_id = study.id if study is not None else None
    return _study_problems(session, _with_slug(session, data, study_id), study_id=study_id)


def _apply(wave: Wave, data: WaveData) -> None:
    spec = data.schedule
    on_date = spec.schedule == "on_date"
    if data.instrument_id is None:  # _wave_problems refuses it before
        raise ValueError("a wave needs an instrument")
    wave.label = data.label.strip()
    wave.instrument_id = data.instrument_id
    wave.schedule = spec.schedule
    wave.opens_at = spec.opens_at if on_date else None
    wave.closes_at = spec.closes_at if on_date else None
    wave.offset_days = None if on_date else spec.offset_days
    wave.window_days = None if on_date else spec.window_days
    wave.reminder_days = sorted(spec.reminder_days)
    wave.targeted_reminder_day = data.targeted_reminder_day
    wave.targeted_reminder_budget = data.targeted_reminder_budget
    wave.paused = data.paused


def create_wave(*, session: Session, cohort: Cohort, data: WaveData, user: User | None = None) -> Wave:
    """Append a wave to a cohort; raises :class:`ValidationFailed` naming each bad field."""
    last = session.exec(select(func.max(Wave.position)).where(Wave.cohort_id == cohort.id)).one()
    position = (last or 0) + 1
    problems = _wave_problems(session, cohort, data, position=position, wave_id=None)
    if problems:
        raise ValidationFailed(problems)
    wave = Wave(cohort_id=key(cohort), position=position, label="", instrument_id=0, schedule="")
    _apply(wave, data)
    session.add(wave)
    session.flush()
    audit.record(
        session=session,
        action="wave.created",
        user=user,
        target_type="wave",
        target_id=wave.id,
        detail={"cohort_id": cohort.id, "label": wave.label},
    )
    return wave


def update_wave(*, session: Session, wave: Wave, data: WaveData, user: User | None = None) -> Wave:
    """Change a wave's label, instrument or schedule; messages not yet sent follow the change."""
    cohort = session.get(Cohort, wave.cohort_id)
    assert cohort is not None
    problems = _wave_problems(session, cohort, data, position=wave.position, wave_id=wave.id)
    if problems:
        raise ValidationFailed(problems)
    _apply(wave, data)
    session.add(wave)
    audit.record(session=session, action="wave.updated", user=user, target_type="wave", target_id=wave.id)
    return wave


def delete_wave(*, session: Session, wave: Wave, user: User | None = None) -> None:
    """Delete the last wave of a cohort if nobody was invited; raises :class:`NotAllowed` otherwise."""
    if session.exec(select(Invitation.id).where(Invitation.wave_id == wave.id)).first():
        raise NotAllowed(_("Participants were invited to this wave; it cannot be deleted."))
    later = session.exec(select(Wave.id).where(Wave.cohort_id == wave.cohort_id, Wave.position > wave.position)).first()
    if later is not None:
        raise NotAllowed(_("Only the last wave of a cohort can be deleted."))
    audit.record(
        session=session,
        action="wave.deleted",
        user=user,
        target_type="wave",
        target_id=wave.id,
        detail={"label": wave.label},
    )
    session.delete(wave)


def list_studies(*, session: Session) -> list[tuple[Study, int, int]]:
    """All studies with their number of cohorts and participants."""
    cohorts = (
        select(col(Cohort.study_id), func.count(col(Cohort.id)).label("n")).group_by(col(Cohort.study_id)).subquery()
    )
    people = (
        select(col(Cohort.study_id), func.count(col(Participant.id)).label("n"))
        .join(Participant, col(Participant.cohort_id) == col(Cohort.id))
        .group_by(col(Cohort.study_id))
        .subquery()
    )
    rows = session.exec(
        select(Study, func.coalesce(cohorts.c.n, 0), func.coalesce(people.c.n, 0))
        .outerjoin(cohorts, cohorts.c.study_id == Study.id)
        .outerjoin(people, people.c.study_id == Study.id)
        .order_by(Study.name)
    ).all()
    return [(study, int(n_cohorts), int(n_people)) for study, n_cohorts, n_people in rows]


def cohort_overviews(*, session: Session, study: Study) -> list[CohortOverview]:
    """A study's cohorts in name order, each with its waves in order and its headcount."""
    cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(Cohort.name)).all()
    overviews = {c.id: CohortOverview(cohort=c) for c in cohorts}
    if not overviews:
        return []
    for wave in session.exec(select(Wave).where(col(Wave.cohort_id).in_(overviews)).order_by(col(Wave.position))):
        overviews[wave.cohort_id].waves.append(wave)
    for cohort_id, count in session.exec(
        select(col(Participant.cohort_id), func.count(col(Participant.id)))
        .where(col(Participant.cohort_id).in_(overviews))
        .group_by(col(Participant.cohort_id))
    ):
        overviews[cohort_id].participants = int(count)
    return list(overviews.values())


def wave_schedule_of(wave: Wave) -> WaveSchedule:
    """A stored wave's schedule as the pure value the rules work on."""
    return WaveSchedule(
        schedule=wave.schedule,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        offset_days=wave.offset_days,
        window_days=wave.window_days,
        reminder_days=list(wave.reminder_days or []),
    )

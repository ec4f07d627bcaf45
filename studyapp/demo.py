"""The demo study that `make run` shows on first start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.accounts.services import create_user
from studyapp.core import migrate
from studyapp.core.db import session_scope
from studyapp.core.models import Cohort, Instrument, Study, User, key
from studyapp.core.types import utcnow
from studyapp.database import engine_of
from studyapp.instruments.loader import bundled_definitions, load_file
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule

DEMO_STUDY_SLUG = "bridge-the-gap"
DEMO_RESEARCHER_EMAIL = "researcher@example.org"
DEMO_RESEARCHER_PASSWORD = "bridge-the-gap-demo"
DEMO_INSTRUMENT = ("carriere-kompas", "2026.1")
WAVE_SPACING_DAYS = 182
WINDOW_DAYS = 28
REMINDER_DAYS = [7, 14]


@dataclass
class DemoReport:
    """What seeding did, and how to log in."""

    created: list[str] = field(default_factory=list)
    researcher_email: str = DEMO_RESEARCHER_EMAIL
    researcher_password: str = DEMO_RESEARCHER_PASSWORD

    def summary(self) -> str:
        if not self.created:
            return _("Demo study already present.")
        return _("Created: %(parts)s.", parts="; ".join(self.created))


def _first_monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _local(day: date, hour: int, tz: str) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def seed_demo(*, session: Session, today: date | None = None) -> DemoReport:
    """Create the demo researcher and the Bridge the Gap study with two cohorts of three waves.

    Final-year students are measured on dates six months apart; young professionals at enrolment
    and then six months after each previous wave. Idempotent: existing parts are left alone.
    """
    report = DemoReport()
    if session.exec(select(User).where(User.email == DEMO_RESEARCHER_EMAIL)).first() is None:
        create_user(
            session=session,
            email=DEMO_RESEARCHER_EMAIL,
            name="Demo Researcher",
            password=DEMO_RESEARCHER_PASSWORD,
            role="researcher",
            can_view_identities=True,
            language="en",  # as the README's demo logins; the account menu switches to Dutch
        )
        report.created.append(_("researcher %(email)s", email=DEMO_RESEARCHER_EMAIL))
    if session.exec(select(Study).where(Study.slug == DEMO_STUDY_SLUG)).first() is not None:
        return report
    instrument = _demo_instrument(session)
    study = services.create_study(
        session=session,
        data=services.StudyData(
            slug=DEMO_STUDY_SLUG,
            name="Bridge the Gap",
            description=(
                "Follow-up of the Mind the Gap! study: how the professional identity of STEM students "
                "and young professionals develops, and how it shapes the choice for or against a "
                "technical career."
            ),
            frame_variables=("institution", "gender"),
        ),
    )
    report.created.append(_("study %(name)s", name=study.name))
    tz = study.timezone
    students = services.create_cohort(
        session=session,
        study=study,
        name="Final-year students",
        description="Followed from the last study year to half a year into their first job.",
    )
    first = _first_monday_after(today or date.today())
    for n in range(3):
        opens = first + timedelta(days=n * WAVE_SPACING_DAYS)
        services.create_wave(
            session=session,
            cohort=students,
            data=services.WaveData(
                label=f"T{n + 1}",
                instrument_id=instrument.id,
                schedule=WaveSchedule(
                    schedule="on_date",
                    opens_at=_local(opens, 9, tz),
                    closes_at=_local(opens + timedelta(days=WINDOW_DAYS), 9, tz),
                    reminder_days=REMINDER_DAYS,
                ),
            ),
        )
    professionals = services.create_cohort(
        session=session,
        study=study,
        name="Young professionals",
        description="Followed over their first one and a half years of work.",
    )
    for n in range(3):
        services.create_wave(
            session=session,
            cohort=professionals,
            data=services.WaveData(
                label=f"T{n + 1}",
                instrument_id=instrument.id,
                schedule=WaveSchedule(
                    schedule="after_enrolment" if n == 0 else "after_previous",
                    offset_days=0 if n == 0 else WAVE_SPACING_DAYS,
                    window_days=WINDOW_DAYS,
                    reminder_days=REMINDER_DAYS,
                ),
            ),
        )
    report.created.append(
        _("cohorts %(first)s and %(second)s with three waves each", first=students.name, second=professionals.name)
    )
    _enrol_demo_participants(session, study, professionals)
    _synthetic_alumni(session, study, instrument, today or date.today())
    report.created.append(
        _(
            "cohort %(cohort)s with %(count)d simulated participants over three past waves, "
            "and its profile analysis (queued for the scheduler)",
            cohort=SYNTHETIC_COHORT,
            count=SYNTHETIC_PEOPLE,
        )
    )
    report.created.append(
        _("%(count)d demo participants (their invitations appear in the Mailbox)", count=len(DEMO_PARTICIPANTS))
    )
    return report


SYNTHETIC_COHORT = "Alumni 2024 (simulated data)"
SYNTHETIC_PEOPLE = 400


def _synthetic_alumni(session: Session, study: Study, instrument: Instrument, today: date) -> None:
    """A cohort of simulated alumni with three completed waves, so analyses have data from the start."""
    from studyapp.analyses.runs import queue_analysis
    from studyapp.settings import load_settings
    from studyapp.synthetic_cohort import store_synthetic_cohort
    from waves.representativeness import record_representativeness

    cohort = services.create_cohort(
        session=session,
        study=study,
        name=SYNTHETIC_COHORT,
        description="Simulated with the six profiles of Mind the Gap! (analysis.synthetic); no real people.",
    )
    waves = []
    for n in range(3):
        # the last wave closed about ten days ago: the scheduler makes its briefings on the first pass
        opens = _first_monday_after(today - timedelta(days=45 + WAVE_SPACING_DAYS * (2 - n)))
        waves.append(
            services.create_wave(
                session=session,
                cohort=cohort,
                data=services.WaveData(
                    label=f"T{n + 1}",
                    instrument_id=instrument.id,
                    schedule=WaveSchedule(
                        schedule="on_date",
                        opens_at=_local(opens, 9, study.timezone),
                        closes_at=_local(opens + timedelta(days=WINDOW_DAYS), 9, study.timezone),
                        reminder_days=REMINDER_DAYS,
                    ),
                ),
            )
        )
    session.flush()
    # those who want to leave the technical sector drop out more often, as a panel about it would see
    store_synthetic_cohort(
        session=session, cohort=cohort, waves=waves, n=SYNTHETIC_PEOPLE, invite_dropouts=True, attrition_bias=1.5
    )
    min_cell_size = load_settings().min_cell_size
    for wave in waves:  # the representativeness each wave had when it closed
        assert wave.closes_at is not None
        record_representativeness(session=session, now=wave.closes_at, min_cell_size=min_cell_size, waves=[wave])
    _demo_employers(session, cohort)
    queue_analysis(session=session, study=study, cohort=cohort, parameters={}, requested_by="demo")


#: Employers the simulated alumni "typed" (spelling variants included) and how many work there.
DEMO_EMPLOYERS = [
    ("Acme Engineering", ["Acme Engineering B.V.", "acme engineering", "ACME"], 110),
    ("Delta Water Technology", ["Delta Water Technology", "Delta Water Tech"], 70),
    ("Noordlicht Software", ["Noordlicht Software", "noordlicht"], 45),
    ("Tiny Tech", ["Tiny Tech"], 7),
]
DEMO_CONTACT_EMAIL = "hr@acme.example"


def _demo_employers(session: Session, cohort: Cohort) -> None:
    """Organisation names on the simulated alumni's answers, coded, and a company contact for Acme."""
    from sqlalchemy import insert

    from studyapp.briefings.coding import name_key
    from studyapp.core.models import Answer, Invitation, Item, Organisation, OrganisationAlias, Participant, Response

    item = session.exec(select(Item).where(Item.code == "work_organisation")).first()
    if item is None:
        return
    people = session.exec(
        select(Participant).where(col(Participant.cohort_id) == cohort.id).order_by(col(Participant.id))
    ).all()
    position = 0
    rows = []
    for name, spellings, count in DEMO_EMPLOYERS:
        organisation = session.exec(select(Organisation).where(Organisation.name == name)).first()
        if organisation is None:
            organisation = Organisation(name=name, sector="technical_industry")
            session.add(organisation)
            session.flush()
        for spelling in spellings:
            if session.exec(select(OrganisationAlias).where(OrganisationAlias.name_key == name_key(spelling))).first():
                continue
            session.add(OrganisationAlias(name_key=name_key(spelling), organisation_id=key(organisation)))
        for index, participant in enumerate(people[position : position + count]):
            responses = session.exec(
                select(Response.id)
                .join(Invitation, col(Invitation.id) == col(Response.invitation_id))
                .where(Invitation.participant_id == participant.id)
            ).all()
            typed = spellings[index % len(spellings)]
            rows += [
                {"response_id": r, "item_id": item.id, "value_text": typed, "value_number": None} for r in responses
            ]
            participant.organisation_id = organisation.id
            session.add(participant)
        position += count
        if (
            name == "Acme Engineering"
            and session.exec(select(User).where(User.email == DEMO_CONTACT_EMAIL)).first() is None
        ):
            create_user(
                session=session,
                email=DEMO_CONTACT_EMAIL,
                name="Acme HR",
                password=DEMO_RESEARCHER_PASSWORD,
                role="company_contact",
                organisation_id=organisation.id,
            )
    if rows:
        session.execute(insert(Answer), rows)
    session.flush()


DEMO_PARTICIPANTS = [
    ("anna.devries@example.org", "Anna de Vries", "nl"),
    ("bram.jansen@example.org", "Bram Jansen", "nl"),
    ("chloe.smith@example.org", "Chloe Smith", "en"),
    ("daan.bakker@example.org", "Daan Bakker", "nl"),
]


def _enrol_demo_participants(session: Session, study: Study, cohort: Cohort) -> None:
    """A few young professionals, so the first scheduler tick sends invitations to the built-in mailbox."""
    from studyapp.core.privacy import Privacy
    from studyapp.participants.enrolment import Person, enrol_person
    from studyapp.settings import load_settings

    settings = load_settings()
    privacy = Privacy(pseudonym_key=settings.pseudonym_key, identity_keys=settings.identity_key)
    # Enrolled a day ago: a first wave "at enrolment" opens at 09:00 local time or at enrolment if later,
    # so a demo started at night would otherwise show an empty mailbox until the morning.
    enrolled_at = utcnow() - timedelta(days=1)
    for email, name, language in DEMO_PARTICIPANTS:
        participant = enrol_person(
            session=session,
            privacy=privacy,
            study=study,
            actor="researcher",
            person=Person(
                line=0,
                email=email,
                name=name,
                language=language,
                cohort_id=key(cohort),
                cohort_name=cohort.name,
                external_id=None,
                keep_data=True,
            ),
        )
        participant.enrolled_at = enrolled_at
        session.add(participant)


def _demo_instrument(session: Session) -> Instrument:
    """The demo's questionnaire; on a database that has none yet (`studyapp demo seed` right after
    `db upgrade`), the bundled definitions are loaded first."""
    code, version = DEMO_INSTRUMENT
    query = select(Instrument).where(Instrument.code == code, Instrument.version == version)
    instrument = session.exec(query).first()
    if instrument is None:
        _load_bundled_definitions(session)
        instrument = session.exec(query).one()
    return instrument


def _load_bundled_definitions(session: Session) -> None:
    """Store the framework's own questionnaires (each one already stored is left unchanged)."""
    for path in bundled_definitions():
        load_file(session=session, path=path)


def prepare_local_instance(app: Flask) -> DemoReport:
    """Migrate the database, load the bundled instruments and seed the demo study."""
    engine = engine_of(app)
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        _load_bundled_definitions(session)
        return seed_demo(session=session)


__all__ = ["DemoReport", "prepare_local_instance", "seed_demo"]

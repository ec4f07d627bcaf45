"""Factory functions that arrange test data through the real services."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlmodel import Session

from studyapp.accounts.services import create_user
from studyapp.core.models import Cohort, Instrument, Organisation, Participant, Study, User, Wave
from studyapp.instruments.loader import bundled_definitions, load_definition, load_file, parse_definition
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule

PASSWORD = "correct horse battery staple"

SMALL_INSTRUMENT = """\
code: small-test
version: "1"
title: {nl: Kleine test, en: Small test}
estimated_minutes: 2
languages: [nl, en]
response_scales:
  agree3:
    min: 1
    max: 3
    labels:
      1: {nl: oneens, en: disagree}
      2: {nl: neutraal, en: neutral}
      3: {nl: eens, en: agree}
facets:
  - {code: clarity, kind: scale, domain: career, name: {nl: Duidelijkheid, en: Clarity}}
sections:
  - code: career
    title: {nl: Loopbaan, en: Career}
    items:
      - {code: cc_1, type: scale, scale: agree3, facet: clarity,
         text: {nl: Ik weet wat ik wil, en: I know what I want}}
      - {code: cc_2, type: scale, scale: agree3, facet: clarity, reverse: true,
         text: {nl: Ik twijfel, en: I doubt}}
"""


def make_user(
    session: Session,
    *,
    email: str = "researcher@example.org",
    role: str = "researcher",
    organisation_id: int | None = None,
    can_view_identities: bool = False,
) -> User:
    user = create_user(
        session=session,
        email=email,
        name=email.split("@")[0].title(),
        password=PASSWORD,
        role=role,
        organisation_id=organisation_id,
        can_view_identities=can_view_identities,
    )
    session.commit()
    return user


def make_organisation(session: Session, name: str = "Acme Engineering") -> Organisation:
    organisation = Organisation(name=name, sector="technical_industry")
    session.add(organisation)
    session.commit()
    return organisation


def make_instrument(session: Session) -> Instrument:
    result = load_definition(session=session, definition=parse_definition(SMALL_INSTRUMENT, "small.yaml"))
    session.commit()
    return result.instrument


def load_carriere_kompas(session: Session) -> Instrument:
    result = load_file(session=session, path=bundled_definitions()[0])
    session.commit()
    return result.instrument


def make_study(session: Session, *, slug: str = "bridge-the-gap", name: str = "Bridge the Gap") -> Study:
    study = services.create_study(session=session, data=services.StudyData(slug=slug, name=name))
    session.commit()
    return study


def make_cohort(session: Session, study: Study, name: str = "Final-year students") -> Cohort:
    cohort = services.create_cohort(session=session, study=study, name=name)
    session.commit()
    return cohort


def make_wave(session: Session, cohort: Cohort, instrument: Instrument, *, label: str = "T1") -> Wave:
    wave = services.create_wave(
        session=session,
        cohort=cohort,
        data=services.WaveData(
            label=label,
            instrument_id=instrument.id,
            schedule=WaveSchedule(
                schedule="on_date",
                opens_at=datetime(2027, 2, 1, 8, tzinfo=UTC),
                closes_at=datetime(2027, 3, 1, 8, tzinfo=UTC),
                reminder_days=[7, 14],
            ),
        ),
    )
    session.commit()
    return wave


def make_participant(session: Session, cohort: Cohort, pseudonym: str = "P-0001") -> Participant:
    participant = Participant(pseudonym=pseudonym, cohort_id=cohort.id)  # type: ignore[arg-type]
    session.add(participant)
    session.commit()
    return participant


def login(client: FlaskClient, email: str = "researcher@example.org", password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})

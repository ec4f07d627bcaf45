"""The study the fieldwork benchmarks arrange: the Carrière Kompas, one cohort, open waves, enrolled people."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from studyapp.core.models import Cohort, Instrument, Participant, Study, Wave
from studyapp.core.privacy import Privacy
from studyapp.instruments.loader import bundled_definitions, load_file
from studyapp.participants.enrolment import Person, enrol_person
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule


def bench_study(session: Session) -> tuple[Instrument, Study, Cohort]:
    """The bundled Carrière Kompas and a study "bench" with one cohort of young professionals."""
    instrument = load_file(session=session, path=bundled_definitions()[0]).instrument
    session.commit()
    assert isinstance(instrument, Instrument)
    study = services.create_study(session=session, data=services.StudyData(slug="bench", name="Bridge the Gap"))
    cohort = services.create_cohort(session=session, study=study, name="Young professionals")
    return instrument, study, cohort


def open_wave(session: Session, cohort: Cohort, instrument: Instrument, label: str, now: datetime) -> Wave:
    """A wave that opened an hour before ``now`` and closes four weeks after, reminders on days 7 and 14."""
    return services.create_wave(
        session=session,
        cohort=cohort,
        data=services.WaveData(
            label=label,
            instrument_id=instrument.id,
            schedule=WaveSchedule(
                schedule="on_date",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=28),
                reminder_days=[7, 14],
            ),
        ),
    )


def enrol_participants(session: Session, privacy: Privacy, study: Study, cohort: Cohort, n: int) -> list[Participant]:
    """``n`` people enrolled as a researcher would enrol them (half Dutch, half English)."""
    return [
        enrol_person(
            session=session,
            privacy=privacy,
            study=study,
            actor="researcher",
            person=Person(
                line=0,
                email=f"participant{i:05d}@example.org",
                name=f"Participant {i}",
                language="nl" if i % 2 else "en",
                cohort_id=cohort.id,
                cohort_name=cohort.name,
                external_id=None,
                keep_data=True,
            ),
        )
        for i in range(n)
    ]

"""Fieldwork against a real SMTP server with a controllable clock: on time, once, in the right language."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, SQLModel, select

from studyapp.core.models import Cohort, Invitation, OutboxMessage, Participant, Wave
from studyapp.participants.enrolment import Person, enrol_person
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule
from tests.conftest import Database
from tests.factories import make_instrument, make_study, privacy_for_tests
from waves.dispatcher import DispatchConfig
from waves.planner import plan_due, take_planner_lock
from waves.tick import run_tick
from waves.transport import SmtpTransport
from waves.windows import WaveSpec, participant_windows, reminder_times

AMS = ZoneInfo("Europe/Amsterdam")
CONFIG = DispatchConfig(base_url="https://study.example.org", sender="Bridge the Gap <btg@study.example.org>")


def local(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), AMS).astimezone(UTC)


def test_windows_are_computed_in_the_study_time_zone_across_daylight_saving() -> None:
    waves = [
        WaveSpec(1, 1, "after_enrolment", None, None, 0, 28, (7, 14)),
        WaveSpec(2, 2, "after_previous", None, None, 182, 28, (7,)),
    ]
    enrolled = local(date(2027, 3, 22), 8)  # a Monday in winter time
    windows = participant_windows(waves, enrolled_at=enrolled, tz="Europe/Amsterdam")
    assert windows[1].opens_at == local(date(2027, 3, 22))
    assert windows[1].closes_at == local(date(2027, 4, 19))
    assert windows[1].closes_at.hour == 7, "09:00 summer time is 07:00 UTC"
    reminders = reminder_times(windows[1], (7, 14), tz="Europe/Amsterdam")
    assert reminders[7] == datetime(2027, 3, 29, 7, tzinfo=UTC)  # after the change to summer time
    assert windows[2].opens_at == local(date(2027, 9, 20))
    late = participant_windows(waves, enrolled_at=local(date(2027, 3, 22), 15), tz="Europe/Amsterdam")
    assert late[1].opens_at == local(date(2027, 3, 22), 15), "opened at enrolment when that is after 09:00"


def _study_with_relative_waves(session: Session, *, reminders: list[int]) -> tuple[Cohort, list[Wave]]:
    study = make_study(session)
    cohort = services.create_cohort(session=session, study=study, name="Young professionals")
    instrument = make_instrument(session)
    waves = []
    for n in range(3):
        waves.append(
            services.create_wave(
                session=session,
                cohort=cohort,
                data=services.WaveData(
                    label=f"T{n + 1}",
                    instrument_id=instrument.id,
                    schedule=WaveSchedule(
                        schedule="after_enrolment" if n == 0 else "after_previous",
                        offset_days=0 if n == 0 else 182,
                        window_days=28,
                        reminder_days=reminders,
                    ),
                ),
            )
        )
    session.commit()
    return cohort, waves


def _enrol_many(session: Session, cohort: Cohort, n: int, first_day: date, days: int) -> list[Participant]:
    privacy = privacy_for_tests()
    from studyapp.core.models import Study

    study = session.get(Study, cohort.study_id)
    people = []
    for i in range(n):
        person = Person(
            line=0,
            email=f"p{i:04d}@example.org",
            name=f"P {i}",
            language="nl" if i % 2 else "en",
            cohort_id=cohort.id,
            cohort_name=cohort.name,
            external_id=None,
            keep_data=True,
        )
        participant = enrol_person(session=session, privacy=privacy, study=study, person=person, actor="researcher")
        participant.enrolled_at = local(first_day + timedelta(days=i % days), 8)
        people.append(participant)
    session.commit()
    return people


def test_thousand_participants_three_waves_two_reminders(engine, session: Session, smtp_server) -> None:
    cohort, waves = _study_with_relative_waves(session, reminders=[7, 14])
    first = date(2027, 1, 4)
    people = _enrol_many(session, cohort, 1000, first, days=4)
    completers = {p.id for p in people[::3]}  # a third completes each wave right after the invitation
    handler = smtp_server.handler_obj
    clock = {"now": None}
    handler.now = lambda: clock["now"]
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    privacy = privacy_for_tests()

    # Expected: per participant and wave, the invitation at opening, reminders on days 7 and 14 unless completed.
    expected: dict[tuple[str, str], datetime] = {}
    for index, participant in enumerate(people):
        opens = first + timedelta(days=index % 4)
        for n in range(len(waves)):
            start = opens + timedelta(days=182 * n)
            expected[(f"p{index:04d}@example.org", f"invitation T{n + 1}")] = local(start)
            if participant.id not in completers:
                for day in (7, 14):
                    expected[(f"p{index:04d}@example.org", f"reminder T{n + 1} d{day}")] = local(
                        start + timedelta(days=day)
                    )
    due_days = {moment.astimezone(AMS).date() for moment in expected.values()}
    tick_days = sorted(
        due_days | {d - timedelta(days=1) for d in due_days} | {first + timedelta(days=k) for k in range(0, 420, 9)}
    )
    for day in tick_days:
        clock["now"] = local(day)
        run_tick(engine=engine, privacy=privacy, transport=transport, config=CONFIG, now=clock["now"], worker="test")
        # completers finish the wave right after their invitation
        for invitation in session.exec(select(Invitation).where(Invitation.state == "sent")):
            if invitation.participant_id in completers:
                invitation.state = "completed"
                session.add(invitation)
        session.commit()
    transport.close()

    arrived: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    languages = Counter()
    for moment, message in handler.messages:
        address = message["To"].addresses[0].addr_spec
        subject = message["Subject"]
        kind = "invitation" if subject.startswith(("Invitation", "Uitnodiging")) else "reminder"
        wave = subject.split(" T")[1][0]
        if kind == "reminder":
            invited = expected[(address, f"invitation T{wave}")]
            day = round((moment - invited).total_seconds() / 86400)
            label = f"reminder T{wave} d{day}"
        else:
            label = f"invitation T{wave}"
        arrived[(address, label)].append(moment)
        index = int(address[1:5])
        languages[(index % 2, subject.split(":")[0])] += 1
    assert sum(len(v) for v in arrived.values()) == len(expected) == 1000 * 3 + 666 * 3 * 2
    for key, when in expected.items():
        assert arrived.get(key) == [when], f"{key}: expected once at {when}, got {arrived.get(key)}"
    assert set(languages) == {(1, "Uitnodiging"), (1, "Herinnering"), (0, "Invitation"), (0, "Reminder")}


def test_planning_twice_plans_nothing_new(engine, session: Session) -> None:
    cohort, _ = _study_with_relative_waves(session, reminders=[7])
    _enrol_many(session, cohort, 20, date(2027, 1, 4), days=1)
    now = local(date(2027, 1, 4))
    assert plan_due(session=session, now=now).invitations == 20
    assert plan_due(session=session, now=now).invitations == 0
    assert len(session.exec(select(OutboxMessage)).all()) == 20


def test_one_planner_at_a_time_per_schema_and_other_schemas_are_not_blocked(database: Database, tmp_path) -> None:
    """PostgreSQL: the planner's advisory lock is keyed by schema (test runs and apps sharing one database
    blocked each other's planning before: invitations went out a tick late, or not at all)."""
    if database.backend != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    other = Database("postgresql", tmp_path)
    try:
        for db in (database, other):
            SQLModel.metadata.create_all(db.engine)
        with Session(other.engine) as holder:
            assert take_planner_lock(holder), "the other schema's planner runs"
            with Session(database.engine) as session:
                assert plan_due(session=session, now=datetime.now(UTC)).skipped_concurrent is False
            with Session(other.engine) as second:
                assert plan_due(session=second, now=datetime.now(UTC)).skipped_concurrent is True
            holder.rollback()
    finally:
        other.drop()

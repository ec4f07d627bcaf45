"""Shared arrangements for the fieldwork tests: a wave with planned invitations, and a dispatcher process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from studyapp.core.models import Study
from studyapp.participants.enrolment import Person, enrol_person
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule
from tests.conftest import Database
from tests.factories import make_instrument, make_study, privacy_for_tests
from waves.dispatcher import DispatchConfig, dispatch
from waves.planner import plan_due
from waves.transport import SmtpTransport

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2027, 2, 1, 9, tzinfo=UTC)
CONFIG = DispatchConfig(base_url="https://study.example.org", sender="Bridge the Gap <btg@study.example.org>")


def outbox_with(session: Session, n: int, *, now: datetime = NOW, emails: list[str] | None = None) -> Study:
    """A wave open now with ``n`` enrolled participants (or one per address in ``emails``), invitations planned."""
    emails = emails or [f"p{i:05d}@example.org" for i in range(n)]
    study = make_study(session)
    cohort = services.create_cohort(session=session, study=study, name="Final-year students")
    services.create_wave(
        session=session,
        cohort=cohort,
        data=services.WaveData(
            label="T1",
            instrument_id=make_instrument(session).id,
            schedule=WaveSchedule(
                schedule="on_date",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=28),
                reminder_days=[7],
            ),
        ),
    )
    privacy = privacy_for_tests()
    for email in emails:
        enrol_person(
            session=session,
            privacy=privacy,
            study=study,
            actor="researcher",
            person=Person(
                line=0,
                email=email,
                name="",
                language="en",
                cohort_id=cohort.id,
                cohort_name=cohort.name,
                external_id=None,
                keep_data=True,
            ),
        )
    session.commit()
    assert plan_due(session=session, now=now).invitations == len(emails)
    return study


def _environment(database: Database, smtp_port: int, env: dict[str, str] | None) -> dict[str, str]:
    """The settings of a dispatcher process sending to the SMTP server on ``smtp_port``, with ``env`` added."""
    environment = {
        **os.environ,
        "DATABASE_URL": database.url_for_subprocess(),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SCHEDULER_ENABLED": "false",
        "BASE_URL": CONFIG.base_url,
        "MAIL_FROM": CONFIG.sender,
        **(env or {}),
    }
    environment.pop("STUDYAPP_ENV", None)
    return environment


def dispatcher_process(
    database: Database, smtp_port: int, *extra: str, command: str = "dispatch", env: dict[str, str] | None = None
) -> subprocess.Popen:
    """``studyapp fieldwork dispatch`` (or another ``fieldwork`` command) in its own process, sending to the
    SMTP server on ``smtp_port``; ``env`` adds settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "studyapp.main", "fieldwork", command, *extra],
        cwd=ROOT,
        env=_environment(database, smtp_port, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def helper_dispatcher_process(database: Database, smtp_port: int) -> subprocess.Popen:
    """A helper dispatcher process (``python -m studyapp.dispatch_helper``, as DISPATCH_PROCESSES starts them)."""
    return subprocess.Popen(
        [sys.executable, "-m", "studyapp.dispatch_helper"],
        cwd=ROOT,
        env=_environment(database, smtp_port, None),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def send_outbox(engine, smtp_server) -> list:
    """Send what is in the outbox through the dispatcher to the real SMTP server; what arrived."""
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    try:
        dispatch(
            engine=engine,
            privacy=privacy_for_tests(),
            transport=transport,
            config=DispatchConfig(base_url="https://study.example.org", sender="Bridge the Gap <btg@example.org>"),
            worker="t",
            now=datetime.now(UTC) + timedelta(seconds=1),
        )
    finally:
        transport.close()
    return [message for _, message in smtp_server.handler_obj.messages]

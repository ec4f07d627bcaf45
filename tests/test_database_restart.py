"""A PostgreSQL server stopped and started again (its own cluster, made by the test with initdb and pg_ctl)
while participants save answers and the scheduler sends invitations: nothing accepted is lost, requests
during the outage get a friendly try-again answer, and everything resumes by itself."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from studyapp.app import create_app
from studyapp.core import migrate
from studyapp.core.db import make_engine
from studyapp.core.models import MailboxMessage, SchedulerHeartbeat
from studyapp.core.types import utcnow
from studyapp.scheduler import build_scheduler
from studyapp.settings import load_settings
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule
from tests.conftest import free_port
from tests.factories import enrol, invite_with_token, make_cohort, make_flow_instrument, make_study


class Cluster:
    """A throw-away PostgreSQL cluster in a temporary folder."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres?connect_timeout=2"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w", "start",
            "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
        )  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.fail("initdb and pg_ctl (Debian: postgresql) are needed for the restart test")
    folder = Path(tempfile.mkdtemp(prefix="pg-restart-"))
    folder.chmod(0o777)
    made = Cluster(folder, free_port())
    made.run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    made.start()
    try:
        yield made
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            made.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_answers_and_invitations_survive_a_database_restart(cluster: Cluster) -> None:
    engine = make_engine(cluster.url)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        instrument = make_flow_instrument(session)
        study = make_study(session)
        cohort = make_cohort(session, study)
        wave = services.create_wave(
            session=session,
            cohort=cohort,
            data=services.WaveData(
                label="T1",
                instrument_id=instrument.id,
                schedule=WaveSchedule(
                    schedule="on_date",
                    opens_at=utcnow() - timedelta(hours=1),
                    closes_at=utcnow() + timedelta(days=20),
                    reminder_days=[],
                ),
            ),
        )
        session.commit()
        answering = [enrol(session, cohort, f"answers{n}@example.org", language="en") for n in range(3)]
        tokens = []
        for person in answering:
            invitation, token = invite_with_token(session, person, wave)
            invitation.closes_at = utcnow() + timedelta(days=20)
            session.add(invitation)
            tokens.append(token)
        session.commit()
        invited = [enrol(session, cohort, f"invited{n}@example.org") for n in range(3)]
        invited_emails = {f"invited{n}@example.org" for n in range(3)}
        assert len(invited) == 3
    settings = load_settings({}, scheduler_enabled=False, ratelimit_enabled=False, scheduler_interval_seconds=1)
    app = create_app({"ENGINE": engine}, settings=settings)
    client = app.test_client()

    def save(token: str, value: str):
        return client.post(f"/p/{token}/s/identification/autosave", data={"idn_proud": value})

    assert save(tokens[0], "6").status_code == 200
    scheduler = build_scheduler(engine, interval_seconds=1, settings=settings)
    cluster.stop()
    try:
        scheduler.start()  # it ticks while the database is away
        during = save(tokens[1], "5")
        assert during.status_code == 503 and during.json == {"error": "unavailable", "retry": True}
        page = client.get(f"/p/{tokens[2]}")
        assert page.status_code == 503 and "Please try again in a minute" in page.get_data(as_text=True)
        time.sleep(2.5)
        assert scheduler.running  # a failed tick does not stop the scheduler
        cluster.start()
        # the page's script retries the refused save; the link works again
        deadline = time.monotonic() + 20
        while save(tokens[1], "5").status_code != 200:
            assert time.monotonic() < deadline, "the app did not reconnect"
            time.sleep(0.5)
        assert client.get(f"/p/{tokens[2]}").status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Session(engine) as session:
                sent = session.exec(select(MailboxMessage)).all()
            if {m.recipient for m in sent} >= invited_emails:
                break
            time.sleep(0.5)
    finally:
        scheduler.shutdown(wait=True)
    from studyapp.core.links import invitation_for_token
    from tests.test_questionnaire import answers_in_db

    with Session(engine) as session:
        for token, value in ((tokens[0], 6), (tokens[1], 5)):
            invitation = invitation_for_token(session=session, token=token)
            assert answers_in_db(session, invitation.id) == {"idn_proud": value}
        sent = session.exec(select(MailboxMessage)).all()
        recipients = [m.recipient for m in sent if m.recipient in invited_emails]
        assert sorted(recipients) == sorted(invited_emails)  # each invitation once: none lost, none twice
        beat = session.exec(select(SchedulerHeartbeat)).one()
        assert beat.ticks >= 1
    engine.dispose()

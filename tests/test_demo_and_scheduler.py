"""`make run`'s set-up: migrations, the demo study, the scheduler's heartbeat and the server itself."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import Session, col, select

from studyapp.core import migrate
from studyapp.core.models import AnalysisRun, Cohort, Identity, Participant, SchedulerHeartbeat, Study, Wave
from studyapp.core.scheduler_status import scheduler_status
from studyapp.core.types import utcnow
from studyapp.demo import (
    DEMO_RESEARCHER_EMAIL,
    DEMO_RESEARCHER_PASSWORD,
    SYNTHETIC_COHORT,
    SYNTHETIC_PEOPLE,
    prepare_local_instance,
    seed_demo,
)
from studyapp.scheduler import build_scheduler, tick
from tests.conftest import Database, csrf_token_from, free_port
from tests.factories import load_carriere_kompas, login


def test_prepare_local_instance_migrates_and_seeds_once(database: Database, settings) -> None:
    from studyapp.app import create_app

    app = create_app({"TESTING": True, "ENGINE": database.engine}, settings=settings)
    first = prepare_local_instance(app)
    assert migrate.is_up_to_date(database.engine)
    assert any("study Bridge the Gap" in line for line in first.created)
    second = prepare_local_instance(app)
    assert second.created == []
    with Session(database.engine) as session:
        study = session.exec(select(Study)).one()
        cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(Cohort.name)).all()
        assert [c.name for c in cohorts] == [SYNTHETIC_COHORT, "Final-year students", "Young professionals"]
        for cohort in cohorts:
            waves = session.exec(select(Wave).where(Wave.cohort_id == cohort.id).order_by(Wave.position)).all()
            assert [w.label for w in waves] == ["T1", "T2", "T3"]
        simulated = session.exec(select(Participant).where(Participant.cohort_id == cohorts[0].id)).all()
        assert len(simulated) == SYNTHETIC_PEOPLE
        assert (
            session.exec(select(Identity).where(col(Identity.participant_id).in_([p.id for p in simulated]))).all()
            == []
        )
        run = session.exec(select(AnalysisRun)).one()
        assert run.status == "queued" and run.cohort_id == cohorts[0].id


def test_demo_seed_on_a_database_without_instruments(runner, session: Session) -> None:
    """`studyapp demo seed` right after `db upgrade` ended in a traceback (NoResultFound): no instrument yet."""
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "Bridge the Gap" in result.output
    assert session.exec(select(Study)).one().name == "Bridge the Gap"
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0 and "Bridge the Gap" not in again.output


def test_demo_waves_are_six_months_apart(session: Session) -> None:
    load_carriere_kompas(session)
    seed_demo(session=session, today=date(2027, 3, 10))
    session.commit()
    students = session.exec(select(Cohort).where(Cohort.name == "Final-year students")).one()
    waves = session.exec(select(Wave).where(Wave.cohort_id == students.id).order_by(Wave.position)).all()
    local = [w.opens_at.astimezone(ZoneInfo("Europe/Amsterdam")) for w in waves]
    assert [(b.date() - a.date()).days for a, b in pairwise(local)] == [182, 182]
    assert {t.hour for t in local} == {9}, "09:00 local time in winter and summer alike"
    assert local[0].date() == date(2027, 3, 15)  # the Monday after
    professionals = session.exec(select(Cohort).where(Cohort.name == "Young professionals")).one()
    relative = session.exec(select(Wave).where(Wave.cohort_id == professionals.id).order_by(Wave.position)).all()
    assert [(w.schedule, w.offset_days) for w in relative] == [
        ("after_enrolment", 0),
        ("after_previous", 182),
        ("after_previous", 182),
    ]


def test_demo_researcher_sees_the_demo_study(app: Flask, client, session: Session) -> None:
    load_carriere_kompas(session)
    seed_demo(session=session)
    session.commit()
    assert login(client, DEMO_RESEARCHER_EMAIL, DEMO_RESEARCHER_PASSWORD).status_code == 302
    dashboard = client.get("/").get_data(as_text=True)
    assert "Bridge the Gap" in dashboard
    study = session.exec(select(Study)).one()
    page = client.get(f"/studies/{study.id}").get_data(as_text=True)
    assert "Final-year students" in page and "Young professionals" in page
    assert page.count("Carrière Kompas") >= 6 or page.count("Career Compass") >= 6


def test_tick_records_a_heartbeat_and_status_tells_health(session: Session, engine) -> None:
    now = utcnow()
    tick(engine, name="host-a:11", now=now)
    tick(engine, name="host-a:11", now=now + timedelta(seconds=60))
    beat = session.get(SchedulerHeartbeat, "host-a:11")
    assert beat.ticks == 2 and beat.pid == 11 and beat.hostname == "host-a"
    assert scheduler_status(session=session, now=now + timedelta(seconds=90))[0].healthy
    assert not scheduler_status(session=session, now=now + timedelta(minutes=10))[0].healthy
    assert scheduler_status(session=session, now=now + timedelta(days=2)) == []


def test_background_scheduler_ticks_at_once(engine, session: Session) -> None:
    scheduler = build_scheduler(engine, interval_seconds=3600)
    scheduler.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not session.exec(select(SchedulerHeartbeat)).first():
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    beat = session.exec(select(SchedulerHeartbeat)).one()
    assert beat.ticks == 1 and beat.pid == os.getpid()


def test_serve_command_runs_the_app_with_demo_and_scheduler(tmp_path: Path) -> None:
    """What `make run` does, in a subprocess: the login page, the demo study, a ticking scheduler."""
    port = free_port()
    env = {**os.environ, "STUDYAPP_INSTANCE": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"}
    env.pop("STUDYAPP_ENV", None)
    env["PORT"] = str(port)  # what `make run PORT=...` passes on
    process = subprocess.Popen(
        [sys.executable, "-m", "studyapp.main", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        deadline = time.monotonic() + 120  # migrating and seeding a fresh database; CI runs tests beside it
        login_page = None
        while time.monotonic() < deadline:
            try:
                login_page = opener.open(f"{base}/login", timeout=5).read().decode()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                time.sleep(0.2)
        assert login_page and "Log in" in login_page
        form = urllib.parse.urlencode(
            {
                "email": DEMO_RESEARCHER_EMAIL,
                "password": DEMO_RESEARCHER_PASSWORD,
                "csrf_token": csrf_token_from(login_page),
            }
        ).encode()
        dashboard = opener.open(f"{base}/login", data=form, timeout=10).read().decode()
        assert "Bridge the Gap" in dashboard
        assert re.search(r"Running</strong> · [^<]+:\d+", dashboard), "the in-process scheduler has ticked"
        mailbox = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Uitnodiging: Bridge the Gap" not in mailbox:
            mailbox = opener.open(f"{base}/mailbox", timeout=10).read().decode()
            time.sleep(0.2)
        assert "Uitnodiging: Bridge the Gap" in mailbox and "Invitation: Bridge the Gap" in mailbox
        # an invitation (not the newest message: the analysis job may already have notified the researcher)
        message_path = re.search(r'href="(/mailbox/\d+)">Uitnodiging: Bridge the Gap', mailbox).group(1)
        message = opener.open(f"{base}{message_path}", timeout=10).read().decode()
        # the links in the mails point where this server listens (no BASE_URL set)
        link = re.search(rf"http://127\.0\.0\.1:{port}(/p/[A-Za-z0-9_-]+)\n", message).group(1)
        landing = opener.open(f"{base}{link}", timeout=10).read().decode()
        assert "meting T1" in landing or "wave T1" in landing
        # the scheduler's analyses job fits the simulated cohort's queued analysis on its own
        analysis = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "Recommended:" not in analysis:
            analysis = opener.open(f"{base}/studies/1/analysis/1", timeout=10).read().decode()
            time.sleep(1)
        assert "Recommended:" in analysis and "Transitions" in analysis
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"Log in as {DEMO_RESEARCHER_EMAIL} with password {DEMO_RESEARCHER_PASSWORD}" in output
    assert "Scheduler started" in output
    assert f"Open http://127.0.0.1:{port}/login" in output


def test_make_run_takes_another_port() -> None:
    dry = subprocess.run(["make", "-n", "run", "PORT=8080"], capture_output=True, text=True, check=True)
    assert "studyapp serve --port 8080" in dry.stdout

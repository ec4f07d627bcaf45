"""One scheduler per database: a second `studyapp scheduler` or `serve` does not start another."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from studyapp.app import create_app
from studyapp.core import migrate
from studyapp.core.models import SchedulerHeartbeat
from studyapp.core.scheduler_lock import SchedulerLock
from studyapp.scheduler import is_standing_by, start_in_process
from studyapp.settings import load_settings
from tests.conftest import Database


def _scheduler_process(database: Database, tmp_path: Path, *options: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "STUDYAPP_INSTANCE": str(tmp_path),
        "DATABASE_URL": database.url_for_subprocess(),
        "SCHEDULER_INTERVAL_SECONDS": "1",
    }
    env.pop("STUDYAPP_ENV", None)
    return subprocess.Popen(
        [sys.executable, "-m", "studyapp.main", "scheduler", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _heartbeat_of(database: Database, pid: int) -> bool:
    """Whether the scheduler of process ``pid`` has ticked."""
    with Session(database.engine) as session:
        return session.exec(select(SchedulerHeartbeat).where(SchedulerHeartbeat.pid == pid)).first() is not None


def test_a_second_scheduler_is_refused_while_the_first_holds_the_lock(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    migrate.upgrade(database.engine)
    first = _scheduler_process(database, tmp_path)
    try:
        deadline = time.monotonic() + 60
        with Session(database.engine) as session:
            while time.monotonic() < deadline and session.exec(select(SchedulerHeartbeat)).first() is None:
                assert first.poll() is None, first.stdout.read() if first.stdout else ""
                time.sleep(0.2)
                session.expire_all()
            assert session.exec(select(SchedulerHeartbeat)).first() is not None, "the first scheduler ticked"
        # a second `studyapp scheduler` process stops at once, saying why
        second = _scheduler_process(database, tmp_path)
        try:
            output, _ = second.communicate(timeout=60)
        finally:
            second.kill()  # still running only when the test fails
            second.wait(timeout=30)
        assert second.returncode != 0
        assert "Another scheduler already runs for this database" in output
        # `serve` (its scheduler in the web process) leaves the scheduler to the first, with a log line,
        # and stands by; so does `studyapp scheduler --standby`
        settings = load_settings({}, scheduler_enabled=True, scheduler_interval_seconds=1)
        app = create_app({"ENGINE": database.engine}, settings=settings)
        with caplog.at_level(logging.WARNING, logger="studyapp.scheduler"):
            assert start_in_process(app) is None
        assert "Scheduler not started:" in caplog.text and "holds the scheduler lock" in caplog.text
        assert is_standing_by(app)
        time.sleep(2)
        assert is_standing_by(app) and "studyapp.scheduler" not in app.extensions  # while the first runs
    finally:
        first.terminate()
        first.communicate(timeout=30)
    # the first has ended: `serve`'s standby takes over within seconds
    deadline = time.monotonic() + 30
    while "studyapp.scheduler" not in app.extensions and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert "studyapp.scheduler" in app.extensions and not is_standing_by(app)
        assert "Scheduler starting here" in caplog.text
        # `studyapp scheduler --standby` waits while `serve`'s scheduler runs ...
        standby = _scheduler_process(database, tmp_path, "--standby")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(standby.stdout or []), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while not any("Scheduler on standby" in line for line in lines) and time.monotonic() < deadline:
            assert standby.poll() is None, "".join(lines)
            time.sleep(0.2)
        time.sleep(2)
        assert standby.poll() is None and not _heartbeat_of(database, standby.pid), "".join(lines)
    finally:
        if "studyapp.scheduler" in app.extensions:
            app.extensions.pop("studyapp.scheduler").shutdown(wait=True)
            app.extensions.pop("studyapp.scheduler.lock").release()
    # ... and takes over once that one has let go
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and standby.poll() is None and not _heartbeat_of(database, standby.pid):
        time.sleep(0.2)
    standby.terminate()
    standby.wait(timeout=30)
    reader.join(timeout=30)
    if standby.stdout:
        standby.stdout.close()
    output = "".join(lines)
    assert "Scheduler on standby" in output and "Scheduler running" in output, output
    assert _heartbeat_of(database, standby.pid)
    # once the first has ended, the lock is free again (PostgreSQL lets it go when the server notices the
    # ended session: at once on an idle machine, a moment later on a busy one)
    lock = SchedulerLock(database.engine)
    deadline = time.monotonic() + 15
    while not lock.acquire() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lock.held
    assert not SchedulerLock(database.engine).acquire()  # and held: a second claim in this process fails too
    lock.release()
    again = SchedulerLock(database.engine)
    assert again.acquire()
    again.release()

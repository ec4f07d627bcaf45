"""One scheduler per database: a second `studyapp scheduler` or `serve` does not start another."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from studyapp.app import create_app
from studyapp.core import migrate
from studyapp.core.models import SchedulerHeartbeat
from studyapp.core.scheduler_lock import SchedulerLock
from studyapp.scheduler import start_in_process
from studyapp.settings import load_settings
from tests.conftest import Database


def _scheduler_process(database: Database, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "STUDYAPP_INSTANCE": str(tmp_path), "DATABASE_URL": database.url_for_subprocess()}
    env.pop("STUDYAPP_ENV", None)
    return subprocess.Popen(
        [sys.executable, "-m", "studyapp.main", "scheduler"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


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
        # `serve` (its scheduler in the web process) leaves the scheduler to the first, with a log line
        app = create_app({"ENGINE": database.engine}, settings=load_settings({}, scheduler_enabled=True))
        with caplog.at_level(logging.WARNING, logger="studyapp.scheduler"):
            assert start_in_process(app) is None
        assert "Scheduler not started:" in caplog.text and "holds the scheduler lock" in caplog.text
    finally:
        first.terminate()
        first.communicate(timeout=30)
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

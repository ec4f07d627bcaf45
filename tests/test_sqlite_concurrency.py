"""SQLite beside itself: the scheduler's steps run while other threads commit (an analysis recording its
stage every second, a participant's autosave). In WAL mode a write made while a read statement of the same
connection is still stepping upgrades that statement's snapshot, and fails at once with "database is
locked" (SQLITE_BUSY_SNAPSHOT: the busy timeout does not apply) when another connection committed since.
`make run`'s first tick failed so, as the demo's analysis started beside it."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.factories import load_carriere_kompas, make_cohort, make_study, make_wave
from waves.dispatcher import release_resumed_waves


def _commit_elsewhere_after_first_select(engine: Engine) -> list[str]:
    """After the next SELECT on ``engine``, commit a write through another connection (once)."""
    done: list[str] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if done or not statement.lstrip().upper().startswith("SELECT"):
            return
        done.append(statement)
        with engine.connect() as other:  # the pool gives another connection: this one is in use
            other.execute(text("UPDATE study SET description = 'written by another thread'"))
            other.commit()

    event.listen(engine, "after_cursor_execute", after)
    return done


def test_releasing_resumed_waves_survives_a_commit_by_another_connection(engine: Engine, session: Session) -> None:
    """The release read the waves and then updated the outbox in one transaction: a stage update committed
    between the two made it fail at once (seen in `make run`'s first tick)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite behaviour")
    study = make_study(session)
    cohort, instrument = make_cohort(session, study), load_carriere_kompas(session)
    # two waves: with one, the SELECT had finished (and let go of its snapshot) before the first UPDATE
    make_wave(session, cohort, instrument, label="T1")
    make_wave(session, cohort, instrument, label="T2")
    session.close()
    done = _commit_elsewhere_after_first_select(engine)
    assert release_resumed_waves(engine) == 0
    assert done, "another connection committed while the release was under way"

"""Exports and analyses read through a PostgreSQL read replica (``REPLICA_DATABASE_URL``) and write to the primary.

The replica is a second schema holding a copy of the primary's tables, made the moment the test says: what
changes in the primary afterwards is what a replica that has not caught up yet does not show, so the tests
can see which database each step read.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from studyapp.analyses.result import load_result
from studyapp.analyses.runs import queue_analysis
from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.errors import ValidationFailed
from studyapp.core.models import AnalysisRun, AuditEvent
from studyapp.scheduler import run_analyses
from studyapp.settings import SettingsError, load_settings
from studyapp.synthetic_cohort import store_synthetic_cohort
from tests.conftest import Database
from tests.factories import load_carriere_kompas, login, make_cohort, make_study, make_user, make_wave


@pytest.fixture
def replica(database: Database, engine: Engine):
    """An (empty) replica schema beside the primary's, and a function that copies the primary into it."""
    if database.schema is None:
        pytest.skip("a read replica is a PostgreSQL feature")
    schema = f"{database.schema}_replica"
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def catch_up() -> None:
        with engine.begin() as connection:
            for table in SQLModel.metadata.sorted_tables:
                connection.execute(text(f'CREATE TABLE "{schema}".{table.name} (LIKE {table.name} INCLUDING ALL)'))
                connection.execute(text(f'INSERT INTO "{schema}".{table.name} SELECT * FROM {table.name}'))

    url = database.url_for_subprocess().replace(f"search_path%3D{database.schema}", f"search_path%3D{schema}")
    replica_engine = make_engine(url)
    yield {"url": url, "engine": replica_engine, "catch_up": catch_up}
    replica_engine.dispose()
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def cohort_with_answers(session: Session) -> dict:
    """120 simulated alumni who answered one wave."""
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study, "Alumni")
    wave = make_wave(session, cohort, instrument, label="T1")
    store_synthetic_cohort(session=session, cohort=cohort, waves=[wave], n=120, separation=1.0, random_state=5)
    session.commit()
    return {"study": study, "cohort": cohort}


def _with_replica(database: Database, url: str):
    return load_settings(
        {}, scheduler_enabled=False, database_url=database.url_for_subprocess(), replica_database_url=url
    )


def _queue(session: Session, setting: dict) -> AnalysisRun:
    """A small analysis of the cohort, queued for the scheduler."""
    run = queue_analysis(
        session=session,
        study=setting["study"],
        cohort=setting["cohort"],
        parameters={"k_min": 1, "k_max": 2, "parameterisations": ["EEI"], "n_starts": 3, "transition_bootstrap": 0},
        requested_by="test",
    )
    session.commit()
    return run


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_an_export_reads_the_replica_and_audits_in_the_primary(
    database: Database, engine: Engine, session: Session, replica: dict, cohort_with_answers: dict, settings
) -> None:
    make_user(session)
    replica["catch_up"]()
    with engine.begin() as connection:  # the primary moves on; the replica has not caught up yet
        connection.execute(text("DELETE FROM answer WHERE id IN (SELECT id FROM answer ORDER BY id LIMIT 25)"))
    in_replica, in_primary = _count(replica["engine"], "answer"), _count(engine, "answer")
    assert in_replica == in_primary + 25

    app = create_app(
        {"TESTING": True, "ENGINE": engine, "REPLICA_ENGINE": replica["engine"], "WTF_CSRF_ENABLED": False},
        settings=settings,
    )
    client = app.test_client()
    login(client)
    study_id = cohort_with_answers["study"].id
    response = client.post(f"/studies/{study_id}/export", data={"formats": ["long_csv"], "language": "en"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    response.close()  # the server closes the archive's temporary file once sent

    events = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).all()
    assert len(events) == 1 and events[0].detail["answers"] == in_replica  # read there, recorded here
    with replica["engine"].connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_event WHERE action = 'data.exported'")).scalar() == 0

    # the command line does the same, with the replica from its settings
    runner = create_app(
        {"TESTING": True, "ENGINE": engine},
        settings=_with_replica(database, replica["url"]),
    ).test_cli_runner()
    result = runner.invoke(args=["export", "--study", "bridge-the-gap", "--format", "long_csv", "--out", "/tmp"])
    assert result.exit_code == 0, result.output
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).all()
    assert [e.detail["answers"] for e in events] == [in_replica, in_replica]


def test_the_scheduler_analyses_from_the_replica_and_stores_the_result_in_the_primary(
    database: Database, engine: Engine, session: Session, replica: dict, cohort_with_answers: dict
) -> None:
    replica["catch_up"]()
    run = _queue(session, cohort_with_answers)
    with engine.begin() as connection:  # the primary alone has nothing left to analyse
        connection.execute(text("DELETE FROM answer"))

    with_replica = _with_replica(database, replica["url"])
    assert run_analyses(engine, with_replica) >= 1
    session.expire_all()
    stored = session.get_one(AnalysisRun, run.id)
    assert stored.status == "done", stored.error
    assert load_result(stored).n_participants == 120 and load_result(stored).fit  # read from the replica
    with replica["engine"].connect() as connection:
        assert connection.execute(text("SELECT status FROM analysis_run")).all() == []  # the replica has no run

    with pytest.raises(ValidationFailed, match="0 usable responses"):  # the primary has none left
        _queue(session, cohort_with_answers)


@pytest.mark.parametrize(
    "primary, replica_url",
    [("sqlite:///x.db", "postgresql://replica/test"), ("postgresql://primary/test", "sqlite:///copy.db")],
)
def test_a_replica_is_a_postgresql_replica_of_postgresql(primary: str, replica_url: str) -> None:
    with pytest.raises(SettingsError, match="REPLICA_DATABASE_URL"):
        load_settings({"DATABASE_URL": primary, "REPLICA_DATABASE_URL": replica_url})

"""Alembic owns the schema: migrations match the models and go up, down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from studyapp.app import create_app
from studyapp.core import migrate
from tests.conftest import Database


def _differences(database: Database) -> list:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def _tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_models(database: Database) -> None:
    migrate.upgrade(database.engine)
    assert _tables(database) == set(SQLModel.metadata.tables)
    assert _differences(database) == []
    assert migrate.is_up_to_date(database.engine)


def test_upgrade_downgrade_upgrade(database: Database) -> None:
    migrate.upgrade(database.engine)
    migrate.downgrade(database.engine, "base")
    assert _tables(database) == set()
    assert migrate.current_revision(database.engine) is None
    migrate.upgrade(database.engine)
    assert _differences(database) == []
    assert migrate.current_revision(database.engine) == migrate.head_revision()


def test_check_constraints_exist_after_migration(database: Database) -> None:
    migrate.upgrade(database.engine)
    names = {c["name"] for c in inspect(database.engine).get_check_constraints("wave")}
    assert "ck_wave_schedule_consistent" in names


def test_cli_upgrade_and_current(database: Database, settings) -> None:
    app = create_app({"TESTING": True, "ENGINE": database.engine}, settings=settings)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {migrate.head_revision()}" in result.output
    result = runner.invoke(args=["db", "current"])
    assert f"current: {migrate.head_revision()}" in result.output
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0 and "base" in result.output
    assert _tables(database) == set()


def test_upgrade_keeps_existing_rows(database: Database) -> None:
    """Revision 0002 adds not-null cohort columns: rows made under 0001 get their defaults."""
    from sqlalchemy import text

    migrate.upgrade(database.engine, "0001")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO study (slug, name, description, timezone, created_at) "
                "VALUES ('s', 'S', '', 'UTC', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO cohort (study_id, name, description, created_at) "
                "VALUES ((SELECT id FROM study), 'C', '', '2026-01-01 00:00:00')"
            )
        )
    migrate.upgrade(database.engine)
    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT linkage, signup_open, signup_code FROM cohort")).one()
    assert (row[0], bool(row[1]), row[2]) == ("contact", False, None)
    assert _differences(database) == []


def test_0009_adds_the_analysis_stage_and_takes_it_away(database: Database) -> None:
    """Revision 0009 adds analysis_run.stage: runs made under 0008 get '' and survive a downgrade."""
    from sqlalchemy import text

    migrate.upgrade(database.engine, "0008")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO study (slug, name, description, timezone, created_at) "
                "VALUES ('s', 'S', '', 'UTC', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO cohort (study_id, name, description, linkage, signup_open, created_at) "
                "VALUES ((SELECT id FROM study), 'C', '', 'contact', false, '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO analysis_run (study_id, cohort_id, status, parameters, result, error, requested_by,"
                " created_at) VALUES ((SELECT id FROM study), (SELECT id FROM cohort), 'running', '{}', '{}', '',"
                " 'r', '2026-01-01 00:00:00')"
            )
        )
    assert "stage" not in {c["name"] for c in inspect(database.engine).get_columns("analysis_run")}
    migrate.upgrade(database.engine, "0009")
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT stage FROM analysis_run")).scalar_one() == ""
    migrate.downgrade(database.engine, "0008")
    assert "stage" not in {c["name"] for c in inspect(database.engine).get_columns("analysis_run")}
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM analysis_run")).scalar_one() == "running"


def test_0010_gives_each_outbox_row_of_an_invitation_its_wave(database: Database) -> None:
    """Revision 0010 adds outbox_message.wave_id: rows queued before it get their invitation's wave,
    notifications to users none; a row of an invitation without its wave is refused after it."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import Session

    from studyapp.core.models import Invitation, OutboxMessage
    from tests.factories import make_cohort, make_instrument, make_participant, make_study, make_user, make_wave

    migrate.upgrade(database.engine)
    with Session(database.engine) as session:
        cohort = make_cohort(session, make_study(session))
        wave = make_wave(session, cohort, make_instrument(session))
        person = make_participant(session, cohort)
        invitation = Invitation(participant_id=person.id, wave_id=wave.id, state="sent")
        session.add(invitation)
        session.flush()
        user = make_user(session)
        session.add(
            OutboxMessage(
                idempotency_key="i1",
                kind="invitation",
                invitation_id=invitation.id,
                wave_id=wave.id,
                participant_id=person.id,
            )
        )
        session.add(OutboxMessage(idempotency_key="n1", kind="notification", user_id=user.id))
        session.commit()
        wave_id, invitation_id, person_id = wave.id, invitation.id, person.id
    migrate.downgrade(database.engine, "0009")
    assert "wave_id" not in {c["name"] for c in inspect(database.engine).get_columns("outbox_message")}
    migrate.upgrade(database.engine, "0010")
    with database.engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT idempotency_key, wave_id FROM outbox_message")).all())
    assert rows == {"i1": wave_id, "n1": None}
    with pytest.raises(IntegrityError), Session(database.engine) as session:
        session.add(
            OutboxMessage(idempotency_key="r1", kind="reminder", invitation_id=invitation_id, participant_id=person_id)
        )
        session.commit()


def test_0011_adds_frame_variables_and_keeps_the_rows(database: Database) -> None:
    """Revision 0011 adds study.frame_variables and participant.frame: rows made before it get none."""
    from sqlmodel import Session, select

    from studyapp.core.models import Participant, Study
    from tests.factories import make_cohort, make_participant, make_study

    migrate.upgrade(database.engine)
    with Session(database.engine) as session:
        make_participant(session, make_cohort(session, make_study(session)))
        session.commit()
    migrate.downgrade(database.engine, "0010")
    assert "frame" not in {c["name"] for c in inspect(database.engine).get_columns("participant")}
    migrate.upgrade(database.engine, "0011")
    with Session(database.engine) as session:
        assert session.exec(select(Study.frame_variables)).one() == []
        assert session.exec(select(Participant.frame)).one() == {}
    migrate.upgrade(database.engine)
    assert _differences(database) == []


def test_0012_adds_the_identity_retention_date_and_keeps_the_rows(database: Database) -> None:
    """Revision 0012 adds study.identity_retention_until and identities_erased_at: studies made before it
    have no date yet (the study page asks for one), and it goes down and up again."""
    from sqlmodel import Session, select

    from studyapp.core.models import Study
    from tests.factories import make_cohort, make_participant, make_study

    migrate.upgrade(database.engine)
    with Session(database.engine) as session:
        make_participant(session, make_cohort(session, make_study(session)))
        session.commit()
    migrate.downgrade(database.engine, "0011")
    assert "identity_retention_until" not in {c["name"] for c in inspect(database.engine).get_columns("study")}
    migrate.upgrade(database.engine, "0012")
    with Session(database.engine) as session:
        study = session.exec(select(Study)).one()
        assert (study.identity_retention_until, study.identities_erased_at) == (None, None)
    assert _differences(database) == []

"""Backup and restore through the CLI, on SQLite and PostgreSQL: row counts and checksums come back."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from studyapp.backup import fingerprints
from studyapp.core.models import Answer, Participant, Study
from tests.factories import (
    enrol,
    invite_with_token,
    make_cohort,
    make_instrument,
    make_study,
    make_wave,
    submit_response,
)


def test_backup_then_restore_brings_every_row_back(runner, session: Session, engine, tmp_path) -> None:
    instrument = make_instrument(session)
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, instrument)
    for n in range(5):
        person = enrol(session, cohort, f"p{n}@example.org", name=f"Person {n}")
        submit_response(session, invite_with_token(session, person, wave)[0], {"cc_1": 1 + n % 3, "cc_2": 2})
    before = fingerprints(engine)
    path = tmp_path / "backups" / "study.backup"
    made = runner.invoke(args=["backup", "--out", str(path)])
    assert made.exit_code == 0, made.output
    assert path.exists() and path.with_name(path.name + ".json").exists()
    # damage: participants and answers gone, the study renamed
    for answer in session.exec(select(Answer)).all():
        session.delete(answer)
    study.name = "Changed"
    session.add(study)
    session.commit()
    assert fingerprints(engine) != before
    restored = runner.invoke(args=["restore", str(path), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "checksums match the manifest" in restored.output
    assert fingerprints(engine) == before
    session.expire_all()
    assert session.exec(select(Study)).one().name == "Bridge the Gap"
    assert len(session.exec(select(Answer)).all()) == 10 and len(session.exec(select(Participant)).all()) == 5


def test_restore_refuses_a_backup_that_does_not_match_its_manifest(runner, session, engine, tmp_path) -> None:
    make_study(session)
    path = tmp_path / "study.backup"
    assert runner.invoke(args=["backup", "--out", str(path)]).exit_code == 0
    manifest = path.with_name(path.name + ".json")
    manifest.write_text(manifest.read_text().replace('"rows": 1', '"rows": 2'))
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code != 0 and "differ from the manifest" in result.output and "study" in result.output


def test_a_backup_made_while_the_app_writes_matches_its_manifest(runner, session, engine, tmp_path) -> None:
    """The manifest is read from the same moment as the backup, not a moment later."""
    import threading

    from sqlmodel import Session as WriterSession

    make_study(session)
    stop = threading.Event()
    written = []

    def keep_writing() -> None:
        with WriterSession(engine) as writer:
            while not stop.is_set():
                make_study(writer, slug=f"busy-{len(written)}", name=f"Busy {len(written)}")
                written.append(1)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while len(written) < 5:  # the writer is under way before the backup starts
            stop.wait(0.01)
        path = tmp_path / "busy.backup"
        before = len(written)
        made = runner.invoke(args=["backup", "--out", str(path)])
        after = len(written)
    finally:
        stop.set()
        thread.join()
    assert made.exit_code == 0, made.output
    assert after > before  # rows were written while the backup ran
    restored = runner.invoke(args=["restore", str(path), "--yes"])
    assert restored.exit_code == 0 and "checksums match the manifest" in restored.output, restored.output


def test_restore_refuses_a_dump_without_its_manifest_unless_told_not_to_verify(runner, session, engine, tmp_path):
    study = make_study(session)
    path = tmp_path / "copy.dump"
    assert runner.invoke(args=["backup", "--out", str(path)]).exit_code == 0
    path.with_name(path.name + ".json").unlink()  # a copy that travelled without its manifest
    study.name = "Changed after the backup"
    session.add(study)
    session.commit()

    refused = runner.invoke(args=["restore", str(path), "--yes"])
    assert refused.exit_code != 0, refused.output
    assert "copy.dump.json" in refused.output and "--no-verify" in refused.output
    assert "match" not in refused.output
    session.expire_all()
    assert session.exec(select(Study)).one().name == "Changed after the backup"  # nothing was touched
    session.rollback()  # no open transaction may hold a lock pg_restore --clean waits for

    unchecked = runner.invoke(args=["restore", str(path), "--yes", "--no-verify"])
    assert unchecked.exit_code == 0, unchecked.output
    assert "NOT checked" in unchecked.output and "match" not in unchecked.output
    session.expire_all()
    assert session.exec(select(Study)).one().name == "Bridge the Gap"


def test_restore_refuses_an_unreadable_manifest_before_touching_the_database(runner, session, engine, tmp_path):
    make_study(session)
    path = tmp_path / "study.backup"
    assert runner.invoke(args=["backup", "--out", str(path)]).exit_code == 0
    path.with_name(path.name + ".json").write_text("{not json")
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code != 0 and "cannot read the manifest" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_restore_refuses_a_dump_with_one_changed_value(runner, session, engine, tmp_path) -> None:
    """A dump whose rows differ from its manifest in one value (same row counts) is refused after restoring."""
    study = make_study(session)
    original = tmp_path / "original.backup"
    assert runner.invoke(args=["backup", "--out", str(original)]).exit_code == 0
    study.name = "Bridge the Gab"
    session.add(study)
    session.commit()
    tampered = tmp_path / "tampered.backup"
    assert runner.invoke(args=["backup", "--out", str(tampered)]).exit_code == 0
    # the tampered dump travels with the original's manifest
    tampered.with_name(tampered.name + ".json").write_text(original.with_name(original.name + ".json").read_text())
    session.rollback()
    result = runner.invoke(args=["restore", str(tampered), "--yes"])
    assert result.exit_code != 0 and "differ from the manifest: study" in result.output, result.output
    assert runner.invoke(args=["restore", str(original), "--yes"]).exit_code == 0


def test_postgresql_checksums_are_computed_by_the_server(database, session, engine) -> None:
    """One statement per table, each returning one row: no table's rows are fetched into Python."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no MD5: its rows are hashed in Python, streamed")
    from sqlalchemy import event, insert

    instrument = make_instrument(session)
    cohort = make_cohort(session, make_study(session))
    wave = make_wave(session, cohort, instrument)
    person = enrol(session, cohort, "p@example.org")
    invitation = invite_with_token(session, person, wave)[0]
    fetched: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        fetched.append(max(cursor.rowcount, 0))

    event.listen(engine, "after_cursor_execute", count)
    try:
        small = fingerprints(engine)
        rows_then = sum(fetched)
        session.execute(insert(Participant), [{"pseudonym": f"BULK-{n}", "cohort_id": cohort.id} for n in range(500)])
        session.commit()
        fetched.clear()
        larger = fingerprints(engine)
        rows_now = sum(fetched)
    finally:
        event.remove(engine, "after_cursor_execute", count)
    assert larger["participant"]["rows"] == small["participant"]["rows"] + 500
    assert larger["participant"] != small["participant"] and larger["invitation"] == small["invitation"]
    assert rows_now == rows_then  # 500 more rows, not one more fetched
    assert invitation.id is not None


def test_a_manifest_from_before_server_checksums_still_verifies(runner, session, engine, tmp_path) -> None:
    """Manifests written before issue 17 hold a SHA-256 of the rows and no method: restore checks them so."""
    import json

    from studyapp.backup import ROWS_SHA256

    make_study(session)
    path = tmp_path / "old.backup"
    assert runner.invoke(args=["backup", "--out", str(path)]).exit_code == 0
    manifest = path.with_name(path.name + ".json")
    old = {
        "made_at": "2026-01-01T00:00:00+00:00",
        "dialect": engine.dialect.name,
        "tables": fingerprints(engine, ROWS_SHA256),
    }
    manifest.write_text(json.dumps(old))
    session.rollback()
    restored = runner.invoke(args=["restore", str(path), "--yes"])
    assert restored.exit_code == 0 and "checksums match the manifest" in restored.output, restored.output
    old["tables"]["study"]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(old))
    refused = runner.invoke(args=["restore", str(path), "--yes"])
    assert refused.exit_code != 0 and "differ from the manifest: study" in refused.output, refused.output


def test_postgresql_checksums_do_not_depend_on_the_sessions_settings(database, session, engine) -> None:
    """The restoring session may have another time zone or date style than the backing-up one."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the setting pinned is PostgreSQL's text form of a row")
    from studyapp.core.db import make_engine

    make_study(session)  # a row with timestamps
    options = f"-csearch_path={database.schema} -cTimeZone=Asia/Tokyo -cDateStyle=SQL,DMY -cextra_float_digits=0"
    elsewhere = make_engine(database.url, connect_args={"options": options})
    try:
        assert fingerprints(elsewhere) == fingerprints(engine)
    finally:
        elsewhere.dispose()

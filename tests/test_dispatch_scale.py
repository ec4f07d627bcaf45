"""The outbox at scale: a claim reads the rows it claims and no others, whatever the backlog (a paused
wave's included); planning issues the same statements for 200 participants as for 400.

The statements a dispatch run sends are recorded and explained on the database itself: PostgreSQL's
``EXPLAIN ANALYZE`` counts the outbox rows each one read; SQLite's ``EXPLAIN QUERY PLAN`` shows it
searched an index and sorted nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from studyapp.core.models import Cohort, Invitation, OutboxMessage, Wave
from studyapp.core.models._common import table_of
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule
from tests.factories import login, make_user, privacy_for_tests
from tests.fieldwork_helpers import CONFIG, NOW, outbox_with
from waves.dispatcher import DispatchReport, dispatch, failure_lines
from waves.planner import plan_due
from waves.transport import SmtpTransport

BACKLOG = 5000
BATCH = CONFIG.batch


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) sent through ``engine`` meanwhile."""
    statements: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        if not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _outbox_reads(engine: Engine, statements: list[tuple[str, Any]]) -> list[tuple[str, int, set[str]]]:
    """Per statement on the outbox: (statement, outbox rows it read, indexes it used) by EXPLAIN ANALYZE,
    in a transaction that is rolled back."""
    found = []
    for statement, parameters in statements:
        if "outbox_message" not in statement or not statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
            continue
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            cursor = raw.cursor()
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
            plan = cursor.fetchone()[0]
            raw.rollback()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        rows, indexes = _walk(plan[0]["Plan"])
        found.append((statement, rows, indexes))
    return found


def _walk(node: dict) -> tuple[int, set[str]]:
    rows, indexes = 0, set()
    if node.get("Relation Name") == "outbox_message":
        loops = node.get("Actual Loops", 1)
        rows += node.get("Actual Rows", 0) * loops + node.get("Rows Removed by Filter", 0) * loops
        if "Index Name" in node:
            indexes.add(node["Index Name"])
    for child in node.get("Plans", []):
        child_rows, child_indexes = _walk(child)
        rows, indexes = rows + child_rows, indexes | child_indexes
    return rows, indexes


def _outbox_plans(engine: Engine, statements: list[tuple[str, Any]]) -> list[tuple[str, list[str]]]:
    """SQLite: per statement on the outbox, the steps of its query plan."""
    found = []
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        for statement, parameters in statements:
            if "outbox_message" not in statement or not statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
                continue
            steps = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()]
            found.append((statement, steps))
    return found


def _assert_claims_read_only_what_they_claim(engine: Engine, statements: list[tuple[str, Any]]) -> None:
    if engine.dialect.name == "postgresql":
        reads = _outbox_reads(engine, statements)
        assert reads, "the dispatcher queried the outbox"
        worst = max(reads, key=lambda read: read[1])
        assert worst[1] <= 3 * BATCH, f"a statement read {worst[1]} outbox rows of {BACKLOG}: {worst[0]}"
        assert any("ix_outbox_message_claim" in indexes for _, _, indexes in reads), "the claim index is used"
    else:
        plans = _outbox_plans(engine, statements)
        assert plans, "the dispatcher queried the outbox"
        for statement, steps in plans:
            for step in steps:
                assert not step.startswith("SCAN outbox_message") or "USING INDEX ix_outbox_message_claim" in step, (
                    f"a full scan of the outbox: {step} in {statement}"
                )
                assert "TEMP B-TREE FOR ORDER BY" not in step, f"a sort: {step} in {statement}"
        assert any("ix_outbox_message_claim" in " ".join(steps) for _, steps in plans), "the claim index is used"


def _backlog(session: Session, wave: Wave, n: int, *, label: str, not_before_offset: timedelta) -> None:
    """``n`` more pending messages (re-sends) to the wave's first invitation, due before or after ``NOW``."""
    invitation = session.exec(
        select(Invitation).where(Invitation.wave_id == wave.id).order_by(col(Invitation.id))
    ).first()
    assert invitation is not None
    session.execute(
        insert(table_of(OutboxMessage)),
        [
            {
                "idempotency_key": f"backlog:{label}:{i}",
                "kind": "invitation",
                "invitation_id": invitation.id,
                "wave_id": invitation.wave_id,
                "participant_id": invitation.participant_id,
                "language": "en",
                "status": "pending",
                "attempts": 0,
                "not_before": NOW + not_before_offset,
                "last_error": "",
                "claimed_by": "",
                "created_at": NOW,
            }
            for i in range(n)
        ],
    )
    session.commit()


def _dispatch(engine: Engine, smtp_server, *, max_messages: int | None = None, now=NOW) -> DispatchReport:
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    try:
        return dispatch(
            engine=engine,
            privacy=privacy_for_tests(),
            transport=transport,
            config=CONFIG,
            worker="scale",
            now=now,
            max_messages=max_messages,
        )
    finally:
        transport.close()


def test_a_claim_reads_only_the_rows_it_claims_however_long_the_backlog(
    engine: Engine, session: Session, smtp_server
) -> None:
    outbox_with(session, 3)
    wave = session.exec(select(Wave)).one()
    _backlog(session, wave, BACKLOG, label="due", not_before_offset=-timedelta(minutes=30))
    with recorded(engine) as statements:
        report = _dispatch(engine, smtp_server, max_messages=2 * BATCH)
    assert report.sent == 2 * BATCH
    _assert_claims_read_only_what_they_claim(engine, statements)


def _second_wave(session: Session, study_id: int) -> Wave:
    """Another open wave of the study's cohort, with its invitations planned."""
    wave = session.exec(select(Wave)).one()
    second = services.create_wave(
        session=session,
        cohort=session.get(Cohort, wave.cohort_id),
        data=services.WaveData(
            label="T1b",
            instrument_id=wave.instrument_id,
            schedule=WaveSchedule(
                schedule="on_date", opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(days=28)
            ),
        ),
    )
    session.commit()
    assert plan_due(session=session, now=NOW).invitations == 3
    return second


def test_a_paused_waves_backlog_is_skipped_cheaply_and_goes_out_on_resume(
    engine: Engine, session: Session, smtp_server, client: FlaskClient
) -> None:
    """The paused wave's messages are due first: before, every claim sorted past them to find the others."""
    study = outbox_with(session, 3)
    paused = session.exec(select(Wave)).one()
    active = _second_wave(session, study.id)
    _backlog(session, paused, BACKLOG, label="paused", not_before_offset=-timedelta(minutes=50))
    make_user(session)
    login(client)
    assert client.post(f"/waves/{paused.id}/pause").status_code == 302
    _dispatch(engine, smtp_server, max_messages=1)  # the first claim that meets the paused wave sets it aside
    with recorded(engine) as statements:
        report = _dispatch(engine, smtp_server)
    assert report.sent == 3 - 1, "the active wave's invitations went out; nothing of the paused wave"
    session.expire_all()
    sent = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sent")).all()
    assert {session.get(Invitation, row.invitation_id).wave_id for row in sent} == {active.id}
    _assert_claims_read_only_what_they_claim(engine, statements)
    assert client.post(f"/waves/{paused.id}/resume").status_code == 302
    resumed = _dispatch(engine, smtp_server, max_messages=2 * BATCH)
    assert resumed.sent == 2 * BATCH, "the paused wave's messages go out once it resumes"


def test_a_message_queued_for_a_paused_wave_waits_for_it(engine: Engine, session: Session, smtp_server) -> None:
    """A re-send queued after the pause (and so never set aside by it) is caught at the claim."""
    outbox_with(session, 2)
    wave = session.exec(select(Wave)).one()
    _dispatch(engine, smtp_server)
    wave.paused = True
    session.add(wave)
    session.commit()
    _backlog(session, wave, 3, label="after-pause", not_before_offset=-timedelta(minutes=1))
    assert _dispatch(engine, smtp_server).sent == 0
    held = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    assert len(held) == 3
    wave.paused = False  # resumed through the wave's edit form
    session.add(wave)
    session.commit()
    assert _dispatch(engine, smtp_server).sent == 3
    assert len(smtp_server.handler_obj.by_message_id()) == 2 + 3


def test_an_expired_claim_on_a_paused_wave_waits_for_the_wave(engine: Engine, session: Session, smtp_server) -> None:
    outbox_with(session, 4)
    wave = session.exec(select(Wave)).one()
    for row in session.exec(select(OutboxMessage)):  # claimed by a dispatcher elsewhere that went away
        row.status, row.claimed_by = "sending", "gone|other-host|pid:[1]|4242"
        row.claimed_at = datetime.now(UTC) - timedelta(hours=1)  # leases are wall-clock times
        session.add(row)
    wave.paused = True
    session.add(wave)
    session.commit()
    assert _dispatch(engine, smtp_server).sent == 0
    session.expire_all()
    assert {row.status for row in session.exec(select(OutboxMessage))} == {"pending"}
    wave.paused = False
    session.add(wave)
    session.commit()
    assert _dispatch(engine, smtp_server).sent == 4


def _enrol(session: Session, study_id: int, cohort_id: int, emails: list[str]) -> None:
    from studyapp.core.models import Cohort, Study
    from studyapp.participants.enrolment import Person, enrol_person

    study, cohort = session.get(Study, study_id), session.get(Cohort, cohort_id)
    for email in emails:
        person = Person(
            line=0,
            email=email,
            name="",
            language="nl",
            cohort_id=cohort.id,
            cohort_name=cohort.name,
            external_id=None,
            keep_data=True,
        )
        enrol_person(session=session, privacy=privacy_for_tests(), study=study, person=person, actor="researcher")
    session.commit()


def _plan_recorded(engine: Engine, session: Session, now) -> tuple[int, int, int, int]:
    """Plan at ``now``, then mark every invitation sent: (invitations, reminders, statements, widest)."""
    with recorded(engine) as statements, Session(engine) as planning:
        report = plan_due(session=planning, now=now)
    session.execute(update(table_of(Invitation)).values(state="sent"))
    session.commit()
    widest = max(len(parameters) for _, parameters in statements if parameters is not None)
    return report.invitations, report.reminders, len(statements), widest


def test_planning_sends_as_many_statements_for_many_participants_as_for_few(engine: Engine, session: Session) -> None:
    """Invitations and reminders are inserted in bulk: no statement per participant, and no statement
    with a bound parameter per participant."""
    study = outbox_with(session, 150)  # 150 invitations planned at NOW
    wave = session.exec(select(Wave)).one()
    session.execute(update(table_of(Invitation)).values(state="sent"))
    session.commit()
    _, reminders, few, few_widest = _plan_recorded(engine, session, NOW + timedelta(days=7, hours=1))
    assert reminders == 150
    _enrol(session, study.id, wave.cohort_id, [f"late{i:05d}@example.org" for i in range(600)])
    invitations, _, invite_many, invite_widest = _plan_recorded(engine, session, NOW + timedelta(days=7, hours=2))
    assert invitations == 600
    _, reminders, remind_many, remind_widest = _plan_recorded(engine, session, NOW + timedelta(days=7, hours=3))
    assert reminders == 600
    assert remind_many <= few, f"reminders: {few} statements for 150 participants, {remind_many} for 600"
    assert invite_many <= few + 2, f"invitations: {invite_many} statements for 600 participants"
    assert max(invite_widest, remind_widest) <= max(few_widest, 100), "no bound parameter per participant"


def test_failure_lines_of_a_run_with_more_failures_than_a_query_has_parameters(session: Session) -> None:
    """A run in which 70,000 messages failed (a mail server refusing everything) still prints its lines."""
    report = DispatchReport(failures=[(row_id, "550 refused") for row_id in range(1, 70_001)])
    lines = failure_lines(session, report)
    assert len(lines) == 70_000 and lines[0] == "outbox message 1: 550 refused"

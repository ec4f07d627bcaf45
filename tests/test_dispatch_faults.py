"""The dispatcher under faults: killed mid-run, a server that answers 4xx for a while, a 5xx address,
and two dispatchers at once. A real SMTP server (aiosmtpd) receives everything."""

from __future__ import annotations

import random
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import Invitation, OutboxMessage
from tests.conftest import Database
from tests.factories import login, make_user, privacy_for_tests
from tests.fieldwork_helpers import CONFIG, NOW, dispatcher_process, outbox_with
from waves.dispatcher import dispatch
from waves.transport import SmtpTransport


def test_killed_dispatcher_loses_nothing_and_repeats_at_most_one_per_kill(
    database: Database,
    engine,
    session: Session,
    smtp_server,
) -> None:
    outbox_with(session, 2000, now=datetime.now(UTC))
    handler = smtp_server.handler_obj
    rng = random.Random(7)
    kills = 0
    for _ in range(3):
        target = len(handler.raw) + rng.randint(100, 500)
        process = dispatcher_process(database, smtp_server.port, "--claim-timeout", "0")
        deadline = time.monotonic() + 120
        while len(handler.raw) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        process.stdout.close()
    final = dispatcher_process(database, smtp_server.port, "--claim-timeout", "0")
    output, _ = final.communicate(timeout=300)
    assert final.returncode == 0, output
    counts = handler.by_message_id()
    assert kills == 3
    assert len(counts) == 2000, "every message arrived"
    repeats = sum(count - 1 for count in counts.values())
    assert repeats <= kills, f"{repeats} repeats for {kills} kills"
    statuses = {row.status for row in session.exec(select(OutboxMessage))}
    assert statuses == {"sent"}


@pytest.mark.parametrize("code", ["451 4.3.0 Please try again later", "421 4.3.2 Service not available"])
def test_temporary_failures_are_retried_after_recovery(engine, session: Session, smtp_server, code: str) -> None:
    outbox_with(session, 120)
    handler = smtp_server.handler_obj
    handler.temporary_failures, handler.temporary_code = 40, code
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    privacy = privacy_for_tests()
    first = dispatch(engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW)
    assert first.retried == 40 and first.sent == 80
    pending = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    assert len(pending) == 40 and all(row.not_before == NOW + timedelta(minutes=1) for row in pending)
    assert all(code[:3] in row.last_error for row in pending)
    too_early = dispatch(
        engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW + timedelta(seconds=30)
    )
    assert too_early.sent == 0, "nothing is retried before its backoff"
    later = dispatch(
        engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW + timedelta(minutes=2)
    )
    transport.close()
    assert later.sent == 40
    assert len(handler.by_message_id()) == 120 and max(handler.by_message_id().values()) == 1


def test_a_550_fails_only_that_address_and_shows_on_the_dashboard(
    engine,
    session: Session,
    smtp_server,
    client: FlaskClient,
) -> None:
    study = outbox_with(session, 30)
    smtp_server.handler_obj.rejected = {"p00007@example.org"}
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    report = dispatch(
        engine=engine, privacy=privacy_for_tests(), transport=transport, config=CONFIG, worker="a", now=NOW
    )
    transport.close()
    assert (report.sent, report.failed) == (29, 1)
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
    assert failed.last_error.startswith("550")
    assert session.get(Invitation, failed.invitation_id).state == "failed"
    make_user(session)
    login(client)
    page = client.get(f"/studies/{study.id}/fieldwork").get_data(as_text=True)
    assert "1 address failed" in page and "550 5.1.1 Mailbox does not exist" in page


def test_two_dispatchers_at_once_never_send_a_message_twice(
    database: Database,
    engine,
    session: Session,
    smtp_server,
) -> None:
    outbox_with(session, 1000, now=datetime.now(UTC))
    one = dispatcher_process(database, smtp_server.port)
    two = dispatcher_process(database, smtp_server.port)
    outputs = [one.communicate(timeout=300)[0], two.communicate(timeout=300)[0]]
    assert one.returncode == 0 and two.returncode == 0, outputs
    counts = smtp_server.handler_obj.by_message_id()
    assert len(counts) == 1000 and max(counts.values()) == 1
    sent = [int(out.split("sent ")[1].split(",")[0]) for out in outputs]
    assert sum(sent) == 1000


def test_several_smtp_connections_send_each_message_once(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 200)
    transports = [SmtpTransport(host="127.0.0.1", port=smtp_server.port) for _ in range(4)]
    report = dispatch(
        engine=engine,
        privacy=privacy_for_tests(),
        transport=transports[0],
        config=CONFIG,
        worker="a",
        now=NOW,
        extra_transports=transports[1:],
    )
    for transport in transports:
        transport.close()
    counts = smtp_server.handler_obj.by_message_id()
    assert report.sent == 200 and len(counts) == 200 and max(counts.values()) == 1
    assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}
    assert {i.state for i in session.exec(select(Invitation))} == {"sent"}


def test_rate_limit_spaces_messages() -> None:
    from waves.transport import RateLimiter

    moments: list[float] = []
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds

    limiter = RateLimiter(5, clock=lambda: clock["t"], sleep=sleep)
    for _ in range(6):
        limiter.wait()
        moments.append(clock["t"])
    assert moments == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    unlimited = RateLimiter(0, clock=lambda: clock["t"], sleep=sleep)
    before = clock["t"]
    unlimited.wait()
    assert clock["t"] == before

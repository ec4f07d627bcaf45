"""The dispatcher under faults: killed mid-run, a server that answers 4xx for a while, a 5xx address,
and two dispatchers at once. A real SMTP server (aiosmtpd) receives everything."""

from __future__ import annotations

import random
import re
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import Invitation, OutboxMessage
from studyapp.dispatch_helper import HELPER_BACKLOG, HelperReport, _add_up
from tests.conftest import Database, running_smtp_server
from tests.factories import login, make_user, privacy_for_tests
from tests.fieldwork_helpers import CONFIG, NOW, dispatcher_process, outbox_with
from waves.claims import Heartbeat
from waves.dispatcher import LEASE_LOST, SERVER_DOWN, dispatch
from waves.transport import SmtpTransport


def test_a_killed_dispatcher_is_taken_over_in_seconds_and_repeats_at_most_one_per_kill(
    database: Database,
    engine,
    session: Session,
    smtp_server,
) -> None:
    """SIGKILL three times during 2,000 sends with the default claim settings, then restart."""
    outbox_with(session, 2000, now=datetime.now(UTC))
    handler = smtp_server.handler_obj
    rng = random.Random(7)
    kills = 0
    for _ in range(3):
        target = len(handler.raw) + rng.randint(100, 500)
        process = dispatcher_process(database, smtp_server.port)
        deadline = time.monotonic() + 120
        while len(handler.raw) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        process.stdout.close()
    left = session.exec(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()
    assert any(row.status == "sending" for row in left), "the killed dispatcher left claimed rows behind"
    restarted = time.monotonic()
    final = dispatcher_process(database, smtp_server.port)
    output, _ = final.communicate(timeout=120)
    seconds = time.monotonic() - restarted
    assert final.returncode == 0, output
    counts = handler.by_message_id()
    assert kills == 3
    assert len(counts) == 2000, "every message arrived"
    assert seconds < 60, f"the rest arrived {seconds:.1f} s after the restart"
    repeats = sum(count - 1 for count in counts.values())
    assert repeats <= kills, f"{repeats} repeats for {kills} kills"
    session.expire_all()
    statuses = {row.status for row in session.exec(select(OutboxMessage))}
    assert statuses == {"sent"}
    print(f"crash recovery: {len(left)} messages left at the last kill, all sent {seconds:.1f} s after restart")


def test_a_live_dispatcher_keeps_its_claims_beyond_the_claim_timeout(
    database: Database, engine, session: Session, smtp_server
) -> None:
    """A slow server: a batch takes longer than the 1 s claim, but the heartbeat keeps it from a second sender."""
    outbox_with(session, 200, now=datetime.now(UTC))
    smtp_server.handler_obj.delay = 0.04  # 50 messages a batch: 2 s per batch
    senders = [dispatcher_process(database, smtp_server.port, "--claim-timeout", "1") for _ in range(2)]
    outputs = [sender.communicate(timeout=300)[0] for sender in senders]
    assert all(sender.returncode == 0 for sender in senders), outputs
    counts = smtp_server.handler_obj.by_message_id()
    assert len(counts) == 200 and max(counts.values()) == 1, outputs


def test_a_batch_that_took_longer_than_its_lease_to_compose_is_not_taken_over_when_it_commits(
    engine, session: Session, monkeypatch
) -> None:
    """Under load (CI, 2 cores) two dispatchers with a 1 s lease sent 100 of 200 messages twice: a batch
    composed for longer than the lease became visible already expired, and the other took it over."""
    from dataclasses import replace

    from waves import dispatcher

    outbox_with(session, 5, now=datetime.now(UTC))
    config = replace(CONFIG, claim_timeout=timedelta(seconds=1))
    composing = dispatcher._Composer.batch

    def slowly(self, session_, rows, now):  # a busy machine
        time.sleep(1.3)
        return composing(self, session_, rows, now)

    monkeypatch.setattr(dispatcher._Composer, "batch", slowly)
    composer = dispatcher._Composer(privacy_for_tests(), config)
    mine, stamped = dispatcher._next_batch(engine, composer, "tick|a", datetime.now(UTC), config, 50)
    assert len(mine) == 5 and time.monotonic() - stamped < 0.5
    with Session(engine) as other:
        taken = dispatcher._claim(other, "tick|b", datetime.now(UTC), config, 50)
        other.commit()
    assert taken == []


def test_claims_of_a_dispatcher_elsewhere_are_taken_over_only_when_their_lease_runs_out(
    engine, session: Session, smtp_server
) -> None:
    outbox_with(session, 5)
    now = datetime.now(UTC)
    for row in session.exec(select(OutboxMessage)):  # held by a dispatcher on another machine
        row.status, row.claimed_by, row.claimed_at = "sending", "tick|other-host|pid:[1]|4242", now
        session.add(row)
    session.commit()
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    privacy = privacy_for_tests()
    alive = dispatch(engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW)
    assert alive.sent == 0, "a live lease is respected"
    for row in session.exec(select(OutboxMessage)):
        row.claimed_at = now - CONFIG.claim_timeout - timedelta(seconds=1)
        session.add(row)
    session.commit()
    expired = dispatch(engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW)
    transport.close()
    assert expired.sent == 5 and len(smtp_server.handler_obj.raw) == 5


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


class _StoppedAfter(SmtpTransport):
    """A real connection to ``server``, which is stopped just before message ``after`` + 1 goes out."""

    def __init__(self, server, after: int) -> None:
        super().__init__(host="127.0.0.1", port=server.port)
        self.server, self.after, self.attempts = server, after, 0

    def send(self, message) -> None:
        self.attempts += 1
        if self.attempts == self.after + 1:
            self.server.stop()
        super().send(message)


def test_a_server_that_goes_away_mid_run_leaves_nothing_claimed_and_the_rest_goes_out_later(
    engine, session: Session, smtp_server
) -> None:
    """The next batch is claimed while one is being sent: when the server goes away, both go back in line, and
    the next run (here to the server on its new address) sends the rest, each once."""
    outbox_with(session, 120)
    privacy = privacy_for_tests()
    with running_smtp_server() as going_away:
        transport = _StoppedAfter(going_away, after=30)
        first = dispatch(engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW)
        transport.close()
    assert first.stopped_early == SERVER_DOWN
    assert (first.sent, first.retried) == (30, 1)
    rows = session.exec(select(OutboxMessage)).all()
    assert [row.status for row in rows].count("sending") == 0, "no row stays claimed"
    assert sorted((row.status, row.attempts) for row in rows if row.status != "sent") == [("pending", 0)] * 89 + [
        ("pending", 1)
    ]
    back = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    later = dispatch(
        engine=engine, privacy=privacy, transport=back, config=CONFIG, worker="b", now=NOW + timedelta(minutes=2)
    )
    back.close()
    assert later.sent == 90
    counts = going_away.handler_obj.by_message_id() | smtp_server.handler_obj.by_message_id()
    assert len(counts) == 120
    assert set(going_away.handler_obj.by_message_id()).isdisjoint(smtp_server.handler_obj.by_message_id())


def test_a_run_that_cannot_renew_its_claim_stops_and_another_takes_over_the_rest(
    engine, session: Session, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the lease cannot be renewed (the heartbeat's database is away) the run sends nothing more; the rows it
    claimed stay claimed until the lease runs out, and then another dispatcher sends them, each once."""
    outbox_with(session, 120)
    renewed = Heartbeat.holds
    checks = {"n": 0}

    def holds(self: Heartbeat) -> bool:
        checks["n"] += 1
        return checks["n"] <= 20 and renewed(self)

    monkeypatch.setattr(Heartbeat, "holds", holds)
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    privacy = privacy_for_tests()
    first = dispatch(engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="a", now=NOW)
    assert first.stopped_early == LEASE_LOST and first.sent == 20
    monkeypatch.setattr(Heartbeat, "holds", renewed)
    session.expire_all()
    claimed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending")).all()
    assert len(claimed) == 2 * CONFIG.batch - 20, "the rest of both claimed batches waits for the lease"
    for row in claimed:  # the lease ran out
        row.claimed_at = datetime.now(UTC) - CONFIG.claim_timeout - timedelta(seconds=1)
        row.claimed_by = "tick|other-host|pid:[1]|4242"
        session.add(row)
    session.commit()
    later = dispatch(engine=engine, privacy=privacy, transport=transport, config=CONFIG, worker="b", now=NOW)
    transport.close()
    assert later.sent == 100
    counts = smtp_server.handler_obj.by_message_id()
    assert len(counts) == 120 and max(counts.values()) == 1


def test_a_limited_run_claims_no_more_than_it_may_send(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 120)
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    report = dispatch(
        engine=engine,
        privacy=privacy_for_tests(),
        transport=transport,
        config=CONFIG,
        worker="a",
        now=NOW,
        max_messages=70,
    )
    transport.close()
    assert report.sent == 70 and len(smtp_server.handler_obj.by_message_id()) == 70
    statuses = [row.status for row in session.exec(select(OutboxMessage))]
    assert (statuses.count("sent"), statuses.count("pending"), statuses.count("sending")) == (70, 50, 0)


def test_a_tick_with_a_large_backlog_sends_from_helper_processes_each_message_once(
    database: Database, session: Session, smtp_server
) -> None:
    """DISPATCH_PROCESSES=2: the tick starts a helper dispatcher process beside its own once planning finds at
    least HELPER_BACKLOG messages due; both send, every message arrives once, and the tick reports both."""
    n = HELPER_BACKLOG + 1000
    outbox_with(session, n, now=datetime.now(UTC))
    # a server taking 3 ms a message keeps the tick's own dispatcher busy for seconds: on a fast machine it
    # had sent all 3,000 before the helper process (about a second to start) claimed its first batch
    smtp_server.handler_obj.delay = 0.003
    tick = dispatcher_process(database, smtp_server.port, command="tick", env={"DISPATCH_PROCESSES": "2"})
    output, _ = tick.communicate(timeout=600)
    assert tick.returncode == 0, output
    own = int(re.search(r"^sent (\d+),", output, re.MULTILINE).group(1))
    helped = re.search(r"^1 helper dispatcher processes: sent (\d+),", output, re.MULTILINE)
    assert helped is not None, output
    assert int(helped.group(1)) > 0 and own > 0, output
    assert own + int(helped.group(1)) == n
    counts = smtp_server.handler_obj.by_message_id()
    assert len(counts) == n and max(counts.values()) == 1
    session.expire_all()
    assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}


def test_a_tick_with_a_small_backlog_sends_alone(database: Database, session: Session, smtp_server) -> None:
    outbox_with(session, 40, now=datetime.now(UTC))
    tick = dispatcher_process(database, smtp_server.port, command="tick", env={"DISPATCH_PROCESSES": "4"})
    output, _ = tick.communicate(timeout=300)
    assert tick.returncode == 0, output
    assert "sent 40," in output and "helper" not in output


def test_a_helper_that_fails_is_reported_and_the_rest_of_its_work_goes_on() -> None:
    report = HelperReport()
    _add_up(report, 0, 'starting\n{"sent": 5, "retried": 1, "failed": 0, "cancelled": 0, "stopped_early": ""}\n')
    _add_up(report, 1, "Traceback (most recent call last):\n  ...\nOperationalError: the database is away\n")
    assert (report.sent, report.retried) == (5, 1)
    assert len(report.problems) == 1 and "code 1" in report.problems[0] and "database is away" in report.problems[0]

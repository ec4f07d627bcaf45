"""Benchmark: plan and deliver invitations to a local SMTP server in its own process, beside a bare
smtplib client sending the same number of ready-made messages of the same size to that server.

    .venv/bin/python bench/dispatch.py [--quick] [--messages N] [--postgres URL]

Then kills a dispatcher process with SIGKILL a quarter of the way through and restarts it: how soon the
dead one's claimed rows go out, how soon everything is out, and how many messages arrived twice.

Prints a table, then as its last line one JSON object: messages_per_s, bare_client_per_s, ratio,
lost, duplicates (plus sizes and timings, and crash_takeover_seconds, crash_recovery_seconds,
crash_lost, crash_repeats).
"""

from __future__ import annotations

import argparse
import json
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _study import bench_study, enrol_participants, open_wave  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import studyapp.core.models  # noqa: E402, F401
from studyapp.core.db import make_engine  # noqa: E402
from studyapp.core.privacy import Privacy  # noqa: E402
from studyapp.settings import DEV_IDENTITY_KEY, DEV_PSEUDONYM_KEY  # noqa: E402
from waves.dispatcher import DispatchConfig, dispatch  # noqa: E402
from waves.planner import plan_due  # noqa: E402
from waves.transport import SmtpTransport  # noqa: E402

SENDER = "Bridge the Gap <btg@study.example.org>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(folder: Path) -> tuple[subprocess.Popen, int, Path]:
    port, result = free_port(), folder / f"sink-{time.monotonic_ns()}.json"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_smtp_sink.py"), str(port), str(result)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process, port, result


def stop_sink(process: subprocess.Popen, result: Path) -> dict[str, int]:
    process.terminate()
    process.wait(timeout=60)
    if process.stdout is not None:
        process.stdout.close()
    return json.loads(result.read_text())


def arrange(engine, n: int, now: datetime, privacy: Privacy) -> None:
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        instrument, study, cohort = bench_study(session)
        open_wave(session, cohort, instrument, "T1", now)
        enrol_participants(session, privacy, study, cohort, n)
        session.commit()


def run_framework(database_url: str, n: int, folder: Path, connections: int = 1) -> dict:
    privacy = Privacy(pseudonym_key=DEV_PSEUDONYM_KEY, identity_keys=DEV_IDENTITY_KEY)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    arrange(engine, n, now, privacy)
    sink, port, result = start_sink(folder)
    try:
        transport = SmtpTransport(host="127.0.0.1", port=port)
        extra = [SmtpTransport(host="127.0.0.1", port=port) for _ in range(connections - 1)]
        config = DispatchConfig(base_url="https://study.example.org", sender=SENDER)
        started = time.perf_counter()
        with Session(engine) as session:
            planned = plan_due(session=session, now=now).invitations
        planned_at = time.perf_counter()
        report = dispatch(
            engine=engine,
            privacy=privacy,
            transport=transport,
            config=config,
            worker="bench",
            now=lambda: datetime.now(UTC),
            extra_transports=extra,
        )
        finished = time.perf_counter()
        for connection in (transport, *extra):
            connection.close()
    finally:
        counts = stop_sink(sink, result)
    with Session(engine) as session:
        sizes = session.execute(text("SELECT count(*) FROM outbox_message WHERE status = 'sent'")).scalar()
    engine.dispose()
    return {
        "planned": planned,
        "sent": report.sent,
        "sent_rows": sizes,
        "counts": counts,
        "plan_seconds": planned_at - started,
        "send_seconds": finished - planned_at,
        "seconds": finished - started,
    }


def _count(engine, where: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM outbox_message WHERE {where}")).scalar()


def run_crash(database_url: str, n: int, folder: Path) -> dict:
    """SIGKILL ``studyapp fieldwork dispatch`` a quarter of the way through, then start it again.

    Measures how long the killed dispatcher's claimed rows wait after the restart (``takeover_seconds``:
    until every one of them is sent) and how long until everything is out (``recovery_seconds``).
    """
    import os
    import signal

    privacy = Privacy(pseudonym_key=DEV_PSEUDONYM_KEY, identity_keys=DEV_IDENTITY_KEY)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    arrange(engine, n, now, privacy)
    with Session(engine) as session:
        plan_due(session=session, now=now)
    sink, port, result = start_sink(folder)
    env = {**os.environ, "DATABASE_URL": database_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}
    env.update(SCHEDULER_ENABLED="false", BASE_URL="https://study.example.org", MAIL_FROM=SENDER)
    env.pop("STUDYAPP_ENV", None)
    command = [sys.executable, "-m", "studyapp.main", "fieldwork", "dispatch"]
    try:
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        while _count(engine, "status = 'sent'") < n // 4 + 17 and first.poll() is None:  # mid-batch
            time.sleep(0.01)
        if first.poll() is not None:
            raise RuntimeError(f"the dispatcher ended before it was killed: {first.communicate()[0]}")
        first.send_signal(signal.SIGKILL)
        first.communicate()
        with engine.connect() as connection:
            orphans = [
                row[0] for row in connection.execute(text("SELECT id FROM outbox_message WHERE status = 'sending'"))
            ]
        restarted = time.perf_counter()
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        takeover = None
        listed = ", ".join(str(i) for i in orphans) or "0"
        while second.poll() is None or takeover is None:
            if takeover is None and _count(engine, f"status = 'sent' AND id IN ({listed})") == len(orphans):
                takeover = time.perf_counter() - restarted
            if second.poll() is not None and takeover is None:
                takeover = float("nan")
            time.sleep(0.01)
        recovery = time.perf_counter() - restarted
    finally:
        counts = stop_sink(sink, result)
    engine.dispose()
    return {
        "claimed_at_kill": len(orphans),
        "takeover_seconds": takeover,
        "recovery_seconds": recovery,
        "lost": n - len(counts),
        "repeats": sum(c - 1 for c in counts.values()),
    }


def sample_message_bytes(database_url: str) -> bytes:
    """One of the framework's messages as sent, to size the bare client's messages alike."""
    from waves.messages import build_email, default_template, render

    context = {
        "name": "Participant 1",
        "title": "",
        "study": "Bridge the Gap",
        "wave": "T1",
        "closes_on": "28 december 2026",
        "link": "https://study.example.org/p/" + "x" * 32,
        "stop_link": "https://study.example.org/p/" + "x" * 32 + "/privacy",
    }
    message = build_email(
        rendered=render(*default_template("invitation", "nl"), context, language="nl"),
        sender=SENDER,
        recipient="participant00001@example.org",
        recipient_name="Participant 1",
        message_id="<0@study.example.org>",
        unsubscribe_url="https://study.example.org/p/x/unsubscribe",
        date=datetime.now(UTC),
    )
    return message.raw


def run_bare(n: int, template: bytes, folder: Path) -> dict:
    messages = [template.replace(b"<0@study.example.org>", f"<{i}@study.example.org>".encode()) for i in range(n)]
    sink, port, result = start_sink(folder)
    try:
        client = smtplib.SMTP("127.0.0.1", port)
        started = time.perf_counter()
        for i, raw in enumerate(messages):
            client.sendmail("btg@study.example.org", [f"participant{i:05d}@example.org"], raw)
        elapsed = time.perf_counter() - started
        client.quit()
    finally:
        counts = stop_sink(sink, result)
    return {"seconds": elapsed, "received": sum(counts.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 messages instead of 10,000")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to run against instead of SQLite")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections of the framework run")
    parser.add_argument(
        "--framework-only",
        action="store_true",
        help="skip the one-connection run and the SIGKILL run (their figures are then left out)",
    )
    args = parser.parse_args()
    n = args.messages or (2000 if args.quick else 10000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.postgres:
            engine = make_engine(args.postgres)
            SQLModel.metadata.drop_all(engine)
            engine.dispose()
            url = args.postgres
        else:
            url = f"sqlite:///{folder / 'bench.db'}"
        template = sample_message_bytes(url)
        bare = run_bare(n, template, folder)
        framework = run_framework(url, n, folder, connections=args.connections)
        single = crash = None
        if not args.framework_only:
            url = _fresh(args.postgres, folder, "bench-single.db")
            single = run_framework(url, n, folder, connections=1)
            url = _fresh(args.postgres, folder, "bench-crash.db")
            crash = run_crash(url, n, folder)
        _fresh(args.postgres, folder, "")
    report(args, n, template, bare, framework, single, crash)


def _fresh(postgres: str | None, folder: Path, name: str) -> str:
    """An empty database: PostgreSQL's tables dropped, or a new SQLite file."""
    if postgres:
        engine = make_engine(postgres)
        SQLModel.metadata.drop_all(engine)
        engine.dispose()
        return postgres
    return f"sqlite:///{folder / name}"


def report(args: argparse.Namespace, n: int, template: bytes, bare: dict, framework: dict, single, crash) -> None:
    """Print the table and, as the last line, the JSON object."""
    runs = [framework] if single is None else [framework, single]
    lost = sum(n - len(run["counts"]) for run in runs)
    duplicates = sum(c - 1 for run in runs for c in run["counts"].values())
    rate = n / framework["seconds"]
    bare_rate = n / bare["seconds"]
    print(f"{'':34}{'messages':>10}{'seconds':>10}{'per s':>10}")
    label = f"framework, {args.connections} connections"
    print(f"{label:34}{framework['sent']:>10}{framework['seconds']:>10.2f}{rate:>10.0f}")
    if single is not None:
        single_rate = n / single["seconds"]
        print(f"{'framework, 1 connection':34}{single['sent']:>10}{single['seconds']:>10.2f}{single_rate:>10.0f}")
    print(f"{'  of which planning':34}{framework['planned']:>10}{framework['plan_seconds']:>10.2f}")
    print(f"{'bare smtplib client, 1 connection':34}{bare['received']:>10}{bare['seconds']:>10.2f}{bare_rate:>10.0f}")
    print(
        f"ratio {rate / bare_rate:.2f}; lost {lost}; duplicates {duplicates}; "
        f"message size {len(template)} bytes; database {'PostgreSQL' if args.postgres else 'SQLite'}"
    )
    figures = {
        "messages_per_s": round(rate, 1),
        "bare_client_per_s": round(bare_rate, 1),
        "ratio": round(rate / bare_rate, 3),
        "connections": args.connections,
        "lost": lost,
        "duplicates": duplicates,
        "messages": n,
        "plan_seconds": round(framework["plan_seconds"], 2),
        "send_seconds": round(framework["send_seconds"], 2),
        "message_bytes": len(template),
        "database": "postgresql" if args.postgres else "sqlite",
    }
    if single is not None:
        figures["messages_per_s_one_connection"] = round(single_rate, 1)
        figures["ratio_one_connection"] = round(single_rate / bare_rate, 3)
    if crash is not None:
        print(
            f"SIGKILL a quarter through: {crash['claimed_at_kill']} claimed rows taken over and sent "
            f"{crash['takeover_seconds']:.1f} s after the restart, all sent after {crash['recovery_seconds']:.1f} s; "
            f"lost {crash['lost']}, repeats {crash['repeats']}"
        )
        figures.update(
            crash_takeover_seconds=round(crash["takeover_seconds"], 2),
            crash_recovery_seconds=round(crash["recovery_seconds"], 2),
            crash_lost=crash["lost"],
            crash_repeats=crash["repeats"],
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Benchmark: questionnaire page saves under load. Simulated participants (one thread and one keep-alive
connection each) walk through the Carrière Kompas at the same time against gunicorn: per page one or two
autosaves with part of the answers, then the page post with all of them, and finally the submit. Runs on
SQLite (WAL) and on PostgreSQL (skipped with a note when the server cannot be reached), then checks that
every answer sent on a final page post is stored with the value sent and that every response is submitted.

    .venv/bin/python bench/save_load.py [--quick] [--participants N] [--rounds R] [--workers W] [--threads T]
                                        [--postgres URL] [--no-postgres] [--think-ms MS] [--[no-]saturation]

Participants pause before each request as a person does (0.5-1.5 s, mean --think-ms 1000; --quick 600 ms),
so 100 of them still offer about 80 saves a second, far more than a real wave. The latency figures and
the target are for that load. A second, saturation phase (no pauses at all: every participant posts the
moment the previous reply arrives) finds the capacity; its latencies are queueing time, reported apart.

A round is one walk by every participant (each round has its own wave, so its own invitations);
--quick runs one round without the saturation phase, the default three rounds and the saturation phase.
Prints a table per backend, then as its last line one JSON object: p50_ms, p95_ms, p99_ms (worst of the
backends), errors and lost_answers (summed over backends and phases), the same per backend
(sqlite_p95_ms, postgres_p95_ms, ...), saturation_* figures, requests, participants, whether the target
was met.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _study import bench_study, enrol_participants, open_wave  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

import studyapp.core.models  # noqa: E402, F401
from studyapp.core.db import make_engine  # noqa: E402
from studyapp.core.links import issue_token  # noqa: E402
from studyapp.core.models import Invitation  # noqa: E402
from studyapp.core.privacy import Privacy  # noqa: E402
from studyapp.instruments.loader import bundled_definitions, parse_definition  # noqa: E402
from studyapp.instruments.schema import InstrumentDef, ItemDef  # noqa: E402
from studyapp.settings import DEV_IDENTITY_KEY, DEV_PSEUDONYM_KEY  # noqa: E402

try:
    from studyapp.core.migrate import upgrade as migrate_upgrade
except ImportError:  # pragma: no cover - older trees without Alembic
    migrate_upgrade = None

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_P95_MS = 150.0
REDIRECTS = (302, 303)


# ---------------------------------------------------------------------------------------------------------------
# Answers


def _value(definition: InstrumentDef, item: ItemDef, rng: random.Random) -> int | str:
    """A valid answer to one item; prof_title avoids 'other' and work_status keeps the work page shown."""
    if item.code == "prof_title":
        return rng.randint(1, 3)
    if item.code == "work_status":
        return rng.randint(1, 2)
    if item.type == "scale":
        scale = definition.response_scales[item.scale]
        return rng.randint(scale.min, scale.max)
    if item.type == "choice":
        return rng.choice([o.value for o in item.options or []])
    if item.type == "number":
        return rng.randint(item.min if item.min is not None else 0, item.max if item.max is not None else 100)
    return f"antwoord {rng.randint(1, 10_000)} é"[: item.max_length or 5000]


def _shown(condition, answers: dict) -> bool:
    return condition is None or answers.get(condition.item) in condition.any_of


@dataclass
class Step:
    """One request of a walk: method path, form fields and what it should return."""

    kind: str  # autosave | page | submit
    path: str
    form: dict[str, str]
    expect_location: str = ""


def plan_walk(definition: InstrumentDef, token: str, rng: random.Random) -> tuple[list[Step], dict[str, int | str]]:
    """The requests of one participant's walk, and the answers their final page posts leave stored."""
    answers: dict[str, int | str] = {}
    steps: list[Step] = []
    visible = []
    for section in definition.sections:
        if not _shown(section.show_if, answers):
            continue
        final = {}
        for item in section.items:
            if _shown(item.show_if, {**answers, **final}):
                final[item.code] = _value(definition, item, rng)
        answers.update(final)
        visible.append((section, final))
    for position, (section, final) in enumerate(visible):
        base = f"/p/{token}/s/{section.code}"
        codes = list(final)
        for autosave in range(rng.randint(1, 2)):
            part = rng.sample(codes, max(1, len(codes) // 2))
            form = {}
            for code in part:
                # The first autosave may carry an earlier value, so the page post has to overwrite it.
                item = next(i for i in section.items if i.code == code)
                value = _value(definition, item, rng) if autosave == 0 and rng.random() < 0.5 else final[code]
                form[code] = str(value)
            steps.append(Step("autosave", base + "/autosave", form))
        after = visible[position + 1][0].code if position + 1 < len(visible) else None
        expect = f"/p/{token}/s/{after}" if after else f"/p/{token}/review"
        steps.append(Step("page", base, {**{c: str(v) for c, v in final.items()}, "action": "next"}, expect))
    steps.append(Step("submit", f"/p/{token}/submit", {}, f"/p/{token}/feedback"))
    return steps, answers


# ---------------------------------------------------------------------------------------------------------------
# Arranging the database


def arrange(engine: Engine, n: int, rounds: int) -> list[list[tuple[int, str]]]:
    """Schema, instrument, study, cohort, a wave per round, n participants, an invitation and token each.

    Returns per round a list of (invitation id, token).
    """
    if migrate_upgrade is not None:
        migrate_upgrade(engine)
    else:  # pragma: no cover
        from sqlmodel import SQLModel

        SQLModel.metadata.create_all(engine)
    privacy = Privacy(pseudonym_key=DEV_PSEUDONYM_KEY, identity_keys=DEV_IDENTITY_KEY)
    now = datetime.now(UTC)
    links: list[list[tuple[int, str]]] = []
    with Session(engine, expire_on_commit=False) as session:
        instrument, study, cohort = bench_study(session)
        waves = [open_wave(session, cohort, instrument, f"T{r + 1}", now) for r in range(rounds)]
        participants = enrol_participants(session, privacy, study, cohort, n)
        session.flush()
        for wave in waves:
            row = []
            for participant in participants:
                invitation = Invitation(
                    participant_id=participant.id,  # type: ignore[arg-type]
                    wave_id=wave.id,  # type: ignore[arg-type]
                    state="sent",
                    sent_at=now,
                    closes_at=now + timedelta(days=30),
                )
                session.add(invitation)
                session.flush()
                row.append((invitation.id, issue_token(session=session, invitation=invitation)))
            links.append(row)
        session.commit()
    return links


def stored(engine: Engine, invitation_ids: list[int]) -> tuple[dict[int, dict[str, object]], dict[int, bool]]:
    """Answers by invitation and item code, and whether each invitation's response is submitted."""
    answers: dict[int, dict[str, object]] = {i: {} for i in invitation_ids}
    submitted: dict[int, bool] = dict.fromkeys(invitation_ids, False)
    wanted = set(invitation_ids)
    with engine.connect() as connection:
        for invitation_id, done in connection.execute(text("SELECT invitation_id, submitted_at FROM response")):
            if invitation_id in wanted:
                submitted[invitation_id] = done is not None
        rows = connection.execute(
            text(
                "SELECT r.invitation_id, i.code, a.value_number, a.value_text FROM answer a "
                "JOIN response r ON r.id = a.response_id JOIN item i ON i.id = a.item_id"
            )
        )
        for invitation_id, code, number, value_text in rows:
            if invitation_id in wanted:
                answers[invitation_id][code] = number if number is not None else value_text
    return answers, submitted


# ---------------------------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(database_url: str, workers: int, threads: int, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SCHEDULER_ENABLED": "false",
        "RATELIMIT_ENABLED": "false",  # every simulated participant comes from 127.0.0.1
        "STUDYAPP_ENV": "development",
        "STUDYAPP_INSTANCE": str(log.parent / "instance"),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "studyapp.app:create_app()", "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(workers), "--threads", str(threads), "-k", "gthread", "--error-logfile", str(log)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/p/not-a-token")
            connection.getresponse().read()
            connection.close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError("gunicorn did not answer within 60 s") from None
            time.sleep(0.2)
    return process, port


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------------------------
# The client


@dataclass
class Outcome:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"autosave": [], "page": [], "submit": []})
    errors: list[str] = field(default_factory=list)
    retries: int = 0


HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "keep-alive"}


def _send(connection: http.client.HTTPConnection, step: Step) -> tuple[int, str, bytes]:
    connection.request("POST", step.path, body=urlencode(step.form), headers=HEADERS)
    response = connection.getresponse()
    body = response.read()
    return response.status, response.getheader("Location", ""), body


def walk(port: int, steps: list[Step], think: float, start: threading.Barrier) -> Outcome:
    """One participant: every step in order on one keep-alive connection; latencies and errors."""
    outcome = Outcome()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start.wait()
    rng = random.Random()
    for step in steps:
        if think:
            time.sleep(think * rng.uniform(0.5, 1.5))  # jittered, so the participants drift out of step
        began = time.perf_counter()
        try:
            try:
                status, location, body = _send(connection, step)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection before reading the request; a browser
                # resends on a new connection. Counted, and timed from the first attempt.
                outcome.retries += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status, location, body = _send(connection, step)
        except Exception as error:  # every failure is a counted error
            outcome.errors.append(f"{step.kind} {type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            continue
        outcome.latencies[step.kind].append((time.perf_counter() - began) * 1000)
        problem = _check(step, status, location, body)
        if problem:
            outcome.errors.append(f"{step.kind} {step.path.split('/', 3)[-1]}: {problem}")
    connection.close()
    return outcome


def _check(step: Step, status: int, location: str, body: bytes) -> str:
    if step.kind == "autosave":
        if status != 200:
            return f"status {status}: {body[:200]!r}"
        data = json.loads(body)
        if data.get("saved") != len(step.form) or data.get("problems"):
            return f"unexpected reply {data}"
        return ""
    if status not in REDIRECTS:
        return f"status {status}"
    if urlsplit(location).path != step.expect_location:
        return f"redirected to {urlsplit(location).path}, expected {step.expect_location}"
    return ""


# ---------------------------------------------------------------------------------------------------------------
# One backend


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def summary(values: list[float], seconds: float) -> dict:
    return {
        "requests": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values, default=0.0), 1),
        "per_s": round(len(values) / seconds, 1) if seconds else 0.0,
    }


def run_backend(name: str, url: str, engine: Engine, args, folder: Path) -> dict:
    definition = parse_definition(bundled_definitions()[0].read_text(encoding="utf-8"), "bench")
    started = time.perf_counter()
    links = arrange(engine, args.participants, args.rounds)
    arranged = time.perf_counter() - started
    log = folder / f"gunicorn-{name}.log"
    process, port = start_gunicorn(url, args.workers, args.threads, log)
    outcomes: list[Outcome] = []
    expected: dict[int, dict[str, int | str]] = {}
    seconds = 0.0
    try:
        for r, row in enumerate(links):
            rng = random.Random(1000 * r + 7)
            walks = []
            for invitation_id, token in row:
                steps, answers = plan_walk(definition, token, rng)
                walks.append(steps)
                expected[invitation_id] = answers
            barrier = threading.Barrier(len(walks))
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(walks)) as pool:
                futures = [pool.submit(walk, port, steps, args.think_ms / 1000, barrier) for steps in walks]
                outcomes += [f.result() for f in futures]
            seconds += time.perf_counter() - began
    finally:
        stop_gunicorn(process)
    found, submitted = stored(engine, list(expected))
    lost = 0
    mismatched = 0
    for invitation_id, answers in expected.items():
        have = found[invitation_id]
        for code, value in answers.items():
            if code not in have:
                lost += 1
            elif have[code] != value:
                mismatched += 1
    unsubmitted = sum(1 for done in submitted.values() if not done)
    extra = sum(len(set(found[i]) - set(expected[i])) for i in expected)
    latencies = {kind: [v for o in outcomes for v in o.latencies[kind]] for kind in ("autosave", "page", "submit")}
    errors = [e for o in outcomes for e in o.errors]
    log_text = log.read_text(errors="replace") if log.exists() else ""
    return {
        "name": name,
        "arrange_seconds": arranged,
        "seconds": seconds,
        "save": summary(latencies["autosave"] + latencies["page"], seconds),
        "autosave": summary(latencies["autosave"], seconds),
        "page": summary(latencies["page"], seconds),
        "submit": summary(latencies["submit"], seconds),
        "all_requests": sum(len(v) for v in latencies.values()) + len(errors),
        "errors": errors,
        "retries": sum(o.retries for o in outcomes),
        "expected_answers": sum(len(a) for a in expected.values()),
        "missing_answers": lost,
        "mismatched_answers": mismatched,
        "extra_answers": extra,
        "lost_answers": lost + mismatched,
        "unsubmitted": unsubmitted,
        "server_tracebacks": log_text.count("Traceback"),
        "log_tail": log_text[-2500:],
    }


def postgres_schema(url: str) -> tuple[str, Engine] | None:
    """A fresh schema on the server, or None (with a note) when the server cannot be reached."""
    schema = f"bench_save_load_{os.getpid()}"
    admin = make_engine(url, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # any failure means: skip PostgreSQL
        print(f"PostgreSQL at {url} is not reachable ({type(error).__name__}); skipping it.")
        return None
    finally:
        admin.dispose()
    return schema, make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def drop_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


# ---------------------------------------------------------------------------------------------------------------
# Report


def print_table(result: dict, args) -> None:
    print(
        f"\n{result['name']}: {args.participants} participants x {args.rounds} round(s), gunicorn "
        f"{args.workers} workers x {args.threads} threads, {result['seconds']:.1f} s of load "
        f"(arranging took {result['arrange_seconds']:.1f} s)"
    )
    print(f"{'':14}{'requests':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'req/s':>9}")
    rows = (("page save", "save"), ("  autosave", "autosave"), ("  page post", "page"), ("submit", "submit"))
    for label, key in rows:
        s = result[key]
        print(
            f"{label:14}{s['requests']:>10}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"{s['max_ms']:>9.1f}{s['per_s']:>9.1f}"
        )
    print(
        f"errors {len(result['errors'])}; lost answers {result['lost_answers']} "
        f"(missing {result['missing_answers']}, wrong value {result['mismatched_answers']} of "
        f"{result['expected_answers']}); extra answers {result['extra_answers']}; "
        f"responses not submitted {result['unsubmitted']}; reconnects {result['retries']}; "
        f"server tracebacks {result['server_tracebacks']}"
    )
    if result["errors"]:
        kinds: dict[str, int] = {}
        for error in result["errors"]:
            key = error.split(":", 1)[0] + ":" + error.split(":", 1)[-1][:90]
            kinds[key] = kinds.get(key, 0) + 1
        for key, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {count:>5} x {key}")
    if result["server_tracebacks"]:
        print("  server log tail:\n    " + result["log_tail"].replace("\n", "\n    "))


def run_all(args: argparse.Namespace) -> list[dict]:
    """The walk against SQLite, then (unless left out or unreachable) PostgreSQL."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-save-load-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        try:
            results.append(run_backend("sqlite", url, engine, args, folder))
        finally:
            engine.dispose()
        print_table(results[-1], args)
        if not args.no_postgres:
            made = postgres_schema(args.postgres)
            if made is not None:
                schema, engine = made
                separator = "&" if "?" in args.postgres else "?"
                pg_url = f"{args.postgres}{separator}options=-csearch_path%3D{schema}"
                try:
                    results.append(run_backend("postgres", pg_url, engine, args, folder))
                finally:
                    engine.dispose()
                    drop_schema(args.postgres, schema)
                print_table(results[-1], args)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round instead of three")
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=None, help="walks per participant (default 3, quick 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL URL (a fresh schema is used)")
    parser.add_argument("--no-postgres", action="store_true", help="run on SQLite only")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=None,
        help="mean pause before each request, +-50%% (default 1000: a person tapping; quick 600)",
    )
    parser.add_argument(
        "--saturation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run without pauses to measure capacity (default: on, off with --quick)",
    )
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.think_ms is None:
        args.think_ms = 600.0 if args.quick else 1000.0
    began = time.perf_counter()
    results = run_all(args)
    saturation = []
    if args.saturation if args.saturation is not None else not args.quick:
        print("\nSaturation: the same walk with no pause between requests (one round), to find the capacity")
        saturation = run_all(argparse.Namespace(**{**vars(args), "think_ms": 0.0, "rounds": 1}))
    figures: dict[str, object] = {
        "p50_ms": max(r["save"]["p50_ms"] for r in results),
        "p95_ms": max(r["save"]["p95_ms"] for r in results),
        "p99_ms": max(r["save"]["p99_ms"] for r in results),
        "errors": sum(len(r["errors"]) for r in results),
        "lost_answers": sum(r["lost_answers"] for r in results),
    }
    figures["errors"] += sum(len(r["errors"]) for r in saturation)  # type: ignore[operator]
    figures["lost_answers"] += sum(r["lost_answers"] for r in saturation)  # type: ignore[operator]
    met = figures["p95_ms"] < TARGET_P95_MS and figures["errors"] == 0 and figures["lost_answers"] == 0
    for r in results:
        n = r["name"]
        figures |= {f"{n}_{k}": r["save"][k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")}
        figures |= {
            f"{n}_errors": len(r["errors"]),
            f"{n}_lost_answers": r["lost_answers"],
            f"{n}_unsubmitted": r["unsubmitted"],
            f"{n}_saves_per_s": r["save"]["per_s"],
            f"{n}_requests": r["all_requests"],
            f"{n}_autosave_p95_ms": r["autosave"]["p95_ms"],
            f"{n}_page_p95_ms": r["page"]["p95_ms"],
            f"{n}_submit_p95_ms": r["submit"]["p95_ms"],
            f"{n}_reconnects": r["retries"],
            f"{n}_seconds": round(r["seconds"], 1),
        }
    total = time.perf_counter() - began
    print(
        f"\ntarget p95 < {TARGET_P95_MS:.0f} ms, 0 errors, 0 lost answers: {'met' if met else 'NOT met'} "
        f"(p95 {figures['p95_ms']} ms, errors {figures['errors']}, lost {figures['lost_answers']}); "
        f"backends {', '.join(r['name'] for r in results)}; total {total:.1f} s"
    )
    figures |= {
        "requests": sum(r["all_requests"] for r in results),
        "saves": sum(r["save"]["requests"] for r in results),
        "participants": args.participants,
        "rounds": args.rounds,
        "workers": args.workers,
        "threads": args.threads,
        "think_ms": args.think_ms,
        "backends": [r["name"] for r in results],
        "target_p95_ms": TARGET_P95_MS,
        "target_met": met,
        "total_seconds": round(total, 1),
    }
    for r in saturation:
        n = r["name"]
        figures |= {
            f"saturation_{n}_p50_ms": r["save"]["p50_ms"],
            f"saturation_{n}_p95_ms": r["save"]["p95_ms"],
            f"saturation_{n}_saves_per_s": r["save"]["per_s"],
            f"saturation_{n}_errors": len(r["errors"]),
            f"saturation_{n}_lost_answers": r["lost_answers"],
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

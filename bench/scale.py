"""Benchmark: every step of a study run at N participants and at N/10, on PostgreSQL, through the real entry points.

    .venv/bin/python bench/scale.py [--quick] [--sizes 10000,100000] [--postgres URL]

For each size the benchmark makes a fresh schema (``studyapp db upgrade``), a study with one cohort and one
open wave of the Carrière Kompas, and then times, each as its own process where it is one in production:

- ``import``: ``studyapp participants import`` of a CSV list of N people;
- ``tick``: ``studyapp fieldwork tick`` planning and sending N invitations to a local SMTP sink in its own
  process (``DISPATCH_PROCESSES=2``, one per core, with 2 SMTP connections each: 4 in all), beside a bare
  ``smtplib`` client sending messages of the same size to the same kind of sink (as ``bench/dispatch.py`` measures it);
- then it bulk-loads a submitted response from everyone with simulated answers (about 140 each,
  ``analysis.synthetic``; with COPY, not timed as a step);
- ``dashboard``: the fieldwork page, and ``list_last_page``: the participant list's last page, through the
  web app (the median of 5 requests after one warm-up);
- ``export``: ``studyapp export`` of every format; ``analyze``: ``studyapp analyze run`` (K 1-4, VVI,
  5 starts); ``backup``: ``studyapp backup``, beside ``pg_dump`` alone — each with its peak memory.

``--quick`` runs N = 2,000 and 20,000; the full run 10,000 and 100,000. Prints a table, then as its last
line one JSON object: n, import_s, tick_s, messages_per_s, bare_client_per_s, dashboard_ms,
list_last_page_ms, export_s, export_peak_mb, analyze_s, analyze_peak_mb, backup_s, pg_dump_s,
backup_beyond_pg_dump_s (all at the larger N), growth (the largest ratio of a step's time at N to its time
at N/10) and growth_by_step, and the same figures at the smaller N under "smaller".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _study import bench_study, open_wave  # noqa: E402
from dispatch import run_bare, sample_message_bytes, start_sink, stop_sink  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from analysis.synthetic import simulate_cohort  # noqa: E402
from studyapp.core.db import make_engine  # noqa: E402
from studyapp.core.models import Item  # noqa: E402

STUDYAPP = str(Path(sys.executable).with_name("studyapp"))
RESEARCHER = ("researcher@bench.example.org", "a long bench password 2026")
COHORT = "Young professionals"
ANALYSIS = ("--profiles", "1-4", "--models", "VVI", "--starts", "5")
REQUESTS = 5
SIMULATION_CHUNK = 5_000


@dataclass(frozen=True)
class Run:
    """One process's wall time, peak memory and output."""

    seconds: float
    peak_mb: float
    output: str


#: GNU time (Debian package "time"); without it the kernel's figure is used, see :func:`run_process`
GNU_TIME = shutil.which("time", path="/usr/bin")


def run_process(command: list[str], env: dict[str, str], *, cwd: Path) -> Run:
    """Run ``command`` to its end; fails the benchmark when it fails.

    The peak memory is GNU time's (its child's maximum resident set): the kernel's own figure for a child
    of this process would start at this process's size when it forked, since Linux keeps that high-water
    mark across ``exec``.
    """
    token = uuid.uuid4().hex[:8]
    log, peak = cwd / f"out-{token}.txt", cwd / f"peak-{token}.txt"
    measured = [GNU_TIME, "-f", "%M", "-o", str(peak), *command] if GNU_TIME else command
    with log.open("w") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(measured, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed ({process.returncode}):\n{output[-3000:]}")
    kilobytes = int(peak.read_text().split()[-1]) if peak.exists() else usage.ru_maxrss
    return Run(seconds=seconds, peak_mb=kilobytes / 1024, output=output)


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's search path set to ``schema``."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def environment(url: str, folder: Path) -> dict[str, str]:
    """The settings every ``studyapp`` process of one size runs with."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "STUDYAPP_ENV": "development",
        "STUDYAPP_INSTANCE": str(folder / "instance"),
        "SCHEDULER_ENABLED": "0",
        "RATELIMIT_ENABLED": "0",
        "BASE_URL": "https://study.example.org",
        "MAIL_FROM": "Bridge the Gap <btg@study.example.org>",
    }


def arrange(engine, now: datetime) -> tuple[int, int, int]:
    """The bench study, its open wave and a researcher account: (study id, wave id, instrument id)."""
    from studyapp.accounts.services import create_user

    with Session(engine, expire_on_commit=False) as session:
        instrument, study, cohort = bench_study(session)
        wave = open_wave(session, cohort, instrument, "T1", now)
        create_user(
            session=session, email=RESEARCHER[0], name="Bench researcher", password=RESEARCHER[1], language="en"
        )
        session.commit()
        return int(study.id), int(wave.id), int(instrument.id)  # type: ignore[arg-type]


def write_list(path: Path, n: int) -> None:
    """An enrolment list of ``n`` people, half Dutch and half English."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "language", "cohort", "keep_data"])
        for i in range(n):
            writer.writerow([f"person{i:06d}@example.org", f"Person {i}", "nl" if i % 2 else "en", COHORT, "yes"])


def load_answers(engine, wave_id: int, instrument_id: int, submitted_at: datetime) -> float:
    """A submitted response from every invitee of the wave with simulated Carrière Kompas answers (COPY)."""
    started = time.perf_counter()
    with Session(engine) as session:
        items = dict(session.exec(select(Item.code, Item.id).where(col(Item.instrument_id) == instrument_id)).all())
    moments = {"start": submitted_at - timedelta(minutes=20), "end": submitted_at}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO response (invitation_id, language, source, current_section, started_at, updated_at,"
                " submitted_at) SELECT id, 'nl', 'web', '', :start, :end, :end FROM invitation WHERE wave_id = :wave"
                " ORDER BY participant_id"
            ),
            {**moments, "wave": wave_id},
        )
        connection.execute(
            text(
                "UPDATE invitation SET state = 'completed', opened_at = :start, completed_at = :end"
                " WHERE wave_id = :wave"
            ),
            {**moments, "wave": wave_id},
        )
        responses = np.array(
            connection.execute(
                text(
                    "SELECT r.id FROM response r JOIN invitation i ON i.id = r.invitation_id"
                    " WHERE i.wave_id = :wave ORDER BY i.participant_id"
                ),
                {"wave": wave_id},
            )
            .scalars()
            .all()
        )
    stamp = submitted_at.strftime("%Y-%m-%d %H:%M:%S+00")
    raw = engine.raw_connection()
    try:
        statement = "COPY answer (response_id, item_id, value_number, updated_at) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, len(responses), SIMULATION_CHUNK):
                chunk = responses[start : start + SIMULATION_CHUNK]
                copy.write(_answer_lines(chunk, items, stamp, seed=start))
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:  # this size's tables only: a bare ANALYZE reads every schema
        for table in ("answer", "response", "invitation", "participant", "outbox_message"):
            connection.execute(text(f"ANALYZE {table}"))
    return time.perf_counter() - started


def _answer_lines(responses: np.ndarray, items: dict[str, int], stamp: str, seed: int) -> str:
    """COPY text lines of one chunk's simulated answers (one wave; the cohort generator's people in order)."""
    truth = simulate_cohort(len(responses), 1, attrition=0.0, separation=0.4, random_state=2026 + seed)
    answers = truth.answers.dropna(subset=["value"])
    answers = answers[answers["item"].isin(items.keys())]
    person = {p: i for i, p in enumerate(truth.participants["pseudonym"])}
    frame = pd.DataFrame(
        {
            "response_id": responses[answers["pseudonym"].map(person).to_numpy()],
            "item_id": answers["item"].map(items).to_numpy(),
            "value_number": np.rint(answers["value"].to_numpy()).astype(np.int64),
            "updated_at": stamp,
        }
    )
    return frame.to_csv(sep="\t", header=False, index=False)


def web_timings(url: str, folder: Path, study_id: int) -> dict[str, float]:
    """Median milliseconds of the fieldwork dashboard and of the participant list's last page."""
    from studyapp.app import create_app
    from studyapp.settings import load_settings

    settings = load_settings(environment(url, folder))
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)
    client = app.test_client()
    login = client.post("/login", data={"email": RESEARCHER[0], "password": RESEARCHER[1]})
    assert login.status_code == 302, login.status_code
    first = client.get(f"/studies/{study_id}/participants")
    assert first.status_code == 200, first.status_code
    last = last_page_address(first.get_data(as_text=True))
    timings = {
        "dashboard_ms": _median_ms(client, f"/studies/{study_id}/fieldwork"),
        "list_last_page_ms": _median_ms(client, last),
    }
    engine = app.config.get("ENGINE")
    if engine is not None:
        engine.dispose()
    return timings


def last_page_address(html: str) -> str:
    """The participant list's link to its last page, as the page shows it."""
    link = re.search(r'<a[^>]*href="([^"]*[?&;]last=1[^"]*)"', html)  # "Last" or "Laatste"
    assert link is not None, "the participant list shows no link to its last page"
    return link.group(1).replace("&amp;", "&")


def _median_ms(client, address: str) -> float:
    client.get(address)
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        got = client.get(address)
        times.append((time.perf_counter() - started) * 1000)
        assert got.status_code == 200, (address, got.status_code)
    return statistics.median(times)


def count(engine, query: str) -> int:
    """A single number from the database."""
    with engine.connect() as connection:
        return int(connection.execute(text(query)).scalar_one())


def run_size(base_url: str, n: int, folder: Path) -> dict[str, float]:
    """Every step at ``n`` participants in a fresh schema; the schema is dropped afterwards."""
    schema = f"scale_{n}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = schema_url(base_url, schema)
    work = folder / str(n)
    work.mkdir()
    env = environment(url, work)
    engine = make_engine(url)
    try:
        run_process([STUDYAPP, "db", "upgrade"], env, cwd=work)
        now = datetime.now(UTC)
        study_id, wave_id, instrument_id = arrange(engine, now)
        write_list(work / "people.csv", n)
        figures: dict[str, float] = {}
        enrolled = run_process([STUDYAPP, "participants", "import", "people.csv", "--study", "bench"], env, cwd=work)
        assert count(engine, "SELECT count(*) FROM participant") == n, enrolled.output[-2000:]
        figures["import_s"] = enrolled.seconds
        figures.update(send_wave(env, work, n))
        assert count(engine, "SELECT count(*) FROM outbox_message WHERE status = 'sent'") == n
        figures["load_answers_s"] = load_answers(engine, wave_id, instrument_id, now + timedelta(days=2))
        figures["answers"] = count(engine, "SELECT count(*) FROM answer")
        figures.update(web_timings(url, work, study_id))
        exported = run_process([STUDYAPP, "export", "--study", "bench", "--out", "export"], env, cwd=work)
        figures["export_s"], figures["export_peak_mb"] = exported.seconds, exported.peak_mb
        analysed = run_process(
            [STUDYAPP, "analyze", "run", "--study", "bench", "--cohort", COHORT, *ANALYSIS],
            env,
            cwd=work,
        )
        figures["analyze_s"], figures["analyze_peak_mb"] = analysed.seconds, analysed.peak_mb
        backed_up = run_process([STUDYAPP, "backup", "--out", "backup.dump"], env, cwd=work)
        figures["backup_s"], figures["backup_peak_mb"] = backed_up.seconds, backed_up.peak_mb
        dumped = run_process(
            ["pg_dump", "--format=custom", f"--schema={schema}", "--file=plain.dump", _libpq(base_url)], env, cwd=work
        )
        figures["pg_dump_s"] = dumped.seconds
        figures["backup_beyond_pg_dump_s"] = backed_up.seconds - dumped.seconds
        return figures
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq understands it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def send_wave(env: dict[str, str], work: Path, n: int) -> dict[str, float]:
    """One scheduler tick planning and sending the wave's invitations, and the bare client's rate."""
    sink, port, result = start_sink(work)
    try:
        tick = run_process(
            [STUDYAPP, "fieldwork", "tick"],
            {**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_CONNECTIONS": "2"}
            | {"DISPATCH_PROCESSES": "2"},
            cwd=work,
        )
    finally:
        counts = stop_sink(sink, result)
    assert len(counts) == n and max(counts.values()) == 1, (len(counts), n)
    sample = min(n, 5_000)
    bare = run_bare(sample, sample_message_bytes(""), work)
    return {
        "tick_s": tick.seconds,
        "messages_per_s": n / tick.seconds,
        "bare_client_per_s": sample / bare["seconds"],
        "tick_peak_mb": tick.peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 and 20,000 participants")
    parser.add_argument("--sizes", default=None, help="two sizes, smaller first (default 10000,100000)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    default = "2000,20000" if args.quick else "10000,100000"
    small, large = sorted(int(size) for size in (args.sizes or default).split(","))
    with tempfile.TemporaryDirectory() as tmp:
        figures = {n: run_size(args.postgres, n, Path(tmp)) for n in (small, large)}
    keys = {
        "import": "import_s",
        "tick": "tick_s",
        "dashboard": "dashboard_ms",
        "list_last_page": "list_last_page_ms",
        "export": "export_s",
        "analyze": "analyze_s",
        "backup": "backup_s",
    }
    growth = {step: figures[large][k] / figures[small][k] for step, k in keys.items()}
    print(f"{'step':28}{small:>12,}{large:>12,}{'ratio':>8}")
    for name in figures[large]:
        ratio = f"{figures[large][name] / figures[small][name]:8.1f}" if figures[small][name] else ""
        print(f"{name:28}{figures[small][name]:12.1f}{figures[large][name]:12.1f}{ratio}")
    print(f"growth (largest ratio of a step's time, {large:,} to {small:,}): {max(growth.values()):.1f}")
    rounded = {k: round(v, 1 if k.endswith("_ms") or k.endswith("_mb") else 2) for k, v in figures[large].items()}
    print(
        json.dumps(
            {
                "n": large,
                **rounded,
                "growth": round(max(growth.values()), 2),
                "growth_by_step": {step: round(g, 2) for step, g in growth.items()},
                "smaller": {"n": small, **{k: round(v, 2) for k, v in figures[small].items()}},
                "database": "postgresql",
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: participants and researchers at the same time against gunicorn on PostgreSQL, for a fixed time.

    .venv/bin/python bench/load.py [--quick] [--seconds S] [--participants N] [--researchers R] [--waves W]
                                   [--workers W] [--threads T] [--think-ms MS] [--postgres URL]

The issue: "200 participants and 5 researchers for two minutes against gunicorn on PostgreSQL; error rate 0;
p95 of each kind of request reported". A fresh PostgreSQL schema gets the Carrière Kompas, a study with one
cohort, --waves waves (open now) with an invitation and personal-link token per participant each, and one
researcher account per simulated researcher; gunicorn (2 workers x 8 threads by default) serves the app.

Each participant (one thread, one keep-alive connection) starts at a random moment in the first 10 s and walks
the questionnaire of wave 1, then of wave 2, ... until the time is up: the welcome page, per page one or two
autosaves and the page post (as bench/save_load.py does), the review page and the submit, pausing 0.5-1.5 s
(mean --think-ms) before every request. Each researcher logs in once through the CSRF-protected login form and
then, about every 2 s, opens the dashboard, the study, its fieldwork, participants and analysis pages in turn.

An error is any unexpected status (or redirect target) and any exception. After the run every answer of a
submitted response, and of every page post that was acknowledged in a walk cut off by the end of the time, is
compared with the database (lost answers: missing or a different value). --quick: 30 s, 100 participants,
3 researchers, participants' think time 600 ms (as save_load.py --quick; with 1000 ms a walk outlasts 30 s).
Prints a table per kind of request, then as its last line one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import math
import random
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # save_load; it puts the repository on the path

from save_load import (
    DEFAULT_POSTGRES,
    HEADERS,
    Step,
    _check,
    arrange,
    drop_schema,
    percentile,
    plan_walk,
    postgres_schema,
    start_gunicorn,
    stop_gunicorn,
    stored,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from studyapp.accounts.services import create_user
from studyapp.core.models import Study
from studyapp.instruments.loader import bundled_definitions, parse_definition

PARTICIPANT_KINDS = ("welcome", "autosave", "page", "review", "submit")
RESEARCHER_PAGES = (
    ("dashboard", "/"),
    ("study", "/studies/{id}"),
    ("fieldwork", "/studies/{id}/fieldwork"),
    ("participants", "/studies/{id}/participants"),
    ("analysis", "/studies/{id}/analysis"),
)
KINDS = PARTICIPANT_KINDS + tuple(kind for kind, _ in RESEARCHER_PAGES) + ("login",)
RESEARCHER_PASSWORD = "bench-load-password-1234"
STAGGER_SECONDS = 10.0
RESEARCHER_THINK_SECONDS = 2.0


# ---------------------------------------------------------------------------------------------------------------
# Bookkeeping


@dataclass
class Outcome:
    """What one simulated person saw: latencies per kind, errors, and (participants) what was stored."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, description)
    exceptions: int = 0  # requests that got no response at all (also in errors)
    retries: int = 0
    posted: dict[int, dict[str, int | str]] = field(default_factory=dict)  # acknowledged page posts
    submitted: set[int] = field(default_factory=set)  # invitations whose submit was acknowledged


def _pause(mean: float, rng: random.Random, deadline: float) -> bool:
    """Think for mean +-50%; False when the time is up (then no request follows)."""
    if mean:
        time.sleep(max(0.0, min(mean * rng.uniform(0.5, 1.5), deadline - time.monotonic())))
    return time.monotonic() < deadline


# ---------------------------------------------------------------------------------------------------------------
# Participants


@dataclass
class Walk:
    """One participant's walk through one wave's questionnaire."""

    invitation_id: int
    token: str
    steps: list[Step]
    answers: dict[str, int | str]


def _exchange(connection: http.client.HTTPConnection, method: str, path: str, form: dict[str, str] | None):
    if method == "POST":
        connection.request("POST", path, body=urlencode(form or {}), headers=HEADERS)
    else:
        connection.request("GET", path, headers={"Connection": "keep-alive"})
    response = connection.getresponse()
    body = response.read()
    return response.status, response.getheader("Location", ""), body


def participant(port: int, walks: list[Walk], think: float, start: float, deadline: float, seed: int) -> Outcome:
    """Welcome, autosaves and page posts, review, submit; wave after wave on one keep-alive connection."""
    outcome = Outcome()
    rng = random.Random(seed)
    time.sleep(max(0.0, start - time.monotonic()))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for walk in walks:
            base = f"/p/{walk.token}"
            requests = [Step("welcome", base, {}), *walk.steps[:-1], Step("review", base + "/review", {})]
            requests.append(walk.steps[-1])
            for step in requests:
                if not _pause(think, rng, deadline):
                    return outcome
                method = "GET" if step.kind in ("welcome", "review") else "POST"
                began = time.perf_counter()
                try:
                    try:
                        status, location, body = _exchange(connection, method, step.path, step.form)
                    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                        # An idle keep-alive connection closed by the server; a browser resends on a new one.
                        outcome.retries += 1
                        connection.close()
                        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                        status, location, body = _exchange(connection, method, step.path, step.form)
                except Exception as error:  # every failure is a counted error
                    outcome.exceptions += 1
                    outcome.errors.append((step.kind, f"{type(error).__name__}: {error}"))
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    continue
                outcome.latencies[step.kind].append((time.perf_counter() - began) * 1000)
                if method == "GET":
                    problem = "" if status == 200 else f"status {status} {location} {body[:200]!r}"
                else:
                    try:
                        problem = _check(step, status, location, body)
                    except ValueError as error:  # an autosave reply that is not JSON
                        problem = f"status {status}, {type(error).__name__}: {body[:200]!r}"
                    if problem and status not in (200, 302, 303):
                        problem += f" {body[:200]!r}"
                if problem:
                    outcome.errors.append((step.kind, problem))
                elif step.kind == "page":
                    done = outcome.posted.setdefault(walk.invitation_id, {})
                    done.update({code: walk.answers[code] for code in step.form if code != "action"})
                elif step.kind == "submit":
                    outcome.submitted.add(walk.invitation_id)
    finally:
        connection.close()
    return outcome


# ---------------------------------------------------------------------------------------------------------------
# Researchers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as responses, so a lost login (a redirect to /login) is an error, not a 200."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _open(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None):
    data = urlencode(form).encode() if form is not None else None
    try:
        with opener.open(url, data=data, timeout=120) as response:
            return response.status, response.headers.get("Location", ""), response.read()
    except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx
        return error.code, error.headers.get("Location", ""), error.read()


CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")


def researcher(port: int, email: str, study_id: int, start: float, deadline: float, seed: int) -> Outcome:
    """Log in once through the form (cookie jar, CSRF token), then read the study's pages until the end."""
    outcome = Outcome()
    rng = random.Random(seed)
    root = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def timed(kind: str, path: str, form: dict[str, str] | None = None):
        began = time.perf_counter()
        try:
            status, location, body = _open(opener, root + path, form)
        except Exception as error:  # every failure is a counted error
            outcome.exceptions += 1
            outcome.errors.append((kind, f"{type(error).__name__}: {error}"))
            return None
        outcome.latencies[kind].append((time.perf_counter() - began) * 1000)
        return status, location, body

    time.sleep(max(0.0, start - time.monotonic()))
    got = timed("login", "/login")
    if got is None:
        return outcome
    status, _, body = got
    tag = CSRF_INPUT.search(body.decode("utf-8", "replace"))
    token = VALUE.search(tag.group(0)) if tag else None
    if status != 200 or token is None:
        outcome.errors.append(("login", f"login form: status {status}, no csrf_token {body[:200]!r}"))
        return outcome
    got = timed("login", "/login", {"email": email, "password": RESEARCHER_PASSWORD, "csrf_token": token.group(1)})
    if got is None:
        return outcome
    status, location, body = got
    if status not in (302, 303) or urlsplit(location).path != "/":
        outcome.errors.append(("login", f"login post: status {status} -> {location!r} {body[:200]!r}"))
        return outcome
    position = rng.randrange(len(RESEARCHER_PAGES))
    while _pause(RESEARCHER_THINK_SECONDS, rng, deadline):
        kind, path = RESEARCHER_PAGES[position % len(RESEARCHER_PAGES)]
        position += 1
        got = timed(kind, path.format(id=study_id))
        if got is not None and got[0] != 200:
            status, location, body = got
            outcome.errors.append((kind, f"status {status} {location} {body[:200]!r}"))
    return outcome


# ---------------------------------------------------------------------------------------------------------------
# Arranging, running, checking


class Future(threading.Thread):
    """A thread that keeps its function's result (or exception) for result()."""

    def __init__(self, function, *args) -> None:
        super().__init__(daemon=True)
        self._call = (function, args)
        self._result = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        function, args = self._call
        try:
            self._result = function(*args)
        except BaseException as error:  # re-raised in result()
            self._error = error

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self._result


def arrange_all(engine: Engine, args: argparse.Namespace) -> tuple[list[list[tuple[int, str]]], list[str], int]:
    """save_load's study, waves, participants and tokens; plus the researcher accounts and the study id."""
    links = arrange(engine, args.participants, args.waves)
    emails = [f"researcher{i}@example.org" for i in range(args.researchers)]
    with Session(engine) as session:
        for i, email in enumerate(emails):
            create_user(
                session=session, email=email, name=f"Researcher {i}", password=RESEARCHER_PASSWORD, role="researcher"
            )
        study_id = session.exec(select(Study.id).where(Study.slug == "bench")).one()
        session.commit()
    return links, emails, int(study_id)  # type: ignore[arg-type]


def run(args: argparse.Namespace, engine: Engine, url: str, folder: Path) -> dict:
    started = time.perf_counter()
    links, emails, study_id = arrange_all(engine, args)
    arranged = time.perf_counter() - started
    definition = parse_definition(bundled_definitions()[0].read_text(encoding="utf-8"), "bench")
    rng = random.Random(7)
    plans: list[list[Walk]] = [[] for _ in range(args.participants)]
    for row in links:
        for person, (invitation_id, token) in enumerate(row):
            steps, answers = plan_walk(definition, token, rng)
            plans[person].append(Walk(invitation_id, token, steps, answers))
    log = folder / "gunicorn.log"
    process, port = start_gunicorn(url, args.workers, args.threads, log)
    results: list[Future] = []
    try:
        began = time.monotonic()
        deadline = began + args.seconds
        stagger = min(STAGGER_SECONDS, args.seconds / 3)
        for i, walks in enumerate(plans):
            start = began + rng.uniform(0, stagger)
            results.append(Future(participant, port, walks, args.think_ms / 1000, start, deadline, 1000 + i))
        for i, email in enumerate(emails):
            start = began + rng.uniform(0, min(2.0, stagger))
            results.append(Future(researcher, port, email, study_id, start, deadline, 5000 + i))
        outcomes = [r.result() for r in results]
        seconds = time.monotonic() - began
    finally:
        stop_gunicorn(process)
    log_text = log.read_text(errors="replace") if log.exists() else ""
    return {
        "outcomes": outcomes,
        "seconds": seconds,
        "arrange_seconds": arranged,
        "expected": {w.invitation_id: w.answers for walks in plans for w in walks},
        "log_text": log_text,
    }


def check_answers(engine: Engine, outcomes: list[Outcome], expected: dict[int, dict[str, int | str]]) -> dict:
    """Compare what the walks were told was stored with the database (as save_load.py does)."""
    submitted = {i for o in outcomes for i in o.submitted}
    posted = {i: a for o in outcomes for i, a in o.posted.items() if i not in submitted}
    found, done = stored(engine, sorted(submitted | set(posted)))
    figures = {"checked_submitted": len(submitted), "checked_partial": len(posted)}
    for name, wanted in (("submitted", {i: expected[i] for i in submitted}), ("partial", posted)):
        missing = mismatched = total = 0
        for invitation_id, answers in wanted.items():
            have = found[invitation_id]
            total += len(answers)
            for code, value in answers.items():
                if code not in have:
                    missing += 1
                elif have[code] != value:
                    mismatched += 1
        figures |= {f"{name}_answers": total, f"{name}_missing": missing, f"{name}_mismatched": mismatched}
    figures["unsubmitted"] = sum(1 for i in submitted if not done[i])  # acknowledged, yet not submitted
    figures["lost_answers"] = sum(
        figures[f"{n}_{k}"] for n in ("submitted", "partial") for k in ("missing", "mismatched")
    )
    return figures


# ---------------------------------------------------------------------------------------------------------------
# Report


def report(args: argparse.Namespace, result: dict, answers: dict, total: float) -> dict:
    outcomes: list[Outcome] = result["outcomes"]
    seconds = result["seconds"]
    latencies = {kind: [v for o in outcomes for v in o.latencies[kind]] for kind in KINDS}
    errors = [e for o in outcomes for e in o.errors]
    by_kind = {kind: sum(1 for k, _ in errors if k == kind) for kind in KINDS}
    exceptions = sum(o.exceptions for o in outcomes)
    every = [v for values in latencies.values() for v in values]
    requests = len(every) + exceptions
    print(
        f"\nPostgreSQL: {args.participants} participants (think {args.think_ms:.0f} ms +-50%, up to {args.waves} "
        f"waves each) and {args.researchers} researchers (think ~{RESEARCHER_THINK_SECONDS:.0f} s) for "
        f"{seconds:.1f} s; gunicorn {args.workers} workers x {args.threads} threads "
        f"(arranging took {result['arrange_seconds']:.1f} s)"
    )
    print(f"{'':14}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for kind in (*KINDS, "all"):
        values = every if kind == "all" else latencies[kind]
        wrong = len(errors) if kind == "all" else by_kind[kind]
        print(
            f"{kind:14}{len(values):>8}{percentile(values, 50):>9.1f}{percentile(values, 95):>9.1f}"
            f"{percentile(values, 99):>9.1f}{max(values, default=0.0):>9.1f}{wrong:>8}"
        )
    rate = len(errors) / requests if requests else 0.0
    per_s = requests / seconds if seconds else 0.0
    walks = sum(len(o.submitted) for o in outcomes)
    tracebacks = result["log_text"].count("Traceback")
    print(
        f"requests {requests} ({per_s:.1f}/s); errors {len(errors)} (rate {rate:.4%}, no response {exceptions}); "
        f"reconnects {sum(o.retries for o in outcomes)}; questionnaires submitted {walks}; "
        f"server tracebacks {tracebacks}"
    )
    print(
        f"answers: lost {answers['lost_answers']} - submitted responses {answers['checked_submitted']} "
        f"({answers['submitted_answers']} answers: missing {answers['submitted_missing']}, wrong value "
        f"{answers['submitted_mismatched']}; acknowledged but not submitted {answers['unsubmitted']}), walks cut "
        f"off {answers['checked_partial']} ({answers['partial_answers']} answers of posted pages: missing "
        f"{answers['partial_missing']}, wrong value {answers['partial_mismatched']})"
    )
    if errors:
        kinds: dict[str, int] = {}
        for kind, description in errors:
            key = f"{kind}: {description[:160]}"
            kinds[key] = kinds.get(key, 0) + 1
        for key, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {count:>5} x {key}")
    if tracebacks:
        print("  server log tail:\n    " + result["log_text"][-2500:].replace("\n", "\n    "))
    met = not errors
    print(
        f"target: error rate 0 - {'met' if met else 'NOT met'} ({len(errors)} errors, p95 "
        f"{percentile(every, 95):.1f} ms over all requests); total {total:.1f} s"
    )
    figures: dict[str, object] = {
        "errors": len(errors),
        "error_rate": round(rate, 6),
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "max_ms": round(max(every, default=0.0), 1),
    }
    # null for a kind that was never asked for (a --quick run too short for anyone to submit, say)
    figures |= {f"p95_ms_{kind}": round(percentile(v, 95), 1) if (v := latencies[kind]) else None for kind in KINDS}
    figures |= {f"requests_{kind}": len(latencies[kind]) for kind in KINDS}
    figures |= {f"errors_{kind}": by_kind[kind] for kind in KINDS if by_kind[kind]}
    figures |= {
        "requests": requests,
        "requests_per_s": round(per_s, 1),
        "participants": args.participants,
        "researchers": args.researchers,
        "seconds": round(seconds, 1),
        "waves": args.waves,
        "workers": args.workers,
        "threads": args.threads,
        "think_ms": args.think_ms,
        "submitted": walks,
        "lost_answers": answers["lost_answers"],
        "unsubmitted": answers["unsubmitted"],
        "reconnects": sum(o.retries for o in outcomes),
        "server_tracebacks": tracebacks,
        "arrange_seconds": round(result["arrange_seconds"], 1),
        "total_seconds": round(total, 1),
        "target_met": met,
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="30 s, 100 participants, 3 researchers")
    parser.add_argument("--seconds", type=float, default=None, help="length of the load (default 120, quick 30)")
    parser.add_argument("--participants", type=int, default=None, help="default 200, quick 100")
    parser.add_argument("--researchers", type=int, default=None, help="default 5, quick 3")
    parser.add_argument("--waves", type=int, default=None, help="invitations per participant (default: enough)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")
    parser.add_argument(
        "--think-ms", type=float, default=None, help="participants' mean pause, +-50%% (default 1000, quick 600)"
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL URL (a fresh schema is used)")
    args = parser.parse_args()
    args.seconds = args.seconds or (30.0 if args.quick else 120.0)
    args.participants = args.participants if args.participants is not None else (100 if args.quick else 200)
    args.researchers = args.researchers if args.researchers is not None else (3 if args.quick else 5)
    # As in save_load.py, --quick pauses 600 ms: a walk (about 31 requests) then fits in the 30 s, so the
    # review page and the submit are measured too.
    args.think_ms = args.think_ms if args.think_ms is not None else (600.0 if args.quick else 1000.0)
    # A walk is about 31 requests, so about 31 think times: enough waves that nobody runs out before the end.
    args.waves = args.waves or max(2, math.ceil(args.seconds / (31 * args.think_ms / 1000)) + 1)
    began = time.perf_counter()
    made = postgres_schema(args.postgres)
    if made is None:
        print(json.dumps({"errors": 1, "error_rate": 1.0, "skipped": "PostgreSQL not reachable", "target_met": False}))
        sys.exit(1)
    schema, engine = made
    separator = "&" if "?" in args.postgres else "?"
    url = f"{args.postgres}{separator}options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            result = run(args, engine, url, Path(tmp))
        answers = check_answers(engine, result["outcomes"], result["expected"])
    finally:
        engine.dispose()
        drop_schema(args.postgres, schema)
    figures = report(args, result, answers, time.perf_counter() - began)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

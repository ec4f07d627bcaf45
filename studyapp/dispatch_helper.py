"""Further dispatcher processes for a large backlog, so that sending uses more than one processor.

Python runs one thread at a time per process, and composing and sending a message costs the dispatcher
about a millisecond and a half of processor time: one process sends a few hundred messages a second at
most, whatever ``SMTP_CONNECTIONS`` says. With ``DISPATCH_PROCESSES`` above 1, a tick that finds at least
:data:`HELPER_BACKLOG` messages due starts ``DISPATCH_PROCESSES - 1`` helper processes
(``python -m studyapp.dispatch_helper``) beside its own dispatcher and waits for them. They are ordinary
dispatchers sharing the outbox: each claims its own batches with a lease, and a helper that dies has its
claims taken over like any other. A helper starts without the web app (about a second).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from studyapp.settings import Settings

log = logging.getLogger(__name__)

#: Messages due below which one process sends alone: a helper would start after most were sent.
HELPER_BACKLOG = 2_000


@dataclass
class HelperReport:
    """What the helper processes of one tick sent, together."""

    processes: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    problems: list[str] = field(default_factory=list)  # a helper that failed, with the end of its output


def due_messages(engine: Engine, now: datetime, *, up_to: int) -> int:
    """How many outbox messages are due at ``now``, counted up to ``up_to`` (reads the claimable rows' index
    only as far as that)."""
    from waves.dispatcher import OUTBOX, due_condition

    with engine.connect() as connection:
        limited = select(OUTBOX.c.id).where(due_condition(now)).limit(up_to).subquery()
        return int(connection.execute(select(func.count()).select_from(limited)).scalar_one())


@contextmanager
def dispatch_helpers(engine: Engine, settings: Settings, now: datetime) -> Iterator[HelperReport]:
    """Start the helper processes ``settings`` asks for when the backlog is large enough; on leaving, wait
    for them and add up what they sent (a helper that fails is logged and reported, the tick goes on)."""
    report = HelperReport()
    wanted = settings.dispatch_processes - 1
    if wanted < 1 or due_messages(engine, now, up_to=HELPER_BACKLOG) < HELPER_BACKLOG:
        yield report
        return
    with ExitStack() as stack:
        running = []
        for _ in range(wanted):
            output = stack.enter_context(tempfile.TemporaryFile(mode="w+", encoding="utf-8"))
            process = subprocess.Popen(
                [sys.executable, "-m", "studyapp.dispatch_helper"], stdout=output, stderr=subprocess.STDOUT
            )
            running.append((process, output))
        report.processes = len(running)
        log.info("Started %d helper dispatcher processes for a large backlog", len(running))
        try:
            yield report
        finally:
            for process, output in running:
                process.wait()
                output.seek(0)
                _add_up(report, process.returncode, output.read())


def _add_up(report: HelperReport, returncode: int, output: str) -> None:
    """Add one helper's figures (its last line, one JSON object) to ``report``."""
    last = output.strip().splitlines()[-1] if output.strip() else ""
    try:
        figures = json.loads(last) if returncode == 0 else None
    except ValueError:
        figures = None
    if not isinstance(figures, dict):
        problem = f"a helper dispatcher process ended with code {returncode}: {output.strip()[-500:]}"
        log.warning("%s", problem)
        report.problems.append(problem)
        return
    for name in ("sent", "retried", "failed", "cancelled"):
        setattr(report, name, getattr(report, name) + int(figures.get(name, 0)))
    if figures.get("stopped_early"):
        report.problems.append(str(figures["stopped_early"]))


def main() -> int:
    """Send what is due, as one more dispatcher; print what it did as one JSON object."""
    logging.basicConfig(level=logging.WARNING)
    from studyapp.core.db import make_engine
    from studyapp.core.privacy import Privacy
    from studyapp.core.scheduler_status import process_name
    from studyapp.core.types import utcnow
    from studyapp.settings import load_settings
    from studyapp.wiring import register_message_kinds
    from waves.dispatcher import DispatchConfig, dispatch
    from waves.transport import extra_transports_from_settings, transport_from_settings

    settings = load_settings()
    engine = make_engine(settings.database_url)
    register_message_kinds(secret_key=settings.secret_key)
    transport = transport_from_settings(settings, engine)
    extra = extra_transports_from_settings(settings, engine)
    try:
        report = dispatch(
            engine=engine,
            privacy=Privacy(pseudonym_key=settings.pseudonym_key, identity_keys=settings.identity_key),
            transport=transport,
            config=DispatchConfig(base_url=settings.base_url, sender=settings.mail_from),
            worker=f"helper/{process_name()}",
            now=utcnow,
            extra_transports=extra,
        )
    finally:
        for connection in (transport, *extra):
            connection.close()
        engine.dispose()
    figures = {
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "cancelled": report.cancelled,
        "stopped_early": report.stopped_early,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

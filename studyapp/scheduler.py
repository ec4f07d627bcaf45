"""The scheduler: one APScheduler job that ticks every interval, started once per deployment.

The job is derived entirely from database state, so an in-memory job store is enough: a restarted
scheduler simply ticks again and finds what is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.engine import Engine

from studyapp.core.db import session_scope
from studyapp.core.models import SchedulerHeartbeat
from studyapp.core.scheduler_lock import SchedulerLock
from studyapp.core.scheduler_status import process_name
from studyapp.core.types import utcnow
from studyapp.dispatch_helper import HelperReport, dispatch_helpers
from studyapp.settings import Settings
from studyapp.wiring import register_message_kinds
from waves.tick import TickReport

log = logging.getLogger(__name__)
_EXTENSION_KEY = "studyapp.scheduler"
_STANDBY_KEY = _EXTENSION_KEY + ".standby"


@dataclass(frozen=True)
class FieldworkReport(TickReport):
    """What a tick planned and sent, and what its helper dispatcher processes sent (DISPATCH_PROCESSES)."""

    helpers: HelperReport = field(default_factory=HelperReport)


def tick(
    engine: Engine, *, name: str, now: datetime | None = None, settings: Settings | None = None
) -> FieldworkReport | None:
    """One scheduler tick: plan and send due invitations and reminders, and record a heartbeat.

    Returns what was planned and sent (``None`` without settings, or when the fieldwork step failed).
    """
    now = now or utcnow()
    register_message_kinds(secret_key=settings.secret_key if settings is not None else None)
    error, report = "", None
    if settings is not None:
        retention_error = _identity_retention(engine, now, settings)  # first: its notices go out this tick
        error, report = _fieldwork(engine, name, now, settings)
        error = error or _representativeness(engine, now, settings) or retention_error
    with session_scope(engine) as session:
        beat = session.get(SchedulerHeartbeat, name)
        if beat is None:
            host, _, pid = name.rpartition(":")
            beat = SchedulerHeartbeat(name=name, hostname=host, pid=int(pid) if pid.isdigit() else 0)
        beat.last_tick_at = now
        beat.ticks += 1
        beat.last_error = error
        session.add(beat)
    return report


def _fieldwork(engine: Engine, name: str, now: datetime, settings: Settings) -> tuple[str, FieldworkReport | None]:
    from studyapp.core.privacy import Privacy
    from waves.dispatcher import DispatchConfig
    from waves.tick import run_tick
    from waves.transport import extra_transports_from_settings, transport_from_settings

    privacy = Privacy(pseudonym_key=settings.pseudonym_key, identity_keys=settings.identity_key)
    transport = transport_from_settings(settings, engine)
    extra = extra_transports_from_settings(settings, engine)
    config = DispatchConfig(base_url=settings.base_url, sender=settings.mail_from)
    helpers = HelperReport()

    @contextmanager
    def helper_processes() -> Iterator[None]:
        nonlocal helpers
        with dispatch_helpers(engine, settings, now) as helpers:
            yield

    try:
        tick_report = run_tick(
            engine=engine,
            privacy=privacy,
            transport=transport,
            config=config,
            now=now,
            worker=name,
            extra_transports=extra,
            beside_dispatch=helper_processes,
            min_cell_size=settings.min_cell_size,
        )
    except Exception as exc:  # recorded on the heartbeat and logged; the next tick tries again
        log.exception("Fieldwork tick failed")
        return f"{type(exc).__name__}: {exc}"[:500], None
    finally:
        for connection in (transport, *extra):
            connection.close()
    report = FieldworkReport(plan=tick_report.plan, dispatch=tick_report.dispatch, helpers=helpers)
    if report.plan.invitations or report.plan.reminders or report.dispatch.sent or helpers.sent:
        log.info(
            "Planned %d invitations and %d reminders; sent %d (and %d by %d helper processes)",
            report.plan.invitations,
            report.plan.reminders,
            report.dispatch.sent,
            helpers.sent,
            helpers.processes,
        )
    if report.dispatch.failed or helpers.failed:
        log.warning(
            "%d messages failed this tick (reasons on the fieldwork dashboard)", report.dispatch.failed + helpers.failed
        )
    return report.dispatch.stopped_early, report


def _identity_retention(engine: Engine, now: datetime, settings: Settings) -> str:
    """Tell researchers 30 days before a study's identities are erased, and erase them on the day, each study
    once (its own step: an error here holds up no mail); returns the error, or ``""``."""
    from studyapp.core.privacy import Privacy
    from studyapp.studies import retention

    try:
        with session_scope(engine) as session:
            retention.queue_notices(session, now)
        with session_scope(engine) as session:
            privacy = Privacy(pseudonym_key=settings.pseudonym_key, identity_keys=settings.identity_key)
            for erased in retention.erase_due(session, now, privacy):
                log.warning(
                    "Erased the identities of study %s on schedule: %d identities, %d pending messages, "
                    "%d mailbox copies",
                    erased.study_id,
                    erased.identities,
                    erased.pending_messages,
                    erased.mailbox_messages,
                )
    except Exception as exc:  # recorded on the heartbeat and logged; the next tick tries again
        log.exception("Keeping the identity retention dates failed")
        return f"{type(exc).__name__}: {exc}"[:500]
    return ""


def _representativeness(engine: Engine, now: datetime, settings: Settings) -> str:
    """Keep the R-indicators of the waves in fieldwork up to date (their own step: an error here holds
    up no mail); returns the error, or ``""``."""
    from waves.representativeness import record_representativeness

    try:
        with session_scope(engine) as session:
            record_representativeness(session=session, now=now, min_cell_size=settings.min_cell_size)
    except Exception as exc:  # recorded on the heartbeat and logged; the next tick tries again
        log.exception("Computing the representativeness figures failed")
        return f"{type(exc).__name__}: {exc}"[:500]
    return ""


def _safe_tick(engine: Engine, name: str, settings: Settings | None) -> None:
    try:
        tick(engine, name=name, settings=settings)
    except Exception:  # a failed tick must not kill the scheduler; the next one tries again
        log.exception("Scheduler tick failed")


def build_scheduler(
    engine: Engine, *, interval_seconds: int, settings: Settings | None = None, blocking: bool = False
) -> BaseScheduler:
    """A scheduler with the tick job and the analyses job; both run at once, then every interval."""
    scheduler: BaseScheduler = BlockingScheduler() if blocking else BackgroundScheduler(daemon=True)
    scheduler.add_job(
        _safe_tick,
        "interval",
        seconds=interval_seconds,
        args=[engine, process_name(), settings],
        id="tick",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )
    # Analyses can take minutes: their own job, so that fieldwork ticks go on meanwhile.
    scheduler.add_job(
        run_analyses,
        "interval",
        seconds=interval_seconds,
        args=[engine, settings],
        id="analyses",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )
    return scheduler


def run_analyses(engine: Engine, settings: Settings | None = None) -> int:
    """Run the queued analyses, oldest first, then the queued briefing jobs, then make the briefings of
    waves that closed.

    Errors are stored on each run or logged, never raised: the next pass tries again.
    """
    from studyapp.analyses.runs import run_pending
    from studyapp.briefings.auto import make_due_briefings
    from studyapp.briefings.jobs import run_pending_briefings
    from studyapp.database import reading_engine

    done = 0
    reader = reading_engine(settings, engine) if settings is not None else engine
    try:
        done = len(run_pending(engine, limit=5, reader=reader))
        if settings is not None:
            done += len(run_pending_briefings(engine, min_cell=settings.min_cell_size, limit=5))
            make_due_briefings(engine, min_cell=settings.min_cell_size, now=utcnow())
            done += len(run_pending(engine, limit=5, reader=reader))  # an analysis the briefings asked for
    except Exception:  # the database may be away for a moment; the next pass tries again
        log.exception("Running queued analyses or making briefings failed")
    return done


def claim_scheduler_lock(engine: Engine) -> SchedulerLock | None:
    """The scheduler lock of ``engine``'s database, held from now on; ``None`` (and a log line saying
    so) when another scheduler holds it."""
    lock = SchedulerLock(engine)
    if lock.acquire():
        return lock
    log.warning(
        "Scheduler not started: %s already runs the scheduler for this database (it holds the scheduler lock)",
        lock.holder(),
    )
    return None


def wait_for_scheduler_lock(engine: Engine, *, retry_seconds: float, stop: threading.Event) -> SchedulerLock | None:
    """The scheduler lock once the scheduler holding it has ended (a standby): tried at once, then every
    ``retry_seconds``; ``None`` when ``stop`` is set first."""
    lock = SchedulerLock(engine)
    while not lock.acquire():
        if stop.wait(retry_seconds):
            return None
    return lock


def start_in_process(app: Flask) -> BaseScheduler | None:
    """Start the background scheduler in this process, once; ``None`` if disabled, running here, or
    running in another process (which holds the scheduler lock).

    In the last case this process stands by: a thread tries the lock every interval and starts the
    scheduler here as soon as the other one has ended (a restart of `serve` while the old process is
    still letting go, or the production scheduler stopping), so the study never stays without one.
    """
    settings = app.config["STUDYAPP_SETTINGS"]
    if not settings.scheduler_enabled or _EXTENSION_KEY in app.extensions or _STANDBY_KEY in app.extensions:
        return None
    from studyapp.database import engine_of

    engine = engine_of(app)
    lock = claim_scheduler_lock(engine)
    if lock is None:
        stop = threading.Event()
        standby = threading.Thread(
            target=_stand_by, args=(app, engine, settings, stop), name="scheduler-standby", daemon=True
        )
        app.extensions[_STANDBY_KEY] = stop
        standby.start()
        return None
    return _start(app, engine, lock, settings)


def is_standing_by(app: Flask) -> bool:
    """Whether this process waits for another process's scheduler to end before starting its own."""
    stop = app.extensions.get(_STANDBY_KEY)
    return stop is not None and not stop.is_set() and _EXTENSION_KEY not in app.extensions


def _stand_by(app: Flask, engine: Engine, settings: Settings, stop: threading.Event) -> None:
    lock = wait_for_scheduler_lock(engine, retry_seconds=settings.scheduler_interval_seconds, stop=stop)
    if lock is not None:
        log.warning("Scheduler starting here: the process that held the scheduler lock has ended")
        _start(app, engine, lock, settings)


def _start(app: Flask, engine: Engine, lock: SchedulerLock, settings: Settings) -> BaseScheduler:
    scheduler = build_scheduler(engine, interval_seconds=settings.scheduler_interval_seconds, settings=settings)
    scheduler.start()
    app.extensions[_EXTENSION_KEY] = scheduler
    app.extensions[_EXTENSION_KEY + ".lock"] = lock
    return scheduler

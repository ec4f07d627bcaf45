"""Making a wave's briefings in the background: the page queues a job, the scheduler runs it.

A job renders every PDF of a new version (each organisation and the sample, in Dutch and English) and
records its progress as it goes, so the briefings page can show "n of m PDFs". At most one job per wave is
queued or running at a time (a partial unique index backs the check), so a double click or a second
researcher asking at the same moment gets the job already under way, not a second version.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from studyapp.briefings.coding import code_participants
from studyapp.briefings.content import NoAnalysis, covering_analysis
from studyapp.briefings.service import generate_briefings
from studyapp.core import audit
from studyapp.core.db import claim_queued, session_scope
from studyapp.core.models import BriefingRun, Cohort, Study, User, Wave, key
from studyapp.core.types import utcnow

log = logging.getLogger(__name__)
PENDING = ("queued", "running")
#: A job still running this long after it started is taken to have died with its process.
STALLED_AFTER = timedelta(minutes=15)


def pending_run(*, session: Session, wave: Wave) -> BriefingRun | None:
    """The wave's queued or running job, if any."""
    return session.exec(
        select(BriefingRun).where(BriefingRun.wave_id == wave.id, col(BriefingRun.status).in_(PENDING))
    ).first()


def queue_briefings(
    *, session: Session, wave: Wave, user: User | None, withdraw_earlier: bool = False
) -> tuple[BriefingRun, bool]:
    """Ask for a new version of the wave's briefings; returns the job and whether it is a new one.

    When a job for the wave is already queued or running, that job is returned and nothing is added.
    Raises :class:`studyapp.briefings.content.NoAnalysis` at once when no finished analysis covers the wave.
    """
    existing = pending_run(session=session, wave=wave)
    if existing is not None:
        return existing, False
    covering_analysis(session=session, wave=wave)
    cohort = session.get_one(Cohort, wave.cohort_id)
    run = BriefingRun(
        study_id=cohort.study_id,
        wave_id=key(wave),
        withdraw_earlier=withdraw_earlier,
        requested_by_id=user.id if user else None,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # asked for at the same moment elsewhere: that job is the one
        existing = pending_run(session=session, wave=wave)
        if existing is None:
            raise
        return existing, False
    audit.record(
        session=session,
        action="briefings.queued",
        user=user,
        target_type="wave",
        target_id=wave.id,
        detail={"run": run.id, "withdraw_earlier": withdraw_earlier},
    )
    return run, True


def _progress(engine: Engine, run_id: int, made: int, total: int) -> None:
    """Record progress in its own transaction, so that the page sees it while the job runs (progress is
    advisory: a failure to record it is logged and the job goes on)."""
    try:
        with session_scope(engine) as session:
            session.exec(update(BriefingRun).where(col(BriefingRun.id) == run_id).values(made=made, total=total))
    except Exception:
        log.exception("Recording the progress of briefing job %s failed", run_id)


def execute(engine: Engine, run_id: int, *, min_cell: int) -> BriefingRun:
    """Run one claimed job: make the version, or store why it could not be made."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.get_one(BriefingRun, run_id)
        wave = session.get_one(Wave, run.wave_id)
        user = session.get(User, run.requested_by_id) if run.requested_by_id else None
        # coding is committed first, so that the generation writes nothing until every PDF is rendered
        code_participants(session=session, study=session.get_one(Study, run.study_id))
        session.commit()
        try:
            report = generate_briefings(
                session=session,
                wave=wave,
                min_cell=min_cell,
                user=user,
                withdraw_earlier=run.withdraw_earlier,
                progress=lambda made, total: _progress(engine, run_id, made, total),
            )
        except NoAnalysis as error:
            session.rollback()
            run = session.get_one(BriefingRun, run_id)
            run.status, run.error = "failed", f"{error} Run the analysis first (Analysis page)."[:2000]
        except Exception as error:  # stored for the researcher; the scheduler goes on
            log.exception("Making the briefings of job %s failed", run_id)
            session.rollback()
            run = session.get_one(BriefingRun, run_id)
            run.status, run.error = "failed", f"{type(error).__name__}: {error}"[:2000]
        else:
            run.status, run.version = "done", report.version
            run.made = run.total = report.organisation_briefings + report.sample_briefings
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
        return run


def requeue_stalled(engine: Engine, *, now: datetime | None = None) -> int:
    """Queue again the jobs still running ``STALLED_AFTER`` after they started (their process died: a whole
    wave takes minutes). Nothing is lost: a job writes its briefings in one transaction at its end."""
    cutoff = (now or utcnow()) - STALLED_AFTER
    with session_scope(engine) as session:
        requeued = session.exec(
            update(BriefingRun)
            .where(col(BriefingRun.status) == "running", col(BriefingRun.started_at) < cutoff)
            .values(status="queued", made=0, started_at=None)
        )
        count = int(requeued.rowcount)
    if count:
        log.warning("Queued %s stalled briefing job(s) again", count)
    return count


def run_pending_briefings(engine: Engine, *, min_cell: int, limit: int = 1) -> list[BriefingRun]:
    """Run up to ``limit`` queued jobs, oldest first (what a scheduler tick does), after queueing stalled
    ones again."""
    requeue_stalled(engine)
    with Session(engine) as session:
        ids = session.exec(
            select(BriefingRun.id).where(BriefingRun.status == "queued").order_by(col(BriefingRun.id)).limit(limit)
        ).all()
    return [
        execute(engine, run_id, min_cell=min_cell)
        for run_id in ids
        if run_id and claim_queued(engine, BriefingRun, run_id)
    ]


def runs_of(*, session: Session, study: Study, limit: int = 10) -> list[tuple[BriefingRun, Wave]]:
    """The study's latest jobs, newest first."""
    rows = session.exec(
        select(BriefingRun, Wave)
        .join(Wave, col(Wave.id) == BriefingRun.wave_id)
        .where(BriefingRun.study_id == study.id)
        .order_by(col(BriefingRun.id).desc())
        .limit(limit)
    ).all()
    return [(run, wave) for run, wave in rows]

"""The scheduler's part: after a wave closes, analyse its cohort and make the wave's briefings."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from studyapp.analyses.runs import queue_analysis
from studyapp.briefings.content import NoAnalysis
from studyapp.briefings.service import generate_briefings
from studyapp.core.errors import ValidationFailed
from studyapp.core.models import AnalysisRun, Briefing, BriefingRun, Cohort, Invitation, Response, Study, Wave, key

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(days=60)


def waves_due(*, session: Session, now: datetime) -> list[Wave]:
    """Waves closed in the last 60 days that have submitted responses and no briefings yet (nor a job
    making them)."""
    closed = session.exec(
        select(Wave).where(
            col(Wave.closes_at).is_not(None),
            col(Wave.closes_at) <= now,
            col(Wave.closes_at) >= now - LOOK_BACK,
        )
    ).all()
    due = []
    for wave in closed:
        if session.exec(select(Briefing.id).where(Briefing.wave_id == wave.id)).first() is not None:
            continue
        if session.exec(select(BriefingRun.id).where(BriefingRun.wave_id == wave.id)).first() is not None:
            continue
        answered = session.exec(
            select(Response.id)
            .join(Invitation, col(Invitation.id) == Response.invitation_id)
            .where(Invitation.wave_id == wave.id, col(Response.submitted_at).is_not(None))
        ).first()
        if answered is not None:
            due.append(wave)
    return due


def make_due_briefings(engine: Engine, *, min_cell: int, now: datetime) -> int:
    """Make the briefings of every wave that is due; queue its cohort's analysis first when it has none.

    Returns how many waves got briefings.
    """
    made = 0
    with Session(engine) as session:
        wave_ids = [key(w) for w in waves_due(session=session, now=now)]
    for wave_id in wave_ids:
        with Session(engine) as session:
            wave = session.get_one(Wave, wave_id)
            try:
                generate_briefings(session=session, wave=wave, min_cell=min_cell)
            except NoAnalysis:
                session.rollback()
                _queue_analysis_once(session, wave, now)
                session.commit()
                continue
            session.commit()
            made += 1
            log.info("Made the briefings of wave %s", wave_id)
    return made


def _queue_analysis_once(session: Session, wave: Wave, now: datetime) -> None:
    cohort = session.get(Cohort, wave.cohort_id)
    pending = session.exec(
        select(AnalysisRun).where(
            AnalysisRun.cohort_id == wave.cohort_id,
            col(AnalysisRun.status).in_(("queued", "running")),
        )
    ).first()
    if pending is not None or cohort is None:
        return
    study = session.get_one(Study, cohort.study_id)
    try:
        queue_analysis(session=session, study=study, cohort=cohort, parameters={}, requested_by="scheduler")
    except ValidationFailed as error:  # too few responses yet: the next pass looks again
        log.warning("The briefings of wave %s wait for an analysis: %s", wave.label, " ".join(error.errors.values()))
        return
    log.info("Queued the analysis of %s for the briefings of wave %s (closed %s)", cohort.name, wave.label, now)

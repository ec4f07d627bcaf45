"""Queueing, running and reading stored analyses (what the admin pages, the CLI and the scheduler call)."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from studyapp.analyses.compute import AnalysisParameters, run_analysis
from studyapp.analyses.data import cohort_data
from studyapp.analyses.readiness import shortfall
from studyapp.analyses.result import to_stored
from studyapp.core import audit
from studyapp.core.db import claim_queued
from studyapp.core.errors import ValidationFailed
from studyapp.core.models import AnalysisRun, Cohort, Study, key
from studyapp.core.types import utcnow

log = logging.getLogger(__name__)


def queue_analysis(
    *, session: Session, study: Study, cohort: Cohort, parameters: dict[str, Any], requested_by: str
) -> AnalysisRun:
    """Ask for an analysis of ``cohort``; the scheduler (or :func:`run_pending`) runs it.

    Raises :class:`ValidationFailed` when the parameters cannot be fitted or the cohort has too few
    submitted responses for them (:func:`studyapp.analyses.readiness.responses_needed`).
    """
    if cohort.study_id != study.id:
        raise ValidationFailed({"cohort": _("That cohort belongs to another study.")})
    try:
        checked = AnalysisParameters.from_dict(parameters)
    except (TypeError, ValueError) as error:
        raise ValidationFailed({"parameters": str(error)}) from None
    if (problem := shortfall(session=session, cohort=cohort, parameters=checked)) is not None:
        raise ValidationFailed({"cohort": problem})
    run = AnalysisRun(
        study_id=key(study),
        cohort_id=key(cohort),
        parameters=checked.to_dict(),
        requested_by=requested_by[:255],
    )
    session.add(run)
    session.flush()
    audit.record(
        session=session,
        action="analysis.queued",
        actor=requested_by,
        target_type="analysis_run",
        target_id=run.id,
        detail={"cohort": cohort.name, **checked.to_dict()},
    )
    return run


def execute(engine: Engine, run_id: int, *, reader: Engine | None = None) -> AnalysisRun:
    """Run one claimed analysis and store its result or its error.

    The cohort's data are read through ``reader`` (the read replica, when there is one); the run and
    its result are written through ``engine``. Each stage is committed as it starts
    (:func:`set_stage`), for the analysis page to show while the run goes on.
    """
    with Session(engine, expire_on_commit=False) as session:
        run = session.get_one(AnalysisRun, run_id)
    try:
        set_stage(engine, run_id, "loading responses")
        with Session(reader or engine) as source:
            cohort = source.get_one(Cohort, run.cohort_id)
            data = cohort_data(session=source, cohort=cohort)
        result = run_analysis(
            data, AnalysisParameters.from_dict(run.parameters), on_stage=lambda stage: set_stage(engine, run_id, stage)
        )
        set_stage(engine, run_id, "writing the result")
        stored = to_stored(result)
    except Exception as error:  # stored for the researcher; the scheduler goes on
        log.exception("Analysis %s failed", run_id)
        run.status, run.error = "failed", f"{type(error).__name__}: {error}"[:2000]
        run.result = {"traceback": traceback.format_exc()[-4000:]}
    else:
        run.status, run.result = "done", stored
    run.finished_at = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        run = session.merge(run)
        run.stage = ""
        session.commit()
        return run


def set_stage(engine: Engine, run_id: int, stage: str) -> None:
    """Record (and commit at once) what analysis ``run_id`` is doing now."""
    with engine.begin() as connection:
        connection.execute(sa_update(AnalysisRun).where(col(AnalysisRun.id) == run_id).values(stage=stage[:80]))


def run_pending(engine: Engine, *, limit: int = 1, reader: Engine | None = None) -> list[AnalysisRun]:
    """Run up to ``limit`` queued analyses, oldest first (a scheduler tick runs one); ``reader`` as for
    :func:`execute`."""
    with Session(engine) as session:
        ids = session.exec(
            select(AnalysisRun.id).where(AnalysisRun.status == "queued").order_by(col(AnalysisRun.id)).limit(limit)
        ).all()
    done = []
    for run_id in ids:
        if run_id is not None and claim_queued(engine, AnalysisRun, run_id):
            done.append(execute(engine, run_id, reader=reader))
    return done


def runs_of(*, session: Session, study: Study) -> list[tuple[AnalysisRun, Cohort]]:
    """The study's analyses, newest first."""
    rows = session.exec(
        select(AnalysisRun, Cohort)
        .join(Cohort, col(Cohort.id) == AnalysisRun.cohort_id)
        .where(AnalysisRun.study_id == study.id)
        .order_by(col(AnalysisRun.id).desc())
    ).all()
    return [(run, cohort) for run, cohort in rows]

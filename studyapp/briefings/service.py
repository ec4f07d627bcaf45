"""Generating briefings: one per organisation with coded participants in a wave, and one for the sample."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from studyapp.briefings.coding import code_participants
from studyapp.briefings.content import figures, wave_people
from studyapp.briefings.notify import queue_notices
from studyapp.briefings.render import render_pdf
from studyapp.core import audit
from studyapp.core.models import Briefing, Cohort, Organisation, Study, User, Wave, key


@dataclass
class GenerationReport:
    """What one run made."""

    organisation_briefings: int
    sample_briefings: int
    below_threshold: list[str]  # organisations without a table of their own: too small, or all suppressed
    notices: int


def generate_briefings(
    *,
    session: Session,
    wave: Wave,
    min_cell: int,
    languages: tuple[str, ...] = ("nl", "en"),
    user: User | None = None,
) -> GenerationReport:
    """(Re)make the wave's briefings: every organisation with coded participants, and the sample-wide one.

    Every briefing shows the whole sample's figures in every section. An organisation's own figures stand
    beside them where they can be shown; an organisation with fewer than ``min_cell`` participants in the
    wave, or whose every table would be (nearly) all suppressed, gets a sentence in each section saying why
    and is listed in :attr:`GenerationReport.below_threshold`. Earlier briefings of the same wave are
    replaced; contacts are notified.
    Raises :class:`studyapp.briefings.content.NoAnalysis` when no finished analysis covers the wave.
    """
    cohort = session.get_one(Cohort, wave.cohort_id)
    study = session.get_one(Study, cohort.study_id)
    code_participants(session=session, study=study)
    data = wave_people(session=session, wave=wave)
    organisation_ids = sorted({int(i) for i in data.people["organisation_id"].dropna().unique()})
    organisations = (
        session.exec(select(Organisation).where(col(Organisation.id).in_(organisation_ids))).all()
        if organisation_ids
        else []
    )
    session.exec(delete(Briefing).where(col(Briefing.wave_id) == wave.id))
    report = GenerationReport(0, 0, [], 0)
    sample = figures(data, None, min_cell=min_cell)
    for language in languages:
        for organisation in [None, *organisations]:
            shown = figures(data, organisation, min_cell=min_cell, sample=sample) if organisation else sample
            pdf, _ = render_pdf(shown, study=study, language=language, analysis_id=data.analysis_id)
            briefing = Briefing(
                study_id=key(study),
                organisation_id=organisation.id if organisation else None,
                wave_id=wave.id,
                language=language,
                pdf=pdf,
                checksum=hashlib.sha256(pdf).hexdigest(),
                created_by_id=user.id if user else None,
            )
            session.add(briefing)
            session.flush()
            if organisation is None:
                report.sample_briefings += 1
                continue
            report.organisation_briefings += 1
            if shown.nothing_own and language == languages[0]:
                report.below_threshold.append(organisation.name)
            report.notices += queue_notices(session=session, briefing=briefing)
    audit.record(
        session=session,
        action="briefings.generated",
        user=user,
        actor="" if user else "scheduler",
        target_type="wave",
        target_id=wave.id,
        detail={
            "organisations": report.organisation_briefings,
            "sample": report.sample_briefings,
            "below_threshold": len(report.below_threshold),
        },
    )
    return report


def briefings_for(*, session: Session, organisation_id: int) -> list[tuple[Briefing, Study, Wave | None]]:
    """An organisation's briefings, newest first (what its contacts may see)."""
    rows = session.exec(
        select(Briefing, Study, Wave)
        .join(Study, col(Study.id) == Briefing.study_id)
        .outerjoin(Wave, col(Wave.id) == Briefing.wave_id)
        .where(Briefing.organisation_id == organisation_id)
        .order_by(col(Briefing.created_at).desc(), col(Briefing.id).desc())
    ).all()
    return [(b, s, w) for b, s, w in rows]

"""Generating briefings: one per organisation with coded participants in a wave, and one for the sample."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from studyapp.briefings.coding import code_participants
from studyapp.briefings.content import figures, wave_people
from studyapp.briefings.notify import queue_notices
from studyapp.briefings.render import render_pdf
from studyapp.core import audit
from studyapp.core.models import Briefing, Cohort, Organisation, Study, User, Wave, key
from studyapp.core.types import utcnow


@dataclass
class GenerationReport:
    """What one run made."""

    organisation_briefings: int
    sample_briefings: int
    below_threshold: list[str]  # organisations without a table of their own: too small, or all suppressed
    notices: int
    version: int = 1
    superseded: int = 0
    withdrawn: int = 0


def generate_briefings(
    *,
    session: Session,
    wave: Wave,
    min_cell: int,
    languages: tuple[str, ...] = ("nl", "en"),
    user: User | None = None,
    withdraw_earlier: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationReport:
    """Make a new version of the wave's briefings: every organisation with coded participants, and the sample.

    Every briefing shows the whole sample's figures in every section. An organisation's own figures stand
    beside them where they can be shown; an organisation with fewer than ``min_cell`` participants in the
    wave, or whose every table would be (nearly) all suppressed, gets a sentence in each section saying why
    and is listed in :attr:`GenerationReport.below_threshold`. The wave's current briefings are marked
    superseded (still the organisation's to download) or, with ``withdraw_earlier``, also withdrawn; nothing
    is deleted, so no id is reused. Each active contact gets one notice per version, naming the briefing in
    the contact's language.

    Every PDF is rendered before anything is written, and ``progress(made, total)`` is called after each
    one: a background job records it from another connection, which a write here would block (SQLite).
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
    rendered: list[tuple[str, Organisation | None, bytes, bool]] = []
    total = len(languages) * (1 + len(organisations))
    if progress is not None:
        progress(0, total)
    sample = figures(data, None, min_cell=min_cell)
    # the figures (and their suppression) once per organisation, whatever the number of languages
    own = {key(o): figures(data, o, min_cell=min_cell, sample=sample) for o in organisations}
    for language in languages:
        for organisation in [None, *organisations]:
            shown = own[key(organisation)] if organisation else sample
            pdf, _ = render_pdf(shown, study=study, language=language, analysis_id=data.analysis_id)
            rendered.append((language, organisation, pdf, shown.nothing_own))
            if progress is not None:
                progress(len(rendered), total)
    latest = session.exec(select(func.max(Briefing.version)).where(Briefing.wave_id == wave.id)).one()
    report = GenerationReport(0, 0, [], 0, version=int(latest or 0) + 1)
    now = utcnow()
    for earlier in session.exec(
        select(Briefing).where(Briefing.wave_id == wave.id, col(Briefing.superseded_at).is_(None))
    ).all():
        earlier.superseded_at = now
        report.superseded += 1
        if withdraw_earlier and earlier.withdrawn_at is None:
            earlier.withdrawn_at = now
            report.withdrawn += 1
        session.add(earlier)
    made: dict[int, dict[str, Briefing]] = {}
    for language, organisation, pdf, sample_only in rendered:
        briefing = Briefing(
            study_id=key(study),
            organisation_id=organisation.id if organisation else None,
            wave_id=wave.id,
            language=language,
            pdf=pdf,
            checksum=hashlib.sha256(pdf).hexdigest(),
            created_by_id=user.id if user else None,
            version=report.version,
        )
        session.add(briefing)
        session.flush()
        if organisation is None:
            report.sample_briefings += 1
            continue
        report.organisation_briefings += 1
        made.setdefault(key(organisation), {})[language] = briefing
        if sample_only and language == languages[0]:
            report.below_threshold.append(organisation.name)
    for by_language in made.values():
        report.notices += queue_notices(session=session, briefings=by_language)
    audit.record(
        session=session,
        action="briefings.generated",
        user=user,
        actor="" if user else "scheduler",
        target_type="wave",
        target_id=wave.id,
        detail={
            "version": report.version,
            "organisations": report.organisation_briefings,
            "sample": report.sample_briefings,
            "below_threshold": len(report.below_threshold),
            "superseded": report.superseded,
            "withdrawn": report.withdrawn,
        },
    )
    return report


def briefing_detail(*, session: Session, briefing: Briefing) -> dict[str, object]:
    """What an audit entry about ``briefing`` records, so that it keeps its meaning: organisation, wave,
    language, version and whether it was superseded or withdrawn at the time."""
    organisation = session.get(Organisation, briefing.organisation_id) if briefing.organisation_id else None
    wave = session.get(Wave, briefing.wave_id) if briefing.wave_id else None
    return {
        "organisation": organisation.name if organisation else None,
        "organisation_id": briefing.organisation_id,
        "wave": wave.label if wave else None,
        "wave_id": briefing.wave_id,
        "language": briefing.language,
        "version": briefing.version,
        "superseded": briefing.superseded_at is not None,
        "withdrawn": briefing.withdrawn_at is not None,
    }


def briefings_for(*, session: Session, organisation_id: int) -> list[tuple[Briefing, Study, Wave | None]]:
    """An organisation's briefings that are not withdrawn, newest first (what its contacts may see)."""
    rows = session.exec(
        select(Briefing, Study, Wave)
        .join(Study, col(Study.id) == Briefing.study_id)
        .outerjoin(Wave, col(Wave.id) == Briefing.wave_id)
        .where(Briefing.organisation_id == organisation_id, col(Briefing.withdrawn_at).is_(None))
        .order_by(col(Briefing.created_at).desc(), col(Briefing.id).desc())
    ).all()
    return [(b, s, w) for b, s, w in rows]

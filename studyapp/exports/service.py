"""Assembling pseudonymised exports from the database: by study, cohort and wave; audit-logged."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard, get_args

import pandas as pd
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.models import (
    Answer,
    Cohort,
    Facet,
    Instrument,
    InstrumentSection,
    Invitation,
    Item,
    Participant,
    Response,
    Study,
    User,
    Wave,
    key,
)
from studyapp.core.types import utcnow
from studyapp.exports.writers import ExportData, Kind, Variable, write_all

FORMATS = ("long_csv", "wide_csv", "sav", "parquet", "codebook_json", "codebook_html")


@dataclass(frozen=True)
class ExportScope:
    """Which data an export holds: a study, optionally some cohorts and waves, labels in a language."""

    study: Study
    cohort_ids: Sequence[int] = ()
    wave_ids: Sequence[int] = ()
    language: str = "en"

    def describe(self, cohorts: list[Cohort], waves: list[Wave]) -> str:
        return (
            f"study {self.study.slug}; cohorts: {', '.join(c.name for c in cohorts) or 'none'}; "
            f"waves: {', '.join(sorted({w.label for w in waves})) or 'none'}"
        )


def _selected(session: Session, scope: ExportScope) -> tuple[list[Cohort], list[Wave]]:
    cohort_query = select(Cohort).where(Cohort.study_id == scope.study.id)
    if scope.cohort_ids:
        cohort_query = cohort_query.where(col(Cohort.id).in_(list(scope.cohort_ids)))
    cohorts = list(session.exec(cohort_query.order_by(Cohort.name)))
    wave_query = select(Wave).where(col(Wave.cohort_id).in_([c.id for c in cohorts]))
    if scope.wave_ids:
        wave_query = wave_query.where(col(Wave.id).in_(list(scope.wave_ids)))
    waves = list(session.exec(wave_query.order_by(col(Wave.cohort_id), col(Wave.position))))
    return cohorts, waves


def _is_kind(value: str) -> TypeGuard[Kind]:
    return value in get_args(Kind)


def _variables(session: Session, instrument_ids: list[int], language: str) -> tuple[list[Variable], dict[int, str]]:
    """Item variables in questionnaire order (the union over instruments, by item code)."""
    rows = session.exec(
        select(Item, InstrumentSection.code, Facet.code)
        .join(InstrumentSection, col(InstrumentSection.id) == Item.section_id)
        .outerjoin(Facet, col(Facet.id) == Item.facet_id)
        .where(col(Item.instrument_id).in_(instrument_ids))
        .order_by(col(Item.instrument_id), col(InstrumentSection.position), col(Item.position))
    ).all()
    variables: dict[str, Variable] = {}
    names: dict[int, str] = {}
    for item, section, facet in rows:
        names[key(item)] = item.code
        if item.code in variables:
            continue
        if not _is_kind(item.type):  # the items' type_known constraint allows only these
            raise ValueError(f"item {item.code!r} has an unknown type {item.type!r}")
        labels = {}
        if item.type in ("scale", "choice"):
            labels = {
                int(o["value"]): str(o["label"].get(language) or next(iter(o["label"].values()))) for o in item.options
            }
        variables[item.code] = Variable(
            name=item.code,
            label=item.text.get(language) or next(iter(item.text.values())),
            kind=item.type,
            value_labels=labels,
            section=section,
            facet=facet,
            reverse=item.reverse,
            min_value=item.min_value,
            max_value=item.max_value,
        )
    return list(variables.values()), names


def build_export_data(*, session: Session, scope: ExportScope) -> ExportData:
    """The export's frames for ``scope``: pseudonyms, never identities."""
    cohorts, waves = _selected(session, scope)
    cohort_names = {c.id: c.name for c in cohorts}
    wave_by_id = {w.id: w for w in waves}
    instrument_ids = sorted({w.instrument_id for w in waves})
    variables, item_names = _variables(session, instrument_ids, scope.language)
    response_rows = session.exec(
        select(Response, Invitation.wave_id, Participant.pseudonym, Participant.cohort_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .where(col(Invitation.wave_id).in_(list(wave_by_id)))
    ).all()
    responses = pd.DataFrame(
        [
            {
                "pseudonym": pseudonym,
                "cohort": cohort_names[cohort_id],
                "wave": wave_by_id[wave_id].label,
                "wave_position": wave_by_id[wave_id].position,
                "started_at": r.started_at,
                "submitted_at": r.submitted_at,
                "source": r.source,
                "language": r.language,
            }
            for r, wave_id, pseudonym, cohort_id in response_rows
        ],
        columns=[
            "pseudonym",
            "cohort",
            "wave",
            "wave_position",
            "started_at",
            "submitted_at",
            "source",
            "language",
        ],
    )
    keys = {
        r.id: (pseudonym, cohort_names[cohort_id], wave_by_id[wave_id])
        for r, wave_id, pseudonym, cohort_id in response_rows
    }
    answer_rows = (
        session.exec(
            select(Answer.response_id, Answer.item_id, Answer.value_number, Answer.value_text).where(
                col(Answer.response_id).in_(list(keys))
            )
        ).all()
        if keys
        else []
    )
    answers = pd.DataFrame(
        [
            {
                "pseudonym": keys[rid][0],
                "cohort": keys[rid][1],
                "wave": keys[rid][2].label,
                "wave_position": keys[rid][2].position,
                "item": item_names[item_id],
                "value_number": number,
                "value_text": text,
            }
            for rid, item_id, number, text in answer_rows
        ],
        columns=["pseudonym", "cohort", "wave", "wave_position", "item", "value_number", "value_text"],
    )
    instruments = [session.get(Instrument, i) for i in instrument_ids]
    meta = {
        "study": scope.study.name,
        "instrument": ", ".join(f"{i.code} {i.version}" for i in instruments if i is not None),
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "language": scope.language,
        "scope": scope.describe(cohorts, waves),
    }
    return ExportData(answers=answers, responses=responses, variables=variables, meta=meta)


def export_to_folder(
    *,
    session: Session,
    scope: ExportScope,
    folder: Path,
    formats: Sequence[str] = FORMATS,
    user: User | None = None,
    ip_address: str = "",
    raw_text: bool = False,
) -> dict[str, Path]:
    """Write the chosen formats into ``folder`` and audit-log the export.

    CSV text that a spreadsheet would run as a formula gets a leading ``'``; ``raw_text=True`` (for R
    and Python users) writes it as given, and the audit event records which it was.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format(s): {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    data = build_export_data(session=session, scope=scope)
    folder.mkdir(parents=True, exist_ok=True)
    paths = write_all(data, folder, formats=tuple(formats), prefix=scope.study.slug, raw_text=raw_text)
    audit.record(
        session=session,
        action="data.exported",
        user=user,
        actor="cli" if user is None else "",
        target_type="study",
        target_id=scope.study.id,
        ip_address=ip_address,
        detail={
            "formats": list(formats),
            "scope": data.meta["scope"],
            "language": scope.language,
            "responses": len(data.responses),
            "answers": len(data.answers),
            "raw_text": raw_text,
        },
    )
    return paths


def export_zip(
    *,
    session: Session,
    scope: ExportScope,
    formats: Sequence[str] = FORMATS,
    user: User | None = None,
    ip_address: str = "",
    raw_text: bool = False,
) -> bytes:
    """The export as one zip archive (for download); ``raw_text`` as for :func:`export_to_folder`."""
    with tempfile.TemporaryDirectory() as folder:
        paths = export_to_folder(
            session=session,
            scope=scope,
            folder=Path(folder),
            formats=formats,
            user=user,
            ip_address=ip_address,
            raw_text=raw_text,
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths.values():
                archive.write(path, arcname=path.name)
    return buffer.getvalue()

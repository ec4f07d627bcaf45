"""A participant's own data written out: JSON and CSV to take elsewhere (GDPR Art. 20), HTML and PDF to read.

The machine-readable files name their fields in English and hold values as stored (codes, numbers, UTC
times in ISO 8601), so that another service can read them; the questions and answer options are in the
copy's language. The CSV has one row per fact (long format) and neutralises text that a spreadsheet
would run as a formula, as the study's exports do.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from flask import render_template

from studyapp.core.spreadsheet_safety import SafeWriter
from studyapp.own_data.collect import OwnData
from studyapp.reports import render_report_pdf

#: Names and versions the JSON file's layout, for a reader that meets a later one.
JSON_FORMAT = "bridge-the-gap/own-data/1"
CSV_COLUMNS = ("record", "wave", "field", "question", "value", "label", "note", "time")


def _time(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def as_dict(data: OwnData) -> dict[str, Any]:
    """The copy as plain JSON-ready values (the layout of :data:`JSON_FORMAT`)."""
    return {
        "format": JSON_FORMAT,
        "made_at": _time(data.made_at),
        "language": data.language,
        "study": data.study,
        "cohort": data.cohort,
        "participant": {
            "pseudonym": data.pseudonym,
            "status": data.status,
            "enrolled_at": _time(data.enrolled_at),
            "email": data.email,
            "name": data.name,
            "language": data.contact_language,
            "student_number_kept_as_keyed_hash": data.external_id_kept,
            "enrolment_list": data.frame,
            "employer": data.organisation,
        },
        "answers_kept_on_leaving": data.keeps_data,
        "contact_details_erased_on": _time(data.identity_retention_until),
        "contact_details_erased_at": _time(data.identities_erased_at),
        "latest_analysis_finished_at": _time(data.analysis_finished_at),
        "waves": [
            {
                "wave": wave.label,
                "state": wave.state,
                "invited_at": _time(wave.invited_at),
                "opened_at": _time(wave.opened_at),
                "started_at": _time(wave.started_at),
                "submitted_at": _time(wave.submitted_at),
                "language": wave.language,
                "source": wave.source,
                "profile": wave.profile,
                "dropout_weight": wave.weight,
                "answers": [
                    {
                        "section": answer.section,
                        "item": answer.code,
                        "question": answer.question,
                        "value": answer.value,
                        "label": answer.label or None,
                        "shown": answer.shown,
                    }
                    for answer in wave.answers
                ],
            }
            for wave in data.waves
        ],
        "consent_history": [
            {"kind": e.kind, "at": _time(e.at), "by": e.actor, "answers_kept_on_leaving": e.keep_data, "note": e.note}
            for e in data.consent
        ],
        "messages": [
            {
                "kind": m.kind,
                "wave": m.wave,
                "status": m.status,
                "planned_at": _time(m.planned_at),
                "sent_at": _time(m.sent_at),
            }
            for m in data.messages
        ],
        "contact_details_viewed": [{"at": _time(v.at), "purpose": v.purpose} for v in data.identity_views],
    }


def to_json(data: OwnData) -> bytes:
    """The copy as UTF-8 JSON (readable: indented, non-ASCII kept)."""
    return json.dumps(as_dict(data), ensure_ascii=False, indent=2).encode("utf-8")


def _row(
    record: str,
    field: str,
    *,
    wave: str = "",
    question: str = "",
    value: Any = "",
    label: str = "",
    note: str = "",
    time: datetime | None = None,
) -> tuple[Any, ...]:
    return (record, wave, field, question, value, label, note, _time(time) or "")


def _csv_rows(data: OwnData) -> list[tuple[Any, ...]]:
    rows = [
        _row("participant", "pseudonym", value=data.pseudonym),
        _row("participant", "status", value=data.status),
        _row("participant", "enrolled", time=data.enrolled_at),
        _row("participant", "email", value=data.email or ""),
        _row("participant", "name", value=data.name or ""),
        _row("participant", "language", value=data.contact_language or ""),
        _row("participant", "employer", value=data.organisation or ""),
        _row("participant", "answers_kept_on_leaving", value="yes" if data.keeps_data else "no"),
    ]
    rows += [_row("enrolment_list", name, value=value) for name, value in data.frame.items()]
    for wave in data.waves:
        label = wave.label
        rows.append(_row("wave", "state", wave=label, value=wave.state))
        moments = {
            "invited": wave.invited_at,
            "opened": wave.opened_at,
            "started": wave.started_at,
            "submitted": wave.submitted_at,
        }
        rows += [_row("wave", name, wave=label, time=at) for name, at in moments.items() if at is not None]
        if wave.profile is not None:
            rows.append(_row("wave", "profile", wave=label, value=wave.profile))
        if wave.weight is not None:
            rows.append(_row("wave", "dropout_weight", wave=label, value=f"{wave.weight:.6g}"))
        rows += [
            _row(
                "answer",
                a.code,
                wave=label,
                question=a.question,
                value=a.value,
                label=a.label,
                note="" if a.shown else "skipped by a later answer",
            )
            for a in wave.answers
        ]
    rows += [_row("consent", e.kind, value=e.actor, note=e.note, time=e.at) for e in data.consent]
    rows += [
        _row("message", m.kind, wave=m.wave or "", value=m.status, time=m.sent_at or m.planned_at)
        for m in data.messages
    ]
    rows += [_row("contact_details_viewed", "purpose", value=v.purpose, time=v.at) for v in data.identity_views]
    return rows


def to_csv(data: OwnData) -> bytes:
    """The copy as one UTF-8 CSV (with a byte-order mark, so that Excel reads the accents), one fact a row."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(data))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_pdf(data: OwnData) -> bytes:
    """The copy as an A4 PDF with the same sections as the participant's page."""
    html = render_template("own_data/copy_pdf.html", data=data, lang=data.language)
    return render_report_pdf(html)

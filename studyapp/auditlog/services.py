"""Querying and exporting the audit log."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from studyapp.core.models import AuditEvent
from studyapp.core.spreadsheet_safety import SafeWriter


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show: action prefix, actor text, target, and a date range (study time zone)."""

    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    since: date | None = None
    until: date | None = None
    timezone: str = "Europe/Amsterdam"


def _query(f: AuditFilter) -> SelectOfScalar[AuditEvent]:
    query = select(AuditEvent)
    if f.action:
        query = query.where(col(AuditEvent.action).startswith(f.action))
    if f.actor:
        query = query.where(col(AuditEvent.actor).contains(f.actor.lower()))
    if f.target_type:
        query = query.where(AuditEvent.target_type == f.target_type)
    if f.target_id:
        query = query.where(AuditEvent.target_id == f.target_id)
    zone = ZoneInfo(f.timezone)
    if f.since:
        query = query.where(col(AuditEvent.at) >= datetime.combine(f.since, time(), zone))
    if f.until:
        query = query.where(col(AuditEvent.at) < datetime.combine(f.until + timedelta(days=1), time(), zone))
    return query


def list_events(
    *, session: Session, filters: AuditFilter, page: int = 1, per_page: int = 100
) -> tuple[list[AuditEvent], int]:
    """A page of matching events, newest first, and the number that match."""
    query = _query(filters)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    events = session.exec(
        query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(events), int(total)


def action_names(*, session: Session) -> list[str]:
    """The distinct actions in the log, for the filter menu."""
    return list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all())


def events_csv(*, session: Session, filters: AuditFilter) -> str:
    """All matching events as CSV (UTF-8), oldest first; no cell runs as a formula in a spreadsheet."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["at_utc", "actor", "action", "target_type", "target_id", "detail", "ip_address"])
    for event in session.exec(_query(filters).order_by(col(AuditEvent.at), col(AuditEvent.id))):
        writer.writerow(
            [
                event.at.isoformat(),
                event.actor,
                event.action,
                event.target_type,
                event.target_id,
                json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                event.ip_address,
            ]
        )
    return out.getvalue()

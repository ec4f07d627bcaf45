"""Admin pages of the audit log."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user

from studyapp.auditlog.services import AuditFilter, action_names, events_csv, list_events
from studyapp.auth import admin_required
from studyapp.core import audit
from studyapp.database import get_session

bp = Blueprint("auditlog", __name__)


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> AuditFilter:
    return AuditFilter(
        action=request.args.get("action", "").strip(),
        actor=request.args.get("actor", "").strip(),
        target_type=request.args.get("target_type", "").strip(),
        target_id=request.args.get("target_id", "").strip(),
        since=_date("since"),
        until=_date("until"),
        timezone=current_app.config["STUDYAPP_SETTINGS"].timezone,
    )


@bp.route("/audit")
@admin_required
def index():
    """The audit log, newest first, with filters."""
    filters = _filters()
    page = request.args.get("page", 1, type=int)
    events, total = list_events(session=get_session(), filters=filters, page=page)
    return render_template(
        "auditlog/index.html",
        events=events,
        total=total,
        page=page,
        filters=filters,
        actions=action_names(session=get_session()),
        query=request.args.to_dict(),
    )


@bp.route("/audit.csv")
@admin_required
def export_csv():
    """The filtered audit log as CSV (the export itself is logged)."""
    filters = _filters()
    session = get_session()
    body = events_csv(session=session, filters=filters)
    audit.record(
        session=session,
        action="audit.exported",
        user=current_user,
        ip_address=request.remote_addr or "",
        detail={k: v for k, v in request.args.items()},
    )
    session.commit()
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=audit-log.csv"})

"""Admin pages of the audit log."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user

from studyapp.auditlog.services import AuditFilter, action_names, events_csv, list_events
from studyapp.auth import admin_required
from studyapp.core import audit
from studyapp.core.inputs import column_length
from studyapp.core.models import AuditEvent
from studyapp.database import get_session
from studyapp.inputs import query_date, query_int, query_text

bp = Blueprint("auditlog", __name__)
#: Far beyond any log (100 events a page); the offset it makes fits every database.
_MAX_PAGE = 1_000_000


def _filters(*, strict: bool = False) -> AuditFilter:
    """The filters in the address: on the page a bad one is ignored (and said so), for the CSV a 400."""
    return AuditFilter(
        action=query_text("action", max_length=column_length(AuditEvent.action), strict=strict),
        actor=query_text("actor", max_length=column_length(AuditEvent.actor), strict=strict),
        target_type=query_text("target_type", max_length=column_length(AuditEvent.target_type), strict=strict),
        target_id=query_text("target_id", max_length=column_length(AuditEvent.target_id), strict=strict),
        since=query_date("since", strict=strict),
        until=query_date("until", strict=strict),
        timezone=current_app.config["STUDYAPP_SETTINGS"].timezone,
    )


@bp.route("/audit")
@admin_required
def index():
    """The audit log, newest first, with filters."""
    filters = _filters()
    page = query_int("page", default=1, maximum=_MAX_PAGE) or 1
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
    filters = _filters(strict=True)
    session = get_session()
    body = events_csv(session=session, filters=filters)
    audit.record(
        session=session,
        action="audit.exported",
        user=current_user,
        ip_address=request.remote_addr or "",
        detail={k[:40]: v[:100] for k, v in request.args.items()},  # the filters were checked above
    )
    session.commit()
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=audit-log.csv"})

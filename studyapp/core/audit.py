"""Writing to the audit log."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from studyapp.core.inputs import column_length
from studyapp.core.models import AuditEvent, User


def record(
    *,
    session: Session,
    action: str,
    user: User | None = None,
    actor: str = "",
    target_type: str = "",
    target_id: object = "",
    detail: dict[str, Any] | None = None,
    ip_address: str = "",
) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the caller's unit of work)."""
    event = AuditEvent(
        user_id=user.id if user else None,
        actor=user.email if user else actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id != "" else "",
        detail=detail or {},
        # behind a proxy the address comes from X-Forwarded-For: never let its length fail the action
        ip_address=(ip_address or "")[: column_length(AuditEvent.ip_address)],
    )
    session.add(event)
    return event

"""The audit log: who saw, exported or changed what."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from studyapp.core.models._common import created_at_field, json_field


class AuditEvent(SQLModel, table=True):
    """One audited action. Outlives the user who did it (SET NULL; their e-mail is kept)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL", index=True)
    actor: str = Field(default="", max_length=254)
    action: str = Field(max_length=80, index=True)
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = json_field()
    ip_address: str = Field(default="", max_length=45)

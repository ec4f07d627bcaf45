"""Uploaded files waiting for a researcher's confirmation after a preview."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import created_at_field, in_list, json_field

UPLOAD_KINDS = ("enrolment", "responses")


class PendingUpload(SQLModel, table=True):
    """An import file between preview and confirmation, encrypted (it may hold identities).

    Goes with its study or uploader (CASCADE); old ones are purged.
    """

    __tablename__ = "pending_upload"
    __table_args__ = (CheckConstraint(in_list("kind", UPLOAD_KINDS), name="kind_known"),)

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=20)
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    filename: str = Field(max_length=255)
    payload_encrypted: str
    options: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()


class LinkageCode(SQLModel, table=True):
    """A response's self-generated identification code, kept as one keyed hash per element.

    Deleted with its response (CASCADE). Equal elements give equal hashes, so matching works without
    the answers (quasi-identifiers) ever being stored.
    """

    __tablename__ = "linkage_code"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE", unique=True)
    elements: list[str | None] = json_field(default_factory=list)
    created_at: datetime = created_at_field()

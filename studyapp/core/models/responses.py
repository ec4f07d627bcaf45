"""Responses to a wave and their answers, saved page by page."""

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import LANGUAGES, created_at_field, in_list, timestamp_field

RESPONSE_SOURCES = ("web", "import")


class Response(SQLModel, table=True):
    """A participant's answers to one invitation (at most one response per invitation).

    An invitation with a response cannot be deleted (RESTRICT): data leave only through erasure.
    """

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint(in_list("language", LANGUAGES), name="language_known"),
        CheckConstraint(in_list("source", RESPONSE_SOURCES), name="source_known"),
        CheckConstraint("submitted_at IS NULL OR submitted_at >= started_at", name="submitted_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="RESTRICT", unique=True)
    language: str = Field(default="nl", max_length=2)
    source: str = Field(default="web", max_length=10)
    current_section: str = Field(default="", max_length=60)
    started_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    submitted_at: datetime | None = timestamp_field()


class Answer(SQLModel, table=True):
    """One answer to one item; deleted with its response (CASCADE), items with answers stay."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("response_id", "item_id"),
        CheckConstraint("value_number IS NOT NULL OR value_text IS NOT NULL", name="has_value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE", index=True)
    item_id: int = Field(foreign_key="item.id", ondelete="RESTRICT", index=True)
    value_number: int | None = None
    value_text: str | None = None
    updated_at: datetime = created_at_field()

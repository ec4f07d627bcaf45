"""Participants under pseudonyms, their identities kept apart, and consent events."""

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import LANGUAGES, created_at_field, in_list, json_field, timestamp_field

PARTICIPANT_STATUSES = ("active", "unsubscribed", "withdrawn", "erased")
CONSENT_EVENT_KINDS = (
    "consent_given",
    "mail_stopped",
    "mail_resumed",
    "withdrawn",
    "erasure_requested",
    "erased",
)
ACTORS = ("participant", "researcher", "system")


class Participant(SQLModel, table=True):
    """A person in a cohort, known to research data only by a keyed pseudonym.

    Deleting a cohort with participants is refused (RESTRICT); an employer organisation that is
    deleted only unlinks them (SET NULL).
    """

    __tablename__ = "participant"
    __table_args__ = (
        CheckConstraint(in_list("status", PARTICIPANT_STATUSES), name="status_known"),
        CheckConstraint("pseudonym <> ''", name="pseudonym_present"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=64, unique=True)
    cohort_id: int = Field(foreign_key="cohort.id", ondelete="RESTRICT", index=True)
    status: str = Field(default="active", max_length=20)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="SET NULL", index=True)
    # The study's frame variables as the enrolment list gave them (name -> value; absent: unknown).
    frame: dict[str, str] = json_field()
    enrolled_at: datetime = created_at_field()


class Identity(SQLModel, table=True):
    """Who a participant is: encrypted contact details, stored apart from research data.

    Deleted with its participant (CASCADE); erasing it leaves the participant pseudonymous.
    """

    __tablename__ = "identity"
    __table_args__ = (CheckConstraint(in_list("language", LANGUAGES), name="language_known"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", ondelete="CASCADE", unique=True)
    email_encrypted: str
    name_encrypted: str = Field(default="")
    email_hash: str = Field(max_length=64, index=True)
    external_id_hash: str | None = Field(default=None, max_length=64, index=True)
    language: str = Field(default="nl", max_length=2)
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class ConsentEvent(SQLModel, table=True):
    """A consent, stop, withdrawal or erasure step, kept as evidence (RESTRICT on the participant)."""

    __tablename__ = "consent_event"
    __table_args__ = (
        CheckConstraint(in_list("kind", CONSENT_EVENT_KINDS), name="kind_known"),
        CheckConstraint(in_list("actor", ACTORS), name="actor_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", ondelete="RESTRICT", index=True)
    kind: str = Field(max_length=30)
    keep_data: bool | None = None
    actor: str = Field(max_length=20)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(default="")
    created_at: datetime = created_at_field()

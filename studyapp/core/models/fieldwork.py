"""Invitations to waves, the transactional e-mail outbox, and scheduler heartbeats."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import LANGUAGES, created_at_field, in_list, json_field, timestamp_field

INVITATION_STATES = ("planned", "sent", "opened", "started", "completed", "failed")  # see core.lifecycle
OUTBOX_KINDS = ("invitation", "reminder", "test", "notification", "account")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
# The rows a dispatcher may claim next, and the rows it holds. The claim queries state both conditions with
# literal values (not bound parameters) so that both databases use these partial indexes; ``status`` leads
# both indexes so that SQLite prefers them to the index on ``status`` alone.
CLAIMABLE = "status = 'pending' AND held_for_wave_id IS NULL"
CLAIMED = "status = 'sending'"


class Invitation(SQLModel, table=True):
    """A participant's place in one wave: one per participant and wave.

    Personal-link tokens live in :class:`InvitationToken` (hashes only). Participants and waves with
    invitations cannot be deleted (RESTRICT).
    """

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("participant_id", "wave_id"),
        CheckConstraint(in_list("state", INVITATION_STATES), name="state_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", ondelete="RESTRICT", index=True)
    wave_id: int = Field(foreign_key="wave.id", ondelete="RESTRICT", index=True)
    state: str = Field(default="planned", max_length=20)
    opens_at: datetime | None = timestamp_field()
    closes_at: datetime | None = timestamp_field()
    sent_at: datetime | None = timestamp_field()
    opened_at: datetime | None = timestamp_field()
    completed_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class OutboxMessage(SQLModel, table=True):
    """One e-mail to send, written in the same transaction as the decision to send it.

    The idempotency key makes planning twice harmless and gives the Message-ID. Content is rendered
    at send time, so edited templates reach messages not yet sent. Rows go with their invitation,
    participant or user (CASCADE).

    Dispatchers claim pending rows in ``(not_before, id)`` order from a partial index that holds only
    the claimable rows, so a claim reads the rows it returns and no others, however long the backlog.
    Pending rows of a paused wave are set aside (``held_for_wave_id``) and leave that index until the
    wave resumes (see :mod:`waves.dispatcher`).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index(
            "ix_outbox_message_claim",
            "status",
            "not_before",
            "id",
            sqlite_where=text(CLAIMABLE),
            postgresql_where=text(CLAIMABLE),
        ),
        Index(
            "ix_outbox_message_claimed_by",
            "status",
            "claimed_by",
            sqlite_where=text(CLAIMED),
            postgresql_where=text(CLAIMED),
        ),
        Index(
            "ix_outbox_message_held_for_wave_id",
            "held_for_wave_id",
            sqlite_where=text("held_for_wave_id IS NOT NULL"),
            postgresql_where=text("held_for_wave_id IS NOT NULL"),
        ),
        CheckConstraint(in_list("kind", OUTBOX_KINDS), name="kind_known"),
        CheckConstraint(in_list("status", OUTBOX_STATUSES), name="status_known"),
        CheckConstraint(in_list("language", LANGUAGES), name="language_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("participant_id IS NOT NULL OR user_id IS NOT NULL", name="has_recipient"),
        CheckConstraint("(invitation_id IS NULL) = (wave_id IS NULL)", name="wave_with_invitation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=20)
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id", ondelete="CASCADE", index=True)
    # The invitation's wave, kept on the row so the fieldwork figures count a wave's mail in this table alone.
    wave_id: int | None = Field(default=None, foreign_key="wave.id", ondelete="CASCADE", index=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="CASCADE", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE", index=True)
    language: str = Field(default="nl", max_length=2)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = Field(default=0)
    not_before: datetime = created_at_field()
    last_error: str = Field(default="")
    message_id: str | None = Field(default=None, max_length=255)
    # A dispatcher claims a row before sending; a claim older than the timeout is taken over.
    claimed_by: str = Field(default="", max_length=200)
    claimed_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    sent_at: datetime | None = timestamp_field()
    # The paused wave a pending row waits for (set and cleared by the dispatcher); NULL: free to go.
    held_for_wave_id: int | None = Field(default=None)


class SchedulerHeartbeat(SQLModel, table=True):
    """The last tick of each scheduler process, shown to researchers and operators."""

    __tablename__ = "scheduler_heartbeat"

    name: str = Field(primary_key=True, max_length=200)
    hostname: str = Field(max_length=255)
    pid: int
    started_at: datetime = created_at_field()
    last_tick_at: datetime | None = timestamp_field()
    ticks: int = Field(default=0)
    last_error: str = Field(default="")


class InvitationToken(SQLModel, table=True):
    """The hash of one personal link sent for an invitation; every link sent keeps working.

    A new token is made for each message, so a message repeated after a crash carries a working link
    too. Deleted with the invitation (CASCADE).
    """

    __tablename__ = "invitation_token"

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()


MESSAGE_KINDS = ("invitation", "reminder")


class MessageTemplate(SQLModel, table=True):
    """A study's own wording of invitations or reminders in one language (else the built-in text)."""

    __tablename__ = "message_template"
    __table_args__ = (
        UniqueConstraint("study_id", "kind", "language"),
        CheckConstraint(in_list("kind", MESSAGE_KINDS), name="kind_known"),
        CheckConstraint(in_list("language", LANGUAGES), name="language_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)
    language: str = Field(max_length=2)
    subject: str = Field(max_length=200)
    body: str
    updated_at: datetime = created_at_field()


class MailboxMessage(SQLModel, table=True):
    """A message 'sent' to the built-in mailbox when no SMTP server is configured (local use)."""

    __tablename__ = "mailbox_message"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=255, index=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    raw: str
    created_at: datetime = created_at_field()


class RepresentativenessFigures(SQLModel, table=True):
    """A wave's R-indicator and partial R-indicators as the scheduler last computed them on one day (in the
    study's time zone): one row per wave and day, replaced by each tick of that day, so the rows of a wave
    are its figures over time. Deleted with the wave (CASCADE)."""

    __tablename__ = "representativeness_figures"
    __table_args__ = (UniqueConstraint("wave_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="wave.id", ondelete="CASCADE", index=True)
    day: date
    computed_at: datetime = created_at_field()
    invited: int
    respondents: int
    r_indicator: float
    r_lower: float
    r_upper: float
    # everything else (coefficient of variation, partial indicators per variable and category, the
    # auxiliary variables used, suppression), as :meth:`analysis.representativeness.RIndicator.to_dict` gives it
    figures: dict[str, Any] = json_field()

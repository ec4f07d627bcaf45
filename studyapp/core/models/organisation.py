"""Companies in the study and the briefings generated for them."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import LANGUAGES, created_at_field, in_list, timestamp_field

SECTORS = ("technical_industry", "technical_consultancy", "non_technical", "higher_education")


class Organisation(SQLModel, table=True):
    """An employer that participants' organisation names are coded to."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(f"sector IS NULL OR {in_list('sector', SECTORS)}", name="sector_known"),
        CheckConstraint("name <> ''", name="name_present"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    sector: str | None = Field(default=None, max_length=30)
    created_at: datetime = created_at_field()


class Briefing(SQLModel, table=True):
    """A generated PDF briefing: for one organisation, or sample-wide when ``organisation_id`` is null.

    Briefings are immutable versions: re-making a wave's briefings adds ``version`` + 1 and marks the
    earlier ones ``superseded_at`` (still the organisation's to download) or also ``withdrawn_at`` (no
    longer shown to the organisation; researchers keep every version). A row is never deleted or reused,
    so an id, and every audit entry naming it, keeps its meaning. Briefings are derived documents: they
    go with their organisation, study or wave (CASCADE).
    """

    __tablename__ = "briefing"
    __table_args__ = (
        CheckConstraint(in_list("language", LANGUAGES), name="language_known"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="CASCADE", index=True)
    wave_id: int | None = Field(default=None, foreign_key="wave.id", ondelete="CASCADE")
    language: str = Field(default="nl", max_length=2)
    pdf: bytes = Field(sa_type=LargeBinary)
    checksum: str = Field(max_length=64)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    superseded_at: datetime | None = timestamp_field()
    withdrawn_at: datetime | None = timestamp_field()


BRIEFING_RUN_STATUSES = ("queued", "running", "done", "failed")


class BriefingRun(SQLModel, table=True):
    """Making one wave's briefings in the background: asked for on the briefings page, run by the scheduler.

    ``made`` of ``total`` PDFs is the progress the page shows; ``version`` the version it made. At most one
    queued or running job per wave (a partial unique index), so a second click does not make a second
    version. Deleted with its study or wave (CASCADE).
    """

    __tablename__ = "briefing_run"
    __table_args__ = (
        CheckConstraint(in_list("status", BRIEFING_RUN_STATUSES), name="status_known"),
        CheckConstraint("made >= 0 AND total >= 0", name="progress_not_negative"),
        Index(
            "uq_briefing_run_pending_wave",
            "wave_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE", index=True)
    wave_id: int = Field(foreign_key="wave.id", ondelete="CASCADE")
    status: str = Field(default="queued", max_length=10)
    withdraw_earlier: bool = Field(default=False)
    total: int = Field(default=0)
    made: int = Field(default=0)
    version: int | None = Field(default=None)
    error: str = Field(default="", max_length=2000)
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field()
    finished_at: datetime | None = timestamp_field()


class OrganisationAlias(SQLModel, table=True):
    """An organisation name as participants type it (normalised), coded by a researcher to an organisation.

    New answers with the same name are coded by it too; deleted with the organisation (CASCADE).
    """

    __tablename__ = "organisation_alias"

    id: int | None = Field(default=None, primary_key=True)
    name_key: str = Field(max_length=200, unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()

"""Studies, their cohorts and the scheduled measurement waves of each cohort."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import created_at_field, in_list, json_field, timestamp_field

WAVE_SCHEDULES = ("on_date", "after_enrolment", "after_previous")
LINKAGE_MODES = ("contact", "code")


class Study(SQLModel, table=True):
    """A research study, such as Bridge the Gap."""

    __tablename__ = "study"
    __table_args__ = (CheckConstraint("slug <> '' AND name <> ''", name="slug_and_name_present"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="")
    timezone: str = Field(default="Europe/Amsterdam", max_length=64)
    # Columns of the enrolment list kept for everyone (e.g. institution, gender): the auxiliary variables
    # of the representativeness figures.
    frame_variables: list[str] = json_field(default_factory=list)
    # The day the participants' e-mail addresses and names are erased (research data and pseudonyms stay),
    # and when the scheduler did it (GDPR Art. 5(1)(e): identities kept no longer than needed).
    identity_retention_until: date | None = Field(default=None)
    identities_erased_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class Cohort(SQLModel, table=True):
    """A group of participants followed together over the same waves.

    Deleting a study with cohorts is refused (RESTRICT): cohorts hold participants.
    """

    __tablename__ = "cohort"
    __table_args__ = (
        UniqueConstraint("study_id", "name"),
        CheckConstraint("name <> ''", name="name_present"),
        CheckConstraint(in_list("linkage", LINKAGE_MODES), name="linkage_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", ondelete="RESTRICT", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="")
    # "contact": linked by personal links; "code": anonymous, linked by self-generated codes
    linkage: str = Field(default="contact", max_length=10)
    signup_code: str | None = Field(default=None, max_length=64, unique=True)
    signup_open: bool = Field(default=False)
    created_at: datetime = created_at_field()


class Wave(SQLModel, table=True):
    """One measurement occasion of a cohort.

    A wave opens on a date (``on_date``: ``opens_at`` .. ``closes_at``) or a number of days after each
    participant's enrolment or after the previous wave (``offset_days``, open for ``window_days``).
    Reminders go out ``reminder_days`` days after a participant's window opens. Deleting a cohort
    deletes its waves (CASCADE) but the database refuses while a wave has invitations.
    """

    __tablename__ = "wave"
    __table_args__ = (
        UniqueConstraint("cohort_id", "position"),
        UniqueConstraint("cohort_id", "label"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint(in_list("schedule", WAVE_SCHEDULES), name="schedule_known"),
        CheckConstraint(
            "(schedule = 'on_date' AND opens_at IS NOT NULL AND closes_at IS NOT NULL"
            " AND closes_at > opens_at AND offset_days IS NULL AND window_days IS NULL)"
            " OR (schedule <> 'on_date' AND opens_at IS NULL AND closes_at IS NULL"
            " AND offset_days IS NOT NULL AND offset_days >= 0"
            " AND window_days IS NOT NULL AND window_days >= 1)",
            name="schedule_consistent",
        ),
        CheckConstraint("label <> ''", name="label_present"),
        CheckConstraint(
            "(targeted_reminder_day IS NULL) = (targeted_reminder_budget IS NULL)"
            " AND (targeted_reminder_day IS NULL OR targeted_reminder_day >= 1)"
            " AND (targeted_reminder_budget IS NULL OR targeted_reminder_budget >= 1)",
            name="targeted_reminder_consistent",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", ondelete="CASCADE", index=True)
    position: int
    label: str = Field(max_length=100)
    instrument_id: int = Field(foreign_key="instrument.id", ondelete="RESTRICT", index=True)
    schedule: str = Field(max_length=20)
    opens_at: datetime | None = timestamp_field()
    closes_at: datetime | None = timestamp_field()
    offset_days: int | None = None
    window_days: int | None = None
    reminder_days: list[int] = json_field(default_factory=list)
    # Adaptive design: on this day of fieldwork (counted from the wave's first opening) one extra reminder
    # goes to the categories of the frame variables that lag behind most, at most this many messages.
    targeted_reminder_day: int | None = None
    targeted_reminder_budget: int | None = None
    paused: bool = Field(default=False)
    created_at: datetime = created_at_field()

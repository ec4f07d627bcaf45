"""Forms for studies, cohorts and waves."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from studyapp.core.inputs import column_length
from studyapp.core.models import Cohort, Study, Wave
from studyapp.inputs import MultiLine, OneLine, SaneDate, SelectChoice
from studyapp.studies.schedule import MAX_OFFSET_DAYS, MAX_WINDOW_DAYS

DESCRIPTION_MAX = 5000

SCHEDULE_CHOICES = [
    SelectChoice("on_date", "On a date"),
    SelectChoice("after_enrolment", "A number of days after each participant's enrolment"),
    SelectChoice("after_previous", "A number of days after the previous wave opened"),
]


class StudyForm(FlaskForm):
    """A study's name, address slug, description and time zone."""

    name = StringField("Name", validators=[DataRequired(), OneLine(column_length(Study.name))])
    slug = StringField(
        "Short name",
        validators=[Optional(), OneLine(column_length(Study.slug))],
        description="Lowercase letters, digits and dashes; used in addresses and exports. "
        "Leave it empty to make it from the name.",
    )
    description = TextAreaField("Description", validators=[MultiLine(DESCRIPTION_MAX)])
    timezone = StringField(
        "Time zone",
        default="Europe/Amsterdam",
        validators=[DataRequired(), OneLine(column_length(Study.timezone))],
        description="Wave dates are entered and shown in this time zone.",
    )


class CohortForm(FlaskForm):
    """A cohort's name, description and how its waves are linked."""

    name = StringField("Name", validators=[DataRequired(), OneLine(column_length(Cohort.name))])
    description = TextAreaField("Description", validators=[MultiLine(DESCRIPTION_MAX)])
    linkage = RadioField(
        "Linking waves",
        choices=[
            SelectChoice("contact", "By personal links (contact details kept, encrypted)"),
            SelectChoice("code", "Anonymously, by a self-generated code (no contact details)"),
        ],
        default="contact",
        validators=[DataRequired()],
    )


class DeleteForm(FlaskForm):
    """An empty form, so that deleting carries a CSRF token."""


class WaveForm(FlaskForm):
    """A wave's label, instrument and schedule."""

    label = StringField(
        "Label",
        validators=[DataRequired(), OneLine(column_length(Wave.label))],
        description="Short, e.g. T1 or 'Spring 2027'.",
    )
    instrument_id = SelectField("Instrument", coerce=int, validators=[DataRequired()])
    schedule = RadioField("Opens", choices=SCHEDULE_CHOICES, default="on_date", validators=[DataRequired()])
    opens_at = DateTimeLocalField("Opens at", format="%Y-%m-%dT%H:%M", validators=[Optional(), SaneDate()])
    closes_at = DateTimeLocalField("Closes at", format="%Y-%m-%dT%H:%M", validators=[Optional(), SaneDate()])
    offset_days = IntegerField(
        "Days after",
        validators=[
            Optional(),
            NumberRange(min=0, message="Cannot be negative."),
            NumberRange(max=MAX_OFFSET_DAYS, message=f"At most {MAX_OFFSET_DAYS} days."),
        ],
    )
    window_days = IntegerField(
        "Open for (days)",
        validators=[
            Optional(),
            NumberRange(min=1, message="At least 1 day."),
            NumberRange(max=MAX_WINDOW_DAYS, message=f"At most {MAX_WINDOW_DAYS} days."),
        ],
    )
    reminder_days = StringField(
        "Reminder days",
        validators=[OneLine(200)],
        description="Days after the wave opens for a participant, e.g. 7, 14. Leave empty for none.",
    )
    paused = BooleanField("Paused (no invitations or reminders go out)")

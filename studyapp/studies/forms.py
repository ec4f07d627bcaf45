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
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

SCHEDULE_CHOICES = [
    SelectChoice("on_date", "On a date"),
    SelectChoice("after_enrolment", "A number of days after each participant's enrolment"),
    SelectChoice("after_previous", "A number of days after the previous wave opened"),
]


class StudyForm(FlaskForm):
    """A study's name, address slug, description and time zone."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        "Short name",
        validators=[DataRequired(), Length(max=60)],
        description="Lowercase letters, digits and dashes; used in addresses and exports.",
    )
    description = TextAreaField("Description", validators=[Length(max=5000)])
    timezone = StringField(
        "Time zone",
        default="Europe/Amsterdam",
        validators=[DataRequired(), Length(max=64)],
        description="Wave dates are entered and shown in this time zone.",
    )


class CohortForm(FlaskForm):
    """A cohort's name, description and how its waves are linked."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
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
        "Label", validators=[DataRequired(), Length(max=100)], description="Short, e.g. T1 or 'Spring 2027'."
    )
    instrument_id = SelectField("Instrument", coerce=int, validators=[DataRequired()])
    schedule = RadioField("Opens", choices=SCHEDULE_CHOICES, default="on_date", validators=[DataRequired()])
    opens_at = DateTimeLocalField("Opens at", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField("Closes at", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    offset_days = IntegerField("Days after", validators=[Optional(), NumberRange(min=0, message="Cannot be negative.")])
    window_days = IntegerField(
        "Open for (days)", validators=[Optional(), NumberRange(min=1, message="At least 1 day.")]
    )
    reminder_days = StringField(
        "Reminder days",
        validators=[Length(max=200)],
        description="Days after the wave opens for a participant, e.g. 7, 14. Leave empty for none.",
    )
    paused = BooleanField("Paused (no invitations or reminders go out)")

"""Forms for studies, cohorts and waves."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
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
    SelectChoice("on_date", _l("On a date")),
    SelectChoice("after_enrolment", _l("A number of days after each participant's enrolment")),
    SelectChoice("after_previous", _l("A number of days after the previous wave opened")),
]


class StudyForm(FlaskForm):
    """A study's name, address slug, description and time zone."""

    name = StringField(_l("Name"), validators=[DataRequired(), OneLine(column_length(Study.name))])
    slug = StringField(
        _l("Short name"),
        validators=[Optional(), OneLine(column_length(Study.slug))],
        description=_l(
            "Lowercase letters, digits and dashes; used in addresses and exports. "
            "Leave it empty to make it from the name."
        ),
    )
    description = TextAreaField(_l("Description"), validators=[MultiLine(DESCRIPTION_MAX)])
    timezone = StringField(
        _l("Time zone"),
        default="Europe/Amsterdam",
        validators=[DataRequired(), OneLine(column_length(Study.timezone))],
        description=_l("Wave dates are entered and shown in this time zone."),
    )
    frame_variables = StringField(
        _l("Frame variables"),
        validators=[Optional(), OneLine(400)],
        description=_l(
            "Columns of the enrolment list kept for everyone, e.g. institution, programme, gender: the "
            "fieldwork page shows who lags behind by these. Separate them with commas."
        ),
    )


class CohortForm(FlaskForm):
    """A cohort's name, description and how its waves are linked."""

    name = StringField(_l("Name"), validators=[DataRequired(), OneLine(column_length(Cohort.name))])
    description = TextAreaField(_l("Description"), validators=[MultiLine(DESCRIPTION_MAX)])
    linkage = RadioField(
        _l("Linking waves"),
        choices=[
            SelectChoice("contact", _l("By personal links (contact details kept, encrypted)")),
            SelectChoice("code", _l("Anonymously, by a self-generated code (no contact details)")),
        ],
        default="contact",
        validators=[DataRequired()],
    )


class DeleteForm(FlaskForm):
    """An empty form, so that deleting carries a CSRF token."""


class WaveForm(FlaskForm):
    """A wave's label, instrument and schedule."""

    label = StringField(
        _l("Label"),
        validators=[DataRequired(), OneLine(column_length(Wave.label))],
        description=_l("Short, e.g. T1 or 'Spring 2027'."),
    )
    instrument_id = SelectField(_l("Instrument"), coerce=int, validators=[DataRequired()])
    schedule = RadioField(_l("Opens"), choices=SCHEDULE_CHOICES, default="on_date", validators=[DataRequired()])
    opens_at = DateTimeLocalField(_l("Opens at"), format="%Y-%m-%dT%H:%M", validators=[Optional(), SaneDate()])
    closes_at = DateTimeLocalField(_l("Closes at"), format="%Y-%m-%dT%H:%M", validators=[Optional(), SaneDate()])
    offset_days = IntegerField(
        _l("Days after"),
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Cannot be negative.")),
            NumberRange(max=MAX_OFFSET_DAYS, message=_l("At most %(days)d days.", days=MAX_OFFSET_DAYS)),
        ],
    )
    window_days = IntegerField(
        _l("Open for (days)"),
        validators=[
            Optional(),
            NumberRange(min=1, message=_l("At least 1 day.")),
            NumberRange(max=MAX_WINDOW_DAYS, message=_l("At most %(days)d days.", days=MAX_WINDOW_DAYS)),
        ],
    )
    reminder_days = StringField(
        _l("Reminder days"),
        validators=[OneLine(200)],
        description=_l("Days after the wave opens for a participant, e.g. 7, 14. Leave empty for none."),
    )
    targeted_reminder_day = IntegerField(
        _l("Targeted reminder: day of fieldwork"),
        validators=[Optional()],
        description=_l(
            "Adaptive design: on this day after the wave first opened, one extra reminder goes to those who "
            "have not completed in the categories of the frame variables that lag behind most."
        ),
    )
    targeted_reminder_budget = IntegerField(
        _l("Targeted reminder: at most this many messages"),
        validators=[Optional()],
        description=_l("Whole categories are chosen, most lagging first, as long as they fit in this budget."),
    )
    paused = BooleanField(_l("Paused (no invitations or reminders go out)"))


class RetentionForm(FlaskForm):
    """The day a study's identities are erased, and why it moves."""

    until = DateField(_l("Erase e-mail addresses and names on"), validators=[Optional(), SaneDate()])
    reason = TextAreaField(_l("Reason for moving the date"), validators=[MultiLine(1000)])

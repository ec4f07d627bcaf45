"""Forms for enrolment, identities, consent and self-registration."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired

from studyapp.core.inputs import PERSON_NAME_MAX
from studyapp.inputs import MultiLine, OneLine, SelectChoice

#: The longest e-mail address SMTP carries (RFC 5321's path limit less the angle brackets).
EMAIL_MAX = 254


class EnrolmentUploadForm(FlaskForm):
    """A CSV or XLSX list of participants."""

    file = FileField(
        _l("Participant list"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file.")),
        ],
        description=_l("Columns: email, cohort (required); name, language (nl/en), external_id, keep_data (yes/no)."),
    )


class ConfirmForm(FlaskForm):
    """A confirmation button with a CSRF token."""


class EmailForm(FlaskForm):
    """A new contact address."""

    email = EmailField(_l("New e-mail address"), validators=[DataRequired(), OneLine(EMAIL_MAX), Email()])


class NoteForm(FlaskForm):
    """A confirmation with an optional note for the record."""

    note = TextAreaField(_l("Note for the record (optional)"), validators=[MultiLine(1000)])


class SignupForm(FlaskForm):
    """Self-registration for a cohort."""

    name = StringField("Name", validators=[OneLine(PERSON_NAME_MAX)])
    email = EmailField("E-mail", validators=[DataRequired(), OneLine(EMAIL_MAX), Email()])
    language = RadioField(
        "Language",
        choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")],
        default="nl",
        validators=[InputRequired()],
    )
    consent = BooleanField("I agree to take part", validators=[DataRequired()])
    keep_data = RadioField(
        "If I stop later",
        choices=[SelectChoice("yes", "keep"), SelectChoice("no", "delete")],
        default="yes",
        validators=[InputRequired()],
    )


class ResponseImportForm(FlaskForm):
    """Answers collected elsewhere, with the columns mapped to items."""

    wave_id = SelectField(_l("Into wave"), coerce=int, validators=[DataRequired()])
    file = FileField(
        _l("Data file"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx", "sav"], _l("Upload a .csv, .xlsx or SPSS .sav file.")),
        ],
    )
    id_column = StringField(
        _l("Identifier column"),
        validators=[DataRequired(), OneLine(100)],
        description=_l("The column with e.g. the student number; it is stored only as a keyed hash."),
    )
    mapping = TextAreaField(
        _l("Column to item mapping"),
        validators=[DataRequired(), MultiLine(20000)],
        description=_l("One per line: column = item_code, e.g. 'v12 = cc_know_work'."),
    )
    create_missing = BooleanField(_l("Create participants for identifiers not enrolled yet"), default=True)

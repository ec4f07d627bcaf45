"""Forms of the login, set-password and account management pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from studyapp.accounts.services import MIN_PASSWORD_LENGTH
from studyapp.core.inputs import InputError, column_length, parse_id
from studyapp.core.models import User
from studyapp.inputs import OneLine, SelectChoice

ROLE_CHOICES = [
    SelectChoice("researcher", "Researcher"),
    SelectChoice("admin", "Admin"),
    SelectChoice("company_contact", "Company contact"),
]
LANGUAGE_CHOICES = [SelectChoice("nl", "Dutch"), SelectChoice("en", "English")]


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=column_length(User.email))])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])


class SetPasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=500)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    confirm = PasswordField(
        "The same password again", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class AccessForm(FlaskForm):
    """Role, organisation (company contacts) and the identity permission."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    organisation_id = SelectField(
        "Organisation",
        choices=[],
        validate_choice=False,  # the service checks that it exists (and says so next to the form)
        description="Only for company contacts: whose briefings they see.",
    )
    can_view_identities = BooleanField("May see participants' e-mail addresses and names")

    def validate_organisation_id(self, field: SelectField) -> None:
        """An id or nothing (whether it exists is the service's to say)."""
        if field.data:
            try:
                parse_id(field.data, field="The organisation")
            except InputError as error:
                raise ValidationError(str(error)) from None

    def organisation(self) -> int | None:
        """The chosen organisation's id, or ``None`` (call after validation)."""
        return parse_id(self.organisation_id.data, field="The organisation") if self.organisation_id.data else None


class InviteForm(AccessForm):
    """A new account: who, what they may do, and the language of their e-mails."""

    role = SelectField("Role", choices=ROLE_CHOICES, default="researcher")
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=column_length(User.email))])
    name = StringField("Name", validators=[DataRequired(), OneLine(max_length=column_length(User.name))])
    language = SelectField("Language of e-mails", choices=LANGUAGE_CHOICES, default="nl")


class ActionForm(FlaskForm):
    """A button that changes an account (only the CSRF token)."""

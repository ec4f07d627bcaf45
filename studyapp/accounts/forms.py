"""Forms of the login, set-password and account management pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from studyapp.accounts.services import MIN_PASSWORD_LENGTH
from studyapp.core.inputs import InputError, column_length, parse_id
from studyapp.core.models import User
from studyapp.inputs import OneLine, SelectChoice

ROLE_CHOICES = [
    SelectChoice("researcher", _l("Researcher")),
    SelectChoice("admin", _l("Admin")),
    SelectChoice("company_contact", _l("Company contact")),
]
LANGUAGE_CHOICES = [SelectChoice("nl", _l("Dutch")), SelectChoice("en", _l("English"))]


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=column_length(User.email))])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


class SetPasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=500)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    confirm = PasswordField(
        _l("The same password again"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))]
    )


class AccessForm(FlaskForm):
    """Role, organisation (company contacts), the identity permission and the account's language."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    organisation_id = SelectField(
        _l("Organisation"),
        choices=[],
        validate_choice=False,  # the service checks that it exists (and says so next to the form)
        description=_l("Only for company contacts: whose briefings they see."),
    )
    can_view_identities = BooleanField(_l("May see participants' e-mail addresses and names"))
    # not sent: unchanged; an unknown one is refused by the service, next to the form
    language = SelectField(_l("Language of the app and e-mails"), choices=LANGUAGE_CHOICES, validate_choice=False)

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

    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="researcher")
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=column_length(User.email))])
    name = StringField(_l("Name"), validators=[DataRequired(), OneLine(max_length=column_length(User.name))])
    language = SelectField(_l("Language of e-mails"), choices=LANGUAGE_CHOICES, default="nl")


class LanguageForm(FlaskForm):
    """The language a signed-in user chooses for themselves, and the page to return to."""

    language = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes an account (only the CSRF token)."""

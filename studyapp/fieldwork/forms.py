"""The form for a study's own invitation and reminder texts, with its placeholders checked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, ValidationError

from studyapp.core.inputs import column_length
from studyapp.core.models import MessageTemplate
from studyapp.extensions import localized_error
from studyapp.inputs import MultiLine, OneLine
from waves.messages import TemplateError, check_template

BODY_MAX = 10_000


def placeholder_problem(text: str) -> str:
    """What is wrong with the ``{placeholders}`` of a message text (see ``check_template``), or ``""``."""
    try:
        check_template(text)
    except TemplateError as error:
        return localized_error(error)
    return ""


class Placeholders:
    """A WTForms validator: the field's text uses only known placeholders, written plainly."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if isinstance(field.data, str) and (problem := placeholder_problem(field.data)):
            raise ValidationError(problem)


class TemplateForm(FlaskForm):
    """The subject and text of a message."""

    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(), OneLine(column_length(MessageTemplate.subject)), Placeholders()],
    )
    body = TextAreaField(_l("Text"), validators=[DataRequired(), MultiLine(BODY_MAX), Placeholders()])

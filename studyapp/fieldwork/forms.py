"""The form for a study's own invitation and reminder texts, with its placeholders checked."""

from __future__ import annotations

import string

from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from studyapp.core.inputs import column_length
from studyapp.core.models import MessageTemplate
from studyapp.inputs import MultiLine, OneLine
from waves.messages import PLACEHOLDERS

BODY_MAX = 10_000


def placeholder_problem(text: str) -> str:
    """What is wrong with the ``{placeholders}`` of a message text, or ``""``.

    Stricter than Python's format syntax, which the text is filled with: only ``{name}`` of a known
    placeholder, without attribute or index (``{name.foo}``, ``{0}``), conversion (``{name!r}``) or
    format spec (``{name:>5}``); a literal brace is doubled (``{{``). Each of those would otherwise fail
    or misbehave only when the message is filled in: in the preview, or when it is sent.
    """
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return "A brace is not closed or not doubled. Write placeholders as {name}, a literal brace as {{."
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            return f"Unknown placeholder {{{name[:40]}}}; use {known} (a literal brace is written {{{{)."
        if spec or conversion:
            return f"Write the placeholder as {{{name}}}, without ':' or '!'."
    return ""


class Placeholders:
    """A WTForms validator: the field's text uses only known placeholders, written plainly."""

    def __call__(self, form, field: Field) -> None:
        if isinstance(field.data, str) and (problem := placeholder_problem(field.data)):
            raise ValidationError(problem)


class TemplateForm(FlaskForm):
    """The subject and text of a message."""

    subject = StringField(
        "Subject",
        validators=[DataRequired(), OneLine(column_length(MessageTemplate.subject)), Placeholders()],
    )
    body = TextAreaField("Text", validators=[DataRequired(), MultiLine(BODY_MAX), Placeholders()])

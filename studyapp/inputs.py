"""The web side of the input layer (rules in :mod:`studyapp.core.inputs`): WTForms validators for form
fields, readers for query-string parameters, the ``<int:...>`` URL converter, and a guard on NUL bytes.

Query parameters are filters and page numbers: one that does not parse, lies out of range or holds a
control character is *ignored* (the page shows what it would without it) and the page says so in a
message; for a download (``strict``) it is a 400 that names the parameter, so that an export never
quietly holds more than was asked for. A NUL anywhere in the address is refused before any view runs:
404 in the path (no page has such an address), 400 in the query string. Form fields get the validators
below, so a bad value is an error next to its field, naming it; a service checks again with the same
rules for the CLI. ``SelectChoice`` (a select field's choice) is re-exported for the forms, from the one
import the type stubs do not know yet.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date
from urllib.parse import quote

from flask import Flask, Response, abort, flash, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, Map
from wtforms import Field
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; types-WTForms is of 3.2
from wtforms.form import BaseForm
from wtforms.validators import ValidationError

from studyapp.core.inputs import (
    INT32_MAX,
    MAX_DIGITS,
    InputError,
    check_line,
    check_text,
    check_year,
    forbidden_character,
    parse_date,
    parse_id,
    parse_int,
    without_control_characters,
)
from waves.i18n import N_

log = logging.getLogger(__name__)

NUL_IN_ADDRESS = "The address holds a NUL character (%00), which no page of this site uses."


class OneLine:
    """A WTForms validator: one line of visible text (no CR, LF, NUL or other control character) and at
    most ``max_length`` characters (give it as ``column_length(Model.column)``)."""

    check = staticmethod(check_line)

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length

    def __call__(self, form: BaseForm, field: Field) -> None:
        if isinstance(field.data, str):
            try:
                self.check(field.data, field=_label(field), max_length=self.max_length)
            except InputError as error:
                raise ValidationError(str(error)) from None


class MultiLine(OneLine):
    """A WTForms validator: text that may span lines (TAB, CR, LF) but holds no other control character."""

    check = staticmethod(check_text)


class SaneDate:
    """A WTForms validator for date and date-time fields: a year between 1900 and 2200."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if isinstance(field.data, date):
            try:
                check_year(field.data, field=_label(field))
            except InputError as error:
                raise ValidationError(str(error)) from None


def _label(field: Field) -> str:
    return str(field.label.text) if field.label and field.label.text else field.name


def _ignored(name: str, error: InputError, strict: bool) -> None:
    if strict:
        abort(400, description=f"‘{name[:40]}’ in the address: {error}")
    flash(_("Ignored ‘%(name)s’ in the address: %(error)s", name=name[:40], error=error), "error")


def query_int(
    name: str, *, default: int | None = None, minimum: int = 1, maximum: int = INT32_MAX, strict: bool = False
) -> int | None:
    """A whole-number query parameter (e.g. ``?cohort=`` or ``?page=``), or ``default`` if absent or bad
    (``strict``: a bad one is a 400, for downloads that must not quietly hold more than was asked for)."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        return parse_int(raw, field=name, minimum=minimum, maximum=maximum)
    except InputError as error:
        _ignored(name, error, strict)
        return default


def query_text(name: str, *, max_length: int, strict: bool = False) -> str:
    """A one-line text query parameter (surrounding space removed), or ``""`` if absent or bad."""
    raw = request.args.get(name, "").strip()
    try:
        return check_line(raw, field=name, max_length=max_length)
    except InputError as error:
        _ignored(name, error, strict)
        return ""


def query_date(name: str, *, strict: bool = False) -> date | None:
    """An ISO-date query parameter between 1900 and 2200, or ``None`` if absent or bad."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    try:
        return parse_date(raw, field=name)
    except InputError as error:
        _ignored(name, error, strict)
        return None


def form_id(name: str) -> int | None:
    """A database id posted in a form field outside WTForms, or ``None`` when absent or not an id."""
    raw = request.form.get(name, "")
    try:
        return parse_id(raw, field=name) if raw else None
    except InputError:
        return None


def form_line(name: str, *, max_length: int) -> str:
    """A one-line text field posted outside WTForms; raises :class:`InputError` naming it when bad."""
    return check_line(request.form.get(name, "").strip(), field=name, max_length=max_length)


def is_clean_path_part(value: str, *, max_length: int) -> bool:
    """Whether a path part (a sign-up code, an upload token) may be looked up in the database at all."""
    return 0 < len(value) <= max_length and forbidden_character(value) is None


def attach_as(response: Response, filename: str) -> Response:
    """Send ``response`` as a download called ``filename`` (made from names people typed, e.g. a cohort's).

    Control characters are dropped (a CR or LF cannot end the header), quotes are escaped by werkzeug, and
    a non-ASCII name goes in RFC 6266's ``filename*`` with an ASCII fallback (WSGI headers are Latin-1).
    """
    name = without_control_characters(filename).strip() or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or "download"
    options = {"filename": ascii_name}
    if ascii_name != name:
        options["filename*"] = f"UTF-8''{quote(name, safe='')}"
    response.headers.set("Content-Disposition", "attachment", **options)
    return response


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: ASCII digits only and at most 2³¹−1, the range of an ``Integer`` id. A
    larger number would make PostgreSQL fail ("integer out of range") and SQLite's driver overflow, so
    such an address is simply not found."""

    regex = rf"[0-9]{{1,{MAX_DIGITS}}}"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT32_MAX) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


def _refuse_nul() -> None:
    if "\x00" in request.path:
        abort(404)
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            abort(400, description=NUL_IN_ADDRESS)


def init_app(app: Flask) -> None:
    """Bounded ``<int:...>`` routes (call before blueprints register) and the NUL guard."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul)


# email-validator explains a refusal in English; its common failures, recognised by their wording, get
# our own translated sentence (the most specific first). Its original text goes to the log.
_EMAIL_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"must have an @-sign"), N_("An e-mail address needs an @ sign.")),
    (re.compile(r"something before the @-sign"), N_("There is nothing before the @ sign.")),
    (re.compile(r"something after the @-sign"), N_("There is nothing after the @ sign.")),
    (re.compile(r"should have a period"), N_("The part after the @ sign needs a dot, as in example.org.")),
    (re.compile(r"special-use or reserved name"), N_("The part after the @ sign is a name that cannot receive mail.")),
    (re.compile(r"two periods in a row"), N_("An e-mail address cannot have two dots in a row.")),
    (re.compile(r"(start|end) with a period"), N_("An e-mail address cannot begin or end with a dot.")),
    (re.compile(r"too long"), N_("The e-mail address is too long.")),
    (re.compile(r"anything after the email address"), N_("There is text after the e-mail address.")),
    (
        re.compile(r"invalid character|unsafe character|not valid ASCII|not supported"),
        N_("The e-mail address contains a character that is not allowed in an e-mail address."),
    ),
)


def email_problem(error: Exception) -> str:
    """Why email-validator refused an address, in the reader's language (its English text is logged)."""
    reason = str(error)
    log.info("email-validator refused an address: %s", reason)
    for pattern, message in _EMAIL_PROBLEMS:
        if pattern.search(reason):
            return _(message)
    return _("The address is not written as an e-mail address is (name@example.org).")


__all__ = [
    "MultiLine",
    "OneLine",
    "SaneDate",
    "SelectChoice",
    "attach_as",
    "email_problem",
    "form_id",
    "form_line",
    "init_app",
    "is_clean_path_part",
    "query_date",
    "query_int",
    "query_text",
]

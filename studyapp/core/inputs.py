"""The checks every input passes before it reaches the database: text, whole numbers, dates and lengths.

Forms (through the WTForms validators in :mod:`studyapp.inputs`), query strings, imports, services and
the CLI all use these functions, so one rule holds wherever data enters. Each check raises
:class:`InputError` with a message that names the field (and, for imports, the caller adds the line).

Text
    *One-line* fields (names, labels, subjects, slugs, e-mail addresses, identifiers, file names, search
    words) refuse every control character: the C0 controls including TAB, CR, LF and NUL, DEL, the C1
    controls (Unicode category ``Cc``), the line and paragraph separators U+2028 and U+2029, lone
    surrogates (``Cs``, which UTF-8 cannot carry), and the bidirectional embedding, override and isolate
    controls U+202A–U+202E and U+2066–U+2069 (they make text display in another order than it is stored,
    e.g. a file name ``"\\u202ecsv.exe"``). A CR or LF in a one-line field is how a header is injected into
    an e-mail, so it is refused where it enters, not only where mail is built. Other format characters
    stay allowed: the marks U+200E/U+200F, zero-width (non-)joiners and soft hyphens occur in real names.

    *Multi-line* fields (descriptions, notes, message bodies, free-text answers) allow TAB, LF and CR and
    refuse the other C0 controls (NUL included), DEL, the C1 controls and lone surrogates.

    PostgreSQL cannot store NUL in text at all; SQLite can, which is why a NUL must be stopped here and
    not by the database.

Whole numbers
    :func:`parse_int` reads ASCII digits only (``"²"`` or ``"١٢"`` are refused, though Python's ``int()``
    takes the latter), at most :data:`MAX_DIGITS` of them, within bounds that fit the column: ids and other
    ``Integer`` columns are 32-bit signed in PostgreSQL (:data:`INT32_MAX`).

Dates and times
    Between :data:`EARLIEST_YEAR` and :data:`LATEST_YEAR`; a local time is converted to UTC by
    :func:`local_to_utc`, which refuses times that the conversion would carry out of that range (year 1 in
    a zone east of UTC, 9999-12-31 west of it) instead of overflowing.

Lengths
    :func:`column_length` reads a string column's length from the SQLModel table, so the limits in forms
    and services follow the models instead of repeating their numbers.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, tzinfo
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from flask_babel import gettext as _

INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
MAX_DIGITS = 10  # enough for any 32-bit number; longer input is refused before int() reads it
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200
EARLIEST = datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(LATEST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)
#: A person's name (stored encrypted, so no column says how long it may be).
PERSON_NAME_MAX = 200

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029")
_MULTILINE_ALLOWED = frozenset("\t\n\r")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class InputError(ValueError):
    """An input that breaks a rule; the message says which field and what is wrong, for people to read."""


def _describe(char: str) -> str:
    names = {
        "\x00": _("a NUL character"),
        "\r": _("a line break (CR)"),
        "\n": _("a line break (LF)"),
        "\t": _("a tab"),
    }
    if char in names:
        return names[char]
    name = unicodedata.name(char, "")
    return _("the invisible character U+%(code)s", code=f"{ord(char):04X}") + (f" ({name.lower()})" if name else "")


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character ``text`` may not hold (see the module's rules), or ``None``."""
    if text.isprintable():  # the common case, in C: no Cc, Cs, Cf (bidi controls) or Zl/Zp character
        return None
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return char
        if category == "Cc":
            if multiline and char in _MULTILINE_ALLOWED:
                continue
            return char
        if not multiline and (char in _BIDI_CONTROLS or char in _LINE_SEPARATORS):
            return char
    return None


def check_line(text: str, *, field: str, max_length: int | None = None) -> str:
    """``text`` if it is a valid one-line value (no control characters, not too long); else InputError."""
    bad = forbidden_character(text)
    if bad is not None:
        raise InputError(
            _(
                "%(field)s holds %(character)s; it must be one line of visible text.",
                field=field,
                character=_describe(bad),
            )
        )
    _check_length(text, field=field, max_length=max_length)
    return text


def check_text(text: str, *, field: str, max_length: int | None = None) -> str:
    """``text`` if it is valid multi-line text (TAB, CR and LF allowed; other controls refused)."""
    bad = forbidden_character(text, multiline=True)
    if bad is not None:
        raise InputError(
            _("%(field)s holds %(character)s, which text here may not contain.", field=field, character=_describe(bad))
        )
    _check_length(text, field=field, max_length=max_length)
    return text


def line_problem(text: str, *, field: str, max_length: int | None = None) -> str:
    """What is wrong with ``text`` as a one-line value (``""`` when nothing): for services that collect
    the problems of several fields."""
    try:
        check_line(text, field=field, max_length=max_length)
    except InputError as error:
        return str(error)
    return ""


def text_problem(text: str, *, field: str, max_length: int | None = None) -> str:
    """What is wrong with ``text`` as multi-line text (``""`` when nothing)."""
    try:
        check_text(text, field=field, max_length=max_length)
    except InputError as error:
        return str(error)
    return ""


def without_control_characters(text: str, *, multiline: bool = False) -> str:
    """``text`` with the characters :func:`forbidden_character` refuses removed (for what people cannot
    fix themselves: an uploaded file's name, a participant's pasted answer)."""
    return "".join(c for c in text if forbidden_character(c, multiline=multiline) is None)


def _check_length(text: str, *, field: str, max_length: int | None) -> None:
    if max_length is not None and len(text) > max_length:
        raise InputError(_("%(field)s is longer than %(length)d characters.", field=field, length=max_length))


def parse_int(raw: object, *, field: str, minimum: int | None = INT32_MIN, maximum: int | None = INT32_MAX) -> int:
    """A whole number written in ASCII digits (an optional sign), within ``minimum``..``maximum``.

    The default bounds are those of a 32-bit ``Integer`` column; pass ``minimum=1`` for ids.
    """
    if isinstance(raw, bool):
        raise InputError(_("%(field)s must be a whole number.", field=field))
    if isinstance(raw, int):
        value = raw
    else:
        # only the ASCII blanks around it: str.strip() also takes control characters such as U+001F
        # (unit separator) away, which would let "0\x1f" through as 0
        text = str(raw).strip(" \t\r\n\v\f")
        if not _WHOLE_NUMBER.fullmatch(text):
            raise InputError(_("%(field)s must be a whole number written in digits 0-9.", field=field))
        if len(text.lstrip("+-")) > MAX_DIGITS:
            raise InputError(_("%(field)s is too large.", field=field))
        value = int(text)
    if minimum is not None and value < minimum:
        raise InputError(_("%(field)s must be at least %(minimum)d.", field=field, minimum=minimum))
    if maximum is not None and value > maximum:
        raise InputError(_("%(field)s must be at most %(maximum)d.", field=field, maximum=maximum))
    return value


def parse_id(raw: object, *, field: str) -> int:
    """A database id (1..2³¹−1) from a form or query value."""
    return parse_int(raw, field=field, minimum=1, maximum=INT32_MAX)


def parse_date(raw: str, *, field: str) -> date:
    """An ISO date (``YYYY-MM-DD``) between :data:`EARLIEST_YEAR` and :data:`LATEST_YEAR`."""
    text = raw.strip()
    if len(text) != 10 or forbidden_character(text) is not None:
        raise InputError(_("%(field)s must be a date written as YYYY-MM-DD.", field=field))
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise InputError(_("%(field)s must be a date written as YYYY-MM-DD.", field=field)) from None
    check_year(value, field=field)
    return value


def parse_datetime(raw: str, *, field: str, default_zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 moment (a naive one is taken in ``default_zone``) within the sane range, in UTC."""
    text = raw.strip()
    if forbidden_character(text) is not None or len(text) > 40:
        raise InputError(_("%(field)s must be a date and time in ISO 8601, e.g. 2027-02-01T08:00.", field=field))
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            _("%(field)s must be a date and time in ISO 8601, e.g. 2027-02-01T08:00.", field=field)
        ) from None
    if value.tzinfo is None:
        return local_to_utc(value, default_zone, field=field)
    check_year(value, field=field)
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise InputError(_out_of_range(field)) from None
    return check_moment(moment, field=field)


def check_year(value: date, *, field: str) -> date:
    """``value`` if its year lies between :data:`EARLIEST_YEAR` and :data:`LATEST_YEAR`."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InputError(_out_of_range(field))
    return value


def check_moment(value: datetime, *, field: str) -> datetime:
    """A time-zone-aware ``value`` if it lies between :data:`EARLIEST` and :data:`LATEST`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(_("%(field)s needs a time zone.", field=field))
    try:
        inside = EARLIEST <= value <= LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise InputError(_out_of_range(field))
    return value


def local_to_utc(value: datetime, zone: tzinfo, *, field: str) -> datetime:
    """A wall-clock time in ``zone`` as UTC; refuses one out of range instead of overflowing."""
    check_year(value, field=field)
    try:
        moment = value.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise InputError(_out_of_range(field)) from None
    return check_moment(moment, field=field)


def _out_of_range(field: str) -> str:
    return _(
        "%(field)s must lie between the years %(earliest)d and %(latest)d.",
        field=field,
        earliest=EARLIEST_YEAR,
        latest=LATEST_YEAR,
    )


def column_length(column: Any) -> int:
    """The length of a string column, read from the model: ``column_length(Study.name)`` is 200.

    Accepts a model attribute (``Study.name``) or a table column (``Study.__table__.c.name``).
    """
    length = getattr(getattr(column, "type", None), "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column!r} is not a string column with a length")
    return length


def clean_filename(name: str, *, max_length: int) -> str:
    """An uploaded file's name fit to store and show: the last path part, without control characters,
    shortened from the front to ``max_length`` characters (the extension stays). Browsers send what the
    user's system had; people cannot fix that, so this cleans instead of refusing."""
    base = PureWindowsPath(PurePosixPath(name).name).name  # "C:\\Users\\x\\list.csv" from old browsers
    base = without_control_characters(base).strip() or "upload"
    return base[-max_length:]

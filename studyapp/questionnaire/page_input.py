"""Reading one posted questionnaire page: typed answers, participant mistakes, and tampering."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from studyapp.core.inputs import forbidden_character
from studyapp.instruments.schema import SectionDef
from studyapp.questionnaire.structure import Answers, AnswerValue, Questionnaire

#: Form fields that are not answers.
CONTROL_FIELDS = frozenset({"csrf_token", "action", "lang"})
DEFAULT_TEXT_LIMIT = 5000
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,9}")  # any decimal digits (a phone may type ١٢); int() reads them


class TamperedInput(ValueError):
    """A posted value no page of ours can produce: an unknown question, a value off the scale, a repeat."""


@dataclass
class PageInput:
    """What a page post holds: parsed answers (None = cleared), typed text, and problems to show."""

    values: dict[str, AnswerValue | None] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def read_page(questionnaire: Questionnaire, section: SectionDef, form: MultiDict[str, str]) -> PageInput:
    """Parse a page post. Raises :class:`TamperedInput` for anything the page could not have sent.

    A number that is not a whole number or lies outside its range is a participant's mistake: it is
    reported in ``problems`` (keys ``number_invalid`` / ``number_range``) and kept in ``typed`` for the
    page to show again, but not parsed into ``values``.
    """
    own = {item.code: item for item in section.items}
    for name in form:
        if name in CONTROL_FIELDS:
            continue
        if name not in own:
            raise TamperedInput(f"field {name[:60]!r} is not a question of page {section.code!r}")
        if len(form.getlist(name)) > 1:
            raise TamperedInput(f"question {name!r} was answered more than once")
    result = PageInput()
    for code, item in own.items():
        if code not in form:
            continue
        raw = form[code]
        if item.type in ("scale", "choice"):
            if raw == "":
                result.values[code] = None
                continue
            if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) not in questionnaire.allowed_values(item):
                raise TamperedInput(f"{raw[:20]!r} is not an answer option of {code!r}")
            result.values[code] = int(raw)
        elif item.type == "number":
            text = raw.strip()
            result.typed[code] = raw[:40]
            if text == "":
                result.values[code] = None
            elif not _WHOLE_NUMBER.fullmatch(text):
                result.problems[code] = "number_invalid"
            elif not (item.min is not None and item.max is not None and item.min <= int(text) <= item.max):
                result.problems[code] = "number_range"
            else:
                result.values[code] = int(text)
        else:
            limit = item.max_length or DEFAULT_TEXT_LIMIT
            if len(raw) > limit:
                raise TamperedInput(f"answer to {code!r} is longer than {limit} characters")
            bad = forbidden_character(raw, multiline=True)
            if bad is not None:  # NUL or another control character no keyboard types (TAB, CR, LF are fine)
                raise TamperedInput(f"answer to {code!r} holds the control character U+{ord(bad):04X}")
            text = raw.strip()
            result.typed[code] = raw
            result.values[code] = text or None
    return result


def merged(stored: Answers, page: PageInput) -> dict[str, AnswerValue]:
    """Stored answers with a page's new values laid over them (cleared answers removed)."""
    answers = dict(stored)
    for code, value in page.values.items():
        if value is None:
            answers.pop(code, None)
        else:
            answers[code] = value
    return answers


def missing_required(questionnaire: Questionnaire, section: SectionDef, answers: Answers) -> list[str]:
    """Required questions of a page that apply and are unanswered."""
    return [
        item.code
        for item in questionnaire.visible_items(section, answers)
        if item.required and answers.get(item.code) in (None, "")
    ]

"""What the questionnaire templates show: pages, questions, progress and the review, as plain objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from studyapp.core.models import Response
from studyapp.formatting import shorten
from studyapp.instruments.schema import ItemDef, SectionDef
from studyapp.questionnaire.page_input import missing_required
from studyapp.questionnaire.structure import Answers, Choice, Questionnaire, text_in


@dataclass(frozen=True)
class Option:
    """One radio button."""

    value: int
    label: str
    checked: bool


@dataclass(frozen=True)
class Question:
    """One question as the page shows it."""

    code: str
    type: str
    text: str
    required: bool
    options: list[Option] = field(default_factory=list)
    value: str = ""
    error: str | None = None
    hint: str | None = None
    max_length: int | None = None
    depends_on: str | None = None
    depends_values: str = ""
    depends_hint: str | None = None
    low_label: str = ""
    high_label: str = ""


@dataclass(frozen=True)
class Progress:
    """Where a page lies among the pages this participant sees (the review counts as the last)."""

    number: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.number / self.total) if self.total else 100


@dataclass(frozen=True)
class PageView:
    """One questionnaire page."""

    code: str
    title: str
    intro: str
    questions: list[Question]
    progress: Progress
    is_first: bool
    is_last: bool
    errors: list[tuple[str, str, str]]


@dataclass(frozen=True)
class Summary:
    """How far a participant has come, for the welcome page."""

    answered: int
    total: int
    resume_section: str
    started: bool
    pages: int  # what the progress bar counts now (:func:`page_total`)
    pages_at_most: int  # with the conditional pages the answers so far still leave open

    @property
    def pages_text(self) -> str:
        """'12', or '12–13' while conditional pages may still be added."""
        return str(self.pages) if self.pages_at_most == self.pages else f"{self.pages}–{self.pages_at_most}"


@dataclass(frozen=True)
class ReviewPage:
    """A section's answers on the review page."""

    code: str
    title: str
    answered: int
    total: int
    missing: int
    rows: list[tuple[str, str]]


def page_total(questionnaire: Questionnaire, answers: Answers) -> int:
    """The pages a participant sees with ``answers``: the visible sections plus the review.

    The one count of pages: the welcome page says it and the progress bar counts to it.
    """
    return len(questionnaire.visible_sections(answers)) + 1


def page_total_at_most(questionnaire: Questionnaire, answers: Answers) -> int:
    """:func:`page_total` plus the hidden sections whose condition is not answered yet (they may appear)."""
    undecided = sum(
        1
        for section in questionnaire.sections
        if section.show_if is not None
        and not questionnaire.is_shown(section.show_if, answers)
        and answers.get(section.show_if.item) in (None, "")
    )
    return page_total(questionnaire, answers) + undecided


def progress_of(questionnaire: Questionnaire, answers: Answers, section_code: str | None) -> Progress:
    """Page number of ``section_code`` (None: the review) among the visible pages plus the review."""
    codes = [s.code for s in questionnaire.visible_sections(answers)]
    total = page_total(questionnaire, answers)
    number = codes.index(section_code) + 1 if section_code in codes else total
    return Progress(number, total)


def page_errors(
    t: Mapping[str, str],
    questionnaire: Questionnaire,
    section: SectionDef,
    answers: Answers,
    problems: Mapping[str, str],
) -> dict[str, str]:
    """Messages per question, in page order: typing problems first, else a missing required answer."""
    missing = set(missing_required(questionnaire, section, answers))
    errors = {}
    for item in section.items:
        if item.code in problems:
            errors[item.code] = t[problems[item.code]].format(min=item.min, max=item.max)
        elif item.code in missing:
            errors[item.code] = t["missing"]
    return errors


def section_view(
    questionnaire: Questionnaire,
    section_code: str,
    answers: Answers,
    language: str,
    *,
    t: Mapping[str, str],
    errors: Mapping[str, str],
    typed: Mapping[str, str],
) -> PageView:
    """Everything the page template needs for one section."""
    section = questionnaire.section(section_code)
    assert section is not None
    on_page = {item.code for item in section.items}
    questions = []
    for item in section.items:
        condition = item.show_if
        same_page = condition is not None and condition.item in on_page
        if condition is not None and not same_page and not questionnaire.is_shown(condition, answers):
            continue
        questions.append(_question(questionnaire, item, answers, language, t, errors, typed, same_page))
    codes = [s.code for s in questionnaire.visible_sections(answers)]
    return PageView(
        code=section.code,
        title=text_in(section.title, language),
        intro=text_in(section.intro, language),
        questions=questions,
        progress=progress_of(questionnaire, answers, section.code),
        is_first=bool(codes) and codes[0] == section.code,
        is_last=bool(codes) and codes[-1] == section.code,
        errors=[(q.code, shorten(q.text, 90), q.error) for q in questions if q.error is not None],
    )


def _question(
    questionnaire: Questionnaire,
    item: ItemDef,
    answers: Answers,
    language: str,
    t: Mapping[str, str],
    errors: Mapping[str, str],
    typed: Mapping[str, str],
    same_page_condition: bool,
) -> Question:
    stored = answers.get(item.code)
    choices: list[Choice] = questionnaire.choices(item, language)
    hint = None
    if item.type == "number":
        hint = t["number_hint"].format(min=item.min, max=item.max)
    depends_on = depends_values = depends_hint = None
    if same_page_condition and item.show_if is not None:
        target = questionnaire.item(item.show_if.item)
        if target is None:  # the loader checks that a condition names an item of the questionnaire
            raise ValueError(f"{item.code} depends on an unknown item {item.show_if.item!r}")
        labels = [c.label for c in questionnaire.choices(target, language) if c.value in item.show_if.any_of]
        depends_on = item.show_if.item
        depends_values = " ".join(str(v) for v in item.show_if.any_of)
        depends_hint = t["shown_if"].format(answers=" / ".join(labels))
    return Question(
        code=item.code,
        type=item.type,
        text=questionnaire.text_of(item, answers, language),
        required=item.required,
        options=[Option(c.value, c.label, stored == c.value) for c in choices],
        value=typed.get(item.code, "" if stored is None else str(stored)),
        error=errors.get(item.code),
        hint=hint,
        max_length=item.max_length if item.type == "text" else None,
        depends_on=depends_on,
        depends_values=depends_values or "",
        depends_hint=depends_hint,
        low_label=choices[0].label if item.type == "scale" and choices else "",
        high_label=choices[-1].label if item.type == "scale" and choices else "",
    )


def progress_summary(questionnaire: Questionnaire, answers: Answers, response: Response | None) -> Summary:
    """Answered and total questions the participant sees, and the page to resume on."""
    sections = questionnaire.visible_sections(answers)
    shown = [item for s in sections for item in questionnaire.visible_items(s, answers)]
    answered = sum(1 for item in shown if answers.get(item.code) not in (None, ""))
    codes = [s.code for s in sections]
    resume = response.current_section if response is not None and response.current_section in codes else ""
    if response is not None and not resume:
        resume = next((s.code for s in sections if missing_required(questionnaire, s, answers)), "")
    return Summary(
        answered,
        len(shown),
        resume or (codes[0] if codes else ""),
        response is not None,
        page_total(questionnaire, answers),
        page_total_at_most(questionnaire, answers),
    )


def review_pages(questionnaire: Questionnaire, answers: Answers, language: str) -> list[ReviewPage]:
    """Each visible section with its answers as text."""
    pages = []
    for section in questionnaire.visible_sections(answers):
        items = questionnaire.visible_items(section, answers)
        rows = []
        for item in items:
            value = answers.get(item.code)
            rows.append(
                (questionnaire.text_of(item, answers, language), answer_text(questionnaire, item, value, language))
            )
        answered = sum(1 for item in items if answers.get(item.code) not in (None, ""))
        missing = len(missing_required(questionnaire, section, answers))
        pages.append(ReviewPage(section.code, text_in(section.title, language), answered, len(items), missing, rows))
    return pages


def answer_text(questionnaire: Questionnaire, item: ItemDef, value: object, language: str) -> str:
    """An answer as the review shows it: a scale's value with its words ("6 · Agree"), a choice's words,
    a number or text as given ("" when unanswered)."""
    if value is None or value == "":
        return ""
    label = next((c.label for c in questionnaire.choices(item, language) if c.value == value), "")
    if item.type == "scale":
        return f"{value} · {label}"
    return label or str(value)

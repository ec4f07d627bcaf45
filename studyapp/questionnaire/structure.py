"""A wave's questionnaire as pages and questions, read from the stored instrument definition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, select

from studyapp.core.models import Instrument, Item
from studyapp.instruments.schema import TITLE_PLACEHOLDER, InstrumentDef, ItemDef, SectionDef, ShowIf
from waves.i18n import LANGUAGES, translated

AnswerValue = int | str
Answers = Mapping[str, AnswerValue]


@dataclass(frozen=True)
class Choice:
    """One answer a participant can pick: the stored value and what is shown."""

    value: int
    label: str


class Questionnaire:
    """The pages of one instrument version, with the rules for showing and answering them."""

    def __init__(self, definition: InstrumentDef, checksum: str = "") -> None:
        self.definition = definition
        self.checksum = checksum
        self._items = {item.code: item for section in definition.sections for item in section.items}

    @property
    def sections(self) -> list[SectionDef]:
        return list(self.definition.sections)

    def section(self, code: str) -> SectionDef | None:
        """The section with this code, or None."""
        return next((s for s in self.definition.sections if s.code == code), None)

    def item(self, code: str) -> ItemDef | None:
        """The item with this code, or None."""
        return self._items.get(code)

    @property
    def item_codes(self) -> list[str]:
        return list(self._items)

    def is_shown(self, condition: ShowIf | None, answers: Answers) -> bool:
        """Whether a section or item with this condition is shown, given the answers so far."""
        return condition is None or answers.get(condition.item) in condition.any_of

    def visible_sections(self, answers: Answers) -> list[SectionDef]:
        """The pages this participant sees, in order (skip logic applied)."""
        return [s for s in self.definition.sections if self.is_shown(s.show_if, answers)]

    def visible_items(self, section: SectionDef, answers: Answers) -> list[ItemDef]:
        """The questions of a page that apply, given the answers so far."""
        return [i for i in section.items if self.is_shown(i.show_if, answers)]

    def neighbours(self, section_code: str, answers: Answers) -> tuple[str | None, str | None]:
        """The visible pages before and after ``section_code`` (None at either end)."""
        codes = [s.code for s in self.definition.sections]
        visible = {s.code for s in self.visible_sections(answers)}
        position = codes.index(section_code)
        before = next((c for c in reversed(codes[:position]) if c in visible), None)
        after = next((c for c in codes[position + 1 :] if c in visible), None)
        return before, after

    def choices(self, item: ItemDef, language: str) -> list[Choice]:
        """The answers offered for a scale or choice item, in order."""
        if item.type == "scale" and item.scale is not None:
            scale = self.definition.response_scales[item.scale]
            return [Choice(v, text_in(scale.labels[v], language)) for v in range(scale.min, scale.max + 1)]
        if item.type == "choice":
            return [Choice(o.value, text_in(o.label, language)) for o in item.options or []]
        return []

    def allowed_values(self, item: ItemDef) -> set[int]:
        """The values a scale or choice item may take."""
        return {c.value for c in self.choices(item, self.definition.languages[0])}

    def professional_title(self, answers: Answers, language: str) -> str | None:
        """The title inserted into statements: the chosen option's title, or the participant's own words."""
        code = self.definition.title_item
        item = self.item(code) if code else None
        chosen = answers.get(code) if code else None
        if item is None or chosen is None:
            return None
        option = next((o for o in item.options or [] if o.value == chosen), None)
        if option is None:
            return None
        if option.free_text_item is not None:
            own = answers.get(option.free_text_item)
            return str(own).strip() or None if own is not None else None
        return text_in(option.title, language) if option.title else None

    def text_of(self, item: ItemDef, answers: Answers, language: str) -> str:
        """An item's text with the professional title filled in (plain text: templates escape it)."""
        text = text_in(item.text, language)
        if TITLE_PLACEHOLDER.search(text):
            title = self.professional_title(answers, language) or _fallback_title(language)
            text = TITLE_PLACEHOLDER.sub(lambda _: title, text)
        return text

    def language_or_default(self, language: str | None) -> str:
        """``language`` when the instrument has it, else the instrument's first language."""
        return language if language in self.definition.languages else self.definition.languages[0]


def _fallback_title(language: str) -> str:
    """What stands for the professional title before the participant has chosen one."""
    return translated(language, "a professional in your field") if language in LANGUAGES else "…"


def text_in(text: Mapping[str, str] | None, language: str) -> str:
    """A translated text in ``language``, else in its first language ('' for none)."""
    if not text:
        return ""
    return text.get(language) or next(iter(text.values()))


_PARSED: dict[str, Questionnaire] = {}
_ITEM_IDS: dict[tuple[str, int, str], dict[str, int]] = {}


def questionnaire_of(*, session: Session, instrument_id: int) -> Questionnaire:
    """The questionnaire of a stored instrument, reading the (large) definition only the first time."""
    checksum = session.exec(select(Instrument.checksum).where(Instrument.id == instrument_id)).one()
    found = _PARSED.get(checksum)
    if found is None:
        found = questionnaire_for(session.get_one(Instrument, instrument_id))
    return found


def item_ids(*, session: Session, instrument_id: int, checksum: str | None = None) -> dict[str, int]:
    """Item code → item id for an instrument (cached per database and content: items never change)."""
    if not checksum:
        checksum = session.exec(select(Instrument.checksum).where(Instrument.id == instrument_id)).one()
    key = (str(session.get_bind().engine.url), instrument_id, checksum)
    found = _ITEM_IDS.get(key)
    if found is None:
        rows = session.exec(select(Item.code, Item.id).where(Item.instrument_id == instrument_id)).all()
        found = {code: item_id for code, item_id in rows if item_id is not None}
        if len(_ITEM_IDS) > 256:
            _ITEM_IDS.clear()
        _ITEM_IDS[key] = found
    return found


def questionnaire_for(instrument: Instrument) -> Questionnaire:
    """The questionnaire of a stored instrument, parsed once per content checksum (contents never change)."""
    found = _PARSED.get(instrument.checksum)
    if found is None:
        found = Questionnaire(InstrumentDef.model_validate(instrument.definition), instrument.checksum)
        _PARSED[instrument.checksum] = found
    return found

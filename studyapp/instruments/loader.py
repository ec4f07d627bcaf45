"""Read, validate and store instrument definitions; refuse a bad file with file, line and reason."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, select

from studyapp.core import audit
from studyapp.core.models import Facet, Instrument, InstrumentSection, Item, User
from studyapp.core.models import key as row_key
from studyapp.instruments.schema import TITLE_PLACEHOLDER, InstrumentDef, ItemDef, ShowIf

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
MAX_PROBLEMS_SHOWN = 25

PathKey = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, located in its file."""

    path: PathKey
    line: int
    message: str

    def format(self, source: str) -> str:
        dotted = _dotted(self.path)
        return f"{source}:{self.line}: {dotted + ': ' if dotted else ''}{self.message}"


class InstrumentDefinitionError(ValueError):
    """A definition that cannot be loaded; ``problems`` lists each error with its line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: p.line)
        shown = [p.format(source) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"... and {more} more problems")
        super().__init__(f"Invalid instrument definition {source}:\n" + "\n".join(shown))


def _dotted(path: PathKey) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) and text else f"{'.' if text else ''}{key}"
    return text


def _to_python(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], problems: list[Problem]) -> Any:
    """Build plain objects from a YAML node tree, noting the line of every path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, problems) if isinstance(key_node, yaml.ScalarNode) else None
            if key is _REFUSED:
                continue
            if key is None or isinstance(key, (dict, list)):
                problems.append(Problem(path, key_node.start_mark.line + 1, "keys must be plain text or numbers"))
                continue
            if key in result:
                problems.append(Problem((*path, key), key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            result[key] = _to_python(value_node, (*path, key), lines, problems)
            lines[(*path, key)] = key_node.start_mark.line + 1  # point at the key, not its value
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*path, i), lines, problems) for i, child in enumerate(node.value)]
    value = _scalar(node, problems, path)
    return None if value is _REFUSED else value


_REFUSED = object()  # a scalar that could not be read (its problem is noted)


def _scalar(node: yaml.Node, problems: list[Problem], path: PathKey = ()) -> Any:
    """The value of a scalar node, typed by the tag the composer resolved (int, bool, str ...); a tag plain
    YAML does not know (``!nl:``) or a value its tag refuses (``!!int x``) is noted as a problem."""
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError) as error:
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        problems.append(Problem(path, node.start_mark.line + 1, f"cannot read this value: {reason}"))
        return _REFUSED


def _line_of(path: PathKey, lines: dict[PathKey, int]) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def parse_definition(text: str, source: str = "<definition>") -> InstrumentDef:
    """Validate a YAML definition; raises :class:`InstrumentDefinitionError` listing every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error)
        raise InstrumentDefinitionError(source, [Problem((), line, f"not valid YAML: {reason}")]) from None
    if root is None:
        raise InstrumentDefinitionError(source, [Problem((), 1, "the file is empty")])
    lines: dict[PathKey, int] = {}
    problems: list[Problem] = []
    data = _to_python(root, (), lines, problems)
    if problems:
        raise InstrumentDefinitionError(source, problems)
    if not isinstance(data, dict):
        raise InstrumentDefinitionError(source, [Problem((), 1, "the top level must be a mapping")])
    try:
        definition = InstrumentDef.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail["loc"])
            problems.append(Problem(loc, _line_of(loc, lines), _pydantic_message(detail)))
        raise InstrumentDefinitionError(source, problems) from None
    problems = [Problem(path, _line_of(path, lines), message) for path, message in _rule_violations(definition)]
    if problems:
        raise InstrumentDefinitionError(source, problems)
    return definition


def _pydantic_message(detail: ErrorDetails) -> str:
    if detail["type"] == "extra_forbidden":
        return "unknown key"
    if detail["type"] == "missing":
        return "required key is missing"
    return str(detail["msg"]).removeprefix("Value error, ")


def _rule_violations(d: InstrumentDef) -> list[tuple[PathKey, str]]:
    """Cross-references and language coverage that the schema alone cannot check."""
    out: list[tuple[PathKey, str]] = []
    languages = set(d.languages)

    def text(path: PathKey, value: dict[str, str] | None) -> None:
        if value is None:
            return
        missing = languages - set(value)
        extra = set(value) - languages
        if missing:
            out.append((path, f"missing translation: {', '.join(sorted(missing))}"))
        if extra:
            out.append((path, f"language not listed in 'languages': {', '.join(sorted(extra))}"))
        for lang, words in value.items():
            if not str(words).strip():
                out.append(((*path, lang), "empty text"))

    text(("title",), d.title)
    text(("description",), d.description)
    for name, scale in d.response_scales.items():
        path: PathKey = ("response_scales", name)
        if scale.min >= scale.max:
            out.append((path, "min must be below max"))
        elif set(scale.labels) != set(range(scale.min, scale.max + 1)):
            out.append(((*path, "labels"), f"give exactly one label for each value {scale.min}..{scale.max}"))
        for value, label in scale.labels.items():
            text((*path, "labels", value), label)

    facet_codes: dict[str, int] = {}
    for i, facet in enumerate(d.facets):
        if facet.code in facet_codes:
            out.append((("facets", i, "code"), f"duplicate facet code {facet.code!r}"))
        facet_codes[facet.code] = i
        text(("facets", i, "name"), facet.name)

    items: dict[str, tuple[int, int, ItemDef]] = {}
    section_codes: set[str] = set()
    used_facets: set[str] = set()
    for s, section in enumerate(d.sections):
        if section.code in section_codes:
            out.append((("sections", s, "code"), f"duplicate section code {section.code!r}"))
        section_codes.add(section.code)
        text(("sections", s, "title"), section.title)
        text(("sections", s, "intro"), section.intro)
        for i, item in enumerate(section.items):
            path = ("sections", s, "items", i)
            if item.code in items:
                out.append(((*path, "code"), f"duplicate item code {item.code!r}"))
            items[item.code] = (s, i, item)
            text((*path, "text"), item.text)
            out.extend(_item_violations(path, item, d, facet_codes))
            for o, option in enumerate(item.options or []):
                text((*path, "options", o, "label"), option.label)
                text((*path, "options", o, "title"), option.title)
            if item.facet:
                used_facets.add(item.facet)
    for code, i in facet_codes.items():
        if code not in used_facets:
            out.append((("facets", i, "code"), f"facet {code!r} has no items"))
    out.extend(_title_violations(d, items))
    out.extend(_show_if_violations(d, items))
    return out


def _show_if_violations(d: InstrumentDef, items: dict[str, tuple[int, int, ItemDef]]) -> list[tuple[PathKey, str]]:
    """A condition must name an earlier choice or scale item and values that item can take."""
    out: list[tuple[PathKey, str]] = []

    def check(path: PathKey, condition: ShowIf, section_index: int, item_index: int | None) -> None:
        found = items.get(condition.item)
        if found is None:
            out.append(((*path, "item"), f"unknown item {condition.item!r}"))
            return
        s, i, target = found
        earlier = s < section_index if item_index is None else (s, i) < (section_index, item_index)
        if not earlier:
            where = "an earlier page" if item_index is None else "an earlier page or higher on the same page"
            out.append(((*path, "item"), f"{condition.item!r} must be asked on {where}"))
        if target.type == "choice":
            allowed = {o.value for o in target.options or []}
        elif target.type == "scale" and target.scale in d.response_scales:
            scale = d.response_scales[target.scale]
            allowed = set(range(scale.min, scale.max + 1))
        else:
            out.append(((*path, "item"), f"{condition.item!r} is not a choice or scale item"))
            return
        unknown = sorted(set(condition.any_of) - allowed)
        if unknown:
            out.append(((*path, "any_of"), f"{condition.item!r} has no value {', '.join(map(str, unknown))}"))

    for s, section in enumerate(d.sections):
        if section.show_if is not None:
            check(("sections", s, "show_if"), section.show_if, s, None)
        for i, item in enumerate(section.items):
            if item.show_if is not None:
                check(("sections", s, "items", i, "show_if"), item.show_if, s, i)
    return out


def _item_violations(
    path: PathKey, item: ItemDef, d: InstrumentDef, facet_codes: dict[str, int]
) -> list[tuple[PathKey, str]]:
    out: list[tuple[PathKey, str]] = []
    allowed = {
        "scale": {"scale", "reverse"},
        "choice": {"options"},
        "number": {"min", "max"},
        "text": {"max_length"},
    }[item.type]
    for key in ("scale", "options", "min", "max", "max_length"):
        if getattr(item, key) is not None and key not in allowed:
            out.append(((*path, key), f"'{key}' does not apply to a {item.type} item"))
    if item.reverse and item.type != "scale":
        out.append(((*path, "reverse"), "only scale items can be reverse-keyed"))
    if item.type == "scale":
        if item.scale is None:
            out.append((path, "a scale item needs 'scale'"))
        elif item.scale not in d.response_scales:
            out.append(((*path, "scale"), f"unknown response scale {item.scale!r}"))
    if item.type == "choice":
        values = [o.value for o in item.options or []]
        if not values:
            out.append((path, "a choice item needs 'options'"))
        if len(set(values)) != len(values):
            out.append(((*path, "options"), "option values must be unique"))
    if item.type == "number":
        if item.min is None or item.max is None:
            out.append((path, "a number item needs 'min' and 'max'"))
        elif item.min >= item.max:
            out.append(((*path, "max"), "max must be above min"))
    if item.facet is not None and item.facet not in facet_codes:
        out.append(((*path, "facet"), f"unknown facet {item.facet!r}"))
    return out


def _title_violations(d: InstrumentDef, items: dict[str, tuple[int, int, ItemDef]]) -> list[tuple[PathKey, str]]:
    out: list[tuple[PathKey, str]] = []
    title_section = None
    if d.title_item is not None:
        found = items.get(d.title_item)
        if found is None or found[2].type != "choice":
            return [(("title_item",), f"{d.title_item!r} is not a choice item of this instrument")]
        title_section, title_index, title_item = found
        for o, option in enumerate(title_item.options or []):
            path: PathKey = ("sections", title_section, "items", title_index, "options", o)
            if option.free_text_item is not None:
                other = items.get(option.free_text_item)
                if other is None or other[2].type != "text":
                    out.append(((*path, "free_text_item"), f"{option.free_text_item!r} is not a text item"))
            elif option.title is None:
                out.append((path, "each option of the title item needs 'title' or 'free_text_item'"))
    for code, (s, i, item) in items.items():
        path = ("sections", s, "items", i)
        if code != d.title_item:
            for o, option in enumerate(item.options or []):
                if option.title is not None or option.free_text_item is not None:
                    out.append(((*path, "options", o), "'title' and 'free_text_item' belong on the title item only"))
        if any(TITLE_PLACEHOLDER.search(t) for t in item.text.values()):
            if title_section is None:
                out.append(((*path, "text"), "{title} is used but the instrument has no 'title_item'"))
            elif s <= title_section:
                out.append(((*path, "text"), "{title} needs the title item on an earlier page"))
    return out


def checksum(definition: InstrumentDef) -> str:
    """A SHA-256 of the definition's content, independent of YAML formatting."""
    canonical = json.dumps(definition.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadResult:
    """The stored instrument and whether this call created it."""

    instrument: Instrument
    created: bool


def load_definition(
    *, session: Session, definition: InstrumentDef, source: str = "", user: User | None = None
) -> LoadResult:
    """Store a validated definition; loading the same content again changes nothing.

    Raises :class:`InstrumentDefinitionError` when the (code, version) was loaded with other content.
    """
    digest = checksum(definition)
    existing = session.exec(
        select(Instrument).where(Instrument.code == definition.code, Instrument.version == definition.version)
    ).first()
    if existing is not None:
        if existing.checksum == digest:
            return LoadResult(existing, created=False)
        message = (
            f"{definition.code} version {definition.version} is already loaded with other content; "
            "give the changed definition a new version"
        )
        raise InstrumentDefinitionError(source or definition.code, [Problem(("version",), 1, message)])

    instrument = Instrument(
        code=definition.code,
        version=definition.version,
        title=definition.title,
        definition=definition.model_dump(mode="json"),
        checksum=digest,
        source_name=source[-255:],
    )
    session.add(instrument)
    session.flush()
    facet_ids: dict[str, int] = {}
    for facet_def in definition.facets:
        facet = Facet(
            instrument_id=row_key(instrument),
            code=facet_def.code,
            kind=facet_def.kind,
            domain=facet_def.domain,
            name=facet_def.name,
            min_answered=facet_def.min_answered,
        )
        session.add(facet)
        session.flush()
        facet_ids[facet_def.code] = row_key(facet)
    for s, section_def in enumerate(definition.sections, start=1):
        section = InstrumentSection(
            instrument_id=row_key(instrument),
            code=section_def.code,
            position=s,
            title=section_def.title,
            intro=section_def.intro or {},
        )
        session.add(section)
        session.flush()
        for i, item_def in enumerate(section_def.items, start=1):
            session.add(_item_row(item_def, definition, row_key(instrument), row_key(section), facet_ids, i))
    session.flush()
    audit.record(
        session=session,
        action="instrument.loaded",
        user=user,
        actor="cli" if user is None else "",
        target_type="instrument",
        target_id=instrument.id,
        detail={"code": instrument.code, "version": instrument.version, "checksum": digest},
    )
    return LoadResult(instrument, created=True)


def _item_row(
    item: ItemDef,
    d: InstrumentDef,
    instrument_id: int,
    section_id: int,
    facet_ids: dict[str, int],
    position: int,
) -> Item:
    row = Item(
        instrument_id=instrument_id,
        section_id=section_id,
        code=item.code,
        position=position,
        type=item.type,
        text=item.text,
        reverse=item.reverse,
        required=item.required,
        facet_id=facet_ids.get(item.facet) if item.facet else None,
    )
    if item.type == "scale" and item.scale:
        scale = d.response_scales[item.scale]
        row.min_value, row.max_value = scale.min, scale.max
        row.options = [{"value": v, "label": scale.labels[v]} for v in range(scale.min, scale.max + 1)]
    elif item.type == "choice":
        row.options = [o.model_dump(mode="json", exclude_none=True) for o in item.options or []]
    elif item.type == "number":
        row.min_value, row.max_value = item.min, item.max
    elif item.type == "text":
        row.max_length = item.max_length or 500
    return row


def load_file(*, session: Session, path: Path, user: User | None = None) -> LoadResult:
    """Validate and store the definition in ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstrumentDefinitionError(str(path), [Problem((), 1, f"cannot read the file: {error}")]) from None
    definition = parse_definition(text, source=str(path))
    return load_definition(session=session, definition=definition, source=str(path), user=user)


def bundled_definitions() -> list[Path]:
    """The instrument definitions shipped with the framework."""
    return sorted(DEFINITIONS_DIR.glob("*.yaml"))

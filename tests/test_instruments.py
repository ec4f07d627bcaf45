"""Instrument definitions: the Carrière Kompas loads; a malformed file is refused precisely."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from studyapp.core.models import Facet, Instrument, InstrumentSection, Item
from studyapp.instruments.loader import (
    InstrumentDefinitionError,
    bundled_definitions,
    load_file,
    parse_definition,
)
from tests.factories import SMALL_INSTRUMENT

IDENTITY_DOMAINS = ("interests", "values", "competences", "goals", "personality")


@pytest.fixture(scope="module")
def kompas():
    path = bundled_definitions()[0]
    return parse_definition(path.read_text(encoding="utf-8"), str(path))


def test_carriere_kompas_follows_the_mission(kompas) -> None:
    assert kompas.code == "carriere-kompas"
    assert set(kompas.languages) == {"nl", "en"}
    items = {i.code: i for s in kompas.sections for i in s.items}
    facets = {f.code: f for f in kompas.facets}
    per_facet = Counter(i.facet for i in items.values() if i.facet)

    identity_items = [i for i in items.values() if i.facet and facets[i.facet].kind == "facet"]
    assert 95 <= len(identity_items) <= 120, "about 100 identity items"
    assert {facets[i.facet].domain for i in identity_items} == set(IDENTITY_DOMAINS)
    assert all(items[code].scale == "extent7" for code in (i.code for i in identity_items))
    assert any(i.reverse for i in identity_items), "reverse-keyed items are marked"

    assert per_facet["identification"] == 6
    assert per_facet["career_clarity"] == 3
    assert per_facet["career_commitment"] == 2
    assert per_facet["career_exploration"] == 3
    assert per_facet["gender_stigma"] == 4
    scale = kompas.response_scales["agree7"]
    assert (scale.min, scale.max, len(scale.labels)) == (1, 7, 7)

    identification = [i for i in items.values() if i.facet == "identification"]
    assert all("{title}" in i.text["en"] and "{title}" in i.text["nl"] for i in identification)
    title_item = items[kompas.title_item]
    titles = {o.title["en"] for o in title_item.options if o.title}
    assert titles == {"an engineer", "a technician", "a researcher"}
    assert any(o.free_text_item == "prof_title_other" for o in title_item.options)

    job = next(
        i for i in items.values() if i.options and {o.group for o in i.options} >= {"technical", "non_technical"}
    )
    assert Counter(o.group for o in job.options)["technical"] == 3
    for expected in ("age", "gender", "contract", "income", "cluster", "degree", "institution", "graduation"):
        assert any(expected in code for code in items), f"background/work item about {expected}"


def test_carriere_kompas_loads_into_the_database(session: Session) -> None:
    result = load_file(session=session, path=bundled_definitions()[0])
    session.commit()
    assert result.created
    instrument = result.instrument
    items = session.exec(select(Item).where(Item.instrument_id == instrument.id)).all()
    sections = session.exec(select(InstrumentSection).where(InstrumentSection.instrument_id == instrument.id)).all()
    facets = session.exec(select(Facet).where(Facet.instrument_id == instrument.id)).all()
    assert len(items) == sum(len(s.items) for s in parse_definition(bundled_definitions()[0].read_text()).sections)
    assert [s.position for s in sorted(sections, key=lambda s: s.position)] == list(range(1, len(sections) + 1))
    scale_items = [i for i in items if i.type == "scale"]
    assert all((i.min_value, i.max_value) == (1, 7) and len(i.options) == 7 for i in scale_items)
    assert sum(1 for i in items if i.facet_id) == sum(1 for i in items if i.type == "scale" and i.facet_id)
    assert len(facets) >= 25

    again = load_file(session=session, path=bundled_definitions()[0])
    assert not again.created and again.instrument.id == instrument.id
    assert len(session.exec(select(Instrument)).all()) == 1


def test_same_version_with_other_content_is_refused(session: Session, tmp_path: Path) -> None:
    first = tmp_path / "small.yaml"
    first.write_text(SMALL_INSTRUMENT)
    load_file(session=session, path=first)
    session.commit()
    changed = tmp_path / "small-changed.yaml"
    changed.write_text(SMALL_INSTRUMENT.replace("I know what I want", "I know what I need"))
    with pytest.raises(InstrumentDefinitionError, match="already loaded with other content"):
        load_file(session=session, path=changed)


def _error_for(text: str) -> InstrumentDefinitionError:
    with pytest.raises(InstrumentDefinitionError) as caught:
        parse_definition(text, "bad.yaml")
    return caught.value


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "reason"),
    [
        (", en: I doubt}", "}", "Ik twijfel", "missing translation: en"),
        (
            "scale: agree3, facet: clarity, reverse",
            "scale: agree5, facet: clarity, reverse",
            "agree5",
            "unknown response scale 'agree5'",
        ),
        (
            "scale: agree3, facet: clarity,\n",
            "scale: agree3, facet: clearness,\n",
            "clearness",
            "unknown facet 'clearness'",
        ),
        ("{code: cc_2,", "{code: cc_1,", "reverse: true", "duplicate item code 'cc_1'"),
        (
            "2: {nl: neutraal, en: neutral}",
            "5: {nl: neutraal, en: neutral}",
            "labels:",
            "one label for each value 1..3",
        ),
        (
            "estimated_minutes: 2",
            "estimated_minutes: 2\nestimated_minutes: 3",
            "estimated_minutes: 3",
            "duplicate key 'estimated_minutes'",
        ),
        ("    items:", "    itemz:", "itemz", "unknown key"),
        ('version: "1"', "version: 1", "version: 1", "quoted string"),
        (
            "title: {nl: Loopbaan, en: Career}",
            "title: {nl: Loopbaan, en: Career, fr: Carrière}",
            "Carrière",
            "language not listed in 'languages': fr",
        ),
        ("text: {nl: Ik twijfel", "max: 4, text: {nl: Ik twijfel", "Ik twijfel", "'max' does not apply"),
    ],
)
def test_bad_definition_names_file_line_and_reason(old: str, new: str, needle: str, reason: str) -> None:
    assert old in SMALL_INSTRUMENT
    text = SMALL_INSTRUMENT.replace(old, new, 1)
    error = _error_for(text)
    line = _line_of(text, needle)
    assert any(p.line == line and reason in p.message for p in error.problems), str(error)
    assert f"bad.yaml:{line}:" in str(error)


def test_yaml_syntax_error_has_a_line() -> None:
    text = SMALL_INSTRUMENT.replace("estimated_minutes: 2", "estimated_minutes: [2")
    error = _error_for(text)
    assert "not valid YAML" in str(error)
    assert error.problems[0].line >= _line_of(text, "estimated_minutes")


def test_title_placeholder_needs_a_title_item_on_an_earlier_page() -> None:
    text = SMALL_INSTRUMENT.replace("en: I know what I want", 'en: "I want to be {title}"')
    error = _error_for(text)
    assert "{title} is used but the instrument has no 'title_item'" in str(error)


def test_cli_loads_bundled_and_refuses_bad_file(app: Flask, runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["instruments", "load"])
    assert result.exit_code == 0, result.output
    assert "carriere-kompas 2026.1: loaded" in result.output
    result = runner.invoke(args=["instruments", "load"])
    assert "already loaded, unchanged" in result.output

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SMALL_INSTRUMENT.replace("scale: agree3, facet: clarity, reverse", "scale: agree9, facet: clarity, reverse")
    )
    result = runner.invoke(args=["instruments", "load", str(bad)])
    assert result.exit_code != 0
    line = _line_of(bad.read_text(), "agree9")
    assert f"{bad}:{line}: sections[0].items[1].scale: unknown response scale 'agree9'" in result.output

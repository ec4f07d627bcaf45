"""The gettext catalogues: complete, current and compiled (issue 18).

Each check runs the real tools on the committed files: the extraction `make translations` runs (its
options read from the Makefile), the .po as a translator leaves it, the .mo the app loads.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "studyapp" / "translations"
LANGUAGES = ("nl",)  # English is the msgid itself
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}|%\([a-z_]+\)[sdif]|%[sdif]", re.IGNORECASE)


def _po(language: str) -> Catalog:
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _extract_options() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^EXTRACT_OPTIONS := (.+)$", makefile, re.MULTILINE)
    assert found, "the Makefile's translations target names its extraction options in EXTRACT_OPTIONS"
    return shlex.split(found.group(1))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A fresh extraction of every text, as `make translations` makes it."""
    template = tmp_path_factory.mktemp("pot") / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", *_extract_options()]
    subprocess.run([*command, "-o", str(template), "."], cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as handle:
        return read_po(handle)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(message.context, _singular(message.id)) for message in catalog if message.id}


def _singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def _describe(keys: set[tuple[str | None, str]]) -> str:
    return "\n".join(sorted(f"{context or ''}|{msgid}" for context, msgid in keys)[:20])


def test_extraction_finds_the_apps_texts(extracted: Catalog) -> None:
    """The extraction sees Python, templates and the fieldwork engine (a broken babel.cfg finds nothing)."""
    files = {location for message in extracted for location, _line in message.locations}
    assert any(name.startswith("studyapp/templates/") for name in files)
    assert any(name.startswith("studyapp/") and name.endswith(".py") for name in files)
    assert len(extracted) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_every_extracted_text_and_no_obsolete_one(extracted: Catalog, language: str) -> None:
    """A text added to the code without `make translations` (or one removed from it) is a stale catalogue."""
    catalogue = _po(language)
    new = _keys(extracted) - _keys(catalogue)
    gone = _keys(catalogue) - _keys(extracted)
    assert not new, f"texts missing from {language}/messages.po; run `make translations`:\n{_describe(new)}"
    assert not gone, f"obsolete texts in {language}/messages.po; run `make translations`:\n{_describe(gone)}"
    assert not catalogue.obsolete, f"obsolete (#~) entries in {language}/messages.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_and_none_is_fuzzy(language: str) -> None:
    """An empty or fuzzy translation would show English (or a guess) to a Dutch reader."""
    catalogue = _po(language)
    untranslated = [message.id for message in catalogue if message.id and not all(_forms(message.string))]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert not untranslated, f"untranslated in {language}: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    """A translation that drops or renames {wave} or %(count)s would fail, or mislead, at run time."""
    catalogue = _po(language)
    wrong = []
    for message in catalogue:
        if not message.id:
            continue
        expected = set(PLACEHOLDER.findall(_forms(message.id)[-1]))
        for form in _forms(message.string):
            if set(PLACEHOLDER.findall(form)) - expected or (
                isinstance(message.id, str) and set(PLACEHOLDER.findall(form)) != expected
            ):
                wrong.append((message.id, form))
    assert not wrong, f"placeholders differ in {language}: {wrong[:10]}"
    assert not [error for _message, errors in catalogue.check() for error in errors]


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_is_compiled_from_the_po(language: str, tmp_path: Path) -> None:
    """The app reads the .mo: one not recompiled after a .po change shows the old texts."""
    compiled = tmp_path / "messages.mo"
    with compiled.open("wb") as handle:
        write_mo(handle, _po(language))
    committed = CATALOGUES / language / "LC_MESSAGES" / "messages.mo"
    assert committed.read_bytes() == compiled.read_bytes(), f"{committed} is stale; run `make translations`"


def test_catalogue_check_fails_on_a_missing_translation(tmp_path: Path) -> None:
    """The checks above can fail: a text without translation and a stale .mo are both caught."""
    catalogue = _po("nl")
    first = next(message for message in catalogue if message.id)
    first.string = ""
    assert not all(_forms(first.string))
    compiled = tmp_path / "messages.mo"
    with compiled.open("wb") as handle:
        write_mo(handle, catalogue)
    assert compiled.read_bytes() != (CATALOGUES / "nl" / "LC_MESSAGES" / "messages.mo").read_bytes()

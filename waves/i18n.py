"""The fieldwork engine's texts in the recipient's language, from the app's gettext catalogues.

The engine runs outside any request (scheduler, dispatcher, CLI) and must not import the web app, so it
reads the compiled catalogues itself: once per language and process, never per message.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

from babel.dates import format_date
from babel.support import NullTranslations, Translations

# One catalogue for the whole app, so translators work in one file. A path, not an import: the layers hold.
CATALOGUES = Path(__file__).resolve().parent.parent / "studyapp" / "translations"
LANGUAGES = ("nl", "en")


class Text(str):
    """An English text made from a catalogue msgid and its values (``str`` of it is the English).

    The engine does not know who reads its refusals; a layer that does (an admin page) translates the
    text again from :attr:`msgid` and :attr:`values` (``studyapp.extensions.localized``).
    """

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, **values: object) -> Text:
        """The English of ``msgid`` with ``values`` filled in, remembering both."""
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid = msgid
        text.values = values
        return text


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "extract this, translate it later")
    """``message`` unchanged: marks a text for the catalogues that is translated where it is used."""
    return message


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English, the msgids themselves, for any other)."""
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGUES), [language], "messages")


def translated(language: str, message: str) -> str:
    """``message`` (an English msgid) in ``language``."""
    return translations(language).gettext(message)


def ptranslated(language: str, context: str, message: str) -> str:
    """``message`` in ``language``, for the sense ``context`` names."""
    return str(translations(language).pgettext(context, message))


@functools.lru_cache(maxsize=1024)
def long_date(day: date, language: str) -> str:
    """A date written out as readers of ``language`` write it: '28 december 2026', '28 December 2026'."""
    return format_date(day, "d MMMM y", locale=language if language in LANGUAGES else "en")


def ntranslated(language: str, singular: str, plural: str, count: int) -> str:
    """The form of ``singular``/``plural`` that ``count`` takes in ``language``."""
    return translations(language).ngettext(singular, plural, count)

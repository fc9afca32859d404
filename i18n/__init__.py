"""Translations (gettext catalogs via Babel) for the bot's and the reminders' messages.

Message ids are the English text. Each language folder ``i18n/locales/<lang>/`` holds
several ``.po`` files, one per feature (core.po, reporting.po, reminders.po …), so people
working on different features never edit the same file; they are merged into one catalog
per language when first used. The .po files are compiled in memory, so there is no build
step and no compiled .mo file in the repository. ``tests/test_translations.py`` fails when a
message used in the code is missing from any language.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (module-level constants)."""
    return message


def read_catalog(language: str) -> Catalog:
    """All .po files of a language merged into one Babel catalog."""
    merged = Catalog(locale=language, domain="messages")
    for po_file in sorted((LOCALES / language).glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id:
                    merged[message.id] = message
    return merged


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(language), use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def normalize_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map Telegram's language_code ("fi", "sv-SE", "en-GB" …) to fi/sv/en."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
    return default


#: `gettext_for`'s answers by the code asked for: every message of every update asks.
_GETTEXT: dict[str | None, Callable[[str], str]] = {}


def gettext_for(language: str | None) -> Callable[[str], str]:
    """The ``_`` function for one language."""
    found = _GETTEXT.get(language)
    if found is None:
        found = translations(normalize_language(language)).gettext
        if len(_GETTEXT) < 256:  # Telegram's language codes are few; never unbounded
            _GETTEXT[language] = found
    return found

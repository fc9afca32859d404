"""One word for one thing in the Swedish and English translations.

The Finnish abbreviation "Lkm" (lukumäärä) must not reach Swedish or English screens
("Antal" / "Count"); Swedish says "servicehelhet" for palvelukokonaisuus and "metod" for
tapa; English says "agenda item text" for listateksti and "Status" for tilanne.
"""

from __future__ import annotations

import re

import pytest

from i18n import read_catalog

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")


def _pairs(language: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translated message, plural forms included."""
    pairs = []
    for message in read_catalog(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(ids[0], text) for text in strings]
    return pairs


@pytest.mark.parametrize("language", ["sv", "en"])
def test_lkm_never_appears_in_swedish_or_english(language: str) -> None:
    found = [text for _id, text in _pairs(language) if re.search(r"\bLkm\b", text)]
    assert not found, found


def test_swedish_says_servicehelhet_for_every_service_entity() -> None:
    wrong = [
        (msgid, text)
        for msgid, text in _pairs("sv")
        if re.search(r"service entit", msgid, re.I) and "servicehelhet" not in text.lower()
    ]
    other_words = [
        text
        for _id, text in _pairs("sv")
        if re.search(r"tjänstehelhet|serviceområde|tjänsteområde", text, re.I)
    ]
    assert not wrong and not other_words, (wrong, other_words)


def test_swedish_says_metod_for_every_method() -> None:
    wrong = [
        (msgid, text)
        for msgid, text in _pairs("sv")
        if re.search(r"\bmethods?\b|ways? of measuring", PLACEHOLDER.sub("", msgid), re.I)
        and "metod" not in text.lower()
    ]
    # "sätt" (way) as a noun; "fortsätt" (continue) is another word.
    satt = [
        text
        for _id, text in _pairs("sv")
        if re.search(r"(?<!fort)(?<!Fort)sätt(et|en|ets)?\b|delaktighetsform", text)
    ]
    assert not wrong and not satt, (wrong, satt)


def test_english_says_agenda_item_text_and_status() -> None:
    wrong = [
        text for _id, text in _pairs("en") if re.search(r"\blist text\b|\bSituation\b", text, re.I)
    ]
    assert not wrong, wrong


def test_english_deadline_titles_say_agenda_item_text() -> None:
    from settings import load_settings

    titles = [d.title.get("en") for d in load_settings(env={}).calendar.deadlines]
    assert not [t for t in titles if re.search(r"\blist texts?\b", t, re.I)], titles

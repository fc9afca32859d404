"""One word for one thing in every language.

The count of a method is "Lkm" in Finnish — the column of the city board's table, which the
documents keep — "Antal" in Swedish and "Count" in English, in the chat, /muokkaa, /tila and
the Excel workbook alike. The Finnish abbreviation "Lkm" (lukumäärä) must not reach Swedish
or English screens; Swedish says "servicehelhet" for palvelukokonaisuus and "metod" for
tapa; English says "agenda item text" for listateksti and "Status" for tilanne.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from i18n import read_catalog

ROOT = Path(__file__).resolve().parent.parent

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


def _finnish_count_words(text: str) -> list[str]:
    """Forms of "lukumäärä" a Finnish text uses as the name of a count, beside "Lkm"."""
    # "Lkm (lukumäärä)" spells the abbreviation out once, where it is defined.
    return re.findall(r"\w*lukumäär\w*", text.replace("Lkm (lukumäärä)", ""), re.I)


def test_finnish_calls_the_count_of_a_method_lkm_everywhere() -> None:
    # The Mini App's "count" is read aloud by a screen reader only (visually hidden label
    # after the method's name), where the spoken word serves better than "L-K-M".
    spoken_only = {"count"}
    wrong = [
        (msgid, text)
        for msgid, text in _pairs("fi")
        if msgid not in spoken_only and _finnish_count_words(text)
    ]
    assert not wrong, wrong


def test_the_count_column_is_lkm_antal_count_in_the_workbook_and_lkm_in_the_documents() -> None:
    import yaml

    from i18n import gettext_for
    from sheets.messages import H_COUNT

    heads = {language: gettext_for(language)(H_COUNT) for language in ("fi", "sv", "en")}
    assert heads == {"fi": "Lkm", "sv": "Antal", "en": "Count"}
    wording = yaml.safe_load((ROOT / "docgen" / "templates" / "fi.yaml").read_text("utf-8"))
    headers = [value for key, value in _walk(wording) if key == "count"]
    assert headers and set(headers) == {"Lkm"}, headers


@pytest.mark.parametrize(
    ("language", "word", "others"),
    [
        ("sv", "antal", r"\bmängd|\bstycken\b|\bLkm\b"),
        ("en", "count", r"\bquantity\b|\bQty\b|\bamount\b|\bLkm\b"),
    ],
)
def test_swedish_and_english_name_the_count_of_a_method_one_way(
    language: str, word: str, others: str
) -> None:
    wrong = [
        (msgid, text)
        for msgid, text in _pairs(language)
        if re.search(r"\bcounts?\b", PLACEHOLDER.sub("", msgid))
        and re.search(r"\bmethod|\bLkm\b|Qty|^Count", msgid)
        and word not in text.lower()
    ]
    other_words = [text for _id, text in _pairs(language) if re.search(others, text, re.I)]
    assert not wrong and not other_words, (wrong, other_words)


def _walk(node: object, key: str = "") -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in _walk(v, str(k))]
    if isinstance(node, list):
        return [pair for item in node for pair in _walk(item, key)]
    return [(key, node)]

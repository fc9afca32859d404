"""Every message states a rule's numbers by taking them from the rule (issue 16, items 1, 15).

A message id or translation that writes a limit itself ("0…100 000", "−100…100",
"10 000 000") can drift from the rule book (``data.answers``, ``data.limits``): item 1 was
"Kirjoita luku väliltä 0…100 000" beside a rule refusing 0. Messages write ``{range}``
instead, filled by ``i18n.formats.format_range`` — one style per language.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from data import limits
from i18n import LANGUAGES, formats, read_catalog

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "_n": (1, 2)}
PACKAGES = ("bot", "schedules", "sheets", "i18n", "miniapp")
#: A limit written out: 100 000 / 100,000 / 10 000 000 / −100 / "from 0 to" / "1…5".
WRITTEN_LIMIT = re.compile(
    r"100[\s\u00a0\u202f,]000|10[\s\u00a0\u202f,]000[\s\u00a0\u202f,]000|[−-]100\b|\d…\d"
    r"|from 0 to|väliltä 0|från 0"
    r"|(?i:at most|enintään|högst) [13]00\b"  # MAX_TEXT, MAX_PERIOD: as {limit}
)


def _used() -> set[str]:
    used = set()
    for package in PACKAGES:
        if not (ROOT / package).exists():
            continue
        for _f, _l, message, _c, _x in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            used |= {m for m in (message if isinstance(message, tuple) else (message,)) if m}
    return used


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_writes_a_limit_itself(language: str) -> None:
    catalog = read_catalog(language)
    written = []
    for msgid in sorted(_used()):
        message = catalog.get(msgid)
        text = message.string if message else ""
        texts = text if isinstance(text, tuple) else (text,)
        for value in (msgid, *texts):
            if value and WRITTEN_LIMIT.search(value):
                written.append(value)
    assert not written, written


@pytest.mark.parametrize(
    ("language", "count", "nps", "respondents"),
    [
        ("fi", "1–100\u00a0000", "−100–100", "1–10\u00a0000\u00a0000"),
        ("sv", "1–100\u00a0000", "−100–100", "1–10\u00a0000\u00a0000"),
        ("en", "1–100,000", "-100–100", "1–10,000,000"),
    ],
)
def test_one_range_style_per_language(
    language: str, count: str, nps: str, respondents: str
) -> None:
    assert formats.format_range(limits.COUNT_RANGE, language) == count
    assert formats.format_range(limits.NPS_RANGE, language) == nps
    assert formats.format_range(limits.RESPONDENTS_RANGE, language) == respondents

"""The README's user section states each rule once, with the numbers of ``data/limits.py``.

A limit changed in code but not in the README (or the other way round) would have the
guide promise what the bot refuses — the disagreement issue 16 was about."""

from __future__ import annotations

import re
from pathlib import Path

from data import answers, limits
from i18n import formats

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
START = "**The rules every answer follows**"
SECTION = README[README.index(START) : README.index("What it takes (inputs")]


def _written(span: limits.Range, language: str) -> str:
    return formats.format_range(span, language).replace("\u00a0", " ")


def test_the_rules_are_stated_once_in_the_readme() -> None:
    assert README.count(START) == 1
    for rule in (
        "**Count (Lkm)**",
        "**A method**",
        "**No methods at this level**",
        "**Satisfaction**",
        "**Respondents**",
        "**Last year's answers**",
    ):
        assert README.count(rule) == 1, rule


def test_the_readme_takes_its_numbers_from_data_limits() -> None:
    count = " ".join(SECTION[SECTION.index("**Count (Lkm)**") :].split("\n- ")[0].split())
    assert _written(limits.COUNT_RANGE, "fi") in count
    assert "0 is refused" in count and limits.MIN_METHOD_COUNT == 1
    satisfaction = " ".join(SECTION[SECTION.index("**Satisfaction**") :].split())
    assert f"whole number {_written(limits.NPS_RANGE, 'fi')}" in satisfaction
    assert f"each {_written(limits.NPS_COUNT_RANGE, 'fi')}" in satisfaction
    assert f"**Respondents** are {_written(limits.RESPONDENTS_RANGE, 'fi')}" in satisfaction
    assert f"at most {limits.MAX_TEXT} characters" in satisfaction
    assert limits.MAX_SCALE == limits.MAX_PERIOD
    assert f"a scale and a period {limits.MAX_SCALE}" in satisfaction
    styles = SECTION[: SECTION.index("- **Count")]
    for language in ("fi", "en"):
        for span in (limits.COUNT_RANGE, limits.NPS_RANGE):
            assert f'"{_written(span, language)}"' in styles, (language, span)
    # No old range style anywhere in the README.
    assert not re.search(r"0[–…]100[ ,]000|−100…|…\+?100\b", README)


def test_the_readme_lists_only_words_the_rule_book_takes_as_none() -> None:
    bullet = SECTION[SECTION.index("**No methods at this level**") :].split("\n- ")[0]
    listed = re.findall(r"`([^`]+)`", bullet)
    assert len(listed) >= 9, listed
    assert all(answers.is_none_word(word) for word in listed), listed


def test_the_readme_says_every_surface_shares_the_rules() -> None:
    intro = " ".join(SECTION[: SECTION.index("- **Count")].split())
    for surface in ("the chat", "/muokkaa", "the Excel workbook and its import", "/tila"):
        assert surface in intro, surface
    assert "the documents" in intro and "`data/answers.py`" in intro
    assert "`data/limits.py`" in intro

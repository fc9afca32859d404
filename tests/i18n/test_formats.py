"""Counts, NPS scores, decimals, dates and times are read and written one way per language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data import limits
from i18n import formats

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", f"1{NBSP}200"), ("sv", f"1{NBSP}200"), ("en", "1,200")],
)
def test_counts_are_grouped_the_way_the_language_writes_them(language: str, expected: str) -> None:
    assert formats.format_count(1200, language) == expected
    assert formats.format_count(12, language) == "12"


def test_finnish_and_swedish_use_a_no_break_space_so_a_number_never_wraps() -> None:
    assert formats.format_count(100_000, "fi") == f"100{NBSP}000"
    assert " " not in formats.format_count(1_000_000, "sv")


def test_negative_nps_uses_the_typographic_minus_in_finnish_and_hyphen_in_english() -> None:
    assert formats.format_nps(-30, "fi") == "\u221230"
    assert formats.format_nps(-30, "sv") == "\u221230"
    assert formats.format_nps(-30, "en") == "-30"
    assert formats.format_nps(35, "fi") == "35"
    assert formats.nps_range("fi") == "\u2212100–100"


@pytest.mark.parametrize(("language", "expected"), [("fi", "3,8"), ("sv", "3,8"), ("en", "3.8")])
def test_decimals_use_the_language_separator(language: str, expected: str) -> None:
    assert formats.format_decimal(Decimal("3.8"), language) == expected
    assert formats.format_decimal(4, language) == "4"


def test_dates_are_finnish_official_form_in_fi_sv_and_unambiguous_in_english() -> None:
    day = dt.date(2026, 11, 30)
    assert {formats.format_date(day, lang) for lang in ("fi", "sv")} == {"30.11.2026"}
    assert formats.format_date(day, "en") == "30 Nov 2026"
    assert formats.format_date(day) == "30.11.2026"
    assert formats.format_date(dt.date(2026, 1, 5), "fi") == "5.1.2026"
    assert formats.weekday(day, "fi") == "maanantai"
    assert formats.weekday(day, "sv") == "måndag"
    assert formats.weekday(day, "en") == "Monday"
    assert formats.weekday(day, "fi", short=True) == "ma"


def test_times_have_no_leading_zero_finnish_says_klo_and_english_a_colon() -> None:
    assert formats.format_time(dt.time(9, 0)) == "9.00"
    assert formats.format_clock(dt.time(9, 5), "fi") == f"klo{NBSP}9.05"
    assert formats.format_clock(dt.time(9, 5), "sv") == f"kl.{NBSP}9.05"
    assert formats.format_clock(dt.time(9, 5), "en") == "9:05"
    moment = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    assert formats.format_datetime(moment, ZoneInfo("Europe/Helsinki")) == "30.11.2026 9.00"
    assert formats.format_datetime(moment, ZoneInfo("Europe/Helsinki"), "en") == "30 Nov 2026 9:00"


def test_a_share_is_written_with_a_space_in_finnish_and_swedish_and_without_in_english() -> None:
    assert formats.format_percent(0.4, "fi") == f"40{NBSP}%"
    assert formats.format_percent(0.4, "sv") == f"40{NBSP}%"
    assert formats.format_percent(0, "en") == "0%"


@pytest.mark.parametrize("typed", ["1200", "1 200", f"1{NBSP}200", "1\u202f200", " 1200 ", "+1200"])
def test_a_whole_number_may_be_typed_with_any_thousands_space(typed: str) -> None:
    assert formats.read_whole(typed, "fi") == 1200


def test_english_also_accepts_a_comma_between_thousands() -> None:
    assert formats.read_whole("1,200", "en") == 1200
    assert formats.read_whole("1 200", "en") == 1200


@pytest.mark.parametrize(
    "typed", ["12a", "²", "١٢", "12,5", "1,200", "1.200", "", "12 34", "1 2000", "kaksi"]
)
def test_what_is_not_a_whole_number_is_not_read_as_one(typed: str) -> None:
    assert formats.read_whole(typed, "fi") is None


@pytest.mark.parametrize(
    ("typed", "value"),
    [("-30", -30), ("\u221230", -30), ("\u2013 30", -30), ("+35", 35), ("0", 0), ("100", 100)],
)
def test_every_minus_sign_is_read(typed: str, value: int) -> None:
    assert formats.read_whole(typed, "fi") == value


@pytest.mark.parametrize("typed", ["3,8", "3.8", " 3,8 "])
def test_decimal_accepts_comma_or_point(typed: str) -> None:
    assert formats.read_decimal(typed) == Decimal("3.8")
    assert formats.read_decimal("3,800,1") is None


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", f"1–100{NBSP}000"), ("sv", f"1–100{NBSP}000"), ("en", "1–100,000")],
)
def test_one_range_style_per_language(language: str, expected: str) -> None:
    assert formats.format_range(limits.COUNT_RANGE, language) == expected
    assert formats.format_range((-100, 100), language).endswith("100–100")


@given(value=st.integers(min_value=0, max_value=limits.MAX_RESPONDENTS))
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_what_the_bot_writes_it_reads_back(language: str, value: int) -> None:
    assert formats.read_whole(formats.format_count(value, language), language) == value


@given(value=st.integers(min_value=limits.NPS_MIN, max_value=limits.NPS_MAX))
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_nps_the_bot_writes_it_reads_back(language: str, value: int) -> None:
    assert formats.read_whole(formats.format_nps(value, language), language) == value

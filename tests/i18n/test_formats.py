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
from i18n.formats import InputError

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
    assert formats.nps_range("fi") == "\u2212100…100"


@pytest.mark.parametrize(("language", "expected"), [("fi", "3,8"), ("sv", "3,8"), ("en", "3.8")])
def test_decimals_use_the_language_separator(language: str, expected: str) -> None:
    assert formats.format_decimal(Decimal("3.8"), language) == expected
    assert formats.format_decimal(4, language) == "4"


def test_dates_are_finnish_official_form_in_every_language_with_local_weekday_names() -> None:
    day = dt.date(2026, 11, 30)
    assert {formats.format_date(day, lang) for lang in ("fi", "sv", "en")} == {"30.11.2026"}
    assert formats.format_date(dt.date(2026, 1, 5), "fi") == "5.1.2026"
    assert formats.weekday(day, "fi") == "maanantai"
    assert formats.weekday(day, "sv") == "måndag"
    assert formats.weekday(day, "en") == "Monday"
    assert formats.weekday(day, "fi", short=True) == "ma"


def test_times_have_no_leading_zero_and_finnish_says_klo() -> None:
    assert formats.format_time(dt.time(9, 0)) == "9.00"
    assert formats.format_clock(dt.time(9, 5), "fi") == f"klo{NBSP}9.05"
    assert formats.format_clock(dt.time(9, 5), "sv") == f"kl.{NBSP}9.05"
    assert formats.format_clock(dt.time(9, 5), "en") == "9.05"
    moment = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    assert formats.format_datetime(moment, ZoneInfo("Europe/Helsinki")) == "30.11.2026 9.00"


@pytest.mark.parametrize("typed", ["1200", "1 200", f"1{NBSP}200", "1\u202f200", " 1200 ", "+1200"])
def test_a_count_may_be_typed_with_any_thousands_space(typed: str) -> None:
    assert formats.parse_count(typed, "fi") == 1200


def test_english_also_accepts_a_comma_between_thousands() -> None:
    assert formats.parse_count("1,200", "en") == 1200
    assert formats.parse_count("1 200", "en") == 1200


@pytest.mark.parametrize(
    "typed", ["12a", "²", "١٢", "12,5", "1,200", "1.200", "", "12 34", "1 2000", "kaksi"]
)
def test_what_is_not_a_whole_number_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        formats.parse_count(typed, "fi")
    assert caught.value.message == formats.MSG_NOT_A_COUNT
    assert caught.value.render("fi") == (
        f"Kirjoita kokonaisluku väliltä 0…100{NBSP}000, esimerkiksi 12 tai 1{NBSP}200."
    )
    assert caught.value.render("en") == (
        "Type a whole number from 0 to 100,000, for example 12 or 1,200."
    )


@pytest.mark.parametrize("typed", ["-5", "\u22125", "– 5"])
def test_a_negative_count_is_refused_as_negative(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        formats.parse_count(typed, "fi")
    assert caught.value.message == formats.MSG_COUNT_NEGATIVE


def test_the_count_limit_comes_from_data_limits_and_the_message_says_it() -> None:
    assert formats.parse_count("100 000", "fi") == limits.MAX_COUNT
    with pytest.raises(InputError) as caught:
        formats.parse_count("100 001", "fi")
    assert caught.value.params == {"maximum": limits.MAX_COUNT}
    assert caught.value.render("sv") == f"Talet kan vara högst 100{NBSP}000. Skriv ett mindre tal."
    assert formats.parse_count("7", "fi", maximum=7) == 7


@pytest.mark.parametrize(
    ("typed", "value"),
    [("-30", -30), ("\u221230", -30), ("\u2013 30", -30), ("+35", 35), ("0", 0), ("100", 100)],
)
def test_nps_accepts_every_minus_sign(typed: str, value: int) -> None:
    assert formats.parse_nps(typed, "fi") == value


def test_nps_outside_its_range_says_the_range_and_the_value() -> None:
    with pytest.raises(InputError) as caught:
        formats.parse_nps("-150", "fi")
    assert caught.value.render("fi") == (
        "NPS on aina välillä \u2212100…100; \u2212150 on sen ulkopuolella."
    )
    with pytest.raises(InputError) as caught:
        formats.parse_nps("35,5", "en")
    assert caught.value.message == formats.MSG_NOT_AN_NPS


@pytest.mark.parametrize("typed", ["3,8", "3.8", " 3,8 "])
def test_decimal_accepts_comma_or_point(typed: str) -> None:
    assert formats.parse_decimal(typed, "fi", low=1, high=5) == Decimal("3.8")


def test_decimal_outside_the_scale_is_refused_with_the_scale() -> None:
    with pytest.raises(InputError) as caught:
        formats.parse_decimal("5,5", "fi", low=1, high=5)
    assert caught.value.render("fi") == "Tuloksen on oltava välillä 1…5."
    with pytest.raises(InputError):
        formats.parse_decimal("3,800,1", "en", low=1, high=5)


def test_respondents_have_their_own_limit() -> None:
    assert formats.parse_respondents("10 000 000", "fi") == limits.MAX_RESPONDENTS
    with pytest.raises(InputError) as caught:
        formats.parse_respondents("10 000 001", "fi")
    assert caught.value.render("en") == "The number of respondents can be at most 10,000,000."


@given(value=st.integers(min_value=0, max_value=limits.MAX_COUNT))
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_what_the_bot_writes_it_reads_back(language: str, value: int) -> None:
    assert formats.parse_count(formats.format_count(value, language), language) == value


@given(value=st.integers(min_value=limits.NPS_MIN, max_value=limits.NPS_MAX))
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_nps_the_bot_writes_it_reads_back(language: str, value: int) -> None:
    assert formats.parse_nps(formats.format_nps(value, language), language) == value

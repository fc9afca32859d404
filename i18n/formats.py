"""The one place that reads and writes numbers, NPS scores, dates and times per language.

Everything the bot shows or reads as a number goes through here, so /raportoi and /tila can
never disagree about "1 200" versus "1,200" again. Numbers come from Babel's CLDR data:

* Finnish and Swedish group thousands with a space. We write exactly what Babel gives,
  U+00A0 NO-BREAK SPACE ("1\u00a0200"), so a number is never broken across lines in
  Telegram; CLDR's newer narrow no-break space (U+202F) renders too thin in some
  Telegram clients. English groups with a comma ("1,200").
* Decimals use the language's separator: "3,8" in fi/sv, "3.8" in en.
* Negative NPS uses the language's minus sign from CLDR (U+2212 "−" in fi/sv, "-" in en).

Reading is forgiving where people differ and strict where a guess could be wrong: a whole
number may be typed "1200", "1 200" with any kind of space, or in English "1,200"; "12a",
"²", "١٢" (non-ASCII digits) and "12,5" are not whole numbers. A sign may be "-", "−"
(U+2212) or "–"; a decimal may use "," or ".". Whether a number is allowed (its range) is
the rule book's business (``data.answers``), not this module's.

A range is written one way in every message: "1–100 000" (fi/sv), "1–100,000" (en),
"−100–100" (`format_range`), its ends taken from ``data.limits``.

Dates are the Finnish official form "30.11.2026" in Finnish and Swedish and the unambiguous
"30 Nov 2026" in English ("11/30/26" would be misread by half the readers); weekday names
and the word for "at" before a time ("klo 9.00", "kl. 9.00") follow the language. Times are
"9.00" in Finnish and Swedish, "9:00" in English. A share is "40 %" (fi/sv), "40%" (en).

A refusal in the chat raises `InputError` carrying a message id (English text, translated
when shown) and its numbers; `InputError.render` formats those numbers (and ranges) for the
reader's language.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal as _babel_decimal
from babel.numbers import format_percent as _babel_percent
from babel.numbers import get_minus_sign_symbol

from data.limits import NPS_RANGE, Range
from i18n import gettext_for, normalize_language

# The wording of a refused input lives with the rule it breaks (``data.answers`` codes,
# worded for the chat by ``bot.flow.inputs`` and for a workbook by ``sheets.messages``);
# this module only reads and writes numbers.

# --- formatting -------------------------------------------------------------------------

#: "klo 9.00", "kl. 9.00": the word Finnish and Swedish put before a clock time.
_CLOCK_WORD = {"fi": "klo\u00a0", "sv": "kl.\u00a0", "en": ""}


def _lang(language: str | None) -> str:
    return normalize_language(language)


def format_count(value: int, language: str | None) -> str:
    """1200 → "1 200" (fi/sv, no-break space) or "1,200" (en)."""
    return format_integer(value, language)


@functools.lru_cache(maxsize=4096)
def format_integer(value: int, language: str | None) -> str:
    """A whole number with grouping and the language's own minus sign (−30 in fi/sv).

    Cached: Babel formats a number in tens of microseconds, and a step's message writes the
    same few (counts, the ends of a range) again and again."""
    text = _babel_decimal(abs(value), format="#,##0", locale=_lang(language))
    return f"{get_minus_sign_symbol(_lang(language))}{text}" if value < 0 else text


def format_nps(value: int, language: str | None) -> str:
    """An NPS score: "35", "−12" (fi/sv typographic minus), "-12" (en)."""
    return format_integer(value, language)


def nps_range(language: str | None) -> str:
    """The NPS range as every message writes it: "−100–100"."""
    return format_range(NPS_RANGE, language)


#: Between the ends of a range: one style in every language ("1–100 000", "1–100,000").
RANGE_DASH = "\u2013"


def format_range(span: Range | tuple[int, int], language: str | None) -> str:
    """ "1–100 000" (fi/sv), "1–100,000" (en), "−100–100": the one way a range is written."""
    low, high = span
    return f"{format_integer(low, language)}{RANGE_DASH}{format_integer(high, language)}"


def format_decimal(value: Decimal | float | int, language: str | None, *, places: int = 1) -> str:
    """3.8 → "3,8" (fi/sv) or "3.8" (en); at most ``places`` decimals, none if whole."""
    pattern = "#,##0." + "#" * places if places > 0 else "#,##0"
    number = Decimal(str(value))
    text = _babel_decimal(abs(number), format=pattern, locale=_lang(language))
    return f"{get_minus_sign_symbol(_lang(language))}{text}" if number < 0 else text


def format_date(day: dt.date, language: str | None = None) -> str:
    """30.11.2026 (fi/sv, the Finnish official form; also the default) or "30 Nov 2026" (en)."""
    if _lang(language) == "en":
        return _babel_date(day, "d MMM y", locale="en")
    return f"{day.day}.{day.month}.{day.year}"


def format_time(moment: dt.time | dt.datetime, language: str | None = None) -> str:
    """9.00 (fi/sv: no leading zero, a dot before the minutes) or 9:00 (en)."""
    separator = ":" if _lang(language) == "en" else "."
    return f"{moment.hour}{separator}{moment.minute:02d}"


def format_clock(moment: dt.time | dt.datetime, language: str | None) -> str:
    """ "klo 9.00" (fi), "kl. 9.00" (sv), "9:00" (en): a time on its own in a sentence."""
    return f"{_CLOCK_WORD[_lang(language)]}{format_time(moment, language)}"


def format_datetime(moment: dt.datetime, tz: ZoneInfo, language: str | None = None) -> str:
    """ "30.11.2026 9.00" (fi/sv) or "30 Nov 2026 9:00" (en), in ``tz``."""
    local = moment.astimezone(tz)
    return f"{format_date(local.date(), language)} {format_time(local, language)}"


def format_percent(share: float, language: str | None) -> str:
    """A share 0–1 as "40 %" (fi/sv, no-break space) or "40%" (en), rounded to whole percents."""
    pattern = "#,##0%" if _lang(language) == "en" else "#,##0\u00a0%"
    return _babel_percent(share, format=pattern, locale=_lang(language))


def weekday(day: dt.date, language: str | None, *, short: bool = False) -> str:
    """ "maanantai" / "måndag" / "Monday", or "ma" / "mån" / "Mon" (stand-alone forms)."""
    return _babel_date(day, "ccc" if short else "cccc", locale=_lang(language))


# --- reading ----------------------------------------------------------------------------

#: Spaces people type inside numbers: space, no-break, narrow no-break, thin.
_SPACES = "\u0020\u00a0\u202f\u2009"
_MINUS_SIGNS = "-\u2212\u2013\u2012"
_PLAIN = re.compile(r"[0-9]+")
_GROUPED_SPACE = re.compile(rf"[0-9]{{1,3}}(?:[{_SPACES}][0-9]{{3}})+")
_GROUPED_COMMA = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_DECIMAL = re.compile(r"[0-9]{1,7}(?:[.,][0-9]+)?")


class InputError(ValueError):
    """Typed input that cannot be used: a translatable message id and its values.

    Numbers among the values are kept as numbers and formatted for the reader's language
    only when shown (`render`), so one exception serves every language.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def render(self, language: str | None) -> str:
        """The explanation in ``language``, numbers written the way that language does."""
        values = {
            key: format_range(value, language)
            if isinstance(value, Range)
            else format_integer(value, language)
            if isinstance(value, int) and not isinstance(value, bool)
            else format_decimal(value, language, places=3)
            if isinstance(value, Decimal | float)
            else value
            for key, value in self.params.items()
        }
        return gettext_for(language)(self.message).format(**values)


def _strip_sign(text: str) -> tuple[int, str]:
    value = text.strip()
    if value[:1] in _MINUS_SIGNS:
        return -1, value[1:].lstrip(_SPACES)
    if value[:1] == "+":
        return 1, value[1:].lstrip(_SPACES)
    return 1, value


def _whole_number(text: str, language: str | None) -> int | None:
    """The digits of "1200", "1 200" (any space), en "1,200"; None if not a whole number."""
    if _PLAIN.fullmatch(text) or _GROUPED_SPACE.fullmatch(text):
        return int(re.sub(rf"[{_SPACES}]", "", text))
    if _lang(language) == "en" and _GROUPED_COMMA.fullmatch(text):
        return int(text.replace(",", ""))
    return None


def read_whole(text: str, language: str | None) -> int | None:
    """A whole number as typed, with its sign, or None if the text is not one.

    "1200", "1 200" (any space between thousands), en also "1,200"; "-3", "−30", "+5".
    Not: "12a", "12,5", "1.200", "²", "١٢" (digits of another script).
    """
    sign, body = _strip_sign(text)
    number = _whole_number(body, language)
    return None if number is None else sign * number


def read_decimal(text: str) -> Decimal | None:
    """A result such as "3,8" or "3.8" (either separator, any language), or None.

    No thousands grouping: results on a scale are small, and "3,800" must not become 3800
    for one reader and 3.8 for another.
    """
    body = text.strip().replace(" ", "")
    if not _DECIMAL.fullmatch(body):
        return None
    try:
        return Decimal(body.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None

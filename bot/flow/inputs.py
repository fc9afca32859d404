"""Reading what people type: counts, scores, decimals and free text.

Each parser returns the clean value or raises `InputError` with a message id (English text,
translated when shown) and its placeholders, so the conversation can say exactly what was
wrong and ask the same question again. Nothing is cut or guessed silently: a too long text is
refused with its length, "12,5" is not rounded to a count.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from i18n import N_

MAX_COUNT = 100_000
MAX_TEXT = 300
MAX_RESPONDENTS = 10_000_000
# Finnish writes thousands with a space; Telegram clients may send a no-break space or a
# narrow no-break space instead.
_GROUP_SPACES = "\u0020\u00a0\u202f\u2009"
_COUNT = re.compile(rf"^(?:[0-9]+|[0-9]{{1,3}}(?:[{_GROUP_SPACES}][0-9]{{3}})+)$")
_SCORE = re.compile(r"^[+-]?[0-9]{1,4}$")
_DECIMAL = re.compile(r"^[0-9]{1,6}(?:[.,][0-9]{1,3})?$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})

MSG_NOT_A_COUNT = N_("Please write the number as a whole number, for example 12 or 1 200.")
MSG_COUNT_RANGE = N_("The number must be between 0 and {maximum}.")
MSG_NOT_A_SCORE = N_("Please write the NPS as a whole number between −100 and 100, e.g. 35 or −12.")
MSG_SCORE_RANGE = N_("NPS is always between −100 and 100; {value} is outside that range.")
MSG_NOT_A_DECIMAL = N_("Please write the result as a number, for example 4,2.")
MSG_DECIMAL_RANGE = N_("The result must be on the scale {low}–{high}.")
MSG_EMPTY = N_("Please write a short text.")
MSG_TOO_LONG = N_(
    "That text is {length} characters long; at most {limit} fit. Please shorten it and send "
    "it again."
)


class InputError(ValueError):
    """What was wrong with the input: a message id and its placeholders."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def text(self, translate: Any) -> str:
        return str(translate(self.message)).format(**self.params)


def format_count(value: int) -> str:
    """1200 → "1 200" (Finnish grouping with a no-break space)."""
    return f"{value:,}".replace(",", "\u00a0")


def parse_count(text: str, *, maximum: int = MAX_COUNT) -> int:
    """A whole number 0…maximum; "1200", "1 200" and "1 200" (no-break space) are accepted."""
    value = text.strip()
    if value[:1] in ("-", "\u2212") and _COUNT.match(value[1:].strip()):
        raise InputError(MSG_COUNT_RANGE, maximum=format_count(maximum))
    if not _COUNT.match(value):
        raise InputError(MSG_NOT_A_COUNT)
    number = int(re.sub(rf"[{_GROUP_SPACES}]", "", value))
    if number > maximum:
        raise InputError(MSG_COUNT_RANGE, maximum=format_count(maximum))
    return number


def parse_score(text: str) -> int:
    """An NPS score: a whole number −100…100 ("−12" with a typographic minus is fine)."""
    value = text.strip().translate(_MINUS_SIGNS).replace(" ", "")
    if not _SCORE.match(value):
        raise InputError(MSG_NOT_A_SCORE)
    number = int(value)
    if not -100 <= number <= 100:
        raise InputError(MSG_SCORE_RANGE, value=number)
    return number


def parse_decimal(text: str, low: float, high: float) -> str:
    """A result on a scale, e.g. "4,2" or "4.2" → "4,2" (Finnish decimal comma kept)."""
    value = text.strip()
    if not _DECIMAL.match(value):
        raise InputError(MSG_NOT_A_DECIMAL)
    number = float(value.replace(",", "."))
    if not low <= number <= high:
        raise InputError(MSG_DECIMAL_RANGE, low=_plain(low), high=_plain(high))
    return value.replace(".", ",")


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number).replace(".", ",")


def clean_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """Trim, turn line breaks and tabs into spaces, drop other control characters.

    Refuses (does not cut) a text longer than ``limit`` characters after cleaning, and an
    empty one.
    """
    chars = []
    for char in text:
        if char in "\n\r\t\v\f":
            chars.append(" ")
        elif unicodedata.category(char) == "Cc":
            continue
        else:
            chars.append(char)
    cleaned = re.sub(r"[ ]{2,}", " ", "".join(chars)).strip()
    if not cleaned:
        raise InputError(MSG_EMPTY)
    if len(cleaned) > limit:
        raise InputError(MSG_TOO_LONG, length=len(cleaned), limit=limit)
    return cleaned

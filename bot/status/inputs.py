"""Reading what a contact types: counts, NPS scores, respondents, free text.

Each parser returns the value or raises `InvalidInput` carrying the English message id of
the explanation, so the handler can translate it and ask the same question again.
"""

from __future__ import annotations

import re
import unicodedata

from data.overview import MAX_RESPONDENTS
from data.reports import MAX_COUNT
from i18n import N_

MAX_TEXT = 300
#: Spaces people type inside numbers: "1 200", "1 200" (no-break), "1 200" (narrow no-break).
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_MINUS_SIGNS = "−–-"


class InvalidInput(ValueError):
    """The text cannot be used; ``message`` is a translatable explanation."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _digits(text: str) -> str:
    return _NUMBER_SPACES.sub("", text.strip())


def parse_count(text: str) -> int:
    """A whole number 0–100 000, Finnish thousands spaces allowed ("1 200")."""
    digits = _digits(text)
    if not digits.isdecimal() or not digits.isascii():
        raise InvalidInput(N_("Type a whole number from 0 to 100 000, for example 12 or 1 200."))
    value = int(digits)
    if value > MAX_COUNT:
        raise InvalidInput(N_("The count can be at most 100 000. Type a smaller number."))
    return value


def parse_respondents(text: str) -> int:
    """A whole number of respondents, 0–10 000 000."""
    digits = _digits(text)
    if not digits.isdecimal() or not digits.isascii():
        raise InvalidInput(N_("Type the number of respondents as a whole number, e.g. 250."))
    value = int(digits)
    if value > MAX_RESPONDENTS:
        raise InvalidInput(N_("The number of respondents can be at most 10 000 000."))
    return value


def parse_nps(text: str) -> int:
    """An NPS score: a whole number −100…100 ("−35", "-35", "+35", "35")."""
    raw = _digits(text)
    sign = 1
    if raw and raw[0] in _MINUS_SIGNS:
        sign, raw = -1, raw[1:]
    elif raw.startswith("+"):
        raw = raw[1:]
    if not raw.isdecimal() or not raw.isascii():
        raise InvalidInput(N_("Type the NPS as a whole number from -100 to 100, e.g. 35 or -10."))
    value = sign * int(raw)
    if not -100 <= value <= 100:
        raise InvalidInput(N_("The NPS must be between -100 and 100."))
    return value


def clean_text(text: str) -> str:
    """Trimmed text without control characters, at most 300 characters, not empty."""
    cleaned = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) != "Cc"
    )
    cleaned = re.sub(r" {2,}", " ", cleaned).strip()
    if not cleaned:
        raise InvalidInput(N_("The text is empty. Type the text, or go back."))
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(
            N_("The text is too long ({length} characters). Shorten it to at most 300."),
            length=len(cleaned),
        )
    return cleaned

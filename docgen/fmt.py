"""Finnish formatting of dates and numbers, and cleaning of user text for every format.

Documents are read in Finnish: dates ``20.11.2026``, decimal comma, a space (no-break) as
the thousands separator and the typographic minus, as Babel's ``fi`` locale writes them.

User text (method names, notes, results) arrives as typed in Telegram. XML-based formats
reject control characters (python-docx raises ValueError, openpyxl IllegalCharacterError)
and a lone surrogate cannot even be encoded, so :func:`clean` removes them once here,
whatever the target format.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import unicodedata

from babel import Locale
from babel.numbers import format_decimal, format_percent

LOCALE = Locale.parse("fi_FI")

# C0 controls except tab/newline/CR, DEL and C1 controls, surrogates, non-characters.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Excel's hard limit for one cell is 32 767 characters.
EXCEL_CELL_LIMIT = 32_767


def clean(value: object) -> str:
    """Text safe for docx, xlsx and pptx: control characters removed, newlines unified."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _UNSAFE.search(text):
        text = _UNSAFE.sub("", text)
    return text


def fi_date(day: dt.date) -> str:
    """``20.11.2026`` — day and month without leading zeros, as the city writes them."""
    return f"{day.day}.{day.month}.{day.year}"


def fi_int(value: int) -> str:
    return format_decimal(value, locale=LOCALE)


def fi_decimal(value: float, digits: int = 1) -> str:
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=LOCALE)


def fi_percent(part: int, whole: int) -> str:
    """``83 %``; an empty whole gives the dash instead of a division by zero."""
    if not whole:
        return "–"
    return format_percent(part / whole, locale=LOCALE)


def fi_signed(value: int | float | None, digits: int = 0) -> str:
    """``+12`` / ``−3`` / ``0``: NPS and changes read better with an explicit sign."""
    if value is None:
        return "–"
    text = fi_decimal(abs(value), digits)
    if value > 0:
        return "+" + text
    if value < 0:
        return "−" + text
    return text


def fi_median(values: list[int]) -> str:
    if not values:
        return "–"
    median = statistics.median(values)
    return fi_signed(median, 0 if float(median).is_integer() else 1)


def fi_list(items: list[str], conjunction: str = "ja") -> str:
    """``a, b ja c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


_SLUG_DROP = re.compile(r"[^A-Za-z0-9_-]+")


def slug(text: str) -> str:
    """A file-name part: ``Asiakaskokemus / palvelutyytyväisyys`` →
    ``Asiakaskokemus_palvelutyytyvaisyys``.

    Umlauts are transliterated because attachment files travel through e-mail, SharePoint
    and the case-management system, not all of which keep non-ASCII names intact.
    """
    decomposed = unicodedata.normalize("NFKD", clean(text))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [w for w in _SLUG_DROP.sub(" ", ascii_text.replace("_", " ")).split() if w]
    return "_".join(words) or "dokumentti"


def elative_digits(value: int) -> str:
    """``18:sta``, ``20:stä``: a number in digits in the elative case ("17 … 18:sta").

    The ending follows the last word of the spoken number (kahdeksastatoista,
    kahdestakymmenestä, sadasta), with vowel harmony.
    """
    n = abs(value)
    if 11 <= n % 100 <= 19:
        back = True  # …toista
    elif n % 10:
        back = n % 10 in (2, 3, 6, 8)  # kahdesta, kolmesta, kuudesta, kahdeksasta
    elif n % 100:
        back = False  # …kymmenestä
    else:
        back = True  # sadasta, tuhannesta
    return f"{fi_int(value)}:{'sta' if back else 'stä'}"


def prose_number(value: int, words: list[str]) -> str:
    """Numbers under ten as words in running text (``words[n]``), larger ones in digits."""
    if 0 <= value < min(10, len(words)):
        return words[value]
    return fi_int(value)


def lower_first(text: str) -> str:
    """``Kyselyt`` → ``kyselyt`` mid-sentence; names like ``OmaStadi`` or ``NPS`` stay.

    Each part of ``Työpajat / Hackaton`` is treated on its own.
    """
    if " / " in text:
        return " / ".join(lower_first(part) for part in text.split(" / "))
    if not text or not text[0].isupper() or any(c.isupper() for c in text[1:]):
        return text
    return text[0].lower() + text[1:]

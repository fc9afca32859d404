"""Reading free text people type; numbers and dates are read by ``i18n.formats``.

Nothing is cut or guessed silently: a too long text is refused with its length, an empty
one is refused; line breaks and tabs become spaces and other control characters go.
"""

from __future__ import annotations

import re
import unicodedata

from data.limits import MAX_TEXT
from i18n import N_
from i18n.formats import InputError

MSG_EMPTY = N_("Please write a short text.")
MSG_TOO_LONG = N_(
    "That text is {length} characters long; at most {limit} fit. Please shorten it and send "
    "it again."
)


def clean_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """Trim, turn line breaks and tabs into spaces, drop other control characters."""
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

"""Free text in the chat: cleaned by the one rule the chat and the Excel import share.

Numbers and dates are read by ``i18n.formats``; a text is cleaned and limited by
``data.answers.clean_text``. This only words its problems for a person in the chat.
"""

from __future__ import annotations

from data import answers
from data.limits import MAX_TEXT
from i18n import N_
from i18n.formats import InputError

MSG_EMPTY = N_("Please write a short text.")
MSG_TOO_LONG = N_(
    "That text is {length} characters long; at most {limit} fit. Please shorten it and send "
    "it again."
)


def clean_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """The cleaned text, or an `InputError` saying why it cannot be used."""
    try:
        return answers.clean_text(text, limit=limit)
    except answers.AnswerProblem as problem:
        if problem.code == answers.TOO_LONG:
            raise InputError(MSG_TOO_LONG, **problem.params) from None
        raise InputError(MSG_EMPTY) from None

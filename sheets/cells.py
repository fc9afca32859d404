"""Cell values read by the chat's own rules.

Text in a cell is read exactly as the chat reads typed text (``i18n.formats`` for counts,
NPS and results on a scale, in the workbook's language; ``data.answers.clean_text`` for
free text). A number cell is checked against the same limits (``data.limits``) without
going through text: ``12`` and ``12.0`` are counts, ``12.5`` is not; a ``bool`` or a date is
never a number. Problems come back as ``data.answers.AnswerProblem`` codes, so the sheet can
word them by cell.
"""

from __future__ import annotations

from decimal import Decimal

from data import answers
from data.limits import MAX_COUNT, NPS_MAX, NPS_MIN
from i18n import formats

_COUNT_RANGE = {formats.MSG_COUNT_NEGATIVE, formats.MSG_COUNT_TOO_LARGE}


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def count(value: object, language: str) -> int:
    """A count 0…MAX_COUNT (Lkm, the NPS counts, respondents — as in the chat)."""
    number = _number(value)
    if number is not None:
        if not number.is_integer():
            raise answers.AnswerProblem(answers.NOT_WHOLE)
        if not 0 <= number <= MAX_COUNT:
            raise answers.AnswerProblem(answers.COUNT_RANGE, maximum=MAX_COUNT)
        return int(number)
    if not isinstance(value, str):
        raise answers.AnswerProblem(answers.NOT_WHOLE)
    try:
        return formats.parse_count(value, language)
    except formats.InputError as error:
        if error.message in _COUNT_RANGE:
            raise answers.AnswerProblem(answers.COUNT_RANGE, maximum=MAX_COUNT) from None
        raise answers.AnswerProblem(answers.NOT_WHOLE) from None


def nps(value: object, language: str) -> int:
    """An NPS score −100…100."""
    number = _number(value)
    if number is not None:
        if not number.is_integer():
            raise answers.AnswerProblem(answers.NOT_SCORE)
        if not NPS_MIN <= number <= NPS_MAX:
            raise answers.AnswerProblem(answers.SCORE_RANGE, value=int(number))
        return int(number)
    if not isinstance(value, str):
        raise answers.AnswerProblem(answers.NOT_SCORE)
    try:
        return formats.parse_nps(value, language)
    except formats.InputError as error:
        if error.message == formats.MSG_NPS_RANGE:
            raise answers.AnswerProblem(answers.SCORE_RANGE, value=error.params["value"]) from None
        raise answers.AnswerProblem(answers.NOT_SCORE) from None


def decimal(value: object, language: str, low: float, high: float) -> str:
    """A result on a scale, stored as the chat stores it: ``4.2`` / ``"4,2"`` → ``"4,2"``."""
    number = _number(value)
    if number is not None:
        text = str(int(number)) if number.is_integer() else repr(number)
    elif isinstance(value, str):
        text = value
    else:
        raise answers.AnswerProblem(answers.NOT_DECIMAL)
    try:
        result = formats.parse_decimal(
            text, language, low=Decimal(str(low)), high=Decimal(str(high))
        )
    except formats.InputError as error:
        if error.message == formats.MSG_DECIMAL_RANGE:
            raise answers.AnswerProblem(
                answers.DECIMAL_RANGE, low=_plain(low), high=_plain(high)
            ) from None
        raise answers.AnswerProblem(answers.NOT_DECIMAL) from None
    return str(result).replace(".", ",")


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number).replace(".", ",")

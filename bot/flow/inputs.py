"""Typed answers in the chat, read by the rule book and worded for a person.

Every value is read and checked by ``data.answers`` (the rules the Excel import, /muokkaa
and the Mini App share); this module only turns a refusal (an ``AnswerProblem`` code) into
the chat's sentence. Each sentence that states a range takes it from the rule (the
``range`` placeholder, written by ``i18n.formats.format_range``: "1–100 000"), so a message
can never promise what the rule refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from data import answers
from data.limits import MAX_TEXT
from i18n import N_
from i18n.formats import InputError

T = TypeVar("T")

MSG_EMPTY = N_("Please write a short text.")
MSG_TOO_LONG = N_(
    "That text is {length} characters long; at most {limit} fit. Please shorten it and send "
    "it again."
)
MSG_NOT_A_COUNT = N_("Type the count as a whole number {range}, for example 12 or {example}.")
MSG_COUNT_RANGE = N_("The count must be a whole number {range}.")
MSG_ZERO_COUNT = N_(
    "A method used 0 times is left out: the count is a whole number {range}. Go back, or "
    "answer “No methods at this level” if no method was used."
)
MSG_NOT_RESPONDENTS = N_("Type the number of respondents as a whole number {range}.")
MSG_RESPONDENTS_RANGE = N_("The number of respondents must be {range}.")
MSG_NOT_AN_NPS_COUNT = N_(
    "Type the numbers of promoters, passives and detractors as whole numbers {range}."
)
MSG_NPS_COUNT_RANGE = N_("Each of the three counts must be {range}.")
MSG_NOT_AN_NPS = N_("Type the NPS as a whole number {range}, for example 35 or {negative}.")
MSG_NPS_RANGE = N_("The NPS is always {range}; {value} is outside that range.")
MSG_NOT_A_DECIMAL = N_("Type the result as a number on the scale {low}–{high}, for example 4,2.")
MSG_DECIMAL_RANGE = N_("The result must be on the scale {low}–{high}.")
MSG_NO_LETTER = N_("A name needs at least one letter; “{value}” has none. Write the name.")
MSG_RESULT_FOR_NPS = N_("An NPS measurement takes a score or the counts, not a text result.")
MSG_ONLY_FOR_NPS = N_("A score and promoter counts are given only for an NPS measurement.")
MSG_NO_RESPONDENTS = N_("The three counts add up to 0: at least one answer is needed for an NPS.")
MSG_COUNTS_DISAGREE = N_(
    "Promoters + passives + detractors = {total}, so the respondents are {total}, not "
    "{value}. Change the three counts instead."
)
MSG_NPS_DISAGREES = N_(
    "The saved counts give NPS {nps}, not {value}. Change the three counts instead."
)
MSG_COUNTS_INCOMPLETE = N_("Give all three counts: promoters, passives and detractors.")
MSG_DUPLICATE_METHOD = N_("The same method is given twice; give each method once with its count.")
MSG_OTHER_NAME_MISSING = N_("Write the name of the other way of measuring.")
MSG_INVALID = N_("This answer cannot be saved.")

#: The chat's sentence for each refusal of the rule book.
PROBLEM_MESSAGES: dict[str, str] = {
    answers.EMPTY: MSG_EMPTY,
    answers.TOO_LONG: MSG_TOO_LONG,
    answers.NOT_WHOLE: MSG_NOT_A_COUNT,
    answers.COUNT_RANGE_CODE: MSG_COUNT_RANGE,
    answers.ZERO_COUNT: MSG_ZERO_COUNT,
    answers.RESPONDENTS_RANGE_CODE: MSG_RESPONDENTS_RANGE,
    answers.NPS_COUNT_RANGE_CODE: MSG_NPS_COUNT_RANGE,
    answers.NOT_SCORE: MSG_NOT_AN_NPS,
    answers.SCORE_RANGE: MSG_NPS_RANGE,
    answers.NOT_DECIMAL: MSG_NOT_A_DECIMAL,
    answers.DECIMAL_RANGE: MSG_DECIMAL_RANGE,
    answers.NO_LETTER: MSG_NO_LETTER,
    answers.RESULT_FOR_NPS: MSG_RESULT_FOR_NPS,
    answers.ONLY_FOR_NPS: MSG_ONLY_FOR_NPS,
    answers.NO_RESPONDENTS: MSG_NO_RESPONDENTS,
    answers.COUNTS_DISAGREE: MSG_COUNTS_DISAGREE,
    answers.NPS_DISAGREES: MSG_NPS_DISAGREES,
    answers.COUNTS_INCOMPLETE: MSG_COUNTS_INCOMPLETE,
    answers.DUPLICATE_METHOD: MSG_DUPLICATE_METHOD,
    answers.OTHER_NAME_MISSING: MSG_OTHER_NAME_MISSING,
}
#: "Not a whole number", worded for the value that was asked.
_NOT_WHOLE_FOR = {
    answers.RESPONDENTS_RANGE: MSG_NOT_RESPONDENTS,
    answers.NPS_COUNT_RANGE: MSG_NOT_AN_NPS_COUNT,
}


def problem_error(problem: answers.AnswerProblem) -> InputError:
    """The chat's explanation of a refusal (rendered in the reader's language when shown)."""
    message = PROBLEM_MESSAGES.get(problem.code, MSG_INVALID)
    params = dict(problem.params)
    if problem.code == answers.NOT_WHOLE:
        message = _NOT_WHOLE_FOR.get(params.get("range"), MSG_NOT_A_COUNT)  # type: ignore[arg-type]
        params.setdefault("example", 1200)
    if problem.code == answers.NOT_SCORE:
        params.setdefault("negative", -12)
    return InputError(message, **params)


def read(reader: Callable[..., T], *args: object) -> T:
    """``reader(*args)`` of ``data.answers``; a refusal becomes the chat's `InputError`."""
    try:
        return reader(*args)
    except answers.AnswerProblem as problem:
        raise problem_error(problem) from None


def clean_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """The cleaned text, or an `InputError` saying why it cannot be used."""
    return read(lambda: answers.clean_text(text, limit=limit))


def read_count(text: str, language: str | None) -> int:
    """A method's count (``data.answers.read_count``: 1–100 000, "12 kpl" too)."""
    return read(answers.read_count, text, language)


def read_respondents(text: str, language: str | None) -> int:
    """Respondents of a result (``data.answers.read_respondents``)."""
    return read(answers.read_respondents, text, language)


def read_nps(text: str, language: str | None) -> int:
    """An NPS score (``data.answers.read_nps``)."""
    return read(answers.read_nps, text, language)


def method_name(text: str) -> str:
    """A method's own name: a text with at least one letter (``data.answers.method_name``)."""
    return read(answers.method_name, text)

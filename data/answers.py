"""The rules an answer must meet, whichever way it arrives (typed in the chat, or an Excel cell).

One place decides what a count, an NPS score, a scale result or a free text may be, and
which combinations of answers of one service entity are consistent; the chat and the Excel
import both call these functions and store through ``data.reports``, so the same answer
ends up as the same row. Each rule raises `AnswerProblem` with a short code and its
placeholders; the caller turns the code into its own wording (a chat reply, or an error
listed by cell) and shows the original input.

Values may be what a person typed (``str``) or what a spreadsheet cell holds (``int``,
``float``, ``bool``, ``datetime``): a whole-valued float such as ``12.0`` is a whole number,
``12.5`` is not, and a ``bool`` or a date is never a number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_COUNT = 100_000
MAX_TEXT = 300
MAX_SCALE = 100
MAX_PERIOD = 100
NPS_MIN, NPS_MAX = -100, 100

# Finnish writes thousands with a space; Telegram clients and Excel may use a no-break space
# or a narrow no-break space instead.
_GROUP_SPACES = "\u0020\u00a0\u202f\u2009"
_COUNT = re.compile(rf"^(?:[0-9]+|[0-9]{{1,3}}(?:[{_GROUP_SPACES}][0-9]{{3}})+)$")
_SCORE = re.compile(r"^[+-]?[0-9]{1,4}$")
_DECIMAL = re.compile(r"^[0-9]{1,6}(?:[.,][0-9]{1,3})?$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})

# Problem codes (the callers word them).
NOT_WHOLE = "not_whole"  # not a whole number
COUNT_RANGE = "count_range"  # {maximum}
NOT_SCORE = "not_score"  # NPS not a whole number
SCORE_RANGE = "score_range"  # {value}
NOT_DECIMAL = "not_decimal"
DECIMAL_RANGE = "decimal_range"  # {low} {high}
EMPTY = "empty"
TOO_LONG = "too_long"  # {length} {limit}


class AnswerProblem(ValueError):
    """What was wrong with one value: a code from this module and its placeholders."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def whole_number(value: object, *, maximum: int = MAX_COUNT) -> int:
    """A count 0…maximum: ``12``, ``12.0``, ``"1200"``, ``"1 200"`` (grouping spaces)."""
    if _is_number(value):
        number = float(value)  # type: ignore[arg-type]
        if not number.is_integer():
            raise AnswerProblem(NOT_WHOLE)
        if not 0 <= number <= maximum:
            raise AnswerProblem(COUNT_RANGE, maximum=maximum)
        return int(number)
    if not isinstance(value, str):
        raise AnswerProblem(NOT_WHOLE)
    text = value.strip()
    if text[:1] in ("-", "\u2212") and _COUNT.match(text[1:].strip()):
        raise AnswerProblem(COUNT_RANGE, maximum=maximum)
    if not _COUNT.match(text):
        raise AnswerProblem(NOT_WHOLE)
    number_int = int(re.sub(rf"[{_GROUP_SPACES}]", "", text))
    if number_int > maximum:
        raise AnswerProblem(COUNT_RANGE, maximum=maximum)
    return number_int


def nps_score(value: object) -> int:
    """An NPS score, a whole number −100…100 (a typographic minus is fine)."""
    if _is_number(value):
        number = float(value)  # type: ignore[arg-type]
        if not number.is_integer():
            raise AnswerProblem(NOT_SCORE)
        score = int(number)
    elif isinstance(value, str):
        text = value.strip().translate(_MINUS_SIGNS).replace(" ", "")
        if not _SCORE.match(text):
            raise AnswerProblem(NOT_SCORE)
        score = int(text)
    else:
        raise AnswerProblem(NOT_SCORE)
    if not NPS_MIN <= score <= NPS_MAX:
        raise AnswerProblem(SCORE_RANGE, value=score)
    return score


def scale_result(value: object, low: float, high: float) -> str:
    """A result on a scale, kept as the Finnish decimal text: ``4.2`` / ``"4,2"`` → ``"4,2"``."""
    if _is_number(value):
        number = round(float(value), 3)  # type: ignore[arg-type]
        text = (str(int(number)) if number.is_integer() else repr(number)).replace(".", ",")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise AnswerProblem(NOT_DECIMAL)
    if not _DECIMAL.match(text):
        raise AnswerProblem(NOT_DECIMAL)
    number = float(text.replace(",", "."))
    if not low <= number <= high:
        raise AnswerProblem(DECIMAL_RANGE, low=_plain(low), high=_plain(high))
    return text.replace(".", ",")


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number).replace(".", ",")


def clean_text(value: object, *, limit: int = MAX_TEXT) -> str:
    """Trim, turn line breaks and tabs into spaces, drop other control characters.

    Refuses (does not cut) a text longer than ``limit`` characters after cleaning, and an
    empty one. A number from a spreadsheet cell becomes its text (``12`` → ``"12"``).
    """
    if _is_number(value):
        number = float(value)  # type: ignore[arg-type]
        value = str(int(number)) if number.is_integer() else str(value).replace(".", ",")
    text = str(value)
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
        raise AnswerProblem(EMPTY)
    if len(cleaned) > limit:
        raise AnswerProblem(TOO_LONG, length=len(cleaned), limit=limit)
    return cleaned


def scale_range(
    scale: str | None, catalog_scale: str, scale_min: int | None, scale_max: int | None
) -> tuple[float, float]:
    """The numbers a scale result may take: the catalog's range, or the one the person wrote."""
    if (not scale or scale == catalog_scale) and scale_min is not None:
        return float(scale_min), float(scale_max if scale_max is not None else scale_min)
    parts = [p for p in (scale or "").replace("–", "-").replace("—", "-").split("-") if p.strip()]
    try:
        low, high = (float(p.strip().replace(",", ".")) for p in parts)
    except ValueError:
        return 0.0, 999_999.0
    return min(low, high), max(low, high)


# --- combinations within one service entity --------------------------------------------------


@dataclass
class EntityProblems:
    """Problems of a whole entity's answers, each with the index of the answer it concerns."""

    items: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, index: int, code: str, **params: Any) -> None:
        self.items.append((index, code, params))


DUPLICATE_METHOD = "duplicate_method"  # the same method twice at one level
NONE_WITH_METHODS = "none_with_methods"  # "no methods" and methods at one level
DUPLICATE_TYPE = "duplicate_type"  # one measurement type twice
NOT_MEASURED_WITH_OTHERS = "not_measured_with_others"
COUNTS_DISAGREE = "counts_disagree"  # P+N+D ≠ respondents: {total} {value}
NO_RESPONDENTS = "no_respondents"  # P+N+D = 0
COUNTS_INCOMPLETE = "counts_incomplete"  # some of P, N, D missing
NPS_DISAGREES = "nps_disagrees"  # a score and counts that give another score: {nps}


def method_key(method_id: int | None, method_text: str | None) -> tuple[int | None, str]:
    """What makes two answers at a level the same method (typed names compare casefolded)."""
    return (method_id, "" if method_id is not None else (method_text or "").casefold())


def participation_conflicts(answers: list[dict[str, Any]]) -> EntityProblems:
    """Duplicate methods at a level, and "no methods" given together with methods.

    ``answers`` are `ParticipationAnswer` dicts in order; the chat cannot produce these (it
    edits the existing answer instead), a spreadsheet can.
    """
    problems = EntityProblems()
    seen: set[tuple[int, tuple[int | None, str]]] = set()
    with_methods = {a["level_id"] for a in answers if not a.get("none")}
    for index, answer in enumerate(answers):
        if answer.get("none"):
            if answer["level_id"] in with_methods:
                problems.add(index, NONE_WITH_METHODS)
            continue
        key = (answer["level_id"], method_key(answer.get("method_id"), answer.get("method_text")))
        if key in seen:
            problems.add(index, DUPLICATE_METHOD)
        seen.add(key)
    return problems


def nps_from_counts(promoters: int, passives: int, detractors: int) -> int:
    """NPS = 100 × (P − D) / (P + N + D), rounded half away from zero to an integer."""
    total = promoters + passives + detractors
    if total <= 0:
        raise ValueError("no respondents")
    value = 100 * (promoters - detractors) / total
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def nps_counts(
    nps: int | None,
    promoters: int | None,
    passives: int | None,
    detractors: int | None,
    respondents: int | None,
) -> tuple[int | None, int | None]:
    """Check promoter/passive/detractor counts against the score and respondents.

    Returns the (nps, respondents) to store: computed from the counts when they are given.
    Raises `AnswerProblem` when counts are partial, add up to 0, disagree with the
    respondents or with a score given as well.
    """
    counts = (promoters, passives, detractors)
    if all(c is None for c in counts):
        return nps, respondents
    if any(c is None for c in counts):
        raise AnswerProblem(COUNTS_INCOMPLETE)
    total = sum(c for c in counts if c is not None)
    if total == 0:
        raise AnswerProblem(NO_RESPONDENTS)
    if respondents is not None and respondents != total:
        raise AnswerProblem(COUNTS_DISAGREE, total=total, value=respondents)
    computed = nps_from_counts(*counts)  # type: ignore[arg-type]
    if nps is not None and nps != computed:
        raise AnswerProblem(NPS_DISAGREES, nps=computed, value=nps)
    return computed, total


def satisfaction_conflicts(type_ids: list[int], not_measured_id: int | None) -> EntityProblems:
    """A measurement type given twice, or "not measured" together with measurements."""
    problems = EntityProblems()
    seen: set[int] = set()
    for index, type_id in enumerate(type_ids):
        if type_id in seen:
            problems.add(index, DUPLICATE_TYPE)
        seen.add(type_id)
    if not_measured_id is not None and not_measured_id in seen and len(seen) > 1:
        for index, type_id in enumerate(type_ids):
            if type_id == not_measured_id:
                problems.add(index, NOT_MEASURED_WITH_OTHERS)
    return problems

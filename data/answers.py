"""The rules an answer must meet, whichever way it arrives (typed in the chat, or an Excel cell).

Numbers as typed are read by ``i18n.formats`` and limited by ``data.limits``; this module
holds the rest that the chat and the Excel import must agree on: how a free text is cleaned
and limited, the range a scale result may take, and which combinations of one service
entity's answers are consistent (a method given twice at a level, "no methods" beside
methods, NPS counts against the respondents and the score, "not measured" beside
measurements). Both store through ``data.reports``, so the same answer ends up as the same
row. Each rule raises `AnswerProblem` with a short code and its placeholders; the caller
turns the code into its own wording (a chat reply, or an error listed by cell).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from data.limits import MAX_TEXT
from data.reports import nps_from_counts

# The limits of a scale's and a period's text, in the chat and in Excel alike.
MAX_SCALE = 100
MAX_PERIOD = 100


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

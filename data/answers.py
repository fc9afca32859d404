"""The rule book: every rule an answer meets, whichever way it arrives.

The chat (/raportoi, /tyytyvaisyys, /muokkaa), the Excel import and export, the Mini App,
/tila and the documents' snapshot all read and check answers here, so the same input is
accepted or refused everywhere, for the same reason, and every message that states a rule
takes its numbers from the rule (``data.limits``, written by ``i18n.formats.format_range``).

Public API (everything else is private)
---------------------------------------
Limits (``data.limits``, re-exported): ``COUNT_RANGE`` 1–100 000 (a method used 0 times is
left out), ``RESPONDENTS_RANGE`` 1–10 000 000, ``NPS_COUNT_RANGE`` 0–10 000 000 (each of
promoters, passives, detractors), ``NPS_RANGE`` −100–100, ``MAX_TEXT``, ``MAX_SCALE``,
``MAX_PERIOD``.

Models (frozen dataclasses): `ParticipationAnswer` (a method with its count and note, or
``none`` = "no methods at this level"), `SatisfactionAnswer` (one measurement type).

Reading one value, typed text or a spreadsheet cell (str, int or float), in a language;
each returns the value to store or raises `AnswerProblem` (a code below + placeholders):
  `read_count`, `read_respondents`, `read_nps`, `read_nps_count`, `read_result`,
  `method_name`, `read_scale`, `clean_text`; `is_none_word` tells "ei", "ei tapoja", "-"
  (and the Swedish and English words) meaning "no methods at this level".

Reading one form row (the Mini App's posted fields, a workbook's cells): the surface hands
a `RowFields` accessor (fields by `SatisfactionAnswer`'s names; it reads in its own language
and words and places each problem) to `read_satisfaction_row`, which reads every field and
reports every problem at its field, then returns the answer or None.

Checking a whole answer (the last word before the database, in ``data.reports``):
  `check_participation`, `check_satisfaction` (computes the NPS from the counts),
  `with_respondents` / `with_nps` (a change of one figure that keeps the others consistent),
  `nps_from_counts` (the one formula), `result_kind`, `scale_range`, `measurement_name`,
  `participation_conflicts`, `satisfaction_conflicts`, `nps_counts`.

Wording: the chat words a code with ``bot.flow.inputs.PROBLEM_MESSAGES``, a workbook with
``sheets.messages.PROBLEM_CELL_MESSAGES``; both pass the rule's `Range` in ``range`` and
``i18n.formats`` writes it ("1–100 000", en "1–100,000").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, TypeGuard

from data.catalog import OTHER_FREQUENCY, frequencies, frequency_code
from data.limits import (
    COUNT_RANGE,
    MAX_PERIOD,
    MAX_SCALE,
    MAX_TEXT,
    NPS_COUNT_RANGE,
    NPS_RANGE,
    RESPONDENTS_RANGE,
)
from i18n import formats

__all__ = [
    "COUNT_RANGE",
    "MAX_PERIOD",
    "MAX_SCALE",
    "MAX_TEXT",
    "NPS_COUNT_RANGE",
    "NPS_RANGE",
    "RESPONDENTS_RANGE",
    "AnswerProblem",
    "ParticipationAnswer",
    "RowFields",
    "SatisfactionAnswer",
    "check_participation",
    "check_satisfaction",
    "clean_text",
    "is_none_word",
    "measurement_name",
    "method_name",
    "nps_counts",
    "nps_from_counts",
    "participation_conflicts",
    "read_count",
    "read_nps",
    "read_nps_count",
    "read_respondents",
    "read_result",
    "read_satisfaction_row",
    "read_scale",
    "result_kind",
    "satisfaction_conflicts",
    "scale_range",
    "with_nps",
    "with_respondents",
]

# --- problem codes (the callers word them) ---------------------------------------------------

NOT_WHOLE = "not_whole"  # a count or respondents not a whole number: {range}
COUNT_RANGE_CODE = "count_range"  # a count outside its range: {range}
ZERO_COUNT = "zero_count"  # a count of 0: the method was not used, leave it out
RESPONDENTS_RANGE_CODE = "respondents_range"  # {range}
NPS_COUNT_RANGE_CODE = "nps_count_range"  # one of P/N/D outside its range: {range}
NOT_SCORE = "not_score"  # NPS not a whole number: {range}
SCORE_RANGE = "score_range"  # NPS outside −100–100: {value} {range}
NOT_DECIMAL = "not_decimal"  # a result on a scale that is not a number: {low} {high}
DECIMAL_RANGE = "decimal_range"  # a result outside the scale: {low} {high}
EMPTY = "empty"
TOO_LONG = "too_long"  # {length} {limit}
NO_LETTER = "no_letter"  # a name without a single letter ("😀", ".", "??")
RESULT_FOR_NPS = "result_for_nps"  # an NPS measurement takes a score or counts, not a text
ONLY_FOR_NPS = "only_for_nps"  # a score or counts given for a measurement that is not NPS
NOT_MEASURED_ALONE = "not_measured_alone"  # "not measured" with details
OTHER_NAME_MISSING = "other_name_missing"
OTHER_NAME_ONLY = "other_name_only"
UNKNOWN_FREQUENCY = "unknown_frequency"


class AnswerProblem(ValueError):
    """What was wrong with one value: a code from this module and its placeholders."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# --- the models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipationAnswer:
    """One answer at a level: a method with its count, or ``none`` = no methods here."""

    level_id: int
    method_id: int | None = None
    method_text: str | None = None
    count: int = 0
    note: str | None = None
    none: bool = False

    def to_dict(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies recursively, ten times slower,
        # and a 20 000-answer workbook calls this 40 000 times.
        return {name: getattr(self, name) for name in _PARTICIPATION_FIELDS}


@dataclass(frozen=True)
class SatisfactionAnswer:
    """How one measurement type is used in a service entity, with its latest result."""

    measurement_type_id: int
    scale: str | None = None
    frequency: str | None = None
    frequency_text: str | None = None
    other_name: str | None = None
    latest_result: str | None = None
    nps: int | None = None
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None
    respondents: int | None = None
    period: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SATISFACTION_FIELDS}

    @property
    def counts(self) -> tuple[int, int, int] | None:
        """Promoters, passives and detractors, when all three are given."""
        if self.promoters is None or self.passives is None or self.detractors is None:
            return None
        return self.promoters, self.passives, self.detractors


_PARTICIPATION_FIELDS = tuple(ParticipationAnswer.__dataclass_fields__)
_SATISFACTION_FIELDS = tuple(SatisfactionAnswer.__dataclass_fields__)

#: The answer fields of a SatisfactionAnswer besides its measurement type.
SATISFACTION_FIELDS = frozenset(
    name for name in SatisfactionAnswer.__dataclass_fields__ if name != "measurement_type_id"
)


class MeasurementRule(Protocol):
    """What the rules need of a measurement type (``data.models.MeasurementType``)."""

    code: str
    kind: str  # nps | scale | free | none
    scale: str
    scale_min: int | None
    scale_max: int | None


#: The catalog code of "Muu tapa" (the person names the way of measuring).
OTHER_TYPE = "OTHER"

# --- text ------------------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def clean_text(value: object, *, limit: int = MAX_TEXT) -> str:
    """Trim, turn line breaks and tabs into spaces, drop other control characters.

    Refuses (does not cut) a text longer than ``limit`` characters after cleaning, and an
    empty one. A number from a spreadsheet cell becomes its text (``12`` → ``"12"``).
    """
    if _is_number(value):
        number = float(value)
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


def method_name(value: object) -> str:
    """A method's (or another way of measuring's) own name: a cleaned text with a letter.

    "😀", "." and "??" name nothing and are refused (`NO_LETTER`); "Asukasraati 2" is fine.
    """
    name = clean_text(value)
    if not any(unicodedata.category(char).startswith("L") for char in name):
        raise AnswerProblem(NO_LETTER, value=name)
    return name


#: Typed on a level (or as a method's name), these mean "no methods at this level".
NONE_WORDS = frozenset(
    {
        "-",
        "–",
        "—",
        # fi
        "ei",
        "ei tapoja",
        "ei mitään",
        "ei menetelmiä",
        "ei tapoja tällä tasolla",
        # sv
        "nej",
        "inga",
        "inga metoder",
        "inga sätt",
        "inga metoder på den här nivån",
        # en
        "no",
        "none",
        "no methods",
        "no methods at this level",
    }
)


def is_none_word(value: object) -> bool:
    """True for "ei", "ei tapoja", "-" (and "nej", "inga", "none", "no methods" …)."""
    if not isinstance(value, str):
        return False
    return " ".join(value.split()).rstrip(".!").casefold() in NONE_WORDS


_HYPHEN_RANGE = re.compile(r"(?<=\d)\s*[-‐‑‒—−]\s*(?=\d)")
_DASHED_RANGE = re.compile(r"(?<=\d)\s*–\s*(?=\d)")


def read_scale(value: object) -> str:
    """A scale as the person writes it, its range written with the en dash: "1-7" → "1–7"."""
    text = clean_text(value, limit=MAX_SCALE)
    return _DASHED_RANGE.sub("–", _HYPHEN_RANGE.sub("–", text))


# --- numbers ---------------------------------------------------------------------------------


_UNIT_WORDS = re.compile(
    r"\s*(kpl|kappaletta|krt|kertaa|kerta|st|stycken|ggr|gånger|pcs|times|x)\.?\s*$",
    re.IGNORECASE,
)


def _whole(value: object, language: str | None, *, units: bool = False) -> int | None:
    """A whole number from a cell (12, 12.0) or a text ("1 200", en "1,200"), else None."""
    if _is_number(value):
        number = float(value)
        return int(number) if number.is_integer() else None
    if not isinstance(value, str):
        return None
    text = _UNIT_WORDS.sub("", value) if units else value
    if not text.strip():
        return None
    return formats.read_whole(text, language)


def read_count(value: object, language: str | None) -> int:
    """A method's count, 1–100 000 ("12", "1 200", "12 kpl", a cell's 12).

    0 is refused with its own reason (`ZERO_COUNT`): a method used 0 times is left out.
    """
    number = _whole(value, language, units=True)
    if number is None:
        raise AnswerProblem(NOT_WHOLE, range=COUNT_RANGE)
    if number == 0:
        raise AnswerProblem(ZERO_COUNT, range=COUNT_RANGE)
    if number not in COUNT_RANGE:
        raise AnswerProblem(COUNT_RANGE_CODE, value=number, range=COUNT_RANGE)
    return number


def read_respondents(value: object, language: str | None) -> int:
    """The respondents of a result, 1–10 000 000."""
    number = _whole(value, language)
    if number is None:
        raise AnswerProblem(NOT_WHOLE, range=RESPONDENTS_RANGE)
    if number not in RESPONDENTS_RANGE:
        raise AnswerProblem(RESPONDENTS_RANGE_CODE, value=number, range=RESPONDENTS_RANGE)
    return number


def read_nps_count(value: object, language: str | None) -> int:
    """One of the promoter, passive and detractor counts, 0–10 000 000."""
    number = _whole(value, language)
    if number is None:
        raise AnswerProblem(NOT_WHOLE, range=NPS_COUNT_RANGE)
    if number not in NPS_COUNT_RANGE:
        raise AnswerProblem(NPS_COUNT_RANGE_CODE, value=number, range=NPS_COUNT_RANGE)
    return number


_PLAIN_SCORE = re.compile(r"[+\-\u2212\u2013\u2012]?\s*[0-9]{1,6}")


def read_nps(value: object, language: str | None) -> int:
    """An NPS score, −100–100: "35", "+35", "-30", "−30" (U+2212), "– 30", a cell's −30."""
    if _is_number(value):
        number = float(value)
        if not number.is_integer():
            raise AnswerProblem(NOT_SCORE, range=NPS_RANGE)
        score = int(number)
    elif isinstance(value, str) and _PLAIN_SCORE.fullmatch(value.strip()):
        read = formats.read_whole(value, language)
        if read is None:
            raise AnswerProblem(NOT_SCORE, range=NPS_RANGE)
        score = read
    else:
        raise AnswerProblem(NOT_SCORE, range=NPS_RANGE)
    if score not in NPS_RANGE:
        raise AnswerProblem(SCORE_RANGE, value=score, range=NPS_RANGE)
    return score


def nps_from_counts(promoters: int, passives: int, detractors: int) -> int:
    """NPS = 100 × (P − D) / (P + N + D), rounded half away from zero — the one formula.

    Decimal avoids float ties (12.5 → 13, −12.5 → −13), so the chat, Excel and every
    document agree with a hand calculation. P + N + D = 0 is refused (`NO_RESPONDENTS`).
    """
    total = promoters + passives + detractors
    if total <= 0:
        raise AnswerProblem(NO_RESPONDENTS)
    value = Decimal(100 * (promoters - detractors)) / Decimal(total)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- results ---------------------------------------------------------------------------------

#: What the latest result of a measurement kind is.
RESULT_SCORE = "score"  # NPS: a score −100–100 or the three counts; no text result
RESULT_ON_SCALE = "on_scale"  # a survey: a number inside the saved scale ("4,2")
RESULT_TEXT = "text"  # free: a few words ("82 % positive")
RESULT_NONE = "none"  # not measured: nothing


def result_kind(mtype: MeasurementRule) -> str:
    """Which result a measurement type takes (one of the ``RESULT_*`` values)."""
    return {"nps": RESULT_SCORE, "scale": RESULT_ON_SCALE, "none": RESULT_NONE}.get(
        mtype.kind, RESULT_TEXT
    )


def scale_range(
    scale: str | None, catalog_scale: str, scale_min: int | None, scale_max: int | None
) -> tuple[float, float]:
    """The numbers a scale result may take: the catalog's range, or the one the person wrote."""
    if (not scale or scale == catalog_scale) and scale_min is not None:
        return float(scale_min), float(scale_max if scale_max is not None else scale_min)
    parts = [p for p in _HYPHEN_RANGE.sub("–", scale or "").split("–") if p.strip()]
    try:
        low, high = (float(p.strip().replace(",", ".")) for p in parts)
    except ValueError:
        return 0.0, 999_999.0
    return min(low, high), max(low, high)


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number).replace(".", ",")


def read_result(value: object, mtype: MeasurementRule, scale: str | None) -> str:
    """The latest result to store for a measurement type (not NPS: its score is `read_nps`).

    On a scale: a number inside the saved scale (the person's, else the catalog's), stored
    with a decimal comma ("4,2"); free: a cleaned text. NPS and "not measured" take none.
    """
    kind = result_kind(mtype)
    if kind == RESULT_SCORE:
        raise AnswerProblem(RESULT_FOR_NPS)
    if kind == RESULT_NONE:
        raise AnswerProblem(NOT_MEASURED_ALONE)
    if kind == RESULT_TEXT:
        return clean_text(value)
    low, high = scale_range(scale, mtype.scale, mtype.scale_min, mtype.scale_max)
    if _is_number(value):
        number = float(value)
        text = str(int(number)) if number.is_integer() else repr(number)
    elif isinstance(value, str):
        text = value
    else:
        raise AnswerProblem(NOT_DECIMAL, low=_plain(low), high=_plain(high))
    result = formats.read_decimal(text)
    if result is None:
        raise AnswerProblem(NOT_DECIMAL, low=_plain(low), high=_plain(high))
    if not Decimal(str(low)) <= result <= Decimal(str(high)):
        raise AnswerProblem(DECIMAL_RANGE, low=_plain(low), high=_plain(high))
    return str(result).replace(".", ",")


def measurement_name(
    name: str, catalog_scale: str | None, scale: str | None, other_name: str | None
) -> str:
    """The way of measuring as the person described it, the one wording of every surface.

    The catalog's name with the saved scale instead of the catalog's ("Kysely (asteikko
    1–7)" for a survey saved with 1–7) and "Muu tapa" with its own name ("Muu tapa:
    Palautekysely"). /tila, the chat's summary and the documents' snapshot all use it.
    """
    if scale and catalog_scale and scale != catalog_scale:
        name = name.replace(catalog_scale, scale)
    if other_name:
        name = f"{name}: {other_name}"
    return name


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
NPS_DISAGREES = "nps_disagrees"  # a score and counts that give another score: {nps} {value}


def method_key(method_id: int | None, method_text: str | None) -> tuple[int | None, str]:
    """What makes two answers at a level the same method (typed names compare casefolded)."""
    return (method_id, "" if method_id is not None else (method_text or "").casefold())


def participation_conflicts(answers: list[dict[str, Any]]) -> EntityProblems:
    """Duplicate methods at a level, and "no methods" given together with methods.

    ``answers`` are `ParticipationAnswer` dicts in order; the chat refuses a method typed
    twice in one message, a spreadsheet can hold one twice on two rows.
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
    respondents or with a score given as well (never silently overwritten).
    """
    counts = (promoters, passives, detractors)
    if all(c is None for c in counts):
        return nps, respondents
    if promoters is None or passives is None or detractors is None:
        raise AnswerProblem(COUNTS_INCOMPLETE)
    for count in (promoters, passives, detractors):
        if count not in NPS_COUNT_RANGE:
            raise AnswerProblem(NPS_COUNT_RANGE_CODE, value=count, range=NPS_COUNT_RANGE)
    total = promoters + passives + detractors
    if total == 0:
        raise AnswerProblem(NO_RESPONDENTS)
    if total not in RESPONDENTS_RANGE:
        raise AnswerProblem(RESPONDENTS_RANGE_CODE, value=total, range=RESPONDENTS_RANGE)
    if respondents is not None and respondents != total:
        raise AnswerProblem(COUNTS_DISAGREE, total=total, value=respondents)
    computed = nps_from_counts(promoters, passives, detractors)
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


# --- whole answers ---------------------------------------------------------------------------


def check_participation(answer: ParticipationAnswer) -> ParticipationAnswer:
    """The answer as stored: "none" alone, else a method (catalog, or a named one) and a
    count in `COUNT_RANGE`, the note cleaned. Raises `AnswerProblem`."""
    if answer.none:
        return ParticipationAnswer(answer.level_id, none=True)
    if answer.count == 0:
        raise AnswerProblem(ZERO_COUNT, range=COUNT_RANGE)
    if answer.count not in COUNT_RANGE:
        raise AnswerProblem(COUNT_RANGE_CODE, value=answer.count, range=COUNT_RANGE)
    text = None
    if answer.method_id is None:
        if answer.method_text is None:
            raise AnswerProblem(EMPTY)
        text = method_name(answer.method_text)
    note = clean_text(answer.note) if answer.note not in (None, "") else None
    return replace(answer, method_text=text, note=note)


def check_satisfaction(answer: SatisfactionAnswer, mtype: MeasurementRule) -> SatisfactionAnswer:
    """The answer as stored, every rule of its measurement type met. Raises `AnswerProblem`.

    The NPS and the respondents are computed from promoter/passive/detractor counts when
    those are given (a score or respondents that disagree are refused, not overwritten).
    """
    kind = result_kind(mtype)
    values = answer.to_dict()
    if kind == RESULT_NONE:
        if any(v not in (None, "") for k, v in values.items() if k != "measurement_type_id"):
            raise AnswerProblem(NOT_MEASURED_ALONE)
        return SatisfactionAnswer(answer.measurement_type_id)
    if answer.other_name not in (None, ""):
        if mtype.code != OTHER_TYPE:
            raise AnswerProblem(OTHER_NAME_ONLY)
        values["other_name"] = method_name(answer.other_name)
    elif mtype.code == OTHER_TYPE:
        raise AnswerProblem(OTHER_NAME_MISSING)
    if answer.scale not in (None, ""):
        values["scale"] = read_scale(answer.scale)
    known = {item.code for item in frequencies()} | {OTHER_FREQUENCY}
    if answer.frequency is not None and answer.frequency not in known:
        raise AnswerProblem(UNKNOWN_FREQUENCY, value=answer.frequency)
    if answer.frequency == OTHER_FREQUENCY and answer.frequency_text is not None:
        values["frequency_text"] = clean_text(answer.frequency_text)
    if answer.period not in (None, ""):
        values["period"] = clean_text(answer.period, limit=MAX_PERIOD)
    if answer.note not in (None, ""):
        values["note"] = clean_text(answer.note)
    if answer.respondents is not None and answer.respondents not in RESPONDENTS_RANGE:
        raise AnswerProblem(
            RESPONDENTS_RANGE_CODE, value=answer.respondents, range=RESPONDENTS_RANGE
        )
    if kind == RESULT_SCORE:
        if answer.latest_result not in (None, ""):
            raise AnswerProblem(RESULT_FOR_NPS)
        if answer.nps is not None and answer.nps not in NPS_RANGE:
            raise AnswerProblem(SCORE_RANGE, value=answer.nps, range=NPS_RANGE)
        values["nps"], values["respondents"] = nps_counts(
            answer.nps, answer.promoters, answer.passives, answer.detractors, answer.respondents
        )
    else:
        if any(
            v is not None
            for v in (answer.nps, answer.promoters, answer.passives, answer.detractors)
        ):
            raise AnswerProblem(ONLY_FOR_NPS)
        if answer.latest_result not in (None, ""):
            values["latest_result"] = read_result(answer.latest_result, mtype, values.get("scale"))
    return SatisfactionAnswer(**{k: (None if v == "" else v) for k, v in values.items()})  # type: ignore[arg-type]


class RowFields(Protocol):
    """One answer row as a surface holds it — the Mini App's posted fields, a workbook's
    cells — addressed by `SatisfactionAnswer`'s field names. The surface reads a value in
    its own language and words (and places) each problem; a field it lacks is never given.
    """

    @property
    def problems(self) -> int:
        """How many problems have been reported so far (the row is read whole, then judged)."""
        ...

    def given(self, name: str) -> bool:
        """Something is in the field (an empty text is nothing)."""
        ...

    def read(self, name: str, rule: Callable[[Any, str], Any]) -> Any:
        """The field read by ``rule(value, language)``, or None (empty, or a problem reported)."""
        ...

    def text(self, name: str, limit: int) -> str | None:
        """The field as a `clean_text` of at most ``limit`` characters, or None."""
        ...

    def problem(self, name: str, problem: AnswerProblem) -> None:
        """Report a problem of the whole row at the field it points to."""
        ...


class MeasurementTypeRow(MeasurementRule, Protocol):
    id: int


#: The fields a "not measured" row leaves empty, in the order a form shows them.
_DETAIL_FIELDS = (
    "other_name",
    "scale",
    "frequency",
    "frequency_text",
    "nps",
    "promoters",
    "passives",
    "detractors",
    "respondents",
    "latest_result",
    "period",
    "note",
)
_COUNT_FIELDS = ("promoters", "passives", "detractors")
#: Where a disagreement of the NPS figures is shown.
_NPS_PROBLEM_FIELD = {
    COUNTS_DISAGREE: "respondents",
    NPS_DISAGREES: "nps",
    NO_RESPONDENTS: "promoters",
}


def read_satisfaction_row(row: RowFields, mtype: MeasurementTypeRow) -> SatisfactionAnswer | None:
    """One satisfaction row of a form (the Mini App's, a workbook's) read by the rules.

    Every field is read and every problem reported, each at its field, before the row is
    judged: the person sees all that is wrong at once. None when anything was.
    """
    before = row.problems
    if result_kind(mtype) == RESULT_NONE:
        for name in _DETAIL_FIELDS:
            if row.given(name):
                row.problem(name, AnswerProblem(NOT_MEASURED_ALONE))
                return None
        return SatisfactionAnswer(mtype.id)
    other_name = row.read("other_name", lambda value, _lang: method_name(value))
    if other_name is not None and mtype.code != OTHER_TYPE:
        row.problem("other_name", AnswerProblem(OTHER_NAME_ONLY))
    elif mtype.code == OTHER_TYPE and not row.given("other_name"):
        row.problem("other_name", AnswerProblem(OTHER_NAME_MISSING))
    # An empty scale is no scale given (the chat's "Skip"): results are read on the catalog's.
    scale = row.read("scale", lambda value, _lang: read_scale(value))
    # As in the chat: a choice (its name in any language, or its code) is stored as its
    # code, anything else as the person's own words beside the code "other".
    frequency = frequency_text = None
    chosen = row.text("frequency", 40)
    typed = row.text("frequency_text", MAX_TEXT)
    if chosen == OTHER_FREQUENCY or (chosen is None and typed is not None):
        if typed is not None:
            frequency = frequency_code(typed)
            if frequency is None:
                frequency, frequency_text = OTHER_FREQUENCY, typed
    elif chosen is not None:
        frequency = frequency_code(chosen)
        if frequency is None:
            row.problem("frequency", AnswerProblem(UNKNOWN_FREQUENCY, value=chosen))
    respondents = row.read("respondents", read_respondents)
    period = row.text("period", MAX_PERIOD)
    note = row.text("note", MAX_TEXT)
    nps = promoters = passives = detractors = None
    latest_result = None
    if result_kind(mtype) == RESULT_SCORE:
        if row.given("latest_result"):
            row.problem("latest_result", AnswerProblem(RESULT_FOR_NPS))
        nps = row.read("nps", read_nps)
        promoters = row.read("promoters", read_nps_count)
        passives = row.read("passives", read_nps_count)
        detractors = row.read("detractors", read_nps_count)
        if row.problems == before:
            try:
                nps, respondents = nps_counts(nps, promoters, passives, detractors, respondents)
            except AnswerProblem as problem:
                where = _NPS_PROBLEM_FIELD.get(problem.code) or next(
                    name
                    for name in _COUNT_FIELDS
                    if not row.given(name)  # the first empty
                )
                row.problem(where, problem)
    else:
        for name in ("nps", *_COUNT_FIELDS):
            if row.given(name):
                row.problem(name, AnswerProblem(ONLY_FOR_NPS))
                break
        latest_result = row.read(
            "latest_result", lambda value, _lang: read_result(value, mtype, scale)
        )
    if row.problems > before:
        return None
    return SatisfactionAnswer(
        measurement_type_id=mtype.id,
        scale=scale,
        frequency=frequency,
        frequency_text=frequency_text,
        other_name=other_name,
        latest_result=latest_result,
        nps=nps,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        respondents=respondents,
        period=period,
        note=note,
    )


def with_respondents(answer: SatisfactionAnswer, respondents: int | None) -> SatisfactionAnswer:
    """The answer with another number of respondents.

    With promoter/passive/detractor counts the respondents are their sum: another number is
    refused (`COUNTS_DISAGREE`), so the counts are never dropped without the person seeing it.
    """
    counts = answer.counts
    if counts is not None and respondents != sum(counts):
        raise AnswerProblem(COUNTS_DISAGREE, total=sum(counts), value=respondents)
    return replace(answer, respondents=respondents)


def with_nps(answer: SatisfactionAnswer, nps: int | None) -> SatisfactionAnswer:
    """The answer with another NPS score typed as a number.

    A score other than the counts give replaces them: the counts are dropped (the caller
    shows the person that they go before saving); the respondents stay as they were.
    """
    counts = answer.counts
    if counts is not None and nps == nps_from_counts(*counts):
        return answer
    return replace(answer, nps=nps, promoters=None, passives=None, detractors=None)

"""/raportoi: a division contact reports the participation methods of one service entity.

Steps (draft data in brackets)::

    ENTITY ──► PREFILL (only when last year has answers) ──► LEVEL 1..4 ──► REVIEW ──► saved
                 │ "same as last year" ───────────────────────────────────►│
                 │ "same methods, new counts" ► COUNT × n ────────────────►│
               LEVEL: a method button ► COUNT ► back to LEVEL; typed "2 12, 4 3" or
                      "Kyselyt 12" records methods and counts and moves on; a typed
                      name is a new method ► COUNT; "Add a note" ► NOTE ► LEVEL

Each level's message numbers its catalog methods, so a person who knows the figures types
one message per level ("2 12, 4 3": method 2 used 12 times, method 4 three times); everyone
else taps a method and types its count. A note is never a forced step. The review card
lists the answers in level order with change/remove buttons; Save writes the entity's
answers in one transaction (``data.reports.save_participation``) together with removing the
draft. The reminders' "Report now" button (``delivery.courier.REPORT_CALLBACK``) starts here, or
in /tyytyvaisyys when only satisfaction is missing.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from bot import ui
from bot.flow import entities, inputs
from bot.flow.codec import Press
from bot.flow.engine import (
    MSG_KEEP_AS_IS,
    Button,
    Done,
    EngineDraft,
    Flow,
    LinkButton,
    Outcome,
    Prompt,
    Retry,
    Row,
    Stale,
    Turn,
)
from data import answers, catalog, reports
from data.drafts import Draft
from data.limits import COUNT_RANGE
from data.models import CatalogMethod, Level, ServiceEntity
from delivery.courier import REPORT_CALLBACK
from i18n import N_, formats

START_DATA = "report:start"


class ReportDraft(EngineDraft, total=False):
    """The draft's data (``ConversationDraft.data``) of this flow, version 2; validated
    whenever it is read (``Flow(draft=...)``)."""

    entity: int | None  # service entity id
    levels: list[int]  # level ids in order
    level_index: int  # the level being asked
    answers: list[dict[str, Any]]  # ParticipationAnswer.to_dict(), kept in level order
    pending: dict[str, Any] | None  # the method whose count is asked, "from": where to return
    edit: int | None  # index in answers of the answer being changed
    note_for: dict[str, Any]  # {"index", "from"}: the answer whose note is asked
    origin: str  # "new" | "saved" | "last_year" | "recount"
    recount: list[int]  # "same methods, new counts": answers whose counts are asked …
    recounted: int  # … and how many of them so far
    review_return: bool  # a level opened from the summary returns there
    kept: dict[str, dict[str, Any]]  # entity id → unsaved answers left behind (ENTITY_KEYS)
    based_on: int | None  # the entity's answers' version when opened (entities.record_base)


#: The origins of an entity's answers that mean nothing was saved for it at the version
#: recorded with them (``based_on``): a new entity, or last year's answers as a start.
NOTHING_SAVED_ORIGINS = frozenset({"new", "last_year", "recount"})


class ReportStep(enum.StrEnum):
    ENTITY = "entity"
    PREFILL = "prefill"
    LEVEL = "level"
    METHOD = "method"
    COUNT = "count"
    NOTE = "note"
    REVIEW = "review"


TITLE = N_("Participation report")
MSG_CHOOSE_ENTITY = N_(
    "Participation report {year}: {division}.\nChoose the service entity to report. ✓ = every "
    "level answered."
)
MSG_PREFILL = N_(
    "Reported last year ({year}) for {entity}:\n{answers}\n\nUse these as the starting "
    "point? You can change or remove every answer before saving."
)
MSG_LAST_YEAR_COUNT = N_("In {year}: {count}.")
MSG_SAME_AS_VALUE = N_("Same as {year} ({value})")
MSG_LEVEL = N_("{entity}\nLevel {number}: {name}\n{description}")
MSG_LEVEL_SO_FAR = N_("Answers at this level:")
MSG_LEVEL_NONE = N_("Answered: no methods at this level.")
MSG_LEVEL_ASK = N_(
    "Tap a method and give its count, or type the method's number and count, e.g. “{example}” "
    "(several at once, separated by commas). A method not in the list: type its name."
)
MSG_ADD_NOTE = N_("✎ Add a note: {method}")
MSG_ADD_NOTE_SHORT = N_("✎ Add a note")
MSG_CHANGE_NOTE_OF = N_("✎ Change the note: {method}")
MSG_CHANGE_NOTE = N_("✎ Change the note")
MSG_SAME_AS = N_("Same as {year}")
MSG_SAME_METHODS = N_("Same methods, new counts")
MSG_RECOUNT = N_("Last year's method {n}/{total}:")
MSG_TYPED_FORMAT = N_(
    "I could not read that. Type the method's number and its count, e.g. “{example}”, or the "
    "name of a method and its count, or use the buttons."
)
MSG_NO_SUCH_METHOD = N_(
    "There is no method {number} at this level: the numbers go from 1 to {count}."
)
MSG_NONE_BESIDE_METHODS = N_(
    "Methods are already given at this level. Remove them on the summary first if none was used."
)
MSG_QTY = N_("Qty")
MSG_OTHER_METHOD = N_("Other method – write it")
MSG_NO_METHODS = N_("No methods at this level")
MSG_NEXT = N_("Next level ›")
MSG_TO_REVIEW = N_("To the summary ›")
MSG_NEED_ANSWER = N_("Choose at least one method, or “No methods at this level”, before going on.")
MSG_METHOD_ASK = N_(
    "{entity} – level {number}\nWrite the name of the participation method (at most {limit} "
    "characters)."
)
MSG_COUNT_ASK = N_(
    "{method}\nLkm: how many in {year}? Write a whole number {range}, for example 12 or {example}."
)
MSG_NEED_COMMAS = N_(
    "Separate the methods with commas: “{example}” (method number, a space, its count)."
)
MSG_COUNT_NOW = N_("Now: {count}.")
MSG_NOTE_ASK = N_("{method}: {count}.\nWrite the note (at most {limit} characters).")
MSG_NOTE_NOW = N_("Current note: {note}")
MSG_NO_NOTE = N_("No note")
MSG_REVIEW = N_("Summary: {entity} ({year})")
MSG_REVIEW_LAST_YEAR = N_("The counts are last year's: check them before saving.")
MSG_REVIEW_ASK = N_(
    "✎ changes an answer, 🗑 removes it, a level button adds to that level. Save stores everything."
)
MSG_NOT_ANSWERED = N_("not answered yet")
MSG_NONE_ANSWER = N_("no methods at this level")
MSG_LEVEL_BUTTON = N_("Level {number}")
MSG_LEVEL_SHORT = N_("L{number}")
MSG_SAVE = N_("💾 Save")
MSG_NOTHING_TO_SAVE = N_("There is nothing to save yet: answer at least one level.")
MSG_SAVED = N_("Saved: {entity}, {year}. The answers are now in the database.")
MSG_SAVED_TOAST = N_("Saved ✓")
MSG_STILL_MISSING = N_("Still unanswered: level {levels}.")
MSG_SAVED_NEXT = N_(
    "/tila shows your division's status; /tyytyvaisyys maps how customer satisfaction is measured."
)
MSG_REPORT_ANOTHER = N_("Report another service entity")
MSG_DESCRIBE_ENTITY = N_("{entity}, {where}")
MSG_WHERE_LEVEL = N_("level {number}")
MSG_WHERE_REVIEW = N_("summary")
MSG_INVALID_ANSWER = N_("This answer could not be saved: {problem}")

HELP = {
    ReportStep.ENTITY: N_(
        "Choose the service entity (palvelukokonaisuus) whose participation methods you report. "
        "You report each service entity separately; ✓ marks those with every level answered."
    ),
    ReportStep.PREFILL: N_(
        "Last year's answers can be the starting point: the methods and counts are copied into "
        "this year's summary, where you change or remove each before saving. Nothing is saved "
        "until you press Save."
    ),
    ReportStep.LEVEL: N_(
        "Levels 1–4 go from communication to sharing decision-making power. Pick each method "
        "the service entity used at this level (or write one that is not in the list) and give "
        "its count. If none was used, answer “No methods at this level”: that is different "
        "from not answering."
    ),
    ReportStep.METHOD: N_(
        "Write the method's name as you would in the report, for example “Asukasraati”. At "
        "most {limit} characters."
    ),
    ReportStep.COUNT: N_(
        "Lkm is the number of times the method was used in the year (events, panels, channels "
        "…) as a whole number; a method used 0 times is left out. Spaces between thousands "
        "are fine."
    ),
    ReportStep.NOTE: N_(
        "A note is optional: for example what the count includes. At most {limit} characters. "
        "Press Skip if there is nothing to add."
    ),
    ReportStep.REVIEW: N_(
        "Check the answers. ✎ changes a count or note, 🗑 removes an answer, a level button "
        "returns to that level. Save stores this service entity's answers in one go; until "
        "then nothing is saved."
    ),
}


# --- draft helpers ---------------------------------------------------------------------


def _answers(turn: Turn) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = turn.data.setdefault("answers", [])
    return answers


def _level(turn: Turn, index: int | None = None) -> Level:
    level_ids: list[int] = turn.data["levels"]
    level = turn.get(Level, level_ids[turn.data.get("level_index", 0) if index is None else index])
    assert level is not None
    return level


def _method_name(turn: Turn, answer: dict[str, Any]) -> str:
    if answer.get("method_id") is not None:
        method = turn.get(CatalogMethod, int(answer["method_id"]))
        if method is not None:
            return catalog.name_of(method, turn.language)
    return str(answer.get("method_text") or "")


def _answer_line(turn: Turn, answer: dict[str, Any]) -> str:
    if answer.get("none"):
        return turn._(MSG_NONE_ANSWER)
    line = f"{_method_name(turn, answer)} – {turn._(MSG_QTY)} {turn.number(int(answer['count']))}"
    if answer.get("note"):
        line += f" ({answer['note']})"
    return line


def _at_level(turn: Turn, level_id: int) -> list[tuple[int, dict[str, Any]]]:
    return [(i, a) for i, a in enumerate(_answers(turn)) if a["level_id"] == level_id]


def _as_dicts(answers: list[reports.ParticipationAnswer]) -> list[dict[str, Any]]:
    return [a.to_dict() for a in answers]


def _counter(turn: Turn) -> tuple[int, int]:
    total = 2 + len(turn.data.get("levels") or [0, 0, 0, 0])
    step = turn.step
    if step in (ReportStep.ENTITY, ReportStep.PREFILL):
        return 1, total
    if step == ReportStep.REVIEW:
        return total, total
    return 2 + int(turn.data.get("level_index", 0)), total


# --- start, guard, verify --------------------------------------------------------------


def _start(turn: Turn) -> Outcome:
    return ReportStep.ENTITY


def _describe(turn: Turn, row: Draft) -> str | None:
    data = row.data
    pending = data.get("pending") or {}
    if data.get("entity") is None or not (data.get("answers") or pending.get("count") is not None):
        return None  # nothing answered yet: the flow simply starts again
    entity = turn.get(ServiceEntity, int(data["entity"]))
    name = catalog.name_of(entity, turn.language) if entity else "?"
    step = data.get("resume", row.step)
    if step == ReportStep.REVIEW:
        where = turn._(MSG_WHERE_REVIEW)
    elif step == ReportStep.PREFILL:
        where = turn._(MSG_WHERE_LEVEL).format(number=1)
    else:
        where = turn._(MSG_WHERE_LEVEL).format(number=int(data.get("level_index", 0)) + 1)
    return turn._(MSG_DESCRIBE_ENTITY).format(entity=name, where=where)


# --- ENTITY ----------------------------------------------------------------------------


def _render_entity(turn: Turn) -> Prompt:
    return entities.entity_menu(turn, MSG_CHOOSE_ENTITY, lambda e: e.participation_complete)


#: The draft keys that hold one entity's unsaved answers (kept when the person leaves it).
ENTITY_KEYS = ("answers", "origin", "level_index", entities.BASE_KEY)


def _unsaved(turn: Turn) -> bool:
    """The open entity's answers differ from what is saved for it."""
    if not _answers(turn) or turn.data.get("entity") is None:
        return False
    saved = _as_dicts(
        reports.participation_for_year(turn.session, turn.year, int(turn.data["entity"]))
    )
    return _sorted(turn, saved) != _answers(turn)


def _choose_entity(turn: Turn, press: Press) -> Outcome:
    entity_id = entities.pressed_entity(turn, press)
    same = turn.data.get("entity") == entity_id and _answers(turn)
    turn.data["levels"] = [level.id for level in catalog.levels(turn.session)]
    restored = not same and entities.switch_entity(turn, entity_id, ENTITY_KEYS, _unsaved)
    turn.data.update(entity=entity_id, pending=None, edit=None, review_return=False)
    if restored:
        return ReportStep.REVIEW
    if same:
        return ReportStep.LEVEL
    turn.data["level_index"] = 0
    year = int(turn.data["year"])
    version, saved = reports.entity_state(turn.session, year, entity_id)
    entities.record_base(turn, entity_id, version)
    turn.data["origin"] = "saved" if saved else "new"
    turn.data["answers"] = _as_dicts(saved)
    if saved:
        answered = {a.level_id for a in saved}
        missing = [i for i, lid in enumerate(turn.data["levels"]) if lid not in answered]
        if not missing:
            return ReportStep.REVIEW
        turn.data["level_index"] = missing[0]
        return ReportStep.LEVEL
    if reports.previous_participation(turn.session, year, entity_id):
        return ReportStep.PREFILL
    return ReportStep.LEVEL


# --- PREFILL ---------------------------------------------------------------------------


def _previous(turn: Turn) -> list[dict[str, Any]]:
    return _as_dicts(
        reports.previous_participation(turn.session, turn.year, int(turn.data["entity"]))
    )


def _render_prefill(turn: Turn) -> Prompt:
    lines = []
    for answer in _sorted(turn, _previous(turn)):
        level = turn.get(Level, answer["level_id"])
        lines.append(f"• {level.number if level else '?'}: {_answer_line(turn, answer)}")
    text = turn._(MSG_PREFILL).format(
        year=turn.year - 1, entity=entities.entity_name(turn), answers="\n".join(lines)
    )
    last = turn.year - 1
    return Prompt(
        text,
        [
            [Button(turn._(MSG_SAME_AS).format(year=last), "y")],
            [Button(turn._(MSG_SAME_METHODS), "m")],
            [Button(turn._(entities.MSG_START_EMPTY), "n")],
        ],
    )


def _use_last_year(turn: Turn, press: Press) -> Outcome:
    turn.data["answers"] = _sorted(turn, _previous(turn))
    turn.data["origin"] = "last_year"
    return ReportStep.REVIEW


def _same_methods(turn: Turn, press: Press) -> Outcome:
    """Last year's methods with this year's counts: only the counts are asked."""
    turn.data["answers"] = _sorted(turn, _previous(turn))
    turn.data["origin"] = "recount"
    queue = [i for i, a in enumerate(turn.data["answers"]) if not a.get("none")]
    if not queue:
        return ReportStep.REVIEW
    turn.data["recount"] = queue
    return _edit(turn, queue[0], origin="recount")


def _start_empty(turn: Turn, press: Press) -> Outcome:
    turn.data["answers"] = []
    turn.data["level_index"] = 0
    return ReportStep.LEVEL


def _back_to_entity(turn: Turn) -> Outcome:
    return ReportStep.ENTITY


# --- LEVEL -----------------------------------------------------------------------------


def _catalog_methods(turn: Turn, level: Level) -> list[CatalogMethod]:
    return catalog.methods_for_level(turn.session, level.id)


def _level_card(
    turn: Turn, level: Level, entity: ServiceEntity
) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The level question's heading and its catalog methods (id, name) in the person's
    language: pure catalog, held with the process's copy (``catalog.derived``) instead of
    made again on every update at the level."""
    lang = turn.language

    def build() -> tuple[str, tuple[tuple[int, str], ...]]:
        heading = turn._(MSG_LEVEL).format(
            entity=catalog.name_of(entity, lang),
            number=level.number,
            name=catalog.name_of(level, lang),
            description=level.description.get(lang) or level.description["fi"],
        )
        methods = tuple((m.id, catalog.name_of(m, lang)) for m in _catalog_methods(turn, level))
        return heading, methods

    return catalog.derived(turn.session, ("report.level", lang, level.id, entity.id), build)


def _render_level(turn: Turn) -> Prompt:
    level = _level(turn)
    heading, methods = _level_card(turn, level, entities.chosen_entity(turn))
    here = _at_level(turn, level.id)
    methods_here = [(i, a) for i, a in here if not a.get("none")]
    chosen = {a.get("method_id") for _i, a in methods_here}
    parts = [heading]
    parts.append(
        "\n".join(
            f"{n}. {name}" + (" ✓" if method_id in chosen else "")
            for n, (method_id, name) in enumerate(methods, start=1)
        )
    )
    if methods_here:
        parts.append(
            turn._(MSG_LEVEL_SO_FAR)
            + "\n"
            + "\n".join(f"• {_answer_line(turn, a)}" for _i, a in methods_here)
        )
    elif here:
        parts.append(turn._(MSG_LEVEL_NONE))
    parts.append(turn._(MSG_LEVEL_ASK).format(example=_example(turn, len(methods))))
    rows: list[list[Button | LinkButton]] = [
        [Button(("✓ " if method_id in chosen else "") + name, "m", method_id)]
        for method_id, name in methods
    ]
    rows.append([Button(turn._(MSG_OTHER_METHOD), "o")])
    if not methods_here:
        rows.append([Button(("✓ " if here else "") + turn._(MSG_NO_METHODS), "z")])
    names = [_method_name(turn, answer) for _i, answer in methods_here]
    for (index, answer), name in zip(methods_here, names, strict=True):
        has_note = bool(answer.get("note"))  # "add" only while there is none (item 15)
        label = turn._(MSG_CHANGE_NOTE_OF if has_note else MSG_ADD_NOTE).format(
            method=ui.short_label(name, ui.NAME_IN_PAIR, names)
        )
        rows.append([Button(label, "a", index)])
    if here:
        last = turn.data.get("level_index", 0) + 1 >= len(turn.data["levels"])
        label = MSG_TO_REVIEW if turn.data.get("review_return") or last else MSG_NEXT
        rows.append([Button(turn._(label), "f")])
    return Prompt("\n\n".join(parts), rows)


def _example(turn: Turn, methods: int) -> str:
    """ "2 12, 4 3" — method number and count, several separated by commas."""
    if methods >= 4:
        return "2 12, 4 3"
    if methods >= 2:
        return "1 12, 2 3"
    return "1 12"


def _next_level(turn: Turn) -> Outcome:
    if turn.data.get("review_return"):
        turn.data["review_return"] = False
        return ReportStep.REVIEW
    if int(turn.data.get("level_index", 0)) + 1 < len(turn.data["levels"]):
        turn.data["level_index"] = int(turn.data.get("level_index", 0)) + 1
        return ReportStep.LEVEL
    return ReportStep.REVIEW


def _pick_method(turn: Turn, press: Press) -> Outcome:
    method_id = press.int_arg()
    level = _level(turn)
    method = turn.get(CatalogMethod, method_id) if method_id else None
    if method is None or method.level_id != level.id or method.retired_at is not None:
        raise Stale
    for index, answer in enumerate(_answers(turn)):
        if answer.get("method_id") == method.id and answer["level_id"] == level.id:
            return _edit(turn, index, origin="level")
    turn.data["pending"] = {"level_id": level.id, "method_id": method.id, "from": "level"}
    turn.data["edit"] = None
    return ReportStep.COUNT


def _other_method(turn: Turn, press: Press) -> Outcome:
    return ReportStep.METHOD


def _no_methods(turn: Turn, press: Press) -> Outcome:
    level = _level(turn)
    turn.data["answers"] = [a for a in _answers(turn) if a["level_id"] != level.id]
    _put(turn, reports.ParticipationAnswer(level.id, none=True).to_dict())
    return _next_level(turn)


def _add_note(turn: Turn, press: Press) -> Outcome:
    index = _answer_index(turn, press)
    if _answers(turn)[index].get("none"):
        raise Stale
    turn.data["note_for"] = {"index": index, "from": "level"}
    return ReportStep.NOTE


def _forward(turn: Turn, press: Press) -> Outcome:
    if not _at_level(turn, _level(turn).id):
        raise Retry(MSG_NEED_ANSWER)
    return _next_level(turn)


def _level_back(turn: Turn) -> Outcome:
    if turn.data.get("review_return"):
        turn.data["review_return"] = False
        return ReportStep.REVIEW
    if int(turn.data.get("level_index", 0)) > 0:
        turn.data["level_index"] = int(turn.data["level_index"]) - 1
        return ReportStep.LEVEL
    return ReportStep.ENTITY


_ITEM_SEPARATORS = re.compile(r"[,;\n]+")
_NUMBER_AND_COUNT = re.compile(r"(\d{1,2})[.)]?\s+(\S.*)")
_NAME_AND_COUNT = re.compile(
    r"(.*?\D)\s+(\d[\d\s\u00a0\u202f]*(?:\s*(?:kpl|krt|kertaa|st|ggr|pcs|times)\.?)?)",
    re.IGNORECASE,
)
_SEVERAL_NUMBERS = re.compile(r"\d+(?:\s+\d+)+")


def _typed_level(turn: Turn, text: str) -> Outcome:
    """Typed on a level: "2 12, 4 3" or "Kyselyt 12" records and moves on; a name alone
    is a new method whose count is asked next; "ei", "ei tapoja" or "-" (the rule book's
    words for it) answers "no methods at this level"."""
    level = _level(turn)
    methods = _catalog_methods(turn, level)
    if answers.is_none_word(text):
        return _typed_none(turn, level)
    items = [item.strip() for item in _ITEM_SEPARATORS.split(text) if item.strip()]
    if not items:
        raise Retry(MSG_TYPED_FORMAT, example=_example(turn, len(methods)))
    parsed: list[dict[str, Any]] = []
    for item in items:
        numbered = _NUMBER_AND_COUNT.fullmatch(item)
        named = _NAME_AND_COUNT.fullmatch(item)
        if numbered:
            number = int(numbered.group(1))
            if not 1 <= number <= len(methods):
                raise Retry(MSG_NO_SUCH_METHOD, number=number, count=len(methods))
            answer: dict[str, Any] = {"method_id": methods[number - 1].id}
            count_text = numbered.group(2)
        elif named and not named.group(1).strip().isdigit():
            answer = _method_by_name(turn, methods, named.group(1))
            count_text = named.group(2)
        elif len(items) == 1 and not item.isdigit():
            pending = {**_method_by_name(turn, methods, item), "level_id": level.id}
            for index, existing in enumerate(_answers(turn)):
                if _same_method(existing, pending):
                    return _edit(turn, index, origin="level")
            turn.data["pending"] = {**pending, "from": "level"}
            turn.data["edit"] = None
            return ReportStep.COUNT
        else:
            raise Retry(MSG_TYPED_FORMAT, example=_example(turn, len(methods)))
        if (
            _SEVERAL_NUMBERS.fullmatch(count_text)
            and formats.read_whole(count_text, turn.language) is None
        ):  # "1 3 2 4": two methods without the comma between them
            raise Retry(MSG_NEED_COMMAS, example=_example(turn, len(methods)))
        answer.update(level_id=level.id, count=_count(turn, count_text))
        parsed.append(answer)
    if answers.participation_conflicts(parsed).items:  # "1 5, 1 6": which one is meant?
        raise inputs.problem_error(answers.AnswerProblem(answers.DUPLICATE_METHOD))
    for answer in parsed:
        full = reports.ParticipationAnswer(
            level_id=level.id,
            method_id=answer.get("method_id"),
            method_text=answer.get("method_text"),
            count=int(answer["count"]),
        ).to_dict()
        found_at = next((i for i, a in enumerate(_answers(turn)) if _same_method(a, full)), None)
        if found_at is not None:
            full["note"] = _answers(turn)[found_at].get("note")
        _put(turn, full, found_at)
    return _next_level(turn)


def _typed_none(turn: Turn, level: Level) -> Outcome:
    """ "ei" typed on a level: no methods here, unless methods are already given."""
    if any(not a.get("none") for _i, a in _at_level(turn, level.id)):
        raise Retry(MSG_NONE_BESIDE_METHODS)
    _put(turn, reports.ParticipationAnswer(level.id, none=True).to_dict())
    return _next_level(turn)


def _method_by_name(turn: Turn, methods: list[CatalogMethod], name: str) -> dict[str, Any]:
    """A catalog method when the name is one (in any language), else a method of the
    person's own: a name with at least one letter (the rule book's ``method_name``)."""
    cleaned = inputs.clean_text(name)
    for method in methods:
        if cleaned.casefold() in {n.casefold() for n in method.name.values()}:
            return {"method_id": method.id}
    return {"method_text": inputs.method_name(cleaned)}


def _same_method(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["level_id"] != b["level_id"] or a.get("none") or b.get("none"):
        return False
    if a.get("method_id") is not None or b.get("method_id") is not None:
        return a.get("method_id") == b.get("method_id")
    return str(a.get("method_text") or "").casefold() == str(b.get("method_text") or "").casefold()


def _count(turn: Turn, text: str) -> int:
    """A method's count, read by the rule book (``data.answers.read_count``)."""
    return inputs.read_count(text, turn.language)


# --- METHOD, COUNT, NOTE ---------------------------------------------------------------


def _render_method(turn: Turn) -> Prompt:
    text = turn._(MSG_METHOD_ASK).format(
        entity=entities.entity_name(turn),
        number=_level(turn).number,
        limit=turn.number(answers.MAX_TEXT),
    )
    return Prompt(text)


def _typed_method(turn: Turn, text: str) -> Outcome:
    level = _level(turn)
    if answers.is_none_word(text):
        return _typed_none(turn, level)
    pending = {**_method_by_name(turn, _catalog_methods(turn, level), text), "level_id": level.id}
    for index, answer in enumerate(_answers(turn)):
        if _same_method(answer, pending):
            return _edit(turn, index, origin="level")
    turn.data["pending"] = {**pending, "from": "level"}
    turn.data["edit"] = None
    return ReportStep.COUNT


def _back_to_level(turn: Turn) -> Outcome:
    turn.data["pending"] = None
    turn.data["edit"] = None
    return ReportStep.LEVEL


def _pending(turn: Turn) -> dict[str, Any]:
    pending: dict[str, Any] | None = turn.data.get("pending")
    if not pending:
        raise Stale
    return pending


def _render_count(turn: Turn) -> Prompt:
    pending = _pending(turn)
    text = turn._(MSG_COUNT_ASK).format(
        method=_method_name(turn, pending),
        year=turn.year,
        range=formats.format_range(COUNT_RANGE, turn.language),
        example=turn.number(1200),
    )
    rows: list[list[Button | LinkButton]] = []
    last_year = pending.get("from") == "recount"
    if pending.get("count") is not None and last_year:  # last year's figure, named so
        current = turn.number(int(pending["count"]))
        text += "\n" + turn._(MSG_LAST_YEAR_COUNT).format(year=turn.year - 1, count=current)
        rows.append(
            [Button(turn._(MSG_SAME_AS_VALUE).format(year=turn.year - 1, value=current), "k")]
        )
    elif pending.get("count") is not None:
        current = turn.number(int(pending["count"]))
        text += "\n" + turn._(MSG_COUNT_NOW).format(count=current)
        rows.append([Button(turn._(MSG_KEEP_AS_IS).format(value=current), "k")])
    if last_year:
        queue = turn.data.get("recount") or []
        done = int(turn.data.get("recounted", 0)) + 1
        text = turn._(MSG_RECOUNT).format(n=done, total=len(queue)) + "\n" + text
    if turn.data.get("edit") is not None:
        label = MSG_CHANGE_NOTE if pending.get("note") else MSG_ADD_NOTE_SHORT
        rows.append([Button(turn._(label), "a")])
    return Prompt(text, rows)


def _typed_count(turn: Turn, text: str) -> Outcome:
    _pending(turn)["count"] = _count(turn, text)
    return _commit(turn)


def _keep_count(turn: Turn, press: Press) -> Outcome:
    if _pending(turn).get("count") is None:
        raise Stale
    return _commit(turn)


def _note_from_count(turn: Turn, press: Press) -> Outcome:
    index = turn.data.get("edit")
    if index is None:
        raise Stale
    turn.data["note_for"] = {"index": int(index), "from": _pending(turn).get("from", "level")}
    turn.data["pending"] = None
    turn.data["edit"] = None
    return ReportStep.NOTE


def _count_back(turn: Turn) -> Outcome:
    origin = _pending(turn).get("from")
    turn.data["pending"] = None
    turn.data["edit"] = None
    turn.data.pop("recount", None)
    return ReportStep.REVIEW if origin in ("review", "recount") else ReportStep.LEVEL


def _note_target(turn: Turn) -> tuple[int, dict[str, Any]]:
    target = turn.data.get("note_for") or {}
    index = target.get("index")
    answers = _answers(turn)
    if index is None or not 0 <= int(index) < len(answers) or answers[int(index)].get("none"):
        raise Stale
    return int(index), answers[int(index)]


def _render_note(turn: Turn) -> Prompt:
    _index, answer = _note_target(turn)
    text = turn._(MSG_NOTE_ASK).format(
        method=_method_name(turn, answer),
        count=turn.number(int(answer["count"])),
        limit=turn.number(answers.MAX_TEXT),
    )
    rows: list[list[Button | LinkButton]] = []
    if answer.get("note"):
        text += "\n" + turn._(MSG_NOTE_NOW).format(note=answer["note"])
        shown = ui.short_label(answer["note"], ui.NAME_IN_PAIR)
        rows.append([Button(turn._(MSG_KEEP_AS_IS).format(value=shown), "k")])
        rows.append([Button(turn._(MSG_NO_NOTE), "d")])
    return Prompt(text, rows)


def _typed_note(turn: Turn, text: str) -> Outcome:
    _index, answer = _note_target(turn)
    answer["note"] = inputs.clean_text(text)
    return _after_note(turn)


def _keep_note(turn: Turn, press: Press) -> Outcome:
    _note_target(turn)
    return _after_note(turn)


def _remove_note(turn: Turn, press: Press) -> Outcome:
    _index, answer = _note_target(turn)
    answer["note"] = None
    return _after_note(turn)


def _note_back(turn: Turn) -> Outcome:
    return _after_note(turn)


def _after_note(turn: Turn) -> Outcome:
    origin = (turn.data.pop("note_for", None) or {}).get("from")
    if origin == "recount":
        return _next_recount(turn)
    return ReportStep.REVIEW if origin == "review" else ReportStep.LEVEL


def _commit(turn: Turn) -> Outcome:
    """The method and its count are complete: put them among the draft's answers."""
    pending = dict(_pending(turn))
    origin = pending.pop("from", "level")
    answer = reports.ParticipationAnswer(
        level_id=int(pending["level_id"]),
        method_id=pending.get("method_id"),
        method_text=pending.get("method_text"),
        count=int(pending["count"]),
        note=pending.get("note"),
    ).to_dict()
    edit = turn.data.get("edit")
    _put(turn, answer, int(edit) if edit is not None else None)
    turn.data["pending"] = None
    turn.data["edit"] = None
    if origin == "recount":
        return _next_recount(turn)
    return ReportStep.REVIEW if origin == "review" else ReportStep.LEVEL


def _next_recount(turn: Turn) -> Outcome:
    """The next of last year's methods whose count is asked, or the summary."""
    queue: list[int] = turn.data.get("recount") or []
    asked = turn.data.setdefault("recounted", 0) + 1
    turn.data["recounted"] = asked
    if asked < len(queue):
        return _edit(turn, queue[asked], origin="recount")
    turn.data.pop("recount", None)
    turn.data.pop("recounted", None)
    return ReportStep.REVIEW


def _put(turn: Turn, answer: dict[str, Any], index: int | None = None) -> None:
    """Store an answer (replacing ``index``), then keep the list in level order.

    The review card numbers answers by their place in this list, so keeping it sorted keeps
    the numbers in reading order after any delete or add.
    """
    answers = _answers(turn)
    if index is not None and 0 <= index < len(answers):
        answers[index] = answer
    else:
        answers[:] = [
            a for a in answers if not (a["level_id"] == answer["level_id"] and a.get("none"))
        ]
        answers.append(answer)
    turn.data["answers"] = _sorted(turn, answers)


def _sorted(turn: Turn, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {level_id: n for n, level_id in enumerate(turn.data.get("levels") or [])}
    return sorted(answers, key=lambda a: order.get(a["level_id"], len(order)))


def _edit(turn: Turn, index: int, *, origin: str) -> Outcome:
    answer = _answers(turn)[index]
    turn.data["pending"] = {**answer, "from": origin}
    turn.data["edit"] = index
    turn.data["level_index"] = turn.data["levels"].index(answer["level_id"])
    return ReportStep.COUNT


# --- REVIEW ----------------------------------------------------------------------------


def _render_review(turn: Turn) -> Prompt:
    lang = turn.language
    lines = [
        turn._(MSG_REVIEW).format(
            entity=catalog.name_of(entities.chosen_entity(turn), lang), year=turn.year
        )
    ]
    answers = _answers(turn)
    edit_rows: list[list[Button | LinkButton]] = []
    shown = 0
    for level_id in turn.data["levels"]:
        level = turn.get(Level, level_id)
        assert level is not None
        lines.append("")
        lines.append(f"{level.number}. {catalog.name_of(level, lang)}")
        here = [(i, a) for i, a in enumerate(answers) if a["level_id"] == level_id]
        if not here:
            lines.append(f"   – {turn._(MSG_NOT_ANSWERED)}")
        for index, answer in here:
            if answer.get("none"):  # no number, no 🗑: a level button changes it (item 15)
                lines.append(f"   – {_answer_line(turn, answer)}")
                continue
            shown += 1
            lines.append(f"   {shown}) {_answer_line(turn, answer)}")
            # The buttons name what they change ("✎ T1 Kyselyt"), not a number (item 15).
            name = turn._(MSG_LEVEL_SHORT).format(number=level.number)
            level_names = [_method_name(turn, a) for _i, a in here]
            name += " " + ui.short_label(_method_name(turn, answer), ui.NAME_IN_PAIR, level_names)
            edit_rows.append([Button(f"✎ {name}", "e", index), Button(f"🗑 {name}", "d", index)])
    if turn.data.get("origin") == "last_year":
        lines.append("")
        lines.append(turn._(MSG_REVIEW_LAST_YEAR))
    lines.append("")
    lines.append(turn._(MSG_REVIEW_ASK))
    level_row: list[Button | LinkButton] = []
    for index, level_id in enumerate(turn.data["levels"]):
        level = turn.get(Level, level_id)
        number = level.number if level else index + 1
        level_row.append(Button(turn._(MSG_LEVEL_BUTTON).format(number=number), "l", index))
    rows: list[Row] = [*edit_rows, level_row, [Button(turn._(MSG_SAVE), "s")]]
    return Prompt("\n".join(lines), rows)


def _answer_index(turn: Turn, press: Press) -> int:
    index = press.int_arg()
    if index is None or index >= len(_answers(turn)):
        raise Stale
    return index


def _review_edit(turn: Turn, press: Press) -> Outcome:
    index = _answer_index(turn, press)
    if _answers(turn)[index].get("none"):
        raise Stale
    return _edit(turn, index, origin="review")


def _review_remove(turn: Turn, press: Press) -> Outcome:
    index = _answer_index(turn, press)
    if _answers(turn)[index].get("none"):
        raise Stale  # "no methods" is changed by its level's button
    del _answers(turn)[index]
    return ReportStep.REVIEW


def _review_level(turn: Turn, press: Press) -> Outcome:
    index = press.int_arg()
    if index is None or index >= len(turn.data["levels"]):
        raise Stale
    turn.data["level_index"] = index
    turn.data["review_return"] = True
    return ReportStep.LEVEL


def _review_back(turn: Turn) -> Outcome:
    turn.data["level_index"] = len(turn.data["levels"]) - 1
    turn.data["review_return"] = False
    return ReportStep.LEVEL


def _save(turn: Turn, press: Press) -> Outcome:
    """Store the entity's answers and drop the draft, in this update's one transaction."""
    answers = [reports.ParticipationAnswer(**a) for a in _answers(turn)]
    if not answers:
        raise Retry(MSG_NOTHING_TO_SAVE)
    year = turn.year
    entity = entities.chosen_entity(turn)
    try:
        reports.save_participation(
            turn.session,
            turn.person,
            year,
            entity.id,
            answers,
            based_on=entities.base(turn),
            # Read with the version when the entity was opened: nothing saved at it.
            nothing_saved=turn.data.get("origin") in NOTHING_SAVED_ORIGINS,
        )
    except reports.ReportLocked:
        return Done(turn._(entities.MSG_LOCKED).format(year=year), keep_draft=True)
    except reports.ChangedElsewhere:
        return _reopen_changed(turn)
    except ValueError as problem:
        raise Retry(MSG_INVALID_ANSWER, problem=str(problem)) from None
    answered = {a.level_id for a in answers}
    missing = [
        str(level.number) for level in catalog.levels(turn.session) if level.id not in answered
    ]
    parts = [turn._(MSG_SAVED).format(entity=catalog.name_of(entity, turn.language), year=year)]
    if missing:
        parts.append(turn._(MSG_STILL_MISSING).format(levels=", ".join(missing)))
    parts.append(turn._(MSG_SAVED_NEXT))
    entities.forget_kept(turn, entity.id)
    kept = entities.kept_entities(turn.data)
    if kept:  # other entities' unsaved answers stay in the draft
        turn.data = {"year": year, "seq": turn.data.get("seq", 0), "kept": turn.data["kept"]}
    return Done(
        "\n\n".join(parts),
        rows=[[LinkButton(turn._(MSG_REPORT_ANOTHER), START_DATA)]],
        toast=turn._(MSG_SAVED_TOAST),
        draft_step=ReportStep.ENTITY if kept else None,
    )


def _reopen_changed(turn: Turn) -> Outcome:
    """Saved elsewhere since the entity was opened: nothing was saved; the summary shows the
    answers saved now, and the notice lists the person's unsaved ones."""
    mine = []
    for answer in _answers(turn):
        level = turn.get(Level, answer["level_id"])
        mine.append(f"• {level.number if level else '?'}: {_answer_line(turn, answer)}")
    entities.changed_elsewhere(turn, mine)
    saved = reports.participation_for_year(turn.session, turn.year, int(turn.data["entity"]))
    turn.data.update(
        answers=_sorted(turn, _as_dicts(saved)),
        origin="saved" if saved else "new",
        pending=None,
        edit=None,
        review_return=False,
    )
    return ReportStep.REVIEW


# --- the flow --------------------------------------------------------------------------

FLOW = Flow(
    name="reporting",
    title=TITLE,
    prefix="rp",
    command="raportoi",
    start=_start,
    describe=_describe,
    guard=entities.guard_open_report,
    reads_progress=True,
    verify=entities.verify_entity,
    entry_data=(START_DATA, REPORT_CALLBACK),
    version=2,
    redirect=entities.open_what_is_missing,
    draft=ReportDraft,
)
FLOW.step(
    ReportStep.ENTITY,
    "E",
    render=_render_entity,
    help=HELP[ReportStep.ENTITY],
    counter=_counter,
    on_button={"s": _choose_entity},
    moves_in_place=True,
)
FLOW.step(
    ReportStep.PREFILL,
    "P",
    render=_render_prefill,
    help=HELP[ReportStep.PREFILL],
    counter=_counter,
    on_button={"y": _use_last_year, "m": _same_methods, "n": _start_empty},
    back=_back_to_entity,
    moves_in_place=True,
)
FLOW.step(
    ReportStep.LEVEL,
    "L",
    render=_render_level,
    help=HELP[ReportStep.LEVEL],
    counter=_counter,
    on_text=_typed_level,
    on_button={
        "m": _pick_method,
        "o": _other_method,
        "z": _no_methods,
        "a": _add_note,
        "f": _forward,
    },
    back=_level_back,
    moves_in_place=True,
)
FLOW.step(
    ReportStep.METHOD,
    "T",
    render=_render_method,
    help=HELP[ReportStep.METHOD],
    counter=_counter,
    on_text=_typed_method,
    back=_back_to_level,
    moves_in_place=True,
)
FLOW.step(
    ReportStep.COUNT,
    "C",
    render=_render_count,
    help=HELP[ReportStep.COUNT],
    counter=_counter,
    on_text=_typed_count,
    on_button={"k": _keep_count, "a": _note_from_count},
    back=_count_back,
    moves_in_place=True,
)
FLOW.step(
    ReportStep.NOTE,
    "N",
    render=_render_note,
    help=HELP[ReportStep.NOTE],
    counter=_counter,
    on_text=_typed_note,
    on_button={"k": _keep_note, "d": _remove_note},
    back=_note_back,
    moves_in_place=True,
)
FLOW.step(
    ReportStep.REVIEW,
    "V",
    render=_render_review,
    help=HELP[ReportStep.REVIEW],
    counter=_counter,
    on_button={"e": _review_edit, "d": _review_remove, "l": _review_level, "s": _save},
    back=_review_back,
    moves_in_place=True,
)

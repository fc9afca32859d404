"""/muokkaa: the division's saved answers, one service entity per page; change any stored
part of one, or delete it, always confirmed.

Steps (draft data in brackets)::

    LIST [page = entity] ──► MENU [entry] ──► VALUE [field] ──► CONFIRM [changes] ──► saved
                                 │  └─ a count typed on a method's card ──►│
                                 └──────────► DELETE ─────────────────────────────► deleted

Every page is one service entity, named on the page and on the buttons that lead to the
neighbouring entities; every entry's button names it (level and method with its count, or
the measurement type), never a position that shifts after a delete. The card shows every
stored part of the entry — for an NPS also the promoter, passive and detractor counts — and
every part can be changed: count and note; latest result, respondents, NPS, the P/N/D counts,
frequency, period, scale and the name of "Muu tapa". The confirmation lists each part that
changes, old → new, including the parts a change recomputes (NPS and respondents from
counts) or removes (the counts, when an NPS is typed over them): nothing goes unseen.

Each entry is named by kind and id and looked up again on every update through
``data.overview.entry_row``, which answers None for an entry that was deleted, belongs to
another division or to another round: forged and stale choices change nothing. The write
itself, with its access check, lock check, rule check and audit row, is ``data.reports`` /
``data.overview``.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable
from html import escape, unescape
from typing import Any, Final, TypeVar

from bot import ui
from bot.flow import entities, inputs
from bot.flow.codec import Press, parse_id
from bot.flow.engine import (
    MSG_KEEP_AS_IS,
    MSG_USE_BUTTONS,
    Button,
    Done,
    EngineDraft,
    Flow,
    Outcome,
    Prompt,
    Retry,
    Stale,
    Turn,
)
from bot.status import render
from bot.status.show import load_status_in
from data import answers, catalog, overview, reports
from data.limits import COUNT_RANGE, NPS_RANGE, RESPONDENTS_RANGE
from data.overview import EntryKind, EntryRow
from data.reports import SatisfactionAnswer
from i18n import N_, formats

F = TypeVar("F", bound=Callable[..., Any])


class EditDraft(EngineDraft, total=False):
    """The draft's data of /muokkaa; validated whenever it is read."""

    division: int  # the division the edit began in (re-checked on every update)
    page: int  # the service entity shown (index among those with answers)
    entry: dict[str, Any]  # {"kind": "p" | "s", "id"}: the entry being changed
    field: str  # Field: the part being changed
    changes: dict[str, Any]  # the typed change, waiting for the confirmation
    notice: str  # said once above the list ("Saved.")


class EditStep(enum.StrEnum):
    LIST = "list"
    MENU = "menu"
    VALUE = "value"
    CONFIRM = "confirm"
    DELETE = "delete"


class Field(enum.StrEnum):
    """What can be changed in an entry; the value is the short code used in buttons."""

    COUNT = "count"
    NOTE = "note"
    RESULT = "res"
    RESPONDENTS = "resp"
    NPS = "nps"
    COUNTS = "pnd"
    FREQUENCY = "freq"
    PERIOD = "per"
    SCALE = "scale"
    NAME = "name"


KIND_CODE: Final[dict[EntryKind, str]] = {"participation": "p", "satisfaction": "s"}
CODE_KIND: Final[dict[str, EntryKind]] = {v: k for k, v in KIND_CODE.items()}

TITLE = N_("Editing saved answers")
FIELD_BUTTONS: Final[dict[Field, str]] = {
    Field.COUNT: N_("Change the count"),
    Field.NOTE: N_("Change the note"),
    Field.RESULT: N_("Change the latest result"),
    Field.RESPONDENTS: N_("Change the respondents"),
    Field.NPS: N_("Change the NPS"),
    Field.COUNTS: N_("Change the promoter, passive and detractor counts"),
    Field.FREQUENCY: N_("Change the frequency"),
    Field.PERIOD: N_("Change the period"),
    Field.SCALE: N_("Change the scale"),
    Field.NAME: N_("Change the name of the method"),
}
FIELD_PROMPTS: Final[dict[Field, str]] = {
    Field.COUNT: N_("Type the new count: a whole number {range}, for example 12."),
    Field.NOTE: N_("Type the new note (at most {limit} characters)."),
    Field.RESULT: N_(
        'Type the latest result, for example "4,2" or "87 % satisfied" (at most {limit} '
        "characters)."
    ),
    Field.RESPONDENTS: N_("Type the number of respondents: a whole number {range}."),
    Field.NPS: N_("Type the NPS: a whole number {range}."),
    Field.COUNTS: N_(
        "Type the promoters, passives and detractors, for example “50 30 20”: the NPS and the "
        "respondents are computed from them."
    ),
    Field.FREQUENCY: N_("Choose how often results are collected, or type it in your own words."),
    Field.PERIOD: N_("Type the period of the latest result, for example “2025” or “1–6/2026”."),
    Field.SCALE: N_("Type the scale, for example “1–7”."),
    Field.NAME: N_("Type the name of the method as it should read in the report."),
}
#: Every stored part of a satisfaction answer, in the order the card shows them.
PARTS: Final[tuple[tuple[str, str], ...]] = (
    ("other_name", N_("Method")),
    ("scale", N_("Scale")),
    ("frequency", N_("Frequency")),
    ("nps", N_("NPS")),
    ("promoters", N_("Promoters")),
    ("passives", N_("Passives")),
    ("detractors", N_("Detractors")),
    ("respondents", N_("Respondents")),
    ("latest_result", N_("Latest result")),
    ("period", N_("Period")),
    ("note", N_("Note")),
)
NUMBER_PARTS: Final = frozenset({"promoters", "passives", "detractors", "respondents"})
MSG_NO_ENTRIES = N_(
    "There are no saved answers for {year}. Report with /raportoi and /tyytyvaisyys."
)
MSG_LIST = N_("Saved answers, {year}: {entity}")
MSG_LIST_ASK = N_("Choose the answer to change or delete.")
MSG_PAGE = N_("Service entity {page}/{pages}")
MSG_LEVEL_ENTRY = N_("Level {level} · {method}: {count}")
MSG_SATISFACTION_ENTRY = N_("Satisfaction · {type}")
MSG_PARTICIPATION_CARD = N_("Level {level}: {name}")
MSG_MENU = N_("Choose what to change, or delete the answer.")
MSG_MENU_COUNT = N_("Type a new count, or choose what to change, or delete the answer.")
MSG_REMOVED = N_("removed")
MSG_CHANGES = N_("These parts change:")
MSG_NO_CHANGE = N_("That is what is saved already: nothing changes.")
MSG_COUNTS_FORMAT = N_(
    "Type three whole numbers: promoters, passives and detractors, for example “50 30 20”."
)
MSG_REFUSED = N_("This cannot be saved: {problem}")
MSG_GONE = N_("This answer no longer exists.")
MSG_DONE = N_("Editing finished. /tila shows the status.")
MSG_SAVED = N_("Saved.")
MSG_DELETED = N_("Deleted.")
MSG_NOTHING_STORED = N_('Nothing is stored before you press "Save".')

HELP = {
    EditStep.LIST: N_(
        "Each page is one service entity of your division with its saved answers for this "
        "year. Choose the answer to change or delete; the buttons at the bottom go to the "
        "other service entities."
    ),
    EditStep.MENU: N_(
        "The card shows every stored part of the answer. Choose what to change, or delete "
        "it. On a method's card you can also type the new count straight away."
    ),
    EditStep.VALUE: N_(
        "Type the new value. “Keep as it is” leaves the answer unchanged; nothing is stored "
        "before you confirm."
    ),
    EditStep.CONFIRM: N_(
        "Check every part that changes, old → new. Save stores them at once; ‹ Back lets you "
        "type another value. Nothing is stored before you press Save."
    ),
    EditStep.DELETE: N_('"Yes, delete" deletes this answer for good; "‹ Back" keeps it.'),
}


def fields_of(row: EntryRow) -> list[Field]:
    """What the contact may change in this entry (nothing but delete for "not measured")."""
    if row.kind == "participation":
        return [Field.COUNT, Field.NOTE]
    answer = row.answer
    named = answer is not None and answer.other_name is not None
    if row.measurement_kind == "none":
        return []
    if row.measurement_kind == "nps":
        by_counts = row.has_nps_counts
        return [
            Field.COUNTS,
            Field.NPS,
            *([] if by_counts else [Field.RESPONDENTS]),
            Field.FREQUENCY,
            Field.PERIOD,
        ]
    scaled = row.measurement_kind == "scale" or named
    return [
        *([Field.NAME] if named else []),
        Field.RESULT,
        Field.RESPONDENTS,
        *([Field.SCALE] if scaled else []),
        Field.FREQUENCY,
        Field.PERIOD,
    ]


# --- reading what was typed --------------------------------------------------------------


_COUNT_SEPARATORS = re.compile(r"[,;/]+")


def _nps_counts(turn: Turn, text: str) -> tuple[int, int, int]:
    parts = [p for p in _COUNT_SEPARATORS.split(text) if p.strip()]
    if len(parts) != 3:
        parts = text.split()
    if len(parts) != 3 or any(p.isdigit() and len(p) > 1 and p.startswith("0") for p in parts):
        raise Retry(MSG_COUNTS_FORMAT)
    promoters, passives, detractors = (
        inputs.read(answers.read_nps_count, p, turn.language) for p in parts
    )
    return promoters, passives, detractors


def _frequency_change(text: str) -> dict[str, Any]:
    typed = inputs.clean_text(text)
    code = catalog.frequency_code(typed)
    if code is not None:
        return {"frequency": code, "frequency_text": None}
    return {"frequency": catalog.OTHER_FREQUENCY, "frequency_text": typed}


def _changes(turn: Turn, field: Field, text: str) -> dict[str, Any]:
    """The stored parts a typed value sets, including those it recomputes or removes."""
    if field is Field.COUNT:
        return {"count": inputs.read_count(text, turn.language)}
    if field is Field.NOTE:
        return {"note": inputs.clean_text(text)}
    if field is Field.RESPONDENTS:
        return {"respondents": inputs.read_respondents(text, turn.language)}
    if field is Field.NPS:
        nps = inputs.read_nps(text, turn.language)
        return {"nps": nps, "promoters": None, "passives": None, "detractors": None}
    if field is Field.COUNTS:
        promoters, passives, detractors = _nps_counts(turn, text)
        score, total = inputs.read(answers.nps_counts, None, promoters, passives, detractors, None)
        return {
            "promoters": promoters,
            "passives": passives,
            "detractors": detractors,
            "nps": score,
            "respondents": total,
        }
    if field is Field.FREQUENCY:
        return _frequency_change(text)
    if field is Field.SCALE:
        return {"scale": inputs.read(answers.read_scale, text)}
    if field is Field.NAME:
        return {"other_name": inputs.method_name(text)}
    key = {Field.RESULT: "latest_result", Field.PERIOD: "period"}[field]
    return {key: inputs.clean_text(text)}


def _checked(turn: Turn, row: EntryRow, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes if the rules accept the whole answer they make; else the same question
    again with the reason. Only the parts that really change are kept."""
    if row.kind == "participation":
        current = {"count": row.count, "note": row.note}
        return {k: v for k, v in changes.items() if current.get(k) != v}
    assert row.answer is not None
    old = row.answer.to_dict()
    try:
        reports.validate_satisfaction(turn.session, SatisfactionAnswer(**{**old, **changes}))
    except answers.AnswerProblem as problem:  # the rule book's reason, worded for the chat
        text = inputs.problem_error(problem).render(turn.language)
        raise Retry(MSG_REFUSED, problem=text) from None
    except ValueError as problem:
        render_problem = getattr(problem, "render", None)
        text = render_problem(turn.language) if callable(render_problem) else str(problem)
        raise Retry(MSG_REFUSED, problem=text) from None
    return {k: v for k, v in changes.items() if old.get(k) != v}


# --- showing an entry --------------------------------------------------------------------


def _part_text(turn: Turn, key: str, answer: dict[str, Any]) -> str:
    value = answer.get(key)
    if key == "frequency":
        value = catalog.frequency_name(value, answer.get("frequency_text"), turn.language) or None
    if value is None or value == "":
        return render.NONE_MARK
    if key == "nps":
        return formats.format_nps(int(value), turn.language)
    if key in NUMBER_PARTS:
        return turn.number(int(value))
    return escape(str(value))


def _shown_parts(row: EntryRow) -> list[tuple[str, str]]:
    """The parts of a satisfaction entry worth a line: those stored, and those it can have."""
    answer = row.answer.to_dict() if row.answer else {}
    kind = row.measurement_kind
    shown = []
    for key, label in PARTS:
        if answer.get(key) not in (None, "") or (
            key in ("frequency", "respondents", "period")
            or (key == "nps" and kind == "nps")
            or (key == "latest_result" and kind != "nps")
        ):
            shown.append((key, label))
    return shown


def _card(turn: Turn, row: EntryRow) -> str:
    """Every stored part of the entry, one per line (HTML)."""
    entity = escape(row.entity_label(turn.language))
    if row.kind == "participation":
        return "\n".join(
            [
                f"<b>{entity}</b> · "
                + turn._(MSG_PARTICIPATION_CARD).format(
                    level=row.level_number, name=escape(row.level_label(turn.language))
                ),
                turn._("Method: {method}").format(method=escape(row.method_label(turn.language))),
                turn._("Count: {count}").format(count=turn.number(row.count or 0)),
                turn._("Note: {note}").format(
                    note=escape(row.note) if row.note else render.NONE_MARK
                ),
            ]
        )
    lines = [
        f"<b>{entity}</b> · " + turn._("customer satisfaction"),
        turn._("Measured with: {type}").format(type=escape(row.measurement_label(turn.language))),
    ]
    if row.measurement_kind == "none":
        return "\n".join(lines)
    answer = row.answer.to_dict() if row.answer else {}
    for key, label in _shown_parts(row):
        lines.append(f"{turn._(label)}: {_part_text(turn, key, answer)}")
    return "\n".join(lines)


def _entry_label(turn: Turn, row: EntryRow, page: list[EntryRow]) -> str:
    """An entry's button: what it is, in words (no position, no entity); a name longer
    than a row is cut at a word, keeping what tells it from the page's other entries."""
    if row.kind == "participation":
        names = [r.method_label(turn.language) for r in page if r.kind == "participation"]
        return turn._(MSG_LEVEL_ENTRY).format(
            level=row.level_number,
            method=ui.short_label(row.method_label(turn.language), ui.NAME_IN_ROW, names),
            count=turn.number(row.count or 0),
        )
    names = [r.measurement_label(turn.language) for r in page if r.kind != "participation"]
    name = ui.short_label(row.measurement_label(turn.language), ui.NAME_IN_ROW, names)
    return turn._(MSG_SATISFACTION_ENTRY).format(type=name)


# --- the draft -------------------------------------------------------------------------


def _division(turn: Turn) -> int:
    return int(turn.data["division"])


def _entries(turn: Turn) -> list[EntryRow]:
    return overview.entry_rows(turn.session, turn.person, turn.year, _division(turn))


def _pages(rows: list[EntryRow]) -> list[list[EntryRow]]:
    """One page per service entity with saved answers, in catalog order."""
    pages: dict[int, list[EntryRow]] = {}
    for row in rows:
        pages.setdefault(row.service_entity_id, []).append(row)
    return list(pages.values())


def _entry(turn: Turn) -> EntryRow:
    """The entry the flow works on, fresh from the database; back to the list when gone."""
    chosen = turn.data.get("entry")
    row = None
    if chosen:
        row = overview.entry_row(
            turn.session, turn.person, turn.year, CODE_KIND[chosen["kind"]], int(chosen["id"])
        )
    if row is None:
        raise EntryGone
    return row


class EntryGone(Exception):
    """The chosen entry was deleted meanwhile (or never was the person's)."""


def _field(turn: Turn) -> Field:
    try:
        return Field(str(turn.data.get("field")))
    except ValueError:
        raise Stale from None


def _start(turn: Turn) -> Outcome:
    division = turn.person.division_id
    assert division is not None
    turn.data.update(division=division, page=0)
    return _list_or_done(turn)


def _list_or_done(turn: Turn, notice: str | None = None) -> Outcome:
    """Back to the list; with nothing left to edit the conversation ends, saying so."""
    if _entries(turn):
        if notice:
            turn.data["notice"] = notice
        return EditStep.LIST
    text = turn._(MSG_NO_ENTRIES).format(year=turn.year)
    return Done(f"✓ {turn._(notice)}\n\n{text}" if notice else text)


def _with_entry(handler: F) -> F:
    """Steps that act on the chosen entry: a vanished entry sends the person to the list."""

    def wrapper(turn: Turn, *args: Any) -> Outcome:
        try:
            return handler(turn, *args)
        except EntryGone:
            turn.alert = turn._(MSG_GONE)
            return _list_or_done(turn)

    return wrapper  # type: ignore[return-value]


def _shows_entry(render_step: Callable[[Turn], Prompt]) -> Callable[[Turn], Prompt]:
    """A question about the chosen entry; asked again after it vanished, it says so."""

    @functools.wraps(render_step)
    def wrapper(turn: Turn) -> Prompt:
        try:
            return render_step(turn)
        except EntryGone:
            return Prompt(f"{turn._(MSG_GONE)} /{FLOW.command}")

    return wrapper


def _counter(n: int, total: int = 4) -> Callable[[Turn], tuple[int, int]]:
    return lambda turn: (n, total)


# --- LIST ------------------------------------------------------------------------------


def _render_list(turn: Turn) -> Prompt:
    pages = _pages(_entries(turn))
    notice = turn.data.pop("notice", None)
    for key in ("entry", "field", "changes"):
        turn.data.pop(key, None)
    done = f"✓ {turn._(notice)}" if notice else None
    if not pages:  # only when asked again (/ohje) after the last entry went elsewhere
        return Prompt(turn._(MSG_NO_ENTRIES).format(year=turn.year), notice=done)
    page = min(max(int(turn.data.get("page", 0)), 0), len(pages) - 1)
    turn.data["page"] = page
    chunk = pages[page]
    entity = chunk[0].entity_label(turn.language)
    lines = [f"<b>{escape(turn._(MSG_LIST).format(year=turn.year, entity=entity))}</b>"]
    if len(pages) > 1:
        lines.append(turn._(MSG_PAGE).format(page=page + 1, pages=len(pages)))
    lines += ["", turn._(MSG_LIST_ASK)]
    buttons: list[list[Button]] = [
        [Button(_entry_label(turn, row, chunk), "p", _code(row))] for row in chunk
    ]
    names = [rows[0].entity_label(turn.language) for rows in pages]
    navigation = []
    if page > 0:
        name = ui.short_label(names[page - 1], ui.NAME_IN_PAIR, names)
        navigation.append(Button(f"‹ {name}", "g", page - 1))
    if page < len(pages) - 1:
        name = ui.short_label(names[page + 1], ui.NAME_IN_PAIR, names)
        navigation.append(Button(f"{name} ›", "g", page + 1))
    if navigation:
        buttons.append(navigation)
    buttons.append([Button(turn._("Stop editing"), "x")])
    return Prompt("\n".join(lines), list(buttons), notice=done)


def _code(row: EntryRow) -> str:
    return f"{KIND_CODE[row.kind]}{row.id}"


def _pick(turn: Turn, press: Press) -> Outcome:
    arg = press.arg or ""
    kind = CODE_KIND.get(arg[:1])
    entry_id = parse_id(arg[1:])
    if kind is None or entry_id is None:
        raise Stale
    if overview.entry_row(turn.session, turn.person, turn.year, kind, entry_id) is None:
        turn.alert = turn._(MSG_GONE)
        return _list_or_done(turn)
    turn.data["entry"] = {"kind": KIND_CODE[kind], "id": entry_id}
    return EditStep.MENU


def _page(turn: Turn, press: Press) -> Outcome:
    page = press.int_arg()
    if page is None:
        raise Stale
    turn.data["page"] = page
    return EditStep.LIST


def _stop(turn: Turn, press: Press) -> Outcome:
    return Done(turn._(MSG_DONE), replace=True)


# --- MENU ------------------------------------------------------------------------------


@_shows_entry
def _render_menu(turn: Turn) -> Prompt:
    row = _entry(turn)
    turn.data.pop("field", None)
    turn.data.pop("changes", None)
    buttons: list[list[Button]] = [
        [Button(turn._(FIELD_BUTTONS[field]), "f", field.value)] for field in fields_of(row)
    ]
    buttons.append([Button(turn._("Delete"), "d")])
    ask = MSG_MENU_COUNT if row.kind == "participation" else MSG_MENU
    return Prompt("\n".join([turn._(ask), "", _card(turn, row)]), list(buttons))


@_with_entry
def _choose_field(turn: Turn, press: Press) -> Outcome:
    row = _entry(turn)
    try:
        field = Field(str(press.arg))
    except ValueError:
        raise Stale from None
    if field not in fields_of(row):
        raise Stale
    turn.data["field"] = field.value
    return EditStep.VALUE


@_with_entry
def _typed_on_menu(turn: Turn, text: str) -> Outcome:
    """A count typed on a method's card: the same as "Change the count" and typing it."""
    row = _entry(turn)
    if row.kind != "participation":
        raise Retry(MSG_USE_BUTTONS)
    turn.data["field"] = Field.COUNT.value
    return _propose(turn, row, _changes(turn, Field.COUNT, text))


@_with_entry
def _ask_delete(turn: Turn, press: Press) -> Outcome:
    _entry(turn)
    return EditStep.DELETE


def _to_list(turn: Turn) -> Outcome:
    return EditStep.LIST


# --- VALUE -----------------------------------------------------------------------------


def _current(turn: Turn, row: EntryRow, field: Field) -> str:
    if row.kind == "participation":
        if field is Field.COUNT:
            return turn.number(row.count or 0)
        return escape(row.note) if row.note else render.NONE_MARK
    answer = row.answer.to_dict() if row.answer else {}
    if field is Field.COUNTS:
        return " / ".join(
            _part_text(turn, key, answer) for key in ("promoters", "passives", "detractors")
        )
    key = {
        Field.RESULT: "latest_result",
        Field.RESPONDENTS: "respondents",
        Field.NPS: "nps",
        Field.FREQUENCY: "frequency",
        Field.PERIOD: "period",
        Field.SCALE: "scale",
        Field.NAME: "other_name",
    }[field]
    return _part_text(turn, key, answer)


@_shows_entry
def _render_value(turn: Turn) -> Prompt:
    row = _entry(turn)
    field = _field(turn)
    current = _current(turn, row, field)
    span = {Field.COUNT: COUNT_RANGE, Field.NPS: NPS_RANGE}.get(field, RESPONDENTS_RANGE)
    prompt = turn._(FIELD_PROMPTS[field]).format(
        range=formats.format_range(span, turn.language), limit=turn.number(answers.MAX_TEXT)
    )
    lines = [_card(turn, row), "", prompt]
    buttons: list[list[Button]] = []
    if field is Field.FREQUENCY:
        buttons += [
            [Button(catalog.name_of_choice(item.name, turn.language), "q", item.code)]
            for item in catalog.frequencies()
        ]
    if field is Field.NOTE and row.note:
        buttons.append([Button(turn._("Remove the note"), "c")])
    shown = ui.short_label(unescape(current))  # the card's text is HTML, a button's plain
    buttons.append([Button(turn._(MSG_KEEP_AS_IS).format(value=shown), "k")])
    return Prompt("\n".join(lines), list(buttons))


def _propose(turn: Turn, row: EntryRow, changes: dict[str, Any]) -> Outcome:
    """The changes wait in the draft for the confirmation; none at all changes nothing."""
    changes = _checked(turn, row, changes)
    if not changes:
        turn.alert = turn._(MSG_NO_CHANGE)
        return EditStep.MENU
    turn.data["changes"] = changes
    return EditStep.CONFIRM


@_with_entry
def _typed_value(turn: Turn, text: str) -> Outcome:
    row = _entry(turn)
    return _propose(turn, row, _changes(turn, _field(turn), text))


@_with_entry
def _preset_frequency(turn: Turn, press: Press) -> Outcome:
    row = _entry(turn)
    if _field(turn) is not Field.FREQUENCY or press.arg not in {
        item.code for item in catalog.frequencies()
    }:
        raise Stale
    return _propose(turn, row, {"frequency": press.arg, "frequency_text": None})


@_with_entry
def _clear_note(turn: Turn, press: Press) -> Outcome:
    row = _entry(turn)
    if _field(turn) is not Field.NOTE:
        raise Stale
    return _propose(turn, row, {"note": None})


def _keep(turn: Turn, press: Press) -> Outcome:
    return EditStep.MENU


def _to_menu(turn: Turn) -> Outcome:
    return EditStep.MENU


# --- CONFIRM ---------------------------------------------------------------------------


def _change_lines(turn: Turn, row: EntryRow, changes: dict[str, Any]) -> list[str]:
    """Each part that changes, old → new; a part that goes is shown going."""
    if row.kind == "participation":
        old = {"count": row.count, "note": row.note}
        labels = {"count": N_("Count"), "note": N_("Note")}
        lines = []
        for key, label in labels.items():
            if key in changes:
                before = _participation_value(turn, key, old[key])
                after = _participation_value(turn, key, changes[key])
                lines.append(f"{turn._(label)}: {before} → <b>{after}</b>")
        return lines
    assert row.answer is not None
    old_answer = row.answer.to_dict()
    new_answer = {**old_answer, **changes}
    lines = []
    for key, label in PARTS:
        if key not in changes and not (key == "frequency" and "frequency_text" in changes):
            continue
        before = _part_text(turn, key, old_answer)
        after = _part_text(turn, key, new_answer)
        if before == after:
            continue
        if after == render.NONE_MARK:
            after = f"{render.NONE_MARK} ({turn._(MSG_REMOVED)})"
        lines.append(f"{turn._(label)}: {before} → <b>{after}</b>")
    return lines


def _participation_value(turn: Turn, key: str, value: object) -> str:
    if value is None or value == "":
        return render.NONE_MARK
    if key == "count":
        return turn.number(int(str(value)))
    return escape(str(value))


@_shows_entry
def _render_confirm(turn: Turn) -> Prompt:
    row = _entry(turn)
    changes = turn.data.get("changes") or {}
    lines = [
        _card(turn, row),
        "",
        turn._(MSG_CHANGES),
        *_change_lines(turn, row, changes),
        "",
        turn._(MSG_NOTHING_STORED),
    ]
    return Prompt("\n".join(lines), [[Button(turn._("Save"), "s")]])


@_with_entry
def _save(turn: Turn, press: Press) -> Outcome:
    changes = turn.data.get("changes")
    if not changes:
        raise Stale
    row = _entry(turn)
    try:
        _write(turn, row, changes)
    except reports.ReportLocked:
        return _locked(turn)
    except reports.AccessDenied:
        turn.alert = turn._(MSG_GONE)
        return _list_or_done(turn)
    except ValueError:
        raise Retry(N_("The value cannot be saved. Type it again.")) from None
    return _list_or_done(turn, MSG_SAVED)


def _write(turn: Turn, row: EntryRow, changes: dict[str, Any]) -> None:
    """The confirmed change, in this update's transaction with its audit row."""
    session, person = turn.session, turn.person
    if row.kind == "participation":
        reports.update_participation_entry(
            session,
            person,
            row.id,
            count=changes.get("count"),
            note=(changes["note"] or "") if "note" in changes else None,
        )
        return
    assert row.answer is not None
    answer = SatisfactionAnswer(**{**row.answer.to_dict(), **changes})
    overview.replace_satisfaction_entry(session, person, row.id, answer)


def _locked(turn: Turn) -> Done:
    status, _name = load_status_in(turn.session, turn.who, turn.year)
    return Done(render.locked_text(turn.who, status, turn.services.settings.tz))


def _to_value(turn: Turn) -> Outcome:
    turn.data.pop("changes", None)
    return EditStep.VALUE


# --- DELETE ----------------------------------------------------------------------------


@_shows_entry
def _render_delete(turn: Turn) -> Prompt:
    row = _entry(turn)
    lines = [turn._("Delete this answer?"), "", _card(turn, row)]
    if row.kind == "participation":
        lines += [
            "",
            turn._(
                "If it is the only method at this level, the level shows as not answered "
                "until you report it again."
            ),
        ]
    return Prompt("\n".join(lines), [[Button(turn._("Yes, delete"), "y")]])


@_with_entry
def _delete(turn: Turn, press: Press) -> Outcome:
    row = _entry(turn)
    try:
        reports.delete_entry(turn.session, turn.person, row.kind, row.id)
    except reports.ReportLocked:
        return _locked(turn)
    except reports.AccessDenied:
        turn.alert = turn._(MSG_GONE)
        return _list_or_done(turn)
    return _list_or_done(turn, MSG_DELETED)


# --- the flow --------------------------------------------------------------------------

FLOW = Flow(
    name="edit",
    title=TITLE,
    prefix="ed",
    command="muokkaa",
    start=_start,
    draft=EditDraft,
    **entities.DIVISION_ACTION,
)
FLOW.step(
    EditStep.LIST,
    "L",
    render=_render_list,
    help=HELP[EditStep.LIST],
    counter=_counter(1),
    on_button={"p": _pick, "g": _page, "x": _stop},
    moves_in_place=True,
)
FLOW.step(
    EditStep.MENU,
    "M",
    render=_render_menu,
    help=HELP[EditStep.MENU],
    counter=_counter(2),
    on_text=_typed_on_menu,
    on_button={"f": _choose_field, "d": _ask_delete},
    back=_to_list,
    moves_in_place=True,
)
FLOW.step(
    EditStep.VALUE,
    "V",
    render=_render_value,
    help=HELP[EditStep.VALUE],
    counter=_counter(3),
    on_text=_typed_value,
    on_button={"k": _keep, "c": _clear_note, "q": _preset_frequency},
    back=_to_menu,
    moves_in_place=True,
)
FLOW.step(
    EditStep.CONFIRM,
    "C",
    render=_render_confirm,
    help=HELP[EditStep.CONFIRM],
    counter=_counter(4),
    on_button={"s": _save},
    back=_to_value,
    moves_in_place=True,
)
FLOW.step(
    EditStep.DELETE,
    "D",
    render=_render_delete,
    help=HELP[EditStep.DELETE],
    counter=_counter(3),
    on_button={"y": _delete},
    back=_to_menu,
    moves_in_place=True,
)

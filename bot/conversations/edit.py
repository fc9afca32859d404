"""/muokkaa: list the division's saved answers, change or delete one, always confirmed.

Steps (draft data in brackets)::

    LIST [page] ──► MENU [entry] ──► VALUE [field] ──► CONFIRM [value] ──► saved, back to LIST
                         └──────────► DELETE ──────────────────────────► deleted, back to LIST

Each entry is named by kind and id and looked up again on every update through
``data.overview.entry_row``, which answers None for an entry that was deleted, belongs to
another division or to another round: forged and stale choices change nothing. The value
question shows the current value and offers to keep it; the typed value waits in the draft
until "Save". The write itself, with its access check, lock check and audit row, is
``data.reports`` / ``data.overview``.
"""

from __future__ import annotations

import enum
import math
from html import escape
from typing import Any, Final

from bot.flow import entities, inputs
from bot.flow.codec import Press, parse_id
from bot.flow.engine import Button, Done, Flow, Outcome, Prompt, Retry, Stale, Turn
from bot.status import render
from bot.status.show import load_status_in
from data import answers, overview, reports
from data.limits import COUNT_RANGE, NPS_RANGE, RESPONDENTS_RANGE
from data.overview import EntryKind, EntryRow
from i18n import N_, formats

PAGE_SIZE: Final = 8


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


KIND_CODE: Final[dict[EntryKind, str]] = {"participation": "p", "satisfaction": "s"}
CODE_KIND: Final[dict[str, EntryKind]] = {v: k for k, v in KIND_CODE.items()}

TITLE = N_("Editing saved answers")
FIELD_NAMES: Final[dict[Field, str]] = {
    Field.COUNT: N_("Count"),
    Field.NOTE: N_("Note"),
    Field.RESULT: N_("Latest result"),
    Field.RESPONDENTS: N_("Respondents"),
    Field.NPS: N_("NPS"),
}
FIELD_BUTTONS: Final[dict[Field, str]] = {
    Field.COUNT: N_("Change the count"),
    Field.NOTE: N_("Change the note"),
    Field.RESULT: N_("Change the latest result"),
    Field.RESPONDENTS: N_("Change the respondents"),
    Field.NPS: N_("Change the NPS"),
}
FIELD_PROMPTS: Final[dict[Field, str]] = {
    Field.COUNT: N_("Type the new count: a whole number {range}, for example 12."),
    Field.NOTE: N_("Type the new note (at most 300 characters)."),
    Field.RESULT: N_(
        'Type the latest result, for example "4,2" or "87 % satisfied" (at most 300 characters).'
    ),
    Field.RESPONDENTS: N_("Type the number of respondents as a whole number."),
    Field.NPS: N_("Type the NPS: a whole number {range}."),
}
DROPS_NPS_COUNTS: Final = frozenset({Field.NPS, Field.RESPONDENTS})
MSG_NO_ENTRIES = N_(
    "There are no saved answers for {year}. Report with /raportoi and /tyytyvaisyys."
)
MSG_GONE = N_("This answer no longer exists.")
MSG_DONE = N_("Editing finished. /tila shows the status.")
MSG_SAVED = N_("Saved.")
MSG_DELETED = N_("Deleted.")
MSG_KEEP = N_("Keep as it is")

HELP = {
    EditStep.LIST: N_(
        "Choose the answer to change or delete. The list shows every saved answer of your "
        "division for this year."
    ),
    EditStep.MENU: N_("Choose what to change in this answer, or delete it."),
    EditStep.VALUE: N_(
        "Type the new value. “Keep as it is” leaves the answer unchanged; nothing is stored "
        "before you confirm."
    ),
    EditStep.CONFIRM: N_(
        'Check the change. "Save" stores it at once; "‹ Back" lets you type another value. '
        'Nothing is stored before you press "Save".'
    ),
    EditStep.DELETE: N_('"Yes, delete" deletes this answer for good; "‹ Back" keeps it.'),
}


def fields_of(row: EntryRow) -> list[Field]:
    """What the contact may change in this entry (nothing but delete for "not measured")."""
    if row.kind == "participation":
        return [Field.COUNT, Field.NOTE]
    if row.measurement_kind == "nps":
        return [Field.NPS, Field.RESPONDENTS, Field.RESULT]
    if row.measurement_kind == "none":
        return []
    return [Field.RESULT, Field.RESPONDENTS]


def current_value(row: EntryRow, field: Field) -> int | str | None:
    return {
        Field.COUNT: row.count,
        Field.NOTE: row.note,
        Field.RESULT: row.latest_result,
        Field.RESPONDENTS: row.respondents,
        Field.NPS: row.nps,
    }[field]


def _rule_range(turn: Turn, field: Field) -> str:
    """The range the rule book allows for a field, as every message writes it."""
    span = {Field.COUNT: COUNT_RANGE, Field.NPS: NPS_RANGE}.get(field, RESPONDENTS_RANGE)
    return formats.format_range(span, turn.language)


def _parse(turn: Turn, field: Field, text: str) -> int | str:
    """The value typed, read by the rule book (``data.answers``) as the chat and Excel do."""
    if field is Field.COUNT:
        return inputs.read_count(text, turn.language)
    if field is Field.RESPONDENTS:
        return inputs.read_respondents(text, turn.language)
    if field is Field.NPS:
        return inputs.read_nps(text, turn.language)
    return inputs.clean_text(text)


def _format(turn: Turn, field: Field, value: int | str | None) -> str:
    if value is None or value == "":
        return render.NONE_MARK
    if isinstance(value, str):
        return escape(value)
    if field is Field.NPS:
        return formats.format_nps(value, turn.language)
    return turn.number(value)


# --- the draft -------------------------------------------------------------------------


def _division(turn: Turn) -> int:
    return int(turn.data["division"])


def _entries(turn: Turn) -> list[EntryRow]:
    return overview.entry_rows(turn.session, turn.person, turn.year, _division(turn))


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
        return Field(turn.data.get("field"))
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


def _with_entry(handler: Any) -> Any:
    """Steps that act on the chosen entry: a vanished entry sends the person to the list."""

    def wrapper(turn: Turn, *args: Any) -> Outcome:
        try:
            return handler(turn, *args)  # type: ignore[no-any-return]
        except EntryGone:
            turn.alert = turn._(MSG_GONE)
            return _list_or_done(turn)

    return wrapper


def _shows_entry(render_step: Any) -> Any:
    """A question about the chosen entry; asked again after it vanished, it says so."""

    def wrapper(turn: Turn) -> Prompt:
        try:
            return render_step(turn)  # type: ignore[no-any-return]
        except EntryGone:
            return Prompt(f"{turn._(MSG_GONE)} /{FLOW.command}")

    return wrapper


def _counter(n: int, total: int = 4) -> Any:
    return lambda turn: (n, total)


# --- LIST ------------------------------------------------------------------------------


def _render_list(turn: Turn) -> Prompt:
    rows = _entries(turn)
    notice = turn.data.pop("notice", None)
    turn.data.pop("entry", None)
    turn.data.pop("field", None)
    turn.data.pop("value", None)
    done = f"✓ {turn._(notice)}" if notice else None
    if not rows:  # only when asked again (/ohje) after the last entry went elsewhere
        return Prompt(turn._(MSG_NO_ENTRIES).format(year=turn.year), notice=done)
    pages = math.ceil(len(rows) / PAGE_SIZE)
    page = min(max(int(turn.data.get("page", 0)), 0), pages - 1)
    turn.data["page"] = page
    first = page * PAGE_SIZE
    chunk = rows[first : first + PAGE_SIZE]
    buttons: list[list[Button]] = [
        [Button(render.entry_button(turn.who, row, first + i + 1), "p", _code(row))]
        for i, row in enumerate(chunk)
    ]
    navigation = []
    if page > 0:
        navigation.append(Button(turn._("‹ Previous"), "g", page - 1))
    if page < pages - 1:
        navigation.append(Button(turn._("Next ›"), "g", page + 1))
    if navigation:
        buttons.append(navigation)
    buttons.append([Button(turn._("Stop editing"), "x")])
    text = render.list_text(turn.who, chunk, turn.year, page, pages, first + 1)
    return Prompt(text, buttons, notice=done)  # type: ignore[arg-type]


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
    turn.data.pop("value", None)
    buttons: list[list[Button]] = [
        [Button(turn._(FIELD_BUTTONS[field]), "f", field.value)] for field in fields_of(row)
    ]
    buttons.append([Button(turn._("Delete"), "d")])
    text = "\n".join(
        [
            turn._("Choose what to change, or delete the answer."),
            "",
            render.entry_card(turn.who, row),
        ]
    )
    return Prompt(text, buttons)  # type: ignore[arg-type]


@_with_entry
def _choose_field(turn: Turn, press: Press) -> Outcome:
    row = _entry(turn)
    try:
        field = Field(press.arg)
    except ValueError:
        raise Stale from None
    if field not in fields_of(row):
        raise Stale
    turn.data["field"] = field.value
    return EditStep.VALUE


@_with_entry
def _ask_delete(turn: Turn, press: Press) -> Outcome:
    _entry(turn)
    return EditStep.DELETE


def _to_list(turn: Turn) -> Outcome:
    return EditStep.LIST


# --- VALUE -----------------------------------------------------------------------------


@_shows_entry
def _render_value(turn: Turn) -> Prompt:
    row = _entry(turn)
    field = _field(turn)
    current = _format(turn, field, current_value(row, field))
    lines = [
        render.entry_summary(turn.who, row),
        turn._("{field} now: {value}").format(field=turn._(FIELD_NAMES[field]), value=current),
        "",
    ]
    if field in DROPS_NPS_COUNTS and row.has_nps_counts:
        lines.append(
            turn._(
                "The promoter, passive and detractor counts saved with this answer will be "
                "removed, because they would no longer match."
            )
        )
    lines.append(turn._(FIELD_PROMPTS[field]).format(range=_rule_range(turn, field)))
    buttons = [[Button(turn._(MSG_KEEP), "k")]]
    if field is Field.NOTE and row.note:
        buttons.insert(0, [Button(turn._("Remove the note"), "c")])
    return Prompt("\n".join(lines), buttons)  # type: ignore[arg-type]


@_with_entry
def _typed_value(turn: Turn, text: str) -> Outcome:
    _entry(turn)
    turn.data["value"] = _parse(turn, _field(turn), text)
    return EditStep.CONFIRM


@_with_entry
def _clear_note(turn: Turn, press: Press) -> Outcome:
    _entry(turn)
    if _field(turn) is not Field.NOTE:
        raise Stale
    turn.data["value"] = None
    return EditStep.CONFIRM


def _keep(turn: Turn, press: Press) -> Outcome:
    return EditStep.MENU


def _to_menu(turn: Turn) -> Outcome:
    return EditStep.MENU


# --- CONFIRM ---------------------------------------------------------------------------


@_shows_entry
def _render_confirm(turn: Turn) -> Prompt:
    row = _entry(turn)
    field = _field(turn)
    value = turn.data.get("value")
    text = "\n".join(
        [
            render.entry_summary(turn.who, row),
            f"{turn._(FIELD_NAMES[field])}: {_format(turn, field, current_value(row, field))}"
            f" → <b>{_format(turn, field, value)}</b>",
            "",
            turn._('Nothing is stored before you press "Save".'),
        ]
    )
    return Prompt(text, [[Button(turn._("Save"), "s")]])


@_with_entry
def _save(turn: Turn, press: Press) -> Outcome:
    if "value" not in turn.data:
        raise Stale
    row = _entry(turn)
    field = _field(turn)
    value = turn.data["value"]
    try:
        _write(turn, row, field, value)
    except reports.ReportLocked:
        return _locked(turn)
    except reports.AccessDenied:
        turn.alert = turn._(MSG_GONE)
        return _list_or_done(turn)
    except answers.AnswerProblem as problem:
        raise inputs.problem_error(problem) from None
    except ValueError:
        raise Retry(N_("The value cannot be saved. Type it again.")) from None
    return _list_or_done(turn, MSG_SAVED)


def _write(turn: Turn, row: EntryRow, field: Field, value: object) -> None:
    """The confirmed change, in this update's transaction with its audit row."""
    session, person = turn.session, turn.person
    if row.kind == "participation":
        if field is Field.COUNT:
            assert isinstance(value, int)
            reports.update_participation_entry(session, person, row.id, count=value)
        else:
            reports.update_participation_entry(
                session, person, row.id, note=str(value) if value else ""
            )
    elif field is Field.RESULT:
        overview.update_satisfaction_entry(
            session, person, row.id, latest_result=str(value) if value else None
        )
    elif field is Field.RESPONDENTS:
        assert isinstance(value, int)
        overview.update_satisfaction_entry(session, person, row.id, respondents=value)
    else:
        assert isinstance(value, int)
        overview.update_satisfaction_entry(session, person, row.id, nps=value)


def _locked(turn: Turn) -> Done:
    status, _name = load_status_in(turn.session, turn.who, turn.year)
    return Done(render.locked_text(turn.who, status, turn.services.settings.tz))


def _to_value(turn: Turn) -> Outcome:
    turn.data.pop("value", None)
    return EditStep.VALUE


# --- DELETE ----------------------------------------------------------------------------


@_shows_entry
def _render_delete(turn: Turn) -> Prompt:
    row = _entry(turn)
    lines = [turn._("Delete this answer?"), "", render.entry_card(turn.who, row)]
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
    **entities.DIVISION_ACTION,
)
FLOW.step(
    EditStep.LIST,
    "L",
    render=_render_list,
    help=HELP[EditStep.LIST],
    counter=_counter(1),
    on_button={"p": _pick, "g": _page, "x": _stop},
)
FLOW.step(
    EditStep.MENU,
    "M",
    render=_render_menu,
    help=HELP[EditStep.MENU],
    counter=_counter(2),
    on_button={"f": _choose_field, "d": _ask_delete},
    back=_to_list,
)
FLOW.step(
    EditStep.VALUE,
    "V",
    render=_render_value,
    help=HELP[EditStep.VALUE],
    counter=_counter(3),
    on_text=_typed_value,
    on_button={"k": _keep, "c": _clear_note},
    back=_to_menu,
)
FLOW.step(
    EditStep.CONFIRM,
    "C",
    render=_render_confirm,
    help=HELP[EditStep.CONFIRM],
    counter=_counter(4),
    on_button={"s": _save},
    back=_to_value,
)
FLOW.step(
    EditStep.DELETE,
    "D",
    render=_render_delete,
    help=HELP[EditStep.DELETE],
    counter=_counter(3),
    on_button={"y": _delete},
    back=_to_menu,
)

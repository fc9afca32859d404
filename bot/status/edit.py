"""/muokkaa: list the division's saved answers, change or delete one, always confirmed.

Steps: choose an answer (paged list) → choose what to change or delete → type the new
value → confirm. Each button names the entry by kind and id; the entry is looked up again
on every press through ``data.overview.entry_row``, which answers None for an entry that was
deleted, belongs to another division or to another round, so forged and stale buttons
change nothing. The typed value waits in the flow state until "Save"; the write itself,
with its access check, lock check and audit row, is ``data.reports`` /
``data.overview``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.access import caller, refuse
from bot.status import inputs, render, steps
from bot.status.flow import (
    END,
    NO_LONGER_VALID,
    Turn,
    answer_alert,
    begin,
    remember,
    send,
    show,
    show_after_save,
    step,
)
from bot.status.show import load_status
from bot.status.steps import ASK_STEP, CODE_KIND, Field, Step
from core.services import services
from data import overview, people, reports
from data.db import transaction
from data.models import ReportState
from data.overview import EntryKind, EntryRow
from i18n import N_

PAGE_SIZE: Final = 8

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
    Field.COUNT: N_("Type the new count: a whole number from 0 to 100 000, for example 1 200."),
    Field.NOTE: N_("Type the new note (at most 300 characters)."),
    Field.RESULT: N_(
        'Type the latest result, for example "4,2" or "87 % satisfied" (at most 300 characters).'
    ),
    Field.RESPONDENTS: N_("Type the number of respondents as a whole number."),
    Field.NPS: N_("Type the NPS: a whole number from -100 to 100."),
}
PARSERS: Final[dict[Field, Callable[[str], int | str]]] = {
    Field.COUNT: inputs.parse_count,
    Field.NOTE: inputs.clean_text,
    Field.RESULT: inputs.clean_text,
    Field.RESPONDENTS: inputs.parse_respondents,
    Field.NPS: inputs.parse_nps,
}
DROPS_NPS_COUNTS: Final = frozenset({Field.NPS, Field.RESPONDENTS})

BACK = N_("← Back")
BUTTONS_ONLY = N_("Please answer with the buttons.")


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


def _format(turn: Turn, field: Field, value: int | str | None) -> str:
    if value is None or value == "":
        return render.NONE_MARK
    if isinstance(value, str):
        return escape(value)
    if field is Field.NPS:
        return str(value)
    return render.number(value, turn.who.language)


# --- loading ---------------------------------------------------------------------------


def _rows(turn: Turn) -> list[EntryRow]:
    assert turn.who.person is not None
    with transaction(turn.svc.sessions) as session:
        return overview.entry_rows(session, turn.who.person, turn.year, turn.division_id)


def _row(turn: Turn, kind: EntryKind, entry_id: int) -> EntryRow | None:
    assert turn.who.person is not None
    with transaction(turn.svc.sessions) as session:
        return overview.entry_row(session, turn.who.person, turn.year, kind, entry_id)


def _chosen(turn: Turn) -> tuple[EntryKind, int] | None:
    entry = turn.flow.get("entry")
    if not entry:
        return None
    return entry["kind"], int(entry["id"])


def _pressed(context: ContextTypes.DEFAULT_TYPE) -> tuple[EntryKind, int]:
    assert context.match is not None
    return CODE_KIND[context.match["kind"]], int(context.match["id"])


def _matches_chosen(context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> bool:
    """The pressed button names the entry this flow is working on (not a forged id)."""
    return _chosen(turn) == _pressed(context)


# --- the list --------------------------------------------------------------------------


async def _show_list(
    update: Update, turn: Turn, *, notice: str | None = None, answered: bool = False
) -> object:
    rows = _rows(turn)
    turn.flow.pop("entry", None)
    turn.flow.pop("field", None)
    turn.flow.pop("value", None)
    if not rows:
        text = turn._(
            "There are no saved answers for {year}. Report with /raportoi and /tyytyvaisyys."
        ).format(year=turn.year)
        await show_after_save(update, f"{notice}\n\n{text}" if notice else text, answered=answered)
        return END
    pages = math.ceil(len(rows) / PAGE_SIZE)
    page = min(max(int(turn.flow.get("page", 0)), 0), pages - 1)
    turn.flow["page"] = page
    first = page * PAGE_SIZE
    chunk = rows[first : first + PAGE_SIZE]
    keyboard = [
        [
            InlineKeyboardButton(
                render.entry_button(turn.who, row, first + i + 1),
                callback_data=steps.list_pick(row.kind, row.id),
            )
        ]
        for i, row in enumerate(chunk)
    ]
    navigation = []
    if page > 0:
        navigation.append(
            InlineKeyboardButton(turn._("‹ Previous"), callback_data=steps.list_page(page - 1))
        )
    if page < pages - 1:
        navigation.append(
            InlineKeyboardButton(turn._("Next ›"), callback_data=steps.list_page(page + 1))
        )
    if navigation:
        keyboard.append(navigation)
    keyboard.append([InlineKeyboardButton(turn._("Stop editing"), callback_data=steps.list_done())])
    text = render.list_text(turn.who, chunk, turn.year, page, pages, first + 1)
    if notice:
        text = f"{notice}\n\n{text}"
    await show_after_save(update, text, InlineKeyboardMarkup(keyboard), answered=answered)
    return Step.CHOOSE_ENTRY


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/muokkaa (also restarts a running /muokkaa or /valmis)."""
    who = caller(update, context)
    svc = services(context)
    turn = begin(context, who, "edit", svc.current_year())
    if turn is None:
        await refuse(update, who)
        return END
    status, _name = load_status(svc, who, turn.year)
    if status.state is ReportState.SUBMITTED:
        await send(update, render.locked_text(who, status, svc.settings.tz))
        return remember(turn, END)
    turn.flow["page"] = 0
    return remember(turn, await _show_list(update, turn))


@step
async def turn_page(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    assert context.match is not None
    turn.flow["page"] = int(context.match["page"])
    return await _show_list(update, turn)


@step
async def done(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    await show(update, turn._("Editing finished. /tila shows the status."))
    return END


@step
async def pick(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    kind, entry_id = _pressed(context)
    row = _row(turn, kind, entry_id)
    if row is None:
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    turn.flow["entry"] = {"kind": kind, "id": entry_id}
    return await _show_menu(update, turn, row)


# --- one entry -------------------------------------------------------------------------


async def _show_menu(
    update: Update, turn: Turn, row: EntryRow, *, new_message: bool = False
) -> object:
    turn.flow.pop("field", None)
    turn.flow.pop("value", None)
    keyboard = [
        [
            InlineKeyboardButton(
                turn._(FIELD_BUTTONS[field]),
                callback_data=steps.menu_field(field, row.kind, row.id),
            )
        ]
        for field in fields_of(row)
    ]
    keyboard.append(
        [InlineKeyboardButton(turn._("Delete"), callback_data=steps.menu_delete(row.kind, row.id))]
    )
    keyboard.append([InlineKeyboardButton(turn._(BACK), callback_data=steps.menu_back())])
    text = "\n".join(
        [
            render.step_line(turn.who, 2, 4)
            + " – "
            + turn._("choose what to change, or delete the answer."),
            "",
            render.entry_card(turn.who, row),
        ]
    )
    markup = InlineKeyboardMarkup(keyboard)
    if new_message:
        await send(update, text, markup)
    else:
        await show(update, text, markup)
    return Step.ENTRY_MENU


def _current_row(turn: Turn) -> EntryRow | None:
    """The entry the flow works on, fresh from the database (None: it is gone)."""
    chosen = _chosen(turn)
    return _row(turn, *chosen) if chosen else None


async def _gone(update: Update, turn: Turn) -> object:
    """The chosen entry was deleted meanwhile (or never was ours): back to the list."""
    await answer_alert(update, turn._("This answer no longer exists."))
    return await _show_list(update, turn, answered=True)


@step
async def back_to_list(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    return await _show_list(update, turn)


@step
async def choose_field(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    assert context.match is not None
    if not _matches_chosen(context, turn):
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    try:
        field = Field(context.match["field"])
    except ValueError:
        field = None
    if field is None or field not in fields_of(row):
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    turn.flow["field"] = field.value
    return await _ask(update, turn, row, field)


async def _ask(
    update: Update,
    turn: Turn,
    row: EntryRow,
    field: Field,
    *,
    problem: str | None = None,
) -> object:
    """The value question; after a bad answer, the explanation first and a new message."""
    lines = [
        render.step_line(turn.who, 3, 4) + " – " + turn._("the new value."),
        "",
        render.entry_summary(turn.who, row),
        turn._("{field} now: {value}").format(
            field=turn._(FIELD_NAMES[field]),
            value=_format(turn, field, current_value(row, field)),
        ),
        "",
    ]
    if field in DROPS_NPS_COUNTS and row.has_nps_counts:
        lines.append(
            turn._(
                "The promoter, passive and detractor counts saved with this answer will be "
                "removed, because they would no longer match."
            )
        )
    lines.append(turn._(FIELD_PROMPTS[field]))
    keyboard = [[InlineKeyboardButton(turn._(BACK), callback_data=steps.ask_back())]]
    if field is Field.NOTE and row.note:
        keyboard.insert(
            0,
            [
                InlineKeyboardButton(
                    turn._("Remove the note"), callback_data=steps.ask_clear(row.kind, row.id)
                )
            ],
        )
    text = "\n".join(lines)
    if problem:
        await send(update, f"{problem}\n\n{text}", InlineKeyboardMarkup(keyboard))
    else:
        await show(update, text, InlineKeyboardMarkup(keyboard))
    return ASK_STEP[field]


@step
async def typed_value(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    assert update.effective_message is not None
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    if "field" not in turn.flow:
        return await _show_menu(update, turn, row, new_message=True)
    field = Field(turn.flow["field"])
    try:
        value = PARSERS[field](update.effective_message.text or "")
    except inputs.InvalidInput as problem:
        explanation = turn._(problem.message).format(**problem.params)
        return await _ask(update, turn, row, field, problem=explanation)
    turn.flow["value"] = value
    return await _confirm_change(update, turn, row, field, value)


@step
async def clear_note(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    if not _matches_chosen(context, turn) or turn.flow.get("field") != Field.NOTE.value:
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    turn.flow["value"] = None
    return await _confirm_change(update, turn, row, Field.NOTE, None)


@step
async def back_to_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    return await _show_menu(update, turn, row)


# --- confirming ------------------------------------------------------------------------


async def _confirm_change(
    update: Update, turn: Turn, row: EntryRow, field: Field, value: int | str | None
) -> object:
    text = "\n".join(
        [
            render.step_line(turn.who, 4, 4) + " – " + turn._("check the change."),
            "",
            render.entry_summary(turn.who, row),
            f"{turn._(FIELD_NAMES[field])}: {_format(turn, field, current_value(row, field))}"
            f" → <b>{_format(turn, field, value)}</b>",
            "",
            turn._('Nothing is stored before you press "Save".'),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    turn._("Save"), callback_data=steps.change_save(row.kind, row.id)
                )
            ],
            [InlineKeyboardButton(turn._(BACK), callback_data=steps.change_back())],
        ]
    )
    await show(update, text, keyboard)
    return Step.CONFIRM_CHANGE


@step
async def back_to_value(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    turn.flow.pop("value", None)
    return await _ask(update, turn, row, Field(turn.flow["field"]))


def _write(turn: Turn, kind: EntryKind, entry_id: int, field: Field, value: object) -> None:
    """The confirmed change, in one transaction with its audit row."""
    with transaction(turn.svc.sessions) as session:
        person = people.active_person(session, turn.telegram_user_id)
        if person is None:
            raise reports.AccessDenied("no longer an active person")
        if kind == "participation":
            if field is Field.COUNT:
                assert isinstance(value, int)
                reports.update_participation_entry(session, person, entry_id, count=value)
            else:
                reports.update_participation_entry(
                    session, person, entry_id, note=str(value) if value else ""
                )
        elif field is Field.RESULT:
            overview.update_satisfaction_entry(
                session, person, entry_id, latest_result=str(value) if value else None
            )
        elif field is Field.RESPONDENTS:
            assert isinstance(value, int)
            overview.update_satisfaction_entry(session, person, entry_id, respondents=value)
        else:
            assert isinstance(value, int)
            overview.update_satisfaction_entry(session, person, entry_id, nps=value)


async def _locked(update: Update, turn: Turn) -> object:
    status, _name = load_status(turn.svc, turn.who, turn.year)
    await show(update, render.locked_text(turn.who, status, turn.svc.settings.tz))
    return END


@step
async def save(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    if not _matches_chosen(context, turn) or "value" not in turn.flow:
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    kind, entry_id = _pressed(context)
    field = Field(turn.flow["field"])
    try:
        _write(turn, kind, entry_id, field, turn.flow["value"])
    except reports.ReportLocked:
        return await _locked(update, turn)
    except reports.AccessDenied:
        await answer_alert(update, turn._("This answer no longer exists."))
        return await _show_list(update, turn, answered=True)
    except ValueError:
        assert update.callback_query is not None
        await update.callback_query.answer()
        row = _current_row(turn)
        if row is None:
            return await _gone(update, turn)
        problem = turn._("The value cannot be saved. Type it again.")
        return await _ask(update, turn, row, field, problem=problem)
    return await _show_list(update, turn, notice="✓ " + turn._("Saved."))


@step
async def ask_delete(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    if not _matches_chosen(context, turn):
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    return await _confirm_delete(update, turn, row)


async def _confirm_delete(
    update: Update, turn: Turn, row: EntryRow, *, new_message: bool = False
) -> object:
    lines = [
        render.step_line(turn.who, 3, 3) + " – " + turn._("delete this answer?"),
        "",
        render.entry_card(turn.who, row),
    ]
    if row.kind == "participation":
        lines += [
            "",
            turn._(
                "If it is the only method at this level, the level shows as not answered "
                "until you report it again."
            ),
        ]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    turn._("Yes, delete"), callback_data=steps.delete_yes(row.kind, row.id)
                )
            ],
            [InlineKeyboardButton(turn._(BACK), callback_data=steps.delete_back())],
        ]
    )
    if new_message:
        await send(update, "\n".join(lines), keyboard)
    else:
        await show(update, "\n".join(lines), keyboard)
    return Step.CONFIRM_DELETE


@step
async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    if not _matches_chosen(context, turn):
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return None
    kind, entry_id = _pressed(context)
    try:
        with transaction(turn.svc.sessions) as session:
            person = people.active_person(session, turn.telegram_user_id)
            if person is None:
                raise reports.AccessDenied("no longer an active person")
            reports.delete_entry(session, person, kind, entry_id)
    except reports.ReportLocked:
        return await _locked(update, turn)
    except reports.AccessDenied:
        await answer_alert(update, turn._("This answer no longer exists."))
        return await _show_list(update, turn, answered=True)
    return await _show_list(update, turn, notice="✓ " + turn._("Deleted."))


# --- typed text where a button is expected ---------------------------------------------


@step
async def use_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    """Say that this step is answered with buttons, and ask the same question again."""
    await send(update, turn._(BUTTONS_ONLY))
    current = turn.flow.get("step")
    if current == Step.CHOOSE_ENTRY:
        return await _show_list(update, turn)
    row = _current_row(turn)
    if row is None:
        return await _gone(update, turn)
    if current == Step.CONFIRM_DELETE:
        return await _confirm_delete(update, turn, row, new_message=True)
    if current == Step.CONFIRM_CHANGE and "value" in turn.flow:
        field = Field(turn.flow["field"])
        return await _confirm_change(update, turn, row, field, turn.flow["value"])
    return await _show_menu(update, turn, row, new_message=True)

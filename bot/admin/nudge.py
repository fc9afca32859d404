"""/muistuta: a coordinator reminds the incomplete divisions (all of them, or one) now.

The sending itself is the reminders' paced, ledgered path (``schedules.send_nudge``): each
contact gets what is missing and a button to start reporting, a blocked chat is recorded
as failed, and the coordinator gets the counts back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.access import Caller, in_worker, requires
from bot.admin.callbacks import ID, NUDGE, NudgeStep, button_data, pattern
from bot.admin.shared import answer_stale, chat_action, edit, send_menu
from bot.ui import MSG_CLOSE
from core.services import services
from data import admin_queries, progress
from data.db import transaction
from data.models import Role
from data.progress import DivisionProgress

if TYPE_CHECKING:
    from bot.app import BotApplication


def _incomplete(
    context: ContextTypes.DEFAULT_TYPE,
) -> tuple[list[DivisionProgress], dict[int, int], list[DivisionProgress]]:
    """The divisions to remind, their contact counts, and those submitted with gaps (not
    reminded: their contacts cannot change a submitted report, but they are not complete)."""
    svc = services(context)
    with transaction(svc.sessions) as session:
        everyone = progress.round_progress(session, svc.current_year())
        contacts = admin_queries.active_contact_counts(session)
    rows = [d for d in everyone if not d.complete]
    return rows, contacts, [d for d in everyone if d.submitted_with_gaps]


def _gaps_line(who: Caller, divisions: list[DivisionProgress]) -> str | None:
    if not divisions:
        return None
    return who._(
        "Submitted with answers missing (reopen the report in /tilanne so its contacts can "
        "add them): {divisions}"
    ).format(divisions="; ".join(_line(who, d, None) for d in divisions))


def _line(who: Caller, division: DivisionProgress, contacts: int | None) -> str:
    total = len(division.entities)
    text = who._(
        "{division}: reported {done}/{total}, satisfaction mapped {mapped}/{total}"
    ).format(
        division=division.code,
        done=division.entities_reported,
        mapped=division.satisfaction_mapped,
        total=total,
    )
    if contacts is None:
        return text
    if contacts:
        return text + " – " + who._("contacts: {count}").format(count=contacts)
    return text + " – " + who._("no contact registered yet")


@requires(Role.COORDINATOR)
async def nudge_command(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """/muistuta: who is incomplete, and buttons to remind all of them or one."""
    chat = update.effective_chat
    assert chat is not None
    rows, contacts, with_gaps = await in_worker(context, _incomplete, context)
    gaps = _gaps_line(who, with_gaps)
    if not rows:
        text = who._("Every division is complete; nobody needs a reminder.")
        if gaps:
            text = who._("Nobody needs a reminder.") + "\n" + gaps
        await chat.send_message(text)
        return
    lines = [who._("Divisions that are not complete:")]
    lines += [_line(who, d, contacts.get(d.division_id, 0)) for d in rows]
    if gaps:
        lines.append(gaps)
    lines += [
        "",
        who._(
            "Whom do you remind? Each contact gets a message with what is missing and a "
            "button to start reporting."
        ),
    ]
    buttons = [
        [
            InlineKeyboardButton(
                who._("All incomplete divisions ({count})").format(count=len(rows)),
                callback_data=button_data(NUDGE, NudgeStep.ALL),
            )
        ]
    ]
    buttons += [
        [
            InlineKeyboardButton(
                d.code, callback_data=button_data(NUDGE, NudgeStep.DIVISION, d.division_id)
            )
        ]
        for d in rows
    ]
    buttons.append(
        [InlineKeyboardButton(who._(MSG_CLOSE), callback_data=button_data(NUDGE, NudgeStep.CANCEL))]
    )
    markup = InlineKeyboardMarkup(buttons)
    await send_menu(context, chat, who, NUDGE, "\n".join(lines), reply_markup=markup)


@requires(Role.COORDINATOR)
async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Send the reminders; the menu turns into the result, so it cannot be sent twice."""
    from schedules import send_nudge

    query = update.callback_query
    assert query is not None and who.person is not None and update.effective_chat is not None
    rows, _contacts, _with_gaps = await in_worker(context, _incomplete, context)
    division_ids: list[int] | None = None
    target = who._("all incomplete divisions")
    groups = context.matches[0].groups() if context.matches else ()
    if groups:
        division_id = int(groups[0])
        chosen = [d for d in rows if d.division_id == division_id]
        if not chosen:
            await answer_stale(update, who)
            return
        division_ids, target = [division_id], chosen[0].code
    elif not rows:
        await query.answer(
            who._("Every division is complete; nobody needs a reminder."), show_alert=True
        )
        return
    await query.answer()
    await edit(query, who._("Sending reminders to {target}…").format(target=target))
    async with chat_action(context.bot, update.effective_chat.id, ChatAction.TYPING):
        result = await send_nudge(
            context.application, actor_person_id=who.person.id, division_ids=division_ids
        )
    lines = [
        who._(
            "Reminders to {target}: sent {sent}, could not be delivered {failed}, "
            "skipped {skipped}."
        ).format(target=target, sent=result.sent, failed=result.failed, skipped=result.skipped)
    ]
    complete = result.complete_divisions
    without = result.divisions_without_contacts
    if complete:
        lines.append(
            who._("Nothing missing any more: {divisions}.").format(divisions=", ".join(complete))
        )
    if result.submitted_with_gaps:
        lines.append(
            who._(
                "Submitted with answers missing, so not reminded (reopen the report in "
                "/tilanne first): {divisions}."
            ).format(divisions=", ".join(result.submitted_with_gaps))
        )
    if without:
        lines.append(
            who._(
                "No contact to remind: {divisions}. Invite one with /kutsu (strategy staff)."
            ).format(divisions=", ".join(without))
        )
    await edit(query, "\n".join(lines))


@requires(Role.COORDINATOR)
async def close(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, who._("Closed."))


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("muistuta", nudge_command))
    application.add_handler(CallbackQueryHandler(send, pattern=pattern(NUDGE, NudgeStep.ALL)))
    application.add_handler(
        CallbackQueryHandler(send, pattern=pattern(NUDGE, NudgeStep.DIVISION, ID))
    )
    application.add_handler(CallbackQueryHandler(close, pattern=pattern(NUDGE, NudgeStep.CANCEL)))

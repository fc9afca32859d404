"""Reminder buttons and /aikataulu.

* "Remind me tomorrow" (``rem:snooze:<ledger id>``): one snooze to the send time of the next
  day. The ledger row must be the presser's own delivered reminder; a second press says it
  is already snoozed, a snooze that would land after the deadline is refused (the button
  is not even offered then, but an older message may still carry it), and a stale or
  forged id gets "this button is no longer valid".
* "Report now" carries ``report:now``, which opens the conversation of what is missing.
* /aikataulu: the coming deadlines and the next reminder sends (coordinators and staff),
  and the reminders whose delivery is uncertain ("toimitus epävarma").
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import ui
from bot.access import Caller, caller, in_session, refuse, requires
from bot.callbacks import install_guard
from core import codec
from core.services import services
from data import ledger
from data.models import Role
from delivery.courier import REMINDER, SNOOZE, is_snooze
from schedules.audience import load_snapshot
from schedules.content import snooze_time_text
from schedules.dates import local_datetime
from schedules.overview import schedule_text

if TYPE_CHECKING:
    from bot.app import BotApplication


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("aikataulu", schedule_command))
    install_guard(application, [REMINDER])
    application.add_handler(CallbackQueryHandler(reminder_button, pattern=rf"^{REMINDER}:"))


def snooze_until(now: dt.datetime, context: ContextTypes.DEFAULT_TYPE) -> dt.datetime:
    """The configured send time (9.00) on the next calendar day in Helsinki."""
    settings = services(context).settings
    tomorrow = now.astimezone(settings.tz).date() + dt.timedelta(days=1)
    return local_datetime(tomorrow, settings.reminders.time_of_day, settings.tz)


def _without_snooze(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The message's keyboard minus the snooze button (the one snooze is used)."""
    if markup is None:
        return None
    rows = [[b for b in row if not is_snooze(b.callback_data)] for row in markup.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def reminder_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    who: Caller = await caller(update, context)
    if who.person is None:
        await refuse(update, who)
        return
    pressed = codec.action(query.data)
    ledger_id = pressed.id_arg() if pressed is not None and pressed.step == SNOOZE else None
    if ledger_id is None or len(pressed.args if pressed else ()) != 1:
        await ui.answer_stale(query, who._, show_alert=False)
        return
    svc = services(context)
    now = svc.now()
    until = snooze_until(now, context)
    person_id = who.person.id
    outcome = await in_session(
        context,
        lambda s: ledger.snooze(
            s,
            ledger_id,
            person_id=person_id,
            until=until,
            until_day=until.astimezone(svc.settings.tz).date(),
            now=now,
        ),
    )
    if outcome is ledger.SnoozeOutcome.SNOOZED:
        await query.answer(snooze_time_text(who.language, until.astimezone(svc.settings.tz)))  # type: ignore[arg-type]
        message = query.message
        if message is not None and getattr(message, "reply_markup", None) is not None:
            # Too old to edit, or already changed: the snooze stands either way.
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(_without_snooze(message.reply_markup))  # type: ignore[attr-defined]
    elif outcome is ledger.SnoozeOutcome.ALREADY:
        await query.answer(who._("This reminder is already snoozed."))
    elif outcome is ledger.SnoozeOutcome.TOO_LATE:
        await query.answer(
            who._("The deadline is before tomorrow, so this reminder cannot wait until then."),
            show_alert=True,
        )
    else:
        await ui.answer_stale(query, who._, show_alert=False)


@requires(Role.COORDINATOR, Role.STAFF)
async def schedule_command(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    svc = services(context)
    now = svc.now()
    year = now.astimezone(svc.settings.tz).year

    def read(session: Session) -> tuple[dict[int, Any], list[tuple[str, dt.date]]]:
        snapshots = {y: load_snapshot(session, y) for y in (year, year + 1)}
        uncertain = [
            (person.name or str(person.telegram_user_id), row.deadline_date)
            for row, person in ledger.uncertain_rows(session, year=year)
        ]
        return snapshots, uncertain

    snapshots, uncertain = await in_session(context, read)
    text = schedule_text(svc.settings, snapshots, now, who.language, uncertain)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML)

"""Small helpers the administration commands share: names, dates, safe messages to people."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from telegram import Bot, CallbackQuery, Chat, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.access import Caller
from bot.callbacks import edit_or_send
from bot.ui import MSG_BACK, MSG_STALE, ROLE_NAMES
from core import codec
from data import catalog, drafts
from data.models import Division, Person, Role, utcnow
from data.people import PersonValue
from delivery import capture
from delivery import outbox as delivery_outbox
from i18n import gettext_for

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

#: The one Back label (``bot.ui``), here under the name the menus import.
BACK = MSG_BACK

#: After the bad-number guard (bot.callbacks.GUARD_GROUP), before the feature handlers.
MENU_GUARD_GROUP = -8

#: Telegram shows a chat action for about 5 seconds; renew it before it fades.
CHAT_ACTION_INTERVAL = 4.0


def role_names(roles: set[Role], translate: Caller | str) -> str:
    """The roles in a fixed order, translated: "division contact, coordinator"."""
    _ = translate._ if isinstance(translate, Caller) else gettext_for(translate)
    return ", ".join(_(ROLE_NAMES[r]) for r in Role if r in roles)


def division_label(division: Division, language: str) -> str:
    """ "KUVA – Kulttuurin ja vapaa-ajan toimiala"."""
    return f"{division.code} – {catalog.name_of(division, language)}"


def person_label(person: Person | PersonValue) -> str:
    """The name, or a neutral stand-in for a person Telegram gave no name for."""
    return person.name.strip() or f"#{person.telegram_user_id}"


def language_of(person: Person | PersonValue, default: str) -> str:
    return person.language or default


async def answer_stale(update: Update, who: Caller) -> None:
    """A button that refers to something that no longer exists or no longer applies."""
    assert update.callback_query is not None
    await update.callback_query.answer(who._(MSG_STALE), show_alert=True)


async def edit(query: CallbackQuery, text: str, **kwargs: Any) -> None:
    """Replace the message of a pressed button; pressing twice is not an error, and a
    message that can no longer be edited gets the text as a new message."""
    await edit_or_send(query, text, **kwargs)


@contextlib.asynccontextmanager
async def chat_action(bot: Bot, chat_id: int, action: str) -> AsyncIterator[None]:
    """Show "sending a document…" (or another action) for as long as the block runs."""

    async def show() -> None:
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, action)

    async def keep_showing() -> None:
        while True:
            await asyncio.sleep(CHAT_ACTION_INTERVAL)
            await show()

    await show()
    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send_menu(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat,
    who: Caller,
    feature: str,
    text: str,
    **kwargs: Any,
) -> Message:
    """Send a command's menu and remember it as the newest: buttons of the person's older
    menus of the command are then refused as stale (``menu_guard``), as a guided flow
    refuses buttons of its older questions."""
    message = await chat.send_message(text, **kwargs)
    if who.person is not None:
        payload = {"person_id": who.person.id, "feature": feature}
        if not capture.after_sent(MENU_SENT, payload):  # not through the outbox: known now
            from bot.access import in_session

            await in_session(context, lambda s: _record_menu(s, payload, message.message_id))
    return message


#: The outbox's after-send work that remembers a menu's real message id.
MENU_SENT = "admin-menu"


def _record_menu(session: Session, payload: dict[str, Any], message_id: int) -> None:
    drafts.record_menu(
        session, int(payload["person_id"]), str(payload["feature"]), message_id, utcnow()
    )


delivery_outbox.AFTER_SENT[MENU_SENT] = _record_menu


async def menu_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuse a button of an administration menu older than the command's newest menu."""
    from bot.access import caller, in_session

    query = update.callback_query
    if query is None or query.message is None:
        return
    pressed = codec.action(query.data)
    who = await caller(update, context)
    if pressed is None or who.person is None:
        return
    person_id, message_id = who.person.id, query.message.message_id
    stale = await in_session(
        context, lambda s: drafts.menu_is_stale(s, person_id, pressed.feature, message_id)
    )
    if stale:
        await query.answer(who._(MSG_STALE), show_alert=True)
        raise ApplicationHandlerStop


def install_menu_guard(application: BotApplication, prefixes: Iterable[str]) -> None:
    """The stale-menu check runs before every administration button's handler."""
    alternatives = "|".join(re.escape(p) for p in prefixes)
    application.add_handler(
        CallbackQueryHandler(menu_guard, pattern=rf"^(?:{alternatives}):"), group=MENU_GUARD_GROUP
    )

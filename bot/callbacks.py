"""Strict reading of button data and safe editing of a pressed button's message.

Button data comes back from the client and can be forged: ``²`` passes ``str.isdigit()``
(and ``٣`` even converts with ``int()``), and ``99999999999`` is beyond PostgreSQL's
``integer``. Every id in callback data is read with the one `parse_id` (of the guided
flows' codec, ``bot.flow.codec``), so such data is refused before it reaches a query, and
the person gets the one "this button is no longer valid" answer instead of an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.ui import MSG_STALE
from core.codec import parse_id

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

#: Regular expression of an id in a callback pattern: ASCII digits only.
ID_PATTERN = r"[0-9]{1,10}"
#: Guard handlers run before every feature handler (the private-chat guard is at -10).
GUARD_GROUP = -9


def _looks_numeric(part: str) -> bool:
    return part != "" and all(ch.isdigit() or ch.isnumeric() for ch in part)


def has_bad_number(data: str) -> bool:
    """Whether a ``:``-separated segment looks like a number but is not a valid id."""
    return any(_looks_numeric(part) and parse_id(part) is None for part in data.split(":"))


def install_guard(application: BotApplication, prefixes: Iterable[str]) -> None:
    """Answer buttons of ``prefixes`` that carry a non-ASCII or out-of-range number as stale,
    before any handler turns the number into a query."""
    alternatives = "|".join(re.escape(p) for p in prefixes)
    application.add_handler(
        CallbackQueryHandler(_refuse_bad_numbers, pattern=rf"^(?:{alternatives}):"),
        group=GUARD_GROUP,
    )


async def _refuse_bad_numbers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not has_bad_number(query.data or ""):
        return
    from bot.access import caller

    who = await caller(update, context)
    await answer_quietly(query, who._(MSG_STALE), show_alert=True)
    raise ApplicationHandlerStop


async def answer_quietly(query: CallbackQuery, text: str | None = None, **kwargs: Any) -> None:
    """Answer a button press; a query Telegram no longer accepts (too old, answered) is
    logged, not turned into an error reply."""
    try:
        await query.answer(text, **kwargs)
    except TelegramError as error:
        log.info("could not answer a button press: %s", error)


async def edit_or_send(query: CallbackQuery, text: str, **kwargs: Any) -> None:
    """Replace the pressed button's message with ``text``.

    Pressed twice ("message is not modified"): nothing to do. A message that can no longer
    be edited (too old, deleted, not the bot's): the text goes out as a new message. Never
    an error reply for the person.
    """
    try:
        await query.edit_message_text(text, **kwargs)
        return
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return
        log.info("could not edit a message, sending a new one: %s", error)
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    kwargs.pop("inline_message_id", None)
    await query.get_bot().send_message(chat_id, text, **kwargs)

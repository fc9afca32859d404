"""Replying after the answers are safely stored: a failed send never loses a confirmed answer.

The guided conversations commit to the database first and only then talk to Telegram. A
flood-control answer (429) or a network failure while replying is retried once and otherwise
logged; it never turns into a handler error that would leave the conversation's state and the
stored draft disagreeing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

from delivery.pacing import retry_after_seconds

log = logging.getLogger(__name__)

MAX_RETRY_WAIT_SECONDS = 5.0


class Keyboard:
    """An inline keyboard as Telegram's JSON, built directly: what the outbox stores and
    sends. A guided step's keyboard was a PTB ``InlineKeyboardMarkup`` of PTB buttons,
    turned into this JSON for the outbox right away — building and converting those
    objects cost more CPU than the rest of the step's rendering together."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[list[dict[str, Any]]]) -> None:
        self.rows = rows

    def to_dict(self) -> dict[str, Any]:
        """Telegram's ``reply_markup`` (a fresh outer dict; the buttons are not copied)."""
        return {"inline_keyboard": [list(row) for row in self.rows]}

    def to_markup(self) -> InlineKeyboardMarkup:
        """The PTB object, for a send that does not go through the outbox."""
        return InlineKeyboardMarkup.de_json(self.to_dict(), None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keyboard) and other.rows == self.rows

    __hash__ = None  # type: ignore[assignment]


#: What a reply's keyboard may be.
Markup = InlineKeyboardMarkup | Keyboard


def ptb_markup(markup: Markup | None) -> InlineKeyboardMarkup | None:
    return markup.to_markup() if isinstance(markup, Keyboard) else markup


@dataclass
class Outbox:
    """What to tell the person once the transaction has committed."""

    toast: str | None = None
    alert: bool = False
    messages: list[tuple[str, Markup | None]] = field(default_factory=list)
    #: Replace the pressed button's message with this text and keyboard (toggles).
    edit: tuple[str, Markup | None] | None = None
    #: The person may not use this: answer with the one refusal (``bot.access.refuse``).
    refused: bool = False
    #: The texts are HTML (the flow's renderers escape what people typed).
    html: bool = False

    def say(self, text: str, markup: Markup | None = None) -> None:
        self.messages.append((text, markup))


async def deliver(update: Update, outbox: Outbox) -> None:
    """Answer the button press (exactly once) and send the messages, surviving failures."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(outbox.toast, show_alert=outbox.alert)
        except TelegramError as error:
            log.warning("could not answer a button press: %s", error)
    chat = update.effective_chat
    if chat is None:
        return
    messages = list(outbox.messages)
    if outbox.edit is not None:
        edited = query is not None and await _edit(query, *outbox.edit, html=outbox.html)
        if not edited:
            messages.append(outbox.edit)
    for text, markup in messages:
        await send_safely(chat.id, update, text, markup, html=outbox.html)


async def _edit(query: CallbackQuery, text: str, markup: Markup | None, *, html: bool) -> bool:
    try:
        await query.edit_message_text(
            text, reply_markup=ptb_markup(markup), parse_mode=ParseMode.HTML if html else None
        )
        return True
    except TelegramError as error:
        log.info("could not edit the question, sending it anew: %s", error)
        return False


async def send_safely(
    chat_id: int,
    update: Update,
    text: str,
    markup: Markup | None,
    *,
    html: bool = False,
) -> bool:
    """Send one message; retry once after a short flood wait or a network error."""
    bot = update.get_bot()
    for attempt in (1, 2):
        try:
            await bot.send_message(
                chat_id,
                text,
                reply_markup=ptb_markup(markup),
                parse_mode=ParseMode.HTML if html else None,
            )
            return True
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if attempt == 2 or wait > MAX_RETRY_WAIT_SECONDS:
                log.warning("reply dropped after flood control (retry after %.0f s)", wait)
                return False
            await asyncio.sleep(wait)
        except Forbidden as error:
            log.warning("reply refused, the person has blocked the bot: %s", error)
            return False
        except NetworkError as error:  # includes TimedOut
            if attempt == 2:
                log.warning("reply dropped after a network error: %s", error)
                return False
        except TelegramError as error:
            log.warning("reply refused by Telegram: %s", error)
            return False
    return False

"""Where Telegram updates enter the bot, whichever way they arrive (webhook or polling).

The webhook server (``bot.webhook``) hands every accepted payload to `receive` and answers
Telegram only after it returns. Today `receive` only parses and queues; it is the one
place where the durable update inbox (record first, then queue) will go, so the web layer
does not change when it does.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application


async def receive(
    application: Application[Any, Any, Any, Any, Any, Any], payloads: list[dict[str, Any]]
) -> None:
    """Hand Telegram update payloads (already checked to be updates) to the Application."""
    for payload in payloads:
        update = Update.de_json(payload, application.bot)
        await application.update_queue.put(update)

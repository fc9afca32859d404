"""Division contacts' /tila (status); /valmis and /muokkaa are guided flows (bot.conversations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import CommandHandler

from bot.status import show

if TYPE_CHECKING:
    from bot.app import BotApplication


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("tila", show.show_status))

"""Division contacts' /tila (status); /valmis and /muokkaa are guided flows (bot.conversations)."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot.status import show


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("tila", show.show_status))

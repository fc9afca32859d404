"""Division contacts' /tila (status), /valmis (submit) and /muokkaa (edit); see bot.status."""

from __future__ import annotations

from typing import Final

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.status import conversation, show

#: Handler group of the guard that ends a running /valmis or /muokkaa when another command
#: starts; it must run before the features (group 0) and needs a group of its own, because
#: only one handler per group handles an update.
FLOW_GUARD_GROUP: Final = -5


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        MessageHandler(filters.COMMAND, conversation.other_command_ends_flow),
        group=FLOW_GUARD_GROUP,
    )
    application.add_handler(CommandHandler("tila", show.show_status))
    application.add_handler(conversation.build())

"""Builds the python-telegram-bot Application: persistence, rate limiting, handlers, jobs."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from bot.handlers import admin, common, reminders, reporting, satisfaction, status
from bot.ordering import ChatOrderedUpdateProcessor
from bot.persistence import DatabasePersistence
from bot.ratelimit import ChatRateLimiter
from bot.services import Services, attach
from schedules.runtime import install as install_reminders

log = logging.getLogger(__name__)


class PromptlyPersistingApplication(Application):  # type: ignore[type-arg]
    """Writes conversation state right after each update, not every 60 s.

    PTB flushes persistence on a timer; a crash between two flushes would put a person back
    a few steps. Only the chats and conversations the update touched are written.
    """

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        if self.persistence is not None:
            await self.update_persistence()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (the token is redacted by bot.logs) and tell the person.

    Nothing is kept in memory: a long-running process would otherwise grow with every
    network hiccup. Tests observe errors with their own error handler or the log.
    """
    log.error(
        "handler failed for update %s", getattr(update, "update_id", None), exc_info=context.error
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        from bot.access import caller

        try:
            who = caller(update, context)
            await update.effective_chat.send_message(
                who._("Something went wrong. What you had saved is safe; please try again.")
            )
        except Exception:
            log.warning("could not tell the person about the failure")


def build_application(
    services: Services,
    *,
    token: str,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    base_url: str | None = None,
    rate_limiter: bool = True,
    with_jobs: bool = True,
) -> Application:  # type: ignore[type-arg]
    """The bot with every feature registered; ``request`` lets tests use the local Telegram."""
    builder: Any = (
        ApplicationBuilder()
        .application_class(PromptlyPersistingApplication)
        .token(token)
        .persistence(DatabasePersistence(services.sessions))
        # Chats are handled concurrently, each chat's updates in order: one person's flood
        # wait or a noisy group never stalls anyone else.
        .concurrent_updates(ChatOrderedUpdateProcessor())
    )
    if rate_limiter:
        builder = builder.rate_limiter(ChatRateLimiter(max_retries=2))
    if base_url:
        builder = builder.base_url(base_url.rstrip("/"))
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    attach(application, services)
    register_handlers(application, with_jobs=with_jobs)
    application.add_error_handler(on_error)
    return application


def register_handlers(application: Application, *, with_jobs: bool) -> None:  # type: ignore[type-arg]
    """Order matters: guard and entry commands, features, then catch-alls."""
    common.register(application)
    for feature in (reporting, satisfaction, status, admin, reminders):
        feature.register(application)
    common.register_fallbacks(application)
    if with_jobs:
        install_reminders(application)

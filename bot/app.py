"""Builds the python-telegram-bot Application: rate limiting, handlers in named phases, jobs.

No PTB persistence: everything a conversation needs is in the database rows the handlers
read on every update (people, drafts, answers), so any process can answer any update.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any, TypeAlias

import httpx
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from bot.conversations import FLOWS
from bot.flow import router
from bot.flow.engine import Flow
from bot.handlers import admin, common, excel, privacy, reminders, status
from core import metrics
from core.services import Services, attach
from data.db import db_threads, is_lock_wait
from delivery import capture, ingress, notices
from delivery import outbox as delivery_outbox
from delivery.courier import TelegramCourier
from delivery.ordering import ChatOrderedUpdateProcessor
from delivery.outbox import sender as outbox_sender
from delivery.pacing import PacingLimiter
from i18n import LANGUAGES, translations
from schedules import housekeeping
from schedules.runtime import install as install_reminders
from schedules.runtime import release_leadership
from schedules.runtime import setup as setup_reminders

log = logging.getLogger(__name__)

#: The bot's PTB application as every ``register`` and guard takes it. PTB's six type
#: parameters (bot, context, user/chat/bot data, job queue) are its defaults here; no code
#: depends on them, so they are left open once, here, instead of at every use.
BotApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class MeasuredApplication(BotApplication):
    """Counts and times every update it handles (``core.metrics``), then marks it handled
    in the inbox (``delivery.ingress``).

    The guided-flow engine marks its updates in its own transaction (then no second write
    is made); every other update is marked here, after the handlers: a crash before it
    handles the update again after a restart. The mark is written also when processing
    failed, so a poison update is not retried forever. The replies the handlers made are
    captured (``delivery.capture``) and written to the outbox with that mark, then sent;
    then the messages to other people its handlers wrote with their changes
    (``delivery.notices``).
    """

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        captured: list[Any] = []
        others: list[Any] = []
        try:
            with capture.capturing(update, sender=outbox_sender(self)) as replies:
                try:
                    await super().process_update(update)
                finally:
                    captured = replies.requests if replies is not None else []
                    others = replies.notices if replies is not None else []
        except Exception:
            log.exception(
                "update %s failed outside its handlers", getattr(update, "update_id", None)
            )
        finally:
            metrics.update_handled(_kind(update), time.perf_counter() - started)
        await ingress.mark_processed(self, update, captured)
        if others:  # committed with the changes that caused them (delivery.notices)
            await notices.deliver(self, others)

    async def start(self) -> None:
        """Start, make the year's reporting round if it is not there yet (so the first
        save does not: ``schedules.housekeeping.ensure_round``), then the outbox sender's
        background loop (``delivery.outbox``)."""
        await super().start()
        await housekeeping.ensure_round(self)
        freeze_startup_objects()
        found = outbox_sender(self)
        if found is not None:
            found.start()

    async def stop(self) -> None:
        """Let the updates in hand finish; then stop the outbox loop and leave this
        replica's unsent replies to the others (also when the stop is cut short)."""
        try:
            await super().stop()
        finally:
            found = outbox_sender(self)
            if found is not None:
                await found.stop()


_frozen = False


def freeze_startup_objects() -> None:
    """Once per process, when the bot first starts: collect the start-up garbage, then
    move everything still alive (modules, the catalog, translations, compiled statements,
    the Application) out of the garbage collector's view (``gc.freeze``).

    They live as long as the process, yet every full collection walked all of them again:
    about 240 000 objects, a tenth of a second of CPU each time, which the updates paid
    for (5 % of an update's CPU in ``bench/reporting_bench.py``). Objects made later are
    collected as before.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _kind(update: object) -> str:
    """``message``, ``callback_query``, ... (the metric's label)."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return kind
    return "other"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (the token is redacted by core.logs) and tell the person.

    Nothing is kept in memory: a long-running process would otherwise grow with every
    failure. Tests observe errors with their own error handler or the log.
    """
    from bot.access import caller

    busy = context.error is not None and is_lock_wait(context.error)
    if busy:  # a row held by another session past lock_timeout (bot.access.in_worker)
        log.warning(
            "update %s: data stayed locked; asked to retry", getattr(update, "update_id", None)
        )
    else:
        log.error(
            "handler failed for update %s",
            getattr(update, "update_id", None),
            exc_info=context.error,
        )
        metrics.handler_error()
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            who = await caller(update, context)
            await update.effective_chat.send_message(
                who._(router.MSG_BUSY)
                if busy
                else who._("Something went wrong. What you had saved is safe; please try again.")
            )
        except Exception:
            log.warning("could not tell the person about the failure")


#: Connections to the Bot API: as many at once as PTB's default allows, but at most this many
#: kept open while idle. httpcore looks at every pooled connection on every request (is it
#: idle, has it expired): after a burst had opened 150, each call cost 4.7 ms of CPU instead
#: of 0.9 (bench/replicas_bench.py, where a webhook replica spent half its CPU there).
#: Telegram answers in a fraction of a second, so 30 messages/s need a handful in flight.
BOT_API_CONNECTIONS = 256
BOT_API_IDLE_CONNECTIONS = 16


def bot_api_request() -> HTTPXRequest:
    """PTB's HTTP client for the Bot API calls, with the idle pool bounded
    (`BOT_API_IDLE_CONNECTIONS`)."""
    limits = httpx.Limits(
        max_connections=BOT_API_CONNECTIONS, max_keepalive_connections=BOT_API_IDLE_CONNECTIONS
    )
    return HTTPXRequest(connection_pool_size=BOT_API_CONNECTIONS, httpx_kwargs={"limits": limits})


def build_application(
    services: Services,
    *,
    token: str,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: bool = True,
    with_jobs: bool = True,
    polling: bool = True,
) -> BotApplication:
    """The bot with every feature registered; ``request`` lets tests use the local Telegram.

    ``polling=False`` builds it without an Updater: in webhook mode updates arrive through
    `delivery.webhook` and `delivery.ingress`.
    """
    for language in LANGUAGES:  # read the translations now, not on the first answers
        translations(language)
    builder: Any = (
        ApplicationBuilder()
        .application_class(MeasuredApplication)
        .token(token)
        # A graceful stop gives the scheduler leadership up at once (another replica
        # takes over at its next try) instead of when the database session ends.
        .post_stop(release_leadership)
        # Chats are handled concurrently, each chat's updates in order: one person's flood
        # wait or a noisy group never stalls anyone else.
        # Database steps are admitted as many at a time as the database has worker threads.
        .concurrent_updates(ChatOrderedUpdateProcessor(db_steps=db_threads(services.sessions)))
    )
    if rate_limiter:
        builder = builder.rate_limiter(PacingLimiter())
    if base_url:
        builder = builder.base_url(base_url.rstrip("/"))
    if base_file_url:
        builder = builder.base_file_url(base_file_url.rstrip("/"))
    builder = builder.request(request if request is not None else bot_api_request())
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    attach(application, services)
    delivery_outbox.install(application, services.sessions)
    capture.install(application.bot)
    setup_reminders(application, courier=TelegramCourier(application))
    if application.updater is not None:
        ingress.install(application)  # polling records each batch before acknowledging it
    register_handlers(application, with_jobs=with_jobs)
    application.add_error_handler(on_error)
    return application


#: Handler phases, in the order every update meets them (PTB handler groups). In each phase
#: the first matching handler runs; a handler that fully answers an update stops the rest.
GUARD = -20  # private chats only
CONVERSATIONS = -10  # the one router in front of every guided flow (bot.flow.router)
FEATURES = 0  # commands, admin and reminder buttons; then, added last in the same group so
# that they answer only what no feature took: unknown text and commands, stale buttons


def register_handlers(application: BotApplication, *, with_jobs: bool) -> None:
    """Every handler, phase by phase (see the phase constants above)."""
    common.register_guard(application, group=GUARD)
    application.add_handler(TypeHandler(Update, router.route), group=CONVERSATIONS)
    # The flows declare themselves when imported; the router knows them by name.
    assert all(flow.name in Flow.flows for flow in FLOWS)
    for feature in (common, privacy, status, admin, reminders, excel):
        feature.register(application)
    common.register_fallbacks(application, group=FEATURES)
    router.install_idle_check(application)
    if with_jobs:
        install_reminders(application)

"""Running on the real Telegram: long polling by default, a webhook when configured.

Webhook mode (``TELEGRAM_WEBHOOK_URL`` or ``telegram.webhook.url``) is what a deployment of
several replicas uses; see `delivery.webhook`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine
from telegram import Update

import miniapp
from bot.app import BotApplication, build_application
from bot.runtime import bootstrap_admins, prepare_database
from core import web
from core.services import Services
from settings import Settings

log = logging.getLogger(__name__)


def run_on_telegram(settings: Settings) -> int:
    """Run until stopped; the process exit status."""
    assert settings.bot_token
    web.mount(miniapp.application_routes)  # /app/ in both modes
    webhook = settings.telegram.webhook
    if webhook.url:
        return _run_webhook(settings)
    from core.web import attach_polling_server, bind, polling_address

    address = polling_address(settings)
    sock = None
    if address is not None:
        try:
            sock = bind(*address)
        except OSError as error:
            log.error("cannot listen on %s:%d: %s", *address, error.strerror)
            return 1
    with sock or contextlib.nullcontext():
        engine, application = _prepare(settings, polling=True)
        if sock is not None:
            attach_polling_server(application, engine=engine, sock=sock)
        log.info("starting long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def _prepare(settings: Settings, *, polling: bool) -> tuple[Engine, BotApplication]:
    """The database migrated and watched, the bootstrap admins given their roles, and the
    Application built: the same start in both modes."""
    assert settings.bot_token
    engine, sessions = prepare_database(settings.database.url)
    web.watch_database(engine)  # build info and inbox backlog on /metrics
    bootstrap_admins(settings, sessions)
    application = build_application(
        Services(settings, sessions),
        token=settings.bot_token,
        base_url=settings.telegram.base_url,
        base_file_url=settings.telegram.file_url(),
        polling=polling,
    )
    return engine, application


def _run_webhook(settings: Settings) -> int:
    from core.web import bind
    from delivery.webhook import WEBHOOK_PATH, serve_webhook

    assert settings.bot_token and settings.webhook_secret
    webhook = settings.telegram.webhook
    assert webhook.url
    try:
        sock = bind(webhook.listen, webhook.port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", webhook.listen, webhook.port, error.strerror)
        return 1
    with sock:
        engine, application = _prepare(settings, polling=False)
        log.info("starting webhook listen=%s port=%d", webhook.listen, webhook.port)
        return asyncio.run(
            serve_webhook(
                application,
                engine=engine,
                sock=sock,
                webhook_url=webhook.url.rstrip("/") + WEBHOOK_PATH,
                secret=settings.webhook_secret,
                stop_seconds=webhook.stop_seconds,
            )
        )

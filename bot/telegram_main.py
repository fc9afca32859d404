"""Running on the real Telegram: long polling by default, a webhook when configured."""

from __future__ import annotations

import logging

from telegram import Update

from bot.app import build_application
from bot.runtime import bootstrap_admins, prepare_database
from bot.services import Services
from settings import Settings

log = logging.getLogger(__name__)


def run_on_telegram(settings: Settings) -> None:
    assert settings.bot_token
    _engine, sessions = prepare_database(settings.database.url)
    bootstrap_admins(settings, sessions)
    application = build_application(
        Services(settings, sessions),
        token=settings.bot_token,
        base_url=settings.telegram.base_url,
        base_file_url=settings.telegram.file_url(),
    )
    webhook = settings.telegram.webhook
    if webhook.url:
        log.info("starting webhook listen=%s port=%d", webhook.listen, webhook.port)
        application.run_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path="telegram",
            webhook_url=webhook.url.rstrip("/") + "/telegram",
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        log.info("starting long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)

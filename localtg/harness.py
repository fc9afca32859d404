"""Run a real PTB `Application` against a `LocalBotApi`, the way ``run_polling`` would.

``Application.run_polling`` owns the event loop and signal handling, which a test (already
inside pytest's loop) or the terminal chat cannot give it. `running` performs the same
lifecycle steps — including the ``post_init``/``post_stop``/``post_shutdown`` hooks the bot
relies on — inside the current loop, and attaches the application so user actions can wait
for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from telegram.ext import Application, ApplicationBuilder

from localtg.api import LocalBotApi
from localtg.request import LocalRequest

DEFAULT_TOKEN = "123456:LOCAL-telegram-token"
AppT = TypeVar("AppT", bound=Application[Any, Any, Any, Any, Any, Any])


def local_application_builder(
    api: LocalBotApi, token: str = DEFAULT_TOKEN
) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """An ``ApplicationBuilder`` whose bot talks to ``api`` (add handlers etc. as usual)."""
    return (
        ApplicationBuilder()
        .token(token)
        .request(LocalRequest(api))
        .get_updates_request(LocalRequest(api))
    )


@asynccontextmanager
async def running(
    application: AppT,
    api: LocalBotApi,
    *,
    poll_timeout: float = 10.0,
    drop_pending_updates: bool = False,
    allowed_updates: Sequence[str] | None = None,
) -> AsyncIterator[AppT]:
    """initialize → post_init → start_polling → start; on exit the reverse, as run_polling."""
    api.attach(application)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        assert application.updater is not None, "the Application needs an Updater to poll"
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=int(poll_timeout),
            drop_pending_updates=drop_pending_updates,
            allowed_updates=allowed_updates,
        )
        await application.start()
        yield application
    finally:
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
                if application.post_stop:
                    await application.post_stop(application)
        finally:
            await application.shutdown()
            if application.post_shutdown:
                await application.post_shutdown(application)
            api.attach(None)

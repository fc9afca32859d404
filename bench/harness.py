"""What the in-process benchmarks share: the bot on the local Telegram, its handler errors,
and a PostgreSQL schema of their own.

Not a benchmark itself (``make bench`` runs ``bench/*_bench.py``); the benchmarks import it
with ``bench/`` on their path, as they import ``reporting_bench``'s conversation.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bot.app import build_application  # noqa: E402
from core.services import Services  # noqa: E402
from data.db import make_engine  # noqa: E402
from localtg import DEFAULT_TOKEN, LocalBotApi, LocalRequest  # noqa: E402
from settings import load_settings  # noqa: E402

if TYPE_CHECKING:
    from bot.app import BotApplication


def local_bot(api: LocalBotApi, sessions: Any, *, rate_limiter: bool = False) -> BotApplication:
    """The bot's Application with the default settings on ``api``, without the reminder
    jobs (a benchmark measures updates, not the scheduler)."""
    return build_application(
        Services(load_settings(env={}), sessions),
        token=DEFAULT_TOKEN,
        request=LocalRequest(api),
        get_updates_request=LocalRequest(api),
        rate_limiter=rate_limiter,
        with_jobs=False,
    )


def collect_errors(application: Any) -> list[BaseException]:
    """Every exception a handler of ``application`` raises, from now on: a benchmark whose
    updates fail measures nothing, so it checks this list and stops."""
    errors: list[BaseException] = []

    async def collect(update: object, context: Any) -> None:
        if context.error is not None:
            errors.append(context.error)

    application.add_error_handler(collect)
    return errors


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A new schema on the PostgreSQL database at ``url`` for one run, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

"""One bot replica on the test's clock, started by ``tests.bot.processes.start_clocked``.

The real Application of ``python -m bot run`` (`bot.app.build_application`: handlers,
rate limiter, courier, reminder jobs behind the leader lock) talking to a local Bot API
server over HTTP, without polling (the test needs only its reminders). Its clock is the
test's: ``FAKE_NOW`` (ISO) at the moment ``REAL_START`` (epoch seconds), advancing in real
time, so every replica agrees on "now" and a reminder falls due seconds after start.
Environment: DATABASE_URL, TELEGRAM_BASE_URL, TOKEN, FAKE_NOW, REAL_START, LEADER_RETRY.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import build_application
from core.services import Services
from data.db import make_engine, make_sessionmaker
from schedules import runtime as rt
from settings import load_settings


async def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    rt.LEADER_RETRY_SECONDS = float(os.environ["LEADER_RETRY"])
    anchor = dt.datetime.fromisoformat(os.environ["FAKE_NOW"])
    real_start = float(os.environ["REAL_START"])

    def clock() -> dt.datetime:
        return (anchor + dt.timedelta(seconds=time.time() - real_start)).astimezone(dt.UTC)

    settings = load_settings(env=dict(os.environ))
    sessions = make_sessionmaker(make_engine(settings.database.url))
    application = build_application(
        Services(settings, sessions, clock),
        token=os.environ["TOKEN"],
        base_url=os.environ["TELEGRAM_BASE_URL"],
    )
    await application.initialize()
    await application.start()
    print("replica started", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await rt.release_leadership(application)
        await application.stop()
        await application.shutdown()


if __name__ == "__main__":
    asyncio.run(main())

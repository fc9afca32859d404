"""Benchmark: 1,000 reminders through the local Telegram with Telegram's limits enforced.

    .venv/bin/python bench/reminders_bench.py [--count 1000] [--database-url URL]

One planned send (listatekstit, 14 days before) goes to ``count`` people through the real
path — a PTB Application with the bot's rate limiter (``delivery.pacing.PacingLimiter``), the
bot's courier, the ledger claims and in-flight marks in the database — against a
`localtg.LocalBotApi` that answers 429 past 30 messages/s overall or 1/s per chat.
Telegram's limits make 1,000 / 30 s the floor; the target is within 1.1× of it with zero
rate-limit errors, each person messaged exactly once.
Uses a temporary SQLite database unless ``--database-url`` is given (it must be empty).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

import schedules
from core.services import Services, attach
from data import ledger
from data.catalog import load_catalog
from data.db import make_engine, make_sessionmaker, migrate, transaction
from data.models import Division, Person, PersonRole, Role
from delivery.courier import TelegramCourier
from delivery.pacing import PacingLimiter
from localtg import LocalBotApi, local_application_builder
from schedules import runtime as rt
from schedules.plan import SlotKey
from settings import load_settings

TELEGRAM_PER_SECOND = 30
FIRST_USER = 10_000_000


def _people(sessions: object, count: int) -> None:
    """``count`` people: a few coordinators, the rest contacts of the four divisions."""
    with transaction(sessions) as s:  # type: ignore[arg-type]
        load_catalog(s)
        divisions = list(s.scalars(select(Division.id).order_by(Division.id)))
        created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows = [
            {
                "telegram_user_id": FIRST_USER + n,
                "name": f"Henkilö {n}",
                "language": ("fi", "sv", "en")[n % 3],
                "division_id": divisions[n % len(divisions)],
                "active": True,
                "created_at": created,
            }
            for n in range(count)
        ]
        s.execute(insert(Person), rows)
        ids = list(s.scalars(select(Person.id).order_by(Person.id)))
        roles = [
            {"person_id": pid, "role": Role.COORDINATOR if n < 4 else Role.CONTACT}
            for n, pid in enumerate(ids)
        ]
        s.execute(insert(PersonRole), roles)


async def bench(count: int, url: str | None) -> int:
    settings = load_settings(env={})
    workdir = tempfile.TemporaryDirectory(prefix="reminders-bench-")
    url = url or f"sqlite:///{Path(workdir.name) / 'bench.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    _people(sessions, count)

    api = LocalBotApi(enforce_limits=True)
    for n in range(count):
        api.user(FIRST_USER + n, f"U{n}", has_started=True)
    limiter = PacingLimiter()
    application = local_application_builder(api).rate_limiter(limiter).build()
    slot = SlotKey("listatekstit", dt.date(2026, 11, 20), 14)
    send_time = dt.datetime(2026, 11, 6, 9, 0, tzinfo=settings.tz).astimezone(dt.UTC)
    attach(application, Services(settings, sessions, lambda: send_time))
    schedules.install(application, courier=TelegramCourier(application))
    assert application.job_queue is not None
    for job in application.job_queue.get_jobs_by_name(rt.CATCH_UP_JOB):
        job.schedule_removal()

    await application.initialize()
    try:
        started = time.perf_counter()
        result = await rt.run_slot(application, slot)
        elapsed = time.perf_counter() - started
    finally:
        await application.shutdown()

    with transaction(sessions) as s:
        statuses = Counter(
            r.status.value for r in ledger.rows_for(s, deadline_code=slot.deadline_code)
        )
    per_chat = Counter(
        c.params.get("chat_id") for c in api.calls_to("sendMessage") if c.status == 200
    )
    duplicates = sum(1 for n in per_chat.values() if n > 1)
    floor = count / TELEGRAM_PER_SECOND
    print(f"reminders sent:      {result.sent} / {count} (failed {result.failed})")
    print(f"total time:          {elapsed:.2f} s")
    print(f"floor ({count}/30 s):  {floor:.2f} s")
    print(f"ratio:               {elapsed / floor:.3f}x (target <= 1.1x)")
    print(
        f"rate-limit errors:   {api.rate_limit_errors} (HTTP 429 answers from the local Telegram)"
    )
    print(
        f"pacing:              gate waits {limiter.gate_waits}, flood waits {limiter.flood_waits}"
    )
    print(f"ledger:              {dict(statuses)}; chats messaged twice: {duplicates}")
    engine.dispose()
    workdir.cleanup()
    missed = [
        text
        for failed, text in (
            (result.sent != count, f"{result.sent}/{count} reminders sent"),
            (api.rate_limit_errors != 0, f"{api.rate_limit_errors} rate-limit errors"),
            (duplicates != 0, f"{duplicates} chats messaged twice"),
            (elapsed > 1.1 * floor, f"{elapsed / floor:.3f}x the floor (target <= 1.1x)"),
        )
        if failed
    ]
    for text in missed:
        print(f"MISSED reminders: {text}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(bench(args.count, args.database_url))


if __name__ == "__main__":
    sys.exit(main())

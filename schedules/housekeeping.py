"""Housekeeping the scheduler leader does off the hot path: pruning the update inbox, and
making the year's reporting round before anyone saves in it.

Handled inbox rows are kept `data.inbox.KEEP_HANDLED_DAYS` days (a late redelivery still
finds its first copy) and then deleted — by one replica (the leader), in batches of
`PRUNE_BATCH` rows, each its own short transaction run on a worker thread, with a pause
between batches. Before, the prune ran inside the transaction that recorded a getUpdates
batch, as one sequential scan: 0.9 s at 100 k rows and 4 s at 300 k on SQLite, holding the
write lock and blocking the event loop while every chat waited.

The reporting round of the current year is made ahead (`ensure_round`): at every start-up
(``bot.app``) and by the leader at the turn of each year (`ROUND_JOB`), so the year's first
save does not spend a statement making it. The save keeps its race-safe upsert
(``data.progress.get_or_create_round``) as the fallback: a start-up that could not make the
round, or a clock that crossed New Year before the leader's job ran, breaks nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from core.services import services
from data import inbox, progress
from data.db import off_loop, transaction

log = logging.getLogger(__name__)

PRUNE_JOB = "housekeeping:inbox-prune"
ROUND_JOB = "housekeeping:round-ahead"
#: When (local time, every day) the leader makes the year's round: just after midnight, so
#: on 1 January the round is there before the year's first save.
ROUND_AT = dt.time(0, 0, 30)
#: How often the leader prunes, and how soon after it starts leading.
PRUNE_EVERY_SECONDS = 6 * 3600
PRUNE_FIRST_SECONDS = 60
#: Rows deleted per transaction, and the pause between two batches.
PRUNE_BATCH = 1000
PRUNE_PAUSE_SECONDS = 0.05

App = Any
JobContext = Any


async def prune_inbox(application: App, *, batch: int = PRUNE_BATCH) -> int:
    """Delete the handled inbox rows past their keep time, batch by batch; how many."""
    found = services(application)
    total = 0

    def one_batch(now: dt.datetime) -> int:
        with transaction(found.sessions) as session:
            return inbox.prune(
                session, older_than_days=inbox.KEEP_HANDLED_DAYS, now=now, limit=batch
            )

    while True:
        deleted = await asyncio.to_thread(one_batch, found.now())
        total += deleted
        if deleted < batch:
            break
        await asyncio.sleep(PRUNE_PAUSE_SECONDS)
    if total:
        log.info("inbox: pruned %d handled update(s)", total)
    return total


async def _prune_job(context: JobContext) -> None:
    await prune_inbox(context.application)


async def ensure_round(application: App) -> bool:
    """Make the current reporting year's round if it does not exist yet (one race-safe
    upsert, nothing when this process already holds the round); True when it exists.

    Best effort: a failure is logged and the year's first save makes the round instead."""
    found = services(application)
    year = found.current_year()

    def make() -> None:
        with transaction(found.sessions) as session:
            progress.get_or_create_round(session, year)

    try:
        await off_loop(make, sessions=found.sessions)
    except Exception:
        log.warning("could not make the reporting round of %s ahead; the first save will", year)
        return False
    return True


async def _round_job(context: JobContext) -> None:
    await ensure_round(context.application)


def schedule(application: App) -> None:
    """Register the leader's housekeeping jobs (idempotent)."""
    job_queue = application.job_queue
    if job_queue is None:
        return
    if not job_queue.get_jobs_by_name(PRUNE_JOB):
        job_queue.run_repeating(
            _prune_job,
            interval=PRUNE_EVERY_SECONDS,
            first=PRUNE_FIRST_SECONDS,
            name=PRUNE_JOB,
            job_kwargs={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
    if not job_queue.get_jobs_by_name(ROUND_JOB):
        job_queue.run_daily(
            _round_job,
            time=ROUND_AT.replace(tzinfo=services(application).settings.tz),
            name=ROUND_JOB,
            job_kwargs={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )

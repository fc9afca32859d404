"""Housekeeping the scheduler leader does off the hot path: pruning the update inbox.

Handled inbox rows are kept `data.inbox.KEEP_HANDLED_DAYS` days (a late redelivery still
finds its first copy) and then deleted — by one replica (the leader), in batches of
`PRUNE_BATCH` rows, each its own short transaction run on a worker thread, with a pause
between batches. Before, the prune ran inside the transaction that recorded a getUpdates
batch, as one sequential scan: 0.9 s at 100 k rows and 4 s at 300 k on SQLite, holding the
write lock and blocking the event loop while every chat waited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from core.services import services
from data import inbox
from data.db import transaction

log = logging.getLogger(__name__)

PRUNE_JOB = "housekeeping:inbox-prune"
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


def schedule(application: App) -> None:
    """Register the leader's housekeeping jobs (idempotent)."""
    job_queue = application.job_queue
    if job_queue is None or job_queue.get_jobs_by_name(PRUNE_JOB):
        return
    job_queue.run_repeating(
        _prune_job,
        interval=PRUNE_EVERY_SECONDS,
        first=PRUNE_FIRST_SECONDS,
        name=PRUNE_JOB,
        job_kwargs={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
    )

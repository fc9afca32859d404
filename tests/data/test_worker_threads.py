"""The database's worker threads get the interpreter back soon after each round trip: the
first worker pool lowers CPython's switch interval (5 ms) to `SWITCH_INTERVAL_SECONDS`, and
never raises one set lower."""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from collections.abc import Iterator

import pytest

import data.db as db_module
from data.db import SWITCH_INTERVAL_SECONDS, db_threads, off_loop
from tests.conftest import Database


@pytest.fixture
def fresh_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No worker pool made yet (as in a starting process); the interval restored after."""
    before = sys.getswitchinterval()
    monkeypatch.setattr(db_module, "_executors", {})
    try:
        yield
    finally:
        for executor in db_module._executors.values():
            executor.shutdown(wait=True)
        sys.setswitchinterval(before)


def test_the_first_worker_pool_lowers_the_switch_interval(db: Database, fresh_pools: None) -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    worker = asyncio.run(off_loop(threading.current_thread, sessions=db.sessions))
    assert worker is not threading.main_thread()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)
    assert SWITCH_INTERVAL_SECONDS < 0.005


def test_a_lower_switch_interval_is_kept(db: Database, fresh_pools: None) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS / 4)
    asyncio.run(off_loop(threading.current_thread, sessions=db.sessions))
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS / 4)


class Refused(Exception):
    pass


def _refuse() -> None:
    raise Refused("no")


def test_a_failure_reaches_the_caller_and_context_variables_go_along(db: Database) -> None:
    """What the work raises is raised to the awaiting caller; the caller's context variables
    are seen on the worker thread (the bench's step label, the reply capture)."""
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")

    async def run() -> str:
        with pytest.raises(Refused):
            await off_loop(_refuse, sessions=db.sessions)
        marker.set("caller's")
        return await off_loop(marker.get, sessions=db.sessions)

    assert asyncio.run(run()) == "caller's"


def test_work_cancelled_while_queued_never_runs(db: Database) -> None:
    """A caller cancelled before a worker took its work (every worker busy) leaves nothing
    to run: the work is skipped, as an executor skips a cancelled future; the work queued
    after it still runs, in order."""
    ran: list[str] = []
    release = threading.Event()

    async def run() -> None:
        busy = [
            asyncio.ensure_future(off_loop(release.wait, 10, sessions=db.sessions))
            for _ in range(db_threads(db.sessions))
        ]
        queued = asyncio.ensure_future(off_loop(ran.append, "cancelled", sessions=db.sessions))
        after = asyncio.ensure_future(off_loop(ran.append, "after", sessions=db.sessions))
        await asyncio.sleep(0)  # every call submitted; the workers wait on `release`
        queued.cancel()
        release.set()
        assert all(await asyncio.gather(*busy))
        await after
        assert queued.cancelled()

    asyncio.run(run())
    assert ran == ["after"]

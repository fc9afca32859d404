"""The database's worker threads get the interpreter back soon after each round trip: the
first worker pool lowers CPython's switch interval (5 ms) to `SWITCH_INTERVAL_SECONDS`, and
never raises one set lower."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator

import pytest

import data.db as db_module
from data.db import SWITCH_INTERVAL_SECONDS, off_loop
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

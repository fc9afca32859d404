"""A broadcast "something changed" signal for waiters inside one event loop.

Long polling, the user driver and HTTP clients all wait for state changes (a new update, an
acknowledged offset, a bot message). A fresh `asyncio.Event` per generation lets synchronous
code signal without holding a lock, and lets waiters re-check their own condition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Notifier:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ``predicate()`` holds; False if ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

"""Updates of different chats are handled concurrently, one chat's strictly in order.

PTB handles one update at a time unless told otherwise, so one person's slow reply (a flood
wait of 20 s from Telegram) or a noisy group chat stalls everyone. With this processor
(``ApplicationBuilder().concurrent_updates(ChatOrderedUpdateProcessor())``) each chat has its
own turn: the next update of a chat starts only when its previous one has finished, while
other chats go on. It works for any update source that feeds ``application.update_queue``
(PTB's Updater, our own polling loop, a webhook, the durable inbox at start-up).

Database steps are admitted a few at a time (``db_steps``, the size of the database's worker
pool, ``data.db.db_threads``): an update takes a step slot when its chat's turn comes and gives
it back as soon as its database work is done (`step_done`, called by the guided-flow router
right after its commit, before the replies go out), or after `STEP_HOLD_SECONDS` whatever it
does (a feature handler that sends, waits for a flood limit or for a lock). Without it, a
burst of N updates all start their database work at once and each one's handling time is N
times its own work, spent queueing for the same worker threads inside the handler; with it
they queue before they start, and the worker pool is never asked for more than it can run.
A slot never waits on anything but the database work itself, so a held row or a flood wait
delays the others by at most `STEP_HOLD_SECONDS`.

Why the order holds: PTB starts one task per update, in queue order, and each task reaches
``do_process_update`` without yielding (the base class's semaphore is sized so it never
waits in practice, and its waiters are served first come, first served anyway). There it
queues on its chat's `asyncio.Lock`, which wakes waiters in arrival order. Only after it has
its chat's turn does an update take one of the ``max_running`` slots, so updates waiting
behind a busy chat never occupy the slots other chats need.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: Updates handled at the same time (across chats).
MAX_RUNNING = 64
#: Updates accepted (running or waiting for their chat's turn) before PTB's fetcher waits.
MAX_PENDING = 10_000
#: A step slot is given back after this long even if the update never says its database
#: work is done (see the module docstring).
STEP_HOLD_SECONDS = 0.1


class _StepSlot:
    """One admitted database step; given back once (`release`), at the latest by a timer."""

    __slots__ = ("_semaphore", "_timer", "released")

    def __init__(self, semaphore: asyncio.Semaphore, hold: float) -> None:
        self._semaphore = semaphore
        self.released = False
        self._timer = asyncio.get_running_loop().call_later(hold, self.release)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._timer.cancel()
            self._semaphore.release()


_SLOT: contextvars.ContextVar[_StepSlot | None] = contextvars.ContextVar(
    "update_step_slot", default=None
)


def step_done() -> None:
    """The current update's database work is done: let the next update start its own."""
    slot = _SLOT.get()
    if slot is not None:
        slot.release()


@dataclass
class _Turn:
    """One chat's queue: the lock orders its updates, ``waiting`` says when it can go."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


def chat_key(update: object) -> int | None:
    """The chat whose order an update belongs to (the sender's id for chat-less updates such
    as inline queries); ``None`` for anything that needs no order."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats (at most ``max_running`` at once), sequential within a chat."""

    def __init__(
        self,
        max_running: int = MAX_RUNNING,
        max_pending: int = MAX_PENDING,
        *,
        db_steps: int | None = None,
        step_hold: float = STEP_HOLD_SECONDS,
    ) -> None:
        if max_pending < max_running:
            raise ValueError("max_pending must be at least max_running")
        if db_steps is not None and db_steps < 1:
            raise ValueError("db_steps must be at least 1")
        super().__init__(max_pending)
        self._max_running = max_running
        self._running: asyncio.Semaphore | None = None
        self._turns: dict[int, _Turn] = {}
        self._db_steps = db_steps
        self._step_hold = step_hold
        self._steps: asyncio.Semaphore | None = None

    @property
    def max_running(self) -> int:
        return self._max_running

    async def initialize(self) -> None:
        """The semaphore is made here so it belongs to the running event loop."""
        self._running = asyncio.Semaphore(self._max_running)
        self._turns = {}
        self._steps = asyncio.Semaphore(self._db_steps) if self._db_steps else None

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for the running updates before shutting down."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._running is None:
            await self.initialize()
        assert self._running is not None
        key = chat_key(update)
        if key is None:
            async with self._running:
                await self._admitted(coroutine)
            return
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.waiting += 1
        try:
            async with turn.lock, self._running:
                await self._admitted(coroutine)
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                # The chat is idle: forget it, so memory follows the busy chats only.
                del self._turns[key]

    async def _admitted(self, coroutine: Awaitable[Any]) -> None:
        """Run the update once a step slot is free (see the module docstring)."""
        if self._steps is None:
            await coroutine
            return
        await self._steps.acquire()
        slot = _StepSlot(self._steps, self._step_hold)
        token = _SLOT.set(slot)
        try:
            await coroutine
        finally:
            _SLOT.reset(token)
            slot.release()

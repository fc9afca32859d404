"""Pacing the bot's requests under Telegram's limits without one chat stalling another.

PTB's `AIORateLimiter` honours a flood wait (429 ``retry_after``) by pausing *every* request
of the process: a 20 s wait on one person's reply froze everyone's replies. Here a flood
wait pauses only the chat it was answered for; the overall (30/s) and per-group (20/min)
pacing is kept as PTB does it, with `aiolimiter`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from schedules.sender import retry_after_seconds

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

#: Forget a chat's flood wait once it is over; prune when this many chats are remembered.
_PRUNE_AT = 1_000


class ChatRateLimiter(BaseRateLimiter[int]):
    """Overall and per-group pacing; a flood wait delays only the chat it concerns."""

    def __init__(
        self,
        *,
        overall_per_second: int = 30,
        group_per_minute: int = 20,
        max_retries: int = 2,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1)
        self._group_rate = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._max_retries = max_retries
        #: How flood waits are waited (tests can hold one to prove nobody else waits).
        self.sleep = sleep
        self._clock = clock
        self._paused_until: dict[object, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up: limiters are made on first use."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group_limiter(self, chat_id: int | str) -> AsyncLimiter:
        if len(self._groups) > _PRUNE_AT:
            # Drop the groups whose limiter has fully drained (they send nothing lately).
            self._groups = {k: v for k, v in self._groups.items() if not v.has_capacity(v.max_rate)}
        limiter = self._groups.get(chat_id)
        if limiter is None:
            limiter = self._groups[chat_id] = AsyncLimiter(self._group_rate, 60)
        return limiter

    async def _wait_for_chat(self, key: object) -> None:
        """If this chat is in a flood wait, wait for the rest of it (once)."""
        until = self._paused_until.get(key)
        if until is None:
            return
        remaining = until - self._clock()
        if remaining > 0:
            await self.sleep(remaining)
        if self._paused_until.get(key) == until:
            del self._paused_until[key]

    def _pause(self, key: object, seconds: float) -> None:
        now = self._clock()
        if len(self._paused_until) > _PRUNE_AT:
            self._paused_until = {k: t for k, t in self._paused_until.items() if t > now}
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), now + seconds)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        max_retries = self._max_retries if rate_limit_args is None else rate_limit_args
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        is_group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        for attempt in range(max_retries + 1):
            if chat_id is not None:
                await self._wait_for_chat(chat_id)
            try:
                if chat_id is None:
                    # Not about a chat (a button answer, the command menu): not paced.
                    return await callback(*args, **kwargs)
                group = self._group_limiter(chat_id) if is_group and self._group_rate else None
                async with contextlib.AsyncExitStack() as stack:
                    if group is not None:
                        await stack.enter_async_context(group)
                    await stack.enter_async_context(self._overall)
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == max_retries:
                    log.warning("flood wait for chat %s after %d retries", chat_id, max_retries)
                    raise
                wait = retry_after_seconds(error) + 0.1
                log.info("flood wait for %s: retrying in %.1f s", chat_id or endpoint, wait)
                if chat_id is None:
                    await self.sleep(wait)  # this request only
                else:
                    self._pause(chat_id, wait)  # the chat's other requests wait too
        raise AssertionError("unreachable")  # pragma: no cover

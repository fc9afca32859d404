"""Optional flood control: answer 429 where Telegram's documented limits would.

Telegram documents roughly 30 messages per second overall, 1 per second per chat and 20 per
minute per group. The real server is a little more forgiving with bursts; here the limits are
exact so a bot that relies on luck fails a test instead of production. Only successful sends
count, and the clock is injectable so tests can step time instead of sleeping.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: Methods that post a new message and therefore count against the limits.
SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})
#: Calls that are not messages but still spend the bot's overall budget (not a chat's): the
#: command menus, a chat's menu button, chat actions. Telegram documents no number for them;
#: a bot that sets thousands of menus at start-up meets 429s, so here they count against
#: the 30 per second like a message (and never against a chat's or a group's limit).
BUDGET_METHODS = frozenset(
    {"setmycommands", "deletemycommands", "setchatmenubutton", "sendchataction"}
)


@dataclass(frozen=True)
class FloodLimits:
    """Maximum sends per window (1 s, 1 s, 60 s); 0 disables that limit.

    ``time_scale`` multiplies the windows: 0.1 is Telegram's limits on a clock ten times as
    fast (20 messages to a group per 6 s, one per chat per 0.1 s), so a test of the group
    limit need not wait out a minute; the bot's spacings are shortened by the same factor.
    """

    overall_per_second: int = 30
    per_chat_per_second: int = 1
    group_per_minute: int = 20
    time_scale: float = 1.0


class FloodControl:
    """Rolling-window counters per bot and per chat."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._overall: deque[float] = deque()
        self._chats: dict[int | str, deque[float]] = {}
        self._groups: dict[int | str, deque[float]] = {}

    def retry_after(self, chat_id: int | str | None) -> int | None:
        """Seconds to wait (int ≥ 1) if a send to ``chat_id`` now would exceed a limit
        (``None``: a call that counts against the overall limit only, `BUDGET_METHODS`)."""
        now = self.clock()
        second, minute = self.limits.time_scale, 60.0 * self.limits.time_scale
        waits = [_wait(self._overall, self.limits.overall_per_second, second, now)]
        if chat_id is not None:
            waits.append(
                _wait(self._chats.get(chat_id), self.limits.per_chat_per_second, second, now)
            )
        if chat_id is not None and _is_group(chat_id):
            groups = self._groups.get(chat_id)
            waits.append(_wait(groups, self.limits.group_per_minute, minute, now))
        longest = max(waits)
        return max(1, math.ceil(longest)) if longest > 0 else None

    def record(self, chat_id: int | str | None) -> None:
        now = self.clock()
        self._overall.append(now)
        if chat_id is None:
            return
        self._chats.setdefault(chat_id, deque()).append(now)
        if _is_group(chat_id):
            self._groups.setdefault(chat_id, deque()).append(now)


def _is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def _wait(stamps: deque[float] | None, limit: int, window: float, now: float) -> float:
    """How long until one more event fits into the window (0 if it fits now)."""
    if not stamps or limit <= 0:
        return 0.0
    while stamps and stamps[0] <= now - window:
        stamps.popleft()
    if len(stamps) < limit:
        return 0.0
    return stamps[len(stamps) - limit] + window - now

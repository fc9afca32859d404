"""Sender units without a bot: the pacer's arithmetic and which errors may have delivered."""

from __future__ import annotations

import itertools

from schedules.sender import Pacer

from .conftest import VirtualTime


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most sends in any half-open window (t - window, t], as Telegram counts them."""
    return max(sum(1 for u in times if t - window < u <= t) for t in times)


def test_sends_are_evenly_spaced_and_never_more_than_30_in_a_second() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time, sleep=time.sleep)
    slots = [pacer.reserve(chat) for chat in range(200)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= pacer.interval - 1e-9
    assert _max_in_window(slots) == 30
    assert slots[-1] - slots[0] < 200 / 29.0


def test_a_chat_waits_its_second_without_holding_up_the_others() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time, sleep=time.sleep)
    first = pacer.reserve(1)
    again = pacer.reserve(1)
    others = [pacer.reserve(chat) for chat in range(2, 12)]
    assert again - first >= 1.05 - 1e-9
    assert max(others) < again  # the other chats went first, into the gap
    assert _max_in_window([first, again, *others]) <= 30


async def test_a_flood_wait_pauses_every_send() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time, sleep=time.sleep)
    await pacer.acquire(1)
    pacer.pause(3)
    before = time.now
    await pacer.acquire(2)
    assert time.now - before >= 3.0
    assert pacer.flood_waits == 1


def test_errors_after_which_delivery_is_unknown_are_told_apart() -> None:
    from telegram.error import BadRequest, NetworkError, TimedOut

    from schedules.sender import delivery_unknown

    assert delivery_unknown(TimedOut())
    assert delivery_unknown(NetworkError("httpx.ReadError: connection reset"))
    assert not delivery_unknown(TimedOut("Pool timeout: ... Request was *not* sent to Telegram."))
    assert not delivery_unknown(NetworkError("httpx.ConnectError: refused"))
    assert not delivery_unknown(NetworkError("Bad Gateway"))
    assert not delivery_unknown(BadRequest("Chat not found"))

"""The bot's rate limiter on virtual time: spacing, per-chat waits, RetryAfter, the hook."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from delivery.courier import delivery_unknown
from delivery.pacing import PACE_CHAT, PacingLimiter, SendCancelled

from .conftest import VirtualTime


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most sends in any half-open window (t - window, t], as Telegram counts them."""
    return max(sum(1 for u in times if t - window < u <= t) for t in times)


class Recorder:
    """A fake Bot API call that records when each chat was sent to."""

    def __init__(self, time: VirtualTime, fail: dict[int, list[BaseException]] | None = None):
        self.time = time
        self.sent: list[tuple[float, int]] = []
        self.fail = fail or {}

    def call(self, chat_id: int) -> Any:
        async def callback() -> bool:
            errors = self.fail.get(chat_id)
            if errors:
                raise errors.pop(0)
            self.sent.append((self.time.now, chat_id))
            return True

        return callback


async def _send(
    limiter: PacingLimiter, recorder: Recorder, chat_id: int, **rate_limit_args: Any
) -> Any:
    return await limiter.process_request(
        recorder.call(chat_id),
        (),
        {},
        "sendMessage",
        {"chat_id": chat_id, "text": "x"},
        {PACE_CHAT: True, **rate_limit_args},
    )


async def test_messages_are_evenly_spaced_and_never_more_than_30_in_a_second() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep)
    recorder = Recorder(time)
    for chat in range(200):
        await _send(limiter, recorder, chat)
    times = [t for t, _chat in recorder.sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= limiter.interval - 1e-9
    assert _max_in_window(times) <= 30
    assert times[-1] - times[0] < 200 / 29.0


async def test_a_chat_waits_its_second_without_holding_up_the_others() -> None:
    # Real loop time (virtual time cannot interleave concurrent sleepers), short spacings.
    limiter = PacingLimiter(per_second=1000, limit=1000, per_chat_seconds=0.3)
    loop = asyncio.get_running_loop()
    sent: dict[int, list[float]] = {}

    def call(chat_id: int) -> Any:
        async def callback() -> bool:
            sent.setdefault(chat_id, []).append(loop.time())
            return True

        return callback

    async def send(chat_id: int) -> None:
        await limiter.process_request(
            call(chat_id), (), {}, "sendMessage", {"chat_id": chat_id}, {PACE_CHAT: True}
        )

    await send(1)
    await asyncio.gather(send(1), *(send(chat) for chat in range(2, 12)))
    first, second = sent[1]
    assert second - first >= 0.3
    assert max(t for chat, (t,) in ((c, v) for c, v in sent.items() if c != 1)) < second


async def test_a_send_held_by_calls_in_flight_goes_when_one_is_answered() -> None:
    # Real loop time: the calls are held until the test lets them go (Telegram slow to answer).
    limiter = PacingLimiter(per_second=1000, limit=2)
    held = asyncio.Event()
    in_flight = 0
    most = 0
    started: list[int] = []

    def call(chat_id: int) -> Any:
        async def callback() -> bool:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            started.append(chat_id)
            try:
                if chat_id < 3:
                    await held.wait()
            finally:
                in_flight -= 1
            return True

        return callback

    async def send(chat_id: int) -> None:
        await limiter.process_request(
            call(chat_id), (), {}, "sendMessage", {"chat_id": chat_id}, {}
        )

    slow = [asyncio.create_task(send(chat)) for chat in (1, 2)]
    while len(started) < 2:
        await asyncio.sleep(0)
    third = asyncio.create_task(send(3))
    while not limiter.gate_waits and len(started) < 3:  # at the gate, or (wrongly) through
        await asyncio.sleep(0)
    assert started == [1, 2]
    held.set()
    await asyncio.gather(third, *slow)
    assert started == [1, 2, 3]
    assert most == 2


async def test_retry_after_pauses_only_the_chat_concerned() -> None:
    # Real loop time, a short flood wait: chat 2 is served while chat 1 waits.
    limiter = PacingLimiter(per_second=1000, limit=1000, per_chat_seconds=0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent: dict[int, float] = {}
    failures = {1: [RetryAfter(dt.timedelta(seconds=0.4))]}

    def call(chat_id: int) -> Any:
        async def callback() -> bool:
            if failures.get(chat_id):
                raise failures[chat_id].pop()
            sent[chat_id] = loop.time()
            return True

        return callback

    async def send(chat_id: int) -> None:
        await limiter.process_request(
            call(chat_id), (), {}, "sendMessage", {"chat_id": chat_id}, None
        )

    slow = asyncio.create_task(send(1))
    await asyncio.sleep(0.05)
    await send(2)
    await slow
    assert sent[2] - start < 0.2 <= 0.4 <= sent[1] - start
    assert limiter.flood_waits == 1


async def test_retry_after_gives_up_after_max_retries() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep, max_retries=2)
    recorder = Recorder(time, fail={1: [RetryAfter(1), RetryAfter(1), RetryAfter(1)]})
    with pytest.raises(RetryAfter):
        await _send(limiter, recorder, 1)
    assert recorder.sent == [] and limiter.flood_waits == 3


async def test_before_send_runs_just_before_the_call_and_can_cancel_it() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep)
    recorder = Recorder(time)
    await _send(limiter, recorder, 1)
    seen: list[float] = []

    async def hook() -> bool:
        seen.append(time.now)
        return True

    await _send(limiter, recorder, 1, before_send=hook)
    # Just before the send, after (almost all of) the chat's wait.
    first, second = (t for t, _chat in recorder.sent)
    assert second - first >= 1.05 - 1e-9
    assert seen and 0 <= second - seen[0] <= limiter.hook_lead + 1e-9

    async def refuse() -> bool:
        return False

    with pytest.raises(SendCancelled):
        await _send(limiter, recorder, 3, before_send=refuse)
    assert len(recorder.sent) == 2


async def test_button_answers_are_not_held_up_and_edits_take_a_turn_of_the_budget() -> None:
    """An edit that turns the question into the next one is a message in its place: it
    counts against the 30/s budget (a turn of the gate), but like any reply to the person
    it is not held to one per second in the chat. A chat action is no message but spends
    the budget all the same (``BUDGET_ONLY``): a turn of the gate, no chat's spacing."""
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep)
    recorder = Recorder(time)
    await _send(limiter, recorder, 1)
    before = time.now
    await limiter.process_request(
        recorder.call(1), (), {}, "answerCallbackQuery", {"chat_id": 1}, None
    )
    assert time.now == before
    for endpoint in ("editMessageText", "sendChatAction"):
        at = time.now
        await limiter.process_request(recorder.call(1), (), {}, endpoint, {"chat_id": 1}, None)
        assert 0 < time.now - at < 0.5


async def test_menu_calls_take_a_turn_of_the_budget_and_no_chats_spacing() -> None:
    """setMyCommands and the others of ``BUDGET_ONLY`` pass the overall gate like a message
    (so a replica's menu sync stays within its part of the 30/s), one gate interval apart,
    and never wait for a chat's one-per-second or a group's spacing."""
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep)
    recorder = Recorder(time)
    start = time.now
    for _ in range(limiter.limit):
        await limiter.process_request(recorder.call(-5), (), {}, "setMyCommands", {}, None)
    await limiter.process_request(
        recorder.call(-5), (), {}, "setChatMenuButton", {"chat_id": -5}, None
    )
    took = time.now - start
    # 31 calls: at the gate's even spacing (29.4/s), not a group's 3 s apart.
    assert limiter.limit * limiter.interval - 1e-9 <= took < 2 * limiter.window
    assert limiter.occupancy() > 0 and limiter.paused_until(-5) == 0.0


def test_errors_after_which_delivery_is_unknown_are_told_apart() -> None:
    assert delivery_unknown(TimedOut())
    assert delivery_unknown(NetworkError("httpx.ReadError: connection reset"))
    assert not delivery_unknown(TimedOut("Pool timeout: ... Request was *not* sent to Telegram."))
    assert not delivery_unknown(NetworkError("httpx.ConnectError: refused"))
    assert not delivery_unknown(NetworkError("Bad Gateway"))
    assert not delivery_unknown(BadRequest("Chat not found"))


async def test_replies_are_not_held_to_one_per_second_but_reminders_wait_after_them() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep)
    recorder = Recorder(time)
    for _ in range(3):  # a reply in three messages
        await limiter.process_request(recorder.call(1), (), {}, "sendMessage", {"chat_id": 1}, None)
    assert recorder.sent[-1][0] - recorder.sent[0][0] < 0.1
    await _send(limiter, recorder, 1)  # a reminder right after: waits its second
    assert recorder.sent[-1][0] - recorder.sent[-2][0] >= 1.05 - 1e-9

"""Flood limits with an injected clock: no sleeping, exact windows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from localtg import FloodLimits, LocalBotApi, LocalRequest


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """RetryAfter reads its own retry_after; without this PTB warns about the int form."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limited(clock: FakeClock) -> AsyncIterator[tuple[LocalBotApi, Bot]]:
    api = LocalBotApi(enforce_limits=True, clock=clock)
    async with Bot("1:TOKEN", request=LocalRequest(api)) as bot:
        yield api, bot


async def test_one_message_per_second_per_chat(
    limited: tuple[LocalBotApi, Bot], clock: FakeClock
) -> None:
    api, bot = limited
    user = api.user(1, "Aino", has_started=True)
    await bot.send_message(user.id, "1")
    clock.now += 0.5
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user.id, "2")
    assert caught.value.retry_after.total_seconds() == 1  # type: ignore[union-attr]
    assert api.rate_limit_errors == 1
    clock.now += 0.5
    await bot.send_message(user.id, "3")
    assert user.texts() == ["1", "3"]


async def test_thirty_messages_per_second_overall(
    limited: tuple[LocalBotApi, Bot], clock: FakeClock
) -> None:
    api, bot = limited
    users = [api.user(100 + i, "U", has_started=True) for i in range(31)]
    for user in users[:30]:
        await bot.send_message(user.id, "hei")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[30].id, "hei")
    clock.now += 1.0
    await bot.send_message(users[30].id, "hei")
    assert api.rate_limit_errors == 1


async def test_twenty_per_minute_per_group(
    limited: tuple[LocalBotApi, Bot], clock: FakeClock
) -> None:
    api, bot = limited
    group = api.group(-5, "Tiimi")
    for _ in range(20):
        await bot.send_message(group.id, "hei")
        clock.now += 1.0
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "liikaa")
    assert caught.value.retry_after.total_seconds() == 40  # type: ignore[union-attr]


async def test_limits_off_by_default_and_configurable(clock: FakeClock) -> None:
    api = LocalBotApi(clock=clock)
    async with Bot("1:TOKEN", request=LocalRequest(api)) as bot:
        api.user(1, "Aino", has_started=True)
        for _ in range(5):
            await bot.send_message(1, "hei")
    relaxed = LocalBotApi(
        enforce_limits=True, limits=FloodLimits(per_chat_per_second=3), clock=clock
    )
    async with Bot("1:TOKEN", request=LocalRequest(relaxed)) as bot:
        relaxed.user(1, "Aino", has_started=True)
        for _ in range(3):
            await bot.send_message(1, "hei")
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "hei")

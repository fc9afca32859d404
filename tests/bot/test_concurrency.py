"""One chat's trouble stalls no one: chats are handled concurrently, each in order.

Updates are queued straight into the local Telegram (as many people typing at once would),
not through the driver's ``send`` (which waits until the bot has handled *everything*).
"""

from __future__ import annotations

import asyncio
import time

from localtg import FloodLimits, LocalUser
from localtg.limits import FloodControl
from localtg.models import ChatInfo

from .conftest import BotHarness

#: A private reply must come this fast even while another chat is stuck or noisy.
PROMPT_SECONDS = 1.0


def _queue(bot: BotHarness, user: LocalUser, text: str, chat: ChatInfo | None = None) -> int:
    """Queue a message without waiting for the bot; returns its update id."""
    return bot.api.push_text(user.info, chat or user.chat, text)[1]


async def _reply_seconds(bot: BotHarness, user: LocalUser, text: str) -> float:
    """Real seconds from queueing ``text`` until the bot's first reply in the user's chat."""
    mark = len(bot.api.events)
    started = time.monotonic()
    _queue(bot, user, text)
    await bot.api.wait_for_event(
        lambda e: e.message.chat_id == user.chat_id, after=mark, timeout=30
    )
    return time.monotonic() - started


async def test_a_flood_wait_on_one_persons_reply_does_not_delay_another_persons_start(
    bot: BotHarness,
) -> None:
    waits: list[float] = []
    released = asyncio.Event()
    skipped = [0.0]
    limiter = bot.app.bot.rate_limiter
    assert limiter is not None

    async def held_flood_wait(seconds: float) -> None:
        # Telegram said "retry after 20": the wait is held until the test has measured the
        # other person's reply, then its 20 s pass at once on the limiter's clock. The
        # limiter's short spacing waits (under 30 messages a second) pass normally.
        if seconds < 5:
            await asyncio.sleep(seconds)
            return
        waits.append(seconds)
        await released.wait()
        skipped[0] += seconds

    # The limiter's clock and sleep are injectable (virtual time); set them here.
    loop = asyncio.get_running_loop()
    limiter._clock = lambda: loop.time() + skipped[0]  # type: ignore[attr-defined]
    limiter._sleep = held_flood_wait  # type: ignore[attr-defined]
    slow, quick = bot.user(4001, "Hidas"), bot.user(4002, "Nopea")
    bot.api.fail_next("sendMessage", "429", chat_id=slow.id, retry_after=20)
    slow_update = _queue(bot, slow, "/ohje")
    try:
        for _ in range(200):
            if waits:
                break
            await asyncio.sleep(0.01)
        assert waits and waits[0] >= 19, f"the slow reply should be in its flood wait: {waits}"

        seconds = await _reply_seconds(bot, quick, "/start")
        print(f"\n/start behind a 20 s flood wait: {seconds:.3f} s")
        # An order of events, not a time: the flood wait is held until released below, so
        # a /start queued behind it would never have been answered here.
        assert not released.is_set() and not skipped[0], "the flood wait was over first"
        assert "kutsulinkki" in quick.last.text
        assert slow.messages == []
    finally:
        released.set()
    await bot.api.settle(slow_update)
    assert "/kieli" in slow.last.text


async def test_forty_commands_in_a_group_do_not_delay_a_private_start_and_the_group_is_left(
    bot: BotHarness,
) -> None:
    bot.api.flood = FloodControl(FloodLimits(), time.monotonic)  # Telegram's real limits
    member = bot.user(4101, "Meluisa")
    group = bot.api.group(-100500, "Kuka tahansa voi lisätä botin")
    noise = [_queue(bot, member, f"/ohje@mittaribotti_bot {n}", group.chat) for n in range(40)]

    seconds = await _reply_seconds(bot, bot.user(4102, "Yksityinen"), "/start")
    print(f"\n/start behind 40 group commands: {seconds:.3f} s")

    assert seconds < PROMPT_SECONDS, f"/start took {seconds:.2f} s behind a noisy group"
    await bot.api.settle(noise[-1])
    assert [m.text for m in group.messages] == [
        "Toimin vain yksityiskeskusteluissa. Avaa yksityinen keskustelu kanssani jatkaaksesi."
    ]
    assert group.chat.left
    assert len(bot.api.calls_to("leaveChat")) == 1
    assert bot.api.rate_limit_errors == 0


async def test_one_persons_messages_are_answered_in_the_order_they_were_sent(
    bot: BotHarness,
) -> None:
    aino = bot.user(4201, "Aino")
    # The first reply waits out a real 1 s flood wait; the later ones must still come after.
    bot.api.fail_next("sendMessage", "429", chat_id=aino.id, retry_after=1)
    updates = [_queue(bot, aino, text) for text in ("/ohje", "/kieli", "/start")]
    other = await _reply_seconds(bot, bot.user(4202, "Toinen"), "/start")
    await bot.api.settle(updates[-1])
    texts = aino.texts()
    assert len(texts) == 3
    assert "/kieli" in texts[0] and texts[1] == "Valitse kieli:" and "kutsulinkki" in texts[2]
    assert other < PROMPT_SECONDS

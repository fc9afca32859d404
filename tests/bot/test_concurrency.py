"""One chat's trouble stalls no one: chats are handled concurrently, each in order.

Updates are queued straight into the local Telegram (as many people typing at once would),
not through the driver's ``send`` (which waits until the bot has handled *everything*).
"""

from __future__ import annotations

import asyncio
import threading
import time

from localtg import FloodLimits, LocalUser
from localtg.limits import FloodControl
from localtg.models import ChatInfo

from .conftest import BotHarness

#: A ceiling for waits on the bot (a loaded machine), never the asserted property.
CEILING_SECONDS = 120.0


def _queue(bot: BotHarness, user: LocalUser, text: str, chat: ChatInfo | None = None) -> int:
    """Queue a message without waiting for the bot; returns its update id."""
    return bot.api.push_text(user.info, chat or user.chat, text)[1]


async def _reply_seconds(bot: BotHarness, user: LocalUser, text: str) -> float:
    """Real seconds from queueing ``text`` until the bot's first reply in the user's chat."""
    mark = len(bot.api.events)
    started = time.monotonic()
    _queue(bot, user, text)
    await bot.api.wait_for_event(
        lambda e: e.message.chat_id == user.chat_id, after=mark, timeout=CEILING_SECONDS
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
    # Telegram holds the bot's message to the group until the private /start is answered:
    # the group's updates, handled in order, are all stuck behind it meanwhile.
    group_answered = threading.Event()
    bot.api.slow_next("sendMessage", CEILING_SECONDS, chat_id=-100500, until=group_answered)
    noise = [_queue(bot, member, f"/ohje@mittaribotti_bot {n}", group.chat) for n in range(40)]
    try:
        private = bot.user(4102, "Yksityinen")
        seconds = await _reply_seconds(bot, private, "/start")
        # An order of events, not a time: answered while the group was still held up.
        assert "kutsulinkki" in private.last.text
        assert group.messages == [], "the private /start waited for the group"
    finally:
        group_answered.set()
    print(f"\n/start behind 40 group commands: {seconds:.3f} s")
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
    # The first reply waits out a 1 s flood wait, held until another person has been
    # answered (an order of events, whatever the machine's load); the later ones must
    # still come after it.
    released = asyncio.Event()
    held: list[float] = []
    limiter = bot.app.bot.rate_limiter
    assert limiter is not None

    async def held_flood_wait(seconds: float) -> None:
        if seconds < 0.5:  # the limiter's short spacing waits pass normally
            await asyncio.sleep(seconds)
            return
        held.append(seconds)
        await released.wait()
        await asyncio.sleep(seconds)  # then the wait itself, for real

    limiter._sleep = held_flood_wait  # type: ignore[attr-defined]
    bot.api.fail_next("sendMessage", "429", chat_id=aino.id, retry_after=1)
    updates = [_queue(bot, aino, text) for text in ("/ohje", "/kieli", "/start")]
    try:
        deadline = asyncio.get_running_loop().time() + CEILING_SECONDS
        while not held and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert held, "Aino's first reply never reached its flood wait"
        other = bot.user(4202, "Toinen")
        seconds = await _reply_seconds(bot, other, "/start")
        assert "kutsulinkki" in other.last.text
        assert aino.messages == [], "the other person waited for Aino's flood wait"
    finally:
        released.set()
    await bot.api.settle(updates[-1])
    texts = aino.texts()
    assert len(texts) == 3
    assert "/kieli" in texts[0] and texts[1] == "Valitse kieli:" and "kutsulinkki" in texts[2]
    print(f"\n/start beside another chat's flood wait: {seconds:.3f} s")

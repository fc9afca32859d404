"""Messages to a group keep Telegram's 20 a minute, on the shared clock of every replica, and
a group's reply goes through the outbox (issue 19, ``delivery.pacing``, ``delivery.capture``).

The fake Bot API answers 429 exactly where Telegram's limits are, here on a clock ten times
as fast (``FloodLimits(time_scale=0.1)``: 20 messages to a group per 6 s, one per chat per
0.1 s), and the bot's group spacing is shortened by the same factor (3.25 s → 0.325 s on
the shared clock, 3.05 s → 0.305 s in each process): the rule is proved without waiting out
a minute. Two replicas (each a real Application with its own limiter and outbox sender, as
two processes would have) hold more than 20 messages for one group and deliver them at
once; with spacing kept per replica only they would send two at a time.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy import select

from data import outbox
from data.models import OutboxMessage
from delivery.outbox import sender
from localtg import LocalBotApi
from localtg.limits import FloodLimits
from localtg.models import BotMessageEvent

from ..conftest import Database
from .conftest import BotHarness, replica_senders

SCALE = 0.1
GROUP = -100_777
MESSAGES = 26  # more than Telegram's 20 a minute


def _message(chat_id: int, text: str) -> Any:
    return (chat_id, "sendMessage", {"chat_id": chat_id, "text": text})


async def test_more_than_20_messages_to_one_group_from_two_replicas_all_arrive_without_a_429(
    db: Database, stack: AsyncExitStack
) -> None:
    api = LocalBotApi(enforce_limits=True, limits=FloodLimits(time_scale=SCALE))
    api.group(GROUP, "Strategiaryhmä")
    arrivals: list[float] = []

    def record(event: BotMessageEvent) -> None:
        if event.kind == "sent" and event.message.chat_id == GROUP:
            arrivals.append(time.monotonic())

    api.on_bot_message(record)
    a, b = await replica_senders(stack, db, api, 2, scale=SCALE)
    with db.transaction() as session:
        held = [
            replica.write(
                session,
                [_message(GROUP, f"{name} {n}") for n in range(MESSAGES // 2)],
                update_id=None,
            )
            for name, replica in (("a", a), ("b", b))
        ]
    await asyncio.gather(a.deliver(held[0]), b.deliver(held[1]))

    assert api.rate_limit_errors == 0
    assert (a.sent, b.sent) == (MESSAGES // 2, MESSAGES // 2)
    assert len(arrivals) == MESSAGES
    await a.flush()
    await b.flush()
    with db.session() as session:
        statuses = list(session.scalars(select(OutboxMessage.status)))
    assert statuses == [outbox.SENT] * MESSAGES


async def test_in_a_group_the_words_and_the_leave_go_through_the_outbox_in_order(
    bot: BotHarness,
) -> None:
    user = bot.user(8201, "Aino")
    group = bot.api.group(-100_201, "Strategiaryhmä")
    await user.send_in(group, "/tilanne")
    found = sender(bot.app)
    assert found is not None
    await found.flush()  # the sent marks are written a moment after the sends
    assert len(group.messages) == 1
    assert "yksityiskeskusteluissa" in group.messages[0].text
    with bot.db.session() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == -100_201)
                .order_by(OutboxMessage.id)
            )
        )
    assert [(row.method, row.status) for row in rows] == [
        ("sendMessage", outbox.SENT),
        ("leaveChat", outbox.SENT),
    ]
    sent = [c.method for c in bot.api.calls if c.method in ("sendMessage", "leaveChat")]
    assert sent[-2:] == ["sendMessage", "leaveChat"]  # the words first, then the leave

"""Two replicas sending to the same chats keep Telegram's one-per-second per chat together.

Each replica here is a real Application of its own (its own rate limiter and outbox sender,
as two processes would have) on one database and one fake Bot API that answers 429 exactly
where Telegram's limits are (1 message per second per chat, 30 per second overall). Both
replicas hold paced messages (reminders, nudges) for the same chats and deliver them at
once: with limits kept per replica only, each chat would get two messages in the same
second; with the chat's clock in the database (``data.outbox.start_sending``) none is
refused. The bot's own spacing is what is measured, so the test waits on the deliveries,
not on a wall-clock budget.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import select

from data import outbox
from data.models import OutboxMessage
from localtg import LocalBotApi
from localtg.models import BotMessageEvent

from ..conftest import Database
from .conftest import replica_senders

CHATS = (7101, 7102, 7103)


def _arrivals(api: LocalBotApi) -> dict[int, list[float]]:
    """When each chat received a message, as the fake Telegram saw it."""
    seen: dict[int, list[float]] = {}

    def record(event: BotMessageEvent) -> None:
        if event.kind == "sent":
            seen.setdefault(event.message.chat_id, []).append(time.monotonic())

    api.on_bot_message(record)
    return seen


def _message(chat_id: int, text: str) -> Any:
    return (chat_id, "sendMessage", {"chat_id": chat_id, "text": text})


async def test_two_replicas_send_paced_messages_to_one_chat_a_second_apart_without_a_429(
    db: Database, stack: AsyncExitStack
) -> None:
    api = LocalBotApi(enforce_limits=True)
    for chat_id in CHATS:
        api.user(chat_id, f"P{chat_id}", has_started=True)
    arrivals = _arrivals(api)
    a, b = await replica_senders(stack, db, api, 2)
    with db.transaction() as session:
        held = [
            {
                chat_id: replica.write(
                    session,
                    [_message(chat_id, f"{replica.name} {n}") for n in range(2)],
                    update_id=None,
                    paced=True,
                )
                for chat_id in CHATS
            }
            for replica in (a, b)
        ]
    # Each replica delivers each chat's rows as its background loop does: one task per chat.
    await asyncio.gather(
        *(
            replica.deliver(rows)
            for replica, rows_by_chat in zip((a, b), held, strict=True)
            for rows in rows_by_chat.values()
        )
    )

    assert api.rate_limit_errors == 0
    assert (a.sent, b.sent) == (6, 6)  # both replicas did send to every chat
    await a.flush()  # the sent marks are written a moment later, together
    await b.flush()
    with db.session() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {outbox.SENT}
    for chat_id in CHATS:
        times = arrivals[chat_id]
        assert len(times) == 4
        assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= 1.0


async def test_a_reminder_on_one_replica_waits_a_second_after_a_reply_from_another(
    db: Database, stack: AsyncExitStack
) -> None:
    """Replies are never held for the chat's clock, but they move it (on PostgreSQL, where
    replicas run; SQLite serves one process, whose own limiter does the same)."""
    if db.backend != "postgresql":
        pytest.skip("several replicas run on PostgreSQL only; one process spaces its own chats")
    api = LocalBotApi(enforce_limits=True)
    api.user(CHATS[0], "P", has_started=True)
    arrivals = _arrivals(api)
    a, b = await replica_senders(stack, db, api, 2)
    with db.transaction() as session:
        reply = a.write(session, [_message(CHATS[0], "reply")], update_id=1)
        reminder = b.write(session, [_message(CHATS[0], "reminder")], update_id=None, paced=True)
    await a.deliver(reply)
    await b.deliver(reminder)

    assert api.rate_limit_errors == 0
    [first, second] = arrivals[CHATS[0]]
    assert second - first >= 1.0

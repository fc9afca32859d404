"""Command menus and chat actions spend the bot's one Telegram budget (``delivery.pacing``).

setMyCommands, deleteMyCommands, setChatMenuButton and sendChatAction are not messages and
skip the outbox (each is idempotent and set again at the next start or change), but
Telegram counts a bot's calls on its token: the start-up menu sync (four calls a person)
made beside the replies went past 30 a second — four replicas each at their own pace. Here
each replica's sync takes its places at the same gate as its replies, within the part of
the budget the replica claimed, and the fake Bot API (which counts these calls against the
30 per second, ``localtg.limits.BUDGET_METHODS``) answers no 429.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from bot.admin.menus import install_all_menus
from localtg import LocalBotApi

from ..conftest import Database
from .conftest import register_contacts, replica_senders, write_messages

PEOPLE = 8
FIRST_PERSON = 7300
CHATS = range(7400, 7440)
#: A person's menu: the chat scope without a language and in each of fi, sv, en.
CALLS_PER_MENU = 4


async def test_the_menu_sync_and_the_replies_of_every_replica_stay_within_30_a_second(
    db: Database, stack: AsyncExitStack
) -> None:
    """Every replica syncs every menu at start-up (they start together: none has set one
    yet) while one of them delivers 40 replies: on PostgreSQL four replicas sharing the
    budget, on SQLite (one process) one. 0 × 429; every menu and every reply arrives."""
    replicas = 4 if db.backend == "postgresql" else 1
    api = LocalBotApi(enforce_limits=True)
    for chat_id in CHATS:
        api.user(chat_id, f"P{chat_id}", has_started=True)
    register_contacts(db, FIRST_PERSON, PEOPLE)
    senders = await replica_senders(stack, db, api, replicas)
    if replicas > 1:  # each replica's claim of the budget, as its own loop makes them
        for one in senders * 3:
            await one.claim_budget()
    busy = senders[0]
    rows = write_messages(db, busy, CHATS)
    work = asyncio.ensure_future(
        asyncio.gather(
            *(install_all_menus(one.application) for one in senders),
            *(busy.deliver([row]) for row in rows),
        )
    )
    while not work.done():  # the replicas' claims go on meanwhile
        if replicas > 1:
            for one in senders:
                await one.claim_budget()
        await asyncio.wait({work}, timeout=0.2)
    await work

    assert api.rate_limit_errors == 0
    assert busy.sent == len(CHATS)
    menu_calls = [c for c in api.calls if c.method.lower() == "setmycommands"]
    # The default menu and each person's, by every replica, all answered.
    assert len(menu_calls) == replicas * CALLS_PER_MENU * (PEOPLE + 1)
    assert all(c.status == 200 for c in menu_calls)
    for n in range(PEOPLE):
        assert api.commands_for({"type": "chat", "chat_id": FIRST_PERSON + n}, "fi")

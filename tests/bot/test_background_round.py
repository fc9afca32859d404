"""The outbox sender's background round (``delivery.outbox.Sender.sweep``): one transaction
that also keeps the inbox leases and takes stranded updates over, and backs off while idle
without letting a lease or the heartbeat run out."""

from __future__ import annotations

import asyncio
import datetime as dt

from data import inbox
from data.models import utcnow
from delivery.outbox import IDLE_SWEEP_SECONDS, REPLICA_GONE, SWEEP_SECONDS, Sender
from delivery.outbox import sender as outbox_sender

from .conftest import BotHarness


def _start_message(update_id: int, user_id: int) -> dict[str, object]:
    person = {"id": user_id, "is_bot": False, "first_name": "Aino", "language_code": "fi"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(utcnow().timestamp()),
            "chat": {"id": user_id, "type": "private", "first_name": "Aino"},
            "from": person,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_an_idle_round_says_so_and_a_stranded_update_brings_the_next_round_to_work(
    bot: BotHarness,
) -> None:
    sender = outbox_sender(bot.app)
    assert sender is not None
    if sender._task is not None:  # this test makes the rounds itself
        sender._task.cancel()
        await asyncio.gather(sender._task, return_exceptions=True)
        sender._task = None
    await sender.sweep()  # whatever start-up left
    assert await sender.sweep() is False
    # Recorded by a replica that died holding it: its lease ran out.
    with bot.db.transaction() as session:
        inbox.record(
            session,
            [_start_message(990_501, 7201)],
            now=utcnow(),
            claimer="a-dead-replica",
            lease_until=utcnow() - dt.timedelta(seconds=1),
        )
    assert await sender.sweep() is True  # taken over in that round's transaction

    def answered() -> bool:  # (the emulated Telegram refuses it: Aino never wrote there)
        return any(str(c.params.get("chat_id")) == "7201" for c in bot.api.calls_to("sendMessage"))

    for _ in range(600):  # a ceiling for a loaded machine
        if answered():
            break
        await asyncio.sleep(0.05)
    assert answered(), "the stranded /start was never handled"
    with bot.db.session() as session:
        assert inbox.is_handled(session, 990_501)


def test_an_idle_replica_still_renews_its_leases_and_heartbeat_in_time(
    bot: BotHarness,
) -> None:
    sessions = bot.db.sessions
    for seconds in (1.0, 2.0, 6.0, 15.0, 120.0):
        found = Sender(bot.app, sessions, lease=dt.timedelta(seconds=seconds))
        pause = found._idle_pause()
        assert SWEEP_SECONDS <= pause <= max(SWEEP_SECONDS, seconds / 4)
        assert pause <= REPLICA_GONE.total_seconds() / 4
        assert pause <= IDLE_SWEEP_SECONDS

"""What Telegram's answer to an outbox row means for the row, through the real Application.

The outbox posts a stored request through the bot's own request object and rate limiter
(``delivery.wire``), not through PTB's ``Bot`` methods; these pin what each kind of answer
does to the row: a 200 whose body is not Telegram's → *uncertain* (it may have arrived,
never sent again), a time-out after the request went out → *uncertain*, a 429 → the chat
paused for every replica and the reply still delivered once.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from data import outbox
from data.models import ChatPause, OutboxMessage
from delivery.outbox import sender as outbox_sender

from .conftest import BotHarness, wait_until


def _statuses(bot: BotHarness, chat_id: int) -> list[str]:
    with bot.db.session() as session:
        return list(
            session.scalars(
                select(OutboxMessage.status)
                .where(OutboxMessage.chat_id == chat_id)
                .order_by(OutboxMessage.id)
            )
        )


def _settled(bot: BotHarness, chat_id: int) -> bool:
    statuses = _statuses(bot, chat_id)
    return bool(statuses) and all(s not in (outbox.PENDING, outbox.SENDING) for s in statuses)


@pytest.mark.parametrize("fault", ["garbled", "not-ok"])
async def test_a_reply_answered_200_with_a_body_that_is_not_telegrams_is_uncertain_never_sent_again(
    bot: BotHarness, fault: str
) -> None:
    chat = 8601
    user = bot.user(chat)
    bot.api.fail_next("sendMessage", fault, chat_id=chat)  # type: ignore[arg-type]
    await user.send("/ohje")
    await wait_until(lambda: _settled(bot, chat), "the reply's row to be settled")
    assert _statuses(bot, chat) == [outbox.UNCERTAIN]
    sender = outbox_sender(bot.app)
    assert sender is not None
    await sender.flush()
    await sender.sweep()  # a background round: nothing left to deliver
    assert _statuses(bot, chat) == [outbox.UNCERTAIN]
    # Telegram carried it out although its answer did not say so: one message, once.
    assert len(bot.api.calls_to("sendMessage")) == 1
    assert len(user.messages) == 1
    assert not any(t.startswith("Jokin meni vikaan") for t in user.texts())


async def test_a_reply_whose_call_timed_out_is_uncertain_and_the_person_not_told_of_an_error(
    bot: BotHarness,
) -> None:
    chat = 8602
    user = bot.user(chat)
    bot.api.fail_next("sendMessage", "timeout", chat_id=chat)
    await user.send("/ohje")
    await wait_until(lambda: _settled(bot, chat), "the reply's row to be settled")
    sender = outbox_sender(bot.app)
    assert sender is not None
    await sender.sweep()
    assert _statuses(bot, chat) == [outbox.UNCERTAIN]
    assert len(bot.api.calls_to("sendMessage")) == 1  # not made again
    assert not any(t.startswith("Jokin meni vikaan") for t in user.texts())


async def test_a_429_on_a_reply_pauses_the_chat_for_every_replica_and_the_reply_arrives_once(
    bot: BotHarness,
) -> None:
    chat = 8603
    user = bot.user(chat)
    bot.api.fail_next("sendMessage", "429", chat_id=chat, retry_after=1)
    asked = dt.datetime.now(dt.UTC)
    await user.send("/ohje")
    await wait_until(lambda: _settled(bot, chat), "the reply's row to be settled")
    assert _statuses(bot, chat) == [outbox.SENT]
    with bot.db.session() as session:
        pause = session.scalar(select(ChatPause.until).where(ChatPause.chat_id == chat))
    assert pause is not None and pause >= asked + dt.timedelta(seconds=1)
    calls = bot.api.calls_to("sendMessage")
    assert [c.ok for c in calls] == [False, True]
    assert len(user.messages) == 1

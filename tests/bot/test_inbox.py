"""The durable update inbox through the real Application (issue 13 items 1 and 2).

Updates come in through ``delivery.ingress.InboxUpdater`` (the Application's Updater), are
recorded before they are acknowledged, marked handled after processing, replayed after a
restart if they were not, and dropped when Telegram delivers the same update_id again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import event, select, text
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from data import inbox, outbox
from data.models import InboxUpdate
from delivery import ingress
from delivery.outbox import sender as outbox_sender

from .conftest import BotHarness
from .test_reporting_helpers import draft


def _rows(bot: BotHarness) -> list[InboxUpdate]:
    with bot.db.session() as session:
        return list(session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)))


class _StatementLog:
    """SQL statements on the inbox table while the block runs."""

    def __init__(self, bot: BotHarness) -> None:
        self.engine = bot.db.engine
        self.statements: list[str] = []

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split()).upper()
        if " INBOX" in text:
            self.statements.append(text)

    def __enter__(self) -> _StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def count(self, prefix: str) -> int:
        return sum(1 for s in self.statements if s.startswith(prefix))


async def test_each_update_is_recorded_once_and_marked_handled_with_one_write(
    bot: BotHarness,
) -> None:
    user = bot.user(4101)
    with _StatementLog(bot) as log:
        await user.send("/start")
    assert "kutsulinkki" in user.last.text
    rows = _rows(bot)
    assert [(r.chat_id, r.payload["message"]["text"]) for r in rows] == [(4101, "/start")]
    assert rows[0].handled_at is not None
    assert log.count("INSERT INTO INBOX") == 1
    # The mark; the background round may also renew the update's lease meanwhile (a
    # loaded machine can take over a second on /start), which is not a write of the update.
    assert log.count("UPDATE INBOX SET HANDLED_AT") == 1


async def test_a_typed_answer_telegram_delivers_again_after_a_restart_is_saved_once(
    bot: BotHarness,
) -> None:
    user = bot.contact(4102, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.send("2 5")  # method 2 of level 1, count 5; on to level 2
    assert "Vaihe 3/6" in user.last.text
    sent = len(user.messages)
    # The acknowledgement of "2 5" was lost and the bot restarted: Telegram sends it again.
    await bot.restart()
    again = bot.api.updates.redeliver_last_batch()
    assert len(again) == 1
    await bot.api.settle(again[0])
    # Not applied again (as method 2 of level 2, moving on to level 3).
    assert len(user.messages) == sent
    assert _answers(bot, 4102) == [(1, 5)]


def _answers(bot: BotHarness, telegram_id: int) -> list[tuple[int, int]]:
    """(level id, count) of each answer in the person's /raportoi draft."""
    saved = draft(bot, telegram_id, "reporting")
    assert saved is not None
    return [(a["level_id"], a["count"]) for a in saved.data["answers"]]


async def test_a_batch_delivered_twice_while_running_is_handled_once(bot: BotHarness) -> None:
    user = bot.user(4103)
    await user.send("/kieli")
    assert len(user.messages) == 1
    again = bot.api.updates.redeliver_last_batch()
    await bot.api.settle(again[0])
    assert len(user.messages) == 1
    assert len(_rows(bot)) == 1


async def test_updates_acknowledged_but_unhandled_before_a_crash_are_handled_at_start_up(
    bot: BotHarness,
) -> None:
    people = [bot.user(4110 + n, f"Henkilö{n}") for n in range(3)]
    await bot.stop()
    # What a process killed mid-batch leaves: recorded in the inbox, acknowledged to
    # Telegram (so never sent again), not handled.
    ids = [bot.api.push_text(p.info, p.chat, "/start")[1] for p in people]
    with bot.db.transaction() as session:
        inbox.record(session, bot.api.updates.take(100))
    bot.api.updates.acknowledge(ids[-1] + 1)
    await bot.start()
    await asyncio.wait_for(bot.app.update_queue.join(), 10)
    for person in people:
        assert "kutsulinkki" in person.last.text
    assert all(row.handled_at is not None for row in _rows(bot))
    # And not again at the next start.
    await bot.restart()
    await asyncio.wait_for(bot.app.update_queue.join(), 10)
    assert [len(p.messages) for p in people] == [1, 1, 1]


async def test_an_update_whose_handling_fails_is_marked_handled_and_not_retried(
    bot: BotHarness,
) -> None:
    user = bot.user(4104)
    bot.fail_handling(4104)
    await user.send("/start")
    assert bot.take_errors()  # the handler failed (and the person was told)
    assert all(row.handled_at is not None for row in _rows(bot))
    before = len(user.messages)
    await bot.restart()
    await asyncio.wait_for(bot.app.update_queue.join(), 10)
    assert len(user.messages) == before


async def test_an_update_marked_handled_in_the_handlers_transaction_costs_no_second_write(
    bot: BotHarness,
) -> None:
    async def marks_in_its_own_transaction(
        update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        # What the guided-flow engine does: the mark commits with the update's effects.
        with bot.db.transaction() as session:
            assert inbox.mark_handled(session, update.update_id)
        ingress.handled_in_transaction(context.application, update.update_id)

    bot.app.add_handler(TypeHandler(Update, marks_in_its_own_transaction), group=-100)
    user = bot.user(4105)
    with _StatementLog(bot) as log:
        await user.send("/start")
    assert "kutsulinkki" in user.last.text
    assert log.count("UPDATE INBOX") == 1
    assert all(row.handled_at is not None for row in _rows(bot))


async def test_polling_retries_after_network_failures_and_then_answers(bot: BotHarness) -> None:
    bot.api.fail_next("getUpdates", "network", count=2)
    bot.api.fail_next("getUpdates", "502")
    user = bot.user(4106)
    await user.send("/start")
    assert "kutsulinkki" in user.last.text
    failed = [c for c in bot.api.calls_to("getUpdates") if c.injected]
    assert len(failed) == 3


async def test_a_batch_is_not_acknowledged_until_the_inbox_has_recorded_it(
    bot: BotHarness,
) -> None:
    user = bot.user(4107)
    with bot.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    try:
        _message, update_id = bot.api.push_text(user.info, user.chat, "/start")
        await asyncio.sleep(1.0)  # a few attempts to record it fail
        assert not bot.api.updates.is_done(update_id)  # Telegram still holds it
        assert user.messages == []
    finally:
        with bot.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    await bot.api.settle(update_id)
    assert "kutsulinkki" in user.last.text
    assert [r.update_id for r in _rows(bot)] == [update_id]


async def test_stopping_ends_a_long_poll_at_once(
    bot: BotHarness,
) -> None:
    user = bot.user(4108)
    await user.send("/start")
    await asyncio.sleep(0.2)  # the next long poll (10 s) is waiting
    started = asyncio.get_running_loop().time()
    await bot.stop()
    assert asyncio.get_running_loop().time() - started < 2
    assert bot.api.updates.confirmed > _rows(bot)[-1].update_id
    await bot.start()


async def test_a_guided_flow_step_marks_its_update_handled_in_the_same_commit_as_the_draft(
    bot: BotHarness,
) -> None:
    user = bot.contact(4109, "KUVA")
    await user.send("/raportoi")
    sender = outbox_sender(bot.app)
    assert sender is not None
    await sender.stop()  # its background round would add statements of its own
    events: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        words = " ".join(sql.split()).upper()
        if " INBOX" in words:
            events.append("inbox " + words.split()[0])
        elif " OUTBOX" in words:
            # PostgreSQL marks "sending" with the chat's send clock in a CTE: still an UPDATE.
            verb = "UPDATE" if "UPDATE OUTBOX" in words else words.split()[0]
            events.append("outbox " + verb)
        elif "CONVERSATION_DRAFTS" in words and not words.startswith("SELECT"):
            events.append("draft " + words.split()[0])

    def commit(_conn: Any) -> None:
        events.append("commit")

    event.listen(bot.db.engine, "before_cursor_execute", statement)
    event.listen(bot.db.engine, "commit", commit)
    try:
        await user.press("Kirjasto")
    finally:
        event.remove(bot.db.engine, "before_cursor_execute", statement)
        event.remove(bot.db.engine, "commit", commit)
    assert "Taso 1" in user.last.text
    # recorded (one commit), then the step: the draft and the replies in one commit — the
    # reply rows mark the update handled (the outbox's trigger, no statement of its own);
    # then only the outbox's own marks: the button's answer and the question edited in
    # place into level 1 (neither marked "sending": both do no harm twice) "sent", in a
    # batch that may come a moment later.
    assert events[:2] == ["inbox INSERT", "commit"]
    assert sorted(events[2:4]) == ["draft UPDATE", "outbox INSERT"]
    assert events[4] == "commit"
    assert set(events[5:]) <= {"outbox UPDATE", "commit"}, events
    assert events[5:].count("commit") <= 2, events
    with bot.db.session() as session:
        assert inbox.is_handled(session, bot.api.updates.last_id)


async def test_reply_rows_of_an_update_mark_it_handled_in_their_transaction_only(
    bot: BotHarness,
) -> None:
    """The inbox mark rides on the outbox insert (a trigger): committed together, rolled
    back together, and an update without reply rows is left alone."""
    now = dt.datetime.now(dt.UTC)
    lease = dt.timedelta(seconds=5)
    request = [(1, "sendMessage", {"chat_id": 1, "text": "x"})]
    with bot.db.transaction() as session:
        inbox.record(session, [{"update_id": 990_001}, {"update_id": 990_002}], now=now)
    with bot.db.session() as session, session.begin():
        outbox.add(session, request, update_id=990_001, claimer="t", now=now, lease=lease)
        session.rollback()
    with bot.db.transaction() as session:
        assert inbox.is_handled(session, 990_001) is False
        outbox.add(session, request, update_id=990_001, claimer="t", now=now, lease=lease)
        outbox.add(session, request, update_id=None, claimer="t", now=now, lease=lease)
    with bot.db.session() as session:
        assert inbox.is_handled(session, 990_001) is True
        assert inbox.is_handled(session, 990_002) is False


async def test_a_replayed_step_another_replica_applied_meanwhile_is_not_applied_again(
    bot: BotHarness,
) -> None:
    user = bot.contact(4111, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.send("2 5")
    assert "Vaihe 3/6" in user.last.text
    sent = len(user.messages)
    update_id = bot.api.updates.last_id
    # A replica starting up reads "2 5" as unhandled (the other one has not committed yet) …
    with bot.db.transaction() as session:
        session.execute(
            InboxUpdate.__table__.update()
            .where(InboxUpdate.update_id == update_id)
            .values(handled_at=None)
        )
    assert await ingress.replay(bot.app) == 1
    # … and the other replica commits it before this one gets the person's lock.
    with bot.db.transaction() as session:
        assert inbox.mark_handled(session, update_id)
    await asyncio.wait_for(bot.app.update_queue.join(), 10)
    assert len(user.messages) == sent
    assert _answers(bot, 4111) == [(1, 5)]


async def test_a_button_press_reaches_the_handlers_without_its_message_keyboard_but_is_kept_whole(
    bot: BotHarness,
) -> None:
    seen: list[Update] = []

    async def look(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)

    bot.app.add_handler(TypeHandler(Update, look), group=-100)
    user = bot.contact(4120, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    assert "Vaihe" in user.last.text  # the press was answered as before
    query = seen[-1].callback_query
    assert query is not None and query.message is not None
    assert query.message.message_id and query.message.chat.id == 4120
    assert getattr(query.message, "reply_markup", None) is None
    assert getattr(query.message, "entities", ()) == ()
    assert getattr(query.message, "from_user", None) is None
    assert query.from_user.id == 4120  # who pressed: the query's own sender
    # The inbox keeps what Telegram sent: the keyboard the button sat on included.
    kept = next(row.payload for row in _rows(bot) if row.update_id == seen[-1].update_id)
    assert kept["callback_query"]["message"]["reply_markup"]["inline_keyboard"]


def test_only_the_snooze_button_keeps_the_keyboard_of_its_message() -> None:
    keyboard = {"inline_keyboard": [[{"text": "x", "callback_data": "rem:snooze:5"}]]}
    message = {"message_id": 7, "date": 1, "chat": {"id": 1, "type": "private"}}
    bot = {"id": 9, "is_bot": True, "first_name": "Botti"}
    quoted = {**message, "text": "Muistutus", "from": bot, "reply_markup": keyboard}

    def press(data: str) -> dict[str, Any]:
        sender = {"id": 1, "is_bot": False, "first_name": "A"}
        return {
            "update_id": 1,
            "callback_query": {
                "id": "q",
                "from": sender,
                "chat_instance": "c",
                "data": data,
                "message": quoted,
            },
        }

    raw = press("flow:reporting:pick:1")
    assert ingress.readable(raw)["callback_query"]["message"] == {**message, "text": "Muistutus"}
    assert raw["callback_query"]["message"]["reply_markup"] == keyboard  # left unchanged
    assert ingress.readable(press("rem:snooze:5"))["callback_query"]["message"] == quoted
    reply = {"update_id": 2, "message": {**message, "text": "ok", "reply_to_message": quoted}}
    assert "reply_markup" not in ingress.readable(reply)["message"]["reply_to_message"]
    assert ingress.parse(reply, None).message.reply_to_message.text == "Muistutus"  # type: ignore[union-attr]

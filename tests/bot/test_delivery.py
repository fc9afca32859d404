"""The delivery core in this process: poison updates, webhook hardening, the outbox's rows.

The process-level behaviour (kills, stops, takeovers between replicas) is in
test_delivery_process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from data import outbox
from data.models import InboxUpdate, OutboxMessage, utcnow
from delivery import outbox as delivery_outbox
from delivery.outbox import MAX_IN_FLIGHT, message
from delivery.outbox import sender as outbox_sender
from delivery.webhook import MAX_BODY_BYTES, SECRET_HEADER, WebhookState, create_app
from localtg.models import CallbackQueryRecord

from .conftest import BotHarness, wait_until

SECRET = "in-process-secret"


def _client(bot: BotHarness) -> httpx.AsyncClient:
    app = create_app(bot.app, secret=SECRET, engine=bot.db.engine, state=WebhookState())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://replica")


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_update_the_bot_cannot_read_is_kept_raw_skipped_once_and_polling_goes_on(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    poison = bot.api.updates.push(
        "business_message",
        {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": "no date"},
    )
    user = bot.user(8301)
    for _ in range(3):
        await user.send("/ohje")
    assert len(user.messages) == 3  # polling went on past it
    with bot.db.session() as session:
        row = session.get(InboxUpdate, poison)
        assert row is not None and row.handled_at is not None
        assert row.payload["business_message"]["text"] == "no date"
    warnings = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(warnings) == 1
    assert _errors(caplog) == []


async def test_an_update_id_beyond_64_bits_is_refused_400_once_with_a_warning(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    update = {
        "update_id": 2**64 + 5,
        "message": {
            "message_id": 1,
            "date": 1_790_000_000,
            "chat": {"id": 8302, "type": "private", "first_name": "A"},
            "from": {"id": 8302, "is_bot": False, "first_name": "A"},
            "text": "/ohje",
        },
    }
    async with _client(bot) as client:
        answer = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 400
    assert len([r for r in caplog.records if "out of range" in r.getMessage()]) == 1
    assert _errors(caplog) == []


async def test_a_chunked_body_is_cut_off_at_the_limit_not_read_whole(bot: BotHarness) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"x" * 65_536
        for _ in range(300):  # 19.7 MB if read whole
            sent += len(chunk)
            yield chunk

    async with _client(bot) as client:
        answer = await client.post("/telegram", content=body(), headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 413
    assert sent <= MAX_BODY_BYTES + 2 * 65_536


async def test_a_client_gone_mid_body_is_not_an_error(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="delivery.webhook")
    app = create_app(bot.app, secret=SECRET, engine=bot.db.engine, state=WebhookState())
    messages = [
        {"type": "http.request", "body": b'{"update_id": 1', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/telegram",
        "raw_path": b"/telegram",
        "query_string": b"",
        "headers": [(SECRET_HEADER.lower().encode(), SECRET.encode())],
        "server": ("replica", 80),
        "client": ("127.0.0.1", 1),
    }
    await app(scope, receive, send)
    assert _errors(caplog) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_the_workbook_button_on_an_inline_message_sends_it_to_the_persons_chat(
    bot: BotHarness,
) -> None:
    user = bot.contact(8303, "KUVA")
    user.chat.started = True
    # Telegram knows the press (an inline message has no chat, so none is given here).
    bot.api.callback_queries["inline-1"] = CallbackQueryRecord("inline-1", 8303, 0, 0, "xl:get")
    update = {
        "update_id": 777_001,
        "callback_query": {
            "id": "inline-1",
            "from": {"id": 8303, "is_bot": False, "first_name": "Aino", "language_code": "fi"},
            "inline_message_id": "AAAA-inline",
            "chat_instance": "x",
            "data": "xl:get",
        },
    }
    async with _client(bot) as client:
        answer = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 200
    await bot.app.update_queue.join()
    for _ in range(100):
        if user.documents:
            break
        await asyncio.sleep(0.05)
    assert user.documents  # no AssertionError for the missing message; the file came


async def test_a_guided_flow_writes_its_replies_to_the_outbox_and_marks_them_sent(
    bot: BotHarness,
) -> None:
    user = bot.contact(8304, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    sender = outbox_sender(bot.app)
    assert sender is not None
    await sender.flush()  # the sent marks are written a moment later, together
    with bot.db.session() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert {row.status for row in rows} == {outbox.SENT}
        methods = [row.method for row in rows]
    # /raportoi: the question; the press: its answer, the question edited, the next one.
    assert methods[0] == "sendMessage"
    assert "answerCallbackQuery" in methods


class _Transactions:
    """The statements of each committed transaction on ``engine`` (per connection, from
    its first statement to its COMMIT); the poll's inbox record left out."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.committed: list[list[str]] = []
        self._open: dict[int, list[str]] = {}

    def _statement(self, conn: Any, _cursor: object, statement: str, *_args: object) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(("INSERT INTO INBOX", "BEGIN", "SAVEPOINT")):
            self._open.setdefault(id(conn), []).append(text)

    def _commit(self, conn: Any) -> None:
        done = self._open.pop(id(conn), [])
        if done:
            self.committed.append(done)

    def _rollback(self, conn: Any) -> None:
        self._open.pop(id(conn), None)

    def __enter__(self) -> _Transactions:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)


def _quiet(sender: delivery_outbox.Sender, monkeypatch: pytest.MonkeyPatch) -> None:
    """No background round and no flush of the sent marks meanwhile: every write seen is
    the update's own."""
    monkeypatch.setattr(delivery_outbox, "FLUSH_SECONDS", 3600.0)

    async def no_round() -> bool:
        return False

    monkeypatch.setattr(sender, "sweep", no_round)


async def test_a_typed_answer_is_one_transaction_of_four_statements_its_reply_written_sending(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that answers with a message whose turn is free: the person with their drafts,
    the draft, the *sent* marks of the replies sent before it, and the reply row — written
    *sending* (it marks the update handled) — in one transaction; its call follows the
    commit with no mark of its own (issue 19: ≤ 4 statements per step; before, the reply's
    *sending* mark was a second transaction)."""
    sender = outbox_sender(bot.app)
    assert sender is not None
    _quiet(sender, monkeypatch)
    user = bot.contact(8310, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    earlier = list(sender._done)
    assert earlier  # sent, their marks not yet written
    with _Transactions(bot.db.engine) as seen:
        await user.send("2 12")
        await user.wait_for_message(contains="Lkm")
    assert len(seen.committed) == 1, seen.committed
    [statements] = seen.committed
    assert len(statements) == 4, statements
    assert statements[2].startswith("UPDATE outbox SET status="), statements  # the sent marks
    assert statements[3].startswith(("INSERT INTO outbox", "WITH turn AS")), statements
    with bot.db.session() as session:
        status = dict(session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
        [reply] = session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)
        ).all()
    assert {status[row_id] for row_id in earlier} == {outbox.SENT}
    assert reply.method == "sendMessage" and reply.attempts == 1
    assert reply.status == outbox.SENDING  # sent, its mark still in hand (the flush waits)
    assert sender._done == [reply.id]


async def test_a_reply_whose_turn_is_free_is_sent_after_exactly_one_write_transaction(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a typed answer to its reply in the chat, one write transaction: the step's,
    with the reply *sending* (before: the step's, then the reply's *sending* mark)."""
    sender = outbox_sender(bot.app)
    assert sender is not None
    _quiet(sender, monkeypatch)
    user = bot.contact(8312, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await sender._write_marks()  # the marks in hand written now, not with the step
    calls = len(bot.api.calls_to("sendMessage"))
    with _Transactions(bot.db.engine) as seen:
        await user.send("2 12")
        await user.wait_for_message(contains="Lkm")
    assert len(bot.api.calls_to("sendMessage")) == calls + 1
    assert len(seen.committed) == 1, seen.committed
    assert any("INSERT INTO outbox" in s for s in seen.committed[0]), seen.committed


async def test_a_reply_to_a_chat_paused_by_another_replica_goes_the_old_way_pending_until_its_call(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn is free in this replica's limiter, but another replica saw a 429 for the
    chat (``chat_pauses``): the step writes the reply *pending* (what any replica delivers
    after a kill while it waits), gives the turn back, and the reply is marked *sending*
    in a transaction of its own right before its call, after the pause."""
    sender = outbox_sender(bot.app)
    assert sender is not None
    _quiet(sender, monkeypatch)
    user = bot.contact(8314, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await sender._write_marks()
    limiter = bot.app.bot.rate_limiter
    in_flight = limiter._in_flight
    until = utcnow() + dt.timedelta(seconds=2)
    with bot.db.transaction() as session:
        outbox.pause_chat(session, 8314, until=until)
    calls = len(bot.api.calls_to("sendMessage"))
    with _Transactions(bot.db.engine) as seen:
        user.mark = len(bot.api.events)
        _, update_id = bot.api.push_text(user.info, user.chat, "2 12")

        def written() -> list[OutboxMessage]:
            with bot.db.session() as session:
                return outbox.for_update_id(session, update_id)

        await wait_until(lambda: bool(written()), "the step's commit")
        [row] = written()
        checked = utcnow()
        if checked < until:  # (on a machine slow enough to reach the pause's end: moot)
            assert row.status == outbox.PENDING and row.attempts == 0
            assert len(bot.api.calls_to("sendMessage")) == calls
        await user.wait_for_message(contains="Lkm")
    assert len(bot.api.calls_to("sendMessage")) == calls + 1
    # The turn was given back, not kept (a call still landing may hold it a moment)
    await wait_until(lambda: limiter._in_flight == in_flight, "the gate's places to be free")
    # The step's, then the mark's (tried at the gate while the pause held it: no row)
    assert len(seen.committed) >= 2, seen.committed
    assert "INSERT INTO outbox" in " ".join(seen.committed[0])
    assert seen.committed[-1][0].startswith(("UPDATE outbox", "WITH turn")), seen.committed
    await sender._write_marks()
    with bot.db.session() as session:
        [row] = outbox.for_update_id(session, update_id)
        assert (row.status, row.attempts) == (outbox.SENT, 1)


def _sending(bot: BotHarness) -> int:
    with bot.db.session() as session:
        return outbox.counts(session).get(outbox.SENDING, 0)


async def test_no_more_than_the_cap_of_messages_are_sending_at_once_so_a_kill_leaves_no_more(
    bot: BotHarness,
) -> None:
    """40 messages to 40 chats at once while Telegram holds every call: the sending marks
    are written together, but only `MAX_IN_FLIGHT` rows are ever *sending* (what a kill -9
    would leave uncertain); the others wait for an outcome to be written, then all 40
    arrive exactly once."""
    sender = outbox_sender(bot.app)
    assert sender is not None
    chats = [8500 + n for n in range(40)]
    for chat in chats:
        bot.user(chat, has_started=True)
    telegram_answers = threading.Event()
    bot.api.slow_next("sendMessage", 120, count=len(chats), until=telegram_answers)
    with bot.db.transaction() as session:
        rows = sender.write(
            session,
            [message(chat, f"viesti {chat}", None, html=False) for chat in chats],
            update_id=None,
        )
    delivering = asyncio.gather(*(sender.deliver([row]) for row in rows))
    try:
        await wait_until(
            lambda: (
                len(bot.api.calls_to("sendMessage")) >= MAX_IN_FLIGHT
                and bool(sender._starts)
                and not sender._room.is_set()
            ),
            "the cap to be reached with more messages waiting",
        )
        assert _sending(bot) == MAX_IN_FLIGHT
        assert len(bot.api.calls_to("sendMessage")) == MAX_IN_FLIGHT
        seen = [MAX_IN_FLIGHT]
        telegram_answers.set()
        while not delivering.done():
            seen.append(_sending(bot))
            await asyncio.sleep(0.005)
        await delivering
    finally:
        telegram_answers.set()
        await asyncio.gather(delivering, return_exceptions=True)
    await sender.flush()
    assert max(seen) <= MAX_IN_FLIGHT, seen
    answered = [c.params.get("chat_id") for c in bot.api.calls_to("sendMessage") if c.ok]
    assert sorted(int(str(chat)) for chat in answered) == chats  # each once

    def all_marked() -> bool:  # a background round may hold the last marks in its commit
        with bot.db.session() as session:
            return outbox.counts(session) == {outbox.SENT: len(chats)}

    await wait_until(all_marked, "every row marked sent")
    assert not sender._flying


async def test_a_row_handed_to_a_second_delivery_while_its_sent_mark_waits_is_not_sent_again(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background round may claim a pending row whose lease ran out while its first
    delivery still waits for its turn, and deliver it as well. When the first one has sent
    it and its *sent* mark goes in the very statement that would mark the second one's
    *sending*, the row comes back from that statement as *sent*: the second delivery must
    not take that for its turn (it did: the row was sent twice)."""
    monkeypatch.setattr(delivery_outbox, "FLUSH_SECONDS", 3600.0)  # the sent mark waits
    sender = outbox_sender(bot.app)
    assert sender is not None

    async def no_round() -> bool:  # the background round writes no mark meanwhile
        return False

    monkeypatch.setattr(sender, "sweep", no_round)
    bot.user(8600, has_started=True)
    with bot.db.transaction() as session:
        [row] = sender.write(session, [message(8600, "kerran", None, html=False)], update_id=None)
    await sender.deliver([row])
    assert sender._done == [row.id]  # sent, its mark still in hand
    await sender.deliver([row])  # the same row, as the background round's claim gives it
    await sender._write_marks()  # (the flush waits an hour)
    assert [c.params.get("text") for c in bot.api.calls_to("sendMessage") if c.ok] == ["kerran"]
    with bot.db.session() as session:
        assert outbox.counts(session) == {outbox.SENT: 1}

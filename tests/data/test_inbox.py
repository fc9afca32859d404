"""data.inbox: recording Telegram updates once, finding the unhandled ones, pruning."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import event, select

from data import inbox
from data.models import InboxUpdate

from ..conftest import Database

NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _message(update_id: int, chat_id: int = 42, text: str = "/start") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Aino"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Aino"},
            "text": text,
        },
    }


def test_record_returns_only_the_new_update_ids_in_the_given_order(db: Database) -> None:
    with db.transaction() as session:
        assert inbox.record(session, [_message(7), _message(5), _message(6)], now=NOW) == [7, 5, 6]
    with db.transaction() as session:
        # 6 and 7 again (a redelivery), 8 new, 8 twice in the same batch.
        assert inbox.record(session, [_message(6), _message(7), _message(8), _message(8)]) == [8]
    with db.session() as session:
        rows = session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)).all()
        assert [r.update_id for r in rows] == [5, 6, 7, 8]
        assert rows[0].payload == _message(5)
        assert rows[0].received_at == NOW
        assert rows[0].handled_at is None


def test_a_redelivered_update_keeps_its_first_copy_and_its_handled_mark(db: Database) -> None:
    with db.transaction() as session:
        inbox.record(session, [_message(1, text="12")])
        inbox.mark_handled(session, 1, now=NOW)
    with db.transaction() as session:
        assert inbox.record(session, [_message(1, text="12")]) == []
    with db.session() as session:
        assert inbox.is_handled(session, 1) is True
        assert inbox.pending(session) == []


def test_a_batch_is_recorded_with_one_insert_statement(db: Database) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.strip().split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.transaction() as session:
            assert (
                len(inbox.record(session, [_message(n, chat_id=n) for n in range(1, 101)])) == 100
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements.count("INSERT") == 1


def test_update_ids_beyond_32_bits_and_negative_group_chat_ids_are_kept(db: Database) -> None:
    big = 9_876_543_210
    with db.transaction() as session:
        assert inbox.record(session, [_message(big, chat_id=-1_001_234_567_890)]) == [big]
    with db.session() as session:
        row = session.get(InboxUpdate, big)
        assert row is not None and row.chat_id == -1_001_234_567_890


def test_a_payload_comes_back_exactly_with_the_batch_claim_and_handled_mark(
    db: Database,
) -> None:
    # Text a person may send (a NUL, which PostgreSQL refuses to unescape in JSON text, an
    # emoji outside the BMP, quotes and backslashes) and a chat without an id: stored and
    # read back unchanged, each row with the claimer, lease and mark given for the batch.
    odd = _message(31, text='a\x00b 😀 "quoted" \\ back\u2028slash é')
    no_chat = {"update_id": 32, "poll": {"id": "p", "question": "?", "options": []}}
    lease = NOW + dt.timedelta(seconds=30)
    with db.transaction() as session:
        assert inbox.record(
            session, [odd, no_chat], now=NOW, claimer="replica-a", lease_until=lease
        ) == [31, 32]
        assert inbox.record(session, [_message(33)], now=NOW, handled=True) == [33]
    with db.session() as session:
        rows = session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)).all()
        assert [r.payload for r in rows] == [odd, no_chat, _message(33)]
        assert [r.chat_id for r in rows] == [42, None, 42]
        assert [(r.claimed_by, r.lease_until, r.handled_at) for r in rows] == [
            ("replica-a", lease, None),
            ("replica-a", lease, None),
            (None, None, NOW),
        ]
        assert all(r.received_at == NOW for r in rows)


def test_the_chat_of_each_kind_of_update_is_found() -> None:
    button = {
        "update_id": 1,
        "callback_query": {
            "id": "x",
            "from": {"id": 7, "is_bot": False, "first_name": "A"},
            "message": {"message_id": 3, "date": 0, "chat": {"id": -55, "type": "group"}},
            "chat_instance": "c",
            "data": "d",
        },
    }
    inline = {"update_id": 2, "inline_query": {"id": "q", "from": {"id": 9}, "query": ""}}
    member = {"update_id": 3, "my_chat_member": {"chat": {"id": -66}, "from": {"id": 1}}}
    assert inbox.chat_id_of(_message(1, chat_id=42)) == 42
    assert inbox.chat_id_of(button) == -55
    assert inbox.chat_id_of(inline) == 9
    assert inbox.chat_id_of(member) == -66
    assert inbox.chat_id_of({"update_id": 4, "poll": {"id": "p"}}) is None


def test_record_refuses_an_update_without_an_integer_id(db: Database) -> None:
    with db.transaction() as session, pytest.raises(ValueError, match="update_id"):
        inbox.record(session, [{"update_id": "5", "message": {}}])


def test_pending_lists_unhandled_updates_oldest_first_page_by_page(db: Database) -> None:
    with db.transaction() as session:
        inbox.record(session, [_message(n) for n in (30, 10, 20, 40)])
        assert inbox.mark_handled(session, 20)
    with db.session() as session:
        assert [u for u, _ in inbox.pending(session)] == [10, 30, 40]
        assert [u for u, _ in inbox.pending(session, 2)] == [10, 30]
        assert [u for u, _ in inbox.pending(session, 2, after=30)] == [40]
        assert inbox.pending(session, 1)[0][1] == _message(10)
        assert inbox.last_update_id(session) == 40


def test_mark_handled_is_true_once_and_false_for_unknown_or_marked_updates(db: Database) -> None:
    with db.transaction() as session:
        inbox.record(session, [_message(1)])
        assert inbox.mark_handled(session, 1, now=NOW) is True
        assert inbox.mark_handled(session, 1) is False
        assert inbox.mark_handled(session, 999) is False
    with db.session() as session:
        row = session.get(InboxUpdate, 1)
        assert row is not None and row.handled_at == NOW
        assert inbox.is_handled(session, 999) is None


def test_a_mark_rolled_back_with_its_transaction_leaves_the_update_pending(db: Database) -> None:
    with db.transaction() as session:
        inbox.record(session, [_message(1)])
    with pytest.raises(RuntimeError), db.transaction() as session:
        inbox.mark_handled(session, 1)
        raise RuntimeError("the handler's effects failed")
    with db.session() as session:
        assert [u for u, _ in inbox.pending(session)] == [1]


def test_prune_removes_only_handled_updates_older_than_the_limit(db: Database) -> None:
    old = NOW - dt.timedelta(days=4)
    with db.transaction() as session:
        inbox.record(session, [_message(1), _message(2)], now=old)  # 1 handled, 2 not
        inbox.record(session, [_message(3)], now=NOW - dt.timedelta(days=1))  # recent, handled
        inbox.mark_handled(session, 1, now=old)
        inbox.mark_handled(session, 3, now=NOW)
    with db.transaction() as session:
        assert inbox.prune(session, older_than_days=3, now=NOW) == 1
    with db.session() as session:
        assert session.scalars(select(InboxUpdate.update_id).order_by("update_id")).all() == [2, 3]
    with db.transaction() as session, pytest.raises(ValueError):
        inbox.prune(session, older_than_days=0)


def test_mark_handled_is_a_claim_only_one_of_two_concurrent_transactions_wins(
    db: Database,
) -> None:
    with db.transaction() as session:
        inbox.record(session, [_message(1)])
    results: list[bool] = []

    def replica_replaying_it() -> None:
        with db.transaction() as session:
            results.append(inbox.mark_handled(session, 1))

    with db.transaction() as first:
        assert inbox.mark_handled(first, 1) is True
        other = threading.Thread(target=replica_replaying_it)
        other.start()
        other.join(0.5)
        assert other.is_alive()  # waits for the first transaction's row lock
    other.join(15)
    assert results == [False]


def test_prune_with_a_limit_deletes_the_oldest_handled_rows_batch_by_batch(
    db: Database,
) -> None:
    with db.transaction() as session:
        for day in range(5):
            received = NOW - dt.timedelta(days=10 - day)
            ids = [100 * day + i for i in range(1, 4)]
            inbox.record(session, [_message(i) for i in ids], now=received)
            for update_id in ids[:2]:  # the third of each day stays unhandled
                inbox.mark_handled(session, update_id, now=received)
    deleted = []
    while True:
        with db.transaction() as session:
            batch = inbox.prune(session, older_than_days=3, now=NOW, limit=4)
        deleted.append(batch)
        if batch < 4:
            break
    assert deleted == [4, 4, 2]
    with db.session() as session:
        left = session.scalars(select(InboxUpdate.update_id).order_by("update_id")).all()
        assert left == [3, 103, 203, 303, 403]

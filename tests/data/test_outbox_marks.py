"""The outbox's mark statements keep one text whatever the number of ids they carry.

An expanding ``IN (…)`` rendered a text per list length: each filled a slot of Python
``sqlite3``'s per-connection cache of prepared statements (README, *Memory*: the SQLite
process crept up while rare lengths turned up) and was re-rendered on every execution.
The ids now go as one parameter (``data.outbox._among``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from data import outbox

from ..conftest import Database, Statements

NOW = dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)
LENGTHS = (1, 2, 3, 7, 20)


def _pending(db: Database, count: int, first_chat: int) -> list[int]:
    with db.transaction() as session:
        return outbox.add(
            session,
            [
                (chat, "sendMessage", {"chat_id": chat, "text": "Vaihe 1/6"})
                for chat in range(first_chat, first_chat + count)
            ],
            update_id=None,
            claimer="me",
            now=NOW,
            lease=LEASE,
        )


def test_mark_statements_have_one_text_for_every_number_of_ids(db: Database) -> None:
    sending_texts: set[str] = set()
    sent_texts: set[str] = set()
    chat = 9000
    earlier: list[int] = []
    for length in LENGTHS:
        ids = _pending(db, length, chat)
        with Statements(db) as seen, db.transaction() as session:
            started = outbox.start_sending_replies(
                session,
                [(row_id, chat + i) for i, row_id in enumerate(ids)],
                sent=earlier,
                claimer="me",
                now=NOW,
                lease=LEASE,
                spacing=dt.timedelta(seconds=1),
            )
        assert started == set(ids)
        chat += length
        sending_texts.update(seen.seen)
        with Statements(db) as seen, db.transaction() as session:
            outbox.mark_sent(session, ids, now=NOW)
        sent_texts.update(seen.seen)
        earlier = ids
    assert len(sending_texts) == 1, sending_texts
    assert len(sent_texts) == 1, sent_texts
    with db.session() as session:
        assert outbox.counts(session) == {"sent": sum(LENGTHS)}


def test_marks_touch_only_the_rows_named(db: Database) -> None:
    mine = _pending(db, 3, 9100)
    others = _pending(db, 2, 9200)
    with db.transaction() as session:
        started = outbox.start_sending_replies(
            session,
            [(mine[0], 9100), (mine[1], 9101)],
            sent=[mine[2]],
            claimer="me",
            now=NOW,
            lease=LEASE,
            spacing=dt.timedelta(seconds=1),
        )
    assert started == {mine[0], mine[1]}
    with db.transaction() as session:
        outbox.mark_sent(session, [mine[0]], now=NOW)
    with db.session() as session:
        assert outbox.counts(session) == {"sent": 2, "sending": 1, "pending": 2}
        claimed = outbox.claim_due(session, claimer="other", now=NOW + LEASE + LEASE, lease=LEASE)
        assert sorted(r.id for r in claimed) == others
        assert [p["chat_id"] for p in outbox.params_of(session, others)] == [9200, 9201]


def test_on_sqlite_the_marks_look_their_rows_up_by_id_not_through_the_status_index(
    db: Database,
) -> None:
    """SQLite takes ``json_each`` for a large table: left free, it walked every *pending*
    row through the status index instead (a backlog made each mark slower)."""
    if db.backend != "sqlite":
        pytest.skip("SQLite's query planner")
    raw = db.engine.raw_connection()
    try:
        for statement in (outbox._START, outbox._MARK_SENT):
            sql = str(statement.compile(dialect=db.engine.dialect))
            plan = [
                row[3]
                for row in raw.cursor().execute(
                    "EXPLAIN QUERY PLAN " + sql, [None] * sql.count("?")
                )
            ]
            outbox_steps = [step for step in plan if "outbox" in step]
            assert outbox_steps, plan
            assert all("INTEGER PRIMARY KEY" in step for step in outbox_steps), plan
    finally:
        raw.close()

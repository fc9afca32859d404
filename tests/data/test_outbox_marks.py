"""The sender's marks written together: *sent* and *sending* of many rows in one statement."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select

from data import outbox
from data.models import OutboxMessage

from ..conftest import Database

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=15)


def _rows(db: Database, claimer: str, chats: list[int]) -> list[int]:
    with db.transaction() as session:
        return outbox.add(
            session,
            [(chat, "sendMessage", {"chat_id": chat, "text": "x"}) for chat in chats],
            update_id=None,
            claimer=claimer,
            now=NOW,
            lease=LEASE,
        )


def test_one_statement_marks_sent_rows_and_starts_the_ones_that_may_go(db: Database) -> None:
    sent_a, sent_b, go, paused, other = _rows(db, "me", [1, 2, 3, 4, 5])
    with db.transaction() as session:
        outbox.start_sending(session, sent_a, claimer="me", now=NOW, lease=LEASE)
        outbox.pause_chat(session, 4, until=NOW + dt.timedelta(seconds=30))
        session.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.id == other)
            .values(claimed_by="another replica")
        )
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with db.transaction() as session:
            started = outbox.mark(
                session,
                sent=[sent_a, sent_b],
                start=[go, paused, other],
                claimer="me",
                now=NOW,
                lease=dt.timedelta(seconds=120),
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert started == {go}
    assert len([s for s in statements if "outbox" in s.lower()]) == 1
    with db.transaction() as session:
        rows = {row.id: row for row in session.scalars(select(OutboxMessage))}
        assert (rows[sent_a].status, rows[sent_b].status) == (outbox.SENT, outbox.SENT)
        assert rows[sent_a].sent_at == NOW and rows[sent_a].lease_until is None
        assert (rows[go].status, rows[go].attempts) == (outbox.SENDING, 1)
        assert rows[go].lease_until == NOW + dt.timedelta(seconds=120)
        assert rows[go].sent_at is None
        assert (rows[paused].status, rows[other].status) == (outbox.PENDING, outbox.PENDING)
        assert outbox.pauses(session, [3, 4], now=NOW) == {4: NOW + dt.timedelta(seconds=30)}


def test_a_row_already_sending_or_sent_is_not_started_again(db: Database) -> None:
    [row] = _rows(db, "me", [1])
    with db.transaction() as session:
        assert outbox.mark(session, sent=[], start=[row], claimer="me", now=NOW, lease=LEASE) == {
            row
        }
    with db.transaction() as session:
        assert (
            outbox.mark(session, sent=[], start=[row], claimer="me", now=NOW, lease=LEASE) == set()
        )
        outbox.mark(session, sent=[row], start=[], claimer="me", now=NOW, lease=LEASE)
    with db.transaction() as session:
        assert (
            outbox.mark(session, sent=[], start=[row], claimer="me", now=NOW, lease=LEASE) == set()
        )
        assert session.get(OutboxMessage, row).status == outbox.SENT  # type: ignore[union-attr]

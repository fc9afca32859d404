"""An update's first reply written *sending* by its own step (``data.outbox.add_starting``).

The step holds the reply's turn of the send budget, so its insert marks the first row
*sending* — unless a 429 pauses the chat (any replica's: ``chat_pauses``), then it is
*pending* like the rest and marked right before its call. On PostgreSQL the chat's send
clock moves in the same statement, as a *sending* mark moves it. `unstart` takes a row back
to *pending* when its writer never learnt whether its commit went through.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from data import outbox
from data.models import ChatPause, InboxUpdate, OutboxMessage

from ..conftest import Database

NOW = dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=15)
START = outbox.Start(lease=dt.timedelta(seconds=120), spacing=dt.timedelta(seconds=1.25))


def _write(db: Database, chat_id: int, update_id: int, texts: list[str]) -> tuple[list[int], bool]:
    with db.transaction() as session:
        session.add(InboxUpdate(update_id=update_id, chat_id=chat_id, payload={}, received_at=NOW))
        session.flush()
        return outbox.add_starting(
            session,
            [(chat_id, "sendMessage", {"chat_id": chat_id, "text": t}) for t in texts],
            update_id=update_id,
            claimer="me",
            now=NOW,
            lease=LEASE,
            start=START,
        )


def _rows(db: Database) -> dict[int, tuple[str, int, dt.datetime | None]]:
    with db.session() as session:
        return {
            row.id: (row.status, row.attempts, row.lease_until)
            for row in session.scalars(select(OutboxMessage))
        }


def test_the_first_reply_is_written_sending_the_others_pending_and_the_update_handled(
    db: Database,
) -> None:
    ids, started = _write(db, 8201, 1, ["eka", "toka"])
    assert started
    rows = _rows(db)
    assert [rows[i][:2] for i in ids] == [(outbox.SENDING, 1), (outbox.PENDING, 0)]
    assert rows[ids[0]][2] == NOW + START.lease and rows[ids[1]][2] == NOW + LEASE
    with db.session() as session:
        handled = session.scalar(select(InboxUpdate.handled_at).where(InboxUpdate.update_id == 1))
        clock = session.scalar(select(ChatPause.next_send).where(ChatPause.chat_id == 8201))
    assert handled is not None  # the outbox rows mark their update handled
    if db.backend == "postgresql":  # the chat's clock moved as a sending mark moves it
        assert clock == NOW + START.spacing
    else:  # SQLite: one process, whose own limiter spaces its chats
        assert clock is None


def test_a_reply_to_a_chat_paused_by_a_429_is_written_pending(db: Database) -> None:
    with db.transaction() as session:
        outbox.pause_chat(session, 8202, until=NOW + dt.timedelta(seconds=5))
    ids, started = _write(db, 8202, 2, ["odota"])
    assert not started
    assert _rows(db)[ids[0]] == (outbox.PENDING, 0, NOW + LEASE)
    with db.session() as session:
        pause = session.get(ChatPause, 8202)
        assert pause is not None and pause.next_send is None  # no turn taken


def test_unstart_makes_only_that_updates_row_pending_again_for_any_replica(
    db: Database,
) -> None:
    ids, started = _write(db, 8203, 3, ["ehkä"])
    assert started
    with db.transaction() as session:
        assert not outbox.unstart(session, ids[0], update_id=4, claimer="me", now=NOW)
        assert not outbox.unstart(session, ids[0], update_id=3, claimer="other", now=NOW)
        assert outbox.unstart(session, ids[0], update_id=3, claimer="me", now=NOW)
    assert _rows(db)[ids[0]] == (outbox.PENDING, 0, NOW)
    with db.transaction() as session:
        [due] = outbox.claim_due(session, claimer="any", now=NOW, lease=LEASE)
    assert due.id == ids[0]

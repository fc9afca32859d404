"""`data.txstate.PerTransaction`: state that lives exactly as long as one transaction (the
mechanism ``data.drafts`` and ``delivery.notices`` share)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from data.models import ChatPause
from data.txstate import PerTransaction
from tests.conftest import Database

EVENTS: list[str] = []

STATE: PerTransaction[list[str]] = PerTransaction(
    "test_txstate",
    list,
    before_commit=lambda _session, state: EVENTS.append(f"before commit {state}"),
    at_commit=lambda _session, state: EVENTS.append(f"committed {state}"),
    at_rollback=lambda _session, state: EVENTS.append(f"rolled back {state}"),
)


def test_the_state_is_one_transactions_and_its_hooks_run_at_its_commit_and_rollback(
    db: Database,
) -> None:
    EVENTS.clear()
    with db.session() as session:
        with session.begin():
            assert STATE.peek(session) is None
            STATE.get(session).append("a")
            with session.begin_nested():  # a savepoint released: not yet committed
                STATE.get(session).append("b")
            session.add(ChatPause(chat_id=1, until=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
        assert STATE.peek(session) is None  # forgotten when the transaction ended
        with session.begin():
            STATE.get(session).append("c")
            savepoint = session.begin_nested()
            session.execute(text("SELECT 1"))
            savepoint.rollback()
            assert STATE.peek(session) == ["c"]  # kept: the enclosing transaction goes on
            session.rollback()
        assert STATE.peek(session) is None
    assert EVENTS == [
        "before commit ['a', 'b']",
        "before commit ['a', 'b']",
        "committed ['a', 'b']",
        "rolled back ['c']",  # the savepoint; the outermost rollback just forgets it
    ]

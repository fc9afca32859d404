"""A worker thread of `data.db.off_loop` keeps its connection between transactions
(``data.db._Kept``): each transaction still commits, rolls back and sees the others' commits
as on a pooled connection; a connection whose transaction failed on the database is given
back, and disposing of the engine closes the kept ones."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from data.db import begin, off_loop, transaction
from data.models import ChatPause
from tests.conftest import Database, terminate_sessions

T = TypeVar("T")

UNTIL = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _on_worker(db: Database, function: Callable[[], T]) -> T:
    return asyncio.run(off_loop(function, sessions=db.sessions))


def _dbapi(connection: Connection) -> Any:
    return connection.connection.dbapi_connection


def _pauses(db: Database) -> int:
    with transaction(db.sessions) as session:
        return session.scalar(select(func.count()).select_from(ChatPause)) or 0


def _kept_dbapi(db: Database) -> Callable[[], Any]:
    def run() -> Any:
        with transaction(db.sessions) as session:
            return _dbapi(session.connection())

    return run


def test_a_worker_reuses_its_session_and_each_transaction_starts_with_it_empty(
    db: Database,
) -> None:
    """The kept connection's session serves the thread's next transaction (no session made
    and closed per transaction), holding nothing of the one before: no loaded row, nothing
    in ``info``, no transaction."""
    with transaction(db.sessions) as session:
        session.add(ChatPause(chat_id=7, until=UNTIL))

    def run() -> tuple[Any, Any, int, dict[str, Any], bool, list[ChatPause]]:
        with transaction(db.sessions) as session:
            first = session
            rows = list(session.scalars(select(ChatPause)))  # still referenced below
            session.info["left"] = "by the first"
        with transaction(db.sessions) as session:
            loaded = len(session.identity_map)
            info = dict(session.info)
        return first, session, loaded, info, session.in_transaction(), rows

    first, second, loaded, info, open_after, rows = _on_worker(db, run)
    assert rows
    assert first is second
    assert (loaded, info, open_after) == (0, {}, False)


def test_a_worker_keeps_one_connection_for_its_transactions_and_its_marks(db: Database) -> None:
    def run() -> tuple[Any, Any, Any]:
        with transaction(db.sessions) as session:
            first = _dbapi(session.connection())
        with begin(db.engine) as connection:
            marks = _dbapi(connection)
        with transaction(db.sessions) as session:
            again = _dbapi(session.connection())
        return first, marks, again

    first, marks, again = _on_worker(db, run)
    assert first is marks is again
    checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
    assert checked_out >= 1  # kept by the worker, not given back to the pool


def test_a_workers_transactions_commit_roll_back_and_see_the_others_commits(
    db: Database,
) -> None:
    def write(chat_id: int) -> Callable[[], None]:
        def run() -> None:
            with transaction(db.sessions) as session:
                session.add(ChatPause(chat_id=chat_id, until=UNTIL))

        return run

    def write_and_fail() -> None:
        with transaction(db.sessions) as session:
            session.add(ChatPause(chat_id=2, until=UNTIL))
            session.flush()
            raise RuntimeError("the step failed")

    _on_worker(db, write(1))
    with pytest.raises(RuntimeError):
        _on_worker(db, write_and_fail)
    assert _pauses(db) == 1  # the failed one was rolled back
    with transaction(db.sessions) as session:  # another thread commits …
        session.add(ChatPause(chat_id=3, until=UNTIL))

    def count() -> int:
        with transaction(db.sessions) as session:
            return session.scalar(select(func.count()).select_from(ChatPause)) or 0

    assert _on_worker(db, count) == 2  # … and the worker's next transaction sees it


def test_a_transaction_inside_a_transaction_on_a_worker_is_a_transaction_of_its_own(
    db: Database,
) -> None:
    def run() -> bool:
        with transaction(db.sessions) as outer:
            outer_connection = _dbapi(outer.connection())
            with transaction(db.sessions) as inner:
                inner.add(ChatPause(chat_id=7, until=UNTIL))
                inner_connection = _dbapi(inner.connection())
            # the inner one has committed: seen from another connection while outer is open
            committed = _pauses(db) == 1
        return outer_connection is not inner_connection and committed

    assert _on_worker(db, run)


def test_a_database_error_gives_the_kept_connection_back(db: Database) -> None:
    pool: Any = db.engine.pool

    def run() -> tuple[int, int]:
        _kept_dbapi(db)()
        kept = pool.checkedout()  # this worker's (and any other idle worker's)
        try:
            with transaction(db.sessions) as session:
                session.add(ChatPause(chat_id=9, until=UNTIL))
                session.add(ChatPause(chat_id=9, until=UNTIL))
        except IntegrityError:
            pass
        return kept, pool.checkedout()

    kept, after = _on_worker(db, run)
    assert after == kept - 1  # given back (a dead one would be invalidated there)
    _on_worker(db, _kept_dbapi(db))  # and the worker goes on with a connection from the pool
    assert _pauses(db) == 0


def test_disposing_of_the_engine_closes_the_connections_the_workers_kept(db: Database) -> None:
    kept = _on_worker(db, _kept_dbapi(db))
    checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
    assert checked_out >= 1
    db.engine.dispose()
    if db.backend == "sqlite":
        with pytest.raises(Exception, match="closed"):
            kept.execute("SELECT 1")
    else:
        assert kept.closed
    after = _on_worker(db, _kept_dbapi(db))  # a fresh one from the new pool
    assert after is not kept


def _backend_pid(db: Database) -> Callable[[], int]:
    def run() -> int:
        with transaction(db.sessions) as session:
            return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)

    return run


def test_a_kept_connection_the_server_ended_is_replaced_by_the_next_transaction(
    db: Database,
) -> None:
    if db.backend != "postgresql":
        pytest.skip("a SQLite file does not hang up")
    before = {_on_worker(db, _backend_pid(db)) for _ in range(8)}  # every worker's, likely
    assert terminate_sessions(db) >= 1  # a server restart, for this test's sessions only
    # Each worker's next transaction finds its connection dead at its first statement and
    # runs again on a new one: no failure reaches the caller.
    after = {_on_worker(db, _backend_pid(db)) for _ in range(8)}
    assert not after & before
    _on_worker(db, write_pause(db, 11))
    assert _pauses(db) == 1


def write_pause(db: Database, chat_id: int) -> Callable[[], None]:
    def run() -> None:
        with transaction(db.sessions) as session:
            session.add(ChatPause(chat_id=chat_id, until=UNTIL))

    return run


def test_work_whose_connection_is_lost_after_a_statement_ran_is_not_run_again(
    db: Database,
) -> None:
    if db.backend != "postgresql":
        pytest.skip("a SQLite file does not hang up")
    runs: list[int] = []

    def run() -> None:
        runs.append(1)
        with transaction(db.sessions) as session:
            session.add(ChatPause(chat_id=12, until=UNTIL))
            session.flush()  # a statement ran: this work may have effects
            terminate_sessions(db)
            session.execute(select(1))

    with pytest.raises(OperationalError) as raised:
        _on_worker(db, run)
    assert raised.value.connection_invalidated
    assert runs == [1]
    assert _pauses(db) == 0  # rolled back by the server
    _on_worker(db, write_pause(db, 13))  # and the worker goes on with a new connection
    assert _pauses(db) == 1


def test_a_round_made_by_a_transaction_that_rolled_back_is_not_held_by_the_next_commit(
    db: Database,
) -> None:
    """A round is held with the catalog once its transaction commits. The worker's session
    serves its next transaction, so a commit hook left on the session by one that rolled
    back (a lock wait, then a retry) fired at the next commit: the process held a round
    that does not exist, and the next answer referred to it."""
    from data import catalog, progress
    from data.models import Round

    with transaction(db.sessions) as session:
        catalog.held_round(session, 2031)  # the process's catalog copy is loaded

    def run() -> None:
        with pytest.raises(RuntimeError), transaction(db.sessions) as session:
            progress.get_or_create_round(session, 2031)
            raise RuntimeError("a lock wait: the step is tried again")
        with transaction(db.sessions) as session:
            session.add(ChatPause(chat_id=9, until=UNTIL))  # any other commit

    _on_worker(db, run)
    with transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 0
        assert progress.find_round(session, 2031) is None

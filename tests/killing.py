"""kill -9 a bot process at a moment chosen by what its outbox holds (the kill tests).

A kill test needs to know which replies were in a Telegram call at the kill: a row marked
*sending* whose call had not reached Telegram is lost as *uncertain* by design (no process
can tell it from a delivered one). Reading the outbox and then killing races with the
process: a commit it sent just before — or a *sending* mark it commits just after the
read — lands on the other side of the kill. Freezing the process (SIGSTOP) and sleeping a
moment narrowed that race but did not close it: on a loaded machine PostgreSQL may apply a
COMMIT already sent after any fixed pause (its WAL flush waits for the disk), and SQLite's
next opener recovers a commit written to the WAL whose index the frozen writer had not yet
updated.

`kill_when_calm` closes it with the database's own lock: it holds the outbox's write lock
(``LOCK TABLE … IN EXCLUSIVE MODE`` on PostgreSQL, which waits for every transaction that
wrote the table to end; ``BEGIN IMMEDIATE`` on SQLite, which waits for the writer), so no
mark can be committed between the read and the kill; it reads the rows *sending* under the
lock and kills only when ``calm`` accepts them, else lets go and looks again.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from .conftest import Database

#: How long the kill waits for the outbox's lock, and for the process to go: a ceiling for
#: a loaded machine, never a budget.
CEILING = 300.0

#: (row id, chat id) of every row *sending*, read under the lock.
Sending = list[tuple[int, int]]


@contextmanager
def _outbox_locked(db: Database) -> Iterator[Callable[[str], list[Any]]]:
    """The outbox's write lock for the block; yields a query function on the locked
    connection (its reads see every commit made before the lock was granted)."""
    if db.backend == "postgresql":
        with db.engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text(f"SET LOCAL lock_timeout = {int(CEILING * 1000)}"))
            connection.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
            try:
                yield lambda sql: list(connection.execute(text(sql)))
            finally:
                transaction.rollback()
        return
    path = make_url(db.url).database
    assert path
    raw = sqlite3.connect(path, timeout=CEILING, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield lambda sql: list(raw.execute(sql))
        finally:
            raw.execute("ROLLBACK")
    finally:
        raw.close()


def kill_when_calm(
    process: subprocess.Popen[bytes],
    db: Database,
    calm: Callable[[Sending], bool] = lambda sending: not sending,
    *,
    attempts: int = 3000,
) -> Sending:
    """kill -9 ``process`` once ``calm`` accepts the rows *sending* (by default: none is);
    those rows, as they were at the kill."""
    for _ in range(attempts):
        with _outbox_locked(db) as query:
            rows = query("SELECT id, chat_id FROM outbox WHERE status = 'sending'")
            sending = [(int(row_id), int(chat_id)) for row_id, chat_id in rows]
            if calm(sending):
                process.kill()
                process.wait(timeout=CEILING)
                return sending
        time.sleep(0.01)
    raise AssertionError("the outbox was never calm enough for the kill")

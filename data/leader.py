"""Which process is the scheduler leader: a PostgreSQL session-level advisory lock.

Several bot replicas may share one PostgreSQL database; only one of them may run the
reminder jobs. The leader is the process holding ``pg_try_advisory_lock(key)`` on a
connection of its own (autocommit, outside any pool): the lock lives exactly as long as
that database session. When the leader process dies — even by SIGKILL — the server ends
its session and the lock is free for the next replica that tries. Session-level (not
transaction-level) because the lock is held for hours, never inside a transaction.

The key is derived from the schema the bot's own sessions see (`deployment_schema`), so two
deployments (or test runs) sharing one database in separate schemas elect separate leaders;
the send budget's advisory lock (``data.ratelimit``) is keyed the same way.

On SQLite there is one process per database file by design (see README): it is always
the leader and no lock is taken.

All methods block on the database; async callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import weakref

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: What the lock key is derived from (with the schema name).
LOCK_NAME = "mittaribotti.scheduler-leader"


def lock_key(schema: str, name: str = LOCK_NAME) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock named ``name`` of the
    deployment in ``schema`` (the same in every process of it, another in another schema)."""
    digest = hashlib.blake2b(f"{name}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


#: The schema each engine's sessions see, asked once per engine (`deployment_schema`).
_SCHEMAS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def deployment_schema(connection: Connection) -> str:
    """The schema the bot's tables are in, as a connection of the bot's own engine sees it
    (``SELECT current_schema()``, once per engine): ``data.db`` passes the search_path in
    the connection's start-up options, so an engine made from the URL alone (the leader's
    lock connection) would see 'public' — every deployment on one database the same."""
    engine = connection.engine
    schema = _SCHEMAS.get(engine)
    if schema is None:
        schema = _SCHEMAS[engine] = str(
            connection.execute(text("SELECT current_schema()")).scalar_one()
        )
    return schema


class LeaderLock:
    """Holds (or tries to take) the scheduler leadership for one process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.always_leader = engine.dialect.name != "postgresql"
        self._lock_engine: Engine | None = None
        self._connection: Connection | None = None
        self.key: int | None = None
        # The periodic try and the leader's one-second check run in worker threads: one
        # at a time on the lock's connection.
        self._mutex = threading.RLock()

    @property
    def held(self) -> bool:
        """True while this process is the leader (as of the last `acquire` or `check`)."""
        return self.always_leader or self._connection is not None

    def _acquire_unlocked(self) -> bool:
        """Take the leadership if it is free; True if this process holds it now.

        Also verifies a lock already held: a lost connection (database restart, network)
        means the lock is gone, and this returns False so the caller stops leading.
        """
        if self.always_leader:
            return True
        if self._connection is not None:
            return self._check_unlocked()
        connection = None
        try:
            if self.key is None:
                # The schema as the bot's own sessions see it: the lock's engine below is
                # made from the URL, which no longer carries the search_path (``data.db``
                # passes it in the connection's start-up options), so asking there would
                # give every deployment and test run on one database the same key.
                with self.engine.connect() as own:
                    self.key = lock_key(own.execute(text("SELECT current_schema()")).scalar_one())
            if self._lock_engine is None:
                self._lock_engine = create_engine(
                    self.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
                )
            connection = self._lock_engine.connect()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar_one()
        except SQLAlchemyError as error:
            log.warning("scheduler leader: cannot try the lock: %s", _first_line(error))
            if connection is not None:
                _close_quietly(connection)
            return False
        if not got:
            _close_quietly(connection)
            return False
        self._connection = connection
        log.info("scheduler leader: this process holds the lock (key %s)", self.key)
        return True

    def _check_unlocked(self) -> bool:
        """True if the lock's session is still alive (and so the lock still ours)."""
        if self.always_leader:
            return True
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted"
                )
            ).scalar_one()
        except SQLAlchemyError as error:
            log.warning("scheduler leader: lost the lock's connection: %s", _first_line(error))
            held = 0
        if not held:
            _close_quietly(self._connection)
            self._connection = None
            return False
        return True

    def _release_unlocked(self) -> None:
        """Give the leadership up now (graceful stop): another replica can take it at its
        next try instead of waiting for this session to end."""
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            log.info("scheduler leader: released the lock")
        except SQLAlchemyError as error:
            log.warning("scheduler leader: unlock failed: %s", _first_line(error))
        finally:
            _close_quietly(self._connection)
            self._connection = None

    def acquire(self) -> bool:
        """Take the leadership if it is free; True if this process holds it now.

        Also verifies a lock already held: a lost connection (database restart, network)
        means the lock is gone, and this returns False so the caller stops leading.
        """
        with self._mutex:
            return self._acquire_unlocked()

    def check(self) -> bool:
        """True if the lock's session is still alive (and so the lock still ours)."""
        with self._mutex:
            return self._check_unlocked()

    def release(self) -> None:
        """Give the leadership up now (graceful stop)."""
        with self._mutex:
            self._release_unlocked()

    def dispose(self) -> None:
        self.release()
        if self._lock_engine is not None:
            self._lock_engine.dispose()
            self._lock_engine = None


def _close_quietly(connection: Connection) -> None:
    with contextlib.suppress(SQLAlchemyError):
        connection.close()


def _first_line(error: BaseException) -> str:
    detail = str(getattr(error, "orig", None) or error).strip()
    return detail.splitlines()[0] if detail else type(error).__name__

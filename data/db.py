"""Engines, sessions and migrations.

SQLite (the embedded default) runs with foreign keys on and WAL so that the bot, the
scheduler and a command-line tool can share the file; PostgreSQL is the deployment option.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import compiler
from sqlalchemy.sql.base import Executable

from data import versions as _versions  # noqa: F401  (every session bumps entity versions)

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a statement of the bot waits for a row lock (PostgreSQL ``lock_timeout``) before
#: it fails and the person is asked to try again: one slow or hung transaction holding a
#: person's row must not hold that person's update (and a worker thread) for longer.
LOCK_TIMEOUT_MS = 3000
#: Worker threads that run the database work of updates off the event loop: bounded, and
#: fewer than the connection pool (5 + overflow), so a wait is for a thread, not a connection.
DB_THREADS = 4
#: The interpreter's switch interval once worker threads run (CPython's default is 5 ms). A
#: worker gives up the interpreter lock for every round trip to the database and has to get
#: it back from a thread running Python (the event loop, another worker), which lets go only
#: when that interval is up: with 5 ms each of a step's round trips could wait up to 5 ms
#: (a local round trip is about 0.1 ms). Measured at the same time side by side under load
#: (``bench/reporting_bench.py``'s bot, PostgreSQL): 1 ms gave more updates per second and a
#: lower p95 in every pair, at the same CPU per update.
SWITCH_INTERVAL_SECONDS = 0.001


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, schema: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine; relative SQLite paths are taken from the project root.

    ``schema`` (PostgreSQL only) puts every table in that schema via ``search_path``: the
    test suite gives each run its own schema. ``lock_timeout_ms`` (PostgreSQL; default
    `LOCK_TIMEOUT_MS`, 0 = wait forever) bounds every lock wait of the engine's sessions.
    """
    lock_timeout_ms = kwargs.pop("lock_timeout_ms", LOCK_TIMEOUT_MS)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).is_absolute():
            path = ROOT / database
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(path))
        elif database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect_args = dict(kwargs.pop("connect_args", {}))
    # Session settings travel in the connection's start-up packet (libpq ``options``): no
    # statement, no transaction of their own when a connection opens. Options the URL or
    # the caller give come last, so that they win.
    options = []
    if lock_timeout_ms:
        options.append(f"-clock_timeout={int(lock_timeout_ms)}")
    if schema:
        options.append(f"-csearch_path={schema}")
    given = parsed.query.get("options")
    if given:
        options.extend([given] if isinstance(given, str) else given)
        parsed = parsed.difference_update_query(["options"])
    if "options" in connect_args:
        options.append(str(connect_args["options"]))
    if options:
        connect_args["options"] = " ".join(options)
    # No pre-ping: it was one extra round trip on every checkout (every update). A server
    # restart is noticed when a statement fails on a dead connection instead (SQLAlchemy
    # then invalidates the whole pool; work on a worker thread whose first statement met
    # it runs again on a fresh connection, see `_run_on_worker`), and connections are
    # replaced after half an hour, before any idle timeout between.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    _RECYCLE_SECONDS[engine] = float(kwargs["pool_recycle"])
    if lock_timeout_ms:
        _LOCK_TIMEOUTS[engine] = int(lock_timeout_ms)
    return engine


#: The lock timeout each PostgreSQL engine's connections start with.
_LOCK_TIMEOUTS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def is_lock_wait(error: BaseException) -> bool:
    """The statement gave up waiting for a lock: PostgreSQL's ``lock_timeout`` (SQLSTATE
    55P03) or SQLite's busy timeout ("database is locked")."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) == "55P03":
        return True
    return "database is locked" in str(original).lower()


_executors: dict[str, ThreadPoolExecutor] = {}


def _serial(sessions: sessionmaker[Session] | None) -> bool:
    bind = sessions.kw.get("bind") if sessions is not None else None
    return bind is not None and bind.dialect.name == "sqlite"


def db_threads(sessions: sessionmaker[Session] | None) -> int:
    """Worker threads of `off_loop` for this database (see `_executor_for`)."""
    return 1 if _serial(sessions) else DB_THREADS


def _executor_for(sessions: sessionmaker[Session] | None) -> ThreadPoolExecutor:
    """SQLite gets one worker thread (its writers are serialised by the database anyway, and
    several threads would only sleep in its busy handler); PostgreSQL `DB_THREADS`. The first
    pool lowers the interpreter's switch interval to `SWITCH_INTERVAL_SECONDS`."""
    key = "sqlite" if _serial(sessions) else "pool"
    executor = _executors.get(key)
    if executor is None:
        if sys.getswitchinterval() > SWITCH_INTERVAL_SECONDS:  # never raised
            sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        executor = _executors[key] = ThreadPoolExecutor(
            db_threads(sessions), thread_name_prefix=f"db-{key}", initializer=_become_worker
        )
    return executor


# --- a worker thread's own connection ---------------------------------------------------
#
# Every transaction of an update ran on a connection checked out of the engine's pool and
# checked back in at its end: a `Connection` made, the pool's queue, its events and its
# reset on return, twice per update (the step, then the outbox's sending marks) — about
# 18 µs of CPU each on SQLite and 40 µs on PostgreSQL, measured side by side against the
# same transaction on a connection kept open. A worker thread of `off_loop` (a handful,
# for the life of the process) therefore keeps one connection per engine between its
# transactions; any other thread (the event loop, a command-line tool) still uses the pool.
#
# The connection is idle between transactions (no transaction open, so no lock held and,
# on SQLite, no WAL snapshot). It is given back to the pool, and a fresh one taken, when a
# transaction on it failed with a database error (a dead connection is then invalidated by
# the pool as before), when it is older than the engine's ``pool_recycle``, and when the
# engine is disposed. A kept connection that died while idle (the server restarted, its
# backend terminated) is found by the first statement of the next transaction: that
# statement fails as a disconnect, nothing of the work reached the database, and
# `off_loop` runs the work once more, on a fresh connection (`_run_on_worker`) — no
# pre-ping, no user-visible failure.


class _Kept:
    """A worker thread's connection to one engine."""

    __slots__ = ("busy", "connection", "gone", "pool", "recycle_at", "session", "sessions")

    def __init__(self, engine: Engine) -> None:
        self.pool = engine.pool
        recycle = _RECYCLE_SECONDS.get(engine, -1)
        self.recycle_at = time.monotonic() + recycle if recycle >= 0 else None
        self.connection = engine.connect()
        self.busy = False
        #: Dropped (engine disposed, or replaced): closed by whoever finds it idle.
        self.gone = False
        #: The session `transaction` runs on this connection, and the factory that made it
        #: (see `_session_on`).
        self.session: Session | None = None
        self.sessions: sessionmaker[Session] | None = None

    def fresh(self, engine: Engine) -> bool:
        if self.gone or engine.pool is not self.pool or self.connection.invalidated:
            return False
        return self.recycle_at is None or time.monotonic() < self.recycle_at


#: A PostgreSQL engine's ``pool_recycle`` (`make_engine`): a kept connection is replaced
#: at that age, as the pool replaces its own.
_RECYCLE_SECONDS: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()

#: The one registry of kept connections: by engine, then by worker thread (its ident). A
#: worker reads its own entry; `_on_dispose` takes an engine's whole entry.
_kept: dict[Engine, dict[int, _Kept]] = {}
_kept_lock = threading.Lock()
#: Per thread: ``on`` — a worker of `off_loop` (it keeps connections); ``executed`` — a
#: statement of the current `off_loop` call has run (then it is never run again).
_worker = threading.local()


def _become_worker() -> None:
    _worker.on = True
    _worker.executed = False


def _executed(*_args: Any) -> None:
    """A statement ran (an engine listener where connections can die: not SQLite)."""
    _worker.executed = True


def _close(kept: _Kept, engine: Engine) -> None:
    """Give the connection back to its pool; closed at once when that pool was disposed of
    (a disposed pool closes only the connections checked in at the time)."""
    kept.session = None
    try:
        if kept.pool is not engine.pool:
            kept.connection.invalidate()
        kept.connection.close()
    except Exception:  # a connection that is already dead
        log.debug("could not close a worker's connection", exc_info=True)


def _take(engine: Engine) -> _Kept | None:
    """This worker thread's connection to ``engine``, marked busy; None when this is not
    a worker thread or its connection is in use (a transaction inside a transaction)."""
    if not getattr(_worker, "on", False):
        return None
    thread = threading.get_ident()
    kept = _kept.get(engine, {}).get(thread)
    if kept is not None:
        with _kept_lock:  # against `_on_dispose` on another thread
            if kept.busy:
                return None
            usable = kept.fresh(engine)
            if usable:
                kept.busy = True
        if usable:
            return kept
        _drop(engine, kept)
    kept = _Kept(engine)
    kept.busy = True
    with _kept_lock:
        _kept.setdefault(engine, {})[thread] = kept
    if not event.contains(engine, "engine_disposed", _on_dispose):
        event.listen(engine, "engine_disposed", _on_dispose)
        if engine.dialect.name != "sqlite":  # a file does not hang up
            event.listen(engine, "after_cursor_execute", _executed)
    return kept


def _drop(engine: Engine, kept: _Kept) -> None:
    """This worker thread's ``kept`` connection is done with: out of the registry, closed."""
    with _kept_lock:
        mine = _kept.get(engine)
        if mine is not None:
            if mine.get(threading.get_ident()) is kept:
                del mine[threading.get_ident()]
            if not mine:
                del _kept[engine]
        kept.gone = True
    _close(kept, engine)


def _give_back(engine: Engine, kept: _Kept, *, failed: bool) -> None:
    """The transaction on ``kept`` is over: keep the connection for the next one, unless
    the transaction failed on the database (or the engine was disposed meanwhile)."""
    connection = kept.connection
    if not (failed or connection.invalidated or connection.in_transaction()):
        with _kept_lock:
            if not kept.gone:
                kept.busy = False
                return
    _drop(engine, kept)


def _on_dispose(engine: Engine) -> None:
    """The engine's pool was disposed: its workers' connections go too (closed here when
    idle, else by their worker when its transaction ends)."""
    idle = []
    with _kept_lock:
        for kept in _kept.pop(engine, {}).values():
            kept.gone = True
            if not kept.busy:
                kept.busy = True  # taken by nobody any more
                idle.append(kept)
    for kept in idle:
        _close(kept, engine)


@contextlib.contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()``: a connection in a transaction of its own, committed at the end
    (rolled back on an error) — on a worker thread, that thread's own connection (see
    `_Kept`), without the pool's checkout and checkin."""
    kept = _take(engine)
    if kept is None:
        with engine.begin() as connection:
            yield connection
        return
    failed = False
    try:
        with kept.connection.begin():
            yield kept.connection
    except DBAPIError:
        failed = True
        raise
    finally:
        _give_back(engine, kept, failed=failed)


def _run_on_worker(function: Callable[..., T], args: tuple[Any, ...]) -> T:
    """``function(*args)`` on a worker thread; run once more when its first statement found
    the connection lost (``connection_invalidated``: SQLAlchemy's disconnect detection) —
    a kept connection that died while idle (the server restarted, its backend terminated).
    Nothing of the first run reached the database then, and the second takes a fresh
    connection. Never when a statement had run: that work may have been applied (or its
    effects outside the database made), and the failure is the caller's to report."""
    _worker.executed = False
    try:
        return function(*args)
    except DBAPIError as error:
        if not error.connection_invalidated or _worker.executed:
            raise
        log.info("database: a kept connection was lost (%s); running the work again", error.orig)
    _worker.executed = False
    return function(*args)


async def off_loop(
    function: Callable[..., T], *args: Any, sessions: sessionmaker[Session] | None = None
) -> T:
    """Run blocking database work on a worker thread (see `_executor_for`: ``sessions`` says
    which database), so the event loop — every other chat, /healthz — never waits on the
    database. Context variables go along.

    Work whose first statement finds the worker's connection lost is run once more on a
    fresh one (`_run_on_worker`): ``function`` must do its database work before anything
    it could not undo (the callers' functions begin with a transaction)."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _executor_for(sessions), functools.partial(context.run, _run_on_worker, function, args)
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (creates an empty database's tables).

    A database already at a newer release's revision is left alone when that release
    declared this code compatible, and refused with `data.health.SchemaAheadError`
    otherwise (see `data.health`).

    On SQLite, foreign keys are off while migrating: batch mode rebuilds a table by copy,
    drop and rename, and dropping a table others refer to would fail (or, deferred, fail
    at commit). Every reference is checked once the migrations are done instead.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # no-op inside a transaction
            connection.commit()
        try:
            with connection.begin():
                if not sqlite:  # a migration may wait for running transactions to end
                    connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
                from data.health import SchemaAheadError, Standing, schema_state

                state = schema_state(connection)
                if state.standing is Standing.AHEAD_INCOMPATIBLE:
                    raise SchemaAheadError(state)
                if state.standing is Standing.AHEAD_COMPATIBLE:
                    # A newer release migrated first (rolling upgrade): nothing to do here.
                    log.info("%s", state.describe())
                    return
                config = _alembic_config(engine)
                config.attributes["connection"] = connection
                before = MigrationContext.configure(connection).get_current_heads()
                command.upgrade(config, "head")
                after = MigrationContext.configure(connection).get_current_heads()
                if sqlite and before != after:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:3]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


#: pg_advisory_lock key that serialises start-ups ("mittaribotti: migrate" as a number).
STARTUP_LOCK_KEY = 0x6D69_6772_6174


@contextlib.contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """One process at a time migrates and loads the catalog (PostgreSQL).

    Replicas that start together would otherwise run the same migration twice, or insert
    the same catalog rows twice; the second one now waits and finds nothing to do. The lock
    is session-level on its own connection, so it is gone if the process dies. SQLite runs
    one process, and its own write lock serialises the rest.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        # Waiting here for another replica's migration is expected: no lock_timeout.
        connection.execute(text("SET lock_timeout = 0"))
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
            timeout = _LOCK_TIMEOUTS.get(engine, 0)
            connection.execute(text(f"SET lock_timeout = {timeout}"))
            connection.commit()


def check_writable(engine: Engine) -> None:
    """Fail now, not at the first answer, when the database cannot be written (a read-only
    SQLite file, folder or volume): rewriting the header's user_version in a transaction
    that is rolled back is a real write attempt that changes nothing."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        version = connection.exec_driver_sql("PRAGMA user_version").scalar_one()
        connection.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        connection.rollback()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run by ``Session.execute`` matched.

    ``Session.execute`` is typed to return a plain ``Result``; for these statements it is
    the driver's ``CursorResult``, which has the count (checked here, not assumed)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} carries no row count")
    return result.rowcount


def insert_for(session: Session, model: type[Any]) -> Any:
    """The dialect's INSERT for ``model``, which has ``on_conflict_do_nothing``.

    Every get-or-create is an ``INSERT … ON CONFLICT DO NOTHING`` followed by a read, so two
    sessions creating the same row at once both end with the one row instead of one of them
    failing on the unique constraint (both SQLite and PostgreSQL support it).
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"unsupported database {name!r}")


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    On a worker thread of `off_loop` the session runs on the thread's own connection (see
    `_Kept`): it begins, commits or rolls back that connection's transaction as it would a
    pooled one's, and the connection stays open for the thread's next transaction."""
    engine = factory.kw.get("bind")
    kept = _take(engine) if isinstance(engine, Engine) else None
    if kept is None:
        with factory() as session, session.begin():
            yield session
        return
    failed = False
    session = _session_on(kept, factory)
    try:
        with session.begin():
            yield session
    except DBAPIError:
        failed = True
        raise
    finally:
        _between(session)
        _give_back(cast(Engine, engine), kept, failed=failed)


def _session_on(kept: _Kept, factory: sessionmaker[Session]) -> Session:
    """The session of a worker's kept connection, made by ``factory`` once and used by each
    of the thread's transactions on it (as the connection is).

    Making a `Session` per transaction and closing it after cost more CPU than the rest of
    an empty transaction (its event dispatch, identity map and transaction objects set up
    and torn down each time: about 30 µs per update on SQLite). Between two transactions
    the session holds nothing (`_between`): the second one starts as a new session would."""
    session = kept.session
    if session is None or kept.sessions is not factory:
        if session is not None:
            session.close()
        session = kept.session = factory(bind=kept.connection)
        kept.sessions = factory
    return session


def _between(session: Session) -> None:
    """A kept session after its transaction: left as `Session.close` leaves one — no
    transaction, no object (a reused session must not hand one transaction's rows to the
    next), and nothing in ``info`` (per-transaction state such as ``data.progress``'s
    preloaded rows)."""
    if session.in_transaction():  # left open by the caller's code: ended as close() would
        session.close()
    if session.identity_map or session.new or session.deleted:
        session.expunge_all()
    if session.info:
        session.info.clear()


# --- the hot path's prebuilt statements, executed with the least work -------------------
#
# ``Connection.execute`` of a statement built once (module level, bound parameters) finds
# its compiled form in the engine's cache — but on every call it first recomputes what it
# looks the form up by: the statement's cache key (memoized) inside a tuple with the
# dialect and the parameter names, hashed afresh each time (a tuple does not keep its
# hash; for the person-and-drafts statement that is its whole structure), then the LRU
# cache's bookkeeping and the ``before_execute`` / ``after_execute`` events. Measured on
# that statement on SQLite: 44 µs through ``Connection.execute``, 28 µs when the compiled
# form is held per statement. `run` holds it: the same compiled form SQLAlchemy would use
# (made by the same call, `_compile_w_cache`, the first time), executed by the same
# execution context — the cursor events (``before_cursor_execute``: the statement counts
# of the tests and benches, the kept connections' ``after_cursor_execute``) fire as ever.

#: The attribute of a dialect that holds its prepared statements: (statement id, parameter
#: names) -> (statement, compiled, extracted bound parameters, their values); the statement
#: is kept so that its id is never reused. On the dialect, so that they go with it (a
#: compiled form refers to its dialect: a weak-keyed registry would keep every dialect).
_PREPARED = "_mittari_prepared"


def run(connection: Connection, statement: Executable, params: dict[str, Any]) -> Any:
    """``connection.execute(statement, params)`` (a `CursorResult`) for a statement built
    once and used for the life of the process (a module-level constant: it is remembered),
    executed as SQLAlchemy executes a statement its cache has compiled, without looking
    the compiled form up again (see above). A connection with execution options or
    ``before_execute`` / ``after_execute`` listeners takes ``Connection.execute``."""
    dispatch = connection.dispatch
    if connection._execution_options or dispatch.before_execute or dispatch.after_execute:
        return connection.execute(statement, params)
    dialect = connection.dialect
    prepared: dict[tuple[int, tuple[str, ...]], tuple[Any, ...]] | None = getattr(
        dialect, _PREPARED, None
    )
    if prepared is None:
        prepared = {}
        setattr(dialect, _PREPARED, prepared)
    names = tuple(sorted(params))
    found = prepared.get((id(statement), names))
    if found is None or found[0] is not statement:
        compiled, extracted, values, _hit = statement._compile_w_cache(
            dialect=dialect,
            compiled_cache=connection.engine._compiled_cache,
            column_keys=list(names),
            for_executemany=False,
            schema_translate_map=None,
            linting=dialect.compiler_linting | compiler.WARN_LINTING,
        )
        found = prepared[(id(statement), names)] = (statement, compiled, extracted, values)
    _, compiled, extracted, values = found
    parameters = [params]
    return connection._execute_context(
        dialect,
        dialect.execution_ctx_cls._init_compiled,
        compiled,
        parameters,
        statement._execution_options,
        compiled,
        parameters,
        statement,
        extracted,
        cache_hit=dialect.CACHE_HIT,
        param_dict=values,
    )

"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL too when
TEST_DATABASE_URL is set (.ci/run sets it). Each PostgreSQL test run gets its own schema,
dropped at the end, so parallel or aborted runs never see each other's rows."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from data.catalog import load_catalog
from data.db import make_engine, make_sessionmaker, migrate, transaction
from data.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@dataclass
class Database:
    """A migrated, catalog-loaded database for one test."""

    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    def session(self) -> Session:
        return self.sessions()

    def transaction(self):  # type: ignore[no-untyped-def]
        return transaction(self.sessions)


class Statements:
    """The SQL statements run on the database while the block runs (white space folded)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine
        self.seen: list[str] = []

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _pg_url_with_schema(schema: str) -> str:
    assert PG_URL
    separator = "&" if "?" in PG_URL else "?"
    # The schema's name is also its sessions' application_name: `terminate_sessions` ends
    # this run's sessions, and only them.
    options = quote(f"-csearch_path={schema}")
    return f"{PG_URL}{separator}application_name={schema}&options={options}"


def terminate_sessions(db: Database) -> int:
    """End every PostgreSQL session of ``db``'s schema (``pg_terminate_backend``: what a
    server restart does to them), never another's; wait until they are gone; how many."""
    assert db.backend == "postgresql" and PG_URL
    name = make_url(db.url).query["application_name"]
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as connection:
            pids = (
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                .scalars()
                .all()
            )
            for pid in pids:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with admin.begin() as connection:
                left = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                    {"pids": list(pids)},
                ).scalar_one()
            if not left:
                return len(pids)
            time.sleep(0.05)
        raise AssertionError(f"sessions {pids} still there a minute after their termination")
    finally:
        admin.dispose()


@contextlib.contextmanager
def scratch_schema(prefix: str = "t") -> Iterator[str]:
    """An empty PostgreSQL schema of its own (TEST_DATABASE_URL), for a test that starts
    from nothing or shares one database between processes; yields the URL that uses it and
    drops it afterwards."""
    assert PG_URL
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_url_with_schema(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Engine]]]:
    engines: dict[str, tuple[str, Engine]] = {}
    sqlite_path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    sqlite_url = f"sqlite:///{sqlite_path}"
    engines["sqlite"] = (sqlite_url, make_engine(sqlite_url))
    schema = None
    if PG_URL:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_url_with_schema(schema)
        engines["postgresql"] = (url, make_engine(url, pool_size=10, max_overflow=20))
    for _url, engine in engines.values():
        migrate(engine)
    yield engines
    for _url, engine in engines.values():
        engine.dispose()
    if PG_URL and schema:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _wipe(engine: Engine) -> None:
    tables = [t for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, _engines: dict[str, tuple[str, Engine]]) -> Database:
    """A clean database with the reference catalog loaded, on each backend in turn."""
    url, engine = _engines[request.param]
    _wipe(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_catalog(session)
    return Database(request.param, url, engine, sessions)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_tools(*names): needs these programs (soffice, pdftoppm …); skipped where they "
        "are missing, failed in CI (CI=true) — see tests/tools.py",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("needs_tools")
    if marker is not None:
        from tests.tools import require

        require(*marker.args)

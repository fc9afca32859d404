"""Backup and restore: a restored database gives the very same document package.

SQLite always; PostgreSQL when TEST_DATABASE_URL is set, with a source and a target
database of their own (created here, dropped afterwards), since pg_dump works per database.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from data import backup as backups
from data.catalog import load_catalog
from data.cli import main
from data.db import make_engine, make_sessionmaker, migrate, transaction
from data.demo import seed_demo_round
from data.models import Person
from data.snapshot import read_snapshot
from docgen import generate
from settings import Settings, load_settings

from ..conftest import PG_URL

YEAR = 2026
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(env={})


class Databases:
    """Makes empty databases of one backend and removes them at the end."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend, self.tmp, self.made = backend, tmp, []  # type: list[str]

    def new(self) -> str:
        name = f"test_restore_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        assert PG_URL
        admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.made.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.made:
            return
        admin = make_engine(PG_URL or "", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    made = Databases(request.param, tmp_path)
    yield made
    made.drop_all()


def _seeded(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with transaction(make_sessionmaker(engine)) as session:
        load_catalog(session)
        seed_demo_round(session, YEAR)
    engine.dispose()


def _package(url: str, settings: Settings) -> bytes:
    engine = make_engine(url)
    try:
        snapshot = read_snapshot(make_sessionmaker(engine), YEAR)
    finally:
        engine.dispose()
    assert snapshot.has_data
    # Without the PDFs: they are renderings of the same files, and a LibreOffice run slowed
    # past its time limit on a busy machine leaves them out, which is not the data differing.
    (package,) = generate(snapshot, "paketti", settings=settings, today=TODAY, pdf=False)
    return package.content


def _people(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Person)) or 0)
    finally:
        engine.dispose()


def test_restored_database_generates_the_identical_package(
    databases: Databases, settings: Settings, tmp_path: Path
) -> None:
    source = databases.new()
    _seeded(source)
    before = _package(source, settings)
    file = tmp_path / "mittarit.backup"
    made = backups.backup(source, file)
    assert made.size == file.stat().st_size > 0
    target = databases.new()
    backups.restore(target, file)
    assert _package(target, settings) == before


def test_restore_into_a_database_that_holds_data_needs_force(
    databases: Databases, tmp_path: Path
) -> None:
    source = databases.new()
    _seeded(source)
    file = tmp_path / "b.backup"
    backups.backup(source, file)
    target = databases.new()
    engine = make_engine(target)
    migrate(engine)
    with transaction(make_sessionmaker(engine)) as session:
        load_catalog(session)  # a started-once bot: the catalog alone is not "data"
    engine.dispose()
    backups.restore(target, file)
    with pytest.raises(backups.BackupError, match=r"not empty.*--force"):
        backups.restore(target, file)
    backups.restore(target, file, force=True)
    assert _people(target) == _people(source)


def test_sqlite_backup_is_consistent_while_another_connection_writes(tmp_path: Path) -> None:
    """The bot keeps its write transaction open: the backup neither waits nor copies it."""
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    _seeded(url)
    committed = _people(url)
    writer = sqlite3.connect(tmp_path / "live.sqlite3", timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO people (telegram_user_id, name, active, created_at) "
        "VALUES (999, 'kesken', 1, '2026-11-20 10:00:00')"
    )
    try:
        backups.backup(url, tmp_path / "live.backup")
    finally:
        writer.rollback()
        writer.close()
    copy = sqlite3.connect(tmp_path / "live.backup")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM people").fetchone() == (committed,)
    copy.close()


def test_cli_backs_up_and_restores_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    _seeded(source)
    monkeypatch.setenv("DATABASE_URL", source)
    assert main(["backup", "--out", str(tmp_path / "x.backup")]) == 0
    assert "backup written" in capsys.readouterr().out
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert main(["restore", str(tmp_path / "x.backup")]) == 0
    assert main(["restore", str(tmp_path / "x.backup")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--force" in error


def test_cli_says_in_one_line_when_pg_dump_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://bot@db.invalid/mittarit")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["backup", "--out", str(tmp_path / "x.dump")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "pg_dump not found" in error
    assert not (tmp_path / "x.dump").exists()


def test_restore_refuses_a_file_that_is_not_a_backup_of_that_database(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    target = f"sqlite:///{tmp_path / 't.sqlite3'}"
    with pytest.raises(backups.BackupError, match="not a backup"):
        backups.restore(target, junk)
    dump = tmp_path / "pg.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00rest")
    with pytest.raises(backups.BackupError, match="postgresql backup but the target"):
        backups.restore(target, dump)


def test_a_backup_file_is_readable_by_its_owner_only(databases: Databases, tmp_path: Path) -> None:
    """A backup holds personal data: mode 0600 whatever the umask of the shell."""
    source = databases.new()
    _seeded(source)
    old = os.umask(0o022)
    try:
        backups.backup(source, tmp_path / "b.backup")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "b.backup").stat().st_mode) == 0o600
    assert os.umask(old) == old  # the process's own umask is given back

"""Backups of the whole database and restoring them.

SQLite goes through SQLite's online backup API: it copies a consistent snapshot page by
page while the bot keeps reading and writing (WAL), so a backup never needs the bot
stopped. PostgreSQL goes through ``pg_dump``/``pg_restore`` in their custom format (the
server's own consistent snapshot, compressed, restorable with the standard tools too).

Restoring replaces the target's contents, so it refuses a target that already holds data
(anything beyond the reference catalog, which every start reloads from catalog.yaml)
unless the operator says ``force``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url

from data.db import ROOT, make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"

#: Tables a fresh start fills by itself (catalog.yaml) or that only describe the schema:
#: rows there do not make a restore target "non-empty".
NOT_CONTENT = frozenset(
    {
        "alembic_version",
        "schema_compatibility",
        "levels",
        "catalog_methods",
        "divisions",
        "service_entities",
        "measurement_types",
        "catalog_state",
    }
)


class BackupError(Exception):
    """A backup or restore problem, phrased as the one line the operator sees."""


@dataclass(frozen=True)
class Result:
    backend: str
    path: Path
    size: int
    seconds: float


def _backend(url: URL) -> str:
    name = url.get_backend_name()
    if name not in {"sqlite", "postgresql"}:
        raise BackupError(f"unsupported database {name!r} (SQLite or PostgreSQL)")
    return name


def _sqlite_path(url: URL) -> Path:
    """The database file, resolved the way data.db.make_engine resolves it."""
    database = url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    path = Path(database)
    return path if path.is_absolute() else ROOT / path


def _read_only(path: Path) -> str:
    """A SQLite URI that opens the file read-only (the backup never writes its source)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it.

    The password goes in PGPASSWORD so it never shows in the process list.
    """
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools of the server's major "
            "version (Debian: postgresql-client) and put them on PATH"
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        lines = [ln for ln in completed.stderr.splitlines() if ln.strip()]
        reason = lines[0] if lines else f"exit status {completed.returncode}"
        more = f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else ""
        raise BackupError(f"{Path(command[0]).name} failed: {reason}{more}")


def content_rows(engine: Engine) -> dict[str, int]:
    """Rows per table that a restore would overwrite (tables outside NOT_CONTENT)."""
    names = [n for n in inspect(engine).get_table_names() if n not in NOT_CONTENT]
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for name in names:
            n = connection.scalar(select(func.count()).select_from(table(name)))
            if n:
                counts[name] = int(n)
    return counts


#: File mode of a backup: owner read/write only.
BACKUP_MODE = 0o600


def backup(database_url: str, out: Path) -> Result:
    """Write a backup of the whole database to ``out`` (replaced only once complete)."""
    started = time.monotonic()
    url = make_url(database_url)
    backend = _backend(url)
    out = out.resolve()
    if out.is_dir():
        raise BackupError(f"{out} is a directory; give a file name")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent}: no such directory")
    partial = out.with_name(f".{out.name}.partial")
    # A backup holds personal data: readable by its owner only, from its first byte (the
    # tools create the file under this umask) to the rename.
    umask = os.umask(0o077)
    try:
        if backend == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_backup(url, partial)
        partial.chmod(BACKUP_MODE)
        partial.replace(out)
    finally:
        os.umask(umask)
        partial.unlink(missing_ok=True)
    return Result(backend, out, out.stat().st_size, time.monotonic() - started)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    target.unlink(missing_ok=True)
    # Not read-only: a WAL database opened read-only fails when its -shm file is absent.
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            # One step = one read transaction: a consistent snapshot. In WAL mode the bot's
            # writers are not blocked by it (copying in small steps would instead restart
            # the copy whenever the bot writes in between).
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from None
    finally:
        src.close()


def _pg_backup(url: URL, target: Path) -> None:
    pg_dump = _tool("pg_dump")
    uri, env = _libpq(url)
    _run(
        [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", uri],
        env,
    )


def restore(database_url: str, source: Path, *, force: bool = False) -> Result:
    """Replace the database's contents with the backup in ``source``.

    Refuses (BackupError) when the file is not a backup of this kind of database, or when
    the target holds data and ``force`` is not given. Stop the bot first: a running bot
    would keep writing into the database being replaced.
    """
    started = time.monotonic()
    url = make_url(database_url)
    backend = _backend(url)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    with source.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    kind = (
        "sqlite"
        if head.startswith(SQLITE_MAGIC)
        else "postgresql"
        if head.startswith(PG_DUMP_MAGIC)
        else None
    )
    if kind is None:
        raise BackupError(f"{source}: not a backup made by `python -m data backup`")
    if kind != backend:
        raise BackupError(f"{source} is a {kind} backup but the target database is {backend}")
    engine = make_engine(database_url)
    try:
        _refuse_non_empty(engine, force)
        if backend == "sqlite":
            engine.dispose()
            _sqlite_restore(source, _sqlite_path(url))
        else:
            has_tables = bool(inspect(engine).get_table_names())
            engine.dispose()
            _pg_restore(url, source, clean=has_tables)
    finally:
        engine.dispose()
    return Result(backend, source, source.stat().st_size, time.monotonic() - started)


def _refuse_non_empty(engine: Engine, force: bool) -> None:
    if force:
        return
    rows = content_rows(engine)
    if rows:
        shown = sorted(rows.items())
        listed = ", ".join(f"{name}: {n} row{'s' if n > 1 else ''}" for name, n in shown[:3])
        more = ", …" if len(shown) > 3 else ""
        raise BackupError(
            f"the target database is not empty ({listed}{more}); "
            "restore replaces its contents: add --force if that is what you want"
        )


def _sqlite_restore(source: Path, target: Path) -> None:
    src = sqlite3.connect(_read_only(source), uri=True)
    try:
        check = src.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"{source}: the backup is damaged ({check[0] if check else '?'})")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # replaces every page of the target in one go
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"SQLite restore failed: {exc}") from None
    finally:
        src.close()


def _pg_restore(url: URL, source: Path, *, clean: bool) -> None:
    pg_restore = _tool("pg_restore")
    uri, env = _libpq(url)
    command = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction"]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, f"--dbname={uri}", str(source)], env)

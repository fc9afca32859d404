"""`python -m bot migrate`: the first step of an upgrade, safe when replicas start together."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from data.db import make_engine
from data.health import head_revisions, schema_problem

from ..conftest import PG_URL, scratch_schema
from .processes import ROOT


def _migrate(database_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_migrate_brings_an_empty_sqlite_database_to_head_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    process = _migrate(url)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip() == f"database at {','.join(sorted(head_revisions()))} (head); catalog loaded"
    assert schema_problem(make_engine(url)) is None


@pytest.fixture
def empty_pg_schema() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    with scratch_schema() as url:
        yield url


def test_three_processes_migrating_an_empty_postgresql_database_at_once_all_succeed(
    empty_pg_schema: str,
) -> None:
    processes = [_migrate(empty_pg_schema) for _ in range(3)]
    results = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _out, err in results]
    engine = make_engine(empty_pg_schema)
    assert schema_problem(engine) is None
    with engine.connect() as connection:
        divisions = connection.execute(text("SELECT count(*) FROM divisions")).scalar_one()
    assert divisions == 4  # the catalog once, not three times
    engine.dispose()

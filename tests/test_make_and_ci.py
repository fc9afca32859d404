"""`make test` and `.ci/run`: the reliability part always runs, and CI makes its database."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from data.db import make_engine

from .conftest import PG_URL

ROOT = Path(__file__).resolve().parent.parent


def test_make_test_runs_the_reliability_tests_even_when_the_first_part_fails(
    tmp_path: Path,
) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    calls = tmp_path / "calls"
    fake = tmp_path / "bin"
    fake.mkdir()
    python = fake / "python"
    # The first pytest run fails, the second passes: make must run both and fail.
    python.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n[ "$(wc -l < {calls})" -gt 1 ] && exit 0\nexit 1\n'
    )
    python.chmod(0o755)
    stamp = tmp_path / "stamp"
    stamp.touch()
    result = subprocess.run(
        ["make", "--no-print-directory", "test", f"BIN={fake}", f"DEV_STAMP={stamp}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    runs = calls.read_text().splitlines()
    assert len(runs) == 2, runs
    assert "--ignore=tests/reliability" in runs[0]
    assert runs[1].endswith("tests/reliability")
    assert result.returncode != 0


def test_ci_creates_its_test_database_when_it_is_missing() -> None:
    if not PG_URL or shutil.which("psql") is None:
        pytest.skip("needs TEST_DATABASE_URL and psql")
    url = make_url(PG_URL)
    name = f"ci_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
    }
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(2):  # the second run finds it and changes nothing
            subprocess.run([ROOT / ".ci" / "ensure-database", name], env=env, check=True)
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar_one()
        assert found == 1
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

"""Rolling upgrades: a replica whose code is one release behind the database starts and
serves when the newer release declared its schema compatible (expand/contract), and
refuses in one line with exit status 2 when it did not.

"The next release" is synthesised on top of this release's head: an additive change (a new
nullable column and a new table), the revision ``9999_next`` in ``alembic_version`` and its
declaration in ``schema_compatibility`` -- what a real next migration written by the rule
in ``data/migrations/compat.py`` leaves behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.runtime import prepare_database
from data.db import make_engine, migrate
from data.health import SchemaAheadError, Standing, head_revisions, schema_problem, schema_state
from localtg.http import ServerThread
from tests.bot.processes import TOKEN, start_bot

from ..conftest import BACKENDS, scratch_schema

NEXT = "9999_next"
(HEAD,) = head_revisions()


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """An empty database of its own (the shared test database keeps its revision)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'next.sqlite3'}"
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    with scratch_schema("t_next") as url:
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()


def next_release(engine: Engine, *, declares: str | None) -> None:
    """Migrate to head, then apply the synthetic next release's additive migration."""
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE people ADD COLUMN nickname VARCHAR(40)"))
        connection.execute(text("CREATE TABLE next_feature (id INTEGER PRIMARY KEY)"))
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEXT})
        if declares is not None:
            connection.execute(
                text("INSERT INTO schema_compatibility VALUES (:r, :o)"),
                {"r": NEXT, "o": declares},
            )


def test_code_one_release_behind_runs_on_a_schema_declared_compatible(
    fresh: tuple[str, Engine],
) -> None:
    url, engine = fresh
    next_release(engine, declares=HEAD)
    with engine.connect() as connection:
        state = schema_state(connection)
    assert state.standing is Standing.AHEAD_COMPATIBLE and state.runnable
    migrate(engine)  # a restart of the old replica: nothing to do, no error
    prepare_database(url)[0].dispose()  # the whole start-up path (catalog included)
    assert schema_problem(engine) is None  # /readyz: ready
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == NEXT


@pytest.mark.parametrize("declares", [None, "9998_newer_than_this_code"])
def test_a_newer_schema_not_declared_compatible_is_refused(
    fresh: tuple[str, Engine], declares: str | None
) -> None:
    _url, engine = fresh
    next_release(engine, declares=declares)
    with pytest.raises(SchemaAheadError, match="run the newer release"):
        migrate(engine)
    problem = schema_problem(engine)
    assert problem is not None and f"schema at {NEXT} is newer than this release" in problem


def test_an_old_replica_restarted_mid_upgrade_starts_and_answers(
    fresh: tuple[str, Engine], tmp_path: Path
) -> None:
    """The process itself: webhook replica of this code on the next release's schema."""
    from localtg import LocalBotApi
    from tests.bot.test_webhook_server import _say

    url, engine = fresh
    next_release(engine, declares=HEAD)
    api = LocalBotApi(token=TOKEN)
    with ServerThread(api) as server:
        replica = start_bot(server.base_url, url, tmp_path / "old.log")
        try:
            replica.wait_until_ready(timeout=180)
            assert server.run_sync(_say(api, 4301, "/start", replica.webhook)) == [200]
            server.run_sync(api.user(4301).wait_for_message(contains="kutsulinkki"), timeout=120)
        finally:
            replica.stop()
    assert replica.process.returncode == 0, replica.log()


def test_an_old_replica_on_an_incompatible_schema_exits_2_in_one_line(
    fresh: tuple[str, Engine], tmp_path: Path
) -> None:
    from localtg import LocalBotApi

    url, engine = fresh
    next_release(engine, declares=None)
    with ServerThread(LocalBotApi(token=TOKEN)) as server:
        replica = start_bot(server.base_url, url, tmp_path / "old.log")
        try:
            assert replica.process.wait(timeout=180) == 2
        finally:
            replica.stop()
    errors = [line for line in replica.log().splitlines() if "level=error" in line]
    assert len(errors) == 1 and "run the newer release" in errors[0], replica.log()
    assert "Traceback" not in replica.log()


def test_restoring_a_newer_release_s_backup_says_whether_this_release_can_run_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from data.cli import main

    for declares, expected in ((HEAD, "which this one runs on"), (None, "cannot run on")):
        source = tmp_path / f"source-{declares}.sqlite3"
        engine = make_engine(f"sqlite:///{source}")
        next_release(engine, declares=declares)
        engine.dispose()
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{source}")
        assert main(["backup", "--out", str(tmp_path / "next.backup")]) == 0
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / f'target-{declares}.sqlite3'}")
        assert main(["restore", str(tmp_path / "next.backup")]) == 0
        out = capsys.readouterr().out
        assert expected in out and "start the bot to apply newer migrations" not in out

"""Every start-up failure of `python -m bot run|migrate|invite` is one log line naming the
cause and the variable to fix, never a token or password, with exit status 2 when a
restart cannot fix it and 1 when it may."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from bot.startup import explain
from data.db import check_writable, make_engine, migrate
from localtg import LocalBotApi
from localtg.http import ServerThread
from tests.bot.processes import ROOT, TOKEN, free_port

WRONG_TOKEN = "999999:WRONG-AAHdqTcvCH1vGWJxfSeofSAs0K5PALDs"


def run_bot(
    env: dict[str, str], *argv: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_PORT", "METRICS_PORT"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *(argv or ("run",))],
        cwd=ROOT,
        env=full,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    lines = [line for line in result.stderr.splitlines() if "level=error" in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for secret in secrets:
        assert secret not in result.stderr + result.stdout
    return lines[0]


WEBHOOK_MODE = {
    "TELEGRAM_WEBHOOK_URL": "https://mittaribotti.example.test/bot",
    "TELEGRAM_WEBHOOK_SECRET": "s3cret",
    "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
}


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_a_refused_token_is_one_line_without_the_token_and_exit_2(
    tmp_path: Path, mode: str
) -> None:
    api = LocalBotApi(token=TOKEN)
    webhook = {**WEBHOOK_MODE, "TELEGRAM_WEBHOOK_PORT": str(free_port())}
    with ServerThread(api) as server:
        result = run_bot(
            {
                "TELEGRAM_BOT_TOKEN": WRONG_TOKEN,
                "TELEGRAM_BASE_URL": server.base_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
                **(webhook if mode == "webhook" else {}),
            }
        )
    line = one_error_line(result, WRONG_TOKEN, "WRONG-AAHdq")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in line and "refused" in line


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_telegram_unreachable_at_start_is_one_line_and_exit_1(tmp_path: Path, mode: str) -> None:
    webhook = {**WEBHOOK_MODE, "TELEGRAM_WEBHOOK_PORT": str(free_port())}
    result = run_bot(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            **(webhook if mode == "webhook" else {}),
        }
    )
    line = one_error_line(result, TOKEN)
    assert result.returncode == 1
    assert "Telegram is not reachable" in line and "TELEGRAM_BASE_URL" in line


@pytest.mark.parametrize("command", [("run",), ("migrate",), ("invite", "--role", "staff")])
def test_database_unreachable_is_one_line_and_exit_1(command: tuple[str, ...]) -> None:
    password = "Sal4sana-xyz"
    result = run_bot(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_URL": f"postgresql+psycopg://bot:{password}@127.0.0.1:{free_port()}/x",
        },
        *command,
    )
    line = one_error_line(result, TOKEN, password)
    assert result.returncode == 1
    assert "not reachable" in line and "DATABASE_URL" in line


def test_a_missing_postgresql_database_is_one_line_and_exit_2() -> None:
    from tests.conftest import PG_URL

    if not PG_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(database="no_such_database_mittari")
    result = run_bot(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": url.render_as_string(False)}, "migrate"
    )
    line = one_error_line(result, TOKEN)
    assert result.returncode == 2
    assert "does not exist" in line and "DATABASE_URL" in line


def test_a_read_only_sqlite_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only files (see the in-process test below)")
    path = tmp_path / "bot.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    for file in tmp_path.iterdir():
        file.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = run_bot({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{path}"})
    finally:
        tmp_path.chmod(stat.S_IRWXU)
    line = one_error_line(result, TOKEN)
    assert result.returncode == 2
    assert "read-only" in line and "DATABASE_URL" in line


def test_a_read_only_sqlite_database_fails_the_start_up_check_with_status_2(
    tmp_path: Path,
) -> None:
    """What a read-only file or volume gives, also for root: SQLite opened read-only."""
    path = tmp_path / "bot.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    read_only = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    )
    with pytest.raises(SQLAlchemyError) as error:
        check_writable(read_only)
    failure = explain(error.value)
    assert failure.status == 2
    assert "read-only" in failure.message and "DATABASE_URL" in failure.message

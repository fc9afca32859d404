"""`python -m bot run` without a token: the local chat only for a person at a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from .processes import CEILING, ROOT


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "LOCALCHAT_DATABASE_URL": f"sqlite:///{tmp_path / 'local.sqlite3'}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    return env


def test_run_without_token_under_a_supervisor_exits_2_naming_the_variable(
    tmp_path: Path,
) -> None:
    for argv in (["run"], []):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *argv],
            cwd=ROOT,
            env=_env(tmp_path),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CEILING,
        )
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0], result.stderr
    assert not (tmp_path / "local.sqlite3").exists()  # no local chat was started


def test_run_without_token_at_a_terminal_opens_the_local_chat(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=_env(tmp_path),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + CEILING
        while b"Local chat without Telegram" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    seen += os.read(controller, 65536)
                except OSError:
                    break
        assert b"Local chat without Telegram" in seen, seen.decode(errors="replace")
        os.write(controller, b":quit\n")
        assert process.wait(timeout=CEILING) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)

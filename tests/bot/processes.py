"""Real `python -m bot run` processes, for the process-level tests and ``bench/``.

The one harness that starts them: a webhook replica (`start_bot`) listens on its own
127.0.0.1 port, talks to a localtg HTTP Bot API server and logs to a file; tests post
updates to it with `localtg.webhook.WebhookDelivery` and probe its routes with `get`. A
polling one (`start_polling`) long-polls that server. A clocked one (`start_clocked`,
``tests/schedules/leader_process.py``) is the same Application on the test's clock, without
polling, for the scheduler's reminders and its leader failover. `wait_for` waits on an event (with a
ceiling for a loaded machine, never a budget), `stop` ends a process whatever its state.
Nothing here reaches beyond 127.0.0.1, and nothing imports pytest: the replicas benchmark
(``bench/replicas_bench.py``) starts its replicas with the same code.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "7654321098:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE"
SECRET = "s3cret-webhook_token"
PUBLIC_URL = "https://mittaribotti.example.test/bot"
#: The Application of ``python -m bot run`` on the test's clock, without polling.
CLOCKED_RUNNER = ROOT / "tests" / "schedules" / "leader_process.py"
#: How long a wait on a process (or on the bot behind it) may take before the test fails: a
#: ceiling for a loaded machine, never a budget — every wait returns when its event happens.
CEILING = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Until ``condition()`` holds; ``timeout`` is a ceiling for a loaded machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Whatever state it is in: SIGTERM, then SIGKILL if it does not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def get(url: str, timeout: float = 5.0) -> httpx.Response:
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        return client.get(url)


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return f"{self.base}/telegram"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        """Until ``/readyz`` answers 200 (the process has set its webhook and serves)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.log()}")
            try:
                if get(f"{self.base}/readyz", timeout=10).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"bot not ready within {timeout} s:\n{self.log()}")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """Whatever state it is in: SIGTERM, then SIGKILL if it does not go."""
        stop(self.process)


def _run(
    env: dict[str, str | None],
    log: IO[str],
    cwd: Path,
    argv: Sequence[str] = ("-m", "bot", "run"),
) -> subprocess.Popen[bytes]:
    """``python -m bot run`` (or ``python <argv>``) with this environment on top of ours
    (None: unset)."""
    merged = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, **env}
    return subprocess.Popen(
        [sys.executable, *argv],
        cwd=cwd,
        env={name: value for name, value in merged.items() if value is not None},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def start_polling(
    base_url: str,
    database_url: str,
    log: IO[str],
    *,
    extra_env: dict[str, str | None] | None = None,
) -> subprocess.Popen[bytes]:
    """Start one polling process (it migrates the database and long-polls ``base_url``);
    several may share one ``log``, e.g. a process and the one started after its kill.
    ``extra_env``: more variables, None to unset one."""
    env: dict[str, str | None] = {
        "TELEGRAM_BASE_URL": base_url,
        "DATABASE_URL": database_url,
        **(extra_env or {}),
    }
    return _run(env, log, ROOT)


def start_bot(
    base_url: str,
    database_url: str,
    log_path: Path,
    *,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path = ROOT,
) -> BotProcess:
    """Start one webhook replica (it migrates the database and sets the webhook) of the
    code in ``cwd``: this tree, or another release's (a rolling upgrade, a before figure)."""
    port = port or free_port()
    env: dict[str, str | None] = {
        "TELEGRAM_BASE_URL": base_url,
        "DATABASE_URL": database_url,
        "TELEGRAM_WEBHOOK_URL": PUBLIC_URL,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        **(extra_env or {}),
    }
    with log_path.open("w") as log:
        process = _run(env, log, cwd)
    return BotProcess(process, port, log_path)


def start_clocked(
    base_url: str,
    database_url: str,
    log_path: Path,
    *,
    fake_now: dt.datetime,
    real_start: float,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start one replica of the bot's Application whose clock reads ``fake_now`` at the
    epoch second ``real_start`` and then runs in real time (`CLOCKED_RUNNER`), so that every
    replica agrees on "now" and a reminder falls due seconds after the start. It retries the
    leader lock every 2 s. The log is appended to: a process and the one started after its
    kill may share it."""
    env: dict[str, str | None] = {
        "TELEGRAM_BASE_URL": base_url,
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": None,  # the runner takes TOKEN, and sets no webhook
        "TOKEN": TOKEN,
        "FAKE_NOW": fake_now.isoformat(),
        "REAL_START": str(real_start),
        "LEADER_RETRY": "2",
        **(extra_env or {}),
    }
    with log_path.open("a") as log:
        return _run(env, log, ROOT, (str(CLOCKED_RUNNER),))

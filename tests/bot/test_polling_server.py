"""`python -m bot run` in long-polling mode serves /healthz, /readyz and /metrics too
(on METRICS_PORT), so a container platform can probe and scrape a polling process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from data.health import head_revisions
from localtg import LocalBotApi
from localtg.http import ServerThread
from tests.bot.processes import CEILING, ROOT, TOKEN, free_port, get

#: A ceiling for a loaded machine, not a budget: the loop below returns as soon as it is ready.
READY_CEILING = 180.0


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    deadline = time.monotonic() + READY_CEILING
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()}")
        try:
            response = get(url, timeout=CEILING)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not 200 within {READY_CEILING} s:\n{log.read_text()}")


def test_a_polling_process_serves_probes_and_metrics_on_metrics_port(tmp_path: Path) -> None:
    port = free_port()
    api = LocalBotApi(token=TOKEN)
    log_path = tmp_path / "bot.log"
    with ServerThread(api) as server, log_path.open("w") as log:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "METRICS_PORT": str(port),
        }
        for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_PORT", "TELEGRAM_BASE_FILE_URL"):
            env.pop(name, None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            assert wait_for(f"{base}/readyz", process, log_path).text == "ready"
            assert get(f"{base}/healthz").text == "ok"
            scraped = get(f"{base}/metrics").text
            assert "mittaribotti_scheduler_leader 1.0" in scraped
            (head,) = head_revisions()
            assert f'code_schema="{head}",database_schema="{head}"' in scraped
            assert "mittaribotti_inbox_unhandled 0.0" in scraped
            assert "process_resident_memory_bytes" in scraped and "python_info{" in scraped
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert TOKEN not in log_path.read_text()

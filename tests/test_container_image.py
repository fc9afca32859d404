"""The container image: it runs as an arbitrary uid of group 0 (as OpenShift runs it) on
PostgreSQL, answers /readyz and a Telegram update, and stops cleanly on SIGTERM.

Slow (the image build takes minutes), so it runs only when asked:
``MITTARIBOTTI_IMAGE_TEST=1`` (and podman installed) with the image ``MITTARIBOTTI_IMAGE``
(default ``localhost/mittaribotti:test``, made by ``make image``), on the PostgreSQL of
``TEST_DATABASE_URL``. It prints the image size and the cold start to /readyz.

Where podman's default rlimits cannot be set (a sandbox without CAP_SYS_RESOURCE: runc says
"error setting rlimit type 7: operation not permitted"), ``CONTAINERS_CONF`` points at a
containers.conf with ``default_ulimits = []`` so the container inherits the host's limits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from localtg import LocalBotApi
from localtg.http import ServerThread
from tests.bot.processes import PUBLIC_URL, SECRET, TOKEN, free_port, get

from .conftest import PG_URL, scratch_schema

IMAGE = os.environ.get("MITTARIBOTTI_IMAGE", "localhost/mittaribotti:test")
CEILING = 300.0

pytestmark = pytest.mark.skipif(
    os.environ.get("MITTARIBOTTI_IMAGE_TEST") != "1" or shutil.which("podman") is None,
    reason="the image test runs with MITTARIBOTTI_IMAGE_TEST=1 where podman is installed",
)


@pytest.fixture
def podman_env(tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "containers.conf"
    conf.write_text("[containers]\ndefault_ulimits = []\n")
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


@pytest.fixture
def database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    with scratch_schema("t_image") as url:
        yield url


def podman(*args: str, env: dict[str, str], check: bool = True) -> str:
    done = subprocess.run(
        ["podman", *args], env=env, capture_output=True, text=True, check=False, timeout=CEILING
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:2])}: {done.stderr.strip()}")
    return done.stdout


def test_the_image_runs_as_an_arbitrary_uid_on_postgresql_and_answers(
    podman_env: dict[str, str], database: str
) -> None:
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE, env=podman_env))
    port = free_port()
    name = f"mittaribotti-test-{uuid.uuid4().hex[:8]}"
    api = LocalBotApi(token=TOKEN, settle_timeout=CEILING)
    with ServerThread(api) as server:
        started = time.monotonic()
        podman(
            "run", "--detach", "--name", name, "--network", "host",
            "--user", "1000640000:0",  # an OpenShift-style random uid, group 0
            "--read-only", "--tmpfs", "/tmp", "--tmpfs", "/home/mittaribotti:mode=0775",
            "--env", f"TELEGRAM_BOT_TOKEN={TOKEN}",
            "--env", f"TELEGRAM_BASE_URL={server.base_url}",
            "--env", f"DATABASE_URL={database}",
            "--env", f"TELEGRAM_WEBHOOK_URL={PUBLIC_URL}",
            "--env", f"TELEGRAM_WEBHOOK_SECRET={SECRET}",
            "--env", "TELEGRAM_WEBHOOK_LISTEN=127.0.0.1",
            "--env", f"TELEGRAM_WEBHOOK_PORT={port}",
            IMAGE,
            env=podman_env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = started + CEILING
            ready = False
            while time.monotonic() < deadline and not ready:
                try:
                    ready = get(f"{base}/readyz", timeout=10).status_code == 200
                except httpx.TransportError:
                    time.sleep(0.2)
            cold_start = time.monotonic() - started
            assert ready, podman("logs", name, env=podman_env, check=False)
            from tests.bot.test_webhook_server import _say

            assert server.run_sync(_say(api, 4401, "/start", f"{base}/telegram")) == [200]
            server.run_sync(api.user(4401).wait_for_message(contains="kutsulinkki"), CEILING)
            metrics = get(f"{base}/metrics").text
            assert 'release="' in metrics and "process_resident_memory_bytes" in metrics
            podman("stop", "--time", "30", name, env=podman_env)
            status = podman("inspect", "--format", "{{.State.ExitCode}}", name, env=podman_env)
            logs = podman("logs", name, env=podman_env, check=False)
        finally:
            podman("rm", "--force", name, env=podman_env, check=False)
    assert status.strip() == "0", logs
    assert TOKEN not in logs and "Traceback" not in logs
    print(f"image {IMAGE}: {size / 1e6:.0f} MB; cold start to /readyz {cold_start:.1f} s")

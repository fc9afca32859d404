"""The HTTP server path: PTB's real HTTPXRequest against localtg over 127.0.0.1."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from telegram.error import NetworkError, TimedOut
from telegram.ext import ApplicationBuilder

from localtg import LocalBotApi, running
from localtg.http import ServerThread, serve_http
from tests.bot.processes import CEILING
from tests.localtg.conftest import Harness
from tests.localtg.echo_bot import REPORT, build_echo_app

TOKEN = "4242:SECRET-token-value"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def http_harness(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    caplog.set_level(logging.DEBUG, logger="localtg")
    api = LocalBotApi(token=TOKEN)
    async with serve_http(api) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/bot")
        builder = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(url)
            .base_file_url(url.replace("/bot", "/file/bot"))
            .read_timeout(0.5)
        )
        application = build_echo_app(builder)
        async with running(application, api, poll_timeout=1):
            harness = Harness(api, application)
            yield harness
    assert harness.errors == [], f"unexpected errors in handlers: {harness.errors!r}"
    assert not [r for r in caplog.records if "SECRET" in r.getMessage()], "token was logged"


async def test_start_button_and_document_over_http(http_harness: Harness) -> None:
    api = http_harness.api
    user = api.user(1, "Aino")
    await user.start("http")
    assert user.last.text == "Hei Aino! payload=http"
    answer = await user.press("Paina")
    assert answer.answered and user.last.text == "Painettu ✔"
    await user.press("Raportti")  # multipart upload
    assert user.documents[0].filename == "raportti.csv"
    assert user.documents[0].content == REPORT
    await user.send("/kuva")
    assert user.last.photo is not None and user.last.photo.width == 3
    await user.send_document(b"a;b\n1;2\n", "vastaukset.csv")  # getFile + /file/bot<token>/…
    assert user.last.text == "vastaukset.csv: 8 bytes, 403bea5152c2"
    assert api.commands_for(language_code="en") == [("start", "Start")]


async def test_injected_transport_faults_over_http(http_harness: Harness) -> None:
    user = http_harness.api.user(2, "Aino")
    http_harness.api.fail_next("sendMessage", "network")
    await user.send("a")
    http_harness.api.fail_next("sendMessage", "timeout")  # held until the 0.5 s read timeout
    await user.send("b")
    http_harness.api.fail_next("sendMessage", "502")
    await user.send("c")
    errors = http_harness.take_errors()
    assert [type(e) for e in errors] == [NetworkError, TimedOut, NetworkError]
    await user.send("d")
    assert user.texts() == ["d"]


async def test_plain_http_clients() -> None:
    api = LocalBotApi()
    async with serve_http(api) as url, httpx.AsyncClient() as client:
        me = (await client.get(f"{url}1:T/getMe")).json()
        assert me["ok"] and me["result"]["username"] == "mittaribotti_bot"
        api.user(5, "Aino", has_started=True)
        sent = await client.post(f"{url}1:T/sendMessage", json={"chat_id": 5, "text": "json"})
        assert sent.json()["result"]["text"] == "json"
        query = await client.get(f"{url}1:T/sendMessage?chat_id=5&text=kysely")
        assert query.json()["result"]["message_id"] == 2
        missing = await client.post(
            f"{url}1:T/editMessageText", data={"chat_id": "5", "message_id": "9", "text": "x"}
        )
        assert missing.status_code == 400
        assert missing.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to edit not found",
        }
        assert (await client.get(url.replace("/bot", "/nothing"))).status_code == 404


def test_bot_subprocess_against_server_thread() -> None:
    """A separately running bot long-polls the server thread; the test drives the user there."""
    api = LocalBotApi(token=TOKEN)
    with ServerThread(api) as server:
        env = {**os.environ, "LOCALTG_BASE_URL": server.base_url, "LOCALTG_TOKEN": TOKEN}
        bot = subprocess.Popen(
            [sys.executable, "-m", "tests.localtg.run_echo_bot"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            user = api.user(7, "Aino")
            server.run_sync(user.start("prosessi"))
            reply = server.run_sync(user.wait_for_message("Hei"))
            assert reply.text == "Hei Aino! payload=prosessi"
            server.run_sync(user.send("kaiku"))
            assert server.run_sync(user.wait_for_message()).text == "kaiku"
        finally:
            bot.terminate()
            output = bot.communicate(timeout=CEILING)[0].decode()
        assert bot.returncode == 0, output
        assert TOKEN not in output

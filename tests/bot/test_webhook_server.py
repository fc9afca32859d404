"""`python -m bot run` in webhook mode, as its own process behind its own port.

Telegram's side is the localtg HTTP Bot API server plus `WebhookDelivery`, which posts
queued updates to the replica the way Telegram (through a load balancer) would.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from localtg import LocalBotApi
from localtg.api import ApiReply
from localtg.http import ServerThread
from localtg.params import Upload
from localtg.webhook import SECRET_HEADER, WebhookDelivery

from ..conftest import Database
from .processes import CEILING, PUBLIC_URL, SECRET, TOKEN, BotProcess, get, start_bot, wait_for


class SlowSendApi(LocalBotApi):
    """With ``hold`` set, every sendMessage waits until the test sets ``release``: an
    update in hand for as long as the test needs, however slow the machine."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hold = False
        self.holding = threading.Event()  # a sendMessage is being held
        self.release = threading.Event()

    async def call(
        self,
        method: str,
        params: Mapping[str, object],
        files: Mapping[str, Upload] | None = None,
        *,
        token: str | None = None,
    ) -> ApiReply:
        if method.lower() == "sendmessage" and self.hold:
            self.holding.set()
            await asyncio.to_thread(self.release.wait, CEILING)
        return await super().call(method, params, files, token=token)


@pytest.fixture
def api() -> SlowSendApi:
    return SlowSendApi(token=TOKEN)


@pytest.fixture
def server(api: SlowSendApi) -> Iterator[ServerThread]:
    with ServerThread(api) as thread:
        yield thread


@pytest.fixture
def replica(server: ServerThread, db: Database, tmp_path: Path) -> Iterator[BotProcess]:
    bot = start_bot(server.base_url, db.url, tmp_path / "bot.log")
    try:
        bot.wait_until_ready()
        yield bot
    finally:
        bot.stop()
    assert TOKEN not in bot.log()


async def _say(api: LocalBotApi, user_id: int, text_: str, url: str) -> list[int]:
    """Queue a message from the user and post it to ``url``; the HTTP statuses."""
    user = api.user(user_id, "Aino")
    user.mark = len(api.events)
    api.push_text(user.info, user.chat, text_)
    return [d.status for d in await WebhookDelivery(api).deliver(url)]


def _post(url: str, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    with httpx.Client(timeout=CEILING, trust_env=False) as client:
        return client.post(url, content=body, headers=headers).status_code


def test_replica_sets_its_webhook_and_answers_an_update_posted_with_the_secret(
    api: SlowSendApi, server: ServerThread, replica: BotProcess
) -> None:
    assert api.webhook_url == f"{PUBLIC_URL}/telegram"
    assert api.webhook_secret == SECRET
    assert server.run_sync(_say(api, 4242, "/start", replica.webhook)) == [200]
    user = api.user(4242, "Aino")
    reply = server.run_sync(
        user.wait_for_message(contains="kutsulinkki", timeout=CEILING), timeout=CEILING
    )
    assert "Hei!" in reply.text
    assert get(f"{replica.base}/healthz").status_code == 200
    metrics = get(f"{replica.base}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'mittaribotti_updates_handled_total{kind="message"} 1.0' in metrics.text
    assert "mittaribotti_update_handling_seconds_count 1.0" in metrics.text
    assert "mittaribotti_scheduler_leader " in metrics.text
    assert 'mittaribotti_reminders_total{outcome="sent"}' in metrics.text


def test_wrong_or_missing_secret_gets_403_and_is_not_handled(
    api: SlowSendApi, server: ServerThread, replica: BotProcess
) -> None:
    update = {
        "update_id": 900,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 4243, "type": "private", "first_name": "Eve"},
            "from": {"id": 4243, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    body = json.dumps(update).encode()
    assert _post(replica.webhook, body, secret="wrong") == 403
    assert _post(replica.webhook, body, secret=None) == 403
    assert _post(replica.webhook, body, secret=SECRET[:-1]) == 403
    time.sleep(0.5)
    assert not [c for c in api.calls_to("sendMessage") if c.params.get("chat_id") == "4243"]
    assert "mittaribotti_updates_handled_total{" not in get(f"{replica.base}/metrics").text
    # The same body with the right secret is handled: the 403s were about the secret only.
    user = api.user(4243, "Eve", has_started=True)
    assert _post(replica.webhook, body) == 200
    server.run_sync(user.wait_for_message(contains="kutsulinkki", timeout=CEILING), timeout=CEILING)


MALFORMED_BODIES = [
    b"not json",
    b"",
    b"[1, 2]",
    b'{"message": {"text": "no update_id"}}',
    b'{"update_id": "7"}',
    b'{"update_id": true}',
    b'{"update_id": 7, "message": "not an object"}',
    b'{"update_id": 7, "message": {"chat": 5}}',
    b"\xff\xfe\x00",
]


def test_malformed_bodies_get_400_and_the_replica_keeps_serving(
    api: SlowSendApi, server: ServerThread, replica: BotProcess
) -> None:
    statuses = [_post(replica.webhook, body) for body in MALFORMED_BODIES]
    assert statuses == [400] * len(MALFORMED_BODIES)
    assert get(f"{replica.base}/healthz").status_code == 200
    assert server.run_sync(_say(api, 4244, "/start", replica.webhook)) == [200]
    reply = api.user(4244).wait_for_message(contains="kutsulinkki", timeout=CEILING)
    server.run_sync(reply, timeout=CEILING)
    assert "Traceback" not in replica.log()


def test_readyz_is_503_while_the_schema_is_behind_the_code(
    db: Database, replica: BotProcess
) -> None:
    assert get(f"{replica.base}/readyz").text == "ready"
    with db.engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("DELETE FROM alembic_version"))
    try:
        answer = get(f"{replica.base}/readyz")
        assert (answer.status_code, answer.text) == (503, f"schema at none, code expects {head}")
        assert get(f"{replica.base}/healthz").status_code == 200  # alive, just not ready
        # A revision this code does not know was written by a newer release that migrated
        # first (a rolling upgrade): when that release declared this code compatible
        # (expand/contract), this replica keeps serving; when it did not, it is not ready.
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version VALUES ('9999_newer')"))
        answer = get(f"{replica.base}/readyz")
        assert answer.status_code == 503 and "run the newer release" in answer.text
        with db.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO schema_compatibility VALUES ('9999_newer', :head)"),
                {"head": head},
            )
        assert get(f"{replica.base}/readyz").status_code == 200
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM schema_compatibility WHERE revision LIKE '9999%'"))
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    assert get(f"{replica.base}/readyz").status_code == 200


def test_sigterm_finishes_the_update_in_hand_refuses_new_ones_and_exits_0(
    api: SlowSendApi, server: ServerThread, db: Database, tmp_path: Path
) -> None:
    """Each step waits for its event: the reply is held until the test has seen the stop
    refuse new work, and the stop budget (here 120 s) is far beyond what that takes."""
    replica = start_bot(
        server.base_url, db.url, tmp_path / "bot.log", extra_env={"TELEGRAM_STOP_SECONDS": "120"}
    )
    try:
        replica.wait_until_ready()
        api.hold = True  # the reply to /start is held until released below
        # The webhook answers while the reply is still held: before handling finishes.
        assert server.run_sync(_say(api, 4245, "/start", replica.webhook)) == [200]
        assert api.holding.wait(CEILING), "the update never reached its reply"
        replica.process.send_signal(signal.SIGTERM)
        wait_for(lambda: _ready_text(replica) == "stopping", CEILING, "/readyz to say stopping")
        # A new update is not taken: Telegram keeps it (the balancer gives it to another
        # replica).
        assert server.run_sync(_say(api, 4246, "/start", replica.webhook)) in ([503], [0])
        assert len(api.updates.pending) == 1
        assert replica.process.poll() is None, "the update in hand was not waited for"
        api.release.set()
        assert replica.process.wait(timeout=CEILING) == 0
    finally:
        api.release.set()
        replica.stop()
    # The update in hand was finished: its reply went out.
    assert any("kutsulinkki" in m.text for m in api.user(4245).messages)
    assert not api.user(4246).messages
    log = replica.log()
    assert "stopped cleanly" in log and "Traceback" not in log
    assert TOKEN not in log


def _ready_text(replica: BotProcess) -> str:
    try:
        return get(f"{replica.base}/readyz").text
    except httpx.TransportError:
        return ""


def test_sigterm_when_idle_exits_0_without_waiting_out_the_stop_budget(
    server: ServerThread, db: Database, tmp_path: Path
) -> None:
    """Idle, a replica has nothing to finish: it exits 0 long before a (here 120-s) budget.

    The ceiling is half the budget, so a loaded machine cannot fail it, while a replica
    that waited the budget out always would."""
    bot = start_bot(
        server.base_url, db.url, tmp_path / "bot.log", extra_env={"TELEGRAM_STOP_SECONDS": "120"}
    )
    try:
        bot.wait_until_ready()
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(timeout=60) == 0
    finally:
        bot.stop()
    assert TOKEN not in bot.log()


def test_webhook_mode_without_a_secret_refuses_to_start_with_one_line(
    server: ServerThread, db: Database, tmp_path: Path
) -> None:
    bot = start_bot(
        server.base_url,
        db.url,
        tmp_path / "bot.log",
        extra_env={"TELEGRAM_WEBHOOK_SECRET": ""},
    )
    try:
        assert bot.process.wait(timeout=CEILING) == 2
    finally:
        bot.stop()
    lines = bot.log().strip().splitlines()
    assert len(lines) == 1 and "level=error" in lines[0]
    assert (
        "TELEGRAM_WEBHOOK_SECRET is required in webhook mode (TELEGRAM_WEBHOOK_URL is set)"
        in lines[0]
    )


def test_port_in_use_is_one_error_line_and_exit_1(
    server: ServerThread, db: Database, tmp_path: Path, replica: BotProcess
) -> None:
    second = start_bot(server.base_url, db.url, tmp_path / "second.log", port=replica.port)
    try:
        assert second.process.wait(timeout=CEILING) == 1
    finally:
        second.stop()
    assert f"cannot listen on 127.0.0.1:{replica.port}" in second.log()
    assert "Traceback" not in second.log()

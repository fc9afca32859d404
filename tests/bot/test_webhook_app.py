"""The webhook ASGI app in front of the real Application, in this process (no sockets).

The process-level behaviour (signals, exit codes, two replicas) is in test_webhook_server
and test_two_replicas; these cover the answers that need a state a process cannot easily
be put in: stopping, an unreachable database, a failing hand-off.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from data.db import make_engine
from delivery import ingress
from delivery.webhook import SECRET_HEADER, WebhookState, create_app

from .conftest import BotHarness

SECRET = "in-process-secret"


def _client(
    bot: BotHarness, state: WebhookState, engine: Engine | None = None
) -> httpx.AsyncClient:
    app = create_app(bot.app, secret=SECRET, engine=engine or bot.db.engine, state=state)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://replica")


def _start_update(bot: BotHarness, user_id: int, update_id: int) -> dict[str, Any]:
    bot.api.user(user_id, "Aino", has_started=True)
    sender = {"id": user_id, "is_bot": False, "first_name": "Aino", "language_code": "fi"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Aino"},
            "from": sender,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_an_accepted_update_is_answered_200_and_then_handled(bot: BotHarness) -> None:
    async with _client(bot, WebhookState()) as client:
        answer = await client.post(
            "/telegram", json=_start_update(bot, 8101, 9001), headers={SECRET_HEADER: SECRET}
        )
    assert answer.status_code == 200
    await bot.app.update_queue.join()
    assert any("Hei!" in text for text in bot.api.user(8101).texts())


async def test_while_stopping_updates_and_readiness_get_503(bot: BotHarness) -> None:
    state = WebhookState()
    state.stopping = True
    async with _client(bot, state) as client:
        update = _start_update(bot, 8102, 9002)
        answer = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 503
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200
    await bot.app.update_queue.join()
    assert bot.api.user(8102).texts() == []


async def test_readyz_is_503_when_the_database_does_not_answer(bot: BotHarness) -> None:
    nowhere = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
    )
    async with _client(bot, WebhookState(), engine=nowhere) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.text.startswith("database unavailable")
    nowhere.dispose()


async def test_a_failed_hand_off_is_503_so_telegram_sends_it_again(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(application: object, payloads: list[dict[str, Any]]) -> None:
        raise ConnectionError("inbox unavailable")

    monkeypatch.setattr(ingress, "receive", broken)
    state = WebhookState()
    async with _client(bot, state) as client:
        update = _start_update(bot, 8103, 9003)
        answer = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 503
        assert (await client.get("/healthz")).status_code == 200
    assert state.in_flight == 0


async def test_a_body_larger_than_any_update_is_refused_with_413(
    bot: BotHarness,
) -> None:
    body = json.dumps(_start_update(bot, 8104, 9004)).encode() + b" " * (1024 * 1024)
    async with _client(bot, WebhookState()) as client:
        answer = await client.post(
            "/telegram",
            content=body,
            headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
        )
    assert answer.status_code == 413


async def test_forged_calls_are_counted_and_logged_at_most_once_a_minute(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    from core import metrics

    before = metrics.WEBHOOK_REFUSED.labels(reason="secret")._value.get()
    async with _client(bot, WebhookState()) as client:
        for n in range(20):
            update = _start_update(bot, 8104, 9100 + n)
            answer = await client.post("/telegram", json=update, headers={SECRET_HEADER: "x"})
            assert answer.status_code == 403
    assert metrics.WEBHOOK_REFUSED.labels(reason="secret")._value.get() - before == 20
    refused = [r for r in caplog.records if "wrong or missing secret" in r.getMessage()]
    assert len(refused) == 1
    assert 'mittaribotti_webhook_refused_total{reason="secret"}' in metrics.render()[0].decode()


async def test_mounted_routes_are_served_in_webhook_mode_too(bot: BotHarness) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from core import web

    async def page(_request: object) -> PlainTextResponse:
        return PlainTextResponse("mini app")

    def factory(_application: object) -> list[Route]:
        return [Route("/app/", page)]

    web.mount(factory)
    try:
        async with _client(bot, WebhookState()) as client:
            assert (await client.get("/app/")).text == "mini app"
            assert (await client.get("/metrics")).status_code == 200
    finally:
        web._ROUTE_FACTORIES.remove(factory)

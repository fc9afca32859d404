"""Webhook mode: a small ASGI app (Starlette, served by uvicorn) in front of the Application.

Several replicas can run behind one load balancer; each one serves

* ``POST /telegram`` — Telegram's update calls. A call without the configured
  ``X-Telegram-Bot-Api-Secret-Token`` gets 403 and is not looked at; a body that is not one
  Telegram update gets 400; an accepted update goes to `delivery.ingress.receive` and the call
  is answered 200 as soon as it has been handed off (handling happens afterwards);
* ``GET /healthz`` — 200 while the process is alive;
* ``GET /readyz`` — 200 only when the database answers and is migrated to head; 503
  otherwise and from the moment the process starts stopping, so the balancer drains it;
* ``GET /metrics`` — Prometheus text (`core.metrics`).

The Application is initialised and started by hand (it has no Updater in this mode), as
in python-telegram-bot's custom-webhook example, so the same port can serve these routes.

Stopping (SIGTERM or SIGINT): ``/readyz`` and ``/telegram`` answer 503 (Telegram retries a
503 later, or the balancer hands it to another replica); calls already being handed off are
waited for; `Application.stop` lets the update in hand and those already queued finish and
stops the job queue; ``post_stop`` runs (where the scheduler releases its leadership);
then the web server closes. The whole sequence is bounded by `STOP_BUDGET_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from core import metrics, web
from core.logs import RateLimitedWarning
from core.web import app_routes, make_server, probe_routes
from data import inbox
from delivery import ingress

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram's updates are a few kilobytes; anything this large is not one of them.
MAX_BODY_BYTES = 1024 * 1024
#: At most one warning line per this many seconds for refused calls (each is counted).
REFUSED_LOG_INTERVAL_SECONDS = 60.0
#: SIGTERM to exit: systemd's and the container platforms' default kill delays are >= 10 s.
#: ``telegram.webhook.stop_seconds`` (``TELEGRAM_STOP_SECONDS``) overrides it.
STOP_BUDGET_SECONDS = 8.0
#: How long the web server waits for open connections once the Application has stopped.
HTTP_GRACE_SECONDS = web.HTTP_GRACE_SECONDS


class WebhookState:
    """What the routes need to know about the process: is it stopping, what is in flight."""

    def __init__(self) -> None:
        self.stopping = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.contextmanager
    def handing_off(self) -> Iterator[None]:
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


#: `_read_body`'s answer when the client went away before the body was complete.
_GONE = b"\x00gone"


async def _read_body(request: Request) -> bytes | None:
    """The body, read in chunks and abandoned past `MAX_BODY_BYTES` (None) — a chunked
    body has no Content-Length to check first. `_GONE` when the client disconnected
    mid-body: not an error of ours, logged at debug level."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        log.debug("webhook call abandoned by the client mid-body")
        return _GONE
    return b"".join(chunks)


def _as_update(payload: object, application: App) -> Update | None:
    """The body as the update the handlers get (``delivery.ingress.parse``: parsed once,
    here), or None when it is not one Telegram update PTB can read."""
    if not isinstance(payload, dict):
        return None
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    try:
        return ingress.parse(payload, application.bot)
    except Exception:
        return None


def create_app(
    application: App,
    *,
    secret: str,
    engine: Engine,
    state: WebhookState | None = None,
) -> Starlette:
    """The ASGI app of one replica (routes described in the module docstring)."""
    state = state or WebhookState()
    expected = secret.encode("utf-8")
    forged = RateLimitedWarning(log, interval=REFUSED_LOG_INTERVAL_SECONDS)
    malformed = RateLimitedWarning(log, interval=REFUSED_LOG_INTERVAL_SECONDS)

    async def telegram_update(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            # Counted always, logged at most once a minute: a scan cannot flood the log.
            metrics.webhook_refused("secret")
            forged.warning("webhook call refused: wrong or missing secret token")
            return PlainTextResponse("forbidden", status_code=403)
        if state.stopping:
            return PlainTextResponse("stopping", status_code=503)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            metrics.webhook_refused("too_large")
            return PlainTextResponse("too large", status_code=413)
        body = await _read_body(request)
        if body is None:
            metrics.webhook_refused("too_large")
            return PlainTextResponse("too large", status_code=413)
        if body is _GONE:
            return Response(status_code=400)  # nobody is listening for the answer
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            payload = None
        update = _as_update(payload, application)
        if update is None:
            metrics.webhook_refused("not_an_update")
            malformed.warning("webhook call refused: the body is not a Telegram update")
            return PlainTextResponse("not a Telegram update", status_code=400)
        if not inbox.storable_id(payload["update_id"]):
            metrics.webhook_refused("not_an_update")
            malformed.warning(
                "webhook call refused: update_id %s is out of range", payload["update_id"]
            )
            return PlainTextResponse("update_id out of range", status_code=400)
        with state.handing_off():
            try:
                await ingress.receive(application, [payload], [update])
            except Exception:
                # Not taken: Telegram keeps the update and calls again later.
                log.exception("update %s could not be handed off", payload["update_id"])
                return PlainTextResponse("try again", status_code=503)
        return Response(status_code=200)

    app = Starlette(
        routes=[
            Route(WEBHOOK_PATH, telegram_update, methods=["POST"]),
            # /healthz, /readyz, /metrics and mounted pages (/app/): the same in polling mode.
            *probe_routes(engine, lambda: state.stopping),
            *app_routes(application),
        ]
    )
    app.state.webhook = state
    return app


async def serve_webhook(
    application: App,
    *,
    engine: Engine,
    sock: socket.socket,
    webhook_url: str,
    secret: str,
    on_ready: Callable[[], None] | None = None,
    stop_seconds: float = STOP_BUDGET_SECONDS,
) -> int:
    """Run one replica until SIGTERM/SIGINT; the exit status (0 after a clean stop)."""
    state = WebhookState()
    asgi = create_app(application, secret=secret, engine=engine, state=state)
    server = make_server(asgi)  # the polling mode's server too: one way to serve
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_requested.set)

    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.bot.set_webhook(
            url=webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        # What an earlier process recorded but did not finish goes first (delivery.ingress).
        await ingress.replay(application)
        await application.start()
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
        log.info("webhook replica serving on %s", _address(sock))
        if on_ready is not None:
            on_ready()
        stopped = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            log.error("the web server stopped by itself")
            stopped.cancel()
            await application.stop()
            return 1
        return await _stop(application, server, serving, state, stop_seconds)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def _stop(
    application: App,
    server: uvicorn.Server,
    serving: asyncio.Task[None],
    state: WebhookState,
    budget: float = STOP_BUDGET_SECONDS,
) -> int:
    log.info("stopping: not ready, no new updates, finishing the update in hand")
    state.stopping = True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    clean = await state.wait_idle(timeout=max(deadline - loop.time(), 0.1))
    try:
        await asyncio.wait_for(application.stop(), max(deadline - loop.time(), 0.1))
    except TimeoutError:
        # What is still in hand is not marked handled: another replica (after its lease)
        # or the next start handles it; replies not yet sent wait in the outbox.
        left = ingress.close(application)
        log.warning(
            "stop budget of %.0f s used up; %d update(s) left unhandled for another replica",
            budget,
            left,
        )
        clean = False
    if application.post_stop:
        await application.post_stop(application)
    server.should_exit = True
    try:
        await asyncio.wait_for(serving, HTTP_GRACE_SECONDS + 1)
    except TimeoutError:
        clean = False
    log.info("stopped %s", "cleanly" if clean else "with work cut short")
    return 0 if clean else 1


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"

"""The web server of one process, in either mode: probes, metrics and mounted pages.

* ``GET /healthz`` — 200 while the process is alive (liveness);
* ``GET /readyz`` — 200 when the database answers and its schema is one this code can run
  on (`data.health.schema_problem`); 503 with the reason otherwise, and from the moment the
  process starts stopping (readiness);
* ``GET /metrics`` — Prometheus text (`core.metrics`);
* whatever `app_routes` returns (the Mini App's ``/app/``), in both modes.

Webhook mode adds ``POST /telegram`` in front of these (the webhook module builds its app
from `probe_routes` and `app_routes`). Polling mode has no Telegram route: `attach_polling_server`
starts this server beside ``run_polling`` on ``TELEGRAM_WEBHOOK_LISTEN`` and
``METRICS_PORT`` (else ``TELEGRAM_WEBHOOK_PORT`` when that is set), so a platform can probe
and scrape a polling process too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram.ext import Application

from core import metrics
from data.health import schema_problem
from settings import Settings

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

#: How long a readiness probe may wait for the database before answering 503.
READY_TIMEOUT_SECONDS = 5.0
#: How long the web server waits for open connections once the bot has stopped.
HTTP_GRACE_SECONDS = 1

#: Factories of further routes (the Mini App): each gets the Application and returns its
#: routes; they are served in polling and in webhook mode alike. Register with `mount`.
_ROUTE_FACTORIES: list[Callable[[App], Sequence[BaseRoute]]] = []


def mount(factory: Callable[[App], Sequence[BaseRoute]]) -> None:
    """Serve the routes ``factory(application)`` returns on this process's web server."""
    if factory not in _ROUTE_FACTORIES:
        _ROUTE_FACTORIES.append(factory)


def app_routes(application: App) -> list[BaseRoute]:
    """Every mounted route, for the web server of either mode."""
    return [route for factory in _ROUTE_FACTORIES for route in factory(application)]


def watch_database(engine: Engine) -> None:
    """Let ``/metrics`` read build info (schema revisions) and the inbox backlog from the
    database at each scrape."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.orm import Session

    from data import inbox
    from data.health import head_revisions

    def probe() -> metrics.DatabaseFacts:
        with Session(engine) as session:
            connection = session.connection()
            revision = ",".join(sorted(MigrationContext.configure(connection).get_current_heads()))
            count, oldest = inbox.backlog(session)
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
        return metrics.DatabaseFacts(revision or "none", count, age)

    metrics.watch_database(probe, code_schema=",".join(sorted(head_revisions())))


def probe_routes(engine: Engine, stopping: Callable[[], bool]) -> list[BaseRoute]:
    """``/healthz``, ``/readyz`` and ``/metrics``; ``stopping()`` turns readiness off."""

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_request: Request) -> Response:
        if stopping():
            return PlainTextResponse("stopping", status_code=503)
        try:
            problem = await asyncio.wait_for(
                asyncio.to_thread(schema_problem, engine), READY_TIMEOUT_SECONDS
            )
        except TimeoutError:
            problem = "database did not answer in time"
        if problem is not None:
            return PlainTextResponse(problem, status_code=503)
        return PlainTextResponse("ready")

    async def metrics_route(_request: Request) -> Response:
        # A scrape reads the database (inbox backlog, schema): off the event loop.
        body, content_type = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_route, methods=["GET"]),
    ]


class QuietSignalsServer(uvicorn.Server):
    """uvicorn without its own signal handling: the bot's runner owns SIGTERM/SIGINT.

    uvicorn would otherwise stop the web server first and then re-raise the signal at the
    end, killing the process before the Application has finished the update in hand.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(asgi: Starlette) -> QuietSignalsServer:
    config = uvicorn.Config(
        asgi,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=HTTP_GRACE_SECONDS,
        proxy_headers=False,
    )
    return QuietSignalsServer(config)


def bind(listen: str, port: int) -> socket.socket:
    """The listening socket, made before anything else so "address in use" is one line."""
    family = socket.AF_INET6 if ":" in listen else socket.AF_INET
    return socket.create_server((listen, port), family=family, backlog=128)


def polling_address(settings: Settings) -> tuple[str, int] | None:
    """Where a polling process serves its probes: ``METRICS_PORT``, else an explicitly set
    ``TELEGRAM_WEBHOOK_PORT``, on ``TELEGRAM_WEBHOOK_LISTEN``; None for no web server."""
    webhook = settings.telegram.webhook
    if settings.metrics_port is not None:
        return webhook.listen, settings.metrics_port
    if "TELEGRAM_WEBHOOK_PORT" in settings.from_environment:  # not config.yaml's default
        return webhook.listen, webhook.port
    return None


def attach_polling_server(application: App, *, engine: Engine, sock: socket.socket) -> None:
    """Serve probes, metrics and mounted routes on ``sock`` while ``run_polling`` runs.

    The server starts after the bot's own ``post_init`` (on the bot's event loop, so a
    mounted page can use the Application) and stops after its ``post_stop``. Readiness is
    off until the Application is running and from the moment it starts stopping.
    """
    state: dict[str, Any] = {}
    own_init, own_stop = application.post_init, application.post_stop

    async def post_init(app: App) -> None:
        if own_init is not None:
            await own_init(app)
        routes = [*probe_routes(engine, lambda: not app.running), *app_routes(app)]
        server = make_server(Starlette(routes=routes))
        state["server"] = server
        state["task"] = asyncio.create_task(server.serve(sockets=[sock]), name="http")
        host, port = sock.getsockname()[:2]
        log.info("probes and metrics on %s:%d", host, port)

    async def post_stop(app: App) -> None:
        if own_stop is not None:
            await own_stop(app)
        server = state.get("server")
        if server is None:
            return
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state["task"], HTTP_GRACE_SECONDS + 1)

    application.post_init = post_init
    application.post_stop = post_stop

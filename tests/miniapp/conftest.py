"""A Mini App under test: its routes on a Starlette app, our database, a controlled clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

import miniapp
from core.services import Services
from data import catalog, people
from data.models import Person, Role
from miniapp import auth
from settings import load_settings

from ..conftest import Database

TOKEN = "123456:MINIAPP-test-token"
NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


@dataclass
class Clock:
    current: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.current


@dataclass
class MiniAppHarness:
    db: Database
    clock: Clock
    client: httpx.Client
    services: Services
    base_url: str = ""

    def person(
        self, telegram_id: int, *roles: Role, division: str | None = "KUVA", language: str = "fi"
    ) -> int:
        with self.db.transaction() as session:
            div = catalog.division_by_code(session, division) if division else None
            person = people.ensure_person(
                session,
                telegram_id,
                name=f"Person {telegram_id}",
                roles=set(roles),
                division_id=div.id if div else None,
            )
            person.language = language
            return person.id

    def contact(self, telegram_id: int = 501, division: str = "KUVA") -> int:
        return self.person(telegram_id, Role.CONTACT, division=division)

    def person_row(self, session: Any, telegram_id: int) -> Person:
        found = people.person_by_telegram_id(session, telegram_id)
        assert found is not None
        return found

    def init_data(
        self, telegram_id: int, *, token: str = TOKEN, at: dt.datetime | None = None
    ) -> str:
        return auth.sign(token, telegram_id, at or self.clock(), first_name="Aino")

    def headers(self, telegram_id: int, **kwargs: Any) -> dict[str, str]:
        return {auth.HEADER: self.init_data(telegram_id, **kwargs)}

    def division(self, telegram_id: int, **params: str) -> Any:
        return self.client.get(
            "/app/api/division", headers=self.headers(telegram_id), params=params
        )

    def save(self, telegram_id: int, body: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(
            "/app/api/save", headers=self.headers(telegram_id, **kwargs), json=body
        )


class Replica:
    """One bot process's HTTP side (the Mini App routes), served by uvicorn in a thread."""

    def __init__(self, services: Services) -> None:
        app = Starlette(routes=miniapp.routes(services, bot_token=TOKEN))
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        )
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Replica:
        self.thread.start()
        for _ in range(3000):  # up to a minute on a busy machine; usually a few ms
            if self.server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("the Mini App server did not start")

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextlib.contextmanager
def replica(db: Database, clock: Clock) -> Iterator[tuple[httpx.Client, Services, Replica]]:
    services = Services(load_settings(env={}), db.sessions, clock)
    with Replica(services) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client, services, server


@pytest.fixture
def mini(db: Database) -> Iterator[MiniAppHarness]:
    clock = Clock()
    with replica(db, clock) as (client, services, server):
        harness = MiniAppHarness(db, clock, client, services)
        harness.base_url = server.base_url
        yield harness

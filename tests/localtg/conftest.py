"""Fixtures: a real PTB Application (the echo bot) polling a fresh LocalBotApi."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from telegram.ext import Application

from localtg import LocalBotApi, local_application_builder, running
from tests.localtg.echo_bot import build_echo_app


@dataclass
class Harness:
    api: LocalBotApi
    app: Application[Any, Any, Any, Any, Any, Any]

    @property
    def errors(self) -> list[BaseException]:
        return self.app.bot_data.setdefault("errors", [])

    def take_errors(self) -> list[BaseException]:
        """Errors seen by the error handler so far (cleared: teardown asserts none remain)."""
        taken = list(self.errors)
        self.errors.clear()
        return taken


@pytest.fixture
def api() -> LocalBotApi:
    return LocalBotApi()


@pytest.fixture
async def harness(api: LocalBotApi) -> AsyncIterator[Harness]:
    application = build_echo_app(local_application_builder(api))
    async with running(application, api):
        harness = Harness(api, application)
        yield harness
    assert harness.errors == [], f"unexpected errors in handlers: {harness.errors!r}"

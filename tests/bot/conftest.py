"""The bot under test: the real Application, our database, the local Telegram, a clock.

``bot`` starts the Application polling the in-memory Bot API; tests play people with
``bot.user(...)`` / ``bot.contact(...)`` and read the transcript. ``bot.restart()`` replaces
the Application with a new one on the same database, as a process restart would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.admin.menus import menus_installed
from bot.app import build_application
from core.services import Services
from data import catalog, people
from data.models import Person, Role
from delivery.outbox import Sender, sender
from delivery.pacing import PacingLimiter
from localtg import DEFAULT_TOKEN, LocalBotApi, LocalRequest, LocalUser, running
from settings import Settings, load_settings

from ..conftest import Database

if TYPE_CHECKING:
    from bot.app import BotApplication


class VirtualTime:
    """Monotonic seconds that pass only when the (single) sleeper sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@dataclass
class Clock:
    """A controllable UTC clock: tests move time instead of sleeping."""

    current: dt.datetime = field(
        default_factory=lambda: dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
    )

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@dataclass
class BotHarness:
    api: LocalBotApi
    db: Database
    clock: Clock
    settings: Settings
    stack: AsyncExitStack
    app: Application = None  # type: ignore[assignment]
    with_jobs: bool = False
    #: Pace sends under Telegram's limits (30/s overall) as in production; tests that play
    #: thousands of updates switch it off (and restart) to stay fast.
    rate_limiter: bool = True
    #: Every error the handlers raised, across restarts (the bot itself keeps none).
    raised: list[BaseException] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    async def start(self, *, wait_for_menus: bool = True) -> BotApplication:
        """Start the bot; by default also wait for the command menus it sets in the
        background, so a test can read them right away."""
        services = Services(self.settings, self.db.sessions, self.clock)
        self.app = build_application(
            services,
            token=DEFAULT_TOKEN,
            request=LocalRequest(self.api),
            get_updates_request=LocalRequest(self.api),
            with_jobs=self.with_jobs,
            rate_limiter=self.rate_limiter,
        )
        self.app.add_error_handler(self._collect_error)
        self._inner = AsyncExitStack()
        await self._inner.enter_async_context(running(self.app, self.api))
        if wait_for_menus:
            await menus_installed(self.app)
        return self.app

    async def stop(self) -> None:
        await self._inner.aclose()

    async def restart(self, *, wait_for_menus: bool = True) -> BotApplication:
        """A new Application on the same database and Bot API, like a process restart."""
        self.assert_no_errors()
        await self.stop()
        return await self.start(wait_for_menus=wait_for_menus)

    async def _collect_error(self, update: object, context: Any) -> None:
        """A test-only error handler next to the bot's own (which logs and tells the person)."""
        if context.error is not None:
            self.raised.append(context.error)

    def errors(self) -> list[BaseException]:
        return list(self.raised)

    def take_errors(self) -> list[BaseException]:
        """The errors so far, forgetting them (for tests that provoke one on purpose)."""
        taken = list(self.raised)
        self.raised.clear()
        return taken

    def fail_handling(self, user_id: int, times: int = 1) -> None:
        """The next ``times`` updates from ``user_id`` make a handler fail (a bug), before
        the bot's own handlers. A failed reply no longer does: the outbox retries it."""
        left = [times]

        async def failing(update: Update, context: Any) -> None:
            user = update.effective_user
            if user is not None and user.id == user_id and left[0] > 0:
                left[0] -= 1
                raise RuntimeError("a handler failed (provoked by the test)")

        self.app.add_handler(TypeHandler(Update, failing), group=-100)

    def assert_no_errors(self) -> None:
        errors = self.errors()
        assert not errors, f"handlers raised: {errors!r}"

    def user(
        self, user_id: int, first_name: str = "Aino", language: str | None = "fi", **kwargs: Any
    ) -> LocalUser:
        return self.api.user(user_id, first_name, language_code=language, **kwargs)

    def register(
        self,
        user_id: int,
        *roles: Role,
        division: str | None = None,
        name: str = "Aino Asukas",
        language: str | None = None,
    ) -> Person:
        """Give a Telegram user access directly through data/ (as an invitation would)."""
        with self.db.transaction() as session:
            division_id = None
            if division:
                row = catalog.division_by_code(session, division)
                assert row is not None
                division_id = row.id
            return people.ensure_person(
                session,
                user_id,
                name=name,
                language=language,
                roles=set(roles),
                division_id=division_id,
            )

    def contact(
        self, user_id: int, division: str, first_name: str = "Aino", language: str | None = "fi"
    ) -> LocalUser:
        self.register(user_id, Role.CONTACT, division=division, name=first_name)
        return self.user(user_id, first_name, language)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(db: Database, clock: Clock) -> AsyncIterator[BotHarness]:
    settings = load_settings(env={})
    async with AsyncExitStack() as stack:
        harness = BotHarness(LocalBotApi(), db, clock, settings, stack)
        await harness.start()
        try:
            yield harness
            harness.assert_no_errors()
        finally:
            await harness.stop()


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    """Shut down at the test's end what the test started (replicas' Applications)."""
    async with AsyncExitStack() as stack:
        yield stack


async def replica_senders(
    stack: AsyncExitStack, db: Database, api: LocalBotApi, count: int, *, scale: float = 1.0
) -> list[Sender]:
    """The outbox senders of ``count`` Applications on one database and one fake Bot API,
    as ``count`` processes would have them (each its own rate limiter and sender; not
    polling: the test hands them their outbox rows). ``scale`` shortens their group spacing
    with the fake's clock (``FloodLimits(time_scale=...)``, test config)."""
    found = []
    for _ in range(count):
        services = Services(load_settings(env={}), db.sessions, Clock())
        app = build_application(
            services,
            token=DEFAULT_TOKEN,
            request=LocalRequest(api),
            get_updates_request=LocalRequest(api),
            with_jobs=False,
        )
        await app.initialize()
        stack.push_async_callback(app.shutdown)
        limiter = app.bot.rate_limiter
        assert isinstance(limiter, PacingLimiter)
        limiter.per_group *= scale
        one = sender(app)
        assert one is not None
        one.group_seconds *= scale
        found.append(one)
    assert len({one.name for one in found}) == count
    return found


def register_contacts(
    db: Database,
    first_id: int,
    count: int,
    *,
    division: str | None = None,
    name: str = "Yhteyshenkilö",
) -> None:
    """``count`` division contacts from Telegram id ``first_id`` on, named "<name> <n>": of
    ``division`` (a code), or of the divisions in turn (as invitations would make them;
    one transaction)."""
    with db.transaction() as session:
        divisions = catalog.divisions(session)
        if division is not None:
            divisions = [d for d in divisions if d.code == division]
        for n in range(count):
            people.ensure_person(
                session,
                first_id + n,
                name=f"{name} {n}",
                roles={Role.CONTACT},
                division_id=divisions[n % len(divisions)].id,
            )


def write_messages(db: Database, one: Sender, chats: Any) -> list[Any]:
    """One plain message ("x") to each of ``chats``, written to ``one``'s outbox (committed),
    its rows to hand to ``one.deliver``."""
    with db.transaction() as session:
        return one.write(
            session,
            [(chat_id, "sendMessage", {"chat_id": chat_id, "text": "x"}) for chat_id in chats],
            update_id=None,
        )


async def wait_until(condition: Callable[[], bool], what: str, ceiling: float = 120.0) -> None:
    """Until ``condition()`` holds (``ceiling``: for a loaded machine, never a budget)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ceiling
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)

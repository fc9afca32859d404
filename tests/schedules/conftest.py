"""Fixtures for the reminder tests: settings, a controllable clock, people, and a real PTB
Application talking to the local Telegram with reminders installed.

Nothing here sleeps: "now" is `Clock`, and the rate limiter runs on `VirtualTime`, whose sleep
advances a virtual monotonic clock that the local Telegram's flood control shares.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from telegram import Update
from telegram.ext import ContextTypes

import schedules
from bot.handlers import reminders as reminder_handlers
from core.services import Services, attach
from data import catalog, people, reports
from data.models import Level, MeasurementType, Person, Role
from delivery import outbox as delivery_outbox
from delivery.courier import TelegramCourier
from delivery.pacing import PacingLimiter
from localtg import LocalBotApi, LocalUser, local_application_builder, running
from schedules import runtime as rt
from settings import Settings, load_settings

from ..conftest import Database

if TYPE_CHECKING:
    from bot.app import BotApplication

HELSINKI = load_settings(env={}).tz
YEAR = 2026


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """An aware Helsinki datetime (the way the plan's times are written)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


@pytest.fixture
def settings() -> Settings:
    """config.yaml as shipped (the environment's DATABASE_URL is ignored: tests use `db`)."""
    return load_settings(env={})


class Clock:
    """The bot's wall clock (``Services.clock``), moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = at.astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


class VirtualTime:
    """Monotonic seconds that pass only when someone sleeps (rate limiter, flood control)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        self.slept += max(seconds, 0.0)
        await asyncio.sleep(0)


@dataclass
class People:
    """Creates people of the standard catalog, with a Telegram user each."""

    db: Database
    api: LocalBotApi
    created_at: dt.datetime = field(default_factory=lambda: local(YEAR, 1, 2))
    next_id: int = 1000

    def add(
        self,
        *roles: Role,
        division: str | None = None,
        language: str | None = "fi",
        name: str = "",
        started: bool = True,
    ) -> tuple[int, LocalUser]:
        """A person (id) and their Telegram user (private chat started unless told)."""
        self.next_id += 1
        tg_id = self.next_id
        with self.db.transaction() as s:
            division_id = None
            if division:
                found = catalog.division_by_code(s, division)
                assert found is not None
                division_id = found.id
            person = people.ensure_person(
                s,
                tg_id,
                name=name or f"Person {tg_id}",
                language=language,
                roles=set(roles),
                division_id=division_id,
            )
            person.created_at = self.created_at
            person_id = person.id
        user = self.api.user(tg_id, f"P{tg_id}", language_code=language, has_started=started)
        return person_id, user


def complete_division(db: Database, code: str, year: int = YEAR) -> None:
    """Answer every level ("none") and satisfaction ("not measured") for every entity."""
    with db.transaction() as s:
        division = catalog.division_by_code(s, code)
        assert division is not None
        reporter = people.ensure_person(
            s, 999_000 + division.id, name="Reporter", roles={Role.CONTACT}, division_id=division.id
        )
        levels = list(s.scalars(select(Level).order_by(Level.number)))
        not_measured = s.scalar(
            select(MeasurementType).where(MeasurementType.code == "NOT_MEASURED")
        )
        assert not_measured is not None
        for entity in catalog.service_entities(s, division.id):
            reports.save_participation(
                s,
                reporter,
                year,
                entity.id,
                [reports.ParticipationAnswer(level.id, none=True) for level in levels],
            )
            reports.save_satisfaction(
                s, reporter, year, entity.id, [reports.SatisfactionAnswer(not_measured.id)]
            )
        # The helper reporter is not a real recipient.
        people.deactivate(s, reporter, actor_id=None, reason="test")


@dataclass
class Bot:
    application: BotApplication
    api: LocalBotApi
    clock: Clock
    time: VirtualTime
    errors: list[BaseException]

    @property
    def runtime(self) -> rt.ReminderRuntime:
        return rt.runtime(self.application)

    @property
    def limiter(self) -> PacingLimiter:
        limiter = self.application.bot.rate_limiter
        assert isinstance(limiter, PacingLimiter)
        return limiter


@asynccontextmanager
async def running_bot(
    db: Database,
    settings: Settings,
    clock: Clock,
    api: LocalBotApi,
    time: VirtualTime,
    *,
    catch_up: bool = False,
    max_in_flight: int = 1,
    limiter: PacingLimiter | None = None,
    outbox: bool = True,
) -> AsyncIterator[Bot]:
    """A real Application polling the local Telegram, reminders registered and installed.

    With ``catch_up`` the start-up catch-up job runs (and is awaited) as in production;
    without it the job is removed before it runs so the test decides what runs when. The
    bot is the scheduler leader (on PostgreSQL it takes the lock at start and gives it up
    at the end, as a graceful stop does).
    Reminders go through the outbox as in the bot (``outbox=False``: straight, the
    courier's fallback). One send at a time by default: virtual time is exact only for one
    sleeper at a time (concurrent sends at real speed are the benchmark's part).
    """
    limiter = limiter or PacingLimiter(clock=time, sleep=time.sleep)
    application = local_application_builder(api).rate_limiter(limiter).build()
    attach(application, Services(settings, db.sessions, clock))
    reminder_handlers.register(application)
    errors: list[BaseException] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error or RuntimeError("unknown error"))

    application.add_error_handler(on_error)
    if outbox:  # as the bot: reminders go through the outbox (delivery.courier)
        delivery_outbox.install(application, db.sessions)
    schedules.install(application, courier=TelegramCourier(application))
    rt.runtime(application).sender.max_in_flight = max_in_flight
    job_queue = application.job_queue
    assert job_queue is not None

    def drop(name: str) -> None:
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()

    drop(rt.LEADER_JOB)  # PostgreSQL: the test takes the leadership itself, below
    if not catch_up:
        drop(rt.CATCH_UP_JOB)
    async with running(application, api):
        try:
            # Each bot of a test releases the lock when it stops, so it is free here.
            assert await rt.elect(application)
            if not catch_up:
                drop(rt.CATCH_UP_JOB)  # (scheduled just now on PostgreSQL; not run yet)
            else:
                await asyncio.wait_for(rt.runtime(application).caught_up.wait(), 10)
            yield Bot(application, api, clock, time, errors)
        finally:
            await rt.release_leadership(application)


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def api(time: VirtualTime) -> LocalBotApi:
    return LocalBotApi(clock=time)


@pytest.fixture
def folks(db: Database, api: LocalBotApi) -> People:
    return People(db, api)


def bot_texts(user: LocalUser) -> list[str]:
    return user.texts()


def person(db: Database, person_id: int) -> Person:
    with db.session() as s:
        found = s.get(Person, person_id)
        assert found is not None
        s.expunge(found)
        return found


Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]

"""Telegram failures through the local Telegram: blocked users, 429, 5xx, timeouts, limits."""

from __future__ import annotations

import datetime as dt

from data import ledger
from data.models import LedgerStatus, ReminderLedger, Role
from delivery import pacing
from delivery.pacing import PacingLimiter
from localtg import LocalBotApi
from schedules import runtime as rt
from schedules import sender
from schedules.plan import SlotKey
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, Clock, People, VirtualTime, local, person, running_bot

SLOT = SlotKey("listatekstit", dt.date(YEAR, 11, 20), 14)


def rows(db: Database, **where: object) -> list[ReminderLedger]:
    with db.session() as s:
        return ledger.rows_for(s, **where)  # type: ignore[arg-type]


async def test_a_blocked_user_is_deactivated_and_never_retried(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    blocker, blocker_user = folks.add(Role.CONTACT, division="KUVA")
    _other, other_user = folks.add(Role.COORDINATOR)
    blocker_user.block()
    clock = Clock(local(YEAR, 11, 6))
    async with running_bot(db, settings, clock, api, time) as bot:
        result = await rt.run_slot(bot.application, SLOT)
        assert (result.sent, result.failed) == (1, 1)
        clock.advance(hours=2)
        await rt.sweep(bot.application)  # nothing to retry
        # The next send leaves the blocked person out altogether.
        clock.set(local(YEAR, 11, 13))
        later = await rt.run_slot(bot.application, SlotKey("listatekstit", SLOT.deadline_date, 7))
        assert bot.errors == []
    assert later.sent == 1
    assert not person(db, blocker).active
    (row,) = rows(db, person_id=blocker)
    assert (row.status, row.attempts, row.next_attempt_at) == (LedgerStatus.FAILED, 1, None)
    assert row.error is not None and row.error.startswith("blocked: Forbidden")
    assert len(api.calls_to("sendMessage")) == 3  # refused once, never tried again
    assert blocker_user.messages == [] and len(other_user.messages) == 2


async def test_retry_after_is_honoured_and_the_message_sent_once(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    users = [folks.add(Role.COORDINATOR) for _ in range(3)]
    api.fail_next("sendMessage", "429", retry_after=3)
    async with running_bot(db, settings, Clock(local(YEAR, 11, 6)), api, time) as bot:
        result = await rt.run_slot(bot.application, SLOT)
        limiter = bot.limiter
        assert bot.errors == []
    assert result.sent == 3 and result.failed == 0
    assert limiter.flood_waits == 1 and time.slept >= 3.0
    assert [len(u.messages) for _pid, u in users] == [1, 1, 1]
    assert all(r.status is LedgerStatus.SENT and r.attempts == 1 for r in rows(db))
    refused = [c for c in api.calls_to("sendMessage") if c.status == 429]
    assert len(refused) == 1


async def test_pacing_keeps_a_burst_under_telegrams_limits(
    db: Database, settings: Settings, time: VirtualTime, folks: People
) -> None:
    """34 reminders at once against exact flood limits: no 429 at all."""
    api = LocalBotApi(clock=time, enforce_limits=True)
    folks.api = api
    users = [folks.add(Role.COORDINATOR) for _ in range(34)]
    start = time.now
    async with running_bot(db, settings, Clock(local(YEAR, 11, 6)), api, time) as bot:
        result = await rt.run_slot(bot.application, SLOT)
        assert bot.errors == []
    assert result.sent == 34
    assert api.rate_limit_errors == 0
    assert time.now - start >= 33 / pacing.DEFAULT_PER_SECOND - 1e-6  # evenly, not a burst
    assert [len(u.messages) for _pid, u in users] == [1] * 34


async def test_429s_from_the_flood_limits_are_waited_out_without_duplicates(
    db: Database, settings: Settings, time: VirtualTime, folks: People
) -> None:
    """A reckless limiter (another process, a stricter server): the 429s are honoured."""
    api = LocalBotApi(clock=time, enforce_limits=True)
    folks.api = api
    users = [folks.add(Role.COORDINATOR) for _ in range(35)]
    reckless = PacingLimiter(
        per_second=10_000, per_chat_seconds=0, limit=10_000, window=0, clock=time, sleep=time.sleep
    )
    async with running_bot(
        db, settings, Clock(local(YEAR, 11, 6)), api, time, limiter=reckless
    ) as bot:
        result = await rt.run_slot(bot.application, SLOT)
        assert bot.errors == []
    assert api.rate_limit_errors > 0 and reckless.flood_waits > 0
    assert result.sent == 35 and result.failed == 0
    assert [len(u.messages) for _pid, u in users] == [1] * 35


async def test_server_errors_are_retried_with_back_off_and_visible_in_the_ledger(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _pid, user = folks.add(Role.COORDINATOR)
    api.fail_next("sendMessage", "500", chat_id=user.id)
    clock = Clock(local(YEAR, 11, 6))
    async with running_bot(db, settings, clock, api, time) as bot:
        result = await rt.run_slot(bot.application, SLOT)
        assert (result.sent, result.failed) == (0, 1)
        (row,) = rows(db)
        assert (row.status, row.attempts) == (LedgerStatus.FAILED, 1)
        assert row.next_attempt_at == clock() + sender.BACKOFF[0]
        assert row.error is not None and "Internal Server Error" in row.error
        await rt.sweep(bot.application)  # not due yet
        assert user.messages == []
        clock.advance(minutes=1)
        report = await rt.sweep(bot.application)
        assert report.sent == 1
        assert bot.errors == []
    (row,) = rows(db)
    assert (row.status, row.attempts, row.error) == (LedgerStatus.SENT, 2, None)
    assert len(user.messages) == 1


async def test_persistent_failures_give_up_after_the_last_attempt(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _pid, user = folks.add(Role.COORDINATOR)
    api.fail_next("sendMessage", "network", count=sender.MAX_ATTEMPTS, chat_id=user.id)
    clock = Clock(local(YEAR, 11, 6))
    async with running_bot(db, settings, clock, api, time) as bot:
        await rt.run_slot(bot.application, SLOT)
        for delay in sender.BACKOFF:
            clock.advance(seconds=delay.total_seconds())
            await rt.sweep(bot.application)
        clock.advance(hours=3)
        await rt.sweep(bot.application)
        assert bot.errors == []
    (row,) = rows(db)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        LedgerStatus.FAILED,
        sender.MAX_ATTEMPTS,
        None,
    )
    assert row.error is not None and row.error.startswith(
        f"gave up after {sender.MAX_ATTEMPTS} attempts"
    )
    assert user.messages == []


async def test_a_timeout_is_not_resent_because_it_may_have_arrived(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _pid, user = folks.add(Role.COORDINATOR)
    api.fail_next("sendMessage", "timeout", chat_id=user.id)
    clock = Clock(local(YEAR, 11, 6))
    async with running_bot(db, settings, clock, api, time) as bot:
        await rt.run_slot(bot.application, SLOT)
        clock.advance(hours=1)
        await rt.sweep(bot.application)
        assert bot.errors == []
    (row,) = rows(db)
    assert (row.status, row.next_attempt_at) == (LedgerStatus.UNCERTAIN, None)
    assert row.error is not None and "delivery unknown" in row.error
    assert len(api.calls_to("sendMessage")) == 1

"""One scheduler leader: the PostgreSQL advisory lock, and failover between real processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

import schedules
from core.services import Services, attach
from data import ledger, people
from data.leader import LeaderLock
from data.models import LedgerStatus, Role
from delivery.courier import TelegramCourier
from localtg import LocalBotApi, local_application_builder
from localtg.http import ServerThread
from schedules import runtime as rt
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, Clock, local

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("leader_process.py")
TOKEN = "7654321098:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE"


def postgres_only(db: Database) -> None:
    if db.backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's; on SQLite the process always leads")


def test_on_sqlite_the_one_process_is_always_the_leader(db: Database) -> None:
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    lock = LeaderLock(db.engine)
    assert lock.acquire() and lock.check() and lock.held
    assert LeaderLock(db.engine).acquire()  # no lock at all: one process per file


def test_only_one_lock_holder_and_the_lock_is_free_when_its_session_ends(db: Database) -> None:
    postgres_only(db)
    first, second = LeaderLock(db.engine), LeaderLock(db.engine)
    try:
        assert first.acquire()
        assert not second.acquire() and not second.held
        assert first.acquire()  # still held: acquiring again just checks
        first.release()
        assert second.acquire()
        assert not first.acquire()
        # The holder's session dies (as when its process is killed): the lock is free,
        # and the old holder notices at its next check.
        with db.engine.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :low AND pid <> pg_backend_pid()"
                ),
                {"low": (second.key or 0) & 0xFFFFFFFF},
            )
            admin.commit()
        assert not second.check()
        assert first.acquire()
    finally:
        first.dispose()
        second.dispose()


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_leader_is_replaced_and_each_reminder_goes_out_once(
    db: Database, tmp_path: Path
) -> None:
    """Two replicas; the leader is SIGKILLed while sending a 150-person reminder; a snooze
    falls due while there is no leader. The other replica takes over within the retry
    interval and catches up: nobody gets anything twice, nothing inside the catch-up
    window is lost; a message whose call was cut by the kill is "uncertain", not resent."""
    postgres_only(db)
    count = 150
    api = LocalBotApi(token=TOKEN)
    created = local(YEAR, 1, 2)
    with db.transaction() as s:
        ids = []
        for n in range(count + 1):
            person = people.ensure_person(
                s, 7000 + n, name=f"P{n}", language="fi", roles={Role.COORDINATOR}
            )
            person.created_at = created
            ids.append(person.id)
        snoozer = ids.pop()
        # A reminder delivered yesterday and snoozed to 9.00.05 today (A's first sweep would
        # be at 9.00.10; A is killed before).
        key = ledger.LedgerKey("listatekstit", dt.date(YEAR, 11, 20), 15, snoozer)
        row_id = ledger.claim_new(
            s,
            key,
            audience="coordinator",
            kind=ledger.KIND_SCHEDULED,
            due_at=local(YEAR, 11, 5),
            now=local(YEAR, 11, 5),
            claimer="yesterday",
        )
        assert row_id is not None
        ledger.mark_sent(s, row_id, now=local(YEAR, 11, 5))
        until = local(YEAR, 11, 6, 9, 0) + dt.timedelta(seconds=5)
        ledger.snooze(
            s,
            row_id,
            person_id=snoozer,
            until=until,
            until_day=until.date(),
            now=local(YEAR, 11, 5),
        )
    for n in range(count + 1):
        api.user(7000 + n, f"P{n}", has_started=True)

    # The 14-day reminder of 20.11. is due at 9.00, 20 s after the start (both replicas
    # are up by then).
    fake_now = local(YEAR, 11, 6, 8, 59) + dt.timedelta(seconds=40)
    with ServerThread(api) as server:
        env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "TELEGRAM_BASE_URL": server.base_url,
            "TOKEN": TOKEN,
            "FAKE_NOW": fake_now.isoformat(),
            "REAL_START": str(time.time()),
            "LEADER_RETRY": "2",
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for log in logs:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, str(RUNNER)],
                        cwd=ROOT,
                        env=env,
                        stdout=log.open("w"),
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
                if log == logs[0]:  # the first one leads
                    _wait(lambda: "scheduler leader: yes" in logs[0].read_text(), 30, "A leads")
            leader = processes[0]
            _wait(lambda: "replica started" in logs[1].read_text(), 30, "B to start")
            assert "scheduler leader: yes" not in logs[1].read_text()

            def delivered() -> int:
                return sum(1 for c in api.calls_to("sendMessage") if c.status == 200)

            _wait(lambda: delivered() >= 40, 60, "the leader to be sending")
            leader.send_signal(signal.SIGKILL)
            leader.wait(timeout=10)
            killed_at = time.monotonic()
            at_kill = delivered()
            assert at_kill < count, "the kill came too late to interrupt the send"
            _wait(lambda: "scheduler leader: yes" in logs[1].read_text(), 60, "B to take over")
            took_over = time.monotonic() - killed_at
            _wait(
                lambda: (
                    delivered() >= count - 16 + 1 and "reminders:catch-up" in logs[1].read_text()
                ),
                60,
                "B to catch up",
            )
            time.sleep(2)  # let anything still queued arrive (nothing may, twice)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=20)
    assert took_over < 60
    per_chat = Counter(
        c.params.get("chat_id") for c in api.calls_to("sendMessage") if c.status == 200
    )
    snoozer_chat = str(7000 + count)
    assert max(n for chat, n in per_chat.items() if chat != snoozer_chat) == 1, "sent twice"
    with db.session() as s:
        rows = {
            (r.person_id, r.offset_days): r
            for r in ledger.rows_for(s, deadline_code="listatekstit")
        }
    statuses = Counter(rows[pid, 14].status for pid in [*ids, snoozer])
    assert set(statuses) <= {LedgerStatus.SENT, LedgerStatus.UNCERTAIN}, statuses
    for n, pid in enumerate(ids):  # sent ⇔ delivered once; uncertain: at most once
        expected = {1} if rows[pid, 14].status is LedgerStatus.SENT else {0, 1}
        assert per_chat.get(str(7000 + n), 0) in expected
    assert statuses[LedgerStatus.UNCERTAIN] <= 16  # at most the calls in flight at the kill
    assert statuses[LedgerStatus.SENT] >= count + 1 - 16
    # The snooze that fell due while nobody led went out once, from the new leader (the
    # snoozer is a coordinator too: the 14-day reminder is their other message).
    snoozed = rows[snoozer, 15]
    assert (snoozed.status, snoozed.kind, snoozed.attempts) == (LedgerStatus.SENT, "snooze", 2)
    assert per_chat[snoozer_chat] == (2 if rows[snoozer, 14].status is LedgerStatus.SENT else 1)
    print(
        f"failover: killed after {at_kill} of {count + 1} deliveries; new leader after "
        f"{took_over:.1f} s; ledger {dict(statuses)}"
    )


async def test_a_graceful_stop_hands_the_leadership_over_at_the_next_try(
    db: Database, settings: Settings, api: LocalBotApi
) -> None:
    postgres_only(db)
    clock = Clock(local(YEAR, 11, 6, 8, 0))
    apps = []
    for _ in range(2):
        application = local_application_builder(api).build()
        attach(application, Services(settings, db.sessions, clock))
        schedules.install(application, courier=TelegramCourier(application))
        apps.append(application)
    first, second = apps
    try:
        assert await rt.elect(first) and rt.is_leader(first)
        assert not await rt.elect(second) and not rt.is_leader(second)
        assert first.job_queue is not None and second.job_queue is not None
        assert first.job_queue.get_jobs_by_name(rt.SWEEP_JOB)
        assert not second.job_queue.get_jobs_by_name(rt.SWEEP_JOB)
        await rt.release_leadership(first)  # what SIGTERM calls (Application.post_stop)
        assert not rt.is_leader(first)
        assert await rt.elect(second) and rt.is_leader(second)
        assert second.job_queue.get_jobs_by_name(rt.SWEEP_JOB)
    finally:
        for application in apps:
            await rt.release_leadership(application)


async def test_the_leader_is_tried_at_once_and_the_gauge_follows_within_a_second(
    db: Database, settings: Settings, api: LocalBotApi
) -> None:
    """A cold start leads (and says so on /metrics) at once, not one retry interval later."""
    postgres_only(db)
    from core import metrics

    application = local_application_builder(api).build()
    attach(application, Services(settings, db.sessions, Clock(local(YEAR, 11, 6, 8, 0))))
    schedules.install(application, courier=TelegramCourier(application))
    metrics.set_scheduler_leader(False)
    await application.initialize()
    await application.start()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 1.0 and not rt.is_leader(application):
            await asyncio.sleep(0.02)
        assert rt.is_leader(application), "not the leader within a second of the start"
        assert metrics.SCHEDULER_LEADER._value.get() == 1
    finally:
        await rt.release_leadership(application)
        await application.stop()
        await application.shutdown()
    assert metrics.SCHEDULER_LEADER._value.get() == 0


async def test_a_lost_lock_stops_the_leader_and_its_gauge_within_about_a_second(
    db: Database, settings: Settings, api: LocalBotApi
) -> None:
    """The lock's session dies (a database restart, a network cut, pg_terminate_backend):
    the leader notices at its one-second check, not at the next 15-s retry."""
    postgres_only(db)
    from core import metrics

    application = local_application_builder(api).build()
    attach(application, Services(settings, db.sessions, Clock(local(YEAR, 11, 6, 8, 0))))
    schedules.install(application, courier=TelegramCourier(application))
    await application.initialize()
    await application.start()
    try:
        started = time.monotonic()
        while not rt.is_leader(application) and time.monotonic() - started < 60:
            await asyncio.sleep(0.02)
        assert metrics.SCHEDULER_LEADER._value.get() == 1
        key = rt.runtime(application).leader.key  # type: ignore[union-attr]
        with db.engine.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :low AND pid <> pg_backend_pid()"
                ),
                {"low": (key or 0) & 0xFFFFFFFF},
            )
            admin.commit()
        lost = time.monotonic()
        while metrics.SCHEDULER_LEADER._value.get() == 1 and time.monotonic() - lost < 60:
            await asyncio.sleep(0.02)
        followed = time.monotonic() - lost
        assert metrics.SCHEDULER_LEADER._value.get() == 0
        assert not application.job_queue.get_jobs_by_name(rt.SWEEP_JOB)  # type: ignore[union-attr]
        # About a second when idle; the bound leaves room for a loaded machine while staying
        # well below the 15-s retry that used to be the only check.
        assert followed < 5 * rt.VERIFY_SECONDS, followed
        print(f"leader gauge followed the lost lock after {followed:.2f} s")
    finally:
        await rt.release_leadership(application)
        await application.stop()
        await application.shutdown()

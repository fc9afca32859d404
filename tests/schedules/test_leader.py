"""One scheduler leader: the PostgreSQL advisory lock, and failover between real processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

import schedules
from core.services import Services, attach
from data import ledger, people
from data.db import make_engine
from data.leader import LeaderLock
from data.models import LedgerStatus, Role
from delivery.courier import TelegramCourier
from localtg import LocalBotApi, local_application_builder
from localtg.http import ServerThread
from schedules import runtime as rt
from settings import Settings

from ..bot.processes import CEILING, TOKEN, start_clocked, wait_for
from ..conftest import Database, scratch_schema
from .conftest import YEAR, Clock, local


def postgres_only(db: Database) -> None:
    if db.backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's; on SQLite the process always leads")


def test_on_sqlite_the_one_process_is_always_the_leader(db: Database) -> None:
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    lock = LeaderLock(db.engine)
    assert lock.acquire() and lock.check() and lock.held
    assert LeaderLock(db.engine).acquire()  # no lock at all: one process per file


def test_deployments_in_two_schemas_of_one_database_elect_a_leader_each(db: Database) -> None:
    """The key follows the schema the bot's sessions use — also now that the engine's URL
    no longer carries the search_path (``data.db`` passes it in the start-up options): every
    schema had the same key, and a test run's leader kept another run's from leading."""
    postgres_only(db)
    with scratch_schema() as url:
        other = make_engine(url)
        here, there = LeaderLock(db.engine), LeaderLock(other)
        try:
            assert here.acquire() and there.acquire()
            assert here.key != there.key
        finally:
            here.dispose()
            there.dispose()
            other.dispose()


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


#: The statuses a ledger row ends in; the others still have something to do.
SETTLED = {LedgerStatus.SENT, LedgerStatus.UNCERTAIN, LedgerStatus.SKIPPED, LedgerStatus.FAILED}


def _wait(predicate: Callable[[], bool], what: str) -> None:
    wait_for(predicate, CEILING, what)


def test_a_killed_leader_is_replaced_and_each_reminder_goes_out_once(
    db: Database, tmp_path: Path
) -> None:
    """Two replicas; the leader is SIGKILLed while sending a 150-person reminder; a snooze
    falls due while there is no leader. The other replica takes over at its next try of the
    lock and catches up: nobody gets anything twice, nothing inside the catch-up window is
    lost; a message whose call was cut by the kill is "uncertain", not resent.

    Every step waits for its event, so a loaded machine changes only how long it takes: the
    test holds the leader lock until both replicas are up (a slow start cannot let the
    first one send everything alone), the one that then leads is the one killed, and the
    snooze is written once it is dead.
    """
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
    for n in range(count + 1):
        api.user(7000 + n, f"P{n}", has_started=True)

    # The 14-day reminder of 20.11. is due at 9.00, 20 s after the start: sent by the first
    # leader's job, or by its catch-up when the replicas took longer than that to come up.
    fake_now = local(YEAR, 11, 6, 8, 59) + dt.timedelta(seconds=40)
    real_start = time.time()

    def now() -> dt.datetime:  # the replicas' clock (leader_process.py)
        return fake_now + dt.timedelta(seconds=time.time() - real_start)

    def leads(log: Path) -> bool:
        return "scheduler leader: yes" in log.read_text()

    held = LeaderLock(db.engine)  # nobody leads until both replicas are up
    assert held.acquire()
    with ServerThread(api) as server:
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for log in logs:
                processes.append(
                    start_clocked(
                        server.base_url, db.url, log, fake_now=fake_now, real_start=real_start
                    )
                )
            for log in logs:
                _wait(lambda log=log: "replica started" in log.read_text(), f"{log.stem} to start")
            assert not any(leads(log) for log in logs), "a replica led beside the test's lock"
            held.dispose()  # the lock is free: the first replica to try it leads
            _wait(lambda: any(leads(log) for log in logs), "a replica to lead")
            first = 0 if leads(logs[0]) else 1
            leader, other = processes[first], logs[1 - first]

            def delivered() -> int:
                return sum(1 for c in api.calls_to("sendMessage") if c.status == 200)

            _wait(lambda: delivered() >= 40, "the leader to be sending")
            leader.send_signal(signal.SIGKILL)
            leader.wait(timeout=CEILING)
            killed_at = time.monotonic()
            at_kill = delivered()
            assert at_kill < count, "the kill came too late to interrupt the send"
            # A reminder delivered yesterday, snoozed until now: it falls due with no leader
            # (one is dead; the other leads at its next try), however long the above took.
            with db.transaction() as s:
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
                until = now()
                ledger.snooze(
                    s,
                    row_id,
                    person_id=snoozer,
                    until=until,
                    until_day=until.date(),
                    now=local(YEAR, 11, 5),
                )
            _wait(lambda: leads(other), "the other replica to take over")
            took_over = time.monotonic() - killed_at

            def settled() -> bool:  # every row has its final status: nothing more is sent
                with db.session() as s:
                    rows = ledger.rows_for(s, deadline_code="listatekstit")
                return len(rows) == count + 2 and all(r.status in SETTLED for r in rows)

            _wait(lambda: "reminders:catch-up" in other.read_text(), "the other to catch up")
            _wait(settled, "every reminder to be sent or marked uncertain")
        finally:
            held.dispose()
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=CEILING)
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


async def test_the_leader_is_tried_at_once_and_the_gauge_follows(
    db: Database, settings: Settings, api: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold start leads (and says so on /metrics) at once, not one retry interval later:
    with the retry an hour away, the first try is the only one that can make it lead."""
    postgres_only(db)
    from core import metrics

    monkeypatch.setattr(rt, "LEADER_RETRY_SECONDS", 3600.0)
    application = local_application_builder(api).build()
    attach(application, Services(settings, db.sessions, Clock(local(YEAR, 11, 6, 8, 0))))
    schedules.install(application, courier=TelegramCourier(application))
    metrics.set_scheduler_leader(False)
    await application.initialize()
    await application.start()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 60 and not rt.is_leader(application):
            await asyncio.sleep(0.02)
        assert rt.is_leader(application), "not the leader at the first try"
        assert metrics.SCHEDULER_LEADER._value.get() == 1
    finally:
        await rt.release_leadership(application)
        await application.stop()
        await application.shutdown()
    assert metrics.SCHEDULER_LEADER._value.get() == 0


async def test_a_lost_lock_stops_the_leader_and_its_gauge_at_its_one_second_check(
    db: Database, settings: Settings, api: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock's session dies (a database restart, a network cut, pg_terminate_backend):
    the leader notices at its one-second check, not at the next retry — here an hour away,
    so only the check can notice."""
    postgres_only(db)
    from core import metrics

    monkeypatch.setattr(rt, "LEADER_RETRY_SECONDS", 3600.0)
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
        print(f"leader gauge followed the lost lock after {followed:.2f} s")
    finally:
        await rt.release_leadership(application)
        await application.stop()
        await application.shutdown()

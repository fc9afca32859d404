"""Sending through a real PTB Application and the local Telegram: content, jobs, exactly
once across a crash and a restart, two schedulers racing, catch-up and skip."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from typing import Any

from telegram.ext import ContextTypes

import schedules
from core.services import Services, attach
from data import ledger, people
from data.models import LedgerStatus, Person, ReminderLedger, Role
from delivery.courier import TelegramCourier
from delivery.pacing import PacingLimiter
from localtg import BotMessageEvent, LocalBotApi, local_application_builder
from schedules import runtime as rt
from schedules.cli import main as cli_main
from schedules.notices import BeforeSend, Courier, Notice, Result
from schedules.plan import SlotKey
from settings import Settings

from ..conftest import Database
from .conftest import (
    YEAR,
    Clock,
    People,
    VirtualTime,
    complete_division,
    local,
    person,
    running_bot,
)

LISTATEKSTIT = dt.date(YEAR, 11, 20)
LISTATEKSTIT_14 = SlotKey("listatekstit", LISTATEKSTIT, 14)  # Friday 6.11. at 9.00


def rows(db: Database, **where: object) -> list[ReminderLedger]:
    with db.session() as s:
        return ledger.rows_for(s, **where)  # type: ignore[arg-type]


async def test_a_send_reaches_its_audience_in_their_language_with_its_buttons(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _coordinator, coord_user = folks.add(Role.COORDINATOR, language="sv")
    contact, contact_user = folks.add(Role.CONTACT, division="KUVA")
    _done, done_user = folks.add(Role.CONTACT, division="KYMP")
    _staff, staff_user = folks.add(Role.STAFF, language="en")
    both, both_user = folks.add(Role.CONTACT, Role.COORDINATOR, division="SOTE", language=None)
    complete_division(db, "KYMP")
    async with running_bot(db, settings, Clock(local(YEAR, 11, 6)), api, time) as bot:
        result = await rt.run_slot(bot.application, LISTATEKSTIT_14)
        assert bot.errors == []
    assert (result.status, result.sent, result.failed, result.skipped) == ("sent", 4, 0, 0)
    # Contacts only while their division is incomplete: KYMP is complete.
    assert done_user.messages == []

    text = contact_user.last.text
    assert text.startswith("⏰ Muistutus: Listatekstit ja Excel toimitettava")
    assert "Määräaika: pe 20.11.2026 (14 päivän päästä)" in text
    assert "Vielä puuttuu – Kulttuurin ja vapaa-ajan toimiala:" in text
    assert "• Kirjasto: ei vielä ilmoituksia" in text
    assert contact_user.last.buttons == [["Raportoi nyt", "Muistuta huomenna"]]
    report, snooze = contact_user.last.inline_keyboard[0]
    assert report["callback_data"] == "report:now"
    (row,) = rows(db, person_id=contact)
    assert snooze["callback_data"] == f"rem:snooze:{row.id}"
    assert len(str(snooze["callback_data"]).encode()) <= 64
    assert (row.status, row.audience, row.kind, row.offset_days) == (
        LedgerStatus.SENT,
        "contact",
        "scheduled",
        14,
    )
    assert row.due_at == local(YEAR, 11, 6)

    swedish = coord_user.last.text
    assert "Tidsfrist: fre 20.11.2026 (om 14 dagar)" in swedish
    assert "✅ KYMP: alla servicehelheter klara" in swedish and "• KUVA: 0/5" in swedish
    assert coord_user.last.buttons == [["Påminn mig i morgon"]]  # coordinators do not report

    english = staff_user.last.text
    assert "1 of 4 divisions complete (KYMP)" in english and "/luonnos" in english

    # One message for a person with two roles, with both sections, in the default language.
    (message,) = both_user.messages
    assert "Vielä puuttuu – Sosiaali- ja terveystoimiala:" in message.text
    assert "Toimialat:" in message.text
    assert rows(db, person_id=both)[0].audience == "contact"


async def test_install_registers_one_job_per_future_send_rebuilt_from_the_plan(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _pid, user = folks.add(Role.COORDINATOR)
    clock = Clock(local(YEAR, 11, 19, 8, 0))
    async with running_bot(db, settings, clock, api, time) as bot:
        job_queue = bot.application.job_queue
        assert job_queue is not None
        names = sorted(j.name for j in job_queue.jobs() if j.name.startswith("reminder:"))
        # 2026: 19.11. 9.00 onwards (5 sends); 2027: all 13 sends.
        assert [n for n in names if ":2026-" in n] == [
            "reminder:listatekstit:2026-11-20:0",
            "reminder:listatekstit:2026-11-20:1",
            "reminder:valmis:2026-11-30:0",
            "reminder:valmis:2026-11-30:1",
            "reminder:valmis:2026-11-30:7",
        ]
        assert len([n for n in names if ":2027-" in n]) == 13
        assert {j.name for j in job_queue.jobs()} >= {rt.SWEEP_JOB, rt.RESYNC_JOB}
        # The job fires after the same delay as the plan says (relative to the bot's clock).
        (job,) = job_queue.get_jobs_by_name("reminder:listatekstit:2026-11-20:1")
        assert job.next_t is not None
        delay = job.next_t - dt.datetime.now(dt.UTC)
        assert dt.timedelta(minutes=59) < delay <= dt.timedelta(hours=1)
        # Installing again (a second build) adds nothing.
        schedules.install(bot.application, courier=TelegramCourier(bot.application))
        assert len(job_queue.get_jobs_by_name("reminder:listatekstit:2026-11-20:1")) == 1
        # Running the job is running the send.
        clock.set(local(YEAR, 11, 19, 9, 0))
        await job.run(bot.application)
        assert bot.errors == []
    assert "Määräaika: pe 20.11.2026 (huomenna)" in user.last.text


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing on the way catches it)."""


async def test_a_kill_during_the_telegram_call_is_not_resent_and_shown_uncertain(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    users = [folks.add(Role.COORDINATOR) for _ in range(5)]
    _staff, staff_user = folks.add(Role.COORDINATOR, Role.STAFF)
    clock = Clock(local(YEAR, 11, 6, 9, 0))
    delivered = 0

    def die_after_second_delivery(event: BotMessageEvent) -> None:
        nonlocal delivered
        delivered += 1
        if delivered == 2:  # the message is in the chat; the ledger has not heard of it
            raise Crash

    unsubscribe = api.on_bot_message(die_after_second_delivery)
    async with running_bot(db, settings, clock, api, time, max_in_flight=1) as bot:
        try:
            await rt.run_slot(bot.application, LISTATEKSTIT_14)
        except Crash:
            pass
        else:
            raise AssertionError("the send should have crashed")
    unsubscribe()
    statuses = [r.status for r in rows(db, deadline_code="listatekstit")]
    assert statuses == [LedgerStatus.SENT, LedgerStatus.IN_FLIGHT]

    # Restart two minutes later: the start-up catch-up sends to those who got nothing.
    clock.advance(minutes=2)
    async with running_bot(db, settings, clock, api, time, catch_up=True) as bot:
        clock.advance(minutes=15)
        await rt.sweep(bot.application)
        await staff_user.send("/aikataulu")
        assert bot.errors == []
    assert [len(user.messages) for _pid, user in users] == [1, 1, 1, 1, 1]
    by_person = {r.person_id: r for r in rows(db, deadline_code="listatekstit")}
    assert [by_person[pid].status for pid, _user in users] == [
        LedgerStatus.SENT,
        LedgerStatus.UNCERTAIN,  # delivered, but the process died before recording it
        LedgerStatus.SENT,
        LedgerStatus.SENT,
        LedgerStatus.SENT,
    ]
    assert "delivery unknown" in (by_person[users[1][0]].error or "")
    # Coordinators see it in /aikataulu, operators in the ledger listing.
    text = staff_user.last.text
    assert "⚠️ Toimitus epävarma (1)" in text
    assert f"Person {users[1][1].id}" in text.split("⚠️ Toimitus epävarma (1)")[1]
    out = io.StringIO()
    assert cli_main(["ledger"], env={"DATABASE_URL": db.url}, out=out) == 0
    (line,) = [ln for ln in out.getvalue().splitlines() if "toimitus epävarma:" in ln]
    assert f"({users[1][1].id})" in line and " uncertain " in line and "listatekstit" in line
    assert "uncertain 1 (toimitus epävarma)" in out.getvalue().splitlines()[-1]
    assert "uncertain" in line and "toimitus epävarma" in line


class CrashBeforeTheCall:
    """A courier that dies (the process is killed) when handed its ``n``th notice: the
    row is claimed, nothing has gone to Telegram."""

    def __init__(self, inner: Courier, n: int) -> None:
        self.inner, self.n, self.handed = inner, n, 0

    async def deliver(self, notice: Notice, *, before_send: BeforeSend, **more: Any) -> Result:
        self.handed += 1
        if self.handed == self.n:
            raise Crash
        return await self.inner.deliver(notice, before_send=before_send, **more)


async def test_a_kill_between_claim_and_call_is_sent_after_the_restart(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    users = [folks.add(Role.COORDINATOR) for _ in range(4)]
    clock = Clock(local(YEAR, 11, 6, 9, 0))
    async with running_bot(db, settings, clock, api, time, max_in_flight=1) as bot:
        sender = bot.runtime.sender
        sender.courier = CrashBeforeTheCall(sender.courier, 2)
        try:
            await rt.run_slot(bot.application, LISTATEKSTIT_14)
        except Crash:
            pass
        else:
            raise AssertionError("the send should have crashed")
    statuses = [r.status for r in rows(db, deadline_code="listatekstit")]
    assert statuses == [LedgerStatus.SENT, LedgerStatus.CLAIMED]
    assert [len(user.messages) for _pid, user in users] == [1, 0, 0, 0]

    clock.advance(minutes=1)
    async with running_bot(db, settings, clock, api, time, catch_up=True) as bot:
        assert bot.errors == []
    assert [len(user.messages) for _pid, user in users] == [1, 1, 1, 1]
    assert all(r.status is LedgerStatus.SENT for r in rows(db, deadline_code="listatekstit"))
    assert len(api.calls_to("sendMessage")) == 4


async def test_two_schedulers_racing_on_one_database_send_once(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    users = [folks.add(Role.COORDINATOR) for _ in range(12)] + [
        folks.add(Role.CONTACT, division="SOTE") for _ in range(8)
    ]
    clock = Clock(local(YEAR, 11, 6, 9, 0))
    errors: list[BaseException] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error or RuntimeError())

    apps = []
    for _ in range(2):  # two processes started by mistake: own Application, same database
        limiter = PacingLimiter(clock=time, sleep=time.sleep)
        application = local_application_builder(api).rate_limiter(limiter).build()
        attach(application, Services(settings, db.sessions, clock))
        application.add_error_handler(on_error)
        schedules.install(application, courier=TelegramCourier(application))
        await application.initialize()
        apps.append(application)
    try:
        results = await asyncio.gather(*(rt.run_slot(app, LISTATEKSTIT_14) for app in apps))
    finally:
        for application in apps:
            await application.shutdown()
    assert errors == []
    assert sum(r.sent for r in results) == len(users)
    assert sum(r.failed for r in results) == 0
    assert [len(user.messages) for _pid, user in users] == [1] * len(users)
    recorded = rows(db, deadline_code="listatekstit")
    assert len(recorded) == len(users)
    assert {r.claimed_by for r in recorded} <= {rt.runtime(app).claimer for app in apps}


async def test_catch_up_sends_what_is_less_than_12_hours_late_and_skips_the_rest(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _coordinator, coord_user = folks.add(Role.COORDINATOR)
    contact, contact_user = folks.add(Role.CONTACT, division="KASKO")
    folks.created_at = local(YEAR, 11, 6, 12, 0)
    _newcomer, newcomer_user = folks.add(Role.COORDINATOR)  # registered after the 9.00 send
    # The bot was down from September; it starts on Friday 6.11. at 20.59: 11 h 59 min late.
    clock = Clock(local(YEAR, 11, 6, 20, 59))
    async with running_bot(db, settings, clock, api, time, catch_up=True) as bot:
        assert bot.errors == []
    assert len(coord_user.messages) == 1 and len(contact_user.messages) == 1
    assert "Määräaika: pe 20.11.2026 (14 päivän päästä)" in coord_user.last.text
    assert newcomer_user.messages == []
    recorded = rows(db)
    sent = [r for r in recorded if r.status is LedgerStatus.SENT]
    skipped = [r for r in recorded if r.status is LedgerStatus.SKIPPED]
    assert {(r.deadline_code, r.offset_days) for r in sent} == {("listatekstit", 14)}
    # The four October sends (25.9., 2.10., 7.10., 9.10.) are weeks late: skipped, for both.
    assert sorted((r.deadline_date, r.offset_days) for r in skipped if r.person_id == contact) == [
        (dt.date(YEAR, 10, 10), 0),
        (dt.date(YEAR, 10, 10), 3),
        (dt.date(YEAR, 10, 10), 7),
        (dt.date(YEAR, 10, 10), 14),
    ]
    assert len(skipped) == 8 and all("late" in (r.error or "") for r in skipped)

    # Another restart an hour later: nothing is sent twice, nothing new recorded.
    clock.advance(hours=1)
    async with running_bot(db, settings, clock, api, time, catch_up=True) as bot:
        assert bot.errors == []
    assert len(coord_user.messages) == 1 and len(contact_user.messages) == 1
    assert len(rows(db)) == len(recorded)


async def test_a_send_more_than_12_hours_late_is_recorded_skipped_not_sent(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _coordinator, user = folks.add(Role.COORDINATOR)
    clock = Clock(local(YEAR, 11, 6, 21, 1))  # 12 h 1 min after 6.11. 9.00
    async with running_bot(db, settings, clock, api, time, catch_up=True) as bot:
        assert bot.errors == []
    assert user.messages == []
    (row,) = rows(db, deadline_code="listatekstit")
    assert (row.status, row.offset_days, row.sent_at) == (LedgerStatus.SKIPPED, 14, None)
    assert row.error is not None and "12.0 h late" in row.error


async def test_a_job_that_fires_late_applies_the_same_rule(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _pid, user = folks.add(Role.COORDINATOR)
    clock = Clock(local(YEAR, 11, 7, 9, 0))  # a day late (e.g. the machine was asleep)
    async with running_bot(db, settings, clock, api, time) as bot:
        result = await rt.run_slot(bot.application, LISTATEKSTIT_14)
        early = await rt.run_slot(bot.application, SlotKey("listatekstit", LISTATEKSTIT, 7))
    assert (result.status, result.recorded_skipped) == ("late", 1)
    assert early.status == "not-due"
    assert user.messages == []


async def test_inactive_people_are_not_reminded(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    gone, gone_user = folks.add(Role.COORDINATOR)
    with db.transaction() as s:
        people.deactivate(s, s.get_one(Person, gone), actor_id=None, reason="left")
    async with running_bot(db, settings, Clock(local(YEAR, 11, 6)), api, time) as bot:
        result = await rt.run_slot(bot.application, LISTATEKSTIT_14)
    assert result.sent == 0 and gone_user.messages == []
    assert not person(db, gone).active


def _reminders(outcome: str) -> float:
    from core import metrics

    return (
        metrics.REGISTRY.get_sample_value("mittaribotti_reminders_total", {"outcome": outcome})
        or 0.0
    )


async def test_real_sends_count_their_outcomes_on_the_reminders_metric(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    """The alert on reminders_total{outcome="failed"} can fire: production code counts."""
    from core import metrics

    for _ in range(4):
        folks.add(Role.COORDINATOR)
    before = {o: _reminders(o) for o in ("sent", "skipped")}
    ran_before = metrics.SCHEDULER_LAST_RUN._value.get()
    async with running_bot(db, settings, Clock(local(YEAR, 11, 6)), api, time) as bot:
        result = await rt.run_slot(bot.application, LISTATEKSTIT_14)
        assert bot.errors == []
        assert metrics.REGISTRY.get_sample_value(
            "mittaribotti_scheduler_next_send_timestamp_seconds"
        )
    assert _reminders("sent") - before["sent"] == result.sent == 4
    # A send more than 12 h late is recorded skipped, and counted.
    async with running_bot(
        db, settings, Clock(local(YEAR, 11, 13, 21, 1)), api, time, catch_up=True
    ) as bot:
        assert bot.errors == []
    assert _reminders("skipped") > before["skipped"]
    assert metrics.SCHEDULER_LAST_RUN._value.get() > ran_before


async def test_a_reminder_a_killed_process_left_in_the_outbox_is_counted_once_when_delivered(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    """Issue 19: a reminder handed to the outbox (*queued*) by a process killed before it
    was sent is delivered by another process's outbox, whose scheduler never ran it: its
    outcome is counted where the outbox records it (``delivery.courier.record_outcome``),
    exactly once — before, it reached the person and the ledger but never the metric."""
    from data import outbox
    from data.models import utcnow
    from delivery.courier import OWNER
    from delivery.outbox import OWNER_KEY, sender

    coordinator, user = folks.add(Role.COORDINATOR)
    now = local(YEAR, 11, 6)
    with db.transaction() as s:
        key = ledger.LedgerKey("listatekstit", dt.date(YEAR, 11, 20), 14, coordinator)
        ledger_id = ledger.claim_new(
            s,
            key,
            audience="coordinator",
            kind=ledger.KIND_SCHEDULED,
            due_at=now,
            now=now,
            claimer="dead",
        )
        assert ledger_id is not None
        assert ledger.mark_queued(s, ledger_id, claimer="dead", attempts=1, now=now)
        params = {
            "chat_id": user.id,
            "text": "Muistutus: listatekstit 20.11.",
            OWNER_KEY: [OWNER, {"ledger_id": ledger_id, "person_id": coordinator}],
        }
        outbox.add(  # the killed process's row: its lease has run out
            s,
            [(user.id, "sendMessage", params)],
            update_id=None,
            claimer="dead",
            now=utcnow() - dt.timedelta(minutes=1),
            lease=dt.timedelta(seconds=15),
            paced=True,
        )
    before = {o: _reminders(o) for o in ("sent", "retrying", "uncertain")}
    async with running_bot(db, settings, Clock(now), api, time) as bot:
        found = sender(bot.application)
        assert found is not None
        await found.sweep()  # the outbox's background round (as any live replica's)
        await found.sweep()  # and the next: nothing more to count
        assert bot.errors == []
    assert [m.text for m in user.messages] == ["Muistutus: listatekstit 20.11."]
    [row] = rows(db, deadline_code="listatekstit")
    assert row.status is LedgerStatus.SENT
    assert {o: _reminders(o) - before[o] for o in before} == {
        "sent": 1,
        "retrying": 0,
        "uncertain": 0,
    }

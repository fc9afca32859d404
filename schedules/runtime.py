"""The scheduler inside the bot: the leader's jobs rebuilt from the plan, catch-up,
retries and snoozes.

Nothing is pickled and no job store is shared: the scheduler leader computes the year's
send times from config.yaml and registers one job per send on the Application's job queue
(APScheduler underneath). The database ledger is the only state, so a restart, a crash or
a second process cannot send a reminder twice (see `data.ledger`).

Leadership (`install`, `elect`, `release_leadership`): of the replicas sharing a PostgreSQL
database only the holder of the advisory lock in `data.leader` runs the jobs below; the
others try again every `LEADER_RETRY_SECONDS` and the one that takes over catches up. On
SQLite the one process is always the leader. Nudges (/muistuta) go out from whichever
replica the coordinator talks to, through the same ledger.

Jobs (leader only):

* one ``reminder:<deadline>:<date>:<offset>`` job per future send of this and next year;
* ``reminders:catch-up`` once when leadership starts: claims left by stopped processes are
  sent again, their in-flight rows become uncertain; then each send of the last
  `CATCH_UP_LOOKBACK` that is less than ``catch_up_hours`` late goes to whoever has no
  ledger row yet; older ones are recorded as skipped;
* ``reminders:sweep`` every `SWEEP_SECONDS`: retries and snoozes that are due;
* ``reminders:resync`` daily: adds next year's sends to a bot that runs across New Year.

"Now" is always ``services(application).now()``, so tests drive all of it with a clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core import metrics
from core.services import services
from data import ledger
from data.leader import LeaderLock
from data.models import LedgerStatus, ReminderLedger
from schedules import housekeeping
from schedules.audience import Recipient, Snapshot, load_snapshot
from schedules.content import ReminderFacts, language_of, reminder_text
from schedules.notices import Action, Courier, Notice
from schedules.plan import Audience, Slot, SlotKey, plan_year, recipients_by_person, year_slots
from schedules.sender import (
    App,
    Claim,
    ClaimFn,
    Delivery,
    DeliveryReport,
    Outcome,
    Sender,
)

log = logging.getLogger(__name__)

#: The job callback's context (python-telegram-bot's ``CallbackContext``): only
#: ``.application`` and ``.job`` are used, so this package needs no Telegram import.
JobContext = Any

RUNTIME_KEY = "schedules.runtime"
CATCH_UP_JOB = "reminders:catch-up"
SWEEP_JOB = "reminders:sweep"
RESYNC_JOB = "reminders:resync"
LEADER_JOB = "scheduler:leader"
VERIFY_JOB = "scheduler:verify"
#: How often the leader checks that its lock's database session is alive, so that a lost
#: lock stops its reminder jobs (and turns the leader gauge to 0) within about a second.
VERIFY_SECONDS = 1.0
#: Seconds between a non-leader's tries of the leader lock (a dead leader is replaced
#: within this, well inside the required 60 s).
LEADER_RETRY_SECONDS = 15.0
SWEEP_SECONDS = 30
#: A claim older than this was left by a process that stopped before calling Telegram (a
#: live one hands a claimed row to Telegram within seconds): the sweep sends it again.
CLAIM_LEASE = dt.timedelta(minutes=2)
#: A row in flight longer than this was left by a process that died during the call (a
#: live one gets Telegram's answer, flood waits included, well within it): uncertain.
IN_FLIGHT_LEASE = dt.timedelta(minutes=10)
#: How far back the start-up catch-up looks for sends the bot may have missed.
CATCH_UP_LOOKBACK = dt.timedelta(days=60)
#: A send job that fires earlier than this before its time does nothing (clock mismatch).
EARLY_TOLERANCE = dt.timedelta(minutes=1)


@dataclass
class ReminderRuntime:
    """Per-Application state: the one sender (one courier), this process's claim name and
    whether it is the scheduler leader."""

    sender: Sender
    claimer: str
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    leader: LeaderLock | None = None
    leading: bool = False


@dataclass(frozen=True)
class SlotResult:
    """What one send did: ``status`` is sent | late | not-due | unknown."""

    key: SlotKey
    status: str
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    recorded_skipped: int = 0


def _claimer_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def runtime(application: App, *, courier: Courier | None = None) -> ReminderRuntime:
    """The application's reminder runtime, created on first use (with its ``courier``)."""
    found = application.bot_data.get(RUNTIME_KEY)
    if found is None:
        if courier is None:
            raise RuntimeError("reminders are not set up: call schedules.install first")
        claimer = _claimer_name()
        found = ReminderRuntime(Sender(application, claimer=claimer, courier=courier), claimer)
        application.bot_data[RUNTIME_KEY] = found
    return found


def setup(application: App, *, courier: Courier) -> ReminderRuntime:
    """Give the application its reminder runtime and the ``courier`` that delivers notices
    (the bot's `delivery.courier.TelegramCourier`). Enough for nudges; `install` adds the jobs."""
    return runtime(application, courier=courier)


def install(application: App, *, courier: Courier | None = None) -> None:
    """Set up the reminder jobs behind the scheduler leader lock (call after
    services.attach and `setup`, or give the ``courier`` here).

    On SQLite this process is always the leader and the jobs are registered now. On
    PostgreSQL a ``scheduler:leader`` job tries the lock at once and then every
    `LEADER_RETRY_SECONDS`; the process that gets it registers the jobs (and catches up),
    the others keep trying, so a dead leader is replaced within that interval.
    """
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("reminders need the job queue: python-telegram-bot[job-queue]")
    rt = runtime(application, courier=courier)
    if rt.leader is None:
        bind = services(application).sessions.kw.get("bind")
        rt.leader = LeaderLock(bind) if bind is not None else None
    if rt.leader is None or rt.leader.always_leader:
        _start_leading(application)
    elif not job_queue.get_jobs_by_name(LEADER_JOB):
        # The first try runs the moment the job queue starts: a one-off job, because an
        # interval job's first run is computed when the scheduler starts, which is already
        # past a ``first=0`` start date, so APScheduler would put it one interval later.
        job_queue.run_once(
            _leader_job,
            when=0,
            name=LEADER_JOB,
            job_kwargs={"misfire_grace_time": None},
        )
        job_queue.run_repeating(
            _leader_job,
            interval=LEADER_RETRY_SECONDS,
            first=LEADER_RETRY_SECONDS,
            name=LEADER_JOB,
            job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )


def is_leader(application: App) -> bool:
    """True while this process runs the reminder jobs (for /readyz, metrics, tests)."""
    found = application.bot_data.get(RUNTIME_KEY)
    return bool(found is not None and found.leading)


async def elect(application: App) -> bool:
    """Try (or verify) the leadership once; start or stop the reminder jobs to match."""
    rt = runtime(application)
    if rt.leader is None:
        return rt.leading
    held = await asyncio.to_thread(rt.leader.acquire)
    if held and not rt.leading:
        _start_leading(application)
    elif not held and rt.leading:
        log.warning("scheduler leader: leadership lost; reminder jobs stopped")
        _stop_leading(application)
    return held


async def release_leadership(application: App) -> None:
    """Graceful stop: stop the reminder jobs and give the lock up at once, so another
    replica takes over at its next try (≤ `LEADER_RETRY_SECONDS`) instead of waiting for
    this database session to end. Safe to call more than once and when not leading."""
    found = application.bot_data.get(RUNTIME_KEY)
    if found is None:
        return
    job_queue = application.job_queue
    if job_queue is not None:
        for job in job_queue.get_jobs_by_name(LEADER_JOB):
            job.schedule_removal()
    if found.leading:
        _stop_leading(application)
    if found.leader is not None:
        await asyncio.to_thread(found.leader.dispose)


async def _leader_job(context: JobContext) -> None:
    await elect(context.application)


def _job_names() -> tuple[str, ...]:
    return (
        CATCH_UP_JOB,
        SWEEP_JOB,
        RESYNC_JOB,
        VERIFY_JOB,
        housekeeping.PRUNE_JOB,
        housekeeping.ROUND_JOB,
    )


async def _verify_job(context: JobContext) -> None:
    """The leader's one-second check of its lock (one tiny query on the lock's own
    connection); a lost lock stops the reminder jobs at once."""
    application = context.application
    rt = runtime(application)
    if not rt.leading or rt.leader is None:
        return
    held = await asyncio.to_thread(rt.leader.check)
    if not held and rt.leading:
        log.warning("scheduler leader: the lock's session is gone; reminder jobs stopped")
        _stop_leading(application)


def _start_leading(application: App) -> None:
    """Register every reminder job: the sends, the catch-up now, the sweep and resync."""
    rt = runtime(application)
    job_queue = application.job_queue
    settings = services(application).settings
    rt.leading = True
    report_leadership(True)
    metrics.watch_next_send(lambda: _timestamp(next_send(application)))
    scheduled = schedule_slots(application)
    once = {"misfire_grace_time": None}
    if not job_queue.get_jobs_by_name(CATCH_UP_JOB):
        rt.caught_up.clear()
        job_queue.run_once(_catch_up_job, when=0, name=CATCH_UP_JOB, job_kwargs=once)
    if not job_queue.get_jobs_by_name(SWEEP_JOB):
        job_queue.run_repeating(
            _sweep_job,
            interval=SWEEP_SECONDS,
            first=SWEEP_SECONDS,
            name=SWEEP_JOB,
            job_kwargs={"coalesce": True, "misfire_grace_time": None},
        )
    if not job_queue.get_jobs_by_name(RESYNC_JOB):
        job_queue.run_daily(_resync_job, time=dt.time(0, 10, tzinfo=settings.tz), name=RESYNC_JOB)
    housekeeping.schedule(application)
    on_postgresql = rt.leader is not None and not rt.leader.always_leader
    if on_postgresql and not job_queue.get_jobs_by_name(VERIFY_JOB):
        job_queue.run_repeating(
            _verify_job,
            interval=VERIFY_SECONDS,
            first=VERIFY_SECONDS,
            name=VERIFY_JOB,
            job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
    log.info("reminders installed (scheduler leader): %d sends scheduled", scheduled)


def _stop_leading(application: App) -> None:
    """Remove every reminder job (sends already running finish under the ledger's rules)."""
    rt = runtime(application)
    rt.leading = False
    report_leadership(False)
    job_queue = application.job_queue
    if job_queue is None:
        return
    for job in job_queue.jobs():
        if job.name in _job_names() or (job.name or "").startswith("reminder:"):
            job.schedule_removal()


def report_leadership(leading: bool) -> None:
    """Publish whether this process is the scheduler leader: the ``scheduler_leader``
    gauge of ``core.metrics`` and a log line."""
    log.info("scheduler leader: %s", "yes" if leading else "no")
    metrics.set_scheduler_leader(leading)


def _timestamp(moment: dt.datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def schedule_slots(application: App) -> int:
    """One job per future send of this and next year that has none yet; returns how many.

    Jobs are placed relative to the services clock (``when`` = time until the send), which
    in production is the wall clock; misfires are never dropped by APScheduler because
    `run_slot` itself decides between sending late and recording a skip.
    """
    svc = services(application)
    job_queue = application.job_queue
    now = svc.now().astimezone(dt.UTC)
    year = now.astimezone(svc.settings.tz).year
    added = 0
    for slot in [*year_slots(svc.settings, year), *year_slots(svc.settings, year + 1)]:
        due = slot.at.astimezone(dt.UTC)  # UTC: same-zone subtraction would use wall time
        if due <= now or job_queue.get_jobs_by_name(slot.key.name):
            continue
        job_queue.run_once(
            _slot_job,
            when=due - now,
            name=slot.key.name,
            data=slot.key,
            job_kwargs={"misfire_grace_time": None},
        )
        added += 1
    return added


async def _slot_job(context: JobContext) -> None:
    assert context.job is not None
    try:
        result = await run_slot(context.application, context.job.data)
    finally:
        metrics.scheduler_ran()
    log.info("reminder %s: %s", result.key.name, result)


async def _catch_up_job(context: JobContext) -> None:
    try:
        await catch_up(context.application)
    finally:
        metrics.scheduler_ran()


async def _sweep_job(context: JobContext) -> None:
    try:
        await sweep(context.application)
    finally:
        metrics.scheduler_ran()


def next_send(application: App) -> dt.datetime | None:
    """When this process's next reminder send is due (None when not leading or none)."""
    if not is_leader(application) or application.job_queue is None:
        return None
    times = [
        job.next_t
        for job in application.job_queue.jobs()
        if (job.name or "").startswith("reminder:") and job.next_t is not None
    ]
    return min(times) if times else None


async def _resync_job(context: JobContext) -> None:
    schedule_slots(context.application)


def _find_slot(application: App, key: SlotKey) -> Slot | None:
    settings = services(application).settings
    return next(
        (s for s in year_slots(settings, key.deadline_date.year) if s.key == key),
        None,
    )


def build_notice(
    application: App,
    *,
    facts: ReminderFacts,
    snapshot: Snapshot,
    recipient: Recipient,
    audiences: Sequence[Audience],
) -> Notice:
    """The notice for one person: all their audiences in one text, and its actions."""
    settings = services(application).settings
    language = language_of(recipient.language, settings.default_language)
    text = reminder_text(
        facts,
        language=language,
        audiences=audiences,
        snapshot=snapshot,
        division_id=recipient.division_id,
    )
    actions: list[Action] = []
    if Audience.CONTACT in audiences:
        actions.append(Action.REPORT_NOW)
    # One snooze, and only while tomorrow is not past the deadline (issue 9, item 12).
    if facts.kind != ledger.KIND_SNOOZE and facts.today < facts.deadline_date:
        actions.append(Action.SNOOZE)
    return Notice(
        person_id=recipient.person_id,
        chat_id=recipient.chat_id,
        language=language,
        text=text,
        actions=tuple(actions),
        deadline_code=facts.deadline.code,
        deadline_date=facts.deadline_date,
        kind=facts.kind,
    )


def build_delivery(
    application: App,
    *,
    facts: ReminderFacts,
    snapshot: Snapshot,
    recipient: Recipient,
    audiences: Sequence[Audience],
    claim: ClaimFn,
) -> Delivery:
    """The notice for one person and how to claim its ledger row."""
    notice = build_notice(
        application, facts=facts, snapshot=snapshot, recipient=recipient, audiences=audiences
    )
    return Delivery(notice=notice, claim=claim)


def new_claim(
    key: SlotKey,
    person_id: int,
    *,
    audience: Audience,
    kind: str,
    due_at: dt.datetime,
    claimer: str,
) -> ClaimFn:
    """Claim by inserting the ledger row of (send, person) — the first insert wins."""
    ledger_key = ledger.LedgerKey(key.deadline_code, key.deadline_date, key.offset_days, person_id)

    def claim(session: Session, now: dt.datetime) -> Claim | None:
        ledger_id = ledger.claim_new(
            session,
            ledger_key,
            audience=audience.value,
            kind=kind,
            due_at=due_at,
            now=now,
            claimer=claimer,
        )
        return None if ledger_id is None else Claim(ledger_id, 1)

    return claim


async def run_slot(
    application: App, key: SlotKey, *, created_before: dt.datetime | None = None
) -> SlotResult:
    """Send one planned reminder to its audience as of now, or record it skipped if late.

    ``created_before`` (catch-up) leaves out people registered after the send time: they
    did not miss it, they were not there yet.
    """
    svc = services(application)
    rt = runtime(application)
    now = svc.now().astimezone(dt.UTC)
    slot = _find_slot(application, key)
    if slot is None:
        log.warning("reminder %s is no longer in the configuration", key.name)
        return SlotResult(key, "unknown")
    due = slot.at.astimezone(dt.UTC)
    if now < due - EARLY_TOLERANCE:
        return SlotResult(key, "not-due")
    year = key.deadline_date.year
    snapshot, recorded = await rt.sender.db(
        lambda s: (
            load_snapshot(s, year),
            ledger.recorded_people(
                s,
                deadline_code=key.deadline_code,
                deadline_date=key.deadline_date,
                offset_days=key.offset_days,
            ),
        )
    )
    planned = plan_year(svc.settings, year, audiences=snapshot.audiences)
    persons = recipients_by_person(p for p in planned if p.slot == key)
    persons = {
        pid: audiences
        for pid, audiences in persons.items()
        if pid not in recorded
        and (created_before is None or snapshot.recipients[pid].created_at <= created_before)
    }
    grace = dt.timedelta(hours=svc.settings.reminders.catch_up_hours)
    if now - due > grace:
        late_hours = (now - due).total_seconds() / 3600

        def record(session: Session) -> int:
            return sum(
                ledger.record_skipped(
                    session,
                    ledger.LedgerKey(key.deadline_code, key.deadline_date, key.offset_days, pid),
                    audience=audiences[0].value,
                    kind=ledger.KIND_SCHEDULED,
                    due_at=due,
                    now=now,
                    reason=f"missed: {late_hours:.1f} h late (the bot was not running)",
                )
                for pid, audiences in persons.items()
            )

        count = await rt.sender.db(record)
        metrics.reminder_outcome("skipped", count)
        return SlotResult(key, "late", recorded_skipped=count)
    facts = ReminderFacts(
        slot.deadline, slot.deadline_date, now.astimezone(svc.settings.tz).date(), "scheduled"
    )
    deliveries = [
        build_delivery(
            application,
            facts=facts,
            snapshot=snapshot,
            recipient=snapshot.recipients[pid],
            audiences=audiences,
            claim=new_claim(
                key,
                pid,
                audience=audiences[0],
                kind=ledger.KIND_SCHEDULED,
                due_at=due,
                claimer=rt.claimer,
            ),
        )
        for pid, audiences in persons.items()
    ]
    report = await rt.sender.deliver(deliveries)
    return SlotResult(key, "sent", sent=report.sent, failed=report.failed, skipped=report.skipped)


async def catch_up(application: App) -> list[SlotResult]:
    """Start-up (or taking over as leader): settle what dead processes left, handle missed
    sends, then due retries and snoozes.

    Every claimed or in-flight row of another process counts as left behind: claimed ones
    are sent again (nothing reached Telegram), in-flight ones become uncertain. A live
    process that still holds such a row (a nudge on another replica) is safe: it cannot
    start its call once the row is released, and its real outcome overrides "uncertain".
    """
    svc = services(application)
    rt = runtime(application)
    try:
        now = svc.now().astimezone(dt.UTC)
        released, uncertain = await rt.sender.db(
            lambda s: (
                ledger.release_stale_claims(s, now=now, older_than=now, claimer=rt.claimer),
                ledger.settle_interrupted_sends(s, now=now, older_than=now, claimer=rt.claimer),
            )
        )
        if released:
            log.warning("%d reminders were claimed but not sent before a stop; sending", released)
        if uncertain:
            log.warning("%d reminders were interrupted mid-send; delivery uncertain", uncertain)
            metrics.reminder_outcome("uncertain", uncertain)
        since = now - CATCH_UP_LOOKBACK
        tz = svc.settings.tz
        years = sorted({since.astimezone(tz).year, now.astimezone(tz).year})
        results = []
        for year in years:
            for slot in year_slots(svc.settings, year):
                due = slot.at.astimezone(dt.UTC)
                if since <= due <= now:
                    results.append(await run_slot(application, slot.key, created_before=due))
        await sweep(application)
        return results
    finally:
        rt.caught_up.set()


def _too_late(row: ReminderLedger, now: dt.datetime, grace: dt.timedelta) -> bool:
    return row.next_attempt_at is not None and now - row.next_attempt_at > grace


async def sweep(application: App) -> DeliveryReport:
    """Expire dead claims, then send the retries and snoozes whose time has come.

    A row that is due but pointless — too late, the person inactive, or no longer in any
    audience (their division completed) — is claimed and recorded as skipped instead.
    """
    svc = services(application)
    rt = runtime(application)
    now = svc.now().astimezone(dt.UTC)
    grace = dt.timedelta(hours=svc.settings.reminders.catch_up_hours)

    def load(session: Session) -> list[ReminderLedger]:
        ledger.release_stale_claims(session, now=now, older_than=now - CLAIM_LEASE)
        ledger.settle_interrupted_sends(session, now=now, older_than=now - IN_FLIGHT_LEASE)
        return ledger.due_again(session, now=now)

    rows = await rt.sender.db(load)
    report = DeliveryReport()
    if not rows:
        return report
    snapshots: dict[int, Snapshot] = {}
    deliveries: list[Delivery] = []
    skips: list[tuple[ReminderLedger, str]] = []
    for row in rows:
        year = row.deadline_date.year
        if year not in snapshots:
            snapshots[year] = await rt.sender.db(lambda s, y=year: load_snapshot(s, y))  # type: ignore[misc]
        snapshot = snapshots[year]
        deadline = next(
            (
                d
                for d, day in svc.settings.calendar.dates_for(year)
                if d.code == row.deadline_code and day == row.deadline_date
            ),
            None,
        )
        recipient = snapshot.recipients.get(row.person_id)
        audiences = snapshot.audiences_of(row.person_id, row.deadline_code)
        if row.audience == Audience.CONTACT.value and row.kind == ledger.KIND_NUDGE:
            audiences = [a for a in audiences if a is Audience.CONTACT]  # a nudge stays one
        if _too_late(row, now, grace):
            skips.append((row, "too late to send"))
        elif deadline is None:
            skips.append((row, "the deadline is no longer configured"))
        elif recipient is None or not audiences:
            skips.append((row, "no longer needed"))
        else:
            facts = ReminderFacts(
                deadline, row.deadline_date, now.astimezone(svc.settings.tz).date(), row.kind
            )
            deliveries.append(
                build_delivery(
                    application,
                    facts=facts,
                    snapshot=snapshot,
                    recipient=recipient,
                    audiences=audiences,
                    claim=_due_claim(row, rt.claimer),
                )
            )
    for row, reason in skips:

        def skip(session: Session, row: ReminderLedger = row, reason: str = reason) -> bool:
            if ledger.claim_due(session, row.id, expected=row.status, now=now, claimer=rt.claimer):
                return ledger.mark_skipped(session, row.id, now=now, reason=reason)
            return False

        if await rt.sender.db(skip):
            log.info("reminder %s skipped: %s", row.id, reason)
            report.add(Outcome.SKIPPED)
            metrics.reminder_outcome("skipped")
    report.merge(await rt.sender.deliver(deliveries))
    return report


def _due_claim(row: ReminderLedger, claimer: str) -> ClaimFn:
    """Claim a retry or snooze by moving its row from the status it was read in."""
    row_id, expected, attempts = row.id, LedgerStatus(row.status), row.attempts

    def claim(session: Session, now: dt.datetime) -> Claim | None:
        won = ledger.claim_due(session, row_id, expected=expected, now=now, claimer=claimer)
        return Claim(row_id, attempts + 1) if won else None

    return claim

"""The coordinator's nudge (/muistuta): an unscheduled reminder to late divisions' contacts.

It goes through the same pacing and ledger as the planned reminders (kind ``nudge``). The
ledger key is the nearest remindable deadline and the days left to it, so pressing
/muistuta twice on one day, or on the day a planned reminder with the same offset went
out, does not message anyone twice: those people count as skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.services import services
from data import audit, ledger
from data.models import Person, Role
from schedules.audience import Snapshot, load_snapshot
from schedules.content import ReminderFacts
from schedules.plan import CONTACT_DEADLINES, Audience, SlotKey
from schedules.runtime import build_delivery, new_claim, runtime
from schedules.sender import App
from settings import Deadline, Settings


@dataclass(frozen=True)
class NudgeResult:
    """Counts of one nudge. ``failed`` includes sends waiting for a retry."""

    sent: int
    failed: int
    skipped: int
    deadline_code: str | None = None
    deadline_date: dt.date | None = None
    #: Requested divisions that needed no nudge, and those with no contact to nudge.
    complete_divisions: tuple[str, ...] = ()
    divisions_without_contacts: tuple[str, ...] = ()
    #: Requested divisions whose report was submitted with answers missing: nothing is
    #: sent (their contacts cannot change a submitted report), but they are not complete.
    submitted_with_gaps: tuple[str, ...] = ()


def nudge_deadline(settings: Settings, today: dt.date) -> tuple[Deadline, dt.date]:
    """The contacts' nearest remindable deadline of this year from today on
    (`CONTACT_DEADLINES`: a nudge goes to contacts, so it names their deadline, not the
    staff's); after the last one, the last one (an overdue deadline, negative offset)."""
    dates = [
        (d, day)
        for d, day in settings.calendar.dates_for(today.year)
        if d.remind and d.code in CONTACT_DEADLINES
    ]
    if not dates:
        raise ValueError("no deadline with remind: true in the configuration")
    upcoming = [(d, day) for d, day in dates if day >= today]
    return upcoming[0] if upcoming else dates[-1]


async def send_nudge(
    application: App, *, actor_person_id: int, division_ids: list[int] | None
) -> NudgeResult:
    """Remind the contacts of the given (or all) incomplete divisions now.

    Raises PermissionError unless the actor is an active coordinator or strategy staff
    member (the command checks first; this keeps the function safe on its own).
    """
    svc = services(application)
    rt = runtime(application)
    now = svc.now()
    today = now.astimezone(svc.settings.tz).date()
    deadline, day = nudge_deadline(svc.settings, today)
    key = SlotKey(deadline.code, day, (day - today).days)

    def prepare(session: Session) -> tuple[Snapshot, list[int], set[int]]:
        actor = session.get(Person, actor_person_id)
        if actor is None or not actor.active or not {Role.COORDINATOR, Role.STAFF} & actor.role_set:
            raise PermissionError("only coordinators and strategy staff can nudge")
        snapshot = load_snapshot(session, day.year)
        known = [p.division_id for p in snapshot.progress]
        targets = known if division_ids is None else [d for d in known if d in set(division_ids)]
        audit.record(
            session,
            actor.id,
            "nudge",
            "reminder",
            None,
            None,
            {"division_ids": targets, "deadline": deadline.code, "date": day.isoformat()},
        )
        recorded = ledger.recorded_people(
            session,
            deadline_code=key.deadline_code,
            deadline_date=key.deadline_date,
            offset_days=key.offset_days,
        )
        return snapshot, targets, recorded

    snapshot, targets, recorded = await rt.sender.db(prepare)
    complete: list[str] = []
    with_gaps: list[str] = []
    without: list[str] = []
    person_ids: list[int] = []
    for division_id in targets:
        progress = snapshot.division(division_id)
        assert progress is not None
        contacts = snapshot.audiences.contacts.get(division_id, ())
        if progress.answers_complete:
            complete.append(progress.code)
        elif progress.submitted_with_gaps:
            with_gaps.append(progress.code)
        elif not contacts:
            without.append(progress.code)
        else:
            person_ids.extend(pid for pid in contacts if pid not in person_ids)
    skipped = sum(1 for pid in person_ids if pid in recorded)
    facts = ReminderFacts(deadline, day, today, ledger.KIND_NUDGE)
    deliveries = [
        build_delivery(
            application,
            facts=facts,
            snapshot=snapshot,
            recipient=snapshot.recipients[pid],
            audiences=[Audience.CONTACT],
            claim=new_claim(
                key,
                pid,
                audience=Audience.CONTACT,
                kind=ledger.KIND_NUDGE,
                due_at=now,
                claimer=rt.claimer,
            ),
        )
        for pid in person_ids
        if pid not in recorded
    ]
    report = await rt.sender.deliver(deliveries)
    return NudgeResult(
        sent=report.sent,
        failed=report.failed,
        skipped=skipped + report.skipped,
        deadline_code=deadline.code,
        deadline_date=day,
        complete_divisions=tuple(complete),
        divisions_without_contacts=tuple(without),
        submitted_with_gaps=tuple(with_gaps),
    )

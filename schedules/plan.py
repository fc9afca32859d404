"""The year's reminder plan: a pure function of configuration, date and who needs reminding.

Everything that decides *when* and *to whom* lives here, without I/O, so the rules (offsets,
Helsinki time across the change to winter time, the move off weekends and holidays, the
merge of two reminders landing on one day, the audiences) are tested exhaustively without
a database or a bot. The database side is `schedules.audience.load_audiences`, which builds
the `Audiences` snapshot this module consumes; the runtime calls `plan_year` again when a
reminder is due, so the recipients are those of that moment, not of start-up.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from schedules.dates import local_datetime, previous_working_day
from settings import Deadline, Settings


class Audience(enum.StrEnum):
    """Who a reminder is for; the order is the order of the message's sections."""

    CONTACT = "contact"
    COORDINATOR = "coordinator"
    STAFF = "staff"


#: Deadlines at which strategy staff generate documents (list texts, Excel, final package):
#: staff are reminded only ahead of these, with what can already be generated.
STAFF_DEADLINES = frozenset({"listatekstit", "valmis"})
#: Deadlines the divisions' answers are needed for (the management group's status slide and
#: the list texts with their Excel attachments): contacts are reminded only ahead of these,
#: so a contact's reminder names their own deadline, never the staff's final one ("valmis").
CONTACT_DEADLINES = frozenset({"johtoryhma_aineisto", "listatekstit"})


@dataclass(frozen=True)
class Audiences:
    """Who could be reminded, as read from the database at one moment.

    ``contacts`` lists each division's contacts; ``incomplete_divisions`` is the set of
    divisions whose data is not complete (`data.progress` decides). Which of these are
    reminded for a given deadline is the plan's rule, not the snapshot's.
    """

    coordinators: tuple[int, ...] = ()
    staff: tuple[int, ...] = ()
    contacts: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    incomplete_divisions: frozenset[int] = frozenset()

    def recipients(self, audience: Audience, deadline_code: str) -> tuple[int, ...]:
        """Person ids of one audience for one deadline, by the issue's rules."""
        if audience is Audience.COORDINATOR:
            return tuple(sorted(set(self.coordinators)))
        if audience is Audience.STAFF:
            return tuple(sorted(set(self.staff))) if deadline_code in STAFF_DEADLINES else ()
        if deadline_code not in CONTACT_DEADLINES:
            return ()
        return tuple(
            sorted(
                {
                    person_id
                    for division_id, people in self.contacts.items()
                    if division_id in self.incomplete_divisions
                    for person_id in people
                }
            )
        )


#: What ``plan_year`` accepts as audiences: one snapshot for every reminder, a mapping from
#: deadline code to snapshot (a missing code means nobody), or a callable asked per
#: (deadline, deadline date, offset).
AudienceSource = Audiences | Mapping[str, Audiences] | Callable[[Deadline, dt.date, int], Audiences]

NOBODY = Audiences()


@dataclass(frozen=True)
class SlotKey:
    """One send: a deadline of a year at one (merged) offset. With a person, a ledger key."""

    deadline_code: str
    deadline_date: dt.date
    offset_days: int

    @property
    def name(self) -> str:
        """Stable job name: the same slot always gets the same name across restarts."""
        return f"reminder:{self.deadline_code}:{self.deadline_date.isoformat()}:{self.offset_days}"


@dataclass(frozen=True)
class PlannedReminder:
    """One audience of one reminder send.

    ``offset_days`` is the ledger's offset: when several configured offsets land on the
    same working day they become one send, keyed by the smallest of them (the most urgent);
    ``offsets`` lists them all. ``moved_from`` is the calendar day the reminder would have
    had before moving off a weekend or holiday.
    """

    deadline: Deadline
    deadline_date: dt.date
    offset_days: int
    offsets: tuple[int, ...]
    at: dt.datetime
    audience: Audience
    recipients: tuple[int, ...]
    moved_from: dt.date | None = None

    @property
    def deadline_code(self) -> str:
        return self.deadline.code

    @property
    def slot(self) -> SlotKey:
        return SlotKey(self.deadline.code, self.deadline_date, self.offset_days)


@dataclass(frozen=True)
class Slot:
    """The send times of a year, before audiences: what the job queue schedules."""

    deadline: Deadline
    deadline_date: dt.date
    offset_days: int
    offsets: tuple[int, ...]
    at: dt.datetime
    moved_from: dt.date | None

    @property
    def key(self) -> SlotKey:
        return SlotKey(self.deadline.code, self.deadline_date, self.offset_days)


def _resolve(source: AudienceSource, deadline: Deadline, day: dt.date, offset: int) -> Audiences:
    if isinstance(source, Audiences):
        return source
    if isinstance(source, Mapping):
        return source.get(deadline.code, NOBODY)
    return source(deadline, day, offset)


def year_slots(settings: Settings, year: int) -> list[Slot]:
    """Every reminder send of the year, in time order (deadlines with ``remind: true``).

    Each configured offset gives a calendar day ``deadline - offset``; a day that is not a
    working day moves to the previous working day; offsets of the same deadline that end
    up on the same day merge into one send.
    """
    tz = settings.tz
    time_of_day = settings.reminders.time_of_day
    offsets = sorted(set(settings.reminders.offsets_days), reverse=True)
    slots: list[Slot] = []
    for deadline, deadline_date in settings.calendar.dates_for(year):
        if not deadline.remind:
            continue
        by_day: dict[dt.date, list[int]] = {}
        for offset in offsets:
            nominal = deadline_date - dt.timedelta(days=offset)
            by_day.setdefault(previous_working_day(nominal), []).append(offset)
        for day, merged in by_day.items():
            key_offset = min(merged)
            nominal = deadline_date - dt.timedelta(days=key_offset)
            slots.append(
                Slot(
                    deadline=deadline,
                    deadline_date=deadline_date,
                    offset_days=key_offset,
                    offsets=tuple(sorted(merged, reverse=True)),
                    at=local_datetime(day, time_of_day, tz),
                    moved_from=nominal if nominal != day else None,
                )
            )
    return sorted(slots, key=lambda s: (s.at, s.deadline_date, s.deadline.code))


def plan_year(settings: Settings, year: int, *, audiences: AudienceSource) -> list[PlannedReminder]:
    """The year's reminders, one entry per send and audience, in time order.

    Coordinators are always reminded; contacts only while their division is incomplete and
    only ahead of their own deadlines (`CONTACT_DEADLINES`); strategy staff only ahead of
    the document deadlines (`STAFF_DEADLINES`). An audience with no recipients is still
    listed (with none) where the rule includes it, so the operator sees that the send exists.
    """
    plan: list[PlannedReminder] = []
    for slot in year_slots(settings, year):
        snapshot = _resolve(audiences, slot.deadline, slot.deadline_date, slot.offset_days)
        for audience in Audience:
            if audience is Audience.STAFF and slot.deadline.code not in STAFF_DEADLINES:
                continue
            if audience is Audience.CONTACT and slot.deadline.code not in CONTACT_DEADLINES:
                continue
            plan.append(
                PlannedReminder(
                    deadline=slot.deadline,
                    deadline_date=slot.deadline_date,
                    offset_days=slot.offset_days,
                    offsets=slot.offsets,
                    at=slot.at,
                    audience=audience,
                    recipients=snapshot.recipients(audience, slot.deadline.code),
                    moved_from=slot.moved_from,
                )
            )
    return plan


def recipients_by_person(reminders: Iterable[PlannedReminder]) -> dict[int, list[Audience]]:
    """Person id → the audiences they belong to in one send (one message per person)."""
    result: dict[int, list[Audience]] = {}
    for reminder in reminders:
        for person_id in reminder.recipients:
            audiences = result.setdefault(person_id, [])
            if reminder.audience not in audiences:
                audiences.append(reminder.audience)
    order = list(Audience)
    return {pid: sorted(found, key=order.index) for pid, found in result.items()}

"""The pure plan: dates, Helsinki times across the DST change, moves, merges, audiences."""

from __future__ import annotations

import datetime as dt

from i18n.formats import format_date, format_time
from schedules.dates import is_working_day, local_datetime, previous_working_day
from schedules.plan import (
    Audience,
    Audiences,
    PlannedReminder,
    plan_year,
    recipients_by_person,
    year_slots,
)
from settings import Deadline, Settings

from .conftest import HELSINKI, local

NOBODY = Audiences()


def _with_overrides(settings: Settings, overrides: dict[int, dict[str, str]]) -> Settings:
    calendar = settings.calendar.model_copy(update={"overrides": overrides})
    return settings.model_copy(update={"calendar": calendar})


def _sends(plan: list[PlannedReminder]) -> list[tuple[str, int, tuple[int, ...], str]]:
    """(deadline, offset, merged offsets, local time with UTC offset) once per send."""
    seen = []
    for item in plan:
        row = (item.deadline_code, item.offset_days, item.offsets, item.at.isoformat())
        if row not in seen:
            seen.append(row)
    return seen


def test_default_2026_plan_dates_times_moves_and_merges(settings: Settings) -> None:
    plan = plan_year(settings, 2026, audiences=NOBODY)
    assert _sends(plan) == [
        # 10.10.2026 is a Saturday: 26.9. and 3.10. are Saturdays too; 1 and 0 days before
        # both land on Friday 9.10. and merge. Summer time: 9.00 is UTC+3.
        ("johtoryhma_aineisto", 14, (14,), "2026-09-25T09:00:00+03:00"),
        ("johtoryhma_aineisto", 7, (7,), "2026-10-02T09:00:00+03:00"),
        ("johtoryhma_aineisto", 3, (3,), "2026-10-07T09:00:00+03:00"),
        ("johtoryhma_aineisto", 0, (1, 0), "2026-10-09T09:00:00+03:00"),
        # After the last Sunday of October (25.10.2026) it is winter time: UTC+2.
        ("listatekstit", 14, (14,), "2026-11-06T09:00:00+02:00"),
        ("listatekstit", 7, (7,), "2026-11-13T09:00:00+02:00"),
        ("valmis", 14, (14,), "2026-11-16T09:00:00+02:00"),
        ("listatekstit", 3, (3,), "2026-11-17T09:00:00+02:00"),
        ("listatekstit", 1, (1,), "2026-11-19T09:00:00+02:00"),
        ("listatekstit", 0, (0,), "2026-11-20T09:00:00+02:00"),
        ("valmis", 7, (7,), "2026-11-23T09:00:00+02:00"),
        # 29.11.2026 is a Sunday: 1 day before moves to Friday 27.11. = 3 days before.
        ("valmis", 1, (3, 1), "2026-11-27T09:00:00+02:00"),
        ("valmis", 0, (0,), "2026-11-30T09:00:00+02:00"),
    ]
    # The 22.10. presentation has remind: false.
    assert "johtoryhma_esittely" not in {p.deadline_code for p in plan}
    # Same wall-clock time, different instants: 06:00 UTC in summer, 07:00 UTC in winter.
    utc_hours = {p.at.astimezone(dt.UTC).hour for p in plan if p.at.month == 10}
    assert utc_hours == {6}
    assert {p.at.astimezone(dt.UTC).hour for p in plan if p.at.month == 11} == {7}
    for item in plan:
        assert item.at.tzinfo is not None and is_working_day(item.at.date())
        assert (item.at.hour, item.at.minute) == (9, 0)


def test_moved_from_names_the_original_day(settings: Settings) -> None:
    slots = {(s.deadline.code, s.offset_days): s for s in year_slots(settings, 2026)}
    assert slots[("johtoryhma_aineisto", 0)].moved_from == dt.date(2026, 10, 10)
    assert slots[("johtoryhma_aineisto", 3)].moved_from is None
    assert slots[("valmis", 1)].moved_from == dt.date(2026, 11, 29)


def test_sends_across_the_dst_change_keep_9_00_local(settings: Settings) -> None:
    # A deadline on Friday 30.10.2026 has sends on both sides of Sunday 25.10.
    moved = _with_overrides(settings, {2026: {"johtoryhma_aineisto": "30.10."}})
    sends = {
        s.offset_days: s.at
        for s in year_slots(moved, 2026)
        if s.deadline.code == "johtoryhma_aineisto"
    }
    assert sends[7] == local(2026, 10, 23) and sends[7].utcoffset() == dt.timedelta(hours=3)
    assert sends[3] == local(2026, 10, 27) and sends[3].utcoffset() == dt.timedelta(hours=2)
    # Four calendar days apart, but 4 days and 1 hour of real time. (Python subtracts two
    # datetimes with the same tzinfo as wall times, so compare instants in UTC.)
    assert sends[3].astimezone(dt.UTC) - sends[7].astimezone(dt.UTC) == dt.timedelta(
        days=4, hours=1
    )
    assert format_time(sends[3]) == "9.00" and format_date(sends[3].date()) == "27.10.2026"


def test_weekday_public_holidays_move_to_the_previous_working_day(settings: Settings) -> None:
    # 7.12.2027 is a Tuesday; the day before is Independence Day (Monday 6.12.), and 3 days
    # before is a Saturday: both move to Friday 3.12. and merge.
    moved = _with_overrides(settings, {2027: {"listatekstit": "7.12."}})
    sends = [
        (s.offsets, s.at.date())
        for s in year_slots(moved, 2027)
        if s.deadline.code == "listatekstit"
    ]
    assert sends == [
        ((14,), dt.date(2027, 11, 23)),
        ((7,), dt.date(2027, 11, 30)),
        ((3, 1), dt.date(2027, 12, 3)),
        ((0,), dt.date(2027, 12, 7)),
    ]


def test_christmas_and_christmas_eve_are_skipped() -> None:
    # 25.12.2026 is a Friday (Christmas), 24.12. Christmas Eve, then Wednesday 23.12.
    assert previous_working_day(dt.date(2026, 12, 25)) == dt.date(2026, 12, 23)
    assert previous_working_day(dt.date(2026, 12, 27)) == dt.date(2026, 12, 23)
    assert previous_working_day(dt.date(2026, 10, 31)) == dt.date(2026, 10, 30)  # pyhäinpäivä
    assert previous_working_day(dt.date(2026, 11, 18)) == dt.date(2026, 11, 18)


def test_custom_offsets_and_send_time(settings: Settings) -> None:
    reminders = settings.reminders.model_copy(
        update={"offsets_days": [2, 2, 21], "send_time": "14.30"}
    )
    custom = settings.model_copy(update={"reminders": reminders})
    sends = [(s.offsets, s.at) for s in year_slots(custom, 2026) if s.deadline.code == "valmis"]
    assert sends == [((21,), local(2026, 11, 9, 14, 30)), ((2,), local(2026, 11, 27, 14, 30))]


def test_a_wall_time_in_the_spring_gap_becomes_a_real_instant() -> None:
    # 29.3.2026 clocks jump from 3.00 to 4.00 in Helsinki: 3.30 does not exist.
    at = local_datetime(dt.date(2026, 3, 29), dt.time(3, 30), HELSINKI)
    assert at.isoformat() == "2026-03-29T04:30:00+03:00"


AUDIENCES = Audiences(
    coordinators=(1, 2),
    staff=(3,),
    contacts={10: (4, 5), 11: (6,), 12: ()},
    incomplete_divisions=frozenset({10, 12}),
)


def test_audiences_coordinators_always_contacts_while_incomplete_staff_before_documents(
    settings: Settings,
) -> None:
    plan = plan_year(settings, 2026, audiences=AUDIENCES)
    by_deadline: dict[str, dict[Audience, set[tuple[int, ...]]]] = {}
    for item in plan:
        by_deadline.setdefault(item.deadline_code, {}).setdefault(item.audience, set()).add(
            item.recipients
        )
    assert by_deadline["johtoryhma_aineisto"] == {
        Audience.COORDINATOR: {(1, 2)},
        Audience.CONTACT: {(4, 5)},  # division 11 is complete: its contact is left out
    }
    assert by_deadline["listatekstit"] == {
        Audience.COORDINATOR: {(1, 2)},
        Audience.CONTACT: {(4, 5)},
        Audience.STAFF: {(3,)},
    }
    # "valmis" is the staff's final deadline, not the contacts' (issue 16, item 11).
    assert by_deadline["valmis"] == {Audience.COORDINATOR: {(1, 2)}, Audience.STAFF: {(3,)}}


def test_when_every_division_is_complete_contacts_get_nothing(settings: Settings) -> None:
    done = Audiences(coordinators=(1,), contacts={10: (4,)}, incomplete_divisions=frozenset())
    plan = plan_year(settings, 2026, audiences=done)
    assert all(p.recipients == () for p in plan if p.audience is Audience.CONTACT)
    assert all(p.recipients == (1,) for p in plan if p.audience is Audience.COORDINATOR)


def test_audience_source_can_be_a_mapping_or_a_callable(settings: Settings) -> None:
    mapping = plan_year(settings, 2026, audiences={"valmis": AUDIENCES})
    assert {p.deadline_code for p in mapping if p.recipients} == {"valmis"}
    asked: list[tuple[str, dt.date, int]] = []

    def source(deadline: Deadline, day: dt.date, offset: int) -> Audiences:
        asked.append((deadline.code, day, offset))
        return AUDIENCES if offset == 0 else NOBODY

    plan = plan_year(settings, 2026, audiences=source)
    assert ("johtoryhma_aineisto", dt.date(2026, 10, 10), 0) in asked
    assert {p.offset_days for p in plan if p.recipients} == {0}


def test_one_message_per_person_with_all_their_audiences(settings: Settings) -> None:
    both = Audiences(
        coordinators=(1,), staff=(1, 3), contacts={10: (1,)}, incomplete_divisions=frozenset({10})
    )
    send = [
        p for p in plan_year(settings, 2026, audiences=both) if p.deadline_code == "listatekstit"
    ]
    first = [p for p in send if p.offset_days == 14]
    assert recipients_by_person(first) == {
        1: [Audience.CONTACT, Audience.COORDINATOR, Audience.STAFF],
        3: [Audience.STAFF],
    }

"""/muistuta's engine: send_nudge through the same pacing and ledger."""

from __future__ import annotations

import datetime as dt

import pytest

from data import audit, catalog, ledger
from data.models import LedgerStatus, Role
from localtg import LocalBotApi
from schedules import NudgeResult, send_nudge
from schedules import runtime as rt
from schedules.plan import SlotKey
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, Clock, People, VirtualTime, complete_division, local, running_bot


def division_id(db: Database, code: str) -> int:
    with db.session() as s:
        division = catalog.division_by_code(s, code)
        assert division is not None
        return division.id


async def test_nudge_reaches_contacts_of_incomplete_divisions_once_a_day(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    coordinator, coord_user = folks.add(Role.COORDINATOR)
    late = [folks.add(Role.CONTACT, division="SOTE") for _ in range(2)]
    _done, done_user = folks.add(Role.CONTACT, division="KYMP")
    _kuva, kuva_user = folks.add(Role.CONTACT, division="KUVA")
    complete_division(db, "KYMP")
    clock = Clock(local(YEAR, 11, 18, 14, 0))
    wanted = [division_id(db, c) for c in ("SOTE", "KYMP", "KASKO")]
    async with running_bot(db, settings, clock, api, time) as bot:
        first = await send_nudge(bot.application, actor_person_id=coordinator, division_ids=wanted)
        second = await send_nudge(bot.application, actor_person_id=coordinator, division_ids=wanted)
        assert bot.errors == []
    assert first == NudgeResult(
        sent=2,
        failed=0,
        skipped=0,
        deadline_code="listatekstit",
        deadline_date=dt.date(YEAR, 11, 20),
        complete_divisions=("KYMP",),
        divisions_without_contacts=("KASKO",),
    )
    assert (second.sent, second.skipped) == (0, 2)  # pressed twice: nobody gets two
    for _pid, user in late:
        (message,) = user.messages
        assert message.text.startswith(
            "Koordinaattori pyytää sinua täydentämään toimialasi tiedot."
        )
        assert "Määräaika: pe 20.11.2026 (2 päivän päästä)" in message.text
        assert message.buttons == [["Raportoi nyt", "Muistuta huomenna"]]
    assert done_user.messages == [] and kuva_user.messages == [] and coord_user.messages == []
    with db.session() as s:
        recorded = ledger.rows_for(s, deadline_code="listatekstit")
        assert {(r.kind, r.offset_days, r.audience, r.status) for r in recorded} == {
            ("nudge", 2, "contact", LedgerStatus.SENT)
        }
        assert [e.action for e in audit.events(s) if e.entity == "reminder"] == ["nudge", "nudge"]


async def test_a_nudge_on_the_day_of_a_planned_reminder_does_not_double_up(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    coordinator, _ = folks.add(Role.COORDINATOR)
    _contact, user = folks.add(Role.CONTACT, division="SOTE")
    clock = Clock(local(YEAR, 11, 17, 9, 0))  # 3 days before 20.11.: a planned send
    async with running_bot(db, settings, clock, api, time) as bot:
        await rt.run_slot(bot.application, SlotKey("listatekstit", dt.date(YEAR, 11, 20), 3))
        clock.advance(hours=2)
        result = await send_nudge(bot.application, actor_person_id=coordinator, division_ids=None)
    assert (result.sent, result.skipped) == (0, 1)
    assert len(user.messages) == 1


async def test_after_the_last_deadline_a_nudge_is_about_the_overdue_one(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    coordinator, _ = folks.add(Role.COORDINATOR)
    _contact, user = folks.add(Role.CONTACT, division="SOTE")
    async with running_bot(db, settings, Clock(local(YEAR, 12, 2, 10)), api, time) as bot:
        result = await send_nudge(bot.application, actor_person_id=coordinator, division_ids=None)
    # The contacts' last deadline (20.11.), not the staff's "valmis" (issue 16, item 11).
    assert (result.sent, result.deadline_code) == (1, "listatekstit")
    assert "Määräaika: pe 20.11.2026 (12 päivää sitten)" in user.last.text
    with db.session() as s:
        (row,) = ledger.rows_for(s)
        assert row.offset_days == -12


async def test_only_coordinators_and_staff_can_nudge(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    contact, _ = folks.add(Role.CONTACT, division="SOTE")
    async with running_bot(db, settings, Clock(local(YEAR, 11, 18)), api, time) as bot:
        with pytest.raises(PermissionError):
            await send_nudge(bot.application, actor_person_id=contact, division_ids=None)

"""The reminder buttons and /aikataulu, pressed and typed by local Telegram users."""

from __future__ import annotations

import datetime as dt

from data import ledger
from data.models import LedgerStatus, ReminderLedger, Role
from localtg import LocalBotApi
from schedules import runtime as rt
from schedules.plan import SlotKey
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, Clock, People, VirtualTime, complete_division, local, running_bot

SLOT = SlotKey("listatekstit", dt.date(YEAR, 11, 20), 7)  # Friday 13.11. at 9.00


def rows(db: Database, **where: object) -> list[ReminderLedger]:
    with db.session() as s:
        return ledger.rows_for(s, **where)  # type: ignore[arg-type]


async def test_remind_me_tomorrow_snoozes_once_to_9_next_day(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _contact, user = folks.add(Role.CONTACT, division="KASKO")
    clock = Clock(local(YEAR, 11, 13, 9, 0))
    async with running_bot(db, settings, clock, api, time) as bot:
        await rt.run_slot(bot.application, SLOT)
        reminder = user.last
        clock.set(local(YEAR, 11, 13, 15, 20))
        press = await user.press("Muistuta huomenna")
        assert press.answered and press.text == "Selvä, muistutan huomenna klo 9.00."
        # The used snooze button is gone; "Report now" stays.
        assert user.message_with_button("Raportoi nyt").buttons == [["Raportoi nyt"]]
        (row,) = rows(db)
        assert (row.status, row.kind) == (LedgerStatus.SNOOZED, "snooze")
        assert row.next_attempt_at == local(YEAR, 11, 14, 9, 0)
        # A second press (an old copy of the button) says it is already snoozed.
        again = await user.press_data(f"rem:snooze:{row.id}", message=reminder)
        assert again.text == "Tämä muistutus on jo siirretty huomiseen."

        clock.set(local(YEAR, 11, 14, 8, 59))
        await rt.sweep(bot.application)
        assert len(user.messages) == 1
        clock.set(local(YEAR, 11, 14, 9, 0))
        report = await rt.sweep(bot.application)
        assert report.sent == 1
        assert bot.errors == []
    snoozed = user.last
    assert snoozed.text.startswith("Pyysit muistuttamaan uudelleen tänään.")
    assert "Määräaika: pe 20.11.2026 (6 päivän päästä)" in snoozed.text
    assert snoozed.buttons == [["Raportoi nyt"]]  # one snooze only
    (row,) = rows(db)
    assert (row.status, row.kind, row.attempts) == (LedgerStatus.SENT, "snooze", 2)
    assert row.sent_at == local(YEAR, 11, 14, 9, 0)


async def test_stale_forged_and_foreign_snooze_buttons_are_refused(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    owner, owner_user = folks.add(Role.CONTACT, division="KASKO")
    _other, other_user = folks.add(Role.COORDINATOR)
    _stranger = api.user(424242, "Vieras", has_started=True)
    async with running_bot(db, settings, Clock(local(YEAR, 11, 13)), api, time) as bot:
        await rt.run_slot(bot.application, SLOT)
        (owner_row,) = rows(db, person_id=owner)
        invalid = "Tämä painike ei ole enää voimassa."
        # Someone else's reminder id, an unknown id, and garbage.
        assert (await other_user.press_data(f"rem:snooze:{owner_row.id}")).text == invalid
        assert (await owner_user.press_data("rem:snooze:999999")).text == invalid
        assert (await owner_user.press_data("rem:snooze:x'; DROP")).text == invalid
        # An unregistered person gets the access refusal, not data.
        refusal = await _stranger.press_data(f"rem:snooze:{owner_row.id}", message=owner_user.last)
        assert refusal.text is not None and "käyttöoikeutta" in refusal.text
        assert bot.errors == []
    (row,) = rows(db, person_id=owner)
    assert row.status is LedgerStatus.SENT  # untouched


async def test_a_snoozed_reminder_is_dropped_when_the_division_completes(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _contact, user = folks.add(Role.CONTACT, division="KUVA")
    clock = Clock(local(YEAR, 11, 13, 9, 0))
    async with running_bot(db, settings, clock, api, time) as bot:
        await rt.run_slot(bot.application, SLOT)
        await user.press("Muistuta huomenna")
        complete_division(db, "KUVA")
        clock.set(local(YEAR, 11, 14, 9, 0))
        report = await rt.sweep(bot.application)
        assert report.sent == 0 and bot.errors == []
    assert len(user.messages) == 1
    (row,) = rows(db)
    assert (row.status, row.error) == (LedgerStatus.SKIPPED, "no longer needed")


async def test_aikataulu_lists_coming_deadlines_and_next_reminders(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    folks.add(Role.COORDINATOR)
    folks.add(Role.CONTACT, division="SOTE")
    _staff, staff_user = folks.add(Role.STAFF, Role.COORDINATOR)
    async with running_bot(db, settings, Clock(local(YEAR, 10, 8, 12, 0)), api, time) as bot:
        await staff_user.send("/aikataulu")
        assert bot.errors == []
    text = staff_user.last.text
    lines = text.splitlines()
    assert lines[0] == "📅 Tulevat määräajat"
    assert (
        lines[1].startswith("• la 10.10.2026 – Johtoryhmän aineisto")
        and "(2 päivän päästä)" in lines[1]
    )
    assert lines[2].startswith("• to 22.10.2026 – Johtoryhmän esittely")
    assert "• pe 20.11.2026 – Listatekstit" in text and "• ma 30.11.2026 – Listateksti" in text
    assert "⏰ Seuraavat muistutukset" in text
    after = lines[lines.index("⏰ Seuraavat muistutukset") + 1 :]
    assert after[0] == (
        "• pe 9.10.2026 9.00 – Johtoryhmän aineisto: lyhyt kuvaus mittarin valmistelutilanteesta "
        "(1 dia per mittari): toimialojen yhteyshenkilöt 1, koordinaattorit 2"
    )
    assert after[1].startswith("• pe 6.11.2026 9.00 – Listatekstit") and after[1].endswith(
        "toimialojen yhteyshenkilöt 1, koordinaattorit 2, strategiayksikön asiantuntijat 1"
    )
    assert len(after) == 6 and after[5].startswith("+ ") and after[5].endswith(" muuta")


async def test_aikataulu_is_refused_to_contacts_and_strangers(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _contact, contact_user = folks.add(Role.CONTACT, division="SOTE")
    stranger = api.user(515151, "Vieras")
    english = api.user(515152, "Guest", language_code="en")
    async with running_bot(db, settings, Clock(local(YEAR, 10, 8)), api, time) as bot:
        await contact_user.send("/aikataulu")
        await stranger.send("/aikataulu")
        await english.send("/aikataulu")
        assert bot.errors == []
    assert contact_user.last.text == "Sinulla ei ole oikeutta tähän."
    assert stranger.last.text.startswith("Sinulla ei ole")  # Finnish, no data
    # The bot-wide refusal follows the Telegram language when the person is unknown.
    for user in (stranger, english):
        assert len(user.messages) == 1
        assert "Johtoryhmä" not in user.last.text and "10.10." not in user.last.text


async def test_no_remind_me_tomorrow_on_the_deadline_day(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _contact, user = folks.add(Role.CONTACT, division="KASKO")
    clock = Clock(local(YEAR, 11, 19, 9, 0))
    async with running_bot(db, settings, clock, api, time) as bot:
        # The day before: tomorrow is the deadline day, so the snooze is still useful.
        await rt.run_slot(bot.application, SlotKey("listatekstit", dt.date(YEAR, 11, 20), 1))
        assert user.last.buttons == [["Raportoi nyt", "Muistuta huomenna"]]
        clock.set(local(YEAR, 11, 20, 9, 0))
        await rt.run_slot(bot.application, SlotKey("listatekstit", dt.date(YEAR, 11, 20), 0))
        assert bot.errors == []
    assert "Määräaika: pe 20.11.2026 (tänään)" in user.last.text
    assert user.last.buttons == [["Raportoi nyt"]]


async def test_an_old_snooze_button_pressed_on_the_deadline_day_is_refused(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _contact, user = folks.add(Role.CONTACT, division="KASKO")
    clock = Clock(local(YEAR, 11, 19, 9, 0))
    async with running_bot(db, settings, clock, api, time) as bot:
        await rt.run_slot(bot.application, SlotKey("listatekstit", dt.date(YEAR, 11, 20), 1))
        clock.set(local(YEAR, 11, 20, 8, 0))  # the snooze would land on 21.11.
        press = await user.press("Muistuta huomenna")
        assert press.answered and press.text is not None
        assert press.text.startswith("Määräaika on ennen huomista")
        clock.set(local(YEAR, 11, 21, 9, 0))
        assert (await rt.sweep(bot.application)).sent == 0
        assert bot.errors == []
    (row,) = rows(db)
    assert (row.status, row.kind, row.next_attempt_at) == (LedgerStatus.SENT, "scheduled", None)
    assert len(user.messages) == 1


async def test_aikataulu_on_the_last_deadline_day_lists_the_next_round_too(
    db: Database, settings: Settings, api: LocalBotApi, time: VirtualTime, folks: People
) -> None:
    _staff, staff_user = folks.add(Role.STAFF, Role.COORDINATOR)
    async with running_bot(db, settings, Clock(local(YEAR, 11, 30, 12, 0)), api, time) as bot:
        await staff_user.send("/aikataulu")
        assert bot.errors == []
    lines = staff_user.last.text.splitlines()
    reminders_at = lines.index("⏰ Seuraavat muistutukset")
    deadlines = lines[1 : reminders_at - 1]
    assert deadlines[0].startswith("• ma 30.11.2026 – Listateksti") and "(tänään)" in deadlines[0]
    # Every deadline of the next round, so each listed reminder's deadline is listed too.
    assert [line.split(" – ")[0] for line in deadlines[1:]] == [
        "• su 10.10.2027",
        "• pe 22.10.2027",
        "• la 20.11.2027",
        "• ti 30.11.2027",
    ]
    reminders = lines[reminders_at + 1 :]
    assert reminders[0].startswith("• ") and "2027 9.00 – Johtoryhmän aineisto" in reminders[0]
    # The list is cut at five and says how many more there are.
    assert len(reminders) == 6
    hidden = int(reminders[5].removeprefix("+ ").removesuffix(" muuta"))
    assert hidden > 0

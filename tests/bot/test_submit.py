"""/valmis: confirm, submit, notify coordinators, lock — through the local Telegram."""

from __future__ import annotations

import datetime as dt

import pytest

from data import catalog, people, reports
from data.models import Role
from data.reports import ReportLocked, SatisfactionAnswer

from .conftest import BotHarness
from .test_status_support import (
    YEAR,
    audit_count,
    audit_rows,
    full_participation,
    ids,
    report_state,
    save_participation,
    save_satisfaction,
)

SUBMIT = "Lähetä raportti"
SUBMIT_EMPTY = "Kyllä, lähetä tyhjänä"


def _coordinator(bot: BotHarness, user_id: int, name: str, language: str = "fi"):  # type: ignore[no-untyped-def]
    bot.register(user_id, Role.COORDINATOR, name=name, language=language)
    return bot.user(user_id, name, language, has_started=True)


def _complete(bot: BotHarness, user_id: int, division: str) -> None:
    i = ids(bot)
    with bot.db.session() as session:
        div = catalog.division_by_code(session, division)
        assert div is not None
        codes = [e.code for e in catalog.service_entities(session, div.id)]
    for code in codes:
        save_participation(
            bot, user_id, code, full_participation(i, {1: 2, 2: None, 3: 1, 4: None})
        )
        save_satisfaction(bot, user_id, code, [SatisfactionAnswer(i.measurement["NOT_MEASURED"])])


async def test_confirming_submits_locks_and_notifies_every_active_coordinator(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA", "Aino")
    i = ids(bot)
    save_participation(bot, 2001, "KUVA_KIRJASTO", full_participation(i, {1: 3, 2: 1}))
    kaisa = _coordinator(bot, 3001, "Kaisa")
    sven = _coordinator(bot, 3002, "Sven", "sv")
    staff = bot.user(3003, "Sami", has_started=True)
    bot.register(3003, Role.STAFF, name="Sami")
    other_contact = bot.contact(2002, "SOTE")
    gone = _coordinator(bot, 3004, "Ville")
    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, 3004)
        assert person is not None
        people.deactivate(session, person, actor_id=None, reason="left")

    await aino.send("/valmis")
    question = aino.last
    assert question.text.startswith("Raportin lähettäminen: Kulttuurin ja vapaa-ajan toimiala 2026")
    assert "0/5 palvelukokonaisuutta valmiina." in question.text
    assert "• Kirjasto: tasot 3, 4, tyytyväisyys" in question.text
    assert "Voit silti lähettää nyt" in question.text
    assert question.buttons == [[SUBMIT], ["Peru"]]
    assert report_state(bot, "KUVA") == "draft"
    await aino.press(SUBMIT)

    assert report_state(bot, "KUVA") == "submitted"
    assert "vuoden 2026 raportti on lähetetty" in aino.last.text
    assert aino.last.buttons == []  # the confirmation replaced the question and its buttons
    [event] = audit_rows(bot, "submitted")
    assert event.entity == "report" and event.old == {"state": "draft"}
    assert kaisa.last.text == (
        "Kulttuurin ja vapaa-ajan toimiala lähetti vuoden 2026 raporttinsa.\n"
        "Lähettäjä: Aino\n0/5 palvelukokonaisuutta valmiina."
    )
    assert sven.last.text.startswith("Kultur- och fritidssektorn lämnade in sin rapport för 2026.")
    assert staff.messages == [] and other_contact.messages == [] and gone.messages == []


async def test_after_submit_changes_are_refused_as_locked(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    i = ids(bot)
    save_participation(bot, 2001, "KUVA_KIRJASTO", full_participation(i, {1: 3}))
    await aino.send("/valmis")
    question = aino.last
    await aino.press(SUBMIT)
    events = audit_count(bot)

    await aino.send("/muokkaa")
    assert "Raportti on lähetetty" in aino.last.text
    assert "joten sen vastauksia ei voi nyt muuttaa" in aino.last.text
    await aino.send("/valmis")
    assert "Raportti on lähetetty" in aino.last.text
    record = await aino.press_data(f"sb:1:C:y:{YEAR}", message=question)  # replayed
    assert record.text == "Tämä painike ei ole enää voimassa."
    with pytest.raises(ReportLocked):
        save_participation(bot, 2001, "KUVA_KIRJASTO", full_participation(i, {1: 4}))
    assert audit_count(bot) == events
    assert report_state(bot, "KUVA") == "submitted"


async def test_cancelling_the_submit_changes_nothing(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    kaisa = _coordinator(bot, 3001, "Kaisa")
    events = audit_count(bot)
    await aino.send("/valmis")
    await aino.press("Peru")
    assert aino.last.text == "Raporttia ei lähetetty. Mitään ei muutettu."
    await aino.send("/valmis")
    question = aino.last
    await aino.send("/peru")
    assert aino.last.text == "Peruttu. Mitään ei muutettu."
    record = await aino.press(SUBMIT, message=question)  # the old question's button
    assert record.text == "Tämä painike ei ole enää voimassa."
    assert report_state(bot, "KUVA") == "draft"
    assert audit_count(bot) == events
    assert kaisa.messages == []


async def test_a_blocked_flood_limited_or_unreachable_coordinator_does_not_break_the_submit(
    bot: BotHarness,
) -> None:
    """The notices are outbox rows written with the submit (``delivery.notices``): a 429 or
    a refused connection is retried (before, the unreachable coordinator was never told),
    a person who blocked the bot is marked inactive; the submit stands either way."""
    aino = bot.contact(2001, "KUVA")
    blocked = _coordinator(bot, 3001, "Bea")
    flooded = _coordinator(bot, 3002, "Flo")
    offline = _coordinator(bot, 3003, "Olli")
    fine = _coordinator(bot, 3004, "Fia")
    blocked.block()
    bot.api.fail_next("sendMessage", "429", chat_id=3002)
    bot.api.fail_next("sendMessage", "network", chat_id=3003)
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    await aino.press(SUBMIT_EMPTY)
    assert report_state(bot, "KUVA") == "submitted"
    assert "raportti on lähetetty" in aino.last.text
    assert "lähetti vuoden 2026 raporttinsa" in flooded.last.text  # retried after the wait
    assert "lähetti vuoden 2026 raporttinsa" in fine.last.text
    assert [m.text.splitlines()[0] for m in offline.messages] == [  # retried: told once
        "Kulttuurin ja vapaa-ajan toimiala lähetti vuoden 2026 raporttinsa."
    ]
    assert blocked.messages == []
    with bot.db.session() as session:  # a person who blocked the bot is marked inactive
        assert people.active_person(session, 3001) is None
        assert people.active_person(session, 3003) is not None
    assert [e.entity_id for e in audit_rows(bot, "blocked_bot")] != []


async def test_a_failed_confirmation_message_does_not_undo_the_submit(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    kaisa = _coordinator(bot, 3001, "Kaisa")
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    bot.api.fail_next("editMessageText", "network", chat_id=2001)
    await aino.press(SUBMIT_EMPTY)
    assert report_state(bot, "KUVA") == "submitted"
    assert "raporttinsa" in kaisa.last.text
    await aino.send("/valmis")  # the conversation ended: no second submit is waiting
    assert "Raportti on lähetetty" in aino.last.text


async def test_a_complete_report_says_so_and_the_coordinator_sees_it(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    kaisa = _coordinator(bot, 3001, "Kaisa")
    _complete(bot, 2001, "KUVA")
    await aino.send("/valmis")
    assert "5/5 palvelukokonaisuutta valmiina.\nKaikkeen on vastattu." in aino.last.text
    await aino.press(SUBMIT)
    assert "5/5 palvelukokonaisuutta valmiina." in kaisa.last.text


async def test_only_the_divisions_active_contacts_can_submit(bot: BotHarness) -> None:
    bot.contact(2001, "KUVA")
    coordinator = _coordinator(bot, 3001, "Kaisa")
    stranger = bot.user(4001, "Outi")
    for user in (coordinator, stranger):
        await user.send("/valmis")
        assert "oikeutta" in user.last.text
        record = await user.press_data(f"st:sc:ok:{YEAR}")
        assert record.text == "Tämä painike ei ole enää voimassa."
    # Access removed between the question and the press: refused, nothing submitted.
    leaver = bot.contact(2002, "KUVA")
    await leaver.send("/valmis")
    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, 2002)
        assert person is not None
        people.deactivate(session, person, actor_id=None, reason="left")
    record = await leaver.press(SUBMIT)
    assert record.show_alert and "oikeutta" in (record.text or "")
    assert report_state(bot, "KUVA") == "draft"
    assert not any("raporttinsa" in text for text in coordinator.texts())


async def test_a_confirmation_from_last_year_is_no_longer_valid(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    bot.clock.current = dt.datetime(2026, 12, 31, 21, 50, tzinfo=dt.UTC)  # 23.50 in Helsinki
    await aino.send("/valmis")
    bot.clock.advance(minutes=15)  # 2027 in Helsinki
    record = await aino.press(SUBMIT)
    assert record.text == "Tämä painike ei ole enää voimassa."
    assert report_state(bot, "KUVA") == "draft"


async def test_a_reopened_report_can_be_submitted_again(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    kaisa = _coordinator(bot, 3001, "Kaisa")
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    await aino.press(SUBMIT_EMPTY)
    with bot.db.transaction() as session:
        coordinator = people.person_by_telegram_id(session, 3001)
        division = catalog.division_by_code(session, "KUVA")
        assert coordinator is not None and division is not None
        assert reports.reopen_report(session, coordinator, YEAR, division.id)
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    await aino.press(SUBMIT_EMPTY)
    assert report_state(bot, "KUVA") == "submitted"
    assert len(audit_rows(bot, "submitted")) == 2
    assert len(kaisa.messages) == 2


async def test_help_typed_text_and_idle_time_at_the_confirmation(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    await aino.send("/valmis")
    await aino.send("/ohje")
    assert aino.texts()[-2].startswith("Ohje tähän vaiheeseen:\nLähettäminen kertoo koord")
    assert aino.last.buttons == [[SUBMIT], ["Peru"]]  # and the question is asked again
    await aino.send("kyllä")
    assert aino.last.text.startswith("⚠️ Valitse jokin alla olevista painikkeista.")
    assert aino.last.buttons == [[SUBMIT], ["Peru"]]
    bot.clock.advance(minutes=31)
    await aino.press(SUBMIT)
    assert aino.last.text == (
        "Vaihe päättyi, koska mitään ei tapahtunut 30 minuuttiin. Mitään ei muutettu."
    )
    assert report_state(bot, "KUVA") == "draft"


async def test_submit_in_english_and_swedish(bot: BotHarness) -> None:
    ann = bot.contact(2001, "KUVA", "Ann", language="en")
    await ann.send("/valmis")
    assert ann.last.text.startswith("Submit the report of Culture and Leisure, 2026")
    assert ann.last.buttons == [["Submit the report"], ["Cancel"]]
    await ann.press("Cancel")
    assert ann.last.text == "The report was not submitted. Nothing was changed."
    sven = bot.contact(2002, "KYMP", "Sven", language="sv")
    await sven.send("/valmis")
    assert sven.last.buttons == [["Lämna in rapporten"], ["Avbryt"]]
    await sven.press("Lämna in rapporten")
    assert "Inget har rapporterats för 2026 ännu" in sven.last.text
    await sven.press("Ja, lämna in den tom")
    assert "rapporten för 2026 har lämnats in" in sven.last.text


async def test_a_contact_moved_to_another_division_cannot_confirm_the_old_question(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA")
    await aino.send("/valmis")
    bot.register(2001, Role.CONTACT, division="SOTE")
    record = await aino.press(SUBMIT)
    assert record.text == "Tämä painike ei ole enää voimassa."
    assert report_state(bot, "KUVA") == "draft" and report_state(bot, "SOTE") == "draft"


async def test_an_empty_report_is_submitted_only_after_a_second_confirmation(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA")
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    assert aino.last.text.startswith("Vuodelta 2026 ei ole vielä raportoitu mitään")
    assert aino.last.buttons == [[SUBMIT_EMPTY], ["Peru"], ["‹ Takaisin"]] or (
        aino.last.buttons == [[SUBMIT_EMPTY], ["Peru"]]
    )
    assert report_state(bot, "KUVA") == "draft"
    await aino.press("Peru")
    assert report_state(bot, "KUVA") == "draft"
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    await aino.press(SUBMIT_EMPTY)
    assert report_state(bot, "KUVA") == "submitted"

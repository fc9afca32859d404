"""/raportoi through the local Telegram: a full participation report, review, last year."""

from __future__ import annotations

from sqlalchemy import event

from data import audit, catalog, people, progress, reports
from data.models import Role

from .conftest import BotHarness
from .test_reporting_helpers import (
    YEAR,
    answer_all_levels_none,
    draft,
    entity_id,
    participation,
    save_last_year,
)


async def test_contact_reports_every_level_of_a_service_entity_and_saves(bot: BotHarness) -> None:
    user = bot.contact(3001, "KUVA")
    await user.send("/raportoi")
    assert "Vaihe 1/6" in user.last.text
    assert "Osallisuusraportti 2026: Kulttuurin ja vapaa-ajan toimiala" in user.last.text
    assert user.last.buttons == [
        ["Kulttuuri"],
        ["Kirjasto"],
        ["Liikunta"],
        ["Nuoriso"],
        ["Hallinto"],
    ]

    await user.press("Kirjasto")
    assert "Vaihe 2/6" in user.last.text
    assert "Taso 1: Viestintä ja kuuleminen" in user.last.text
    assert "tiedottamisen ja tiedon keräämisen" in user.last.text  # the level's description
    await user.press("Kyselyt")
    assert "Lkm: kuinka monta vuonna 2026?" in user.last.text
    await user.send("1 200")
    assert "• Kyselyt – Lkm 1\xa0200" in user.last.text  # back at the level, no note step
    await user.press("✎ Lisää huomautus: Kyselyt")
    await user.send("Verkkokysely ja paperilomake")
    assert "• Kyselyt – Lkm 1\xa0200 (Verkkokysely ja paperilomake)" in user.last.text
    await user.press("Muu tapa – kirjoita")
    await user.send("Kirjastoraati")
    await user.send("3")
    assert "• Kirjastoraati – Lkm 3" in user.last.text
    await user.press("Seuraava taso ›")

    assert "Vaihe 3/6" in user.last.text and "Taso 2: Vuorovaikutus" in user.last.text
    await user.press("Ei tapoja tällä tasolla")
    assert "Vaihe 4/6" in user.last.text
    await user.press("Työpajat / Hackaton")
    await user.send("12")
    await user.press("Seuraava taso ›")
    assert "Vaihe 5/6" in user.last.text
    await user.press("Osallistuvan budjetoinnin ehdotusten määrä")
    await user.send("1200")
    await user.press("Yhteenvetoon ›")

    review = user.last.text
    assert "Vaihe 6/6" in review and "Yhteenveto: Kirjasto (2026)" in review
    assert "1) Kyselyt – Lkm 1\xa0200 (Verkkokysely ja paperilomake)" in review
    assert "2) Kirjastoraati – Lkm 3" in review
    assert "ei tapoja tällä tasolla" in review
    assert participation(bot, "KUVA_KIRJASTO") == []  # nothing is saved before Save

    record = await user.press("💾 Tallenna")
    assert record.text == "Tallennettu ✓"
    assert "Tallennettu: Kirjasto, 2026" in user.last.text
    saved = {
        (a["level"], a["method"], a["count"], a["note"], a["none"])
        for a in participation(bot, "KUVA_KIRJASTO")
    }
    assert saved == {
        (1, "Kyselyt", 1200, "Verkkokysely ja paperilomake", False),
        (1, "Kirjastoraati", 3, None, False),
        (2, None, 0, None, True),
        (3, "Työpajat / Hackaton", 12, None, False),
        (4, "Osallistuvan budjetoinnin ehdotusten määrä", 1200, None, False),
    }
    assert draft(bot, 3001, "reporting") is None
    with bot.db.session() as session:
        assert [e.entity for e in audit.events(session) if e.action == "save"] == ["participation"]
        rnd = progress.find_round(session, YEAR)
        assert rnd is not None
        kuva = progress.division_progress(session, rnd.id, entity_division(bot, "KUVA_KIRJASTO"))
        library = next(e for e in kuva.entities if e.code == "KUVA_KIRJASTO")
        assert library.participation_complete

    await user.press("Raportoi toinen palvelukokonaisuus")
    assert ["✓ Kirjasto"] in user.last.buttons


def entity_division(bot: BotHarness, code: str) -> int:
    with bot.db.session() as session:
        entity = session.get(reports.ServiceEntity, entity_id(bot, code))
        assert entity is not None
        return entity.division_id


async def test_review_card_changes_and_removes_answers_before_saving(bot: BotHarness) -> None:
    user = bot.contact(3002, "SOTE")
    await user.send("/raportoi")
    await user.press("Hallinto")
    await user.press("Palautekanavat")
    await user.send("5")
    await user.press("Kyselyt")
    await user.send("7")
    await user.press("✎ Lisää huomautus: Kyselyt")
    await user.send("Asiakaskysely")
    await user.press("Seuraava taso ›")
    for _ in range(3):
        await user.press("Ei tapoja tällä tasolla")
    assert "1) Palautekanavat – Lkm 5" in user.last.text

    await user.press("✎ T1 Kyselyt")  # the buttons name the answer (item 15)
    assert "Nyt: 7." in user.last.text
    assert ["Pidä ennallaan (7)"] in user.last.buttons
    await user.send("70")  # the note is kept without asking
    assert (
        "Yhteenveto" in user.last.text and "2) Kyselyt – Lkm 70 (Asiakaskysely)" in user.last.text
    )
    await user.press("🗑 T1 Palautekanavat")
    assert "Palautekanavat" not in user.last.text
    assert "   – ei tapoja tällä tasolla" in user.last.text  # no number, no 🗑 (item 15)
    assert not [b for row in user.last.buttons for b in row if "ei tapoja" in b]
    await user.press("Taso 4")
    assert "Taso 4: Päätösvallan jakaminen" in user.last.text
    await user.press("✓ Ei tapoja tällä tasolla")
    assert "Yhteenveto" in user.last.text  # back to the review, not to another level
    await user.press("💾 Tallenna")
    saved = sorted(
        (a["level"], a["method"], a["count"]) for a in participation(bot, "SOTE_HALLINTO")
    )
    assert saved == [(1, "Kyselyt", 70), (2, None, 0), (3, None, 0), (4, None, 0)]


async def test_saved_answers_are_the_starting_point_when_the_entity_is_reported_again(
    bot: BotHarness,
) -> None:
    user = bot.contact(3003, "KYMP")
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, 3003)
        assert contact is not None
        levels = catalog.levels(session)
        reports.save_participation(
            session,
            contact,
            YEAR,
            entity_id(bot, "KYMP_PALVELUT_LUVAT"),
            [
                reports.ParticipationAnswer(levels[0].id, method_text="Neuvontapiste", count=4),
                reports.ParticipationAnswer(levels[1].id, none=True),
            ],
        )
    await user.send("/raportoi")
    await user.press("Palvelut ja luvat")
    assert "Taso 3" in user.last.text  # continues at the first unanswered level
    await user.press("Ei tapoja tällä tasolla")
    await user.press("Ei tapoja tällä tasolla")
    assert "1) Neuvontapiste – Lkm 4" in user.last.text
    await user.press("💾 Tallenna")
    assert len(participation(bot, "KYMP_PALVELUT_LUVAT")) == 4

    await user.send("/raportoi")
    await user.press("✓ Palvelut ja luvat")
    assert "Yhteenveto: Palvelut ja luvat" in user.last.text  # complete: straight to review
    await user.press("🗑 T1 Neuvontapiste")
    await user.press("💾 Tallenna")
    saved = sorted((a["level"], a["none"]) for a in participation(bot, "KYMP_PALVELUT_LUVAT"))
    assert saved == [(2, True), (3, True), (4, True)]
    assert "Vielä vastaamatta: taso 1." in user.last.text


async def test_last_years_answers_are_offered_and_copied_for_checking(bot: BotHarness) -> None:
    user = bot.contact(3004, "KUVA")
    save_last_year(bot, 3004, "KUVA_NUORISO")
    await user.send("/raportoi")
    await user.press("Nuoriso")
    assert "Viime vuonna (2025)" in user.last.text
    assert "Kyselyt – Lkm 40" in user.last.text and "Lukupiiri – Lkm 6" in user.last.text
    await user.press("Sama kuin 2025")
    assert "Yhteenveto: Nuoriso (2026)" in user.last.text
    assert "Lkm:t ovat viime vuodelta" in user.last.text
    await user.press("✎ T1 Kyselyt")
    await user.send("45")
    await user.press("💾 Tallenna")
    saved = sorted(
        (a["level"], a["method"], a["count"]) for a in participation(bot, "KUVA_NUORISO")
    )
    assert saved == [(1, "Kyselyt", 45), (2, "Lukupiiri", 6), (3, None, 0), (4, None, 0)]
    assert len(participation(bot, "KUVA_NUORISO", YEAR - 1)) == 4  # last year untouched

    other = bot.contact(3005, "KUVA", "Eero")
    save_last_year(bot, 3005, "KUVA_LIIKUNTA")
    await other.send("/raportoi")
    await other.press("Liikunta")
    await other.press("Aloita tyhjästä")
    assert "Taso 1" in other.last.text and "Kyselyt – Lkm 40" not in other.last.text


async def test_report_now_button_of_a_reminder_starts_the_report(bot: BotHarness) -> None:
    user = bot.contact(3006, "KASKO")
    await user.start()
    await user.press_data("report:start")
    assert "Valitse raportoitava palvelukokonaisuus" in user.last.text
    assert "Perusopetus" in [label for row in user.last.buttons for label in row]
    assert not [e for e in bot.errors()]


async def test_submitted_report_is_locked_until_a_coordinator_reopens_it(bot: BotHarness) -> None:
    user = bot.contact(3007, "KUVA")
    await user.send("/raportoi")
    await user.press("Kulttuuri")
    await answer_all_levels_none(user)
    assert "Yhteenveto" in user.last.text
    with bot.db.transaction() as session:
        colleague = people.ensure_person(
            session,
            3008,
            name="Kollega",
            roles={Role.CONTACT},
            division_id=entity_division(bot, "KUVA_KULTTUURI"),
        )
        reports.submit_report(session, colleague, YEAR, colleague.division_id or 0)
    await user.press("💾 Tallenna")
    assert "on jo lähetetty" in user.last.text and "Koordinaattorin" in user.last.text
    assert participation(bot, "KUVA_KULTTUURI") == []
    assert draft(bot, 3007, "reporting") is not None  # kept for after the reopening
    await user.send("/raportoi")
    assert "on jo lähetetty" in user.last.text

    coordinator_id = 3009
    bot.register(coordinator_id, Role.COORDINATOR)
    with bot.db.transaction() as session:
        coordinator = people.person_by_telegram_id(session, coordinator_id)
        assert coordinator is not None
        reports.reopen_report(session, coordinator, YEAR, entity_division(bot, "KUVA_KULTTUURI"))
    await user.send("/raportoi")
    assert "tallentamattomia vastauksia" in user.last.text
    await user.press("Jatka")
    await user.press("💾 Tallenna")
    assert "Tallennettu: Kulttuuri, 2026" in user.last.text
    assert len(participation(bot, "KUVA_KULTTUURI")) == 4


async def test_what_was_saved_stays_saved_when_telegram_fails_while_replying(
    bot: BotHarness,
) -> None:
    user = bot.contact(3010, "KYMP")
    await user.send("/raportoi")
    await user.press("Maankäyttö ja kaupunkirakenne")
    await user.press("Kyselyt")
    bot.api.fail_next("sendMessage", "429")  # flood control once: retried
    await user.send("25")
    assert "Lkm 25" in user.last.text  # the level's summary arrived after the retry
    await user.press("Seuraava taso ›")
    for _ in range(3):
        await user.press("Ei tapoja tällä tasolla")
    # A refused connection twice: known not delivered, so the outbox sends it again.
    bot.api.fail_next("sendMessage", "network", count=2)
    record = await user.press("💾 Tallenna")
    assert record.text == "Tallennettu ✓"  # the button's answer says it
    await user.wait_for_message(contains="Tallennettu: Maankäyttö")  # the retried message
    assert len(participation(bot, "KYMP_MAANKAYTTO")) == 4
    assert draft(bot, 3010, "reporting") is None
    await user.send("/raportoi")
    assert ["✓ Maankäyttö ja kaupunkirakenne"] in user.last.buttons


async def test_the_years_round_is_made_at_start_up_so_the_first_save_makes_none(
    bot: BotHarness,
) -> None:
    """The first save of a year no longer spends a statement making the round: the start-up
    made it (``schedules.housekeeping.ensure_round``)."""
    with bot.db.session() as session:
        assert progress.find_round(session, YEAR) is not None
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    user = bot.contact(3001, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await answer_all_levels_none(user)
    event.listen(bot.db.engine, "before_cursor_execute", seen)
    try:
        await user.press("💾 Tallenna")
    finally:
        event.remove(bot.db.engine, "before_cursor_execute", seen)
    assert "Tallennettu: Kirjasto, 2026" in user.last.text
    assert any("INSERT INTO level_none_answers" in s for s in statements)
    assert not any("rounds" in s for s in statements)

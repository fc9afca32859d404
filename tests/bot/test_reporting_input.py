"""Bad input in /raportoi: a clear message and the same question, never a crash or a change."""

from __future__ import annotations

from data import catalog, people
from data.models import Role, ServiceEntity, utcnow

from .conftest import BotHarness
from .test_reporting_helpers import button_data, draft, entity_id, participation

STALE = "Tämä painike ei ole enää voimassa."


async def _at_count_question(bot: BotHarness, user_id: int, division: str = "KUVA"):  # type: ignore[no-untyped-def]
    user = bot.contact(user_id, division)
    await user.send("/raportoi")
    await user.press(user.last.buttons[0][0])
    await user.press("Kyselyt")
    assert "Lkm: kuinka monta" in user.last.text
    return user


async def test_counts_must_be_whole_numbers_from_0_to_100_000(bot: BotHarness) -> None:
    user = await _at_count_question(bot, 4001)
    bad = {
        "kaksitoista": "Kirjoita Lkm kokonaislukuna väliltä 1–100\xa0000",
        "12,5": "Kirjoita Lkm kokonaislukuna väliltä 1–100\xa0000",
        "1.200": "Kirjoita Lkm kokonaislukuna väliltä 1–100\xa0000",
        "12 00": "Kirjoita Lkm kokonaislukuna väliltä 1–100\xa0000",
        "-3": "Lkm:n on oltava kokonaisluku väliltä 1–100\xa0000",
        "100 001": "Lkm:n on oltava kokonaisluku väliltä 1–100\xa0000",
        "1e3": "Kirjoita Lkm kokonaislukuna väliltä 1–100\xa0000",
        # digits of another script are not read as a count
        "١٢": "Kirjoita Lkm kokonaislukuna väliltä 1–100\xa0000",
    }
    for text, expected in bad.items():
        await user.send(text)
        assert expected in user.last.text, text
        assert user.last.text.startswith("⚠️")
        assert "Lkm: kuinka monta vuonna 2026?" in user.last.text  # the same question again
    assert draft(bot, 4001, "reporting").step == "count"  # type: ignore[union-attr]
    await user.send("100\u00a0000")  # a no-break space between thousands is fine
    assert "Lkm 100\xa0000" in user.last.text
    await user.press("Palautekanavat")
    await user.send("0")  # a method used 0 times was not used: refused, asked again
    assert "Tapa, jota käytettiin 0 kertaa, jätetään pois" in user.last.text
    assert "väliltä 1–100\xa0000" in user.last.text
    assert draft(bot, 4001, "reporting").step == "count"  # type: ignore[union-attr]


async def test_free_text_is_trimmed_cleaned_and_never_cut_silently(bot: BotHarness) -> None:
    user = await _at_count_question(bot, 4002)
    await user.send("5")
    await user.press("✎ Lisää huomautus: Kyselyt")
    too_long = "x" * 301
    await user.send(too_long)
    assert "301 merkkiä pitkä; enintään 300 mahtuu" in user.last.text
    assert "Kirjoita huomautus" in user.last.text
    await user.send("\x07\x00\x1b")  # only control characters: nothing left
    assert "Kirjoita lyhyt teksti" in user.last.text
    await user.send("  Viikoittain\x00 \x07ja\n kuukausittain  ")
    assert "• Kyselyt – Lkm 5 (Viikoittain ja kuukausittain)" in user.last.text
    await user.press("Muu tapa – kirjoita")
    await user.send("y" * 300)  # exactly the limit is accepted
    assert "y" * 300 in user.last.text and "Lkm: kuinka monta" in user.last.text


async def test_typing_where_a_button_is_expected_repeats_the_question(bot: BotHarness) -> None:
    user = bot.contact(4003, "KUVA")
    await user.send("/raportoi")
    await user.send("Kirjasto")
    assert "Valitse jokin alla olevista painikkeista." in user.last.text
    assert ["Kirjasto"] in user.last.buttons


async def test_an_older_button_is_no_longer_valid_and_changes_nothing(bot: BotHarness) -> None:
    user = await _at_count_question(bot, 4004)
    # The level's question became the count question (edited in place): its Back button
    # is the older one once the count is typed.
    count_question = user.message_with_button("‹ Takaisin")
    await user.send("8")
    before = draft(bot, 4004, "reporting")
    record = await user.press("‹ Takaisin", message=count_question)
    assert record.text == STALE and record.show_alert
    after = draft(bot, 4004, "reporting")
    assert after is not None and before is not None
    assert (after.step, after.data) == (before.step, before.data)
    assert "• Kyselyt – Lkm 8" in user.last.text  # no new question was sent


async def test_forged_buttons_are_refused(bot: BotHarness) -> None:
    user = bot.contact(4005, "KUVA")
    await user.send("/raportoi")
    valid = button_data(user, "Kirjasto")  # rp:<prompt>:E:s:<id>
    prefix, seq, tag, action, arg = valid.split(":")
    kymp_entity = entity_id(bot, "KYMP_MAANKAYTTO")
    forged = [
        f"{prefix}:{seq}:{tag}:{action}:{kymp_entity}",  # another division's entity
        f"{prefix}:{seq}:L:m:1",  # a step the conversation is not at
        f"{prefix}:{int(seq) + 5}:{tag}:{action}:{arg}",  # a prompt number not yet asked
        f"{prefix}:{seq}:{tag}:x:{arg}",  # an unknown action
        f"{prefix}:{seq}:{tag}:{action}:999999",  # no such entity
        f"{prefix}:{seq}:{tag}:{action}",  # argument missing
        "rp:garbage",
    ]
    for data in forged:
        record = await user.press_data(data)
        assert record.text == STALE, data
    assert draft(bot, 4005, "reporting").step == "entity"  # type: ignore[union-attr]
    assert all("Maankäyttö" not in text for text in user.texts())

    await user.press("Kirjasto")
    level = button_data(user, "Kyselyt").split(":")
    other_level_method = button_data(user, "Tiedotustilaisuudet").split(":")[4]
    level2_method = str(int(other_level_method) + 4)  # the first example of level 2
    record = await user.press_data(":".join([*level[:4], level2_method]))
    assert record.text == STALE  # a method of another level
    assert "Taso 1" in user.last.text


async def test_a_retired_service_entity_cannot_be_chosen_or_saved(bot: BotHarness) -> None:
    user = bot.contact(4006, "KUVA")
    await user.send("/raportoi")
    youth = button_data(user, "Nuoriso")
    await user.press("Kirjasto")
    with bot.db.transaction() as session:
        for code in ("KUVA_NUORISO", "KUVA_KIRJASTO"):
            entity = session.get(ServiceEntity, entity_id(bot, code))
            assert entity is not None
            entity.retired_at = utcnow()
    catalog.invalidate()  # the catalog is edited behind the process-held copy
    record = await user.press("Kyselyt")
    assert record.text == STALE
    assert "ei ole enää käytettävissäsi" in user.last.text
    assert draft(bot, 4006, "reporting") is None
    await user.send("/raportoi")
    assert "Kirjasto" not in str(user.last.buttons) and "Nuoriso" not in str(user.last.buttons)
    seq = button_data(user, "Kulttuuri").split(":")[1]
    record = await user.press_data(":".join(["rp", seq, *youth.split(":")[2:]]))
    assert record.text == STALE
    assert participation(bot, "KUVA_KIRJASTO") == []


async def test_a_contact_can_never_report_for_another_division(bot: BotHarness) -> None:
    kuva = bot.contact(4007, "KUVA")
    kymp = bot.contact(4008, "KYMP", "Eero")
    await kymp.send("/raportoi")
    kymp_button = button_data(kymp, "Maankäyttö ja kaupunkirakenne")
    await kuva.send("/raportoi")
    assert "Maankäyttö" not in str(kuva.last.buttons)
    seq = button_data(kuva, "Kirjasto").split(":")[1]
    record = await kuva.press_data(":".join(["rp", seq, *kymp_button.split(":")[2:]]))
    assert record.text == STALE

    # Moved to another division in the middle of a report: the next tap ends it.
    await kuva.press("Kirjasto")
    await kuva.press("Kyselyt")
    await kuva.send("3")
    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, 4007)
        kymp_division = session.get(ServiceEntity, entity_id(bot, "KYMP_MAANKAYTTO"))
        assert person is not None and kymp_division is not None
        people.set_roles(
            session, person, {Role.CONTACT}, division_id=kymp_division.division_id, actor_id=None
        )
    await kuva.press("Seuraava taso ›")
    assert "ei ole enää käytettävissäsi" in kuva.last.text
    assert participation(bot, "KUVA_KIRJASTO") == []


async def test_people_without_the_contact_role_cannot_report(bot: BotHarness) -> None:
    stranger = bot.user(4009)
    await stranger.send("/raportoi")
    assert "käyttöoikeutta" in stranger.last.text
    coordinator = bot.user(4010)
    bot.register(4010, Role.COORDINATOR)
    await coordinator.send("/raportoi")
    assert coordinator.last.text == "Sinulla ei ole oikeutta tähän."

    user = await _at_count_question(bot, 4011)
    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, 4011)
        assert person is not None
        people.deactivate(session, person, actor_id=None, reason="left")
    await user.send("5")
    assert "käyttöoikeutta" in user.last.text

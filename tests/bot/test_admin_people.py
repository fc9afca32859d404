"""/henkilot: staff see who has access, change roles and remove access — effective at once."""

from __future__ import annotations

from sqlalchemy import select

from data.models import ParticipationEntry, Role

from .conftest import BotHarness
from .test_admin_support import coordinator, division_id, person, report_entity, staff


async def test_people_are_listed_with_roles_and_divisions(bot: BotHarness) -> None:
    sanna = staff(bot, 3001, "Sanna")
    bot.contact(3002, "KUVA", "Aino")
    bot.register(3003, Role.COORDINATOR, Role.STAFF, name="Kaisa")
    await sanna.send("/henkilot")
    text = sanna.last.text
    assert "Henkilöt, joilla on käyttöoikeus (3):" in text
    assert "Aino – toimialan yhteyshenkilö (KUVA)" in text
    assert "Kaisa – koordinaattori, strategiayksikön asiantuntija" in text
    assert "Sanna – strategiayksikön asiantuntija" in text


async def test_giving_a_role_takes_effect_at_once_and_the_person_is_told(bot: BotHarness) -> None:
    sanna = staff(bot, 3011)
    aino = bot.contact(3012, "KUVA", "Aino")
    await aino.send("/tilanne")
    assert "Sinulla ei ole oikeutta tähän." in aino.last.text
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    assert "Roolit: toimialan yhteyshenkilö" in sanna.last.text
    assert "Toimiala: KUVA – Kulttuurin ja vapaa-ajan toimiala" in sanna.last.text
    await sanna.press("Koordinaattori")
    assert "Roolit: toimialan yhteyshenkilö, koordinaattori" in sanna.last.text
    assert "✓ Koordinaattori" in [label for row in sanna.last.buttons for label in row]
    assert "Roolisi muuttuivat: toimialan yhteyshenkilö, koordinaattori." in aino.last.text
    await aino.send("/tilanne")
    assert "Tilanne 2026" in aino.last.text
    assert "tilanne" in [command for command, _ in aino.command_menu()]


async def test_taking_a_role_refuses_the_next_command(bot: BotHarness) -> None:
    sanna = staff(bot, 3021)
    kaisa = bot.user(3022, "Kaisa")
    bot.register(3022, Role.COORDINATOR, Role.STAFF, name="Kaisa")
    await kaisa.send("/tilanne")
    assert "Tilanne 2026" in kaisa.last.text
    await sanna.send("/henkilot")
    await sanna.press("Kaisa", exact=False)
    await sanna.press("✓ Koordinaattori")
    await kaisa.send("/muistuta")
    assert "Sinulla ei ole oikeutta tähän." in kaisa.last.text
    assert all(command != "muistuta" for command, _ in kaisa.command_menu())


async def test_an_old_role_button_sets_the_state_it_shows_instead_of_toggling(
    bot: BotHarness,
) -> None:
    sanna = staff(bot, 3031)
    bot.register(3032, Role.STAFF, name="Kaisa")
    await sanna.send("/henkilot")
    await sanna.press("Kaisa", exact=False)
    give = sanna.last.find_button("Koordinaattori")
    assert give is not None
    await sanna.press("Koordinaattori")
    await sanna.press_data(str(give["callback_data"]))  # the same old button again
    kaisa = person(bot, 3032)
    assert kaisa is not None and kaisa.role_set == {Role.STAFF, Role.COORDINATOR}


async def test_making_someone_a_contact_asks_the_division_first(bot: BotHarness) -> None:
    sanna = staff(bot, 3041)
    bot.register(3042, Role.COORDINATOR, name="Kaisa")
    await sanna.send("/henkilot")
    await sanna.press("Kaisa", exact=False)
    answer = await sanna.press("Toimialan yhteyshenkilö")
    assert answer.text == "Valitse ensin toimiala."
    assert "minkä toimialan puolesta" in sanna.last.text
    await sanna.press("SOTE – Sosiaali- ja terveystoimiala")
    kaisa = person(bot, 3042)
    assert kaisa is not None and kaisa.role_set == {Role.CONTACT, Role.COORDINATOR}
    assert kaisa.division_id == division_id(bot, "SOTE")
    assert "Toimiala: SOTE" in sanna.last.text


async def test_changing_a_contacts_division(bot: BotHarness) -> None:
    sanna = staff(bot, 3051)
    aino = bot.contact(3052, "KUVA", "Aino")
    await aino.start()
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    await sanna.press("Vaihda toimiala")
    await sanna.press("KYMP – Kaupunkiympäristön toimiala")
    moved = person(bot, 3052)
    assert moved is not None and moved.division_id == division_id(bot, "KYMP")
    assert "Toimiala: KYMP – Kaupunkiympäristön toimiala" in aino.last.text


async def test_the_last_role_cannot_be_taken_only_access_removed(bot: BotHarness) -> None:
    sanna = staff(bot, 3061)
    bot.register(3062, Role.COORDINATOR, name="Kaisa")
    await sanna.send("/henkilot")
    await sanna.press("Kaisa", exact=False)
    answer = await sanna.press("✓ Koordinaattori")
    assert answer.show_alert and "vähintään yksi rooli" in (answer.text or "")
    kaisa = person(bot, 3062)
    assert kaisa is not None and kaisa.role_set == {Role.COORDINATOR}


async def test_removing_access_keeps_what_the_person_reported(bot: BotHarness) -> None:
    sanna = staff(bot, 3071)
    aino = bot.contact(3072, "KUVA", "Aino")
    await aino.start()
    report_entity(bot, 3072, "KUVA_KIRJASTO")
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    await sanna.press("Poista käyttöoikeus")
    assert "Poistetaanko henkilön Aino käyttöoikeus" in sanna.last.text
    await sanna.press("Kyllä, poista käyttöoikeus")
    assert "Henkilöllä Aino ei ole enää käyttöoikeutta." in sanna.last.text
    assert "Käyttöoikeutesi tähän bottiin on poistettu." in aino.last.text
    await aino.send("/tila")
    assert "käyttöoikeutta" in aino.last.text
    assert [c for c, _ in aino.command_menu()] == ["start", "ohje", "kieli"]
    removed = person(bot, 3072)
    assert removed is not None and not removed.active and removed.roles == []
    with bot.db.session() as session:
        reporters = set(session.scalars(select(ParticipationEntry.reported_by_id)))
    assert reporters == {removed.id}


async def test_staff_cannot_remove_their_own_access_or_staff_role(bot: BotHarness) -> None:
    sanna = staff(bot, 3081, "Sanna")
    await sanna.send("/henkilot")
    await sanna.press("Sanna", exact=False)
    answer = await sanna.press("✓ Strategiayksikön asiantuntija")
    assert answer.show_alert and "Et voi poistaa omaa" in (answer.text or "")
    answer = await sanna.press("Poista käyttöoikeus")
    assert answer.show_alert and "Et voi poistaa omaa" in (answer.text or "")
    me = person(bot, 3081)
    assert me is not None and me.active and me.role_set == {Role.STAFF}


async def test_a_button_about_a_removed_person_is_no_longer_valid(bot: BotHarness) -> None:
    sanna = staff(bot, 3091)
    bot.register(3092, Role.COORDINATOR, name="Kaisa")
    await sanna.send("/henkilot")
    old_button = sanna.last.find_button("Kaisa", exact=False)
    assert old_button is not None
    await sanna.press("Kaisa", exact=False)
    await sanna.press("Poista käyttöoikeus")
    await sanna.press("Kyllä, poista käyttöoikeus")
    answer = await sanna.press_data(str(old_button["callback_data"]))
    assert answer.show_alert and answer.text == "Tämä painike ei ole enää voimassa."


async def test_a_coordinator_cannot_use_the_people_buttons(bot: BotHarness) -> None:
    kaisa = coordinator(bot, 3101)
    target = staff(bot, 3102, "Sanna")
    sanna_id = person(bot, 3102).id  # type: ignore[union-attr]
    await kaisa.send("/ohje")
    answer = await kaisa.press_data(f"henk:rmok:{sanna_id}")
    assert answer.show_alert and answer.text == "Sinulla ei ole oikeutta tähän."
    still = person(bot, 3102)
    assert still is not None and still.active
    assert target.messages == []

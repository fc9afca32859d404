"""/muistuta: a coordinator reminds the incomplete divisions now and sees the counts."""

from __future__ import annotations

from data.models import ReminderLedger, Role

from .conftest import BotHarness
from .test_admin_support import coordinator, report_division, report_entity, staff


async def _setup(bot: BotHarness):  # type: ignore[no-untyped-def]
    """KUVA half done, SOTE nothing, KASKO complete, KYMP without a contact."""
    aino = bot.contact(5001, "KUVA", "Aino")
    saara = bot.contact(5002, "SOTE", "Saara")
    kerttu = bot.contact(5003, "KASKO", "Kerttu")
    for user in (aino, saara, kerttu):
        await user.start()
    report_entity(bot, 5001, "KUVA_KIRJASTO")
    report_division(bot, 5003, "KASKO")
    return aino, saara, kerttu


async def test_coordinator_sees_who_is_incomplete_and_whether_anyone_can_be_reminded(
    bot: BotHarness,
) -> None:
    await _setup(bot)
    kaisa = coordinator(bot, 5010)
    await kaisa.send("/muistuta")
    text = kaisa.last.text
    assert "Keskeneräiset toimialat:" in text
    assert (
        "KYMP: raportoitu 0/4, tyytyväisyyden mittaus kartoitettu 0/4 – ei vielä yhteyshenkilöä"
        in (text)
    )
    assert "SOTE: raportoitu 0/4" in text and "yhteyshenkilöitä: 1" in text
    assert "KUVA: raportoitu 1/5, tyytyväisyyden mittaus kartoitettu 1/5" in text
    assert "KASKO" not in text
    assert kaisa.last.buttons == [
        ["Kaikki keskeneräiset toimialat (3)"],
        ["KYMP"],
        ["SOTE"],
        ["KUVA"],
        ["Sulje"],
    ]


async def test_reminding_all_incomplete_divisions_reaches_their_contacts_once(
    bot: BotHarness,
) -> None:
    aino, saara, kerttu = await _setup(bot)
    kaisa = coordinator(bot, 5020)
    await kaisa.send("/muistuta")
    menu = kaisa.last
    await kaisa.press("Kaikki keskeneräiset toimialat (3)")
    assert menu.text.startswith(
        "Muistutukset (kaikki keskeneräiset toimialat): lähetetty 2, ei voitu toimittaa 0, "
        "ohitettu 0."
    )
    assert "Ei yhteyshenkilöä muistutettavaksi: KYMP." in menu.text
    assert menu.buttons == []  # the menu became the result: it cannot be sent twice
    for contact in (aino, saara):
        assert contact.last.buttons, contact.last.text  # a button to start reporting
    assert "Koordinaattori pyytää sinua täydentämään" in aino.last.text
    assert "Sosiaali" not in aino.last.text and "Perhe- ja sosiaalipalvelut" not in aino.last.text
    assert len(kerttu.messages) == 1  # only the /start answer: KASKO is complete

    await kaisa.send("/muistuta")
    await kaisa.press("Kaikki keskeneräiset toimialat (3)")
    assert "lähetetty 0, ei voitu toimittaa 0, ohitettu 2." in kaisa.last.text
    with bot.db.session() as session:
        assert session.query(ReminderLedger).filter_by(kind="nudge").count() == 2


async def test_reminding_one_division_reaches_only_its_contacts(bot: BotHarness) -> None:
    aino, saara, _kerttu = await _setup(bot)
    kaisa = coordinator(bot, 5030)
    await kaisa.send("/muistuta")
    before = len(aino.messages)
    await kaisa.press("SOTE")
    assert "Muistutukset (SOTE): lähetetty 1" in kaisa.last.text
    assert len(aino.messages) == before
    assert saara.last.buttons


async def test_a_contact_who_blocked_the_bot_counts_as_not_delivered(bot: BotHarness) -> None:
    aino, _saara, _kerttu = await _setup(bot)
    aino.block()
    kaisa = coordinator(bot, 5040)
    await kaisa.send("/muistuta")
    await kaisa.press("KUVA")
    assert "Muistutukset (KUVA): lähetetty 0, ei voitu toimittaa 1" in kaisa.last.text


async def test_a_division_completed_meanwhile_is_no_longer_offered(bot: BotHarness) -> None:
    await _setup(bot)
    kaisa = coordinator(bot, 5050)
    await kaisa.send("/muistuta")
    report_division(bot, 5001, "KUVA")
    answer = await kaisa.press("KUVA")
    assert answer.show_alert and answer.text == "Tämä painike ei ole enää voimassa."


async def test_when_everyone_is_complete_there_is_nothing_to_send(bot: BotHarness) -> None:
    for n, code in enumerate(("KYMP", "KASKO", "SOTE", "KUVA")):
        bot.contact(5060 + n, code)
        report_division(bot, 5060 + n, code)
    kaisa = coordinator(bot, 5070)
    await kaisa.send("/muistuta")
    assert kaisa.last.text == "Kaikki toimialat ovat valmiita; ketään ei tarvitse muistuttaa."
    assert kaisa.last.buttons == []


async def test_strategy_staff_without_the_coordinator_role_cannot_nudge(bot: BotHarness) -> None:
    await _setup(bot)
    sanna = staff(bot, 5080)
    await sanna.send("/muistuta")
    assert sanna.last.text == "Sinulla ei ole oikeutta tähän."
    answer = await sanna.press_data("muistuta:all")
    assert answer.text == "Sinulla ei ole oikeutta tähän."
    bot.register(5080, Role.COORDINATOR)
    await sanna.send("/muistuta")
    assert "Keskeneräiset toimialat:" in sanna.last.text

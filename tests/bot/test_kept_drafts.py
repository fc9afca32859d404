"""Nothing vanishes silently (issue 16, item 6): leaving a service entity with unsaved
answers keeps them as that entity's draft, says so, and gives them back when the entity is
opened again — also after another entity was saved in between."""

from __future__ import annotations

from .conftest import BotHarness
from .test_reporting_helpers import participation, satisfaction


async def test_answers_left_behind_by_back_and_another_entity_are_kept_and_said(
    bot: BotHarness,
) -> None:
    aino = bot.contact(4701, "KUVA")
    await aino.send("/raportoi")
    await aino.press("Kirjasto")
    await aino.send("1 4")  # level 1 answered, on to level 2
    await aino.press("‹ Takaisin")
    await aino.press("‹ Takaisin")  # the entity list
    assert "Kirjasto (tallentamattomia vastauksia)" not in str(aino.last.buttons)
    await aino.press("Liikunta")
    assert "Palvelukokonaisuuden Kirjasto tallentamattomat vastaukset säilyvät" in aino.last.text
    await aino.press("‹ Takaisin")
    assert "Kirjasto (tallentamattomia vastauksia)" in str(aino.last.buttons)
    await aino.press("Kirjasto (tallentamattomia vastauksia)")
    text = aino.last.text
    assert "Nämä ovat palvelukokonaisuuden Kirjasto tallentamattomat vastauksesi" in text
    assert "Tiedotustilaisuudet – Lkm 4" in text and "Yhteenveto: Kirjasto" in text
    assert participation(bot, "KUVA_KIRJASTO") == []  # nothing saved behind the person's back


async def test_saving_one_entity_keeps_the_unsaved_answers_of_another(bot: BotHarness) -> None:
    aino = bot.contact(4702, "KUVA")
    await aino.send("/raportoi")
    await aino.press("Kirjasto")
    await aino.send("1 4")
    await aino.press("‹ Takaisin")
    await aino.press("‹ Takaisin")
    await aino.press("Nuoriso")
    for _level in range(4):
        await aino.press("Ei tapoja tällä tasolla")
    await aino.press("💾 Tallenna")
    assert "Tallennettu: Nuoriso, 2026" in aino.last.text
    await aino.press("Raportoi toinen palvelukokonaisuus")
    await aino.press("Kirjasto (tallentamattomia vastauksia)")
    assert "Tiedotustilaisuudet – Lkm 4" in aino.last.text
    await aino.press("💾 Tallenna")
    assert [(a["level"], a["count"]) for a in participation(bot, "KUVA_KIRJASTO")] == [(1, 4)]


async def test_satisfaction_answers_left_for_another_entity_are_kept(bot: BotHarness) -> None:
    aino = bot.contact(4703, "KUVA")
    await aino.send("/tyytyvaisyys")
    await aino.press("Kirjasto")
    await aino.press("☐ Suositteluindeksi (NPS, 0–10)")
    await aino.press("Jatka ›")
    await aino.press("Kerran vuodessa")
    await aino.send("50 30 20")
    await aino.send("/tyytyvaisyys")  # the same flow again: continue where I left off
    await aino.press("Jatka")
    while "Valitse palvelukokonaisuus" not in aino.last.text:
        await aino.press("‹ Takaisin")
    await aino.press("Liikunta")
    assert "Palvelukokonaisuuden Kirjasto tallentamattomat vastaukset säilyvät" in aino.last.text
    await aino.press("‹ Takaisin")
    await aino.press("Kirjasto (tallentamattomia vastauksia)")
    assert "Nämä ovat palvelukokonaisuuden Kirjasto" in aino.last.text
    assert satisfaction(bot, "KUVA_KIRJASTO") == []

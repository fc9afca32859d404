"""Bad input in /tyytyvaisyys: NPS range, counts that do not add up, scales, stale toggles."""

from __future__ import annotations

from data import catalog
from data.models import MeasurementType, utcnow

from .conftest import BotHarness
from .test_reporting_helpers import button_data, draft, satisfaction, type_id

STALE = "Tämä painike ei ole enää voimassa."


async def _at_nps(bot: BotHarness, user_id: int):  # type: ignore[no-untyped-def]
    user = bot.contact(user_id, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Kulttuuri")
    await user.press("☐ Suositteluindeksi (NPS, 0–10)")
    await user.press("Jatka ›")
    await user.press("Kerran vuodessa")
    return user


async def test_nps_outside_minus_100_to_100_is_refused(bot: BotHarness) -> None:
    user = await _at_nps(bot, 7001)
    for text, expected in {
        "150": "150 on sen ulkopuolella",
        "-101": "−101 on sen ulkopuolella",
        "30,5": "kokonaislukuna väliltä −100–100",
        "paljon": "kokonaislukuna väliltä −100–100",
    }.items():
        await user.send(text)
        assert expected in user.last.text, text
        assert "Viimeisin NPS: kirjoita luku" in user.last.text  # the same question again
    await user.send("+100")
    assert "Miltä ajalta viimeisin tulos on?" in user.last.text
    assert draft(bot, 7001, "satisfaction").data["answers"][str(type_id(bot, "NPS"))]["nps"] == 100  # type: ignore[union-attr]


async def test_nps_counts_in_one_message_give_the_score_and_the_respondents(
    bot: BotHarness,
) -> None:
    user = await _at_nps(bot, 7002)
    await user.send("0 0 0")
    assert "summa on 0: NPS vaatii vähintään yhden vastauksen" in user.last.text
    assert "Viimeisin NPS: kirjoita luku" in user.last.text  # asked again
    await user.send("1 000 0")  # thousands with spaces cannot be told apart: say how
    assert "erota kolme lukua pilkuilla" in user.last.text
    await user.send("0, 0, 1 000")
    assert "Määristä laskettu NPS: −100" in user.last.text
    await user.press("Ohita")  # the period; the respondents are the counts' sum
    assert "Yhteenveto" in user.last.text
    await user.press("💾 Tallenna")
    [saved] = satisfaction(bot, "KUVA_KULTTUURI")
    assert (saved.nps, saved.detractors, saved.respondents) == (-100, 1000, 1000)


async def test_scale_results_must_be_numbers_on_the_scale(bot: BotHarness) -> None:
    user = bot.contact(7003, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Kirjasto")
    await user.press("☐ Kysely (asteikko 1–5)")
    await user.press("Jatka ›")
    await user.press("Pidä ennallaan (1–5)")
    await user.press("Kuukausittain")
    for text, expected in {
        "5,5": "asteikolla 1–5",
        "0": "asteikolla 1–5",
        "hyvä": "lukuna",
    }.items():
        await user.send(text)
        assert expected in user.last.text, text
    await user.send("4.5")
    await user.press("‹ Takaisin")
    assert "asteikolla 1–5, esim. 4,2" in user.last.text
    await user.press("‹ Takaisin")
    await user.press("‹ Takaisin")
    await user.send("1–10")  # the person's own scale decides the range from now on
    await user.press("Kuukausittain")
    await user.send("7,5")
    await user.send("x" * 101)
    assert "101 merkkiä pitkä; enintään 100 mahtuu" in user.last.text
    await user.send("2025")
    await user.press("Ohita")
    await user.press("💾 Tallenna")
    [saved] = satisfaction(bot, "KUVA_KIRJASTO")
    assert (saved.scale, saved.latest_result, saved.period) == ("1–10", "7,5", "2025")


async def test_stale_and_forged_buttons_change_nothing(bot: BotHarness) -> None:
    user = bot.contact(7004, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Nuoriso")
    record = await user.press("Jatka ›")
    assert (
        record.text == "Valitse vähintään yksi mittaustapa tai ”Ei mitata”." and record.show_alert
    )
    toggle = button_data(user, "☐ Muu tapa").split(":")
    for arg in (str(type_id(bot, "NOT_MEASURED")), "999999", "x"):
        record = await user.press_data(":".join([*toggle[:4], arg]))
        assert record.text == STALE
    with bot.db.transaction() as session:
        smiley = session.get(MeasurementType, type_id(bot, "SMILEY"))
        assert smiley is not None
        smiley.retired_at = utcnow()
    catalog.invalidate()  # the catalog is edited behind the process-held copy
    record = await user.press("☐ Hymiöpäätteet (HappyOrNot)")
    assert record.text == STALE
    assert draft(bot, 7004, "satisfaction").data.get("types") == []  # type: ignore[union-attr]
    old = button_data(user, "☐ Muu tapa")
    await user.press("☐ Muu tapa")
    await user.press("Jatka ›")
    record = await user.press_data(old)
    assert record.text == STALE
    assert "Muu tapa (1/1)" in user.last.text

"""/tyytyvaisyys through the local Telegram: the satisfaction mapping of a service entity."""

from __future__ import annotations

from data import catalog, people, reports

from .conftest import BotHarness
from .test_reporting_helpers import YEAR, draft, entity_id, satisfaction, type_id


async def test_full_mapping_with_nps_computed_from_counts_and_a_survey(bot: BotHarness) -> None:
    user = bot.contact(6001, "KUVA")
    await user.send("/tyytyvaisyys")
    assert "Vaihe 1/4" in user.last.text and "Asiakastyytyväisyys 2026" in user.last.text
    await user.press("Kirjasto")
    assert (
        "Vaihe 2/4" in user.last.text and "Miten asiakastyytyväisyyttä mitataan?" in user.last.text
    )
    types_message = user.last
    await user.press("☐ Suositteluindeksi (NPS, 0–10)")
    await user.press("☐ Kysely (asteikko 1–5)")
    assert user.last.message_id == types_message.message_id  # toggles update the same message
    assert ["☑ Kysely (asteikko 1–5)"] in user.last.buttons
    await user.press("Jatka ›")

    assert "Vaihe 3/4" in user.last.text
    assert "Kirjasto – Suositteluindeksi (NPS, 0–10) (1/2)" in user.last.text
    assert "Kuinka usein mitataan?" in user.last.text  # NPS asks no scale
    await user.press("Kerran vuodessa")
    assert "suosittelijoiden (9–10)" in user.last.text
    await user.send("50 30 20")  # the counts in one message
    assert "Määristä laskettu NPS: 30." in user.last.text
    await user.send("2025")  # the respondents are the counts' sum: not asked

    assert "Kysely (asteikko 1–5) (2/2)" in user.last.text
    await user.press("Pidä ennallaan (1–5)")
    await user.send("Kuukausittain")
    await user.send("4,2")
    await user.send("syksy 2025")
    await user.send("1 200")

    review = user.last.text
    assert "Vaihe 4/4" in review and "Yhteenveto: Kirjasto (2026)" in review
    assert "NPS 30 (suosittelijat 50, neutraalit 30, arvostelijat 20)" in review
    assert "Asteikko: 1–5 · Tiheys: Kuukausittain" in review
    assert "Viimeisin tulos: 4,2 · Ajanjakso: syksy 2025 · Vastaajia: 1\xa0200" in review
    assert satisfaction(bot, "KUVA_KIRJASTO") == []
    await user.press("💾 Tallenna")
    assert "Tallennettu: Kirjasto, 2026" in user.last.text

    saved = {a.measurement_type_id: a for a in satisfaction(bot, "KUVA_KIRJASTO")}
    nps = saved[type_id(bot, "NPS")]
    assert (nps.nps, nps.promoters, nps.passives, nps.detractors, nps.respondents) == (
        30,
        50,
        30,
        20,
        100,
    )
    assert (nps.scale, nps.frequency, nps.period) == (None, "yearly", "2025")
    survey = saved[type_id(bot, "SURVEY_1_5")]
    assert (survey.scale, survey.frequency, survey.latest_result, survey.respondents) == (
        "1–5",
        "monthly",
        "4,2",
        1200,
    )
    assert draft(bot, 6001, "satisfaction") is None
    await user.press("Kartoita toinen palvelukokonaisuus")
    assert ["✓ Kirjasto"] in user.last.buttons


async def test_nps_score_given_directly_and_smiley_terminals_with_free_text(
    bot: BotHarness,
) -> None:
    user = bot.contact(6002, "SOTE")
    await user.send("/tyytyvaisyys")
    await user.press("Hallinto")
    await user.press("☐ Suositteluindeksi (NPS, 0–10)")
    await user.press("☐ Hymiöpäätteet (HappyOrNot)")
    await user.press("Jatka ›")
    await user.send("Kaksi kertaa vuodessa")
    await user.send("−12")  # one number: the score itself
    await user.press("Ohita")
    await user.press("Ohita")
    assert "Hymiöpäätteet (HappyOrNot) (2/2)" in user.last.text
    await user.press("Jatkuvasti")  # no scale for smiley terminals
    await user.send("82 % myönteisiä")
    await user.press("Ohita")
    await user.send("5400")
    await user.press("💾 Tallenna")
    saved = {a.measurement_type_id: a for a in satisfaction(bot, "SOTE_HALLINTO")}
    nps = saved[type_id(bot, "NPS")]
    assert (nps.nps, nps.promoters, nps.respondents, nps.frequency) == (
        -12,
        None,
        None,
        "other",
    )
    assert nps.frequency_text == "Kaksi kertaa vuodessa"
    smiley = saved[type_id(bot, "SMILEY")]
    assert (smiley.scale, smiley.latest_result, smiley.respondents, smiley.frequency) == (
        None,
        "82 % myönteisiä",
        5400,
        "continuous",
    )


async def test_not_measured_is_an_answer_of_its_own(bot: BotHarness) -> None:
    user = bot.contact(6003, "KYMP")
    await user.send("/tyytyvaisyys")
    await user.press("Hallinto- ja tukipalvelut")
    await user.press("☐ Kysely (asteikko 1–5)")
    await user.press("Ei mitata")
    assert "1) Ei mitata" in user.last.text
    assert "✎" not in str(user.last.buttons) and ["🗑 Ei mitata"] in user.last.buttons
    await user.press("💾 Tallenna")
    saved = satisfaction(bot, "KYMP_HALLINTO")
    assert [a.measurement_type_id for a in saved] == [type_id(bot, "NOT_MEASURED")]


async def test_review_changes_one_way_of_measuring_and_removes_another(bot: BotHarness) -> None:
    user = bot.contact(6004, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Liikunta")
    await user.press("☐ Kouluarvosana (4–10)")
    await user.press("☐ Muu tapa")
    await user.press("Jatka ›")
    await user.press("Pidä ennallaan (4–10)")
    await user.press("Kerran vuodessa")
    await user.send("8,4")
    await user.send("2025")
    await user.send("300")
    assert "Muu tapa (2/2)" in user.last.text and "Mikä muu mittaustapa on?" in user.last.text
    await user.send("Palautelaatikko")
    assert "Muu tapa: Palautelaatikko (2/2)" in user.last.text
    await user.press("Ohita")  # no scale
    await user.press("Harvemmin")
    await user.press("Ohita")
    await user.press("Ohita")
    await user.press("Ohita")
    assert "Viimeisin tulos: 8,4" in user.last.text and "2) Muu tapa: Palautelaatikko" in (
        user.last.text
    )

    await user.press("✎ Kouluarvosana (4–10)")  # the buttons name the way (item 15)
    assert "Kouluarvosana (4–10) (1/2)" in user.last.text
    await user.press("Pidä ennallaan (4–10)")
    await user.press("Pidä ennallaan (Kerran vuodessa)")
    assert "Nyt: 8,4" in user.last.text
    await user.send("8,6")
    await user.press("Pidä ennallaan (2025)")  # kept, not dropped
    await user.press("Pidä ennallaan (300)")
    assert "Yhteenveto" in user.last.text  # back to the review after that one way
    assert "Viimeisin tulos: 8,6 · Ajanjakso: 2025 · Vastaajia: 300" in user.last.text
    await user.press("🗑 Muu tapa: Palautelaatikko")
    assert "Muu tapa" not in user.last.text
    await user.press("Muuta mittaustapoja")
    assert ["☑ Kouluarvosana (4–10)"] in user.last.buttons
    await user.press("‹ Takaisin")
    assert "Valitse palvelukokonaisuus" in user.last.text
    await user.press("Liikunta")
    await user.press("Jatka ›")
    for label in ("Pidä ennallaan (4–10)", "Pidä ennallaan (Kerran vuodessa)"):
        await user.press(label)
    await user.send("8,7")
    await user.send("2025")
    await user.send("310")
    await user.press("💾 Tallenna")
    saved = satisfaction(bot, "KUVA_LIIKUNTA")
    assert [(a.latest_result, a.respondents) for a in saved] == [("8,7", 310)]


async def test_last_years_mapping_is_offered_as_the_starting_point(bot: BotHarness) -> None:
    user = bot.contact(6005, "KUVA")
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, 6005)
        assert contact is not None
        nps = next(t for t in catalog.measurement_types(session) if t.code == "NPS")
        reports.save_satisfaction(
            session,
            contact,
            YEAR - 1,
            entity_id(bot, "KUVA_NUORISO"),
            [
                reports.SatisfactionAnswer(
                    nps.id, scale="0–10", promoters=8, passives=1, detractors=1
                )
            ],
        )
    await user.send("/tyytyvaisyys")
    await user.press("Nuoriso")
    assert "Viime vuonna (2025)" in user.last.text
    assert "NPS 70 (suosittelijat 8, neutraalit 1, arvostelijat 1)" in user.last.text
    await user.press("Käytä viime vuoden vastauksia")
    # Item 13: last year's results are never this year's without a question: the way of
    # measuring is copied, the result is asked with last year's offered and named so.
    assert "Yhteenveto" not in user.last.text
    await user.press("Kerran vuodessa")
    last_year = "NPS 70 (suosittelijat 8, neutraalit 1, arvostelijat 1)"
    assert f"Vuonna 2025: {last_year}" in user.last.text and "Nyt:" not in user.last.text
    assert ["Sama kuin 2025 (NPS 70)"] in user.last.buttons  # the score alone on a button
    await user.send("9, 1, 0")
    await user.press("Ohita")
    await user.press("💾 Tallenna")
    [saved] = satisfaction(bot, "KUVA_NUORISO")
    assert (saved.nps, saved.respondents) == (90, 10)
    assert [a.nps for a in satisfaction(bot, "KUVA_NUORISO", YEAR - 1)] == [70]

"""The guided conversations speak Finnish, Swedish and English (Telegram's language or /kieli)."""

from __future__ import annotations

from .conftest import BotHarness
from .test_reporting_helpers import participation, satisfaction


async def test_a_swedish_speaking_contact_reports_in_swedish(bot: BotHarness) -> None:
    user = bot.contact(8001, "KASKO", "Sven", language="sv-FI")
    await user.send("/raportoi")
    assert (
        "Steg 1/6" in user.last.text
        and "Delaktighetsrapport 2026: Fostrans- och utbildningssektorn" in user.last.text
    )
    await user.press("Svenska tjänster")
    assert "Nivå 1: Kommunikation och hörande" in user.last.text
    await user.press("Enkäter")
    await user.send("tolv")
    assert "Skriv antalet som ett heltal 1–100\xa0000" in user.last.text
    await user.send("12")
    await user.press("Nästa nivå ›")
    for _ in range(3):
        await user.press("Inga metoder på den här nivån")
    assert "Sammanfattning: Svenska tjänster (2026)" in user.last.text
    await user.press("💾 Spara")
    assert "Sparat: Svenska tjänster, 2026." in user.last.text
    assert len(participation(bot, "KASKO_RUOTSINKIELISET")) == 4


async def test_an_english_speaking_contact_maps_satisfaction_in_english(bot: BotHarness) -> None:
    user = bot.contact(8002, "SOTE", "Ann", language="en")
    await user.send("/tyytyvaisyys")
    assert (
        "Step 1/4" in user.last.text
        and "Customer satisfaction 2026: Social Services" in user.last.text
    )
    await user.press("Family and social services")
    await user.press("☐ Net Promoter Score (NPS, 0–10)")
    await user.press("Continue ›")
    await user.press("Monthly")
    await user.send("10 5 5")
    assert "NPS computed from the counts: 25." in user.last.text
    await user.send("/ohje")
    assert "When the latest result was collected" in user.texts()[-2]
    await user.press("Skip")
    assert "Respondents: 20" in user.last.text
    await user.press("💾 Save")
    assert "Saved: Family and social services, 2026." in user.last.text
    [saved] = satisfaction(bot, "SOTE_PERHE_SOSIAALI")
    assert (saved.nps, saved.frequency) == (25, "monthly")  # stored as the catalog code


async def test_language_switched_with_kieli_applies_to_the_next_question(bot: BotHarness) -> None:
    user = bot.contact(8003, "KUVA")
    await user.send("/tyytyvaisyys")
    question = user.last
    assert "Vaihe 1/4" in question.text
    await user.send("/kieli")
    await user.press("English")
    await user.press("Kulttuuri")  # the list was asked in Finnish; the next question is not
    # The press turned the list's message into the next question, in place.
    assert "Step 2/4" in question.text and "How is customer satisfaction measured?" in (
        question.text
    )
    await user.press("Not measured")
    await user.press("💾 Save")
    assert "Saved: Culture, 2026." in user.last.text

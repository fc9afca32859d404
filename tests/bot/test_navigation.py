"""Navigation in the guided conversations: Back, /peru, /ohje, idle timeout, restart, pausing."""

from __future__ import annotations

import asyncio

from settings import Conversation

from .conftest import BotHarness
from .test_reporting_helpers import button_data, draft, participation

IDLE = "Keskustelu päättyi, koska mitään ei tapahtunut 30 minuuttiin"


async def test_back_goes_one_question_back_and_the_step_counter_follows(bot: BotHarness) -> None:
    user = bot.contact(5001, "KUVA")
    await user.send("/raportoi")
    assert "‹ Takaisin" not in str(user.last.buttons)  # nothing before the first step
    await user.press("Liikunta")
    await user.press("Ei tapoja tällä tasolla")
    assert user.last.text.startswith("Vaihe 3/6") and "Taso 2" in user.last.text
    await user.press("Keskustelutilaisuudet")
    assert "Lkm: kuinka monta" in user.last.text and "Vaihe 3/6" in user.last.text
    await user.press("‹ Takaisin")  # no count given: back at the level, nothing added
    assert "Taso 2" in user.last.text and "Keskustelutilaisuudet – Lkm" not in user.last.text
    await user.press("Keskustelutilaisuudet")
    await user.send("2")
    assert "Taso 2" in user.last.text and "• Keskustelutilaisuudet – Lkm 2" in user.last.text
    await user.press("‹ Takaisin")
    assert user.last.text.startswith("Vaihe 2/6") and "Taso 1" in user.last.text
    assert "Vastattu: tällä tasolla ei ole tapoja." in user.last.text  # the answer is kept
    await user.press("‹ Takaisin")
    assert user.last.text.startswith("Vaihe 1/6")
    await user.press("Liikunta")
    await user.press("Seuraava taso ›")  # level 1 was answered before going back
    await user.press("Seuraava taso ›")  # and level 2 too
    for _ in range(2):
        await user.press("Ei tapoja tällä tasolla")
    assert "Vaihe 6/6" in user.last.text
    await user.press("‹ Takaisin")
    assert "Vaihe 5/6" in user.last.text and "Taso 4" in user.last.text


async def test_peru_cancels_and_nothing_is_half_saved(bot: BotHarness) -> None:
    user = bot.contact(5002, "KUVA")
    await user.send("/raportoi")
    await user.press("Kulttuuri")
    await user.press("Kyselyt")
    await user.send("9")
    await user.send("/peru")
    assert "Peruttu" in user.last.text
    assert draft(bot, 5002, "reporting") is None
    assert participation(bot, "KUVA_KULTTUURI") == []
    await user.send("/peru")  # nothing open any more
    assert user.last.text == "Ei ole mitään peruttavaa."
    await user.send("9")  # no conversation any more: the general fallback answers
    assert "Peruttu" not in user.last.text and "Lkm 9" not in user.last.text
    record = await user.press("Palautekanavat")
    assert record.text == "Tämä painike ei ole enää voimassa."
    await user.send("/raportoi")
    assert "tallentamattomia" not in user.last.text and "Vaihe 1/6" in user.last.text


async def test_ohje_explains_the_current_step_and_asks_it_again(bot: BotHarness) -> None:
    user = bot.contact(5003, "KUVA")
    await user.send("/raportoi")
    await user.press("Kulttuuri")
    await user.press("Kyselyt")
    await user.send("/ohje")
    help_text, question = user.texts()[-2:]
    assert help_text.startswith("Ohje tähän vaiheeseen:")
    assert "Lkm (lukumäärä) on se, kuinka monta kertaa" in help_text and "/peru" in help_text
    assert "Lkm: kuinka monta vuonna 2026?" in question
    await user.send("4")
    assert "Lkm 4" in user.last.text


async def test_an_idle_conversation_ends_with_a_message_and_the_draft_is_offered_later(
    bot: BotHarness,
) -> None:
    user = bot.contact(5004, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.press("Kyselyt")
    await user.send("15")
    await user.press("✎ Lisää huomautus: Kyselyt")
    bot.clock.advance(minutes=29)
    await user.send("Lainaajakysely")  # 29 minutes is not idle yet
    assert "• Kyselyt – Lkm 15 (Lainaajakysely)" in user.last.text
    await user.press("Muu tapa – kirjoita")
    bot.clock.advance(minutes=31)
    await user.send("Lukupiiri")
    assert user.last.text.startswith(IDLE)
    assert "/raportoi jatkaa siitä, mihin jäit" in user.last.text
    kept = draft(bot, 5004, "reporting")
    assert kept is not None and kept.step == "method"
    await user.send("Lukupiiri")  # the conversation has ended: not taken as a method name
    assert "Lkm: kuinka monta" not in user.last.text

    await user.send("/raportoi")
    resume = "Sinulla on tallentamattomia vastauksia (viimeksi muutettu 2.11.2026 10.29)"
    assert f"{resume}: Kirjasto, taso 1" in user.last.text
    await user.press("Jatka")
    assert "Kirjoita osallisuuden tavan nimi" in user.last.text
    await user.send("Lukupiiri")
    await user.send("6")
    assert "• Kyselyt – Lkm 15 (Lainaajakysely)" in user.last.text
    assert "• Lukupiiri – Lkm 6" in user.last.text


async def test_start_over_discards_the_unsaved_answers(bot: BotHarness) -> None:
    user = bot.contact(5005, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.press("Kyselyt")
    await user.send("12")
    await user.send("/raportoi")
    await user.press("Aloita alusta")
    assert "Valitse raportoitava palvelukokonaisuus" in user.last.text
    await user.press("Kirjasto")
    assert "Kyselyt – Lkm" not in user.last.text


async def test_the_real_time_timer_also_ends_an_idle_conversation(bot: BotHarness) -> None:
    bot.settings = bot.settings.model_copy(
        update={"conversation": Conversation(idle_timeout_minutes=0.01)}
    )
    await bot.restart()
    user = bot.contact(5006, "KUVA")
    await user.send("/raportoi")
    bot.clock.advance(minutes=1)  # the job runs in real time and reads the drafts' clock
    for _ in range(40):
        if user.last.text.startswith("Keskustelu päättyi"):
            break
        await asyncio.sleep(0.05)
    assert user.last.text.startswith("Keskustelu päättyi, koska mitään ei tapahtunut 0.01")
    assert draft(bot, 5006, "reporting") is not None


async def test_after_a_restart_the_person_continues_at_the_same_step(bot: BotHarness) -> None:
    user = bot.contact(5007, "KASKO")
    await user.send("/raportoi")
    await user.press("Perusopetus")
    await user.press("Asiakasneuvontakanavat")
    await user.send("11")
    level_question = user.message_with_button("Kyselyt")

    await bot.restart()
    await user.press("Kyselyt", message=level_question)  # a button sent before the restart
    assert "Lkm: kuinka monta" in user.last.text

    await bot.restart()
    await user.send("22")  # typed text reaches the same step after the restart
    assert "• Kyselyt – Lkm 22" in user.last.text
    assert "• Asiakasneuvontakanavat – Lkm 11" in user.last.text

    await bot.restart()
    bot.clock.advance(minutes=45)  # and the idle check survives restarts too
    await user.press("Seuraava taso ›")
    assert user.last.text.startswith(IDLE)


async def test_another_command_pauses_the_report_and_kieli_does_not(bot: BotHarness) -> None:
    user = bot.contact(5008, "KUVA")
    await user.send("/raportoi")
    await user.press("Nuoriso")
    await user.press("Kyselyt")
    await user.send("/kieli")
    await user.press("Svenska")
    await user.send("5")  # still in the report, now in Swedish
    assert "• Enkäter – Antal 5" in user.last.text
    await user.send("/tila")  # only shows the status: the report stays open
    await user.send("/tilanne")  # another command pauses it, and says so
    assert any("Delaktighetsrapporten pausades" in text for text in user.texts()[-3:])
    await user.send("/raportoi")
    assert "Du har osparade svar" in user.last.text
    await user.press("Fortsätt")
    assert "• Enkäter – Antal 5" in user.last.text and "Nivå 1" in user.last.text


async def test_switching_between_reporting_and_satisfaction_keeps_both_drafts(
    bot: BotHarness,
) -> None:
    user = bot.contact(5009, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.press("Kyselyt")
    await user.send("/tyytyvaisyys")
    assert "Asiakastyytyväisyys 2026" in user.last.text
    assert not any("keskeytettiin" in text for text in user.texts())  # switching is quiet
    await user.press("Kirjasto")
    await user.press("☐ Kysely (asteikko 1–5)")
    await user.send("/raportoi")  # nothing typed there yet: the same question, no "continue?"
    assert "Kyselyt" in user.last.text and "Jatka" not in str(user.last.buttons)
    await user.send("4")  # goes to the report, not to the satisfaction mapping
    assert "• Kyselyt – Lkm 4" in user.last.text
    await user.press_data("satisfaction:start")
    assert "Sinulla on tallentamattomia vastauksia" in user.last.text
    await user.press("Jatka")
    assert "☑ Kysely (asteikko 1–5)" in str(user.last.buttons)
    reporting = draft(bot, 5009, "reporting")
    assert reporting is not None and reporting.step == "level"


async def test_old_buttons_of_another_step_are_refused_while_the_flow_runs(bot: BotHarness) -> None:
    user = bot.contact(5010, "KUVA")
    await user.send("/raportoi")
    entity_button = button_data(user, "Kulttuuri")
    await user.press("Kulttuuri")
    record = await user.press_data(entity_button)
    assert record.text == "Tämä painike ei ole enää voimassa." and record.show_alert
    assert "Taso 1" in user.last.text

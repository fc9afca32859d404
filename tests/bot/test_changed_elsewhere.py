"""No silent overwrite: a chat or Excel save based on answers changed elsewhere is refused.

The "elsewhere" here is a save through the data save functions with the source "miniapp",
as the Mini App makes it, between the chat opening an entity (or the file being checked)
and Tallenna.
"""

from __future__ import annotations

from typing import Any

from data import catalog, reports

from ..sheets.workbooks import fill, saved_state
from .conftest import BotHarness
from .test_reporting_helpers import (
    YEAR,
    draft,
    entity_id,
    participation,
    person,
    satisfaction,
    type_id,
)

XLSX = "Mittarit_KUVA_2026.xlsx"


def _mini_app_saves_participation(bot: BotHarness, telegram_id: int, code: str, count: int) -> None:
    with bot.db.transaction() as session:
        contact = session.merge(person(bot, telegram_id))
        level = next(lv for lv in catalog.levels(session) if lv.number == 1)
        reports.save_participation(
            session,
            contact,
            YEAR,
            entity_id(bot, code),
            [reports.ParticipationAnswer(level.id, method_text="Lukupiiri", count=count)],
            source="miniapp",
        )


async def _report_kyselyt(user: Any, count: str) -> None:
    """/raportoi Kirjasto: level 1 "Kyselyt <count>", levels 2–4 none; ends on the summary."""
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.press("Kyselyt")
    await user.send(count)
    await user.press("Seuraava taso ›")
    for _level in range(3):
        await user.press("Ei tapoja tällä tasolla")
    assert "Yhteenveto: Kirjasto (2026)" in user.last.text


async def test_a_chat_report_over_a_mini_app_save_is_refused_and_reopens_the_saved_answers(
    bot: BotHarness,
) -> None:
    user = bot.contact(9101, "KUVA")
    await _report_kyselyt(user, "5")
    _mini_app_saves_participation(bot, 9101, "KUVA_KIRJASTO", 99)

    await user.press("💾 Tallenna")
    text = user.last.text
    assert "Mitään ei tallennettu: palvelukokonaisuutta Kirjasto on muutettu muualla" in text
    assert "Tallentamattomat vastauksesi olivat:\n• 1: Kyselyt – Lkm 5" in text
    assert "Yhteenveto: Kirjasto (2026)" in text  # reopened on the summary …
    assert "1) Lukupiiri – Lkm 99" in text  # … with the answers saved now
    assert "Kyselyt – Lkm 5" not in text.split("Yhteenveto")[1]
    assert [(a["method"], a["count"]) for a in participation(bot, "KUVA_KIRJASTO")] == [
        ("Lukupiiri", 99)
    ]

    # The reopened answers are the new base: changing and saving them works.
    await user.press("✎ T1 Lukupiiri")
    await user.send("100")
    await user.press("💾 Tallenna")
    assert "Tallennettu: Kirjasto, 2026" in user.last.text
    assert [(a["method"], a["count"]) for a in participation(bot, "KUVA_KIRJASTO")] == [
        ("Lukupiiri", 100)
    ]
    assert draft(bot, 9101, "reporting") is None


async def test_a_chat_report_saves_as_before_when_nothing_changed_elsewhere(
    bot: BotHarness,
) -> None:
    user = bot.contact(9102, "KUVA")
    _mini_app_saves_participation(bot, 9102, "KUVA_LIIKUNTA", 7)  # another entity: no conflict
    await _report_kyselyt(user, "5")
    await user.press("💾 Tallenna")
    assert "Tallennettu: Kirjasto, 2026" in user.last.text
    saved = participation(bot, "KUVA_KIRJASTO")
    assert [(a["level"], a["method"], a["count"]) for a in saved if not a["none"]] == [
        (1, "Kyselyt", 5)
    ]
    assert sorted(a["level"] for a in saved if a["none"]) == [2, 3, 4]


async def test_a_chat_satisfaction_mapping_over_a_mini_app_save_is_refused(
    bot: BotHarness,
) -> None:
    user = bot.contact(9103, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Kirjasto")
    await user.press("☐ Suositteluindeksi (NPS, 0–10)")
    await user.press("Jatka ›")
    await user.press("Kerran vuodessa")
    await user.send("50 30 20")
    await user.send("2025")
    assert "Yhteenveto: Kirjasto (2026)" in user.last.text
    nps = type_id(bot, "NPS")
    with bot.db.transaction() as session:
        reports.save_satisfaction(
            session,
            session.merge(person(bot, 9103)),
            YEAR,
            entity_id(bot, "KUVA_KIRJASTO"),
            [reports.SatisfactionAnswer(measurement_type_id=nps, frequency="monthly", nps=10)],
            source="miniapp",
        )

    await user.press("💾 Tallenna")
    text = user.last.text
    assert "Mitään ei tallennettu: palvelukokonaisuutta Kirjasto on muutettu muualla" in text
    assert "Tallentamattomat vastauksesi olivat:" in text
    saved = satisfaction(bot, "KUVA_KIRJASTO")
    assert [(a.nps, a.frequency, a.promoters) for a in saved] == [(10, "monthly", None)]
    assert draft(bot, 9103, "satisfaction") is not None  # reopened, not ended

    await user.press("💾 Tallenna")  # saving the reopened answers goes through
    assert "Tallennettu: Kirjasto, 2026" in user.last.text


async def _workbook(user: Any) -> bytes:
    await user.send("/excel")
    assert user.documents, "the bot sent no workbook"
    content: bytes = user.documents[-1].content
    return content


async def test_excel_tallenna_after_a_mini_app_save_of_a_changed_entity_is_refused(
    bot: BotHarness,
) -> None:
    user = bot.contact(9104, "KUVA")
    filled = fill(await _workbook(user), {"Kirjasto": {"B7": "Kyselyt", "D7": 5}})
    await user.send_document(filled, XLSX)
    _mini_app_saves_participation(bot, 9104, "KUVA_KIRJASTO", 99)
    await user.press("Tallenna")
    assert (
        "Mitään ei tallennettu: tiedoston vastauksia on muutettu muualla (keskustelussa tai "
        "lomakkeella) tarkistuksen jälkeen — lähetä tiedosto uudelleen" in user.last.text
    )
    assert [a["count"] for a in saved_state(bot.db)["KUVA_KIRJASTO"][0]] == [99]


async def test_excel_tallenna_goes_through_when_only_an_entity_it_leaves_alone_changed(
    bot: BotHarness,
) -> None:
    user = bot.contact(9105, "KUVA")
    filled = fill(await _workbook(user), {"Kirjasto": {"B7": "Kyselyt", "D7": 5}})
    await user.send_document(filled, XLSX)
    _mini_app_saves_participation(bot, 9105, "KUVA_LIIKUNTA", 7)
    await user.press("Tallenna")
    assert "Tallennettu ✓" in user.last.text
    state = saved_state(bot.db)
    assert [a["count"] for a in state["KUVA_KIRJASTO"][0]] == [5]
    assert [a["count"] for a in state["KUVA_LIIKUNTA"][0]] == [7]  # the Mini App's stays


async def test_a_workbook_made_before_another_save_does_not_put_the_older_answers_back(
    bot: BotHarness,
) -> None:
    """The file still holds what Liikunta was when it was made (nothing); Liikunta has been
    saved since. Sending the file back with a change to Kirjasto only saves Kirjasto: the
    stale copy of Liikunta is not a change of the sender's (before, the summary offered to
    remove Liikunta's answers and *Tallenna* removed them: a confirmed save lost)."""
    user = bot.contact(9106, "KUVA")
    workbook = await _workbook(user)
    _mini_app_saves_participation(bot, 9106, "KUVA_LIIKUNTA", 7)
    await user.send_document(fill(workbook, {"Kirjasto": {"B7": "Kyselyt", "D7": 5}}), XLSX)
    assert "Kirjasto" in user.last.text and "Liikunta" not in user.last.text
    await user.press("Tallenna")
    assert "Tallennettu ✓" in user.last.text
    state = saved_state(bot.db)
    assert [a["count"] for a in state["KUVA_KIRJASTO"][0]] == [5]
    assert [a["count"] for a in state["KUVA_LIIKUNTA"][0]] == [7]


async def test_a_workbook_changing_an_entity_saved_since_it_was_made_is_refused_naming_it(
    bot: BotHarness,
) -> None:
    """Kirjasto was saved elsewhere after the workbook was made, and the file changes it
    too: as in the chat, a change based on answers changed since is refused (the file's
    other answers of Kirjasto are the older ones), and the sender is told to fetch a new
    workbook."""
    user = bot.contact(9107, "KUVA")
    workbook = await _workbook(user)
    _mini_app_saves_participation(bot, 9107, "KUVA_KIRJASTO", 99)
    await user.send_document(fill(workbook, {"Kirjasto": {"B7": "Kyselyt", "D7": 5}}), XLSX)
    assert (
        "Tiedostosta ei voi tallentaa mitään: Kirjasto on muutettu muualla (keskustelussa tai "
        "lomakkeella) työkirjan tekemisen jälkeen" in user.last.text
    )
    assert "/excel" in user.last.text and user.last.buttons == []
    assert [a["count"] for a in saved_state(bot.db)["KUVA_KIRJASTO"][0]] == [99]

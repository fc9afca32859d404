"""Issue 16: the chat, /muokkaa, /tila, Excel and the documents follow one rule book.

One test per item of the issue (1–5, 7–9, 14; 13 and 15 also in test_satisfaction,
test_fewer_taps and tests/rules/test_wording), each driving the real bot or the real
workbook, on SQLite and PostgreSQL like every bot test. Each failed on the main branch
before ``data.answers`` became the one rule book.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from data import answers, catalog, overview, reports
from data.models import SatisfactionEntry

from ..sheets.workbooks import fill
from .conftest import BotHarness
from .test_reporting_helpers import YEAR, entity_id, participation, person, satisfaction, type_id

NBSP = "\u00a0"
XLSX = "Mittarit_KUVA_2026.xlsx"


async def _at_count(bot: BotHarness, user_id: int, language: str = "fi") -> Any:
    user = bot.contact(user_id, "KUVA", language=language)
    await user.send("/raportoi")
    await user.press(user.last.buttons[0][0])
    await user.press(user.last.buttons[3][0])  # Kyselyt / Enkäter / Surveys
    return user


async def _workbook(user: Any) -> bytes:
    await user.send("/excel")
    return user.documents[-1].content


def _save_level_1(bot: BotHarness, telegram_id: int, **answer: Any) -> None:
    with bot.db.transaction() as session:
        contact = session.merge(person(bot, telegram_id))
        level = catalog.levels(session)[0]
        reports.save_participation(
            session,
            contact,
            YEAR,
            entity_id(bot, "KUVA_KIRJASTO"),
            [reports.ParticipationAnswer(level.id, **answer)],
            level_ids=[level.id],
        )


def _save_satisfaction(bot: BotHarness, telegram_id: int, *given: Any) -> None:
    with bot.db.transaction() as session:
        contact = session.merge(person(bot, telegram_id))
        reports.save_satisfaction(
            session, contact, YEAR, entity_id(bot, "KUVA_KIRJASTO"), list(given)
        )


# --- item 1: one count range, stated by the rule -------------------------------------------


@pytest.mark.parametrize(
    ("language", "stated"),
    [("fi", f"1–100{NBSP}000"), ("sv", f"1–100{NBSP}000"), ("en", "1–100,000")],
)
async def test_item_1_every_count_message_states_the_range_the_rule_enforces(
    bot: BotHarness, language: str, stated: str
) -> None:
    user = await _at_count(bot, 16001, language)
    assert stated in user.last.text  # the question itself
    for typed in ("0", "-3", "12a", "100 001"):
        await user.send(typed)
        warning = user.last.text.split("\n\n")[0]
        assert warning.startswith("⚠️") and stated in warning, (typed, warning)
        assert "0…" not in user.last.text and "0–100" not in user.last.text
    assert participation(bot, "KUVA_KULTTUURI") == []  # 0 was refused, not saved
    workbook = load_workbook(io.BytesIO(await _workbook(user)))
    sheet = workbook.worksheets[0]
    texts = [str(c.value) for row in sheet.iter_rows(max_row=6) for c in row if c.value]
    assert any(stated in text for text in texts), texts
    count_rule = next(v for v in sheet.data_validations.dataValidation if v.type == "whole")
    assert (count_rule.formula1, count_rule.formula2) == ("1", "100000")
    assert stated in str(count_rule.error)


# --- item 2: an NPS takes a score or counts, never a text result ----------------------------


async def test_item_2_an_nps_result_in_words_is_refused_everywhere(bot: BotHarness) -> None:
    user = bot.contact(16002, "KUVA")
    nps = answers.SatisfactionAnswer(type_id(bot, "NPS"), nps=40, respondents=80)
    _save_satisfaction(bot, 16002, nps)
    with bot.db.transaction() as session:
        contact = session.merge(person(bot, 16002))
        entry = session.query(SatisfactionEntry).one()
        with pytest.raises(answers.AnswerProblem) as refused:
            overview.update_satisfaction_entry(session, contact, entry.id, latest_result="hyvä")
        assert refused.value.code == answers.RESULT_FOR_NPS
        with pytest.raises(answers.AnswerProblem):
            reports.save_satisfaction(
                session,
                contact,
                YEAR,
                entity_id(bot, "KUVA_KIRJASTO"),
                [answers.SatisfactionAnswer(type_id(bot, "NPS"), nps=40, latest_result="hyvä")],
            )
    # The bot's own workbook of the saved answer, sent back unchanged, changes nothing.
    await user.send_document(await _workbook(user), XLSX)
    assert "vastaa jo tallennettuja tietoja" in user.last.text, user.last.text
    assert [(a.nps, a.latest_result) for a in satisfaction(bot, "KUVA_KIRJASTO")] == [(40, None)]


# --- item 3: one respondents range; the chat's answer survives the workbook ----------------


async def test_item_3_respondents_have_one_range_in_the_chat_and_excel(bot: BotHarness) -> None:
    user = bot.contact(16003, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Kirjasto")
    await user.press("☐ Kysely (asteikko 1–5)")
    await user.press("Jatka ›")
    await user.press(user.last.buttons[0][0])  # keep the catalog's scale
    await user.press(user.last.buttons[0][0])  # a frequency
    await user.send("4,2")
    await user.send("2025")
    await user.send("0")  # no respondents is no result: refused, the range stated
    assert user.last.text.startswith(
        f"⚠️ Vastaajien määrän on oltava väliltä 1–10{NBSP}000{NBSP}000"
    )
    await user.send("150 000")  # more than a count's 100 000: still one rule
    await user.press("💾 Tallenna")
    assert [a.respondents for a in satisfaction(bot, "KUVA_KIRJASTO")] == [150_000]
    await user.send_document(await _workbook(user), XLSX)
    assert "vastaa jo tallennettuja tietoja" in user.last.text, user.last.text


# --- item 4: a name needs a letter ---------------------------------------------------------


async def test_item_4_a_method_named_by_an_emoji_or_punctuation_is_refused(
    bot: BotHarness,
) -> None:
    user = bot.contact(16004, "KUVA")
    await user.send("/raportoi")
    await user.press(user.last.buttons[0][0])
    for typed in ("😀 5", "??"):
        await user.send(typed)
        assert "Nimessä on oltava ainakin yksi kirjain" in user.last.text, typed
    await user.press("Muu tapa – kirjoita")
    await user.send(".")
    assert "Nimessä on oltava ainakin yksi kirjain" in user.last.text
    await user.send("Asukasraati 2")  # a letter is enough, digits are fine
    assert "Lkm: kuinka monta" in user.last.text
    assert participation(bot, "KUVA_KULTTUURI") == []
    filled = fill(await _workbook(user), {"Kirjasto": {"C7": "😀", "D7": 5}})
    await user.send_document(filled, XLSX)
    assert "Kirjasto!C7: ”😀” ei ole nimi: nimessä on oltava ainakin yksi kirjain" in (
        user.last.text
    )


async def test_item_4_another_way_of_measuring_needs_a_name_with_a_letter(
    bot: BotHarness,
) -> None:
    user = bot.contact(16014, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Kirjasto")
    await user.press(next(b[0] for b in user.last.buttons if "Muu tapa" in b[0]))
    await user.press("Jatka ›")
    await user.send("😀")
    assert "Nimessä on oltava ainakin yksi kirjain" in user.last.text
    await user.send("Palautekysely")
    assert "Palautekysely" in user.last.text


# --- item 5: "ei" means no methods; a level's typed answers are read as meant ------------


async def test_item_5_typed_level_answers_are_read_as_meant(bot: BotHarness) -> None:
    user = bot.contact(16005, "KUVA")
    await user.send("/raportoi")
    await user.press(user.last.buttons[0][0])
    await user.send("1 5, 1 6")  # which one? refused, nothing kept
    assert "Sama tapa on annettu kahdesti" in user.last.text
    await user.send("1 3 2 4")  # two methods without the comma
    assert "Erota tavat pilkuilla" in user.last.text
    await user.send("ei")
    assert "Taso 2" in user.last.text  # level 1 answered "no methods", on to level 2
    await user.press(user.last.buttons[0][0])
    await user.send("12 kpl")  # a unit after the count is fine
    await user.send("-")  # but not "no methods" beside a method
    assert "Tällä tasolla on jo tapoja" in user.last.text
    await user.press("Seuraava taso ›")
    await user.send("-")
    assert "Taso 4" in user.last.text
    await user.send("ei tapoja")
    await user.press("💾 Tallenna")
    saved = participation(bot, "KUVA_KULTTUURI")
    assert sorted((a["level"], a["none"], a["count"]) for a in saved) == [
        (1, True, 0),
        (2, False, 12),
        (3, True, 0),
        (4, True, 0),
    ]
    assert not any(a["method"] == "ei" for a in saved)


# --- item 7: changing the respondents never drops the counts silently ---------------------


def test_item_7_respondents_against_saved_counts_are_refused_not_dropped(
    bot: BotHarness,
) -> None:
    bot.contact(16007, "KUVA")
    counts = answers.SatisfactionAnswer(
        type_id(bot, "NPS"), promoters=50, passives=30, detractors=20
    )
    _save_satisfaction(bot, 16007, counts)
    with bot.db.transaction() as session:
        contact = session.merge(person(bot, 16007))
        entry = session.query(SatisfactionEntry).one()
        with pytest.raises(answers.AnswerProblem) as refused:
            overview.update_satisfaction_entry(session, contact, entry.id, respondents=90)
        assert refused.value.code == answers.COUNTS_DISAGREE
        assert refused.value.params == {"total": 100, "value": 90}
    [saved] = satisfaction(bot, "KUVA_KIRJASTO")
    assert (saved.promoters, saved.passives, saved.detractors, saved.respondents, saved.nps) == (
        50,
        30,
        20,
        100,
        30,
    )


# --- items 8 and 9: /tila shows what was saved, never a sum of counts -----------------------


async def test_items_8_and_9_tila_shows_methods_and_each_measurement_as_saved(
    bot: BotHarness,
) -> None:
    user = bot.contact(16008, "KUVA")
    with bot.db.transaction() as session:
        contact = session.merge(person(bot, 16008))
        level = catalog.levels(session)[0]
        methods = catalog.methods_for_level(session, level.id)
        reports.save_participation(
            session,
            contact,
            YEAR,
            entity_id(bot, "KUVA_KIRJASTO"),
            [
                reports.ParticipationAnswer(level.id, methods[0].id, count=12),
                reports.ParticipationAnswer(level.id, methods[1].id, count=9),
            ],
        )
    _save_satisfaction(
        bot,
        16008,
        answers.SatisfactionAnswer(
            type_id(bot, "SURVEY_1_5"), scale="1-7", latest_result="6,5", respondents=250
        ),
        answers.SatisfactionAnswer(
            type_id(bot, "OTHER"), other_name="Palautekysely", latest_result="hyvä"
        ),
    )
    await user.send("/tila")
    text = user.last.text
    block = text.split("Kirjasto")[1].split("\n\n")[0]
    assert "T1 2 ·" in block and "21" not in block  # two methods, not 12 + 9
    assert "Kysely (asteikko 1–7): tulos 6,5, 250 vastaajaa" in block
    assert "Kysely (asteikko 1–5)" not in block
    assert "Muu tapa: Palautekysely: tulos hyvä" in block
    assert "niiden Lkm:iä ei lasketa yhteen" in text


# --- item 14: the Excel change summary shows each change -----------------------------------


async def test_item_14_the_excel_summary_lists_each_change_old_to_new(bot: BotHarness) -> None:
    user = bot.contact(16014 + 100, "KUVA")
    with bot.db.transaction() as session:
        level = catalog.levels(session)[0]
        survey = catalog.methods_for_level(session, level.id)[3]
    _save_level_1(bot, 16114, method_id=survey.id, count=4)
    content = await _workbook(user)
    sheet = load_workbook(io.BytesIO(content))["Kirjasto"]
    row = next(r for r in range(7, 20) if sheet.cell(row=r, column=4).value == 4)
    filled = fill(content, {"Kirjasto": {f"D{row}": 2}})
    await user.send_document(filled, XLSX)
    summary = user.last.text
    assert "• Kirjasto: osallisuus: uusia 0, muutettuja 1, poistettuja 0" in summary
    assert "Taso 1 Kyselyt: 4 → 2" in summary
    assert user.last.buttons == [["Tallenna", "Peru"]]

"""/excel and a filled workbook sent back in the chat, through the local Telegram."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from data import audit, catalog, drafts, reports
from data.models import Role

from ..sheets.workbooks import edit, fill, ratio_bomb, saved_state, zip_bomb
from ..sheets.workbooks import export as export_from_db
from .conftest import BotHarness
from .test_reporting_helpers import YEAR, entity_id, person

XLSX = "Mittarit_KUVA_2026.xlsx"


async def _workbook(bot: BotHarness, user: Any) -> bytes:
    await user.send("/excel")
    assert user.documents, "the bot sent no workbook"
    return user.documents[-1].content


def _excel_draft(bot: BotHarness, telegram_id: int) -> dict[str, Any] | None:
    with bot.db.session() as session:
        row = drafts.get(session, person(bot, telegram_id).id, "excel")
        return None if row is None else dict(row.data)


def _store_kirjasto(bot: BotHarness, telegram_id: int, count: int = 12) -> None:
    with bot.db.transaction() as session:
        contact = person(bot, telegram_id)
        contact = session.merge(contact)
        level = next(lv for lv in catalog.levels(session) if lv.number == 1)
        reports.save_participation(
            session,
            contact,
            YEAR,
            entity_id(bot, "KUVA_KIRJASTO"),
            [reports.ParticipationAnswer(level.id, method_text="Lukupiiri", count=count)],
        )


async def test_excel_sends_the_divisions_workbook_with_instructions_in_finnish(
    bot: BotHarness,
) -> None:
    user = bot.contact(8001, "KUVA")
    content = await _workbook(bot, user)
    document = user.documents[-1]
    assert document.filename == XLSX
    assert document.mime_type.endswith("spreadsheetml.sheet")
    assert "Toimialasi työkirja vuodelle 2026" in user.last.text
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    assert workbook.sheetnames == [
        "Kulttuuri", "Kirjasto", "Liikunta", "Nuoriso", "Hallinto", "Tyytyväisyys", "_meta",
    ]  # fmt: skip
    kirjasto = workbook["Kirjasto"]
    assert kirjasto["A1"].value.startswith("Kirjasto – osallisuuden tavat 2026")
    assert kirjasto["A2"].value.startswith("Täytä vain valkoiset solut")
    assert [c.value for c in kirjasto[6]] == [
        "Taso", "Tapa (luettelosta)", "Muu tapa (omin sanoin)", "Lkm", "Huomautus", "Tarkistettava",
    ]  # fmt: skip
    assert kirjasto["A7"].value == "1 Viestintä ja kuuleminen"
    workbook.close()


async def test_the_workbook_is_locked_with_lists_and_number_validation(bot: BotHarness) -> None:
    user = bot.contact(8002, "KUVA")
    workbook = load_workbook(io.BytesIO(await _workbook(bot, user)))
    sheet = workbook["Kirjasto"]
    assert sheet.protection.sheet and workbook.security.lockStructure
    assert sheet["A7"].protection.locked and not sheet["D7"].protection.locked
    assert workbook["_meta"].sheet_state == "veryHidden"
    rules = {(v.type, str(v.sqref)) for v in sheet.data_validations.dataValidation}
    assert ("whole", "D7:D22") in rules and ("list", "B7:B10") in rules
    whole = next(v for v in sheet.data_validations.dataValidation if v.type == "whole")
    assert (whole.formula1, whole.formula2) == ("1", "100000")


async def test_only_contacts_get_the_workbook(bot: BotHarness) -> None:
    bot.register(8003, Role.COORDINATOR)
    user = bot.user(8003)
    await user.send("/excel")
    assert not user.documents
    assert "Sinulla ei ole oikeutta tähän." in user.last.text


async def test_a_filled_workbook_sent_back_is_summarised_then_saved_with_tallenna(
    bot: BotHarness,
) -> None:
    user = bot.contact(8004, "KUVA")
    filled = fill(await _workbook(bot, user), {"Kirjasto": {"B7": "Kyselyt", "D7": 12}})
    await user.send_document(filled, XLSX)
    assert bot.api.calls_to("getFile"), "the file was not fetched with getFile"
    summary = user.last.text
    assert "Tiedosto on kunnossa: Kulttuurin ja vapaa-ajan toimiala, 2026." in summary
    assert "• Kirjasto: osallisuus: uusia 1, muutettuja 0, poistettuja 0" in summary
    assert user.last.buttons == [["Tallenna", "Peru"]]
    for row in user.last.inline_keyboard:
        for button in row:
            assert len(str(button["callback_data"]).encode()) <= 64
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])
    assert _excel_draft(bot, 8004) is not None

    await user.press("Tallenna")
    assert "Tallennettu ✓ palvelukokonaisuuksia: 1, vuosi 2026." in user.last.text
    assert [a["count"] for a in saved_state(bot.db)["KUVA_KIRJASTO"][0]] == [12]
    assert _excel_draft(bot, 8004) is None
    with bot.db.session() as session:
        sources = [(e.entity, e.source) for e in audit.events(session) if e.source]
    assert sources == [("participation", "excel")]


async def test_peru_saves_nothing_and_ends_the_check(bot: BotHarness) -> None:
    user = bot.contact(8005, "KUVA")
    filled = fill(await _workbook(bot, user), {"Kirjasto": {"B7": "Kyselyt", "D7": 12}})
    await user.send_document(filled, XLSX)
    save_data = str(user.last.inline_keyboard[0][0]["callback_data"])
    await user.press("Peru")
    assert "Peruttu: tiedostosta ei tallennettu mitään." in user.last.text
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])
    assert _excel_draft(bot, 8005) is None
    assert not user.messages[-2].buttons  # the summary's buttons are gone
    record = await user.press_data(save_data, message=user.messages[-2])
    assert record.show_alert and record.text == "Tämä painike ei ole enää voimassa."
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])


async def test_tallenna_is_answered_after_a_restart_from_the_draft_row(bot: BotHarness) -> None:
    user = bot.contact(8006, "KUVA")
    filled = fill(await _workbook(bot, user), {"Kirjasto": {"B7": "Kyselyt", "D7": 7}})
    await user.send_document(filled, XLSX)
    await bot.restart()
    await user.press("Tallenna")
    assert "Tallennettu ✓" in user.last.text
    assert [a["count"] for a in saved_state(bot.db)["KUVA_KIRJASTO"][0]] == [7]


async def test_a_newer_file_makes_the_older_summarys_buttons_stale(bot: BotHarness) -> None:
    user = bot.contact(8007, "KUVA")
    blank = await _workbook(bot, user)
    await user.send_document(fill(blank, {"Kirjasto": {"B7": "Kyselyt", "D7": 1}}), XLSX)
    first = user.last
    await user.send_document(fill(blank, {"Kirjasto": {"B7": "Kyselyt", "D7": 2}}), XLSX)
    record = await user.press("Tallenna", message=first)
    assert record.show_alert and "ei ole enää voimassa" in (record.text or "")
    await user.press("Tallenna")
    assert [a["count"] for a in saved_state(bot.db)["KUVA_KIRJASTO"][0]] == [2]


async def test_answers_saved_in_the_chat_meanwhile_stop_the_save(bot: BotHarness) -> None:
    user = bot.contact(8008, "KUVA")
    filled = fill(await _workbook(bot, user), {"Kirjasto": {"B7": "Kyselyt", "D7": 5}})
    await user.send_document(filled, XLSX)
    _store_kirjasto(bot, 8008, count=99)
    await user.press("Tallenna")
    assert "muutettu muualla (keskustelussa tai lomakkeella) tarkistuksen jälkeen" in user.last.text
    assert [a["count"] for a in saved_state(bot.db)["KUVA_KIRJASTO"][0]] == [99]


async def test_a_submitted_report_is_refused_with_the_chats_words(bot: BotHarness) -> None:
    user = bot.contact(8009, "KUVA")
    filled = fill(await _workbook(bot, user), {"Kirjasto": {"B7": "Kyselyt", "D7": 5}})
    await user.send_document(filled, XLSX)  # checked while the report is open
    with bot.db.transaction() as session:
        reports.submit_report(session, session.merge(person(bot, 8009)), YEAR, _kuva(session))
    await user.press("Tallenna")
    locked = "Toimialasi vuoden 2026 raportti on jo lähetetty, joten sitä ei voi muuttaa täällä."
    assert locked in user.last.text
    await user.send_document(filled, XLSX)
    assert locked in user.last.text and not user.last.buttons
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])


def _kuva(session: Any) -> int:
    division = catalog.division_by_code(session, "KUVA")
    assert division is not None
    return division.id


async def test_cell_errors_are_listed_and_nothing_is_saved(bot: BotHarness) -> None:
    user = bot.contact(8010, "KUVA")
    values = {"B7": "Kyselyt", "D7": "kaksi"}
    values |= {f"C{row}": "oma" for row in range(8, 23)}  # 15 rows without a count
    values |= {f"D{row}": -1 for row in range(7, 23) if row > 7}
    filled = fill(await _workbook(bot, user), {"Kirjasto": values, "Kulttuuri": dict(values)})
    await user.send_document(filled, XLSX)
    text = user.last.text
    lines = text.splitlines()
    assert lines[0].startswith("Virheitä tiedostossa: 32. Mitään ei tallennettu;")
    whole = "ei ole kokonaisluku väliltä 1–100\xa0000"
    assert lines[17] == f"Kirjasto!D7: ”kaksi” {whole}"  # after Kulttuuri's 16
    assert lines[1] == f"Kulttuuri!D7: ”kaksi” {whole}"
    assert lines[2] == f"Kulttuuri!D8: ”-1” {whole}"
    assert lines[-1] == "… ja 12 muuta" and len(lines) == 22
    assert not user.last.buttons
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])


async def test_errors_and_summary_follow_the_persons_language(bot: BotHarness) -> None:
    swede = bot.contact(8011, "KUVA", first_name="Stina", language="sv")
    content = await _workbook(bot, swede)
    assert "Din sektors arbetsbok för 2026" in swede.last.text
    await swede.send_document(fill(content, {"Bibliotek": {"B7": "Enkäter", "D7": "två"}}), XLSX)
    assert "Bibliotek!D7: ”två” är inte ett heltal 1–100\xa0000" in swede.last.text
    await swede.send_document(fill(content, {"Bibliotek": {"B7": "Enkäter", "D7": 2}}), XLSX)
    assert "• Bibliotek: delaktighet: nya 1, ändrade 0, borttagna 0" in swede.last.text
    assert swede.last.buttons == [["Spara", "Avbryt"]]
    english = bot.contact(8012, "KUVA", first_name="Emma", language="en")
    content = await _workbook(bot, english)
    await english.send_document(fill(content, {"Library": {"B7": "Surveys", "D7": 3}}), XLSX)
    assert "• Library: participation: new 1, changed 0, removed 0" in english.last.text
    await english.press("Save")
    assert "Saved ✓ service entities: 1, year 2026." in english.last.text


# --- every rejection of the whole file --------------------------------------------------------


def _not_ours() -> bytes:
    workbook = Workbook()
    workbook.active["A1"] = "Palvelukokonaisuus"  # type: ignore[index]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_content_type(content: bytes, old: bytes, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(old, new)
            target.writestr(item, data)
    return out.getvalue()


def _macro(content: bytes) -> bytes:
    return _with_content_type(
        content,
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )


def _old_template(content: bytes) -> bytes:
    def change(workbook: Any) -> None:
        workbook["_meta"]["B1"] = "0"

    return edit(content, change)


def _inserted_row(content: bytes) -> bytes:
    return edit(content, lambda workbook: workbook["Kirjasto"].insert_rows(9))


def _renamed_level(content: bytes) -> bytes:
    def change(workbook: Any) -> None:
        workbook["Kirjasto"]["A7"] = "1 Viestintä"

    return edit(content, change)


def _renamed_sheet(content: bytes) -> bytes:
    def change(workbook: Any) -> None:
        workbook["Kirjasto"].title = "Kirjastot"

    return edit(content, change)


def _data_below(content: bytes) -> bytes:
    def change(workbook: Any) -> None:
        workbook["Hallinto"]["A900"] = "salainen lisätaulukko"

    return edit(content, change)


REJECTIONS: dict[str, tuple[str, Callable[[bytes, BotHarness], bytes], str]] = {
    "too large": (
        XLSX,
        lambda c, b: c + os.urandom(5 * 1024 * 1024),
        "Tiedosto on liian suuri (5,0 Mt). Täytetty työkirja on selvästi alle 5 Mt",
    ),
    "xlsm": ("Mittarit.xlsm", lambda c, b: c, "”Mittarit.xlsm” ei ole Excel-työkirja (.xlsx)."),
    "xls": ("Mittarit.xls", lambda c, b: c, "”Mittarit.xls” ei ole Excel-työkirja (.xlsx)."),
    "csv": ("Mittarit.csv", lambda c, b: b"a;b\n1;2\n", "”Mittarit.csv” ei ole Excel-työkirja"),
    "macros inside": (XLSX, lambda c, b: _macro(c), "ei ole Excel-työkirja (.xlsx)"),
    "encrypted": (
        XLSX,
        lambda c, b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096),
        "Tiedosto on suojattu salasanalla",
    ),
    "broken zip": (XLSX, lambda c, b: c[: len(c) // 2], "Tiedosto on vioittunut"),
    "not a zip": (XLSX, lambda c, b: b"hello, not a workbook", "Tiedosto on vioittunut"),
    "zip bomb": (XLSX, lambda c, b: zip_bomb(), "Tiedosto purkautuu paljon suuremmaksi"),
    "ratio bomb": (XLSX, lambda c, b: ratio_bomb(), "Tiedosto purkautuu paljon suuremmaksi"),
    "not the bot's": (XLSX, lambda c, b: _not_ours(), "Tämä ei ole botin raportointityökirja."),
    "other division": (
        XLSX,
        lambda c, b: export_from_db(b.db, "KYMP"),
        "Tämä työkirja kuuluu toiselle toimialalle (KYMP).",
    ),
    "other round": (
        XLSX,
        lambda c, b: export_from_db(b.db, "KUVA", year=YEAR - 1),
        "Tämä työkirja on vuodelta 2025, mutta käynnissä on vuoden 2026 kierros.",
    ),
    "old template": (XLSX, lambda c, b: _old_template(c), "tehty vanhemmasta pohjasta"),
    "inserted row": (XLSX, lambda c, b: _inserted_row(c), "Työkirjan rakennetta on muutettu"),
    "changed label": (XLSX, lambda c, b: _renamed_level(c), "Työkirjan rakennetta on muutettu"),
    "renamed sheet": (XLSX, lambda c, b: _renamed_sheet(c), "Työkirjan rakennetta on muutettu"),
    "data below": (XLSX, lambda c, b: _data_below(c), "Työkirjan rakennetta on muutettu"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
async def test_a_refused_file_gets_one_finnish_message_and_changes_nothing(
    bot: BotHarness, case: str
) -> None:
    name, make, expected = REJECTIONS[case]
    user = bot.contact(8020, "KUVA")
    _store_kirjasto(bot, 8020, count=12)
    blank = await _workbook(bot, user)
    # A valid file waits for "Tallenna": the refused file must leave it as it is.
    await user.send_document(fill(blank, {"Kirjasto": {"B8": "Kyselyt", "D8": 3}}), XLSX)
    pending = user.last
    assert pending.buttons == [["Tallenna", "Peru"]]
    draft_before = _excel_draft(bot, 8020)
    stored_before = saved_state(bot.db)
    with bot.db.session() as session:
        events_before = len(audit.events(session))

    await user.send_document(make(blank, bot), name)

    assert expected in user.last.text, user.last.text
    assert not user.last.buttons
    assert saved_state(bot.db) == stored_before
    assert _excel_draft(bot, 8020) == draft_before
    with bot.db.session() as session:
        assert len(audit.events(session)) == events_before
    await user.press("Tallenna", message=pending)  # the earlier check still saves
    assert "Tallennettu ✓" in user.last.text


async def test_a_file_too_large_is_refused_before_it_is_downloaded(bot: BotHarness) -> None:
    user = bot.contact(8021, "KUVA")
    await user.send_document(b"x" * (5 * 1024 * 1024 + 1), XLSX)
    assert "Tiedosto on liian suuri" in user.last.text
    assert not bot.api.calls_to("getFile")


async def test_the_tila_button_sends_the_workbook(bot: BotHarness) -> None:
    user = bot.contact(8030, "KUVA")
    await user.send("/tila")
    assert user.last.buttons == [["Excel-työkirja"]]
    await user.press("Excel-työkirja")
    assert user.documents[-1].filename == XLSX


@pytest.mark.parametrize(
    ("language", "expected_csv", "expected_broken"),
    [
        (
            "sv",
            "”svar.csv” är inte en Excel-arbetsbok (.xlsx).",
            "Filen är skadad och kan inte öppnas som en Excel-arbetsbok.",
        ),
        (
            "en",
            "“svar.csv” is not an Excel workbook (.xlsx).",
            "The file is damaged and cannot be opened as an Excel workbook.",
        ),
    ],
)
async def test_refusals_are_in_the_senders_language(
    bot: BotHarness, language: str, expected_csv: str, expected_broken: str
) -> None:
    user = bot.contact(8040, "KUVA", language=language)
    await user.send_document(b"a;b\n", "svar.csv")
    assert expected_csv in user.last.text
    await user.send_document(b"PK\x03\x04 truncated", XLSX)
    assert expected_broken in user.last.text
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])


async def test_a_workbook_sent_in_the_middle_of_raportoi_is_checked_and_the_flow_kept(
    bot: BotHarness,
) -> None:
    user = bot.contact(8041, "KUVA")
    content = await _workbook(bot, user)
    await user.send("/raportoi")
    await user.press("Kirjasto")
    with bot.db.session() as session:
        flow_draft = drafts.get(session, person(bot, 8041).id, "reporting")
        assert flow_draft is not None
        before = (flow_draft.step, dict(flow_draft.data))
    await user.send_document(fill(content, {"Kirjasto": {"B7": "Kyselyt", "D7": 2}}), XLSX)
    assert user.last.buttons == [["Tallenna", "Peru"]]
    with bot.db.session() as session:
        flow_draft = drafts.get(session, person(bot, 8041).id, "reporting")
        assert flow_draft is not None and (flow_draft.step, dict(flow_draft.data)) == before
    # Typed text still answers the open conversation, not the waiting check.
    await user.send("Lukupiiri")
    assert "Vaihe 2/6" in user.last.text and "Tallenna" not in str(user.last.buttons)
    await user.press("Tallenna", message=user.messages[-2])
    assert "Tallennettu ✓" in user.last.text


async def test_a_check_left_for_longer_than_the_idle_timeout_expires(bot: BotHarness) -> None:
    user = bot.contact(8042, "KUVA")
    filled = fill(await _workbook(bot, user), {"Kirjasto": {"B7": "Kyselyt", "D7": 2}})
    await user.send_document(filled, XLSX)
    bot.clock.advance(minutes=31)
    await user.press("Tallenna")
    assert "Tämä tarkistus on vanhentunut" in user.last.text
    assert saved_state(bot.db)["KUVA_KIRJASTO"] == ([], [])
    assert _excel_draft(bot, 8042) is None

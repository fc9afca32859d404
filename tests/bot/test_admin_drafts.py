"""/luonnos: staff see the readiness check, then receive the documents as files."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.tools import in_ci

from .conftest import BotHarness
from .test_admin_support import coordinator, report_division, staff

BUTTONS = {
    "listateksti": "Listateksti",
    "liite1": "Liite 1: asukasosallisuus",
    "liite2": "Liite 2: asiakastyytyväisyys",
    "ohjeet": "Ohjeet",
    "dia": "Johtoryhmän dia",
    "paketti": "Koko paketti",
}
FILENAMES = {
    "listateksti": r"Listateksti_.+_2026-11-30\.docx",
    "liite1": r"Liite_1_.+_2026-11-30\.xlsx",
    "liite2": r"Liite_2_.+_2026-11-30\.xlsx",
    "ohjeet": r"Ohjeet_.+_2026-10-01\.docx",
    "dia": r"Johtoryhman_.+_\d{4}-\d{2}-\d{2}\.pptx",  # dated as its "tilanne"
    "paketti": r"Strategiamittarit_2026_2026-11-30\.zip",
}


async def test_the_readiness_check_comes_first(bot: BotHarness) -> None:
    bot.contact(6001, "KUVA", "Aino")
    report_division(bot, 6001, "KUVA")
    sanna = staff(bot, 6002)
    await sanna.send("/luonnos")
    text = sanna.last.text
    assert text.startswith("Asiakirjaluonnokset 2026\nValmiit toimialat: 1/4\nKeskeneräiset:")
    assert "• KYMP: raportoitu 0/4, tyytyväisyyden mittaus kartoitettu 0/4" in text
    assert "• KUVA" not in text
    assert "merkitään LUONNOKSEKSI" in text
    assert [row[0] for row in sanna.last.buttons] == list(BUTTONS.values())


async def test_the_readiness_check_lists_placeholders_of_config(bot: BotHarness) -> None:
    """config.yaml ships "Etunimi Sukunimi" and no meeting: staff see what to fill in."""
    sanna = staff(bot, 6003)
    await sanna.send("/luonnos")
    text = sanna.last.text
    assert "Täydennä config.yaml-tiedostoon ennen arkistointia:" in text
    assert "• list_text.contact.name (Etunimi Sukunimi)" in text
    assert "• list_text.contact.phone (09 310 xxxxx)" in text
    assert "• list_text.meetings.2026.date" in text
    assert "list_text.presenter.name" not in text  # a real name is not a placeholder
    assert text.endswith("Minkä asiakirjan haluat?")


@pytest.mark.parametrize("kind", list(BUTTONS))
async def test_staff_receive_each_document_while_the_chat_shows_it_is_coming(
    bot: BotHarness, kind: str
) -> None:
    bot.contact(6011, "KUVA", "Aino")
    report_division(bot, 6011, "KUVA")
    sanna = staff(bot, 6012)
    await sanna.send("/luonnos")
    if kind == "paketti":  # the package converts every document to PDF with LibreOffice
        bot.api.settle_timeout = 180
    answer = await sanna.press(BUTTONS[kind])
    assert answer.text == "Teen asiakirjaa…"
    assert len(sanna.documents) == 1, sanna.texts()
    document = sanna.documents[0]
    assert re.fullmatch(FILENAMES[kind], document.filename), document.filename
    assert document.size > 1000
    caption = sanna.last.text
    assert caption.endswith("LUONNOS: tiedot keskeneräiset (KYMP, KASKO, SOTE).")
    assert "upload_document" in {a.action for a in bot.api.chat_actions if a.chat_id == 6012}
    if kind == "paketti":
        with zipfile.ZipFile(io.BytesIO(document.content)) as package:
            names = package.namelist()
        for part in ("listateksti", "liite1", "liite2", "ohjeet", "dia"):
            assert any(re.search(FILENAMES[part], name) for name in names), (part, names)
        # A PDF of every document, for the case-management system.
        if shutil.which("soffice") or in_ci():
            assert len([n for n in names if n.endswith(".pdf")]) == 5, names


async def test_without_libreoffice_the_chat_says_the_package_has_no_pdfs(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docgen.pdf

    monkeypatch.setattr(docgen.pdf, "soffice", lambda: None)
    sanna = staff(bot, 6013)
    await sanna.send("/luonnos")
    await sanna.press("Koko paketti")
    assert sanna.last.text == (
        "Paketissa ei ole PDF-versioita: palvelimelle ei ole asennettu LibreOfficea."
    )
    with zipfile.ZipFile(io.BytesIO(sanna.documents[0].content)) as package:
        readme = package.read("LUEMINUT.txt").decode("utf-8")
        assert not [n for n in package.namelist() if n.endswith(".pdf")]
    assert "PDF-versio puuttuu, koska palvelimelle ei ole asennettu LibreOfficea: " in readme


async def test_a_libreoffice_time_out_is_named_in_the_chat(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import docgen.pdf
    from tests.docgen.test_board_text import hanging_soffice

    fake = hanging_soffice(tmp_path)  # converts the list text, then hangs
    monkeypatch.setattr(docgen.pdf, "soffice", lambda: fake)
    monkeypatch.setattr(docgen.pdf, "TIMEOUT_SECONDS", 3)
    sanna = staff(bot, 6014)
    await sanna.send("/luonnos")
    bot.api.settle_timeout = 60
    await sanna.press("Koko paketti")
    lines = sanna.last.text.splitlines()
    assert lines[0] == "Paketista puuttuu PDF-versioita:"
    assert lines[-1] == "Tallenna nämä asiakirjat PDF-muotoon Officessa ennen arkistointia."
    missing = lines[1:-1]
    assert len(missing) == 4, missing
    assert all(
        re.fullmatch(r"• \S+\.pdf: LibreOffice ei saanut muunnosta valmiiksi 3 sekunnissa", line)
        for line in missing
    ), missing
    assert not any(line.startswith("• Listateksti_") for line in missing)
    with zipfile.ZipFile(io.BytesIO(sanna.documents[0].content)) as package:
        readme = package.read("LUEMINUT.txt").decode("utf-8")
    assert "LibreOffice ei saanut muunnosta valmiiksi 3 sekunnissa" in readme


async def test_a_document_from_incomplete_data_is_marked_luonnos_inside(bot: BotHarness) -> None:
    from docx import Document

    sanna = staff(bot, 6021)
    await sanna.send("/luonnos")
    await sanna.press("Listateksti")
    document = Document(io.BytesIO(sanna.documents[0].content))
    text = "\n".join(p.text for p in document.paragraphs)
    for section in document.sections:
        text += "\n".join(p.text for p in section.header.paragraphs)
    assert "LUONNOS" in text


async def test_with_every_division_complete_the_documents_are_not_drafts(bot: BotHarness) -> None:
    for n, code in enumerate(("KYMP", "KASKO", "SOTE", "KUVA")):
        bot.contact(6030 + n, code)
        report_division(bot, 6030 + n, code)
    sanna = staff(bot, 6040)
    await sanna.send("/luonnos")
    assert "Kaikki toimialat ovat valmiita" in sanna.last.text
    await sanna.press("Liite 1: asukasosallisuus")
    assert "LUONNOS" not in sanna.last.text
    assert sanna.documents


async def test_a_coordinator_gets_no_documents(bot: BotHarness) -> None:
    kaisa = coordinator(bot, 6050)
    await kaisa.send("/luonnos")
    assert kaisa.last.text == "Sinulla ei ole oikeutta tähän."
    answer = await kaisa.press_data("luonnos:kind:paketti")
    assert answer.text == "Sinulla ei ole oikeutta tähän."
    assert kaisa.documents == []


async def test_an_unknown_document_kind_is_a_stale_button(bot: BotHarness) -> None:
    sanna = staff(bot, 6060)
    await sanna.send("/luonnos")
    answer = await sanna.press_data("luonnos:kind:budjetti")
    assert answer.show_alert and answer.text == "Tämä painike ei ole enää voimassa."
    assert sanna.documents == []

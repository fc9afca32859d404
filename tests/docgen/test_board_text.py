"""The list text, the instructions, the slides and the package as the board's secretary
reads them (issue 18, items 1–8 and 19–21): wording checked on the generated text."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest

from data.snapshot import RoundSnapshot
from docgen import GeneratedDocument, generate, generate_all, pdf
from docgen import liite1 as liite1_cells
from docgen.context import Context
from docgen.listateksti import history_entries
from docgen.wording import load_wording
from settings import BoardMeeting, Settings

from ..conftest import Database
from .conftest import TODAY, YEAR, build, read_snapshot_for, seeded
from .handmade import tiny_snapshot
from .readback import docx_blocks, docx_text, text_of, workbook

NBSP = "\u00a0"


def _texts(document: GeneratedDocument) -> list[str]:
    return [text for _style, text in docx_blocks(document.content)]


def _captions(document: GeneratedDocument) -> list[str]:
    return [text for style, text in docx_blocks(document.content) if style == "Caption"]


def _approving(settings: Settings) -> Settings:
    meeting = BoardMeeting(decision="approve")
    list_text = settings.list_text.model_copy(update={"meetings": {YEAR: meeting}})
    return settings.model_copy(update={"list_text": list_text})


# --- 1. Päätösehdotus ----------------------------------------------------------------------


def test_proposal_names_the_metrics_in_quotes_so_the_sentence_parses(
    db: Database, settings: Settings
) -> None:
    snapshot = seeded(db)
    texts = _texts(build(snapshot, "listateksti", settings))
    assert texts[texts.index("Päätösehdotus") + 1] == (
        "Kaupunginhallitus päättää merkitä tiedoksi kaupunkistrategian 2025–2029 "
        "strategiamittarien ”Asukasosallisuus toimialoilla” ja ”Asiakaskokemus / "
        "palvelutyytyväisyys” vuoden 2026 tulokset liitteiden 1 ja 2 mukaisesti."
    )
    (approve,) = generate(snapshot, "listateksti", settings=_approving(settings), today=TODAY)
    texts = _texts(approve)
    assert texts[texts.index("Päätösehdotus") + 1] == (
        "Kaupunginhallitus päättää hyväksyä kaupunkistrategian 2025–2029 kehitettävät "
        "strategiamittarit ”Asukasosallisuus toimialoilla” ja ”Asiakaskokemus / "
        "palvelutyytyväisyys” sekä merkitä tiedoksi mittarien vuoden 2026 tulokset "
        "liitteiden 1 ja 2 mukaisesti."
    )


# --- 2. One example ------------------------------------------------------------------------


def test_a_level_with_one_example_says_esimerkkina_on(db: Database, settings: Settings) -> None:
    text = docx_text(build(seeded(db), "listateksti", settings).content)
    assert "Esimerkkinä on osallistuvan budjetoinnin ehdotusten määrä." in text
    assert "Esimerkkejä ovat osallistuvan budjetoinnin ehdotusten määrä" not in text
    assert "Esimerkkejä ovat tiedotustilaisuudet, asiakasneuvontakanavat" in text


# --- 3, 5. Tables and their references -----------------------------------------------------


def test_tables_are_numbered_in_order_and_cite_sheets_one_way(
    db: Database, settings: Settings
) -> None:
    snapshot = seeded(db)
    listateksti = build(snapshot, "listateksti", settings)
    captions = _captions(listateksti)
    numbers = [int(re.match(r"Taulukko (\d+)\. ", c).group(1)) for c in captions]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(captions) + 1)) and len(captions) == 6, captions
    assert "(käyttävät / kaikki palvelukokonaisuudet; liite 1, välilehti Kattavuus)" in captions[1]
    sheets = {
        1: workbook(build(snapshot, "liite1", settings)).sheetnames,
        2: workbook(build(snapshot, "liite2", settings)).sheetnames,
    }
    text = docx_text(listateksti.content)
    mentions = re.findall(r"\bliite (\d)\b(.{0,40})", text)
    assert mentions
    for number, after in mentions:
        match = re.match(r", välilehti ([^;).]+)", after)
        assert match, (number, after)  # always "liite 1, välilehti Kaavio"
        assert match.group(1) in sheets[int(number)], (number, match.group(1))
    assert "sarake" not in text and "NPS mediaani)" not in text


def test_satisfaction_changes_cite_liite_2_and_the_median_says_what_it_compares(
    db: Database, settings: Settings
) -> None:
    listateksti = build(seeded(db), "listateksti", settings)
    captions = _captions(listateksti)
    participation, satisfaction = captions[4], captions[5]
    assert "liite 1, välilehti Vertailu" in participation
    assert "liite 2, välilehti" in satisfaction and "liite 1" not in satisfaction
    text = docx_text(listateksti.content)
    # The demo's NPS median of 2025 rests on five results, 2026's on two.
    assert (
        "NPS-tulosten mediaani on laskettu vuonna 2025 viidestä ja vuonna 2026 kahdesta "
        "tuloksesta, joten mediaanit eivät ole suoraan vertailukelpoisia." in text
    )


# --- 4. Every figure a cell of an attachment -----------------------------------------------


def test_every_figure_of_table_1_is_a_formula_cell_of_liite_1(
    db: Database, settings: Settings
) -> None:
    snapshot = seeded(db)
    context = Context(snapshot, settings, TODAY, load_wording(), with_pdf=False)
    listateksti = build(snapshot, "listateksti", settings)
    table = docx.Document(io.BytesIO(listateksti.content)).tables[0]
    liite1 = build(snapshot, "liite1", settings)
    formulas, cached = workbook(liite1), workbook(liite1, cached=True)
    divisions = [d.code for d in snapshot.divisions]
    levels = [lvl.number for lvl in snapshot.levels]
    sheets = set()
    for r, division in enumerate([*divisions, None], start=1):
        for c, level in enumerate([*levels, None], start=1):
            shown = re.fullmatch(r"(\d+) \((\d+)\)", table.rows[r].cells[c].text.replace(NBSP, ""))
            assert shown, table.rows[r].cells[c].text
            for cells, value in (
                (liite1_cells.method_cells(context), int(shown.group(1))),
                (liite1_cells.distinct_cells(context), int(shown.group(2))),
            ):
                sheet, coordinate = cells[(division, level)].rsplit("!", 1)
                sheet = sheet.strip("'")
                sheets.add(sheet)
                assert str(formulas[sheet][coordinate].value).startswith("="), (sheet, coordinate)
                assert cached[sheet][coordinate].value == value, (division, level, sheet)
    (sheet,) = sheets
    assert f"(liite 1, välilehti {sheet})" in _captions(listateksti)[0]


def _table_after(document: GeneratedDocument, caption_start: str) -> docx.table.Table:
    """The table that follows the caption starting with ``caption_start``."""
    doc = docx.Document(io.BytesIO(document.content))
    found = False
    for block in doc.element.body.iterchildren():
        if block.tag.endswith("}p") and "".join(block.itertext()).startswith(caption_start):
            found = True
        elif found and block.tag.endswith("}tbl"):
            return next(t for t in doc.tables if t._tbl is block)
    raise AssertionError(caption_start)


def _table_and_sheet(
    db: Database, settings: Settings, caption_start: str, attachment: str, sheet: str
) -> tuple[GeneratedDocument, docx.table.Table, Any, Any]:
    """From one seeded round: the board text, its table under ``caption_start``, and the
    attachment's ``sheet`` as formulas and as the values Excel cached."""
    snapshot = seeded(db)
    listateksti = build(snapshot, "listateksti", settings)
    table = _table_after(listateksti, caption_start)
    document = build(snapshot, attachment, settings)
    return listateksti, table, workbook(document)[sheet], workbook(document, cached=True)[sheet]


def _shown_number(text: str) -> float | None:
    text = text.replace(NBSP, "").replace("\u2212", "-").replace(",", ".").strip()
    return None if text in ("–", "") else float(text)


def test_every_figure_of_table_6_is_a_cell_of_liite_2s_comparison_sheet(
    db: Database, settings: Settings
) -> None:
    listateksti, table, formulas, cached = _table_and_sheet(
        db, settings, "Taulukko 6.", "liite2", "Vertailu"
    )
    rows = [r for r in cached.iter_rows(values_only=True) if r and r[0]]
    header = next(i for i, r in enumerate(rows) if r[1] == YEAR - 1)
    assert rows[header][1:3] == (YEAR - 1, YEAR)  # years as numbers
    shown = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [r[0] for r in rows[header + 1 :]] == [r[0] for r in shown]  # exactly its rows
    for line in shown:
        (row,) = [r for r in cached.iter_rows() if r[0].value == line[0]]
        for column, text in ((1, line[1]), (2, line[2]), (3, line[3])):
            value = _shown_number(text)
            cell = row[column].value
            if value is None:
                assert cell in (None, "", "–"), (line, column, cell)
                continue
            assert cell == value, (line, column, cell)
            if value.is_integer() and column < 3:
                assert isinstance(cell, int), (line, column, cell)  # integers as integers
        coordinate = row[2].coordinate
        assert str(formulas[coordinate].value).startswith("='Yhteenveto'!"), coordinate
    assert "(liite 2, välilehti Vertailu)" in _captions(listateksti)[5]


def test_every_figure_of_table_3_is_a_formula_cell_of_liite_1(
    db: Database, settings: Settings
) -> None:
    listateksti, table, formulas, cached = _table_and_sheet(
        db, settings, "Taulukko 3.", "liite1", "Yleisimmät tavat"
    )
    shown = [[c.text.replace(NBSP, "") for c in row.cells] for row in table.rows[1:]]
    assert shown
    lines = {
        (r[0].value, r[1].value): r
        for r in cached.iter_rows()
        if isinstance(r[2].value, int) and isinstance(r[3].value, int)
    }
    assert len(lines) == len(shown)  # exactly the table's rows
    for division, method, entities, count in shown:
        row = lines[(division, method)]
        assert (row[2].value, row[3].value) == (int(entities), int(count)), (division, method)
        assert str(formulas[row[2].coordinate].value).startswith("=SUMPRODUCT(")
        assert str(formulas[row[3].coordinate].value).startswith("=SUMIFS(")
    assert "(Lkm; liite 1, välilehti Yleisimmät tavat)" in _captions(listateksti)[2]


# --- 6. Decision history -------------------------------------------------------------------


def test_history_holds_the_boards_approval_of_18_3_2019(db: Database, settings: Settings) -> None:
    texts = _texts(build(seeded(db), "listateksti", settings))
    history = texts[texts.index("Päätöshistoria") + 1 :]
    assert history[0].startswith("Kaupunginhallitus 18.3.2019")  # newest first
    dates = [re.match(r"Kaupunginhallitus ([\d.]+\d)", h).group(1) for h in history]  # type: ignore[union-attr]
    assert dates == ["18.3.2019", "12.3.2018", "13.11.2017"]
    background = next(t for t in texts if t.startswith("Kaupunginvaltuusto hyväksyi 27.9.2017"))
    assert "Kaupunginhallitus hyväksyi kehitetyt mittarit 18.3.2019." in background


def test_history_entries_follow_the_rounds_year(settings: Settings) -> None:
    def years(year: int) -> list[int]:
        snapshot = dataclasses.replace(tiny_snapshot(), year=year)
        context = Context(snapshot, settings, TODAY, load_wording(), with_pdf=False)
        return [entry_year for entry_year, _entry, _background in history_entries(context)]

    assert years(2018) == [2017, 2018]
    assert years(2026) == [2017, 2018, 2019]


# --- 7. Liitteet ---------------------------------------------------------------------------


def test_attachments_are_listed_by_their_own_titles(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    texts = _texts(build(snapshot, "listateksti", settings))
    listed = texts[texts.index("Liitteet") + 1 : texts.index("Muutoksenhaku")]
    for line, kind in zip(listed, ["liite1", "liite2"], strict=True):
        title = workbook(build(snapshot, kind, settings)).properties.title
        number, own_title = re.fullmatch(r"Liite (\d)\. (.+)", title).groups()  # type: ignore[union-attr]
        assert line == f"{number} {own_title}"


# --- 8. Empty round, one value -------------------------------------------------------------


def _zero_words(text: str) -> list[str]:
    return re.findall(r"\bnolla\w*", text)


def test_empty_round_says_no_division_has_reported_not_zero(
    db: Database, settings: Settings
) -> None:
    snapshot = read_snapshot_for(db)
    text = docx_text(build(snapshot, "listateksti", settings).content)
    assert "yksikään toimiala ei ole vielä ilmoittanut kaikkia tietojaan" in text
    assert "Yhdestäkään palvelukokonaisuudesta ei ole vielä ilmoitettu tietoja." in text
    assert not _zero_words(text), _zero_words(text)
    for kind in ("listateksti", "liite1", "liite2", "paketti"):
        every = text_of(build(snapshot, kind, settings))
        assert "LUONNOS – tiedot ovat vielä puutteelliset: yksikään toimiala" in every, kind
        assert not re.search(r"\b0/\d+ toimialaa", every), kind


def test_one_nps_result_is_a_value_not_a_range(settings: Settings) -> None:
    snapshot = tiny_snapshot([("Kysely", "")])
    (document,) = generate(snapshot, "listateksti", settings=settings, today=TODAY, pdf=False)
    text = docx_text(document.content)
    assert not re.search(r"([+−]?\d+)…\1\b", text), text  # "+30…+30"
    assert "ilmoitettiin yhdestä palvelukokonaisuudesta, ja tulos oli +30" in text
    assert "Toimialat ilmoittivat vuodelta 2026 yhden osallisuuden tavan." in text
    assert "(100\u00a0%), mutta ei yhdessäkään palvelukokonaisuudessa kaikilla neljällä" in text
    assert "mediaani" not in text.split("Muutos edellisestä vuodesta")[0].split("Tiivistelmä")[1]
    assert not _zero_words(text), _zero_words(text)  # "ei mitata nollassa …"
    (slides,) = generate(snapshot, "dia", settings=settings, today=TODAY, pdf=False)
    assert "NPS-tuloksia 1 (+30)" in text_of(slides)


def test_one_complete_division_is_singular(settings: Settings) -> None:
    complete = tiny_snapshot([("Kysely", "")], complete=True)
    unfinished = dataclasses.replace(complete.progress[0].entities[0], missing_levels=(4,))
    other = dataclasses.replace(
        complete.progress[0], division_code="SOTE", state="draft", entities=(unfinished,)
    )
    snapshot = dataclasses.replace(complete, progress=(complete.progress[0], other))
    (document,) = generate(snapshot, "listateksti", settings=settings, today=TODAY, pdf=False)
    assert "yksi toimiala kahdesta on ilmoittanut kaikki tietonsa" in docx_text(document.content)


# --- 19. Ohjeet ----------------------------------------------------------------------------


def test_instructions_are_never_a_draft_and_dated_by_their_release(
    db: Database, settings: Settings
) -> None:
    snapshot = seeded(db)
    assert not snapshot.complete
    ohjeet = build(snapshot, "ohjeet", settings)
    assert "LUONNOS" not in docx_text(ohjeet.content)
    released = settings.list_text.instructions_day(YEAR)
    assert ohjeet.filename == f"Ohjeet_strategiamittarit_{released.isoformat()}.docx"
    document = docx.Document(io.BytesIO(ohjeet.content))
    header = document.sections[0].header.paragraphs[0].text
    assert header.split("\t")[0].endswith(f" · {released.day}.{released.month}.{released.year}")
    assert document.core_properties.created.date() == released
    # Released before the divisions' own deadline that the instructions state.
    deadline = re.search(r"viimeistään (\d+)\.(\d+)\.(\d{4})", docx_text(ohjeet.content))
    assert deadline is not None
    day, month, year = (int(g) for g in deadline.groups())
    assert released < released.replace(year=year, month=month, day=day)


def test_instructions_write_lists_and_contact_as_the_list_text(
    db: Database, settings: Settings
) -> None:
    snapshot = seeded(db)
    text = docx_text(build(snapshot, "ohjeet", settings).content)
    assert "Tiedotustilaisuudet, asiakasneuvontakanavat, palautekanavat, kyselyt" in text
    assert "Asiakasraadit, verkossa toimivat kehittämisalustat" in text
    assert "Listateksti ja liitteet valmiina kaupunginhallituksen käsittelyyn" in text
    assert "valmiina kaupunginhallitukseen" not in text
    texts = _texts(build(snapshot, "listateksti", settings))
    more_info = texts[texts.index("Lisätiedot") + 1]  # "Nimi, titteli, puhelin: 09 …"
    assert f"{more_info}, {settings.list_text.contact.email}" in text


# --- 20. File properties -------------------------------------------------------------------


def test_slides_say_16_9_and_no_file_says_python(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    slides = build(snapshot, "dia", settings)
    with zipfile.ZipFile(io.BytesIO(slides.content)) as archive:
        size = re.search(rb"<p:sldSz [^>]*>", archive.read("ppt/presentation.xml"))
        assert size is not None and b"4x3" not in size.group(0), size
        assert b"4:3" not in archive.read("docProps/app.xml")
    unit = settings.list_text.unit
    for kind in ("listateksti", "liite1", "liite2", "ohjeet", "dia"):
        document = build(snapshot, kind, settings)
        with zipfile.ZipFile(io.BytesIO(document.content)) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8")
            app = archive.read("docProps/app.xml").decode("utf-8")
        assert re.search(f"<dc:title[^>]*>{re.escape(document.title)}</dc:title>", core), kind
        assert re.search(f"<dc:creator[^>]*>{re.escape(unit)}</dc:creator>", core), kind
        for found in (core, app):
            assert not re.search(r"python|openpyxl|Macintosh", found, re.I), (kind, found)


def test_the_author_is_the_unit_configured(db: Database, settings: Settings) -> None:
    list_text = settings.list_text.model_copy(update={"unit": "Kaupunginkanslia, testiyksikkö"})
    other = settings.model_copy(update={"list_text": list_text})
    (document,) = generate(seeded(db), "liite1", settings=other, today=TODAY, pdf=False)
    assert workbook(document).properties.creator == "Kaupunginkanslia, testiyksikkö"


# --- 21. The package's readme and missing PDFs ---------------------------------------------


def _readme(package: GeneratedDocument) -> str:
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        return archive.read("LUEMINUT.txt").decode("utf-8")


def test_readme_says_luonnos_while_the_data_is_incomplete(db: Database, settings: Settings) -> None:
    draft = _readme(build(seeded(db), "paketti", settings))
    assert draft.splitlines()[2].startswith("LUONNOS – tiedot ovat vielä puutteelliset")


def test_readme_of_complete_data_is_no_draft(db: Database, settings: Settings) -> None:
    assert "LUONNOS" not in _readme(build(seeded(db, complete=True), "paketti", settings))


# A stand-in for soffice that converts the first Word file and then hangs, as a
# LibreOffice stuck on a busy server does.
HANGING_SOFFICE = """#!/bin/sh
out=""; previous=""
for arg in "$@"; do
  if [ "$previous" = "--outdir" ]; then out="$arg"; fi
  previous="$arg"
done
mkdir -p "$out"
for arg in "$@"; do
  case "$arg" in
    *.docx) printf '%%PDF-1.4\\n%%%%EOF\\n' > "$out/$(basename "$arg" .docx).pdf"; break ;;
  esac
done
exec sleep 600
"""


def hanging_soffice(folder: Path) -> str:
    script = folder / "soffice"
    script.write_text(HANGING_SOFFICE)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_a_libreoffice_time_out_names_each_missing_pdf(
    db: Database,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = hanging_soffice(tmp_path)
    monkeypatch.setattr(pdf, "soffice", lambda: fake)
    monkeypatch.setattr(pdf, "TIMEOUT_SECONDS", 3)
    snapshot: RoundSnapshot = seeded(db)
    with caplog.at_level(logging.WARNING, logger="docgen.pdf"):
        package = generate_all(snapshot, settings=settings, today=TODAY)[-1]
    missing = dict(package.missing_pdfs)
    listateksti = build(snapshot, "listateksti", settings).filename
    assert listateksti not in missing  # converted before LibreOffice hung: kept
    assert set(missing.values()) == {pdf.TIMEOUT} and len(missing) == 4, missing
    readme = _readme(package)
    line = next(x for x in readme.splitlines() if x.startswith("PDF-versio puuttuu"))
    assert "LibreOffice ei saanut muunnosta valmiiksi 3 sekunnissa" in line
    for name in missing:
        assert Path(name).with_suffix(".pdf").name in line
        assert any(name in record.getMessage() for record in caplog.records), name
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert pdfs == [Path(listateksti).with_suffix(".pdf").name]

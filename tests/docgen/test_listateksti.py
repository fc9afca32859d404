"""The list text follows the board's section order and shows the database's numbers."""

from __future__ import annotations

import io

import docx
from docx.shared import Mm

from docgen.fmt import fi_int, slug
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, build, seeded
from .readback import docx_blocks, docx_text

SECTIONS = [
    "Päätösehdotus",
    "Esittelijän perustelut",
    "Esittelijä",
    "Lisätiedot",
    "Liitteet",
    "Muutoksenhaku",
    "Otteet",
    "Päätöshistoria",
]


def _headings(blocks: list[tuple[str, str]], style: str) -> list[str]:
    return [text for s, text in blocks if s == style]


def test_sections_are_in_the_boards_order(db: Database, settings: Settings) -> None:
    blocks = docx_blocks(build(seeded(db), "listateksti", settings).content)
    assert _headings(blocks, "Heading 2") == SECTIONS
    texts = [text for _style, text in blocks]
    proposal = texts.index("Päätösehdotus")
    # Header first: body, title with the year, case number + task class.
    header = texts[:proposal]
    assert header[0] == settings.list_text.body
    assert header[1] == (
        "Asukasosallisuuden ja asiakaskokemuksen strategiamittarien tulokset vuodelta 2026"
    )
    assert any(
        settings.list_text.case_number in line and settings.list_text.task_class in line
        for line in header
    )
    assert texts[proposal + 1].startswith("Kaupunginhallitus päättää merkitä tiedoksi")


def test_reasoning_covers_both_metrics(db: Database, settings: Settings) -> None:
    blocks = docx_blocks(build(seeded(db), "listateksti", settings).content)
    texts = [text for _style, text in blocks]
    start, end = texts.index("Esittelijän perustelut"), texts.index("Esittelijä")
    reasoning = "\n".join(texts[start:end])
    for needed in [
        "Asukasosallisuus toimialoilla – strategiamittari",
        "Asiakaskokemus / palvelutyytyväisyys – strategiamittari",
        "1)\tViestintä ja kuuleminen",
        "2)\tVuorovaikutus",
        "3)\tYhdessä kehittäminen ja tekeminen",
        "4)\tPäätösvallan jakaminen",
        "Kartoitus viiden Helsingin jälkeen suurimman kaupungin",
        "laajasti käytössä toimialojen kaikissa palvelukokonaisuuksissa",
        "Mittarin seurantatiheys: vuosittain",
        "Suositteluindeksi (NPS)",
        "Muutos edellisestä vuodesta",
        "Tietojen kattavuus",
    ]:
        assert needed in reasoning, needed
    assert reasoning.count("Mittarin lähtötaso:") == 2
    assert reasoning.count("Mittarin tavoitetaso:") == 2


def test_results_table_shows_the_snapshot_figures(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    document = docx.Document(io.BytesIO(build(snapshot, "listateksti", settings).content))
    table = document.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header == ["", "Taso 1", "Taso 2", "Taso 3", "Taso 4", "Yhteensä"]
    for row in table.rows[1:-1]:
        code = row.cells[0].text
        for level, cell in zip([1, 2, 3, 4], row.cells[1:5], strict=True):
            items = [
                p
                for p in snapshot.participation
                if p.division_code == code and p.level_number == level
            ]
            distinct = len({p.method_label().casefold() for p in items})
            assert cell.text == f"{fi_int(len(items))} ({fi_int(distinct)})", (code, level)
    total = table.rows[-1].cells[-1].text
    distinct = len({p.method_label().casefold() for p in snapshot.participation})
    assert total == f"{fi_int(len(snapshot.participation))} ({fi_int(distinct)})"


def test_attachments_list_matches_the_attachment_files(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    blocks = docx_blocks(build(snapshot, "listateksti", settings).content)
    texts = [text for _style, text in blocks]
    listed = texts[texts.index("Liitteet") + 1 : texts.index("Muutoksenhaku")]
    assert listed == ["1 Asukasosallisuus toimialoilla", "2 Asiakaskokemus / palvelutyytyväisyys"]
    for line, kind in zip(listed, ["liite1", "liite2"], strict=True):
        number, title = line.split(" ", 1)
        filename = build(snapshot, kind, settings).filename
        assert filename == f"Liite_{number}_{slug(title)}_{YEAR}-11-30.xlsx"


def test_presenter_and_contact_come_from_settings(db: Database, settings: Settings) -> None:
    text = docx_text(build(seeded(db), "listateksti", settings).content)
    lt = settings.list_text
    for value in [lt.presenter.title, lt.presenter.name, lt.contact.name, lt.contact.email]:
        assert value in text


def test_page_is_a4_not_letter(db: Database, settings: Settings) -> None:
    document = docx.Document(io.BytesIO(build(seeded(db), "listateksti", settings).content))
    for section in document.sections:
        assert abs(section.page_width - Mm(210)) < Mm(0.5)
        assert abs(section.page_height - Mm(297)) < Mm(0.5)


def test_no_change_section_without_last_year(db: Database, settings: Settings) -> None:
    snapshot = seeded(db, previous=False)
    assert snapshot.previous is None
    text = docx_text(build(snapshot, "listateksti", settings).content)
    assert "Muutos edellisestä vuodesta" not in text
    assert "Asukasosallisuuden tulokset 2026" in text


def test_draft_mark_only_when_incomplete(db: Database, settings: Settings) -> None:
    draft = docx_text(build(seeded(db), "listateksti", settings).content)
    assert "LUONNOS" in draft
    assert "SOTE / Hallinto (taso 4, tyytyväisyyden mittaaminen)" in draft


def test_no_draft_mark_when_complete(db: Database, settings: Settings) -> None:
    final = docx_text(build(seeded(db, complete=True), "listateksti", settings).content)
    assert "LUONNOS" not in final
    assert "Kaikki toimialat ovat ilmoittaneet kaikki tietonsa" in final

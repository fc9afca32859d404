"""The list text follows the board's section order and shows the database's numbers."""

from __future__ import annotations

import io
import re

import docx
import pptx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm

from docgen import generate
from docgen.fmt import fi_int, slug
from docgen.wording import load_wording
from settings import BoardMeeting, Settings

from ..conftest import Database
from .conftest import TODAY, YEAR, build, seeded
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
    assert listed == [
        "1 Asukasosallisuus toimialoilla 2026",
        "2 Asiakaskokemus / palvelutyytyväisyys 2026",
    ]
    for line, kind in zip(listed, ["liite1", "liite2"], strict=True):
        number, title = line.removesuffix(f" {YEAR}").split(" ", 1)
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


def _with_meeting(settings: Settings, **meeting: object) -> Settings:
    list_text = settings.list_text.model_copy(
        update={"meetings": {YEAR: BoardMeeting.model_validate(meeting)}}
    )
    return settings.model_copy(update={"list_text": list_text})


def _header_xml(content: bytes) -> tuple[str, str]:
    document = docx.Document(io.BytesIO(content))
    header = document.sections[0].header
    return "\n".join(p.text for p in header.paragraphs), header._element.xml


def test_header_without_a_meeting_is_the_draft_agenda(db: Database, settings: Settings) -> None:
    text, xml = _header_xml(build(seeded(db), "listateksti", settings).content)
    assert text.startswith("Helsingin kaupunki · Esityslistaluonnos")
    assert "30.11.2026" not in text and "20.11.2026" not in text  # no made-up meeting date
    assert 'w:instr="PAGE"' in xml and 'w:instr="NUMPAGES"' in xml  # "1 (4)"


def test_header_with_the_configured_meeting(db: Database, settings: Settings) -> None:
    configured = _with_meeting(
        settings,
        date="7.12.2026",
        agenda_number=45,
        item_number=12,
        decision="approve",
        strategy_period="2025–2029",
    )
    (doc,) = generate(seeded(db), "listateksti", settings=configured, today=TODAY, pdf=False)
    text, _xml = _header_xml(doc.content)
    assert text.startswith("Helsingin kaupunki · Esityslista 45/2026 · Asia 12 · 7.12.2026")
    body = docx_text(doc.content)
    assert "Kaupunginhallitus päättää hyväksyä kaupunkistrategian 2025–2029" in body


def test_take_note_decision_names_the_current_strategy(db: Database, settings: Settings) -> None:
    texts = [t for _s, t in docx_blocks(build(seeded(db), "listateksti", settings).content)]
    proposal = texts[texts.index("Päätösehdotus") + 1]
    assert proposal.startswith(
        "Kaupunginhallitus päättää merkitä tiedoksi kaupunkistrategian 2025–2029"
    )
    assert "2017–2021" not in proposal


def test_presenter_contact_appeal_as_the_board_files_them(db: Database, settings: Settings) -> None:
    texts = [t for _s, t in docx_blocks(build(seeded(db), "listateksti", settings).content)]
    assert texts[texts.index("Esittelijä") + 1] == "pormestari"
    contact = settings.list_text.contact
    assert texts[texts.index("Lisätiedot") + 1] == (
        f"{contact.name}, {contact.title}, puhelin: {contact.phone}"
    )
    assert contact.title == contact.title.lower()
    assert texts[texts.index("Lisätiedot") + 2] == contact.email
    assert texts[texts.index("Muutoksenhaku") + 1] == (
        "Muutoksenhakukielto, valmistelu tai täytäntöönpano"
    )


def test_summary_opens_the_reasoning_with_three_to_five_sentences(
    db: Database, settings: Settings
) -> None:
    blocks = docx_blocks(build(seeded(db), "listateksti", settings).content)
    texts = [t for _s, t in blocks]
    start = texts.index("Esittelijän perustelut")
    assert texts[start + 1] == "Tiivistelmä"
    summary = texts[start + 2]
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖ])", summary) if s]
    assert 3 <= len(sentences) <= 5, sentences
    assert "86 osallisuuden tapaa" in summary or "osallisuuden tapaa" in summary


def test_finnish_as_a_board_secretary_writes_it(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    text = docx_text(build(snapshot, "listateksti", settings).content)
    assert "Esimerkkejä ovat tiedotustilaisuudet, asiakasneuvontakanavat" in text
    assert "1)\tViestintä ja kuuleminen" in text and "• 1" not in text
    assert not re.search(r", ja (yksi|kaksi|kolme|neljä|viisi|yhde|kahde|kolme|neljä)", text)
    assert "KYMP, KASKO ja KUVA ovat ilmoittaneet kaikki tietonsa." in text
    assert "Kaikki tiedot ovat ilmoittaneet" not in text and "ilmoittaneet: ei" not in text
    assert not re.search(r"\b[A-Z]{3,5}: [A-ZÄÖ][a-zäö]+ \(", text)  # "SOTE: Hallinto ("
    assert "muun muassa" in text and "mukaan lukien" not in text
    assert re.search(r"\b17 palvelukokonaisuudessa 18:sta\b", text)
    assert "kaupunkiympäristön toimiala (KYMP)" in text
    assert "kulttuurin ja vapaa-ajan toimiala (KUVA)" in text
    assert ") (" not in text
    assert "luokitellaan" in text and "neljään tasoon" in text
    assert "HappyOrNot" in text and "happy or not" not in text
    # Numbers under ten are words in prose.
    assert not re.search(r"ei mitata \d palvelu", text)
    assert "Asukasosallisuuden ja asiakaskokemuksen strategiamittarien tulokset" in text


def test_headline_does_not_add_up_unlike_counts(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    text = docx_text(build(snapshot, "listateksti", settings).content)
    assert "lukumäärä (Lkm) oli yhteensä" not in text
    distinct = len({p.method_label().casefold() for p in snapshot.participation})
    assert f"{len(snapshot.participation)} osallisuuden tapaa, joista eri tapoja on {distinct}" in (
        text
    )
    wording = load_wording()
    assert text.count(wording.text("definitions.tapa")) == 1
    assert text.count(wording.text("definitions.lkm")) == 1


def test_comparison_and_median_point_to_attachment_cells(db: Database, settings: Settings) -> None:
    text = docx_text(build(seeded(db), "listateksti", settings).content)
    assert "(liite 1, välilehti Vertailu)" in text
    assert "(liite 2, välilehti Yhteenveto)" in text
    assert "sarake" not in text


def test_captions_stay_with_tables_and_numbers_align_right(
    db: Database, settings: Settings
) -> None:
    document = docx.Document(io.BytesIO(build(seeded(db), "listateksti", settings).content))
    caption = document.styles["Caption"]
    assert caption.paragraph_format.keep_with_next is True
    body = list(document.element.body.iterchildren())
    for index, element in enumerate(body):
        if element.tag.endswith("}p") and "Caption" in (
            element.xpath("string(.//w:pStyle/@w:val)")
        ):
            assert body[index + 1].tag.endswith("}tbl")  # the table right after its caption
    table = document.tables[0]
    for row in table.rows[1:]:
        for cell in row.cells[1:]:
            assert cell.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_document_language_is_finnish(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    document = docx.Document(io.BytesIO(build(snapshot, "listateksti", settings).content))
    xml = document.styles.element.xml
    assert 'w:lang w:val="fi-FI"' in xml
    assert document.core_properties.language == "fi-FI"
    slides = pptx.Presentation(io.BytesIO(build(snapshot, "dia", settings).content))
    assert slides.core_properties.language == "fi-FI"

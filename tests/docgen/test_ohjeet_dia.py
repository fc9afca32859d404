"""The instructions (one page per metric) and the management group's slides."""

from __future__ import annotations

import io

import docx
import pptx
from docx.shared import Mm
from pptx.oxml.ns import qn

from docgen.fmt import fi_date
from docgen.wording import load_wording
from settings import Settings

from ..conftest import Database
from .conftest import TODAY, YEAR, build, seeded
from .readback import docx_blocks, pptx_text


def test_instructions_have_one_part_per_metric_split_by_a_page_break(
    db: Database, settings: Settings
) -> None:
    doc = build(seeded(db), "ohjeet", settings)
    blocks = docx_blocks(doc.content)
    titles = [text for style, text in blocks if style == "Heading 1"]
    assert titles == [
        f"Ohje: Asukasosallisuus toimialoilla – strategiamittari {YEAR}",
        f"Ohje: Asiakaskokemus / palvelutyytyväisyys – strategiamittari {YEAR}",
    ]
    document = docx.Document(io.BytesIO(doc.content))
    assert sum(p._p.xml.count('w:type="page"') for p in document.paragraphs) == 1
    text = "\n".join(t for _s, t in blocks)
    for command in ["/raportoi", "/tyytyvaisyys", "/tila", "/valmis"]:
        assert command in text
    for deadline, day in settings.calendar.dates_for(YEAR):
        assert fi_date(day) in text, deadline.code
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.5)


def test_instructions_state_the_divisions_deadline_contact_and_lkm(
    db: Database, settings: Settings
) -> None:
    text = "\n".join(t for _s, t in docx_blocks(build(seeded(db), "ohjeet", settings).content))
    # The contacts' own deadline, as their reminders and /tila name it (20.11.).
    assert "Toimialan tiedot on ilmoitettava botilla viimeistään 20.11.2026." in text
    assert "erilliset ohjeet" not in text and "max 1 sivu" not in text
    contact = settings.list_text.contact
    assert f"{contact.name}, {contact.title}, puhelin: {contact.phone}, {contact.email}" in text
    wording = load_wording()
    assert wording.text("definitions.lkm") in text
    assert "luokitellaan neljään tasoon" in text


def _slides(db: Database, settings: Settings) -> pptx.presentation.Presentation:
    return pptx.Presentation(io.BytesIO(build(seeded(db), "dia", settings).content))


def test_slides_are_16_9_with_titles_in_title_placeholders(
    db: Database, settings: Settings
) -> None:
    presentation = _slides(db, settings)
    assert len(presentation.slides) == 2
    assert abs(presentation.slide_width / presentation.slide_height - 16 / 9) < 0.01
    titles = [slide.shapes.title.text_frame.text for slide in presentation.slides]
    assert titles == [
        f"Asukasosallisuus toimialoilla {YEAR}",
        f"Asiakaskokemus / palvelutyytyväisyys {YEAR}",
    ]


def test_slide_text_sizes_bullets_and_language(db: Database, settings: Settings) -> None:
    presentation = _slides(db, settings)
    bullets = 0
    for slide in presentation.slides:
        for shape in slide.shapes:
            frames = []
            if shape.has_text_frame:
                frames.append(shape.text_frame)
            if getattr(shape, "has_table", False) and shape.has_table:
                frames += [cell.text_frame for row in shape.table.rows for cell in row.cells]
            for frame in frames:
                for paragraph in frame.paragraphs:
                    ppr = paragraph._p.pPr
                    if ppr is not None and ppr.find(qn("a:buChar")) is not None:
                        bullets += 1
                        assert int(ppr.get("indent")) < 0 < int(ppr.get("marL"))  # hanging
                        assert not paragraph.text.startswith("•")
                    for run in paragraph.runs:
                        assert run.font.size is not None and run.font.size.pt >= 18, run.text
                        assert run.font._rPr.get("lang") == "fi-FI", run.text
            if shape.has_chart:
                chart = shape.chart
                assert chart.font.size.pt >= 14
                assert chart.category_axis.tick_labels.font.size.pt >= 14
                assert chart.value_axis.tick_labels.font.size.pt >= 14
                assert chart.legend.font.size.pt >= 14
    assert bullets == 4  # two open questions per slide


def test_each_slide_has_definition_baseline_target_status_and_questions(
    db: Database, settings: Settings
) -> None:
    presentation = _slides(db, settings)
    for slide in presentation.slides:
        text = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        for needed in ("Mittari:", "Lähtötaso:", "Tavoite:", "Tilanne:"):
            assert text.count(needed) == 1, needed
        assert "Avoimet kysymykset johtoryhmälle" in text
        assert "Seuraavat vaiheet" not in text and "Sen jälkeen" not in text
        assert sum(1 for s in slide.shapes if s.has_chart) == 1
        # The four quarters are all used: something starts in each.
        half_w, half_h = presentation.slide_width / 2, presentation.slide_height / 2
        quarters = {(s.left >= half_w * 0.95, s.top + s.height / 2 >= half_h) for s in slide.shapes}
        assert quarters == {(False, False), (False, True), (True, False), (True, True)}


def test_slide_date_agrees_with_the_file_name_and_status_words_with_liite1(
    db: Database, settings: Settings
) -> None:
    doc = build(seeded(db), "dia", settings)
    assert doc.filename == f"Johtoryhman_diat_strategiamittarit_{TODAY.isoformat()}.pptx"
    text = pptx_text(doc.content)
    assert f"Valmistelutilanne {fi_date(TODAY)}" in text
    assert "LUONNOS" in text
    assert "Valmis" in text and "Puuttuu: 1/4" in text  # SOTE: one of four still missing
    assert "3/4" in text
    assert "Lähetetty" not in text and "Kesken" not in text

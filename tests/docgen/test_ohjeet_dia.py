"""The instructions (one page per metric) and the management group's slides."""

from __future__ import annotations

import io

import docx
import pptx
from docx.shared import Mm
from pptx.util import Mm as PptxMm

from docgen.fmt import fi_date
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, build, seeded
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


def test_slides_one_per_metric_on_a4(db: Database, settings: Settings) -> None:
    doc = build(seeded(db), "dia", settings)
    presentation = pptx.Presentation(io.BytesIO(doc.content))
    assert len(presentation.slides) == 2
    assert abs(presentation.slide_width - PptxMm(297)) < PptxMm(0.5)
    assert abs(presentation.slide_height - PptxMm(210)) < PptxMm(0.5)
    first, second = (
        "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        for slide in presentation.slides
    )
    assert first.startswith(f"Asukasosallisuus toimialoilla {YEAR}")
    assert second.startswith(f"Asiakaskokemus / palvelutyytyväisyys {YEAR}")
    for text in (first, second):
        assert "Raportoinnin kattavuus" in text
        assert "Keskeiset luvut" in text
        assert "Seuraavat vaiheet" in text
        assert "30.11.2026" in text  # the next deadline after 20.11.
    charts = [s for slide in presentation.slides for s in slide.shapes if s.has_chart]
    assert len(charts) == 2


def test_slide_coverage_table_per_division(db: Database, settings: Settings) -> None:
    text = pptx_text(build(seeded(db), "dia", settings).content)
    assert "LUONNOS" in text
    assert "Kesken" in text and "Lähetetty" in text  # SOTE still a draft
    assert "3/4" in text  # SOTE: three of four service entities have answered

"""User text reaches cells and paragraphs safely; odd data never breaks generation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from data.models import (
    Division,
    Level,
    MeasurementType,
    ParticipationEntry,
    SatisfactionEntry,
    ServiceEntity,
)
from data.progress import get_or_create_round
from docgen import KINDS, generate
from settings import Settings

from ..conftest import Database
from .conftest import TODAY, YEAR, build, read_snapshot_for
from .handmade import empty_catalog_snapshot, tiny_snapshot
from .readback import text_of, workbook

FORMULA_LIKE = [
    '=HYPERLINK("http://evil.example","Klikkaa")',
    "+358 40 123 4567",
    "-5 kpl",
    "@SUM(A1:A9)",
    "#N/A",
]
CONTROL = "Kysely\x01\x07\x1b\x0b ohjausmerkein"
LONG = ("Pitkä lisätieto, joka ei saa katketa vaan rivittyy solussa. " * 5)[:300]
UNICODE_NAME = "Ääkköset 😀 – 中文 – عربى – e\u0301 – Åbo"
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _hostile_round(db: Database) -> None:
    with db.transaction() as s:
        kuva = s.scalar(select(Division).where(Division.code == "KUVA"))
        assert kuva is not None
        entity = ServiceEntity(
            code="KUVA_UNICODE",
            division_id=kuva.id,
            name={"fi": UNICODE_NAME, "sv": UNICODE_NAME, "en": UNICODE_NAME},
            sort_order=99,
        )
        s.add(entity)
        s.flush()
        level = s.scalar(select(Level).where(Level.number == 1))
        nps = s.scalar(select(MeasurementType).where(MeasurementType.code == "NPS"))
        assert level is not None and nps is not None
        rnd = get_or_create_round(s, YEAR)
        for text in [*FORMULA_LIKE, CONTROL]:
            s.add(
                ParticipationEntry(
                    round_id=rnd.id,
                    division_id=kuva.id,
                    service_entity_id=entity.id,
                    level_id=level.id,
                    method_text=text,
                    count=1,
                    note=LONG if text == CONTROL else "=2+2",
                )
            )
        s.add(
            SatisfactionEntry(
                round_id=rnd.id,
                division_id=kuva.id,
                service_entity_id=entity.id,
                measurement_type_id=nps.id,
                latest_result="=1+1",
                frequency="Jatkuva\x02",
                promoters=10,
                passives=5,
                detractors=5,
            )
        )


# The formulas the workbooks themselves contain (totals, shares, counts).
PROGRAM_FORMULAS = (
    "=COUNTIF",
    "=SUM(",
    "=SUMPRODUCT(",
    "=IFERROR(",
    "=IF(",
    "='Kaavio'!",
    "='Yhteenveto'!",  # Liite 2's Vertailu
    "=SUMIFS('Kaikki tavat'!",  # Yleisimmät tavat: a method's Lkm
    "=ROUND(100*(J",  # NPS from the counts
    "=J",  # respondents: the sum of the counts
)


def test_formula_like_text_stays_text_in_excel(db: Database, settings: Settings) -> None:
    _hostile_round(db)
    snapshot = read_snapshot_for(db)
    for kind in ("liite1", "liite2"):
        wb = workbook(build(snapshot, kind, settings))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # only the program's own totals and shares
                        assert str(cell.value).startswith(PROGRAM_FORMULAS), cell.value
                        continue
                    if isinstance(cell.value, str):
                        assert not CONTROL_RE.search(cell.value)
    entries = workbook(build(snapshot, "liite1", settings))["Kaikki tavat"]
    cells = {c.value: c for row in entries.iter_rows() for c in row if isinstance(c.value, str)}
    for text in FORMULA_LIKE:
        assert cells[text].data_type == "s", text
        assert cells[text].quotePrefix, text  # stays text even when the cell is edited
    assert "Kysely ohjausmerkein" in cells
    assert LONG in cells and cells[LONG].alignment.wrap_text  # wraps, not cut
    mapping = workbook(build(snapshot, "liite2", settings))["Kartoitus"]
    result = next(c for row in mapping.iter_rows() for c in row if c.value == "=1+1")
    assert result.data_type == "s"


def test_hostile_text_in_every_document(db: Database, settings: Settings) -> None:
    _hostile_round(db)
    snapshot = read_snapshot_for(db)
    for kind in KINDS:
        doc = build(snapshot, kind, settings)
        text = text_of(doc)
        assert not CONTROL_RE.search(text.replace("\t", "")), kind
    for kind in ("liite1", "liite2"):
        assert UNICODE_NAME in text_of(build(snapshot, kind, settings)), kind
    assert "LUONNOS" in text_of(build(snapshot, "listateksti", settings))


def test_nul_and_surrogates_are_removed() -> None:
    """Characters a database may refuse still must not break the documents."""
    snapshot = tiny_snapshot(
        [("Nolla\x00merkki", "lone \ud800 surrogate"), ("=cmd|' /C calc'!A0", "\x0c")],
        entity_name="Ent\x00ity",
    )
    for kind in KINDS:
        (doc,) = generate(snapshot, kind, today=TODAY, pdf=False)
        text = text_of(doc)
        assert "\x00" not in text and "\ud800" not in text
    (liite1,) = generate(snapshot, "liite1", today=TODAY)
    assert "Nollamerkki" in text_of(liite1)


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_catalog_does_not_crash(kind: str) -> None:
    (doc,) = generate(empty_catalog_snapshot(), kind, today=TODAY, pdf=False)
    assert doc.content

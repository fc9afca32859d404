"""Liite 1: the source slide's matrix, coverage, chart and every entry — equal to the database."""

from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict

from sqlalchemy import func, select

from data.models import (
    CatalogMethod,
    Division,
    Level,
    LevelNoneAnswer,
    ParticipationEntry,
    Round,
    ServiceEntity,
)
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, build, seeded
from .readback import workbook

DIVISIONS = ["KYMP", "KASKO", "SOTE", "KUVA"]


def _database_lines(db: Database) -> dict[tuple[str, int, str], tuple[int, set[str]]]:
    """(division, level, method label) -> (sum of counts, entity names), from the tables."""
    with db.session() as s:
        divisions = {d.id: d.code for d in s.scalars(select(Division))}
        levels = {lvl.id: lvl.number for lvl in s.scalars(select(Level))}
        entities = {e.id: e.name["fi"] for e in s.scalars(select(ServiceEntity))}
        methods = {m.id: m.name["fi"] for m in s.scalars(select(CatalogMethod))}
        lines: dict[tuple[str, int, str], tuple[int, set[str]]] = {}
        for entry in s.scalars(select(ParticipationEntry).where(_this_round())):
            label = methods[entry.method_id] if entry.method_id else entry.method_text
            key = (divisions[entry.division_id], levels[entry.level_id], str(label))
            count, names = lines.get(key, (0, set()))
            lines[key] = (count + entry.count, names | {entities[entry.service_entity_id]})
    return lines


def _this_round():  # type: ignore[no-untyped-def]
    """Entries of the tested year only (the demo also seeds last year)."""
    return (
        ParticipationEntry.round_id == select(Round.id).where(Round.year == YEAR).scalar_subquery()
    )


def _database_totals(db: Database) -> dict[tuple[str, int], int]:
    """SUM(count) per division and level, computed by the database itself."""
    with db.session() as s:
        rows = s.execute(
            select(Division.code, Level.number, func.sum(ParticipationEntry.count))
            .join(Division, Division.id == ParticipationEntry.division_id)
            .join(Level, Level.id == ParticipationEntry.level_id)
            .where(_this_round())
            .group_by(Division.code, Level.number)
        )
        return {(code, number): int(total) for code, number, total in rows}


def _matrix(ws) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """Parse the matrix sheet: lines and total rows per (division, level)."""
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[2] in DIVISIONS)
    columns = {rows[header][c]: c for c in range(len(rows[header])) if rows[header][c]}
    assert list(columns) == DIVISIONS
    assert rows[header + 1][2:5] == ("Lkm", "Tapa", "Palvelukokonaisuus")
    lines: dict[tuple[str, int, str], tuple[int, set[str]]] = {}
    totals: dict[tuple[str, int], tuple[int, str, str]] = {}
    level = 0
    for row in rows[header + 2 :]:
        first = str(row[0] or "")
        if re.match(r"^\d ", first):
            level = int(first[0])
        for code, c in columns.items():
            count, method, entities = row[c], row[c + 1], row[c + 2]
            if first == "Yhteensä":
                totals[(code, level)] = (count, method, entities)
            elif count is not None:
                lines[(code, level, method)] = (count, set(entities.split("; ")))
    return lines, totals


def test_matrix_equals_the_database(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    ws = workbook(build(snapshot, "liite1", settings))["Matriisi"]
    lines, totals = _matrix(ws)
    assert lines == _database_lines(db)
    database_totals = _database_totals(db)
    for (code, level), (count, methods, entities) in totals.items():
        assert count == database_totals.get((code, level), 0), (code, level)
        n = sum(
            1 for p in snapshot.participation if (p.division_code, p.level_number) == (code, level)
        )
        assert methods == (f"{n} tapa" if n == 1 else f"{n} tapaa")
        assert re.fullmatch(r"\d/\d palvelukokonaisuutta", entities)
    assert len(totals) == 4 * 4


def test_matrix_rows_are_the_levels_with_description_and_examples(
    db: Database, settings: Settings
) -> None:
    ws = workbook(build(seeded(db), "liite1", settings))["Matriisi"]
    level_cells = [
        str(r[0]) for r in ws.iter_rows(values_only=True) if r[0] and str(r[0])[0].isdigit()
    ]
    assert [c.split("\n")[0] for c in level_cells] == [
        "1 Viestintä ja kuuleminen",
        "2 Vuorovaikutus",
        "3 Yhdessä kehittäminen ja tekeminen",
        "4 Päätösvallan jakaminen",
    ]
    assert "kaksisuuntainen tapahtuma" in level_cells[1]
    examples = [r[1] for r in ws.iter_rows(values_only=True) if r[0] and str(r[0]).startswith("3 ")]
    assert "Asiakasraadit" in examples[0] and "Työpajat / Hackaton" in examples[0]


def test_every_entry_is_a_row_of_a_filterable_table(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    wb = workbook(build(snapshot, "liite1", settings))
    ws = wb["Kaikki tavat"]
    assert len(ws.tables) == 1
    table = next(iter(ws.tables.values()))
    first, last = table.ref.split(":")
    header_row = int(re.sub(r"\D", "", first))
    last_row = int(re.sub(r"\D", "", last))
    with db.session() as s:
        count = s.scalar(select(func.count()).select_from(ParticipationEntry).where(_this_round()))
        total = s.scalar(select(func.sum(ParticipationEntry.count)).where(_this_round()))
    assert last_row - header_row == count
    rows = list(ws.iter_rows(min_row=header_row, max_row=last_row, values_only=True))
    assert rows[0] == tuple(c.name for c in table.tableColumns)
    assert sum(r[6] for r in rows[1:]) == total
    assert table.autoFilter is not None


def test_coverage_sheet_marks_methods_none_and_missing(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    ws = workbook(build(snapshot, "liite1", settings))["Kattavuus"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Toimiala")
    with db.session() as s:
        divisions = {d.id: d.code for d in s.scalars(select(Division))}
        # Entity names repeat across divisions ("Hallinto"): key by division and name.
        names = {
            e.id: (divisions[e.division_id], e.name["fi"]) for e in s.scalars(select(ServiceEntity))
        }
        levels = {lvl.id: lvl.number for lvl in s.scalars(select(Level))}
        methods: dict[tuple[tuple[str, str], int], int] = defaultdict(int)
        for e in s.scalars(select(ParticipationEntry).where(_this_round())):
            methods[(names[e.service_entity_id], levels[e.level_id])] += 1
        this_round = select(Round.id).where(Round.year == YEAR).scalar_subquery()
        nones = {
            (names[a.service_entity_id], levels[a.level_id])
            for a in s.scalars(
                select(LevelNoneAnswer).where(LevelNoneAnswer.round_id == this_round)
            )
        }
    seen = 0
    for row in rows[header + 1 :]:
        if row[0] is None:
            break
        seen += 1
        for level in (1, 2, 3, 4):
            value = row[1 + level]
            key = ((row[0], row[1]), level)
            if key in methods:
                assert value == methods[key], key
            elif key in nones:
                assert value == 0, key
            else:
                assert value == "–", key
    assert seen == 18
    sote_hallinto = next(r for r in rows if r[0] == "SOTE" and r[1] == "Hallinto")
    assert sote_hallinto[5] == "–" and "Puuttuu" in sote_hallinto[-1]


def test_native_chart_of_methods_per_level_and_division(db: Database, settings: Settings) -> None:
    doc = build(seeded(db), "liite1", settings)
    with zipfile.ZipFile(io.BytesIO(doc.content)) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = archive.read(charts[0]).decode()
    assert "<barChart>" in xml and '<barDir val="col"/>' in xml
    assert "'Kaavio'!$B$" in xml  # series read from the chart sheet's table
    ws = workbook(doc)["Kaavio"]
    table = [r for r in ws.iter_rows(values_only=True) if r[0] and str(r[0])[:1].isdigit()]
    assert len(table) == 4 and all(isinstance(v, int) for r in table for v in r[1:5])


def test_print_ready(db: Database, settings: Settings) -> None:
    wb = workbook(build(seeded(db), "liite1", settings))
    assert wb.sheetnames == ["Matriisi", "Kattavuus", "Kaavio", "Kaikki tavat"]
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize in ("9", 9)
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
    assert wb["Matriisi"].freeze_panes == "C7"
    assert wb["Matriisi"].print_title_rows == "$5:$6"
    assert wb["Kaikki tavat"].freeze_panes == "A5"
    assert wb["Kaikki tavat"].print_title_rows == "$4:$4"


def test_title_has_year_and_draft_mark_follows_completeness(
    db: Database, settings: Settings
) -> None:
    draft = workbook(build(seeded(db), "liite1", settings))
    assert draft.properties.title == "Liite 1. Asukasosallisuus toimialoilla 2026"
    assert draft["Matriisi"]["A1"].value == "Liite 1. Asukasosallisuus toimialoilla 2026"
    assert str(draft["Matriisi"]["A3"].value).startswith("LUONNOS")
    assert draft["Matriisi"].oddHeader.center.text == "LUONNOS"


def test_no_draft_mark_when_complete(db: Database, settings: Settings) -> None:
    final = workbook(build(seeded(db, complete=True), "liite1", settings))
    for ws in final.worksheets:
        assert not ws.oddHeader.center.text
        for row in ws.iter_rows(values_only=True):
            assert not any("LUONNOS" in str(v) for v in row if v)

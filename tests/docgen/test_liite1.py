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


def _matrix(ws) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """Parse the matrix sheet: lines and total rows per (division, level)."""
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[2] in DIVISIONS)
    columns = {rows[header][c]: c for c in range(len(rows[header])) if rows[header][c]}
    assert list(columns) == DIVISIONS
    assert rows[header + 1][2:5] == ("Lkm", "Tapa", "Palvelukokonaisuus")
    lines: dict[tuple[str, int, str], tuple[int, set[str]]] = {}
    totals: dict[tuple[str, int], tuple[object, object, str]] = {}
    level = 0
    for row in rows[header + 2 :]:
        first = str(row[0] or "")
        if re.match(r"^\d ", first):
            level = int(first[0])
        if first.startswith("Osallisuuden tapa tarkoittaa"):
            break  # the legend under the table
        for code, c in columns.items():
            count, method, entities = row[c], row[c + 1], row[c + 2]
            if first == "Yhteensä":
                totals[(code, level)] = (count, method, entities)
            elif count is not None:
                lines[(code, level, method)] = (count, set(entities.split("; ")))
    return lines, totals


def test_matrix_equals_the_database(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    doc = build(snapshot, "liite1", settings)
    lines, totals = _matrix(workbook(doc, cached=True)["Matriisi"])
    assert lines == _database_lines(db)
    _lines, formulas = _matrix(workbook(doc)["Matriisi"])
    for (code, level), (count, methods, entities) in totals.items():
        items = [
            p for p in snapshot.participation if (p.division_code, p.level_number) == (code, level)
        ]
        # Lkm of different methods is not added up: the total line counts methods.
        assert count is None
        assert methods == len(items)  # the cached value of the live count
        assert formulas[(code, level)][1].startswith("=COUNTIFS('Kaikki tavat'!$A$5:$A$")
        assert re.fullmatch(r"\d/\d palvelukokonaisuudesta", entities)
    assert len(totals) == 4 * 4


def test_matrix_total_says_what_is_counted(db: Database, settings: Settings) -> None:
    """ "5 (4 eri tapaa)": the live count shown with the distinct methods, never "5 tapaa"
    over four rows."""
    snapshot = seeded(db)
    ws = workbook(build(snapshot, "liite1", settings))["Matriisi"]
    formats = {}
    for row in ws.iter_rows():
        if row[0].value == "Yhteensä":
            formats[row[3].coordinate] = (row[3].value, row[3].number_format)
    assert formats
    part = [(p.division_code, p.level_number, p.method_label()) for p in snapshot.participation]
    kymp_level_1 = len({label.casefold() for d, lvl, label in part if (d, lvl) == ("KYMP", 1)})
    value, number_format = next(iter(formats.values()))
    assert value.startswith("=COUNTIFS(")
    assert number_format == f'0" ({kymp_level_1} eri tapaa)"' or number_format == (
        '0" (1 eri tapa)"'
    )


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
    assert "<numCache>" in xml and "<strCache>" in xml  # drawn without recalculation
    ws = workbook(doc, cached=True)["Kaavio"]
    table = [r for r in ws.iter_rows(values_only=True) if r[0] and str(r[0])[:1].isdigit()]
    assert len(table) == 4 and all(isinstance(v, int) for r in table for v in r[1:6])
    live = workbook(doc)["Kaavio"]
    formulas = [r for r in live.iter_rows(values_only=True) if r[0] and str(r[0])[:1].isdigit()]
    assert all(str(v).startswith("=COUNTIFS(") for r in formulas for v in r[1:5])
    assert all(str(r[5]).startswith("=SUM(") for r in formulas)


def test_print_ready(db: Database, settings: Settings) -> None:
    wb = workbook(build(seeded(db), "liite1", settings))
    assert wb.sheetnames == ["Matriisi", "Kattavuus", "Kaavio", "Kaikki tavat", "Vertailu"]
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize in ("9", 9, "8", 8)  # A4 or A3
        assert ws.page_setup.orientation == "landscape"
    # The matrix: one division per printed A4 page at 100 %, the level columns repeated.
    matrix = wb["Matriisi"]
    assert matrix.page_setup.paperSize in ("9", 9)
    assert int(matrix.page_setup.scale) == 100
    assert [b.id for b in matrix.col_breaks.brk] == [5, 8, 11]
    assert matrix.print_title_cols == "$A:$B"
    assert matrix.print_title_rows == "$4:$5"
    assert matrix.freeze_panes == "C6"
    # Each level on one page: a page break only ever falls right before a level.
    starts = {
        cell.row - 1
        for row in matrix.iter_rows(min_col=1, max_col=1)
        for cell in row
        if re.match(r"^\d ", str(cell.value or ""))
    }
    assert {b.id for b in matrix.row_breaks.brk} <= starts
    for name in ("Kattavuus", "Kaavio", "Kaikki tavat", "Vertailu"):
        ws = wb[name]
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
    assert wb["Kaikki tavat"].freeze_panes == "C5"
    assert wb["Kaikki tavat"].print_title_rows == "$4:$4"


def test_one_font_no_shrinking_and_counts_with_thousands_separators(
    db: Database, settings: Settings
) -> None:
    wb = workbook(build(seeded(db), "liite1", settings))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert not cell.alignment.shrink_to_fit, (ws.title, cell.coordinate)
                if cell.has_style and cell.font.sz and cell.row > 3:
                    assert cell.font.name == "Arial" and cell.font.sz == 10, (
                        ws.title,
                        cell.coordinate,
                    )
                if (
                    isinstance(cell.value, int)
                    and ws.title == "Matriisi"
                    and cell.column_letter in "CFIL"  # the Lkm columns
                ):
                    assert cell.number_format == "# ##0", (ws.title, cell.coordinate)
    entries = wb["Kaikki tavat"]
    header = [c.value for c in next(entries.iter_rows(min_row=4, max_row=4))]
    lkm = header.index("Lkm") + 1
    counts = [r[0] for r in entries.iter_rows(min_row=5, min_col=lkm, max_col=lkm)]
    assert counts and all(c.number_format == "# ##0" for c in counts if c.value is not None)
    sources = {r[0].value for r in entries.iter_rows(min_row=5, min_col=6, max_col=6)}
    assert sources == {"luettelosta", "itse kirjoitettu"}


def test_totals_and_shares_are_live_formulas_with_values(db: Database, settings: Settings) -> None:
    doc = build(seeded(db), "liite1", settings)
    live, cached = workbook(doc)["Kattavuus"], workbook(doc, cached=True)["Kattavuus"]
    formulas = [
        (cell.coordinate, cell.value)
        for row in live.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert any(f.startswith("=IFERROR(COUNTIFS($A$") for _c, f in formulas)
    assert any(f.startswith("=SUM(B") for _c, f in formulas)
    for coordinate, _formula in formulas:
        assert cached[coordinate].value is not None, coordinate  # a value for every viewer
    city = next(r for r in cached.iter_rows(values_only=True) if r[0] == "Koko kaupunki")
    assert city[1] == 18 and 0 < city[7] <= 1


def test_one_vocabulary_with_liite2(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    coverage = workbook(build(snapshot, "liite1", settings))["Kattavuus"]
    answers = {r[7] for r in coverage.iter_rows(min_row=7, max_row=24, values_only=True)}
    assert answers == {"Vastattu", "Ei vastausta"}
    mapping = workbook(build(snapshot, "liite2", settings))["Kartoitus"]
    assert "Ei vastausta" in {r[2] for r in mapping.iter_rows(values_only=True)}


def test_comparison_sheet_holds_the_list_texts_change_figures(
    db: Database, settings: Settings
) -> None:
    wb = workbook(build(seeded(db), "liite1", settings), cached=True)
    rows = [r for r in wb["Vertailu"].iter_rows(values_only=True) if r[0]]
    by_label = {r[0]: r for r in rows}
    assert "Osallisuuden tapoja" in by_label and "NPS, mediaani" in by_label
    methods = by_label["Osallisuuden tapoja"]
    assert methods[3] == methods[2] - methods[1]


def test_title_has_year_and_draft_mark_follows_completeness(
    db: Database, settings: Settings
) -> None:
    draft = workbook(build(seeded(db), "liite1", settings))
    assert draft.properties.title == "Liite 1. Asukasosallisuus toimialoilla 2026"
    assert draft["Matriisi"]["A1"].value == "Liite 1. Asukasosallisuus toimialoilla 2026"
    assert str(draft["Matriisi"]["A3"].value).startswith("LUONNOS")
    assert "SOTE / Hallinto" in str(draft["Matriisi"]["A3"].value)
    assert draft["Matriisi"].oddHeader.center.text == "LUONNOS"


def test_no_draft_mark_when_complete(db: Database, settings: Settings) -> None:
    final = workbook(build(seeded(db, complete=True), "liite1", settings))
    for ws in final.worksheets:
        assert not ws.oddHeader.center.text
        for row in ws.iter_rows(values_only=True):
            assert not any("LUONNOS" in str(v) for v in row if v)

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

# A real grouping format (never a literal space: "# ##0" printed "1234 567" or "###"),
# in the Finnish locale so every viewer shows "1 234 567".
NUMBER = "[$-40B]#,##0"

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
    """Parse the matrix sheet: lines and total rows per (division, level).

    Each division is a section of its own: a heading line "KYMP – …", then its levels."""
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Osallisuuden taso")
    assert rows[header][2:5] == ("Lkm", "Tapa", "Palvelukokonaisuus")
    lines: dict[tuple[str, int, str], tuple[int, set[str]]] = {}
    totals: dict[tuple[str, int], dict[str, object]] = {}
    level = 0
    code = ""
    for row in rows[header + 1 :]:
        first = str(row[0] or "")
        if first.split(" – ")[0] in DIVISIONS:
            code = first.split(" – ")[0]
            continue
        if re.match(r"^\d ", first):
            level = int(first[0])
        if first.startswith("Osallisuuden tapa tarkoittaa"):
            break  # the legend under the table
        count, method, entities = row[2], row[3], row[4]
        if first in ("Tapoja yhteensä", "Eri tapoja"):
            totals.setdefault((code, level), {})[first] = (count, method, entities)
        elif count is not None:
            lines[(code, level, method)] = (count, set(entities.split("; ")))
    return lines, totals


def test_matrix_equals_the_database(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    doc = build(snapshot, "liite1", settings)
    lines, totals = _matrix(workbook(doc, cached=True)["Matriisi"])
    assert lines == _database_lines(db)
    _lines, formulas = _matrix(workbook(doc)["Matriisi"])
    for (code, level), found in totals.items():
        count, methods, entities = found["Tapoja yhteensä"]
        items = [
            p for p in snapshot.participation if (p.division_code, p.level_number) == (code, level)
        ]
        # Lkm of different methods is not added up: the total line counts methods.
        assert count is None
        assert methods == len(items)  # the cached value of the live count
        live = formulas[(code, level)]["Tapoja yhteensä"][1]
        assert live.startswith("=COUNTIFS('Kaikki tavat'!$A$6:$A$")
        assert re.fullmatch(r"\d/\d palvelukokonaisuudesta", entities)
    assert len(totals) == 4 * 4


def test_matrix_distinct_count_is_a_cell_of_its_own(db: Database, settings: Settings) -> None:
    """The distinct methods are a formula cell with a cached value, never a number hidden
    in a number format ("0 (7 eri tapaa)")."""
    snapshot = seeded(db)
    doc = build(snapshot, "liite1", settings)
    _lines, cached = _matrix(workbook(doc, cached=True)["Matriisi"])
    _lines, live = _matrix(workbook(doc)["Matriisi"])
    part = [(p.division_code, p.level_number, p.method_label()) for p in snapshot.participation]
    for (code, level), found in cached.items():
        expected = len({label.casefold() for d, lvl, label in part if (d, lvl) == (code, level)})
        assert found["Eri tapoja"][1] == expected
        assert str(live[(code, level)]["Eri tapoja"][1]).startswith("='Kaavio'!")
    for ws in workbook(doc).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert '"' not in (cell.number_format or ""), (ws.title, cell.coordinate)


def test_matrix_rows_are_the_levels_with_description_and_examples(
    db: Database, settings: Settings
) -> None:
    ws = workbook(build(seeded(db), "liite1", settings))["Matriisi"]
    level_cells = [
        str(r[0]) for r in ws.iter_rows(values_only=True) if r[0] and str(r[0])[0].isdigit()
    ]
    assert [c.split("\n")[0] for c in level_cells] == 4 * [  # each division's section
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
    doc = build(snapshot, "liite1", settings)
    ws = workbook(doc, cached=True)["Kattavuus"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Toimiala")
    # Every count is a live COUNTIFS over Kaikki tavat (division, entity, level); "–"
    # (no answer) stays text.
    live = workbook(doc)["Kattavuus"]
    for row in live.iter_rows(min_row=header + 2, max_row=header + 19, min_col=3, max_col=6):
        for cell in row:
            assert cell.value == "–" or str(cell.value).startswith("=COUNTIFS("), cell
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
    # The methods, then the distinct methods, per level and division.
    assert len(table) == 8 and all(isinstance(v, int) for r in table for v in r[1:6])
    live = workbook(doc)["Kaavio"]
    formulas = [r for r in live.iter_rows(values_only=True) if r[0] and str(r[0])[:1].isdigit()]
    assert all(str(v).startswith("=COUNTIFS('Kaikki tavat'") for r in formulas[:4] for v in r[1:5])
    assert all(str(r[5]).startswith("=SUM(") for r in formulas[:4])
    assert all(str(v).startswith("=COUNTIFS('Eri tavat'") for r in formulas[4:] for v in r[1:6])


def test_print_ready(db: Database, settings: Settings) -> None:
    wb = workbook(build(seeded(db), "liite1", settings))
    assert wb.sheetnames == [
        "Matriisi",
        "Kattavuus",
        "Kaavio",
        "Vertailu",
        "Yleisimmät tavat",
        "Kaikki tavat",
        "Eri tavat",
    ]
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize in ("9", 9)  # A4
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        assert ws.oddFooter.right.text == "&P (&N)"  # "1 (4)", as the list text
    matrix = wb["Matriisi"]
    assert matrix.print_title_rows == "$4:$4"
    assert matrix.freeze_panes == "A5"
    # The listings grow with the data: they stay in the workbook, only their titles print.
    entries = wb["Kaikki tavat"]
    assert entries.freeze_panes == "C6"
    assert entries.print_area == "'Kaikki tavat'!$A$1:$H$4"
    assert wb["Eri tavat"].print_area == "'Eri tavat'!$A$1:$G$4"


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
                    and cell.column_letter == "C"  # the Lkm column
                ):
                    assert cell.number_format == NUMBER, (ws.title, cell.coordinate)
    entries = wb["Kaikki tavat"]
    header = [c.value for c in next(entries.iter_rows(min_row=5, max_row=5))]
    lkm = header.index("Lkm") + 1
    counts = [r[0] for r in entries.iter_rows(min_row=6, min_col=lkm, max_col=lkm)]
    assert counts and all(c.number_format == NUMBER for c in counts if c.value is not None)
    sources = {r[0].value for r in entries.iter_rows(min_row=6, min_col=6, max_col=6)}
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


def test_comparison_sheet_holds_liite_1s_figures_as_formulas(
    db: Database, settings: Settings
) -> None:
    doc = build(seeded(db), "liite1", settings)
    cached, live = workbook(doc, cached=True)["Vertailu"], workbook(doc)["Vertailu"]
    rows = [r for r in cached.iter_rows(values_only=True) if r[0]]
    header = next(r for r in rows if r[0] == "Tunnusluku")
    assert header[1:3] == (YEAR - 1, YEAR)  # years as numbers, not text
    by_label = {r[0]: r for r in rows}
    assert "Osallisuuden tapoja" in by_label
    # Only Liite 1's figures: satisfaction and NPS are Liite 2's.
    assert not any("NPS" in str(r[0]) or "Tyytyväisyyttä" in str(r[0]) for r in rows)
    methods = by_label["Osallisuuden tapoja"]
    assert methods[3] == methods[2] - methods[1]
    assert all(isinstance(v, int) for r in rows[rows.index(header) + 1 :] for v in r[1:4])
    live_rows = list(live.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(live_rows) if r[0] == "Tunnusluku") + 1
    this_year = [r[2] for r in live_rows[start:] if r[0]]
    assert all(str(v).startswith("=") for v in this_year), this_year


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

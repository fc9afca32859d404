"""Liite 1 — Asukasosallisuus toimialoilla (.xlsx).

Sheets, in reading order:
1. *Matriisi*: the source slide's matrix — the participation levels as row blocks (name,
   description, example methods), each division a column group Lkm / Tapa /
   Palvelukokonaisuus, one line per method, and a total line per level.
2. *Kattavuus*: service entity × level, showing how far the target "methods widely in use
   in all service entities" is met, with shares per division.
3. *Kaavio*: methods per level and division as a table and a native Excel bar chart.
4. *Kaikki tavat*: every entry as a filterable Excel table — the only sheet that grows
   with the data, so it is written on the plain fast path.
"""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference

from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean, fi_list
from docgen.xlsx import Book, Styled, add_table, cell_range, rich

# Column widths of the matrix: level (name and description), examples, then per division
# Lkm / Tapa / Palvelukokonaisuus. Fifteen columns on A4 landscape: every unit counts.
LEVEL_WIDTHS = (24.0, 20.0)
DIVISION_WIDTHS = (6.0, 20.0, 20.0)


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    attachment = ctx.attachment("liite1")
    title = w.text("liite1.title", number=attachment.number)
    book = Book(ctx, title)
    _matrix(book, title)
    _coverage(book, title)
    _chart(book, title)
    _entries(book, title)
    return GeneratedDocument(
        filename=ctx.filename("liite1", "xlsx"),
        content=book.save(),
        mime_type=MIME["xlsx"],
        title=title,
    )


def _subtitle(ctx: Context) -> str:
    return ctx.wording.text("liite1.subtitle")


# --- 1. the matrix -----------------------------------------------------------------------


def _matrix(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    part = ctx.figures.participation
    divisions = [d.code for d in snap.divisions]
    widths = list(LEVEL_WIDTHS) + list(DIVISION_WIDTHS) * len(divisions)
    header_row = 5
    sheet = book.sheet(
        w.text("liite1.sheets.matrix"),
        widths,
        freeze=f"C{header_row + 2}",
        print_rows=f"{header_row}:{header_row + 1}",
    )
    sheet.title_block(title, _subtitle(ctx))
    sheet.note(w.text("liite1.matrix_legend"))
    cols = w.mapping("liite1.matrix_columns")
    group = [Styled("", "header"), Styled("", "header")]
    sub = [Styled(cols["level"], "header"), Styled(cols["examples"], "header")]
    for index, code in enumerate(divisions):
        first = 3 + 3 * index
        group += [Styled(code, "group"), Styled("", "group"), Styled("", "group")]
        sub += [
            Styled(cols["count"], "header"),
            Styled(cols["method"], "header"),
            Styled(cols["entity"], "header"),
        ]
        sheet.ws.merged_cells.add(cell_range(first, header_row, first + 2, header_row))
    assert sheet.rows + 1 == header_row
    sheet.row(group, height=18)
    sheet.row(sub)
    if not snap.levels:
        sheet.row([Styled(w.text("common.no_data"), "missing_text")])
        return
    for level in snap.levels:
        blocks = {code: part.matrix.get((code, level.number), ()) for code in divisions}
        height = max([len(lines) for lines in blocks.values()] + [1])
        examples = "\n".join(clean(m.name.fi) for m in level.examples)
        for line_index in range(height):
            if line_index == 0:
                name = f"{level.number} {clean(level.name.fi)}"
                description = clean(level.description.fi)
                values: list[object] = [
                    Styled(rich((name, True), ("\n" + description, False)), "level"),
                    Styled(examples, "body"),
                ]
            else:
                values = [Styled(None, "level"), Styled(None, "body")]
            for code in divisions:
                lines = blocks[code]
                if line_index < len(lines):
                    line = lines[line_index]
                    entities = "; ".join(ctx.entity_name(c) for c in line.entity_codes)
                    values += [
                        Styled(line.count, "number"),
                        Styled(line.label, "body"),
                        Styled(entities, "body"),
                    ]
                elif line_index == 0 and not lines:
                    values += [
                        Styled(None, "number"),
                        Styled(w.text("liite1.matrix_no_methods"), "missing_text"),
                        Styled(None, "body"),
                    ]
                else:
                    values += [Styled(None, "number"), Styled(None, "body"), Styled(None, "body")]
            sheet.row(values)
        totals: list[object] = [
            Styled(w.text("common.total"), "total_text"),
            Styled(None, "total_text"),
        ]
        for code in divisions:
            cell = part.by_division_level.get((code, level.number))
            methods = cell.methods if cell else 0
            entities = cell.entities if cell else 0
            totals += [
                Styled(cell.count if cell else 0, "total_number"),
                Styled(
                    w.counted("liite1.matrix_total_methods", methods, methods=methods),
                    "total_text",
                ),
                Styled(
                    w.text(
                        "liite1.matrix_total_entities",
                        entities=entities,
                        total=part.entities_by_division.get(code, 0),
                    ),
                    "total_text",
                ),
            ]
        sheet.row(totals)


# --- 2. coverage -------------------------------------------------------------------------


def _coverage(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    part = ctx.figures.participation
    levels = [lvl.number for lvl in snap.levels]
    cols = w.mapping("liite1.coverage_columns")
    widths = [14.0, 30.0] + [13.5] * len(levels) + [12.0, 13.0, 40.0]
    header_row = 6
    sheet = book.sheet(
        w.text("liite1.sheets.coverage"),
        widths,
        freeze=f"C{header_row + 1}",
        print_rows=f"{header_row}:{header_row}",
    )
    sheet.title_block(w.text("liite1.coverage_title"), _subtitle(ctx))
    sheet.note(w.text("liite1.coverage_target", target=w.text("metrics.osallisuus.target")))
    sheet.note(w.text("liite1.coverage_legend"))
    assert sheet.rows + 1 == header_row
    sheet.row(
        [Styled(cols["division"], "header"), Styled(cols["entity"], "header")]
        + [Styled(f"{n} {ctx.level_name(n)}", "header") for n in levels]
        + [
            Styled(cols["levels_used"], "header"),
            Styled(cols["satisfaction"], "header"),
            Styled(cols["status"], "header"),
        ]
    )
    statuses = {e.entity_code: e for status in snap.progress for e in status.entities}
    mapped = set(ctx.figures.satisfaction.rows_by_entity)
    for division in snap.divisions:
        for entity in division.service_entities:
            per_level = part.coverage.get(entity.code, {})
            values: list[object] = [
                Styled(division.code, "body"),
                Styled(clean(entity.name.fi), "body"),
            ]
            for n in levels:
                if n not in per_level:
                    values.append(Styled(w.text("common.none_value"), "cov_missing"))
                elif per_level[n] > 0:
                    values.append(Styled(per_level[n], "cov_yes"))
                else:
                    values.append(Styled(0, "cov_none"))
            used = sum(1 for n in levels if per_level.get(n, 0) > 0)
            status = statuses.get(entity.code)
            missing = _missing_text(
                ctx, status.missing_levels if status else tuple(levels), entity.code in mapped
            )
            values += [
                Styled(used, "number"),
                Styled(
                    w.text(
                        "liite1.coverage_yes" if entity.code in mapped else "liite1.coverage_no"
                    ),
                    "body",
                ),
                Styled(
                    missing, "body" if missing == w.text("liite1.coverage_done") else "missing_text"
                ),
            ]
            sheet.row(values)
    if not snap.divisions:
        sheet.row([Styled(w.text("common.no_data"), "missing_text")])
    sheet.blank()
    sheet.row([Styled(w.text("liite1.coverage_summary_title"), "heading")])
    scols = w.mapping("liite1.coverage_summary_columns")
    sheet.row(
        [Styled(scols["division"], "header"), Styled(scols["entities"], "header")]
        + [Styled(f"{n} {ctx.level_name(n)}", "header") for n in levels]
        + [Styled(scols["all_levels"], "header"), Styled(scols["any_level"], "header")]
    )
    for division in snap.divisions:
        total = len(division.service_entities)
        sheet.row(
            [Styled(division.code, "body"), Styled(total, "number")]
            + [
                Styled(
                    _share(part.by_division_level[(division.code, n)].entities, total), "percent"
                )
                for n in levels
            ]
            + [
                Styled(
                    _share(part.entities_all_by_division.get(division.code, 0), total), "percent"
                ),
                Styled(
                    _share(part.entities_with_by_division.get(division.code, 0), total), "percent"
                ),
            ]
        )
    total = part.entities_total
    sheet.row(
        [Styled(w.text("common.city_total"), "total_text"), Styled(total, "total_number")]
        + [Styled(_share(part.by_level[n].entities, total), "total_percent") for n in levels]
        + [
            Styled(_share(part.entities_all_levels, total), "total_percent"),
            Styled(_share(part.entities_with, total), "total_percent"),
        ]
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _missing_text(ctx: Context, missing_levels: tuple[int, ...], mapped: bool) -> str:
    w = ctx.wording
    what = []
    if missing_levels:
        what.append(
            w.text("common.missing_levels", levels=fi_list([str(n) for n in missing_levels]))
        )
    if not mapped:
        what.append(w.text("common.missing_satisfaction"))
    if not what:
        return w.text("liite1.coverage_done")
    return w.text("liite1.coverage_missing", what=", ".join(what))


# --- 3. chart ----------------------------------------------------------------------------


def _chart(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    part = ctx.figures.participation
    divisions = [d.code for d in snap.divisions]
    widths = [36.0] + [11.0] * (len(divisions) + 1)
    sheet = book.sheet(w.text("liite1.sheets.chart"), widths)
    sheet.title_block(w.text("liite1.chart_title"), _subtitle(ctx))
    sheet.row([Styled(w.text("liite1.chart_table_title"), "heading")])
    header_row = sheet.row(
        [Styled(w.text("liite1.chart_x_axis"), "header")]
        + [Styled(code, "header") for code in divisions]
        + [Styled(w.text("common.total"), "header")]
    )
    for level in snap.levels:
        sheet.row(
            [Styled(f"{level.number} {clean(level.name.fi)}", "body")]
            + [
                Styled(part.by_division_level[(c, level.number)].methods, "number")
                for c in divisions
            ]
            + [Styled(part.by_level[level.number].methods, "total_number")]
        )
    last_row = sheet.rows
    sheet.row(
        [Styled(w.text("common.total"), "total_text")]
        + [Styled(part.by_division[c].methods, "total_number") for c in divisions]
        + [Styled(part.methods, "total_number")]
    )
    if not snap.levels or not divisions:
        return
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = w.text("liite1.chart_title")
    chart.y_axis.title = w.text("liite1.chart_y_axis")
    chart.x_axis.title = w.text("liite1.chart_x_axis")
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.width = 22
    chart.height = 9
    data = Reference(
        sheet.ws, min_col=2, max_col=1 + len(divisions), min_row=header_row, max_row=last_row
    )
    categories = Reference(sheet.ws, min_col=1, min_row=header_row + 1, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    sheet.add_chart(chart)


# --- 4. every entry ----------------------------------------------------------------------


def _entries(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    cols = w.mapping("liite1.entries_columns")
    names = [
        cols["division"],
        cols["entity"],
        cols["level"],
        cols["level_name"],
        cols["method"],
        cols["source"],
        cols["count"],
        cols["note"],
    ]
    widths = [10.0, 30.0, 6.0, 33.0, 36.0, 18.0, 8.0, 44.0]
    header_row = 4
    sheet = book.sheet(
        w.text("liite1.sheets.entries"),
        widths,
        freeze=f"A{header_row + 1}",
        print_rows=f"{header_row}:{header_row}",
    )
    sheet.title_block(w.text("liite1.entries_title"), _subtitle(ctx))
    assert sheet.rows + 1 == header_row
    header = [clean(n) for n in names]
    sheet.row([Styled(n, "header") for n in header])
    if not snap.participation:
        sheet.row([Styled(w.text("common.no_data"), "missing_text")])
        return
    source_catalog = w.text("liite1.source_catalog")
    source_own = w.text("liite1.source_own")
    level_names = {lvl.number: clean(lvl.name.fi) for lvl in snap.levels}
    entity_names: dict[str, str] = {}

    def rows():  # type: ignore[no-untyped-def]
        for item in snap.participation:
            entity = entity_names.get(item.entity_code)
            if entity is None:
                entity = entity_names[item.entity_code] = ctx.entity_name(item.entity_code)
            yield (
                item.division_code,
                entity,
                item.level_number,
                level_names.get(item.level_number, ""),
                item.method_label("fi"),
                source_catalog if item.method is not None else source_own,
                item.count,
                item.note or None,
            )

    sheet.plain_rows(rows(), wrap_columns=(4, 7))
    add_table(sheet, w.text("liite1.entries_table"), header, header_row)

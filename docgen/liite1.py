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
5. *Vertailu* (when last year's round exists): the key figures of both years, the cells
   the list text's change table quotes.

Totals, shares and the chart's numbers are live formulas (COUNTIFS over the entries
table, SUM) written with their computed values, so a corrected entry updates them in
Excel while previews that do not recalculate still show the numbers. Lkm is never added
up across different methods (different units); the totals count methods.
"""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, NumData, NumVal, StrData, StrRef, StrVal
from openpyxl.utils import get_column_letter, quote_sheetname

from data.snapshot import LevelItem
from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean, fi_list
from docgen.xlsx import (
    LINE_HEIGHT,
    Book,
    Formula,
    Styled,
    add_table,
    cell_range,
    rich,
    wrapped_lines,
)

# Column widths of the matrix: level (name and description), examples, then per division
# Lkm / Tapa / Palvelukokonaisuus.
# One printed A4 landscape page per division: the level columns repeat on each.
LEVEL_WIDTHS = (24.0, 22.0)
DIVISION_WIDTHS = (9.0, 33.0, 34.0)
ENTRIES_HEADER_ROW = 4


class Entries:
    """Ranges of the entries table on *Kaikki tavat*, for the formulas of other sheets."""

    def __init__(self, ctx: Context) -> None:
        self.sheet = quote_sheetname(ctx.wording.text("liite1.sheets.entries"))
        self.first = ENTRIES_HEADER_ROW + 1
        self.last = ENTRIES_HEADER_ROW + max(1, len(ctx.snapshot.participation))

    def column(self, letter: str) -> str:
        return f"{self.sheet}!${letter}${self.first}:${letter}${self.last}"

    def count(self, division: str | None, level: int | None) -> str:
        """``COUNTIFS`` of the entries of a division and/or level (None: all)."""
        criteria = []
        if division is not None:
            criteria.append(f'{self.column("A")},"{division}"')
        if level is not None:
            criteria.append(f"{self.column('C')},{level}")
        if not criteria:
            return f'=COUNTIF({self.column("C")},">0")'
        return f"=COUNTIFS({','.join(criteria)})"


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    attachment = ctx.attachment("liite1")
    title = w.text("liite1.title", number=attachment.number)
    book = Book(ctx, title)
    _matrix(book, title)
    _coverage(book, title)
    _chart(book, title)
    _entries(book, title)
    if ctx.previous_figures is not None:
        _comparison(book)
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
    divisions = [d.code for d in snap.divisions]
    widths = list(LEVEL_WIDTHS) + list(DIVISION_WIDTHS) * len(divisions)
    header_row = 4
    sheet = book.sheet(
        w.text("liite1.sheets.matrix"),
        widths,
        freeze=f"C{header_row + 2}",
        print_rows=f"{header_row}:{header_row + 1}",
        page_columns=[2 + 3 * (i + 1) for i in range(len(divisions))],
        print_columns="A:B",
    )
    sheet.title_block(title, _subtitle(ctx))
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
    entries = Entries(ctx)
    page_height = sheet.printable_height()
    legend = w.text(
        "liite1.matrix_legend",
        definition_tapa=w.text("definitions.tapa"),
        definition_lkm=w.text("definitions.lkm"),
    )
    # The legend goes under the last level, on the same page.
    legend_height = LINE_HEIGHT + sheet.note_height(legend)
    used = sum(sheet.heights)
    for level in snap.levels:
        rows = _level_rows(book, level, divisions, entries)
        block = sum(height or LINE_HEIGHT for _values, height in rows)
        if level is snap.levels[-1]:
            block += legend_height
        if used + block > page_height:
            sheet.page_break()  # each level on one page, never split
            used = sum(sheet.heights[header_row - 1 : header_row + 1])
        for values, height in rows:
            sheet.row(values, height=height)
        used += block
    sheet.blank()
    sheet.note(legend)


def _level_rows(
    book: Book, level: LevelItem, divisions: list[str], entries: Entries
) -> list[tuple[list[object], float | None]]:
    """The lines of one level block and its total line, with their heights (pt)."""
    ctx = book.ctx
    w = ctx.wording
    part = ctx.figures.participation
    number = level.number
    blocks = {code: part.matrix.get((code, number), ()) for code in divisions}
    height = max([len(lines) for lines in blocks.values()] + [1])
    examples = "\n".join(clean(m.name.fi) for m in level.examples)
    widths = list(LEVEL_WIDTHS) + list(DIVISION_WIDTHS) * len(divisions)
    result: list[tuple[list[object], float | None]] = []
    for line_index in range(height):
        texts: list[tuple[str, float]] = []
        if line_index == 0:
            name = f"{number} {clean(level.name.fi)}"
            description = clean(level.description.fi)
            values: list[object] = [
                Styled(rich((name, True), ("\n" + description, False)), "level"),
                Styled(examples, "body"),
            ]
            texts += [(name + "\n" + description, widths[0]), (examples, widths[1])]
        else:
            values = [Styled(None, "level"), Styled(None, "body")]
        for index, code in enumerate(divisions):
            lines = blocks[code]
            if line_index < len(lines):
                line = lines[line_index]
                entities = "; ".join(ctx.entity_name(c) for c in line.entity_codes)
                values += [
                    Styled(line.count, "number"),
                    Styled(line.label, "body"),
                    Styled(entities, "body"),
                ]
                texts += [
                    (line.label, widths[3 + 3 * index]),
                    (entities, widths[4 + 3 * index]),
                ]
            elif line_index == 0 and not lines:
                values += [
                    Styled(None, "number"),
                    Styled(w.text("liite1.matrix_no_methods"), "missing_text"),
                    Styled(None, "body"),
                ]
            else:
                values += [Styled(None, "number"), Styled(None, "body"), Styled(None, "body")]
        lines_needed = max([wrapped_lines(t, width) for t, width in texts if t] + [1])
        result.append((values, lines_needed * LINE_HEIGHT + 3 if lines_needed > 1 else None))
    totals: list[object] = [
        Styled(w.text("common.total"), "total_text"),
        Styled(None, "total_text"),
    ]
    for code in divisions:
        cell = part.by_division_level.get((code, number))
        methods = cell.methods if cell else 0
        entities = cell.entities if cell else 0
        distinct = part.distinct_methods(code, number)
        # A live count of the entries, its unit and the distinct methods in the format:
        # "5 (4 eri tapaa)"; the Lkm of different methods is not added up.
        shown = w.counted("liite1.matrix_total_distinct", distinct, distinct=distinct)
        totals += [
            Styled(None, "total_number"),
            Styled(
                Formula(entries.count(code, number), methods),
                "total_number_left",
                number_format=f'0" {_format_literal(shown)}"',
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
    result.append((totals, None))
    return result


def _format_literal(text: str) -> str:
    """Text safe inside a quoted literal of an Excel number format."""
    return text.replace('"', "")


# --- 2. coverage -------------------------------------------------------------------------


def _coverage(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    part = ctx.figures.participation
    levels = [lvl.number for lvl in snap.levels]
    cols = w.mapping("liite1.coverage_columns")
    widths = [9.0, 19.0] + [13.0] * len(levels) + [9.0, 12.0, 20.0]
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
    first_row = header_row + 1
    last_row = header_row + max(1, sum(len(d.service_entities) for d in snap.divisions))
    first_level, last_level = 3, 2 + len(levels)
    used_col = get_column_letter(last_level + 1)

    def rng(column: int | str) -> str:
        letter = column if isinstance(column, str) else get_column_letter(column)
        return f"${letter}${first_row}:${letter}${last_row}"

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
            row = sheet.rows + 1
            level_cells = cell_range(first_level, row, last_level, row) if levels else "A1"
            values += [
                Styled(Formula(f'=COUNTIF({level_cells},">0")', used), "number"),
                Styled(
                    w.text(
                        "liite1.coverage_yes" if entity.code in mapped else "liite1.coverage_no"
                    ),
                    "body" if entity.code in mapped else "missing_text",
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

    def share(count: str, row: int, value: float | None) -> Formula:
        return Formula(f'=IFERROR({count}/$B${row},"")', value)

    first_summary = sheet.rows + 1
    for division in snap.divisions:
        total = len(division.service_entities)
        row = sheet.rows + 1
        code = f'{rng("A")},"{division.code}"'
        sheet.row(
            [
                Styled(division.code, "body"),
                Styled(Formula(f"=COUNTIF({code})", total), "number"),
            ]
            + [
                Styled(
                    share(
                        f'COUNTIFS({code},{rng(first_level + i)},">0")',
                        row,
                        _share(part.by_division_level[(division.code, n)].entities, total),
                    ),
                    "percent",
                )
                for i, n in enumerate(levels)
            ]
            + [
                Styled(
                    share(
                        f"COUNTIFS({code},{rng(used_col)},{len(levels)})",
                        row,
                        _share(part.entities_all_by_division.get(division.code, 0), total),
                    ),
                    "percent",
                ),
                Styled(
                    share(
                        f'COUNTIFS({code},{rng(used_col)},">0")',
                        row,
                        _share(part.entities_with_by_division.get(division.code, 0), total),
                    ),
                    "percent",
                ),
            ]
        )
    last_summary = sheet.rows
    total = part.entities_total
    row = sheet.rows + 1
    sheet.row(
        [
            Styled(w.text("common.city_total"), "total_text"),
            Styled(Formula(f"=SUM(B{first_summary}:B{last_summary})", total), "total_number"),
        ]
        + [
            Styled(
                share(
                    f'COUNTIF({rng(first_level + i)},">0")',
                    row,
                    _share(part.by_level[n].entities, total),
                ),
                "total_percent",
            )
            for i, n in enumerate(levels)
        ]
        + [
            Styled(
                share(
                    f"COUNTIF({rng(used_col)},{len(levels)})",
                    row,
                    _share(part.entities_all_levels, total),
                ),
                "total_percent",
            ),
            Styled(
                share(f'COUNTIF({rng(used_col)},">0")', row, _share(part.entities_with, total)),
                "total_percent",
            ),
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
    entries = Entries(ctx)
    first_data = sheet.rows + 1
    last_col = get_column_letter(1 + len(divisions))
    for level in snap.levels:
        row = sheet.rows + 1
        sheet.row(
            [Styled(f"{level.number} {clean(level.name.fi)}", "body")]
            + [
                Styled(
                    Formula(
                        entries.count(c, level.number),
                        part.by_division_level[(c, level.number)].methods,
                    ),
                    "number",
                )
                for c in divisions
            ]
            + [
                Styled(
                    Formula(f"=SUM(B{row}:{last_col}{row})", part.by_level[level.number].methods),
                    "total_number",
                )
            ]
        )
    last_row = sheet.rows
    sheet.row(
        [Styled(w.text("common.total"), "total_text")]
        + [
            Styled(
                Formula(
                    f"=SUM({get_column_letter(2 + i)}{first_data}:"
                    f"{get_column_letter(2 + i)}{last_row})",
                    part.by_division[c].methods,
                ),
                "total_number",
            )
            for i, c in enumerate(divisions)
        ]
        + [
            Styled(
                Formula(
                    f"=SUM({get_column_letter(2 + len(divisions))}{first_data}:"
                    f"{get_column_letter(2 + len(divisions))}{last_row})",
                    part.methods,
                ),
                "total_number",
            )
        ]
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
    readable_text(chart)
    data = Reference(
        sheet.ws, min_col=2, max_col=1 + len(divisions), min_row=header_row, max_row=last_row
    )
    categories = Reference(sheet.ws, min_col=1, min_row=header_row + 1, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    cache_chart(
        chart,
        divisions,
        [f"{level.number} {clean(level.name.fi)}" for level in snap.levels],
        [
            [part.by_division_level[(c, level.number)].methods for level in snap.levels]
            for c in divisions
        ],
    )
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
    widths = [8.0, 20.0, 5.0, 22.0, 26.0, 11.0, 7.0, 22.0]
    header_row = ENTRIES_HEADER_ROW
    sheet = book.sheet(
        w.text("liite1.sheets.entries"),
        widths,
        freeze=f"C{header_row + 1}",
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

    sheet.plain_rows(rows(), wrap_columns=(1, 3, 4, 7), number_columns=(2, 6))
    add_table(sheet, w.text("liite1.entries_table"), header, header_row)


# --- 5. comparison with last year ---------------------------------------------------------


def _comparison(book: Book) -> None:
    from docgen.listateksti import comparison

    ctx = book.ctx
    w = ctx.wording
    previous = ctx.previous_figures
    assert previous is not None
    cols = w.mapping("listateksti.change_columns")
    sheet = book.sheet(w.text("liite1.sheets.comparison"), [52.0, 12.0, 12.0, 12.0])
    sheet.title_block(w.text("liite1.comparison_title"), _subtitle(ctx))
    sheet.note(w.text("liite1.comparison_note"))
    sheet.row(
        [
            Styled(cols["figure"], "header"),
            Styled(str(ctx.year - 1), "header"),
            Styled(str(ctx.year), "header"),
            Styled(cols["change"], "header"),
        ]
    )
    for label, old, new in comparison(ctx, previous):
        row = sheet.rows + 1
        style = (
            "number" if all(v is None or float(v).is_integer() for v in (old, new)) else "decimal"
        )
        change = None if old is None or new is None else new - old
        sheet.row(
            [
                Styled(label, "body"),
                Styled(old, style),
                Styled(new, style),
                Styled(
                    Formula(f'=IF(OR(B{row}="",C{row}=""),"",C{row}-B{row})', change),
                    "signed" if style == "number" else "signed_decimal",
                ),
            ]
        )


def cache_chart(
    chart: BarChart,
    series_titles: list[str],
    categories: list[str],
    values: list[list[int]],
) -> None:
    """Give a chart's series their values, titles and categories as cached data, so a
    viewer that does not recalculate draws the chart instead of an empty frame."""
    for plot_series, title, numbers in zip(chart.series, series_titles, values, strict=False):
        ref = plot_series.tx.strRef if plot_series.tx is not None else None
        if ref is not None:
            ref.strCache = StrData(ptCount=1, pt=[StrVal(idx=0, v=clean(title))])
        num_ref = plot_series.val.numRef
        num_ref.numCache = NumData(
            formatCode="General",
            ptCount=len(numbers),
            pt=[NumVal(idx=i, v=v) for i, v in enumerate(numbers)],
        )
        if plot_series.cat is not None:
            formula = (
                plot_series.cat.numRef.f
                if plot_series.cat.numRef is not None
                else plot_series.cat.strRef.f
            )
            plot_series.cat = AxDataSource(
                strRef=StrRef(
                    f=formula,
                    strCache=StrData(
                        ptCount=len(categories),
                        pt=[StrVal(idx=i, v=clean(c)) for i, c in enumerate(categories)],
                    ),
                )
            )


def readable_text(chart: BarChart, size: float = 11) -> None:
    """Axis, legend and title text at ``size`` pt (the default prints at about 6 pt)."""
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties

    def rich(points: float, bold: bool = False) -> RichText:
        props = CharacterProperties(sz=int(points * 100), b=bold)
        return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])

    chart.x_axis.txPr = rich(size)
    chart.y_axis.txPr = rich(size)
    if chart.legend is not None:
        chart.legend.txPr = rich(size)
    for axis in (chart.x_axis, chart.y_axis):
        if axis.title is not None and axis.title.tx is not None and axis.title.tx.rich:
            for paragraph in axis.title.tx.rich.p:
                paragraph.pPr = ParagraphProperties(defRPr=CharacterProperties(sz=int(size * 100)))
    if chart.title is not None and chart.title.tx is not None and chart.title.tx.rich:
        for paragraph in chart.title.tx.rich.p:
            paragraph.pPr = ParagraphProperties(
                defRPr=CharacterProperties(sz=int((size + 2) * 100), b=True)
            )

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

from dataclasses import dataclass

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, NumData, NumVal, StrData, StrRef, StrVal
from openpyxl.utils import get_column_letter, quote_sheetname

from data.snapshot import LevelItem
from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean, fi_int, fi_list
from docgen.xlsx import (
    LINE_HEIGHT,
    Book,
    Formula,
    Sheet,
    Styled,
    add_table,
    cell_range,
    fit_words,
    rich,
    wrapped_lines,
)

# Column widths of the matrix: level (name and description), examples, Lkm, Tapa,
# Palvelukokonaisuus. 123 units print as 781 pt: A4 landscape at 100 %.
MATRIX_WIDTHS = (22.0, 20.0, 11.0, 34.0, 36.0)
ENTRIES_HEADER_ROW = 5
DISTINCT_HEADER_ROW = 5


def _escape_criterion(text: str) -> str:
    """``text`` as an exact-match COUNTIFS criterion inside a formula's string literal:
    wildcards escaped with ``~``, a leading ``=`` so ``<`` or ``>`` are not operators."""
    for char in "~*?":
        text = text.replace(char, "~" + char)
    return ("=" + text).replace('"', '""')


class Entries:
    """Ranges of the entries table on *Kaikki tavat*, for the formulas of other sheets."""

    def __init__(self, ctx: Context) -> None:
        self.sheet = quote_sheetname(ctx.wording.text("liite1.sheets.entries"))
        self.first = ENTRIES_HEADER_ROW + 1
        self.last = ENTRIES_HEADER_ROW + max(1, len(ctx.snapshot.participation))

    def column(self, letter: str) -> str:
        return f"{self.sheet}!${letter}${self.first}:${letter}${self.last}"

    def count(self, division: str | None, level: int | None, entity: str | None = None) -> str:
        """``COUNTIFS`` of the entries of a division, level and/or entity name (None: all)."""
        criteria = []
        if division is not None:
            criteria.append(f'{self.column("A")},"{division}"')
        if entity is not None:
            criteria.append(f'{self.column("B")},"{_escape_criterion(entity)}"')
        if level is not None:
            criteria.append(f"{self.column('C')},{level}")
        if not criteria:
            return f'=COUNTIF({self.column("C")},">0")'
        return f"=COUNTIFS({','.join(criteria)})"


# --- where the counts are (the list text cites these cells) ---------------------------------


@dataclass(frozen=True)
class ChartLayout:
    """Row and column positions of the two tables on *Kaavio*: the methods per level and
    division, and the distinct methods (eri tapoja) of the same."""

    sheet: str
    divisions: tuple[str, ...]
    levels: tuple[int, ...]
    methods_header: int
    distinct_header: int

    def _column(self, division: str | None) -> str:
        index = len(self.divisions) if division is None else self.divisions.index(division)
        return get_column_letter(2 + index)

    def _row(self, header: int, level: int | None) -> int:
        offset = len(self.levels) if level is None else self.levels.index(level)
        return header + 1 + offset

    def methods(self, division: str | None, level: int | None) -> str:
        """The cell (``C7``) of the methods of a division and level; None = all."""
        return f"{self._column(division)}{self._row(self.methods_header, level)}"

    def distinct(self, division: str | None, level: int | None) -> str:
        """The cell of the distinct methods of a division and level; None = all."""
        return f"{self._column(division)}{self._row(self.distinct_header, level)}"


def chart_layout(ctx: Context) -> ChartLayout:
    levels = tuple(lvl.number for lvl in ctx.snapshot.levels)
    methods_header = 5  # title, subtitle, draft line or blank, table title
    return ChartLayout(
        sheet=ctx.wording.text("liite1.sheets.chart"),
        divisions=tuple(d.code for d in ctx.snapshot.divisions),
        levels=levels,
        methods_header=methods_header,
        # the methods table, its total line, a blank line and the second table's title
        distinct_header=methods_header + len(levels) + 4,
    )


def distinct_cells(ctx: Context) -> dict[tuple[str | None, int | None], str]:
    """Where Liite 1 holds each distinct-method count, as ``Kaavio!C14``: keys are
    (division, level), None meaning all divisions or all levels — the numbers in brackets
    in the list text's Taulukko 1. Each cell is a formula over *Kaikki tavat* (through the
    *Eri tavat* list) with its value cached."""
    layout = chart_layout(ctx)
    sheet = quote_sheetname(layout.sheet)
    keys: list[tuple[str | None, int | None]] = [
        (division, level)
        for division in (*layout.divisions, None)
        for level in (*layout.levels, None)
    ]
    return {key: f"{sheet}!{layout.distinct(*key)}" for key in keys}


def method_cells(ctx: Context) -> dict[tuple[str | None, int | None], str]:
    """Where Liite 1 holds each count of methods (tapoja), keyed like :func:`distinct_cells`."""
    layout = chart_layout(ctx)
    sheet = quote_sheetname(layout.sheet)
    keys: list[tuple[str | None, int | None]] = [
        (division, level)
        for division in (*layout.divisions, None)
        for level in (*layout.levels, None)
    ]
    return {key: f"{sheet}!{layout.methods(*key)}" for key in keys}


# --- distinct method names ------------------------------------------------------------------


@dataclass
class DistinctNames:
    """Each method name once (case-insensitively, as COUNTIFS compares), per level and over
    all levels, with the entries per division: the *Eri tavat* list."""

    # (level, casefolded name) -> (name as first written, {division: entries})
    by_level: dict[tuple[int, str], tuple[str, dict[str, int]]]
    # casefolded name -> (name as first written, {division: entries})
    overall: dict[str, tuple[str, dict[str, int]]]


def book_names(book: Book) -> DistinctNames:
    """The distinct names of the book's round, computed once per workbook."""
    found = book.refs.get("distinct_names")
    if found is None:
        found = book.refs["distinct_names"] = distinct_names(book.ctx)
    return found


def distinct_names(ctx: Context) -> DistinctNames:
    by_level: dict[tuple[int, str], tuple[str, dict[str, int]]] = {}
    overall: dict[str, tuple[str, dict[str, int]]] = {}
    for item in ctx.snapshot.participation:
        label = item.method_label("fi")
        key = label.casefold()
        found = by_level.setdefault((item.level_number, key), (label, {}))
        found[1][item.division_code] = found[1].get(item.division_code, 0) + 1
        every = overall.setdefault(key, (label, {}))
        every[1][item.division_code] = every[1].get(item.division_code, 0) + 1
    ordered = dict(sorted(by_level.items(), key=lambda p: (p[0][0], p[0][1], p[1][0])))
    return DistinctNames(ordered, dict(sorted(overall.items(), key=lambda p: (p[0], p[1][0]))))


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    attachment = ctx.attachment("liite1")
    title = w.text("liite1.title", number=attachment.number)
    book = Book(ctx, title)
    _matrix(book, title)
    _coverage(book, title)
    _chart(book, title)
    if ctx.previous_figures is not None:
        _comparison(book)
    if ctx.figures.participation.top_methods:
        _top(book)
    _entries(book, title)
    _distinct(book)
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
    """The matrix: one section per division (a heading line, then its level blocks), so no
    division's block has empty rows where another division has more methods."""
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    cols = w.mapping("liite1.matrix_columns")
    headers = [cols["level"], cols["examples"], cols["count"], cols["method"], cols["entity"]]
    widths = fit_words(MATRIX_WIDTHS, headers)
    # The examples column takes the longest example word whole, from the entities column.
    words = [word for lvl in snap.levels for m in lvl.examples for word in m.name.fi.split()]
    examples = fit_words([widths[1]], [" ".join(words)], bold=False)[0]
    widths[4] = max(20.0, widths[4] - (examples - widths[1]))
    widths[1] = examples
    header_row = 4
    sheet = book.sheet(
        w.text("liite1.sheets.matrix"),
        widths,
        freeze=f"A{header_row + 1}",
        print_rows=f"{header_row}:{header_row}",
    )
    sheet.title_block(title, _subtitle(ctx))
    assert sheet.rows + 1 == header_row
    sheet.row([Styled(h, "header") for h in headers])
    if not snap.levels or not snap.divisions:
        sheet.row([Styled(w.text("common.no_data"), "missing_text")])
        return
    entries = Entries(ctx)
    layout = chart_layout(ctx)
    chart_sheet = quote_sheetname(layout.sheet)
    page = sheet.printable_height()
    header_height = sum(sheet.heights[header_row - 1 : header_row])
    used = sum(sheet.heights)
    legend = w.text(
        "liite1.matrix_legend",
        definition_tapa=w.text("definitions.tapa"),
        definition_lkm=w.text("definitions.lkm"),
    )
    labels = (
        w.text("liite1.matrix_total_methods_label"),
        w.text("liite1.matrix_total_distinct_label"),
    )
    for division in snap.divisions:
        heading = [
            Styled(f"{division.code} – {ctx.division_name(division.code)}", "division"),
            *[Styled(None, "division")] * 4,
        ]
        for index, level in enumerate(snap.levels):
            block = _level_block(sheet, level, division.code, entries, chart_sheet, layout, labels)
            if index == 0:  # the division's heading stays with its first level
                block.prepend_heading(heading)  # type: ignore[arg-type]
            height = block.height()
            if used + height > page and (
                # the whole level fits on the next page, and this one is half full
                (height <= page - header_height and used > page / 2)
                # or not even the level's name and description fit here
                or used + block.keep > page
            ):
                sheet.page_break()
                used = header_height
            used = block.write(used, page, header_height)
    sheet.blank()
    sheet.note(legend)


class _Block:
    """Rows of one level block (and its division's heading), written after the page
    decision. Method lines run beside the level's name and examples (merged down); when a
    block is taller than a page, each continued part gets the level's name again."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.rows: list[tuple[list[object], float | None]] = []
        self.first_line = 0  # offsets of the first and last method line
        self.last_line = 0
        self.keep = 0.0  # height from the top that must not be split (the level's texts)
        self.continued: Styled | None = None  # the level's name on a continued part
        self.continued_height = LINE_HEIGHT

    def prepend_heading(self, values: list[object]) -> None:
        self.rows.insert(0, (values, None))
        self.first_line += 1
        self.last_line += 1
        self.keep += LINE_HEIGHT

    def add(self, values: list[object], height: float | None) -> None:
        self.rows.append((values, height))

    def height(self) -> float:
        return sum(h or LINE_HEIGHT for _v, h in self.rows)

    def write(self, used: float, page: float, header_height: float) -> float:
        """Write the rows, breaking pages where a row would not fit; returns the height
        used on the last page."""
        sheet = self.sheet
        first = sheet.rows + 1
        parts = [self.first_line]  # offsets where a part of the method lines begins
        for offset, (values, height) in enumerate(self.rows):
            row_height = height or LINE_HEIGHT
            # The last method line goes with the total lines: they never start a page alone.
            tail = sum(h or LINE_HEIGHT for _v, h in self.rows[offset:])
            widow = (
                offset == self.last_line > self.first_line
                and used + tail > page
                and tail <= page - header_height
            )
            if (widow or used + row_height > page) and used > header_height:
                sheet.page_break()
                used = header_height
                if self.first_line < offset <= self.last_line and self.continued is not None:
                    parts.append(offset)
                    values = [self.continued, Styled(None, "body"), *values[2:]]
                    if row_height < self.continued_height:
                        row_height = height = self.continued_height
            sheet.row(values, height=height, measure=False)
            used += row_height
        ends = [*parts[1:], self.last_line + 1]
        for start, end in zip(parts, ends, strict=True):
            if end - 1 > start:
                for column in (1, 2):
                    sheet.merge(column, first + start, column, first + end - 1)
        return used


def _lines_height(lines: int) -> float | None:
    return lines * LINE_HEIGHT + 3 if lines > 1 else None


def _level_block(
    sheet: Sheet,
    level: LevelItem,
    division: str,
    entries: Entries,
    chart_sheet: str,
    layout: ChartLayout,
    labels: tuple[str, str],
) -> _Block:
    """One level of one division: a line per method (the level's name and examples merged
    down beside them) and two total lines: the methods and the distinct methods."""
    ctx = sheet.book.ctx
    w = ctx.wording
    part = ctx.figures.participation
    number = level.number
    widths = [sheet._width(c) for c in range(1, 6)]
    lines = part.matrix.get((division, number), ())
    name = f"{number} {clean(level.name.fi)}"
    description = clean(level.description.fi)
    examples = "\n".join(clean(m.name.fi) for m in level.examples)
    block = _Block(sheet)
    heights: list[float] = []
    level_cells = [Styled(rich((name, True), ("\n" + description, False)), "level"), None]
    for index, line in enumerate(lines):
        entities = "; ".join(ctx.entity_name(c) for c in line.entity_codes)
        needed = max(
            wrapped_lines(line.label, widths[3]) if line.label else 1,
            wrapped_lines(entities, widths[4]) if entities else 1,
        )
        first = index == 0
        block.add(
            [
                level_cells[0] if first else Styled(None, "level"),
                Styled(examples, "body") if first else Styled(None, "body"),
                Styled(line.count, "number"),
                Styled(line.label, "body"),
                Styled(entities, "body"),
            ],
            _lines_height(needed),
        )
        heights.append(needed * LINE_HEIGHT + 3 if needed > 1 else LINE_HEIGHT)
    if not lines:
        block.add(
            [
                level_cells[0],
                Styled(examples, "body"),
                Styled(None, "number"),
                Styled(w.text("liite1.matrix_no_methods"), "missing_text"),
                Styled(None, "body"),
            ],
            None,
        )
        heights.append(LINE_HEIGHT)
    # The level's name and description, and the examples, run down the merged cells beside
    # the methods; when they need more room than the methods, the last line grows.
    needed_pt = max(
        (wrapped_lines(name, widths[0], bold=True) + wrapped_lines(description, widths[0]))
        * LINE_HEIGHT
        + 3,
        wrapped_lines(examples, widths[1]) * LINE_HEIGHT + 3 if examples else 0,
    )
    if needed_pt > sum(heights):
        values, _height = block.rows[-1]
        heights[-1] += needed_pt - sum(heights)
        block.rows[-1] = (values, heights[-1])
    block.first_line, block.last_line = 0, len(block.rows) - 1
    # The rows that must stay on one page with the level's name: those covering its texts.
    covered = 0.0
    for height in heights:
        block.keep += height
        covered += height
        if covered >= needed_pt:
            break
    continued = w.text("liite1.matrix_continued", level=name)
    block.continued = Styled(continued, "level")
    block.continued_height = (
        _lines_height(wrapped_lines(continued, widths[0], bold=True)) or LINE_HEIGHT
    )
    cell = part.by_division_level.get((division, number))
    methods = cell.methods if cell else 0
    entities_using = cell.entities if cell else 0
    totals_text = w.text(
        "liite1.matrix_total_entities",
        entities=entities_using,
        total=part.entities_by_division.get(division, 0),
    )
    block.add(
        [
            Styled(labels[0], "total_text"),
            Styled(None, "total_text"),
            Styled(None, "total_number"),
            Styled(Formula(entries.count(division, number), methods), "total_number_left"),
            Styled(totals_text, "total_text"),
        ],
        _lines_height(wrapped_lines(totals_text, widths[4], bold=True)),
    )
    block.add(
        [
            Styled(labels[1], "total_text"),
            Styled(None, "total_text"),
            Styled(None, "total_number"),
            Styled(
                Formula(
                    f"={chart_sheet}!{layout.distinct(division, number)}",
                    part.distinct_methods(division, number),
                ),
                "total_number_left",
            ),
            Styled(None, "total_text"),
        ],
        None,
    )
    return block


# --- 2. coverage -------------------------------------------------------------------------


def _coverage(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    part = ctx.figures.participation
    levels = [lvl.number for lvl in snap.levels]
    cols = w.mapping("liite1.coverage_columns")
    level_headers = [f"{n} {ctx.level_name(n)}" for n in levels]
    scols = w.mapping("liite1.coverage_summary_columns")
    widths = fit_words(
        [9.0, 19.0] + [12.0] * len(levels) + [9.0, 12.0, 16.0],
        [
            cols["division"],
            cols["entity"],
            *level_headers,
            cols["levels_used"],
            cols["satisfaction"],
            cols["status"],
        ],
    )
    widths = fit_words(
        widths,
        [
            scols["division"],
            scols["entities"],
            *level_headers,
            scols["all_levels"],
            scols["any_level"],
        ],
    )
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
        + [Styled(h, "header") for h in level_headers]
        + [
            Styled(cols["levels_used"], "header"),
            Styled(cols["satisfaction"], "header"),
            Styled(cols["status"], "header"),
        ]
    )
    statuses = {e.entity_code: e for status in snap.progress for e in status.entities}
    mapped = set(ctx.figures.satisfaction.rows_by_entity)
    entries = Entries(ctx)
    answered, unanswered = w.text("liite1.coverage_yes"), w.text("liite1.coverage_no")
    done = w.text("liite1.coverage_done")
    first_row = header_row + 1
    last_row = header_row + max(1, sum(len(d.service_entities) for d in snap.divisions))
    first_level, last_level = 3, 2 + len(levels)
    used_col = get_column_letter(last_level + 1)

    def rng(column: int | str) -> str:
        letter = column if isinstance(column, str) else get_column_letter(column)
        return f"${letter}${first_row}:${letter}${last_row}"

    # For the comparison sheet: the entity rows' level columns and "levels used" column.
    sheet_name = quote_sheetname(sheet.ws.title)
    book.refs["coverage_levels"] = {
        n: f"{sheet_name}!{rng(first_level + i)}" for i, n in enumerate(levels)
    }
    book.refs["coverage_used"] = f"{sheet_name}!{rng(used_col)}"

    for division in snap.divisions:
        for entity in division.service_entities:
            per_level = part.coverage.get(entity.code, {})
            values: list[object] = [
                Styled(division.code, "body"),
                Styled(clean(entity.name.fi), "body"),
            ]
            name = ctx.entity_name(entity.code)
            for n in levels:
                if n not in per_level:
                    values.append(Styled(w.text("common.none_value"), "cov_missing"))
                else:  # a live count of the entity's entries on Kaikki tavat
                    count = Formula(entries.count(division.code, n, name), per_level[n])
                    values.append(Styled(count, "cov_yes" if per_level[n] > 0 else "cov_none"))
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
                    answered if entity.code in mapped else unanswered,
                    "body" if entity.code in mapped else "missing_text",
                ),
                Styled(missing, "body" if missing == done else "missing_text"),
            ]
            sheet.row(values)
    if not snap.divisions:
        sheet.row([Styled(w.text("common.no_data"), "missing_text")])
    sheet.blank()
    sheet.row([Styled(w.text("liite1.coverage_summary_title"), "heading")])
    sheet.row(
        [Styled(scols["division"], "header"), Styled(scols["entities"], "header")]
        + [Styled(h, "header") for h in level_headers]
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
    layout = chart_layout(ctx)
    divisions = list(layout.divisions)
    widths = [36.0] + [11.0] * (len(divisions) + 1)
    sheet = book.sheet(layout.sheet, widths)
    sheet.title_block(w.text("liite1.chart_title"), _subtitle(ctx))
    sheet.row([Styled(w.text("liite1.chart_table_title"), "heading")])
    header = [Styled(w.text("liite1.chart_x_axis"), "header")]
    header += [Styled(code, "header") for code in divisions]
    header += [Styled(w.text("common.total"), "header")]
    header_row = sheet.row(header)
    assert header_row == layout.methods_header
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
    _distinct_table(sheet, layout)
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
    chart.height = 7.5
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


def _distinct_table(sheet: Sheet, layout: ChartLayout) -> None:
    """The distinct methods per level and division: COUNTIFS over the *Eri tavat* list,
    which counts each name's entries on *Kaikki tavat*."""
    ctx = sheet.book.ctx
    w = ctx.wording
    part = ctx.figures.participation
    names = book_names(sheet.book)
    ref = _DistinctRefs(ctx, len(names.by_level), len(names.overall))
    sheet.blank()
    sheet.row([Styled(w.text("liite1.chart_distinct_title"), "heading")])
    header = [Styled(w.text("liite1.chart_x_axis"), "header")]
    header += [Styled(code, "header") for code in layout.divisions]
    header += [Styled(w.text("common.total"), "header")]
    assert sheet.row(header) == layout.distinct_header
    columns = [*layout.divisions, None]
    for level in layout.levels:
        sheet.row(
            [Styled(f"{level} {ctx.level_name(level)}", "body")]
            + [
                Styled(
                    Formula(
                        f'=COUNTIFS({ref.levels()},{level},{ref.by_level(d)},">0")',
                        part.distinct_methods(d, level),
                    ),
                    "number" if d is not None else "total_number",
                )
                for d in columns
            ]
        )
    sheet.row(
        [Styled(w.text("common.total"), "total_text")]
        + [
            Styled(
                Formula(f'=COUNTIF({ref.overall(d)},">0")', part.distinct_methods(d, None)),
                "total_number",
            )
            for d in columns
        ]
    )
    sheet.note(w.text("liite1.chart_distinct_note", sheet=w.text("liite1.sheets.distinct")))


class _DistinctRefs:
    """Ranges of the *Eri tavat* list: the per-level block, then the all-levels block."""

    def __init__(self, ctx: Context, per_level: int, overall: int) -> None:
        self.sheet = quote_sheetname(ctx.wording.text("liite1.sheets.distinct"))
        self.divisions = [d.code for d in ctx.snapshot.divisions]
        self.first = DISTINCT_HEADER_ROW + 1
        self.last = self.first + max(1, per_level) - 1
        # a blank line and the block's own title line between the two blocks
        self.overall_first = self.last + 3
        self.overall_last = self.overall_first + max(1, overall) - 1

    def _letter(self, division: str | None) -> str:
        index = len(self.divisions) if division is None else self.divisions.index(division)
        return get_column_letter(3 + index)

    def levels(self) -> str:
        return f"{self.sheet}!$A${self.first}:$A${self.last}"

    def by_level(self, division: str | None) -> str:
        letter = self._letter(division)
        return f"{self.sheet}!${letter}${self.first}:${letter}${self.last}"

    def overall(self, division: str | None) -> str:
        letter = self._letter(division)
        return f"{self.sheet}!${letter}${self.overall_first}:${letter}${self.overall_last}"


def _distinct(book: Book) -> None:
    """*Eri tavat*: every method name once per level and once over all levels, with its
    entries per division counted from *Kaikki tavat* — what the distinct counts count.
    Kept in the workbook for checking; only its title prints (it grows with the data)."""
    ctx = book.ctx
    w = ctx.wording
    names = book_names(book)
    divisions = [d.code for d in ctx.snapshot.divisions]
    cols = w.mapping("liite1.distinct_columns")
    headers = [cols["level"], cols["method"], *divisions, w.text("common.total")]
    widths = fit_words([8.0, 40.0] + [9.0] * (len(divisions) + 1), headers)
    sheet = book.sheet(
        w.text("liite1.sheets.distinct"),
        widths,
        freeze=f"C{DISTINCT_HEADER_ROW + 1}",
    )
    sheet.title_block(w.text("liite1.distinct_title"), _subtitle(ctx))
    sheet.note(w.text("liite1.distinct_note", entries=w.text("liite1.sheets.entries")))
    sheet.print_rows_only = sheet.rows
    assert sheet.rows + 1 == DISTINCT_HEADER_ROW
    sheet.row([Styled(h, "header") for h in headers])
    entries = Entries(ctx)
    division_col = entries.column("A")
    level_col = entries.column("C")
    method_col = entries.column("E")

    def counts(row: int, per_division: dict[str, int], level: bool) -> list[object]:
        cells: list[object] = []
        for index, code in enumerate(divisions):
            header = f"{get_column_letter(3 + index)}${DISTINCT_HEADER_ROW}"
            terms = [f"({division_col}={header})", f"({method_col}=$B{row})"]
            if level:
                terms.insert(1, f"({level_col}=$A{row})")
            formula = f"=SUMPRODUCT({'*'.join(terms)})"
            cells.append(Styled(Formula(formula, per_division.get(code, 0)), "number"))
        total = sum(per_division.get(code, 0) for code in divisions)
        cells.append(
            Styled(
                Formula(f"=SUM(C{row}:{get_column_letter(2 + len(divisions))}{row})", total),
                "total_number",
            )
        )
        return cells

    for (level, _key), (label, per_division) in names.by_level.items():
        row = sheet.rows + 1
        sheet.row(
            [Styled(level, "number"), Styled(label, "body"), *counts(row, per_division, True)]
        )
    if not names.by_level:
        sheet.row([])
    sheet.blank()
    sheet.row([Styled(w.text("liite1.distinct_overall_title"), "heading")])
    for label, per_division in names.overall.values():
        row = sheet.rows + 1
        sheet.row(
            [Styled(None, "number"), Styled(label, "body"), *counts(row, per_division, False)]
        )


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
    # Only the title and note print, A4 landscape at ≥ 92 % like every sheet.
    widths = [8.0, 20.0, 5.0, 22.0, 26.0, 11.0, 7.0, 22.0]
    header_row = ENTRIES_HEADER_ROW
    sheet = book.sheet(w.text("liite1.sheets.entries"), widths, freeze=f"C{header_row + 1}")
    sheet.title_block(w.text("liite1.entries_title"), _subtitle(ctx))
    # The listing grows with the data (864 pages at 10 000 entries): it stays here for
    # filtering, and only its title and this note print.
    count = len(snap.participation)
    sheet.note(w.counted("liite1.entries_print_note", count, entries=fi_int(count)))
    sheet.print_rows_only = sheet.rows
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

    sheet.plain_rows(rows(), wrap_columns=(1, 3, 4, 7), number_columns=(6,))
    add_table(sheet, w.text("liite1.entries_table"), header, header_row)


# --- 5. comparison with last year ---------------------------------------------------------


def _comparison(book: Book) -> None:
    """Liite 1's key figures of both years: this year's as formulas over this workbook."""
    ctx = book.ctx
    w = ctx.wording
    previous = ctx.previous_figures
    assert previous is not None
    now, old = ctx.figures.participation, previous.participation
    labels = w.mapping("listateksti.change_rows")
    cols = w.mapping("listateksti.change_columns")
    layout = chart_layout(ctx)
    chart = quote_sheetname(layout.sheet)
    rows: list[tuple[str, int | None, str, int]] = [
        (labels["methods"], old.methods, f"={chart}!{layout.methods(None, None)}", now.methods),
        (
            labels["distinct"],
            old.distinct_methods(),
            f"={chart}!{layout.distinct(None, None)}",
            now.distinct_methods(),
        ),
        (
            labels["entities_with"],
            old.entities_with,
            f'=COUNTIF({book.refs["coverage_used"]},">0")',
            now.entities_with,
        ),
    ]
    for n in now.levels:
        before = old.by_level.get(n)
        rows.append(
            (
                w.text("listateksti.change_rows.entities_level", number=n),
                before.entities if before else None,
                f'=COUNTIF({book.refs["coverage_levels"][n]},">0")',
                now.by_level[n].entities,
            )
        )
    sheet = book.sheet(w.text("liite1.sheets.comparison"), [52.0, 12.0, 12.0, 12.0])
    sheet.title_block(w.text("liite1.comparison_title"), _subtitle(ctx))
    sheet.note(w.text("liite1.comparison_note"))
    sheet.row(
        [
            Styled(cols["figure"], "header"),
            Styled(ctx.year - 1, "header", number_format="0"),
            Styled(ctx.year, "header", number_format="0"),
            Styled(cols["change"], "header"),
        ]
    )
    for label, before, formula, value in rows:  # type: ignore[assignment]
        row = sheet.rows + 1
        change = None if before is None else value - before  # type: ignore[operator]
        sheet.row(
            [
                Styled(label, "body"),
                Styled(before, "number"),
                Styled(Formula(formula, value), "number"),
                Styled(Formula(f'=IF(OR(B{row}="",C{row}=""),"",C{row}-B{row})', change), "signed"),
            ]
        )


# --- 6. the most common methods ----------------------------------------------------------


def _top(book: Book) -> None:
    """The list text's Taulukko 3: each division's most common methods, with the service
    entities using each and its Lkm, counted live from the entries on *Kaikki tavat*."""
    ctx = book.ctx
    w = ctx.wording
    part = ctx.figures.participation
    cols = w.mapping("listateksti.top_columns")
    headers = [cols["division"], cols["method"], cols["entities"], cols["count"]]
    sheet = book.sheet(w.text("liite1.sheets.top"), fit_words([10.0, 60.0, 14.0, 10.0], headers))
    sheet.title_block(w.text("liite1.top_title"), _subtitle(ctx))
    sheet.note(w.text("liite1.top_note", entries=w.text("liite1.sheets.entries")))
    sheet.row([Styled(h, "header") for h in headers])
    entries = Entries(ctx)
    division, entity, method, count = (entries.column(c) for c in "ABEG")
    for code in [d.code for d in ctx.snapshot.divisions]:
        for name, using, total in part.top_methods.get(code, ()):
            row = sheet.rows + 1
            criterion = _escape_criterion(clean(name))
            # Each entry of the method counts 1 / (its entity's entries of the method):
            # together, the division's distinct service entities that use it.
            distinct = (
                f"=SUMPRODUCT(({division}=$A{row})*({method}=$B{row})"
                f"/COUNTIFS({division},{division},{entity},{entity},{method},{method}))"
            )
            lkm = f'=SUMIFS({count},{division},"{code}",{method},"{criterion}")'
            sheet.row(
                [
                    Styled(code, "body"),
                    Styled(clean(name), "body"),
                    Styled(Formula(distinct, using), "number"),
                    Styled(Formula(lkm, total), "number"),
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

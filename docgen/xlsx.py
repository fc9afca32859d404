"""Shared Excel machinery: write-only workbooks, safe cells, styles, print setup.

Every workbook is written in openpyxl's write-only mode: rows stream to a temporary file,
so memory stays flat at 100 000 entries, and plain values cost no more than bare openpyxl.
Styling is therefore reserved for headers, totals and the small sheets; the big entry
sheets get their look from a native Excel table style instead of per-cell formatting.

User text is made safe in :meth:`Sheet.value`: control characters removed (openpyxl would
raise ``IllegalCharacterError``), and text that Excel would read as a formula or an error
(``=…``, ``#N/A``) forced to a string cell with the quote prefix, so it stays text even
when someone edits the cell. Text starting with ``+``, ``-`` or ``@`` is already a string
cell; it gets the quote prefix too, for the same reason.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

from docgen.context import Context
from docgen.fmt import EXCEL_CELL_LIMIT, clean, slug
from docgen.packaging import FixedTimeZipFile

FONT = "Arial"
DARK = "0F3D7A"  # Helsinki "engel"-like dark blue for headers
LIGHT = "E6EEF8"
TOTAL = "D6E2F3"
RED = "C00000"
GREEN = "D8EFD3"
GREY = "EDEDED"
ORANGE = "FBE3C8"

_thin = Side(style="thin", color="9AA7B8")
_BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_FORMULA_LIKE = ("=", "+", "-", "@")

# name -> (font kwargs, fill colour, border, alignment kwargs, number format)
_STYLES: dict[str, tuple[dict[str, Any], str | None, bool, dict[str, Any], str | None]] = {
    "title": ({"bold": True, "size": 14, "color": DARK}, None, False, {}, None),
    "subtitle": ({"size": 10, "color": "444444"}, None, False, {}, None),
    "draft": (
        {"bold": True, "size": 12, "color": RED},
        None,
        False,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    "note": (
        {"italic": True, "size": 9, "color": "444444"},
        None,
        False,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    "heading": ({"bold": True, "size": 11, "color": DARK}, None, False, {}, None),
    "header": (
        {"bold": True, "color": "FFFFFF"},
        DARK,
        True,
        {"wrap_text": True, "vertical": "center"},
        None,
    ),
    "group": (
        {"bold": True, "color": "FFFFFF"},
        DARK,
        True,
        {"horizontal": "center", "vertical": "center"},
        None,
    ),
    "level": ({"bold": True}, LIGHT, True, {"wrap_text": True, "vertical": "top"}, None),
    "body": ({}, None, True, {"wrap_text": True, "vertical": "top"}, None),
    "number": ({}, None, True, {"vertical": "top"}, "0"),
    "total_text": ({"bold": True}, TOTAL, True, {"wrap_text": True, "vertical": "top"}, None),
    "total_number": ({"bold": True}, TOTAL, True, {"vertical": "top"}, "0"),
    "percent": ({}, None, True, {"horizontal": "right", "vertical": "top"}, "0 %"),
    "total_percent": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "right", "vertical": "top"},
        "0 %",
    ),
    "signed": ({}, None, True, {"horizontal": "right", "vertical": "top"}, "+0;−0;0"),
    "total_signed": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "right", "vertical": "top"},
        "+0;−0;0",
    ),
    "cov_yes": ({}, GREEN, True, {"horizontal": "center", "vertical": "top"}, "0"),
    "cov_none": ({"color": "666666"}, GREY, True, {"horizontal": "center", "vertical": "top"}, "0"),
    "cov_missing": (
        {"color": "9C5700"},
        ORANGE,
        True,
        {"horizontal": "center", "vertical": "top"},
        None,
    ),
    "missing_text": (
        {"italic": True, "color": "9C5700"},
        None,
        True,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    # The big tables' wrapped text keeps Excel's default bottom alignment, like the plain
    # cells next to it, so a row with one long note still reads as one line of data.
    "wrap": ({}, None, False, {"wrap_text": True}, None),
    "text": ({}, None, False, {}, None),
}


_NEEDS_CELL = object()  # marker: this text must be written as a styled string cell
_WRAPPING = {name for name, spec in _STYLES.items() if spec[3].get("wrap_text")}
_BOLD = {name for name, spec in _STYLES.items() if spec[0].get("bold")}
LINE_HEIGHT = 12.75  # points per line of 10 pt Arial, Excel's own default row height


def wrapped_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines ``text`` takes in a wrapping cell ``width`` characters wide.

    Neither Excel nor LibreOffice grows a row to fit wrapped text written by a program
    (LibreOffice keeps the default height), so the height is estimated here: a greedy
    word wrap with a slightly pessimistic character width, because the fonts actually used
    (Arial, or DejaVu Sans where Arial is missing) are wider than Excel's width unit.
    """
    capacity = max(1, int(width * (1.1 if bold else 1.22)) - 1)
    lines = 0
    for paragraph in text.split("\n"):
        used = 0
        lines += 1
        for word in paragraph.split(" "):
            size = len(word)
            if used and used + 1 + size > capacity:
                lines += 1
                used = 0
            if size > capacity:  # a very long word breaks over several lines
                lines += (size - 1) // capacity
                size = size % capacity or capacity
            used += size + (1 if used else 0)
    return lines


def rich(*parts: tuple[str, bool]) -> CellRichText:
    """Text with bold and normal runs in one cell, e.g. a level's name over its description."""
    return CellRichText(
        [TextBlock(InlineFont(rFont=FONT, sz=10, b=bold), clean(text)) for text, bold in parts]
    )


@dataclass(frozen=True)
class Styled:
    """A value with a named style, for :meth:`Sheet.row`."""

    value: Any
    style: str


class Book:
    """A write-only workbook with shared styles, fixed properties and deterministic saving."""

    def __init__(self, ctx: Context, title: str) -> None:
        self.ctx = ctx
        self.wb = Workbook(write_only=True)
        props = self.wb.properties
        props.title = clean(title)
        props.creator = ctx.wording.text("common.author")
        props.lastModifiedBy = props.creator
        props.language = "fi-FI"
        props.created = ctx.created
        props.modified = ctx.created
        self._styles: dict[str, StyleArray] = {}
        self._first: WriteOnlyWorksheet | None = None
        self._sheets: list[Sheet] = []

    def style(self, name: str, *, quote: bool = False) -> StyleArray:
        """The precomputed style array of a named style (computed once per workbook)."""
        key = f"{name}+quote" if quote else name
        found = self._styles.get(key)
        if found is None:
            assert self._first is not None, "create a sheet before styling"
            font, fill, border, align, number_format = _STYLES[name]
            proto = Cell(self._first, row=1, column=1)
            proto.font = Font(name=FONT, **{"size": 10, **font})
            if fill:
                proto.fill = PatternFill("solid", start_color=fill, end_color=fill)
            if border:
                proto.border = _BORDER
            if align:
                proto.alignment = Alignment(**align)
            if number_format:
                proto.number_format = number_format
            if quote:
                proto.quotePrefix = True
            found = self._styles[key] = StyleArray(proto._style)
        return found

    def sheet(
        self,
        title: str,
        widths: Sequence[float],
        *,
        freeze: str | None = None,
        print_rows: str | None = None,
        landscape: bool = True,
    ) -> Sheet:
        """A print-ready sheet: A4, fit to page width, panes frozen, header rows repeated.

        Column widths and frozen panes go to the top of the sheet XML, so in write-only
        mode they must be set before the first row — hence all here.
        """
        ws = self.wb.create_sheet(title=clean(title)[:31])
        if self._first is None:
            self._first = ws
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        if freeze:
            ws.freeze_panes = freeze
        if print_rows:
            ws.print_title_rows = print_rows
        setup = ws.page_setup
        setup.paperSize = "9"  # A4
        setup.orientation = "landscape" if landscape else "portrait"
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages down as needed
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.page_margins.top = ws.page_margins.bottom = 0.7
        ws.print_options.gridLines = False
        if self.ctx.draft:
            ws.oddHeader.center.text = self.ctx.wording.text("common.draft_mark")
            ws.oddHeader.center.color = RED
            ws.oddHeader.center.size = 14
            ws.oddHeader.center.font = f"{FONT},Bold"
        ws.oddHeader.left.text = clean(self.wb.properties.title or "")
        ws.oddHeader.left.size = 8
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.left.size = 8
        ws.oddFooter.right.text = f"{self.ctx.wording.text('common.page')} &P / &N"
        ws.oddFooter.right.size = 8
        sheet = Sheet(self, ws, len(widths))
        self._sheets.append(sheet)
        return sheet

    def save(self) -> bytes:
        """Write the archive once, with fixed entry times (no recompression afterwards)."""
        for sheet in self._sheets:
            # The print area is the sheet's own columns: a title spilling to the right
            # must not make the printed page smaller. Sheets with a chart keep the default
            # (the used area includes the chart, which may be wider than the columns).
            if not sheet.has_chart:
                sheet.ws.print_area = cell_range(1, 1, sheet.columns, max(sheet.rows, 1))
        buffer = io.BytesIO()
        archive = FixedTimeZipFile(buffer, "w", compression=8, allowZip64=True)
        ExcelWriter(self.wb, archive).save()
        return buffer.getvalue()


class Sheet:
    """Appends rows to a write-only sheet, keeping count of the current row number."""

    def __init__(self, book: Book, ws: WriteOnlyWorksheet, columns: int) -> None:
        self.book = book
        self.ws = ws
        self.columns = columns
        self.rows = 0
        self.has_chart = False
        self._heights: dict[float, RowDimension] = {}

    def add_chart(self, chart: BarChart) -> None:
        """Place a chart two rows below the last row written."""
        self.ws.add_chart(chart, f"A{self.rows + 3}")
        self.has_chart = True

    def _set_height(self, row: int, height: float) -> None:
        """Give ``row`` a fixed height, sharing one dimension object per distinct height.

        Building a RowDimension costs ~40 µs (descriptor validation); rows with long text
        all need one of a handful of heights, and the writer reads only the height fields
        (never the index) from the object, so one object per height serves them all.
        """
        dimension = self._heights.get(height)
        if dimension is None:
            dimension = RowDimension(self.ws, index=row, ht=height, customHeight=True)
            self._heights[height] = dimension
        self.ws.row_dimensions[row] = dimension

    def cell(self, value: Any, style: str | None) -> Any:
        """A cell for ``value``: plain values stay plain (fast); text is made safe."""
        if isinstance(value, str):
            value = clean(value)
            if len(value) > EXCEL_CELL_LIMIT:
                value = value[: EXCEL_CELL_LIMIT - 1] + "…"
            risky = value.startswith(_FORMULA_LIKE) or value in ERROR_CODES
            if risky or style:
                cell = Cell(
                    self.ws,
                    row=1,
                    column=1,
                    style_array=self.book.style(style or "text", quote=risky),
                )
                cell.value = value
                cell.data_type = "s"  # never a formula or an error value
                return cell
            return value
        if style is None:
            return value
        cell = Cell(self.ws, row=1, column=1, style_array=self.book.style(style))
        cell.value = value
        return cell

    def row(
        self,
        values: Iterable[Any] = (),
        style: str | None = None,
        *,
        height: float | None = None,
    ) -> int:
        """Append one row; ``Styled`` items override the row's style. Returns its number."""
        self.rows += 1
        cells = []
        lines = 1
        for column, value in enumerate(values, start=1):
            name = value.style if isinstance(value, Styled) else style
            content = value.value if isinstance(value, Styled) else value
            cells.append(self.cell(content, name))
            if name in _WRAPPING and isinstance(content, str | CellRichText) and content:
                width = self._width(column)
                lines = max(lines, wrapped_lines(clean(str(content)), width, bold=name in _BOLD))
        if height is None and lines > 1:
            height = lines * LINE_HEIGHT + 3
        if height is not None:
            self._set_height(self.rows, height)
        self.ws.append(cells)
        return self.rows

    def _width(self, column: int) -> float:
        width = self.ws.column_dimensions[get_column_letter(column)].width
        return float(width or 8.43)

    def plain_rows(self, rows: Iterable[Sequence[Any]], wrap_columns: Sequence[int] = ()) -> None:
        """The fast path for big tables: plain values, text made safe, long text wrapped.

        Only text that needs it becomes a styled cell: formula-like or error-like text, or
        text in ``wrap_columns`` (0-based) longer than its column is wide. Method, entity
        and level names repeat on every row, so each distinct string is checked once.
        """
        append = self.ws.append
        set_height = self._set_height
        widths = {index: self._width(index + 1) for index in wrap_columns}
        checked: dict[str, Any] = {}  # raw text -> the safe plain text, or _NEEDS_CELL
        # (column, raw text) -> (styled cell, lines). openpyxl writes each appended row at
        # once, so one styled cell object can serve every row repeating the same long text.
        wrapped: dict[tuple[int, str], tuple[Any, int]] = {}
        cell = self.cell
        number = self.rows
        for values in rows:
            number += 1
            out = list(values)
            lines = 1
            for index, value in enumerate(out):
                if value.__class__ is not str:
                    continue
                limit = widths.get(index)
                if limit is not None and (len(value) > limit or "\n" in value):
                    found = wrapped.get((index, value))
                    if found is None:
                        text = clean(value)
                        found = (cell(text, "wrap"), wrapped_lines(text, limit))
                        wrapped[(index, value)] = found
                    out[index] = found[0]
                    lines = max(lines, found[1])
                    continue
                safe = checked.get(value)
                if safe is None:
                    plain = cell(value, None)
                    safe = checked[value] = plain if plain.__class__ is str else _NEEDS_CELL
                out[index] = safe if safe is not _NEEDS_CELL else cell(value, None)
            if lines > 1:
                set_height(number, lines * LINE_HEIGHT + 3)
            append(out)
        self.rows = number

    def blank(self, count: int = 1) -> None:
        for _ in range(count):
            self.row([])

    def title_block(self, title: str, subtitle: str) -> None:
        """Title, subtitle and — when the data are incomplete — the LUONNOS line."""
        ctx = self.book.ctx
        self.row([Styled(title, "title")], height=22)
        self.row([Styled(subtitle, "subtitle")])
        if ctx.draft:
            self.note(ctx.draft_note(), "draft")
        else:
            self.blank()

    def note(self, text: str, style: str = "note") -> int:
        """A line of text across the whole sheet width, wrapped inside it.

        A long unwrapped text would spill over empty cells to the right; LibreOffice then
        counts the spill as part of the page and shrinks the whole sheet to fit it. Merging
        the row over the sheet's columns and wrapping keeps the text inside the print width.
        """
        text = clean(text)
        width = sum(self._width(c) for c in range(1, self.columns + 1))
        lines = wrapped_lines(text, width, bold=style in _BOLD)
        size = _STYLES[style][0].get("size", 10)
        height = max(1, lines) * LINE_HEIGHT * size / 10 + 3
        number = self.row([Styled(text, style)], height=height)
        if self.columns > 1:
            self.ws.merged_cells.add(cell_range(1, number, self.columns, number))
        return number


def cell_range(first_col: int, first_row: int, last_col: int, last_row: int) -> str:
    """``A1:H20`` from column and row numbers."""
    return f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"


def add_table(sheet: Sheet, name: str, header: list[str], header_row: int) -> None:
    """A native Excel table (filter buttons, banded rows) over the header and data rows.

    Write-only mode cannot read the header back, so the columns are named here; the names
    must equal the header cells exactly, and must be unique.
    """
    ref = cell_range(1, header_row, len(header), sheet.rows)
    table = Table(displayName=_table_name(name), ref=ref)
    seen: set[str] = set()
    columns = []
    for index, text in enumerate(header, start=1):
        unique = text or f"Sarake{index}"
        while unique in seen:
            unique += "_"
        seen.add(unique)
        columns.append(TableColumn(id=index, name=unique))
    table.tableColumns = columns
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(
        name="TableStyleMedium2", showRowStripes=True, showColumnStripes=False
    )
    with warnings.catch_warnings():  # openpyxl warns even when the columns are given
        warnings.simplefilter("ignore", UserWarning)
        sheet.ws.add_table(table)


def _table_name(name: str) -> str:
    base = slug(name).replace("-", "_") or "Taulukko"
    return base if base[0].isalpha() else f"T_{base}"

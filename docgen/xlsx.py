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
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MethodType
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, Cell, WriteOnlyCell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

from docgen import fontwidths
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
# Counts grouped by thousands: a real grouping format in the Finnish locale (its own, so
# every viewer shows "1 234 567" whatever its language; never "1234567", which next to
# "Helsinki-palaute" reads as a year).
NUMBER = "[$-40B]#,##0"
# Decimals with the Finnish decimal comma in every viewer (the format's own locale).
DECIMAL = "[$-40B]0.0"
SIGNED_DECIMAL = "[$-40B]+0.0;−0.0;0"
# Every cell of every sheet is 10 pt Arial (headers and data alike); only titles are larger.
# The pages are scaled to fit their width, so 10 pt keeps printed text at 9 pt or more.
SIZE = 10
# Points per unit of Excel column width as LibreOffice prints these Arial 10 workbooks
# (measured in the PDFs: a 22-unit column is 139.7 pt wide — the digit width of the font).
POINTS_PER_WIDTH = 6.35
# Points of DejaVu-measured text per unit of column width that fit on one line in both
# LibreOffice (6.35 pt per unit) and Excel (5.25 pt per unit, with Arial's narrower
# letters: about 6.0 pt of DejaVu-measured text).
CAPACITY_PER_WIDTH = 6.0

# name -> (font kwargs, fill colour, border, alignment kwargs, number format)
_STYLES: dict[str, tuple[dict[str, Any], str | None, bool, dict[str, Any], str | None]] = {
    "title": ({"bold": True, "size": 14, "color": DARK}, None, False, {}, None),
    "subtitle": ({"color": "444444"}, None, False, {}, None),
    "title_wrap": (
        {"bold": True, "size": 14, "color": DARK},
        None,
        False,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    "subtitle_wrap": (
        {"color": "444444"},
        None,
        False,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    "draft": (
        {"bold": True, "size": 12, "color": RED},
        None,
        False,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    "note": (
        {"italic": True, "color": "444444"},
        None,
        False,
        {"wrap_text": True, "vertical": "top"},
        None,
    ),
    "heading": ({"bold": True, "color": DARK}, None, False, {}, None),
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
    "division": (  # no borders: the heading runs on over the empty cells of its row
        {"bold": True, "color": "FFFFFF"},
        DARK,
        False,
        {"horizontal": "left", "vertical": "center"},
        None,
    ),
    "body": ({}, None, True, {"wrap_text": True, "vertical": "top"}, None),
    "number": ({}, None, True, {"horizontal": "right", "vertical": "top", "indent": 1}, NUMBER),
    "total_text": ({"bold": True}, TOTAL, True, {"wrap_text": True, "vertical": "top"}, None),
    "total_number": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "right", "vertical": "top", "indent": 1},
        NUMBER,
    ),
    "total_number_left": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "left", "vertical": "top", "indent": 1},
        NUMBER,
    ),
    "decimal": ({}, None, True, {"horizontal": "right", "vertical": "top", "indent": 1}, DECIMAL),
    "percent": ({}, None, True, {"horizontal": "right", "vertical": "top", "indent": 1}, "0 %"),
    "total_percent": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "right", "vertical": "top", "indent": 1},
        "0 %",
    ),
    "signed": ({}, None, True, {"horizontal": "right", "vertical": "top", "indent": 1}, "+0;−0;0"),
    "signed_decimal": (
        {},
        None,
        True,
        {"horizontal": "right", "vertical": "top", "indent": 1},
        SIGNED_DECIMAL,
    ),
    "total_signed_decimal": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "right", "vertical": "top", "indent": 1},
        SIGNED_DECIMAL,
    ),
    "total_signed": (
        {"bold": True},
        TOTAL,
        True,
        {"horizontal": "right", "vertical": "top", "indent": 1},
        "+0;−0;0",
    ),
    "cov_yes": ({}, GREEN, True, {"horizontal": "center", "vertical": "top"}, NUMBER),
    "cov_none": (
        {"color": "666666"},
        GREY,
        True,
        {"horizontal": "center", "vertical": "top"},
        NUMBER,
    ),
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
    "plain_number": ({}, None, False, {"horizontal": "right", "indent": 1}, NUMBER),
    "text": ({}, None, False, {}, None),
}


_NEEDS_CELL = object()  # marker: this text must be written as a styled string cell
_WRAPPING = {name for name, spec in _STYLES.items() if spec[3].get("wrap_text")}
_BOLD = {name for name, spec in _STYLES.items() if spec[0].get("bold")}
LINE_HEIGHT = 12.75  # points per line of 10 pt Arial, Excel's own default row height


@cache
def _style_parts(
    name: str,
) -> tuple[Font, PatternFill | None, bool, Alignment | None, str | None]:
    """A named style's openpyxl objects, built once per process (building them costs
    more than writing a small workbook; each workbook only registers them)."""
    font, fill, border, align, number_format = _STYLES[name]
    return (
        Font(name=FONT, **{"size": SIZE, **font}),
        PatternFill("solid", start_color=fill, end_color=fill) if fill else None,
        border,
        Alignment(**align) if align else None,
        number_format,
    )


def text_width(text: str, *, bold: bool = False, size: float = SIZE) -> float:
    """The printed width of ``text`` in points (DejaVu Sans metrics: see docgen.fontwidths)."""
    table = fontwidths.BOLD if bold else fontwidths.REGULAR
    get = table.get
    return sum(get(char, 1000) for char in text) * size / 1000


def fit_words(widths: Sequence[float], headers: Sequence[str], *, bold: bool = True) -> list[float]:
    """``widths`` widened where a header's longest word would not fit on one line: a header
    wraps between words, never inside one ("Palvelukokonaisuuks|ia")."""
    result = list(widths)
    for index, header in enumerate(headers):
        if index >= len(result) or not header:
            continue
        pieces = header.replace("\u00ad", "\u00ad ").split()  # soft hyphens break words
        if not pieces:  # only spaces (a column of empty values)
            continue
        widest = max(text_width(word, bold=bold) for word in pieces)
        needed = (widest + 3 + 1) / CAPACITY_PER_WIDTH
        result[index] = max(result[index], round(needed + 0.25, 1))
    return result


def cell_capacity(width: float) -> float:
    """Points of text that fit on one line of a wrapping cell ``width`` units wide.

    LibreOffice prints a unit of column width as 6.35 pt and keeps a few points for the
    cell's inner margins; Excel draws the same column narrower but with the narrower Arial.
    The capacity is the smaller of the two, measured in DejaVu Sans points (the wider font).
    """
    return max(6.0, width * CAPACITY_PER_WIDTH - 3)


@lru_cache(maxsize=16384)  # entity lists and method names repeat on many rows
def wrapped_lines(text: str, width: float, *, bold: bool = False, size: float = SIZE) -> int:
    """How many lines ``text`` takes in a wrapping cell ``width`` units wide.

    Neither Excel nor LibreOffice grows a row to fit wrapped text written by a program, so
    the lines are counted here by measuring: a greedy word wrap at spaces with the font's
    own character widths against the cell's capacity (:func:`cell_capacity`); a word wider
    than the cell breaks between characters, as both programs do.
    """
    capacity = cell_capacity(width)
    table = fontwidths.BOLD if bold else fontwidths.REGULAR
    get = table.get
    scale = size / 1000
    space = get(" ", 1000) * scale
    lines = 0
    # A soft hyphen is a place to break (printing a hyphen there): measured as a space.
    for paragraph in text.replace("\u00ad", "\u00ad ").split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            size_pt = sum(get(char, 1000) for char in word) * scale
            if used and used + space + size_pt > capacity:
                lines += 1
                used = 0.0
            elif used:
                used += space
            if size_pt > capacity:  # a very long word breaks between characters
                for char in word:
                    step = get(char, 1000) * scale
                    if used + step > capacity and used:
                        lines += 1
                        used = 0.0
                    used += step
            else:
                used += size_pt
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
    number_format: str | None = None


def _default_font(wb: Workbook) -> None:
    """Arial 10 as the workbook's own default (openpyxl's is Calibri 11).

    Unstyled cells — most of the big entry table, written on the fast path — use the
    default font; with Calibri 11 their text would print larger than the styled cells in
    the same row. Set before any style is added, so the default keeps index 0.
    """
    font = Font(name=FONT, sz=SIZE, family=2)
    wb._fonts = IndexedList([font])
    normal = wb._named_styles["Normal"]
    normal.font = font


@dataclass(frozen=True)
class Formula:
    """A live formula (``=SUM(…)``) and the value it computes today.

    Excel recalculates on opening; viewers that do not (previews, phones, LibreOffice's
    default for .xlsx) show the cached value, so both are written.
    """

    text: str
    cached: float | int | str | None


@dataclass(frozen=True)
class Paper:
    """A paper size: openpyxl's code, and the printable width and height in points
    (landscape, between the sheet's margins)."""

    code: str
    width_pt: float
    height_pt: float


A4 = Paper("9", (297 / 25.4 - 2 * 0.4) * 72, (210 / 25.4 - 2 * 0.7) * 72)
A3 = Paper("8", (420 / 25.4 - 2 * 0.4) * 72, (297 / 25.4 - 2 * 0.7) * 72)
# The printed page may shrink to fit its width down to this scale: 10 pt text stays ≥ 9 pt.
MIN_SCALE = 0.92


def columns_pt(widths: Sequence[float]) -> float:
    """The printed width of columns at 100 %."""
    return sum(widths) * POINTS_PER_WIDTH


def paper_for(widths: Sequence[float], min_scale: float = MIN_SCALE) -> Paper:
    """A4 landscape when the columns fit it at ``min_scale`` or more, else A3."""
    return A4 if columns_pt(widths) * min_scale <= A4.width_pt else A3


class Book:
    """A write-only workbook with shared styles, fixed properties and deterministic saving."""

    def __init__(self, ctx: Context, title: str) -> None:
        self.ctx = ctx
        self.wb = Workbook(write_only=True)
        _default_font(self.wb)
        props = self.wb.properties
        props.title = clean(title)
        props.creator = ctx.wording.text("common.author")
        props.lastModifiedBy = props.creator
        props.language = "fi-FI"
        props.created = ctx.created
        props.modified = ctx.created
        # Whether the data are incomplete (LUONNOS), asked by every sheet: once per book.
        self.draft = ctx.draft
        self.draft_note = ctx.draft_note() if self.draft else ""
        self._styles: dict[str, StyleArray] = {}
        self._style_ids: dict[int, int] = {}  # id(style array) -> its index in the workbook
        self._first: WriteOnlyWorksheet | None = None
        self._sheets: list[Sheet] = []
        # Cell references one sheet hands to another's formulas (e.g. coverage ranges).
        self.refs: dict[str, Any] = {}

    def style(
        self, name: str, *, quote: bool = False, number_format: str | None = None
    ) -> StyleArray:
        """The precomputed style array of a named style (computed once per workbook);
        ``number_format`` overrides the style's own."""
        key = f"{name}+quote" if quote else name
        if number_format:
            key += "+" + number_format
        found = self._styles.get(key)
        if found is None:
            assert self._first is not None, "create a sheet before styling"
            font, fill, border, align, own_format = _style_parts(name)
            number_format = number_format or own_format
            proto = Cell(self._first, row=1, column=1)
            proto.font = font
            if fill:
                proto.fill = fill
            if border:
                proto.border = _BORDER
            if align:
                proto.alignment = align
            if number_format:
                proto.number_format = number_format
            if quote:
                proto.quotePrefix = True
            found = self._styles[key] = StyleArray(proto._style)
            self._style_ids[id(found)] = self.wb._cell_styles.add(found)
        return found

    def new_cell(self, ws: WriteOnlyWorksheet, style: StyleArray) -> Cell:
        """A styled cell whose style id is known (openpyxl looks it up for every cell)."""
        cell = _StyledCell(ws, row=1, column=1, style_array=style)
        cell._sid = self._style_ids[id(style)]
        return cell

    def sheet(
        self,
        title: str,
        widths: Sequence[float],
        *,
        freeze: str | None = None,
        print_rows: str | None = None,
        landscape: bool = True,
        page_columns: Sequence[int] = (),
        print_columns: str | None = None,
        min_scale: float = MIN_SCALE,
    ) -> Sheet:
        """A print-ready sheet: fit to page width, panes frozen, header rows repeated.

        The paper is A4 landscape when the columns fit it without shrinking text under
        9 pt, otherwise A3 landscape (:func:`paper_for`). A sheet too wide for that is
        printed at 100 % in pages of columns instead: ``page_columns`` are the last
        columns (1-based) of each page, ``print_columns`` the columns repeated on each.

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
        setup.orientation = "landscape" if landscape else "portrait"
        if page_columns:
            paper = A4
            setup.scale = 100
            setup.pageOrder = "downThenOver"  # a division's pages one after another
            for column in page_columns[:-1]:
                ws.col_breaks.append(Break(id=column))
            if print_columns:
                ws.print_title_cols = print_columns
        sheet_span = None
        if page_columns and print_columns:
            first, _, last = print_columns.partition(":")
            sheet_span = column_index_from_string(last) - column_index_from_string(first) + 1
        else:
            paper = paper_for(widths, min_scale)
            setup.fitToWidth = 1
            setup.fitToHeight = 0  # as many pages down as needed
            ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        setup.paperSize = paper.code
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.7
        ws.print_options.gridLines = False
        # Rows without a height of their own are one line of 10 pt text (openpyxl writes
        # 15 pt, which LibreOffice prints, so the page breaks computed here would drift).
        ws.sheet_format.defaultRowHeight = LINE_HEIGHT
        ws.sheet_format.customHeight = True
        if self.draft:
            ws.oddHeader.center.text = self.ctx.wording.text("common.draft_mark")
            ws.oddHeader.center.color = RED
            ws.oddHeader.center.size = 14
            ws.oddHeader.center.font = f"{FONT},Bold"
        ws.oddHeader.left.text = clean(self.wb.properties.title or "")
        ws.oddHeader.left.size = SIZE
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.left.size = SIZE
        # "1 (4)", as the list text numbers its pages.
        ws.oddFooter.right.text = self.ctx.wording.text("common.page_number", page="&P", pages="&N")
        ws.oddFooter.right.size = SIZE
        sheet = Sheet(self, ws, len(widths), paper, fit=not page_columns)
        if sheet_span:
            sheet.text_span = sheet_span
        self._sheets.append(sheet)
        return sheet

    def save(self) -> bytes:
        """Write the archive once, with fixed entry times (no recompression afterwards)."""
        for sheet in self._sheets:
            # The print area is the sheet's own columns: a title spilling to the right
            # must not make the printed page smaller. Sheets with a chart keep the default
            # (the used area includes the chart, which may be wider than the columns).
            if sheet.print_rows_only is not None:
                sheet.ws.print_area = cell_range(1, 1, sheet.columns, sheet.print_rows_only)
            elif not sheet.has_chart:
                sheet.ws.print_area = cell_range(1, 1, sheet.columns, max(sheet.rows, 1))
        rewrites = {
            f"xl/worksheets/sheet{index}.xml": _cache_values(sheet.cached)
            for index, sheet in enumerate(self._sheets, start=1)
            if sheet.cached
        }
        buffer = io.BytesIO()
        archive = FixedTimeZipFile(buffer, "w", compression=8, allowZip64=True, rewrite=rewrites)
        ExcelWriter(self.wb, archive).save()
        return buffer.getvalue()


class Sheet:
    """Appends rows to a write-only sheet, keeping count of the current row number."""

    def __init__(
        self,
        book: Book,
        ws: WriteOnlyWorksheet,
        columns: int,
        paper: Paper = A4,
        *,
        fit: bool = True,
    ) -> None:
        self.book = book
        self.ws = ws
        self.columns = columns
        self.paper = paper
        self.fit = fit
        # Notes and titles are merged over this many columns: the whole sheet, or the
        # columns repeated on every page of a sheet printed in pages of columns.
        self.text_span = columns
        self.rows = 0
        self.has_chart = False
        self.heights: list[float] = []  # every row's height in points, for page breaks
        self.cached: dict[str, float | int | str | None] = {}  # formula cell -> its value
        # Print only rows 1..n (a sheet kept in the workbook for filtering, not for paper).
        self.print_rows_only: int | None = None
        self._heights: dict[float, dict[str, str]] = {}
        self._empty: dict[str, Cell] = {}  # style -> a shared empty cell of that style
        # Appended rows go through a faster copy of openpyxl's own row conversion.
        ws._values_to_row = MethodType(_values_to_row, ws)

    def add_chart(self, chart: BarChart) -> None:
        """Place a chart two rows below the last row written: on the same page when it
        fits there whole (no half-empty page), else on a page of its own, so a table
        never cuts it in two when printed."""
        chart_pt = float(chart.height) / 2.54 * 72
        if sum(self.heights) + 2 * LINE_HEIGHT + chart_pt > self.printable_height():
            self.page_break()
        self.ws.add_chart(chart, f"A{self.rows + 3}")
        self.has_chart = True

    def _set_height(self, row: int, height: float) -> None:
        """Give ``row`` a fixed height, sharing one attribute mapping per distinct height.

        The write-only writer only reads a row's dimension as the attributes of its
        ``<row>`` element (``attrs.update(dims.get(row))``); a RowDimension costs ~40 µs to
        build and ~15 µs to iterate for every row, so each distinct height gets one plain
        mapping of the same attributes, shared by every row of that height.
        """
        attributes = self._heights.get(height)
        if attributes is None:
            dimension = RowDimension(self.ws, index=row, ht=height, customHeight=True)
            attributes = self._heights[height] = dict(dimension)
        self.ws.row_dimensions[row] = attributes

    def merge(self, first_col: int, first_row: int, last_col: int, last_row: int) -> None:
        """Merge a range of cells (never overlapping another: openpyxl's own check of that
        compares the range with every range merged before, quadratic on big sheets)."""
        self.ws.merged_cells.ranges.add(
            CellRange(min_col=first_col, min_row=first_row, max_col=last_col, max_row=last_row)
        )

    def cell(self, value: Any, style: str | None, number_format: str | None = None) -> Any:
        """A cell for ``value``: plain values stay plain (fast); text is made safe."""
        if isinstance(value, Formula):
            cell = self.book.new_cell(
                self.ws, self.book.style(style or "text", number_format=number_format)
            )
            cell.value = value.text
            cell.data_type = "f"
            return cell
        if isinstance(value, str):
            value = clean(value)
            if len(value) > EXCEL_CELL_LIMIT:
                value = value[: EXCEL_CELL_LIMIT - 1] + "…"
            risky = value.startswith(_FORMULA_LIKE) or value in ERROR_CODES
            if risky or style:
                cell = self.book.new_cell(self.ws, self.book.style(style or "text", quote=risky))
                cell.value = value
                cell.data_type = "s"  # never a formula or an error value
                return cell
            return value
        if style is None:
            return value
        if value is None and number_format is None:
            # An empty cell drawn for its borders and fill: openpyxl writes each appended
            # row at once, so one such cell per style serves every row.
            empty = self._empty.get(style)
            if empty is None:
                empty = self._empty[style] = self.book.new_cell(self.ws, self.book.style(style))
            return empty
        cell = self.book.new_cell(self.ws, self.book.style(style, number_format=number_format))
        cell.value = value
        return cell

    def row(
        self,
        values: Iterable[Any] = (),
        style: str | None = None,
        *,
        height: float | None = None,
        measure: bool = True,
    ) -> int:
        """Append one row; ``Styled`` items override the row's style. Returns its number.

        Wrapped text gets a row tall enough for it (measured, :func:`wrapped_lines`) unless
        ``measure`` is False: the caller has measured, e.g. for cells merged down rows."""
        self.rows += 1
        cells = []
        lines = 1
        for column, value in enumerate(values, start=1):
            name = value.style if isinstance(value, Styled) else style
            content = value.value if isinstance(value, Styled) else value
            number_format = value.number_format if isinstance(value, Styled) else None
            if isinstance(content, Formula):
                self.cached[f"{get_column_letter(column)}{self.rows}"] = content.cached
            cells.append(self.cell(content, name, number_format))
            if (
                measure
                and name in _WRAPPING
                and isinstance(content, str | CellRichText)
                and content
            ):
                width = self._width(column)
                lines = max(lines, wrapped_lines(clean(str(content)), width, bold=name in _BOLD))
        if height is None and lines > 1:
            height = lines * LINE_HEIGHT + 3
        if height is not None:
            self._set_height(self.rows, height)
        self.heights.append(height or LINE_HEIGHT)
        self.ws.append(cells)
        return self.rows

    def page_break(self) -> None:
        """Start a new printed page after the last row written."""
        self.ws.row_breaks.append(Break(id=self.rows))

    def printable_height(self) -> float:
        """Points of rows that fit one printed page (titles repeat on each)."""
        # The page header and footer print inside the margins (measured in LibreOffice
        # PDFs: 491 of the 494 pt between the margins of A4 landscape hold rows).
        usable = self.paper.height_pt - 8
        if not self.fit:
            return usable
        scale = min(1.0, self.paper.width_pt / max(1.0, columns_pt(self._widths())))
        return usable / scale

    def _widths(self) -> list[float]:
        return [self._width(c) for c in range(1, self.columns + 1)]

    def _width(self, column: int) -> float:
        width = self.ws.column_dimensions[get_column_letter(column)].width
        return float(width or 8.43)

    def plain_rows(
        self,
        rows: Iterable[Sequence[Any]],
        wrap_columns: Sequence[int] = (),
        number_columns: Sequence[int] = (),
    ) -> None:
        """The fast path for big tables: plain values, text made safe, long text wrapped,
        numbers in ``number_columns`` (0-based) with the thousands separator.

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
        numeric = set(number_columns)
        number_style = self.book.style("plain_number")
        new_cell = self.book.new_cell
        number_cells: dict[int, Cell] = {}
        for values in rows:
            number += 1
            out = list(values)
            lines = 1
            for index, value in enumerate(out):
                if value.__class__ is not str:
                    if index in numeric and value is not None:
                        # openpyxl writes each appended row at once, so one styled cell
                        # per column serves every row (only its value changes).
                        styled = number_cells.get(index)
                        if styled is None:
                            styled = number_cells[index] = new_cell(self.ws, number_style)
                        styled.value = value
                        out[index] = styled
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
        self.heights.extend([LINE_HEIGHT] * (number - len(self.heights)))

    def blank(self, count: int = 1) -> None:
        for _ in range(count):
            self.row([])

    def title_block(self, title: str, subtitle: str) -> None:
        """Title, subtitle and — when the data are incomplete — the LUONNOS line."""
        if self.text_span < self.columns:  # printed in pages of columns: wrap, never clip
            self.note(title, "title_wrap")
            self.note(subtitle, "subtitle_wrap")
        else:
            self.row([Styled(title, "title")], height=22)
            self.row([Styled(subtitle, "subtitle")])
        if self.book.draft:
            self.note(self.book.draft_note, "draft")
        else:
            self.blank()

    def note_height(self, text: str, style: str = "note") -> float:
        """The height (pt) :meth:`note` gives ``text``."""
        size = _STYLES[style][0].get("size", 10)
        width = sum(self._width(c) for c in range(1, self.text_span + 1)) * 10 / size
        lines = wrapped_lines(clean(text), width, bold=style in _BOLD)
        return max(1, lines) * LINE_HEIGHT * size / 10 + 3

    def note(self, text: str, style: str = "note") -> int:
        """A line of text across the whole sheet width, wrapped inside it.

        A long unwrapped text would spill over empty cells to the right; LibreOffice then
        counts the spill as part of the page and shrinks the whole sheet to fit it. Merging
        the row over the sheet's columns and wrapping keeps the text inside the print width.
        """
        text = clean(text)
        span = self.text_span
        number = self.row([Styled(text, style)], height=self.note_height(text, style))
        if span > 1:
            self.merge(1, number, span, number)
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


_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)><f>([^<]*)</f><v\s*>\s*</v></c>')


def _cache_values(values: Mapping[str, float | int | str | None]) -> Callable[[bytes], bytes]:
    """A rewrite of a sheet's XML that adds each formula's computed value (``<v>``).

    openpyxl writes formulas with an empty value; a viewer that does not recalculate
    would show an empty cell.
    """

    def fix(data: bytes) -> bytes:
        def one(match: re.Match[bytes]) -> bytes:
            ref = match.group(1).decode("ascii")
            if ref not in values or values[ref] is None:
                return match.group(0)
            value = values[ref]
            attrs = match.group(2)
            if isinstance(value, str):
                text = escape(value).encode("utf-8")
                attrs += b' t="str"'
            else:
                text = repr(float(value) if isinstance(value, float) else int(value)).encode()  # type: ignore[arg-type]
            return b'<c r="%s"%s><f>%s</f><v>%s</v></c>' % (
                match.group(1),
                attrs,
                match.group(3),
                text,
            )

        return _FORMULA_CELL.sub(one, data)

    return fix


class _StyledCell(Cell):  # type: ignore[misc]  # openpyxl has no type hints
    """A cell whose style id was computed once for its style (see :meth:`Book.new_cell`)."""

    __slots__ = ("_sid",)

    @property
    def style_id(self) -> int:
        return self._sid


def _values_to_row(self: WriteOnlyWorksheet, values: Iterable[Any], row_idx: int) -> Any:
    """openpyxl's ``WriteOnlyWorksheet._values_to_row`` without its slow path for cells.

    openpyxl first assigns every value to a reused plain cell and, for a ready-made
    styled cell, catches the ValueError that raises (formatting the cell's repr for the
    message): about 10 µs per styled cell. Here a ready-made cell is recognised first.
    """
    cell = WriteOnlyCell(self)
    for col_idx, value in enumerate(values, 1):
        if value is None:
            continue
        if isinstance(value, Cell):
            value.column = col_idx
            value.row = row_idx
            yield value
            continue
        cell.value = value
        cell.column = col_idx
        cell.row = row_idx
        yield cell

"""Shared Word machinery: an A4 document with the city's look, safe text, simple tables.

python-docx starts from a US-Letter template with theme fonts; every document here is
switched to A4 on every section and to explicit Arial (theme fonts would be replaced by
whatever the reader's Office theme says, which moves page breaks — and the instructions
must stay within one page per metric). Only styles that exist in python-docx's default
template are used, so a missing style can never raise ``KeyError``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import weakref
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from docgen.context import Context
from docgen.fmt import clean
from docgen.packaging import core_properties, normalize_zip

FONT = "Arial"
DARK = RGBColor(0x0F, 0x3D, 0x7A)
RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x55, 0x55, 0x55)
HEADER_FILL = "0F3D7A"
LANGUAGE = "fi-FI"
TEXT_WIDTH_MM = 165  # A4 210 mm minus 25 mm left and 20 mm right margins

_PAGE_FIELDS = {"{page}": "PAGE", "{pages}": "NUMPAGES"}
_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def new_document(
    ctx: Context, title: str, *, body_size: float = 10.5, created: dt.datetime | None = None
) -> DocxDocument:
    """An empty A4 document with fixed properties (title, the unit as author, no generator
    text); ``created`` defaults to the build date."""
    doc = Document()
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width = Mm(210)
        section.page_height = Mm(297)
        section.left_margin = Mm(25)
        section.right_margin = Mm(20)
        section.top_margin = Mm(20)
        section.bottom_margin = Mm(18)
        section.header_distance = Mm(9)
        section.footer_distance = Mm(8)
    _styles(doc, body_size)
    core_properties(
        doc.core_properties,
        title=clean(title),
        author=ctx.wording.text("common.author"),
        created=created or ctx.created,
    )
    return doc


def _set_font(element_rpr: object, size: float | None = None) -> None:
    """Explicit Arial on a style's run properties, dropping the theme-font references."""
    rpr = element_rpr
    fonts = rpr.find(qn("w:rFonts"))  # type: ignore[attr-defined]
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)  # type: ignore[attr-defined]
    for attr in _THEME_ATTRS:
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _set_language(rpr: object) -> None:
    """Finnish as the text language, so Word checks the spelling as Finnish."""
    lang = rpr.find(qn("w:lang"))  # type: ignore[attr-defined]
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)  # type: ignore[attr-defined]
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE)


def _styles(doc: DocxDocument, body_size: float) -> None:
    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _set_font(rpr)
            _set_language(rpr)
    normal = styles["Normal"]
    normal.font.size = Pt(body_size)
    _set_font(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.08
    sizes = {"Title": 16, "Heading 1": 14, "Heading 2": 12, "Heading 3": 11}
    for name, size in sizes.items():
        style = styles[name]
        _set_font(style.element.get_or_add_rPr())
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = DARK
        style.paragraph_format.space_before = Pt(8 if name != "Title" else 0)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    for name in ("List Number", "List Bullet", "Caption", "Header", "Footer", "Table Grid"):
        _set_font(styles[name].element.get_or_add_rPr())
    caption = styles["Caption"]
    caption.font.size = Pt(9)
    caption.font.bold = False
    caption.font.italic = True
    caption.font.color.rgb = GREY
    # A caption belongs to the table under it: never the last line of a page.
    caption.paragraph_format.keep_with_next = True
    for name in ("List Number", "List Bullet"):
        styles[name].paragraph_format.space_after = Pt(2)


def page_header(ctx: Context, doc: DocxDocument, left: str, *, draft: bool | None = None) -> None:
    """Organisation line on the left and the page number "1 (4)" on the right, as the
    city's agenda pages have it; the LUONNOS mark on a line of its own when ``draft``
    (default: the data is incomplete)."""
    section = doc.sections[0]
    paragraph = section.header.paragraphs[0]
    paragraph.text = ""
    stops = paragraph.paragraph_format.tab_stops
    # The template's Header style has Letter-size centre and right stops; clear them so the
    # page number lands at the right margin of A4.
    for inherited in (Inches(3.25), Inches(6.5)):
        stops.add_tab_stop(inherited, WD_TAB_ALIGNMENT.CLEAR)
    stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    run = paragraph.add_run(clean(left) + "\t")
    run.font.size = Pt(9)
    run.font.color.rgb = GREY
    pattern = ctx.base_wording.text("common.page_number")
    for part in re.split(r"(\{pages?\})", pattern):
        if part in _PAGE_FIELDS:
            _field(paragraph, _PAGE_FIELDS[part])
        elif part:
            paragraph.add_run(part).font.size = Pt(9)
    if ctx.draft if draft is None else draft:
        mark_line = section.header.add_paragraph()
        mark_line.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        mark = mark_line.add_run(ctx.wording.text("common.draft_mark"))
        mark.font.bold = True
        mark.font.size = Pt(14)
        mark.font.color.rgb = RED


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) with a placeholder result; Word and LibreOffice update it."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "18")
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def para(
    doc: DocxDocument,
    text: str = "",
    style: str | None = None,
    *,
    bold: bool = False,
    color: RGBColor | None = None,
    size: float | None = None,
    space_after: float | None = None,
) -> Paragraph:
    """A paragraph of cleaned text (control characters would make python-docx raise)."""
    paragraph = doc.add_paragraph()
    if style:
        set_style(doc, paragraph, style)
    if text:
        run = paragraph.add_run(clean(text))
        run.bold = bold or None
        if color is not None:
            run.font.color.rgb = color
        if size is not None:
            run.font.size = Pt(size)
    if space_after is not None:
        paragraph.paragraph_format.space_after = Pt(space_after)
    return paragraph


def set_style(doc: DocxDocument, paragraph: Paragraph, name: str) -> None:
    """Apply a paragraph style by name, resolving the name to its id once per document.

    ``paragraph.style = name`` makes python-docx scan all ~160 styles of its template twice
    per call (to map the name and to check for the default style): a third of a document's
    build time. The id is looked up once and written directly.
    """
    ids = _style_ids(doc)
    style_id = ids.get(name)
    if style_id is None:
        style_id = ids[name] = doc.styles[name].style_id
    paragraph._p.style = style_id


def heading(doc: DocxDocument, text: str, level: int) -> Paragraph:
    """A heading paragraph ("Heading 1" …), the fast way (see :func:`set_style`)."""
    return para(doc, text, f"Heading {level}")


_IDS: weakref.WeakKeyDictionary[object, dict[str, str]] = weakref.WeakKeyDictionary()


def _style_ids(doc: DocxDocument) -> dict[str, str]:
    """The document's name → id cache, kept as long as the document's part lives."""
    found = _IDS.get(doc.part)
    if found is None:
        found = _IDS[doc.part] = {}
    return found


def numbered(doc: DocxDocument, items: Sequence[str]) -> None:
    """A numbered list that restarts at 1 for each call.

    The template's "List Number" style shares one numbering across the whole document (a
    second list would continue from 7), so the numbers are written out with a hanging
    indent instead.
    """
    for number, item in enumerate(items, start=1):
        paragraph = doc.add_paragraph()
        fmt = paragraph.paragraph_format
        fmt.left_indent = Mm(6.5)
        fmt.first_line_indent = Mm(-6.5)
        fmt.space_after = Pt(2)
        fmt.tab_stops.add_tab_stop(Mm(6.5))
        paragraph.add_run(f"{number}.\t{clean(item)}")


def hanging(doc: DocxDocument, text: str, indent_mm: float = 6.5) -> Paragraph:
    """A list item written out as ``1) text`` with a hanging indent (the label is the text
    up to the first space), so a wrapped line starts under the text, not under "1)"."""
    label, _, rest = clean(text).partition(" ")
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.left_indent = Mm(indent_mm)
    fmt.first_line_indent = Mm(-indent_mm)
    fmt.space_after = Pt(2)
    fmt.tab_stops.add_tab_stop(Mm(indent_mm))
    paragraph.add_run(f"{label}\t{rest}")
    return paragraph


def labelled(doc: DocxDocument, label: str, text: str) -> Paragraph:
    """``Mittarin lähtötaso:`` in bold followed by the text, in one paragraph."""
    paragraph = doc.add_paragraph()
    paragraph.add_run(clean(label) + " ").bold = True
    paragraph.add_run(clean(text))
    return paragraph


def draft_note(ctx: Context, doc: DocxDocument) -> None:
    if ctx.draft:
        para(doc, ctx.draft_note(), bold=True, color=RED)


def table(
    doc: DocxDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_mm: Sequence[float],
    *,
    size: float = 9,
    bold_last: bool | int = False,
    right: Sequence[int] = (),
) -> Table:
    """A bordered table with a dark header row; every cell's text is cleaned. Columns
    listed in ``right`` (0-based) hold numbers and are right-aligned; ``bold_last``: the last
    row (or that many last rows) in bold, the totals.

    Widths are set on every cell because Word ignores column widths alone, and the table
    is not autofitted, so it never runs past the A4 margins.
    """
    result = doc.add_table(rows=1 + len(rows), cols=len(header))
    result.style = doc.styles["Table Grid"]
    result.alignment = WD_TABLE_ALIGNMENT.LEFT
    result.autofit = False
    for c_index, column in enumerate(result.columns):
        column.width = Mm(widths_mm[c_index])  # the grid: what LibreOffice reads
    for r_index, values in enumerate([header, *rows]):
        row = result.rows[r_index]
        if r_index == 0:
            _repeat_header(row._tr)
        for c_index, value in enumerate(values):
            cell = row.cells[c_index]
            cell.width = Mm(widths_mm[c_index])
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            if r_index < len(rows):  # a short table stays on one page with its caption
                paragraph.paragraph_format.keep_with_next = True
            if c_index in right:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = paragraph.add_run(clean(value))
            run.font.size = Pt(size)
            if r_index == 0:
                run.bold = True
                run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
                _shade(cell._tc, HEADER_FILL)
            elif bold_last and r_index > len(rows) - int(bold_last):
                run.bold = True
    return result


def _shade(tc: object, fill: str) -> None:
    tcpr = tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tcpr.append(shading)


def _repeat_header(tr: object) -> None:
    trpr = tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def save(doc: DocxDocument) -> bytes:
    """The document's bytes with fixed zip entry times (see ``docgen.packaging``)."""
    buffer = io.BytesIO()
    doc.save(buffer)
    return normalize_zip(buffer.getvalue())

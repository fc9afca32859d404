"""Reading generated documents back, the way a user's Office would see their text."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
import openpyxl
import pptx
from docx.table import Table
from docx.text.paragraph import Paragraph

from docgen import GeneratedDocument


def docx_blocks(content: bytes) -> list[tuple[str, str]]:
    """(style name, text) of every body paragraph and table cell, in document order."""
    document = docx.Document(io.BytesIO(content))
    blocks: list[tuple[str, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            blocks.append((item.style.name if item.style else "", item.text))
        elif isinstance(item, Table):
            for row in item.rows:
                for cell in row.cells:
                    blocks.append(("table", cell.text))
    return blocks


def docx_text(content: bytes) -> str:
    """Body and page-header text of a .docx."""
    document = docx.Document(io.BytesIO(content))
    header = "\n".join(p.text for section in document.sections for p in section.header.paragraphs)
    return header + "\n" + "\n".join(text for _style, text in docx_blocks(content))


def xlsx_text(content: bytes) -> str:
    """Every cell value and every sheet's print header of an .xlsx."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    parts = []
    for ws in workbook.worksheets:
        parts.append(ws.oddHeader.center.text or "")
        for row in ws.iter_rows(values_only=True):
            parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts)


def pptx_text(content: bytes) -> str:
    presentation = pptx.Presentation(io.BytesIO(content))
    return "\n".join(_shape_texts(presentation))


def _shape_texts(presentation: pptx.presentation.Presentation) -> Iterator[str]:
    for slide in presentation.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                yield shape.text_frame.text
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    for cell in row.cells:
                        yield cell.text


def text_of(doc: GeneratedDocument) -> str:
    """The readable text of any generated document (a zip: of everything in it)."""
    if doc.filename.endswith(".docx"):
        return docx_text(doc.content)
    if doc.filename.endswith(".xlsx"):
        return xlsx_text(doc.content)
    if doc.filename.endswith(".pptx"):
        return pptx_text(doc.content)
    if doc.filename.endswith(".txt"):
        return doc.content.decode("utf-8")
    if doc.filename.endswith(".pdf"):
        return ""
    with zipfile.ZipFile(io.BytesIO(doc.content)) as archive:
        return "\n".join(
            text_of(GeneratedDocument(name, archive.read(name), "", ""))
            for name in archive.namelist()
        )


def workbook(doc: GeneratedDocument, *, cached: bool = False) -> openpyxl.Workbook:
    """The workbook; ``cached=True`` reads formulas' stored values, as a viewer that does
    not recalculate (previews, phones) shows them."""
    return openpyxl.load_workbook(io.BytesIO(doc.content), data_only=cached)

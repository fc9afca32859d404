"""Ohjeet (.docx): the separate instructions, at most one A4 page per metric.

Page 1 is the participation metric, page 2 customer experience; a page break separates
them so each can be printed or forwarded alone. Each page says what is measured, how to
report it with the bot, and the year's deadlines from the calendar. The one-page limit
comes from the source's schedule slide; the tests check it by converting to PDF.

The instructions do not depend on the data and go out before reporting starts: they are
never marked LUONNOS for incomplete data, and they are dated (page header, file name,
properties) by the release day set in config.yaml (``list_text.instructions_date``).
"""

from __future__ import annotations

import datetime as dt

from docx.document import Document as DocxDocument
from docx.enum.text import WD_BREAK

from docgen.context import MIME, Context, GeneratedDocument
from docgen.docx_util import heading, new_document, numbered, page_header, para, save, table
from docgen.fmt import clean, fi_date, lower_first

BODY_SIZE = 10.0


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    title = w.text("ohjeet.document_title")
    released = dt.datetime.combine(ctx.instructions_day, dt.time(0, 0))
    doc = new_document(ctx, title, body_size=BODY_SIZE, created=released)
    header = w.text("ohjeet.page_header", title=title, release_date=fi_date(ctx.instructions_day))
    page_header(ctx, doc, header, draft=False)
    _osallisuus(ctx, doc)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _asiakaskokemus(ctx, doc)
    return GeneratedDocument(
        filename=ctx.filename("ohjeet", "docx"),
        content=save(doc),
        mime_type=MIME["docx"],
        title=title,
    )


def _heading(doc: DocxDocument, text: str, level: int) -> None:
    heading(doc, text, level)


def _steps(doc: DocxDocument, steps: list[str], style: str = "List Bullet") -> None:
    for step in steps:
        para(doc, step, style)


def _osallisuus(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(doc, w.text("ohjeet.osallisuus.title"), 1)
    _heading(doc, w.text("ohjeet.osallisuus.what_heading"), 3)
    para(doc, w.text("ohjeet.osallisuus.what"), space_after=3)
    rows = [
        [
            f"{level.number} {clean(level.name.fi)}",
            clean(level.description.fi),
            examples_text([clean(m.name.fi) for m in level.examples]),
        ]
        for level in ctx.snapshot.levels
    ]
    table(doc, w.texts("ohjeet.osallisuus.levels_columns"), rows, [38.0, 62.0, 65.0], size=9)
    _heading(doc, w.text("ohjeet.osallisuus.how_heading"), 3)
    numbered(doc, w.texts("ohjeet.osallisuus.how"))
    _heading(doc, w.text("ohjeet.osallisuus.tips_heading"), 3)
    _steps(
        doc,
        w.texts(
            "ohjeet.osallisuus.tips",
            definition_tapa=w.text("definitions.tapa"),
            definition_lkm=w.text("definitions.lkm"),
        ),
    )
    _deadlines_and_contact(ctx, doc)


def _asiakaskokemus(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(doc, w.text("ohjeet.asiakaskokemus.title"), 1)
    _heading(doc, w.text("ohjeet.asiakaskokemus.what_heading"), 3)
    para(doc, w.text("ohjeet.asiakaskokemus.what"))
    _heading(doc, w.text("ohjeet.asiakaskokemus.types_heading"), 3)
    _steps(doc, w.texts("ohjeet.asiakaskokemus.types"))
    _heading(doc, w.text("ohjeet.asiakaskokemus.nps_heading"), 3)
    para(doc, w.text("ohjeet.asiakaskokemus.nps"))
    _heading(doc, w.text("ohjeet.asiakaskokemus.how_heading"), 3)
    numbered(doc, w.texts("ohjeet.asiakaskokemus.how"))
    _deadlines_and_contact(ctx, doc)


def examples_text(names: list[str]) -> str:
    """``Tiedotustilaisuudet, asiakasneuvontakanavat, kyselyt``: a list that starts a
    cell, so only its first word keeps its capital (names like OmaStadi keep theirs)."""
    if not names:
        return "–"
    return ", ".join([names[0], *(lower_first(name) for name in names[1:])])


def reporting_deadline(ctx: Context) -> dt.date | None:
    """The divisions' own deadline: a set number of days before a calendar deadline."""
    rule = ctx.base_wording.raw("ohjeet.reporting_deadline")
    day = ctx.deadline(str(rule.get("code", "")))
    if day is None:
        return None
    return day - dt.timedelta(days=int(rule.get("days_before", 0)))


def _deadlines_and_contact(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(doc, w.text("ohjeet.deadlines_heading"), 3)
    own = reporting_deadline(ctx)
    if own is not None:
        para(doc, w.text("ohjeet.reporting_deadline_line", date=fi_date(own)), bold=True)
    titles = w.mapping("ohjeet.deadline_titles")
    for deadline, day in ctx.settings.calendar.dates_for(ctx.year):
        title = titles.get(deadline.code) or clean(deadline.title.get("fi"))
        para(doc, w.text("ohjeet.deadline_line", date=fi_date(day), title=title), "List Bullet")
    contact = ctx.settings.list_text.contact
    _heading(doc, w.text("ohjeet.contact_heading"), 3)
    para(
        doc,
        w.text(
            "ohjeet.contact",
            name=contact.name,
            title=contact.title,
            phone=contact.phone,
            email=contact.email,
        ),
    )

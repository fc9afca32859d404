"""Johtoryhmän diat (.pptx): one slide per metric on where preparation stands.

The management group sees, per metric: reporting coverage per division (how many service
entities have answered, the report's state), the key numbers so far, and the next steps
from the year's calendar. Slides are A4 landscape so they print like every other
document, and are drawn on the blank layout: the template's placeholders are positioned
for 4:3 and would land in the wrong places on A4.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.presentation import Presentation as PptxPresentation
from pptx.slide import Slide
from pptx.util import Mm, Pt

from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean, fi_date, fi_int, fi_percent, fi_signed
from docgen.packaging import fixed_core_dates, normalize_zip

FONT = "Arial"
DARK = RGBColor(0x0F, 0x3D, 0x7A)
RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x55, 0x55, 0x55)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
BLACK = RGBColor(0, 0, 0)
LIGHT = RGBColor(0xE6, 0xEE, 0xF8)
BLANK_LAYOUT = 6
SERIES_COLOURS = ("0F3D7A", "4A90C8", "9BC3E6", "F5A623", "7F7F7F", "2E8B57")


class _FixedChartData(CategoryChartData):
    """Chart data whose embedded workbook carries a fixed creation time.

    python-pptx writes the data behind a native chart as an xlsx through XlsxWriter, which
    stamps ``docProps/core.xml`` with the current time; the stamp is replaced here so the
    presentation stays byte-identical for identical data.
    """

    def __init__(self, created: str) -> None:
        super().__init__(number_format="0")
        self._created = created

    @property
    def xlsx_blob(self) -> bytes:
        blob = super().xlsx_blob
        return normalize_zip(blob, {"docProps/core.xml": fixed_core_dates(self._created)})


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    title = w.text("dia.document_title")
    prs = Presentation()
    prs.slide_width = Mm(297)
    prs.slide_height = Mm(210)
    props = prs.core_properties
    props.title = clean(title)
    props.author = w.text("common.author")
    props.last_modified_by = props.author
    props.language = "fi-FI"
    props.created = ctx.created
    props.modified = ctx.created
    props.last_printed = ctx.created
    props.revision = 1
    _osallisuus(ctx, prs)
    _asiakaskokemus(ctx, prs)
    buffer = io.BytesIO()
    prs.save(buffer)
    return GeneratedDocument(
        filename=ctx.filename("dia", "pptx"),
        content=normalize_zip(buffer.getvalue()),
        mime_type=MIME["pptx"],
        title=title,
    )


# --- drawing helpers ---------------------------------------------------------------------


def _text(
    slide: Slide,
    x: float,
    y: float,
    width: float,
    height: float,
    lines: Sequence[str],
    *,
    size: float = 14,
    bold: bool = False,
    color: RGBColor = BLACK,
    bullets: bool = False,
    align: PP_ALIGN = PP_ALIGN.LEFT,
) -> None:
    """A text box (mm) with one paragraph per line; text is cleaned and wraps."""
    box = slide.shapes.add_textbox(Mm(x), Mm(y), Mm(width), Mm(height))
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.TOP
    frame.margin_left = frame.margin_right = Mm(1)
    for index, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = align
        paragraph.space_after = Pt(4)
        run = paragraph.add_run()
        run.text = ("• " if bullets else "") + clean(line)
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = color


def _heading(slide: Slide, x: float, y: float, width: float, text: str) -> None:
    _text(slide, x, y, width, 9, [text], size=15, bold=True, color=DARK)


def _table(
    slide: Slide, x: float, y: float, widths: Sequence[float], rows: Sequence[Sequence[str]]
) -> None:
    """A table whose first row is the header; row height fits 12 pt text."""
    height = 8.0 * len(rows)
    shape = slide.shapes.add_table(
        len(rows), len(widths), Mm(x), Mm(y), Mm(sum(widths)), Mm(height)
    )
    table = shape.table
    for c_index, width in enumerate(widths):
        table.columns[c_index].width = Mm(width)
    for r_index, values in enumerate(rows):
        table.rows[r_index].height = Mm(8)
        for c_index, value in enumerate(values):
            cell = table.cell(r_index, c_index)
            cell.margin_top = cell.margin_bottom = Mm(0.8)
            cell.fill.solid()
            cell.fill.fore_color.rgb = DARK if r_index == 0 else (LIGHT if r_index % 2 else WHITE)
            frame = cell.text_frame
            frame.word_wrap = True
            run = frame.paragraphs[0].add_run()
            run.text = clean(value)
            run.font.name = FONT
            run.font.size = Pt(12)
            run.font.bold = r_index == 0
            run.font.color.rgb = WHITE if r_index == 0 else RGBColor(0, 0, 0)


def _frame(ctx: Context, prs: PptxPresentation, metric_key: str, number: int) -> Slide:
    """A blank slide with the title, the LUONNOS mark (drafts) and the footer."""
    w = ctx.wording
    slide = prs.slides.add_slide(prs.slide_layouts[BLANK_LAYOUT])
    title = w.text("dia.title", metric=w.text(f"metrics.{metric_key}.name"))
    _text(slide, 15, 9, 210, 14, [title], size=22, bold=True, color=DARK)
    _text(slide, 15, 23, 210, 9, [w.text("dia.subtitle")], size=14, color=GREY)
    if ctx.draft:
        _text(
            slide,
            222,
            9,
            60,
            12,
            [w.text("common.draft_mark")],
            size=22,
            bold=True,
            color=RED,
            align=PP_ALIGN.RIGHT,
        )
    _text(slide, 15, 196, 200, 8, [w.text("dia.footer")], size=9, color=GREY)
    _text(slide, 252, 196, 30, 8, [f"{number}/2"], size=9, color=GREY, align=PP_ALIGN.RIGHT)
    return slide


def _coverage(ctx: Context, slide: Slide, counts: dict[str, tuple[int, int]]) -> None:
    w = ctx.wording
    _heading(slide, 15, 36, 120, w.text("dia.coverage_heading"))
    rows: list[list[str]] = [w.texts("dia.coverage_columns")]
    for division in ctx.snapshot.divisions:
        done, total = counts.get(division.code, (0, 0))
        status = ctx.snapshot.status(division.code)
        rows.append(
            [
                division.code,
                w.text("dia.coverage_cell", done=done, total=total),
                ctx.state_name(status.state) if status else "–",
            ]
        )
    _table(slide, 15, 46, [30, 40, 55], rows)


def _next_steps(ctx: Context, slide: Slide) -> None:
    w = ctx.wording
    lines = [
        w.text("dia.next_line", date=fi_date(day), title=title)
        for title, day in ctx.deadlines()
        if day >= ctx.today
    ]
    lines.append(w.text("dia.next_after"))
    top = 46 + 8 * (len(ctx.snapshot.divisions) + 1) + 8
    _heading(slide, 15, top, 125, w.text("dia.next_heading"))
    _text(slide, 15, top + 10, 125, 192 - top - 10, lines, size=12, bullets=True)


def _chart(
    ctx: Context,
    slide: Slide,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    stacked: bool,
    colours: Sequence[str] = SERIES_COLOURS,
) -> None:
    """A native, editable column chart in the lower right of the slide."""
    if not categories or not any(value for _name, values in series for value in values):
        return  # an all-zero chart says nothing the "no data" line does not
    data = _FixedChartData(ctx.created.strftime("%Y-%m-%dT%H:%M:%SZ"))
    data.categories = list(categories)
    for name, values in series:
        data.add_series(clean(name), list(values))
    kind = XL_CHART_TYPE.COLUMN_STACKED if stacked else XL_CHART_TYPE.COLUMN_CLUSTERED
    frame = slide.shapes.add_chart(kind, Mm(150), Mm(100), Mm(132), Mm(90), data)
    chart = frame.chart
    chart.has_title = True
    chart.chart_title.text_frame.text = clean(title)
    title_font = chart.chart_title.text_frame.paragraphs[0].runs[0].font
    title_font.size = Pt(12)
    title_font.bold = True
    title_font.name = FONT
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(10)
    chart.font.size = Pt(10)
    chart.font.name = FONT
    for index, plot_series in enumerate(chart.plots[0].series):
        fill = plot_series.format.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor.from_string(colours[index % len(colours)])


# --- the two slides ----------------------------------------------------------------------


def _osallisuus(ctx: Context, prs: PptxPresentation) -> None:
    w = ctx.wording
    part = ctx.figures.participation
    slide = _frame(ctx, prs, "osallisuus", 1)
    counts = {
        s.division_code: (
            sum(1 for e in s.entities if e.participation_complete),
            len(s.entities),
        )
        for s in ctx.snapshot.progress
    }
    _coverage(ctx, slide, counts)
    _heading(slide, 150, 36, 132, w.text("dia.key_heading"))
    if ctx.snapshot.participation or ctx.snapshot.none_answers:
        level4 = part.by_level.get(4)
        keys = w.texts(
            "dia.osallisuus_keys",
            methods=fi_int(part.methods),
            count=fi_int(part.count),
            entities_with=part.entities_with,
            entities_total=part.entities_total,
            share=fi_percent(part.entities_with, part.entities_total),
            entities_all=part.entities_all_levels,
            level4=level4.entities if level4 else 0,
        )
    else:
        keys = [w.text("common.no_data")]
    _text(slide, 150, 46, 132, 52, keys, size=13, bullets=True)
    _next_steps(ctx, slide)
    divisions = [d.code for d in ctx.snapshot.divisions]
    word = w.text("common.levels_word")
    _chart(
        ctx,
        slide,
        w.text("dia.osallisuus_chart"),
        [f"{word} {lvl.number}" for lvl in ctx.snapshot.levels],
        [
            (
                code,
                [part.by_division_level[(code, lvl.number)].methods for lvl in ctx.snapshot.levels],
            )
            for code in divisions
        ],
        stacked=False,
    )


def _asiakaskokemus(ctx: Context, prs: PptxPresentation) -> None:
    w = ctx.wording
    sat = ctx.figures.satisfaction
    total = sat.total
    slide = _frame(ctx, prs, "asiakaskokemus", 2)
    counts = {
        s.division_code: (sum(1 for e in s.entities if e.satisfaction_mapped), len(s.entities))
        for s in ctx.snapshot.progress
    }
    _coverage(ctx, slide, counts)
    _heading(slide, 150, 36, 132, w.text("dia.key_heading"))
    if ctx.snapshot.satisfaction:
        nps_range = f"{fi_signed(total.nps_low)}…{fi_signed(total.nps_high)}" if total.nps else "–"
        top_types = ", ".join(clean(name) for name, _count in total.types[:3]) or "–"
        keys = w.texts(
            "dia.asiakaskokemus_keys",
            measuring=total.measuring,
            entities_total=total.entities,
            share=fi_percent(total.measuring, total.entities),
            not_measured=total.not_measured,
            unanswered=total.unanswered,
            nps_count=len(total.nps),
            nps_range=nps_range,
            top_types=top_types,
        )
    else:
        keys = [w.text("common.no_data")]
    _text(slide, 150, 46, 132, 52, keys, size=13, bullets=True)
    _next_steps(ctx, slide)
    divisions = [d.code for d in ctx.snapshot.divisions]
    by_division = [sat.by_division[code] for code in divisions]
    names = w.mapping("liite2.summary_columns")
    _chart(
        ctx,
        slide,
        w.text("dia.asiakaskokemus_chart"),
        divisions,
        [
            (names["measuring"], [d.measuring for d in by_division]),
            (names["not_measured"], [d.not_measured for d in by_division]),
            (names["unanswered"], [d.unanswered for d in by_division]),
        ],
        stacked=True,
        colours=("0F3D7A", "A6A6A6", "F5A623"),
    )

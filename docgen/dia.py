"""Johtoryhmän diat (.pptx): one 16:9 slide per metric on where preparation stands.

Each slide fills its four quarters: the metric in one line with its baseline, target and
status (top left), reporting per division with the same status words as Liite 1 (bottom
left), a native chart (top right) and the open questions for the management group
(bottom right). Body text is 18 pt or more and chart text 14 pt, so the slide reads on a
meeting-room screen. The title sits in the layout's real title placeholder (outline
view, accessibility), bullets are real bullets with a hanging indent, and every run is
marked Finnish for the spelling checker.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PptxPresentation
from pptx.slide import Slide
from pptx.text.text import _Paragraph
from pptx.util import Emu, Mm, Pt

from docgen import listateksti
from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean, fi_int
from docgen.packaging import core_properties, fixed_core_dates, normalize_zip

FONT = "Arial"
DARK = RGBColor(0x0F, 0x3D, 0x7A)
RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x55, 0x55, 0x55)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
BLACK = RGBColor(0, 0, 0)
LIGHT = RGBColor(0xE6, 0xEE, 0xF8)
TITLE_ONLY_LAYOUT = 5
LANGUAGE = "fi-FI"
WIDTH_MM, HEIGHT_MM = 338.67, 190.5  # 16:9, 13.333 × 7.5 in
BODY = 18.0  # pt, the smallest body text
CHART_TEXT = 14.0  # pt, the smallest chart text
# Where the chart goes (mm): tests check that text under 18 pt lies only in this frame.
CHART_FRAME = (176.0, 38.0, 152.0, 78.0)
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
    prs.slide_width = Mm(WIDTH_MM)
    prs.slide_height = Mm(HEIGHT_MM)
    # python-pptx's template calls the slide size "4:3" whatever its measures: no type
    # attribute means a custom size, which is what PowerPoint's 16:9 widescreen is.
    prs.part._element.find(qn("p:sldSz")).attrib.pop("type", None)
    core_properties(
        prs.core_properties, title=clean(title), author=w.text("common.author"), created=ctx.created
    )
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


def _run(
    paragraph: _Paragraph,
    text: str,
    size: float,
    *,
    bold: bool = False,
    color: RGBColor = BLACK,
) -> None:
    run = paragraph.add_run()
    run.text = clean(text)
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = color
    run.font._rPr.set("lang", LANGUAGE)


def _bullet(paragraph: _Paragraph, indent_mm: float = 6.0) -> None:
    """A real bullet with a hanging indent (wrapped lines start under the text)."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.set("marL", str(Emu(Mm(indent_mm))))
    ppr.set("indent", str(-Emu(Mm(indent_mm))))
    for tag in ("a:buNone", "a:buChar", "a:buFont"):
        for old in ppr.findall(qn(tag)):
            ppr.remove(old)
    font = ppr.makeelement(qn("a:buFont"), {"typeface": FONT})
    char = ppr.makeelement(qn("a:buChar"), {"char": "•"})
    ppr.append(font)
    ppr.append(char)


def _box(slide: Slide, x: float, y: float, width: float, height: float):  # type: ignore[no-untyped-def]
    box = slide.shapes.add_textbox(Mm(x), Mm(y), Mm(width), Mm(height))
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.TOP
    frame.margin_left = frame.margin_right = Mm(1)
    return frame


def _text(
    slide: Slide,
    x: float,
    y: float,
    width: float,
    height: float,
    lines: Sequence[str],
    *,
    size: float = BODY,
    bold: bool = False,
    color: RGBColor = BLACK,
    bullets: bool = False,
    align: PP_ALIGN = PP_ALIGN.LEFT,
) -> None:
    """A text box (mm) with one paragraph per line; text is cleaned and wraps."""
    frame = _box(slide, x, y, width, height)
    for index, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = align
        paragraph.space_after = Pt(6)
        if bullets:
            _bullet(paragraph)
        _run(paragraph, line, size, bold=bold, color=color)


def _labelled(
    slide: Slide, x: float, y: float, width: float, height: float, items: Sequence[tuple[str, str]]
) -> None:
    """Lines of a bold label and its text: "Tavoite: tavat laajasti käytössä …"."""
    frame = _box(slide, x, y, width, height)
    for index, (label, text) in enumerate(items):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(4)
        _run(paragraph, label + " ", BODY, bold=True, color=DARK)
        _run(paragraph, text, BODY)


def _table(
    slide: Slide, x: float, y: float, widths: Sequence[float], rows: Sequence[Sequence[str]]
) -> None:
    """A table whose first row is the header; rows fit 18 pt text."""
    row_height = 10.0
    shape = slide.shapes.add_table(
        len(rows), len(widths), Mm(x), Mm(y), Mm(sum(widths)), Mm(row_height * len(rows))
    )
    table = shape.table
    for c_index, width in enumerate(widths):
        table.columns[c_index].width = Mm(width)
    for r_index, values in enumerate(rows):
        table.rows[r_index].height = Mm(row_height)
        for c_index, value in enumerate(values):
            cell = table.cell(r_index, c_index)
            cell.margin_top = cell.margin_bottom = Mm(0.8)
            cell.fill.solid()
            cell.fill.fore_color.rgb = DARK if r_index == 0 else (LIGHT if r_index % 2 else WHITE)
            frame = cell.text_frame
            frame.word_wrap = True
            _run(
                frame.paragraphs[0],
                value,
                BODY,
                bold=r_index == 0,
                color=WHITE if r_index == 0 else BLACK,
            )


def _frame(ctx: Context, prs: PptxPresentation, metric_key: str) -> Slide:
    """A slide with the title in the layout's title placeholder, the status date and the
    LUONNOS mark (drafts)."""
    w = ctx.wording
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    title = slide.shapes.title
    assert title is not None
    title.left, title.top = Mm(12), Mm(5)
    title.width, title.height = Mm(250), Mm(16)
    frame = title.text_frame
    frame.word_wrap = True
    paragraph = frame.paragraphs[0]
    paragraph.alignment = PP_ALIGN.LEFT
    _run(
        paragraph,
        w.text("dia.title", metric=w.text(f"metrics.{metric_key}.name")),
        28,
        bold=True,
        color=DARK,
    )
    _text(slide, 12, 21, 250, 10, [w.text("dia.subtitle")], color=GREY)
    if ctx.draft:
        _text(
            slide,
            262,
            7,
            65,
            12,
            [w.text("common.draft_mark")],
            size=24,
            bold=True,
            color=RED,
            align=PP_ALIGN.RIGHT,
        )
    return slide


def _metric(ctx: Context, slide: Slide, key: str, status: str) -> None:
    """Top left: the metric in one line, baseline, target and status."""
    w = ctx.wording
    labels = w.mapping("dia.labels")
    _labelled(
        slide,
        12,
        34,
        158,
        88,
        [
            (labels["definition"], w.text(f"dia.{key}.definition")),
            (labels["baseline"], w.text(f"dia.{key}.baseline")),
            (labels["target"], w.text(f"dia.{key}.target")),
            (labels["status"], status),
        ],
    )


def _coverage(ctx: Context, slide: Slide, counts: dict[str, tuple[int, int]]) -> None:
    """Bottom left: answered / total per division and the status in Liite 1's words."""
    w = ctx.wording
    rows: list[list[str]] = [w.texts("dia.coverage_columns")]
    for division in ctx.snapshot.divisions:
        done, total = counts.get(division.code, (0, 0))
        status = (
            w.text("dia.status_done")
            if done == total
            else w.text("dia.status_missing", count=total - done, total=total)
        )
        rows.append([division.code, w.text("dia.coverage_cell", done=done, total=total), status])
    _table(slide, 12, 126, [40, 40, 78], rows[:7])


def _questions(ctx: Context, slide: Slide, key: str) -> None:
    """Bottom right: what the management group is asked to decide or comment on."""
    w = ctx.wording
    _text(slide, 176, 120, 152, 10, [w.text("dia.questions_heading")], bold=True, color=DARK)
    _text(slide, 176, 131, 152, 55, w.texts(f"dia.{key}.questions"), bullets=True)


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
    """Top right: a native, editable column chart; its text is 14 pt or more."""
    x, y, width, height = CHART_FRAME
    if not categories or not any(value for _name, values in series for value in values):
        _text(slide, x, y, width, 20, [ctx.wording.text("common.no_data")])
        return
    data = _FixedChartData(ctx.created.strftime("%Y-%m-%dT%H:%M:%SZ"))
    data.categories = list(categories)
    for name, values in series:
        data.add_series(clean(name), list(values))
    kind = XL_CHART_TYPE.COLUMN_STACKED if stacked else XL_CHART_TYPE.COLUMN_CLUSTERED
    frame = slide.shapes.add_chart(kind, Mm(x), Mm(y), Mm(width), Mm(height), data)  # type: ignore[arg-type]
    chart = frame.chart  # type: ignore[attr-defined]
    chart.has_title = True
    chart.chart_title.text_frame.text = clean(title)
    title_font = chart.chart_title.text_frame.paragraphs[0].runs[0].font
    title_font.size = Pt(16)
    title_font.bold = True
    title_font.name = FONT
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(CHART_TEXT)
    chart.font.size = Pt(CHART_TEXT)
    chart.font.name = FONT
    chart.category_axis.tick_labels.font.size = Pt(CHART_TEXT)
    chart.value_axis.tick_labels.font.size = Pt(CHART_TEXT)
    for index, plot_series in enumerate(chart.plots[0].series):
        fill = plot_series.format.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor.from_string(colours[index % len(colours)])


# --- the two slides ----------------------------------------------------------------------


def _osallisuus(ctx: Context, prs: PptxPresentation) -> None:
    w = ctx.wording
    part = ctx.figures.participation
    slide = _frame(ctx, prs, "osallisuus")
    if ctx.snapshot.participation or ctx.snapshot.none_answers:
        status = w.text(
            "dia.osallisuus.status",
            entries=fi_int(part.methods),
            distinct=fi_int(part.distinct_methods()),
            entities_with=part.entities_with,
            entities_total=part.entities_total,
            entities_all=part.entities_all_levels,
        )
    else:
        status = w.text("common.no_data")
    _metric(ctx, slide, "osallisuus", status)
    counts = {
        s.division_code: (
            sum(1 for e in s.entities if e.participation_complete),
            len(s.entities),
        )
        for s in ctx.snapshot.progress
    }
    _coverage(ctx, slide, counts)
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
    _questions(ctx, slide, "osallisuus")


def _asiakaskokemus(ctx: Context, prs: PptxPresentation) -> None:
    w = ctx.wording
    sat = ctx.figures.satisfaction
    total = sat.total
    slide = _frame(ctx, prs, "asiakaskokemus")
    if ctx.snapshot.satisfaction:
        nps_range = listateksti.nps_range(total)
        status = w.text(
            "dia.asiakaskokemus.status",
            measuring=total.measuring,
            entities_total=total.entities,
            nps_count=len(total.nps),
            nps_range=nps_range,
        )
    else:
        status = w.text("common.no_data")
    _metric(ctx, slide, "asiakaskokemus", status)
    counts = {
        s.division_code: (sum(1 for e in s.entities if e.satisfaction_mapped), len(s.entities))
        for s in ctx.snapshot.progress
    }
    _coverage(ctx, slide, counts)
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
    _questions(ctx, slide, "asiakaskokemus")

"""Liite 2 — Asiakaskokemus / palvelutyytyväisyys (.xlsx).

Sheets:
1. *Yhteenveto*: per division — service entities, how many measure satisfaction and their
   share, how many answered "not measured" or not at all, NPS results and range, the
   measurement types in use — a city total, and a native stacked bar chart of the same.
2. *Kartoitus*: the mapping itself, one row per service entity and measurement type
   (scale, frequency, latest result and period, respondents, NPS computed from the counts
   where they are given), as a filterable Excel table; an entity without an answer gets a
   "Ei vastausta" row so gaps are visible, not silently missing.
"""

from __future__ import annotations

import re
import statistics

from openpyxl.chart import BarChart, Reference

from data.snapshot import SatisfactionItem
from docgen.context import MIME, Context, GeneratedDocument
from docgen.figures import DivisionSatisfaction
from docgen.fmt import clean
from docgen.liite1 import cache_chart, readable_text
from docgen.xlsx import Book, Formula, Styled, add_table

# "3,8", "8.4", "-12": a latest result that is a plain number is stored as one.
_PLAIN_NUMBER = re.compile(r"^\s*([+\-−]?\d+(?:[.,]\d+)?)\s*$")


# --- how a measurement is printed (one place, so a change of the stored codes is local) --


def type_name(item: SatisfactionItem) -> str:
    """The measurement type as printed: the catalog name in Finnish."""
    return clean(item.measurement.name.fi)


def scale_text(item: SatisfactionItem) -> str | None:
    """The scale as printed (typed, or the measurement type's own)."""
    return clean(item.scale) or None


def frequency_text(item: SatisfactionItem) -> str | None:
    """The measurement frequency as printed."""
    return clean(item.frequency) or None


def result_value(text: str) -> float | str | None:
    """The latest result: a number when it is one ("3,8" → 3.8), else the text as given."""
    text = clean(text)
    if not text:
        return None
    match = _PLAIN_NUMBER.match(text)
    if match:
        return float(match.group(1).replace(",", ".").replace("−", "-"))
    return text


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    attachment = ctx.attachment("liite2")
    title = w.text("liite2.title", number=attachment.number)
    book = Book(ctx, title)
    _summary(book, title)
    _mapping(book)
    return GeneratedDocument(
        filename=ctx.filename("liite2", "xlsx"),
        content=book.save(),
        mime_type=MIME["xlsx"],
        title=title,
    )


def _summary(book: Book, title: str) -> None:
    ctx = book.ctx
    w = ctx.wording
    sat = ctx.figures.satisfaction
    cols = w.mapping("liite2.summary_columns")
    keys = [
        "division",
        "entities",
        "measuring",
        "share",
        "not_measured",
        "unanswered",
        "nps_count",
        "nps_low",
        "nps_high",
        "nps_median",
        "types",
    ]
    widths = [9.0, 15.0, 13.0, 8.0, 8.0, 9.0, 9.0, 8.0, 8.0, 9.0, 25.0]
    header_row = 6
    sheet = book.sheet(
        w.text("liite2.sheets.summary"),
        widths,
        freeze=f"B{header_row + 1}",
        print_rows=f"{header_row}:{header_row}",
    )
    sheet.title_block(title, w.text("liite2.subtitle"))
    sheet.row([Styled(w.text("liite2.summary_title"), "heading")])
    sheet.note(w.text("liite2.summary_note"))
    assert sheet.rows + 1 == header_row
    sheet.row([Styled(cols[k], "header") for k in keys])
    first_data = sheet.rows + 1
    for division in ctx.snapshot.divisions:
        figures = sat.by_division[division.code]
        sheet.row(
            _summary_values(
                division.code, figures, sheet.rows + 1, "body", "number", "percent", "signed"
            )
        )
    last_data = sheet.rows
    totals = _summary_values(
        w.text("common.city_total"),
        sat.total,
        sheet.rows + 1,
        "total_text",
        "total_number",
        "total_percent",
        "total_signed",
    )
    if last_data >= first_data:  # live sums of the division rows
        for index, column in ((1, "B"), (2, "C"), (4, "E"), (5, "F"), (6, "G")):
            cell = totals[index]
            assert isinstance(cell, Styled)
            totals[index] = Styled(
                Formula(f"=SUM({column}{first_data}:{column}{last_data})", cell.value),
                cell.style,
            )
    sheet.row(totals)
    if not ctx.snapshot.satisfaction:
        sheet.blank()
        sheet.row([Styled(w.text("common.no_data"), "missing_text")])
    if not ctx.snapshot.divisions:
        return
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = w.text("liite2.chart_title")
    chart.y_axis.title = w.text("liite2.chart_y_axis")
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.width = 20
    chart.height = 9
    readable_text(chart)
    # Series: measuring (col C), not measured (E), no answer (F); categories: col A.
    for column in (3, 5, 6):
        data = Reference(sheet.ws, min_col=column, min_row=header_row, max_row=last_data)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=first_data, max_row=last_data))
    divisions = [sat.by_division[d.code] for d in ctx.snapshot.divisions]
    cache_chart(
        chart,
        [cols["measuring"], cols["not_measured"], cols["unanswered"]],
        [d.code for d in ctx.snapshot.divisions],
        [
            [d.measuring for d in divisions],
            [d.not_measured for d in divisions],
            [d.unanswered for d in divisions],
        ],
    )
    sheet.add_chart(chart, new_page=True)


def _summary_values(
    label: str,
    figures: DivisionSatisfaction,
    row: int,
    text: str,
    number: str,
    percent: str,
    signed: str,
) -> list[object]:
    share = figures.measuring / figures.entities if figures.entities else None
    types = ", ".join(f"{clean(name)} {count}" for name, count in figures.types)
    scores = [r.score for r in figures.nps]
    median = statistics.median(scores) if scores else None
    return [
        Styled(label, text),
        Styled(figures.entities, number),
        Styled(figures.measuring, number),
        Styled(Formula(f'=IF(B{row}=0,"",C{row}/B{row})', share), percent),
        Styled(figures.not_measured, number),
        Styled(figures.unanswered, number),
        Styled(len(figures.nps), number),
        Styled(figures.nps_low, signed),
        Styled(figures.nps_high, signed),
        Styled(
            median, signed if median is None or float(median).is_integer() else "signed_decimal"
        ),
        Styled(types or "–", text),
    ]


def _mapping(book: Book) -> None:
    ctx = book.ctx
    w = ctx.wording
    snap = ctx.snapshot
    sat = ctx.figures.satisfaction
    cols = w.mapping("liite2.mapping_columns")
    keys = [
        "division",
        "entity",
        "type",
        "scale",
        "frequency",
        "result",
        "period",
        "respondents",
        "nps",
        "promoters",
        "passives",
        "detractors",
        "note",
    ]
    widths = [8.0, 20.0, 22.0, 8.0, 13.0, 14.0, 11.0, 10.0, 8.0, 11.0, 11.0, 11.0, 22.0]
    header_row = 4
    sheet = book.sheet(
        w.text("liite2.sheets.mapping"),
        widths,
        freeze=f"C{header_row + 1}",
        print_rows=f"{header_row}:{header_row}",
    )
    sheet.title_block(w.text("liite2.mapping_title"), w.text("liite2.subtitle"))
    assert sheet.rows + 1 == header_row
    header = [clean(cols[k]) for k in keys]
    sheet.row([Styled(h, "header") for h in header])
    seen: set[str] = set()
    for division in snap.divisions:
        for entity in division.service_entities:
            seen.add(entity.code)
            rows = sat.rows_by_entity.get(entity.code, ())
            if not rows:
                sheet.row(
                    [
                        Styled(division.code, "body"),
                        Styled(clean(entity.name.fi), "body"),
                        Styled(w.text("liite2.unanswered"), "missing_text"),
                    ]
                    + [Styled(None, "body")] * (len(keys) - 3)
                )
            for item in rows:
                sheet.row(_mapping_values(ctx, item))
    # Answers about service entities retired from the catalog since: still shown.
    for code, rows in sat.rows_by_entity.items():
        if code not in seen:
            for item in rows:
                sheet.row(_mapping_values(ctx, item))
    if sheet.rows > header_row:
        add_table(sheet, w.text("liite2.mapping_table"), header, header_row)


def _mapping_values(ctx: Context, item: SatisfactionItem) -> list[object]:
    measured = item.measurement.measures
    result = result_value(item.latest_result)
    return [
        Styled(item.division_code, "body"),
        Styled(ctx.entity_name(item.entity_code), "body"),
        Styled(type_name(item), "body"),
        Styled(scale_text(item), "body"),
        Styled(frequency_text(item), "body"),
        Styled(result, "decimal" if isinstance(result, float) else "body"),
        Styled(item.period or None, "body"),
        Styled(item.respondent_count if measured else None, "number"),
        Styled(item.nps_score if measured else None, "signed"),
        Styled(item.promoters, "number"),
        Styled(item.passives, "number"),
        Styled(item.detractors, "number"),
        Styled(item.note or None, "body"),
    ]

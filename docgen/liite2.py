"""Liite 2 — Asiakaskokemus / palvelutyytyväisyys (.xlsx).

Sheets:
1. *Yhteenveto*: per division — service entities, how many measure satisfaction and their
   share, how many answered "not measured" or not at all, NPS results and range, the
   measurement types in use — a city total, and a native stacked bar chart of the same.
2. *Vertailu* (when the round has a previous one): the key figures of last year and this —
   exactly the rows of the list text's Taulukko 6 — this year's as formulas over the
   summary.
3. *Kartoitus*: the mapping itself, one row per service entity and measurement type
   (scale, frequency, latest result and period, respondents, NPS computed from the counts
   where they are given), as a filterable Excel table; an entity without an answer gets a
   "Ei vastausta" row so gaps are visible, not silently missing.
"""

from __future__ import annotations

import re
import statistics

from openpyxl.chart import BarChart, Reference
from openpyxl.utils import quote_sheetname

from data.snapshot import SatisfactionItem
from docgen.context import MIME, Context, GeneratedDocument
from docgen.figures import DivisionSatisfaction
from docgen.fmt import clean
from docgen.liite1 import cache_chart, readable_text
from docgen.xlsx import Book, Formula, Styled, cell_range, fit_words

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


def unbreakable(text: str) -> str:
    """``text`` with its bracketed parts kept on one line when printed: "Suositteluindeksi
    (NPS, 0–10)" may wrap before the bracket, never inside it ("(NPS, 0–" / "10)")."""
    return _BRACKETED.sub(
        lambda m: m.group(0).replace(" ", "\u00a0").replace("–", "\u2060–\u2060"), text
    )


_BRACKETED = re.compile(r"\([^()]*\)")
MAPPING_HEADER_ROW = 4


class MappingRanges:
    """Ranges of the Kartoitus table for the summary's formulas: the rows of the active
    service entities (rows about retired ones follow them, outside these ranges)."""

    def __init__(self, ctx: Context) -> None:
        rows_by_entity = ctx.figures.satisfaction.rows_by_entity
        count = sum(
            max(1, len(rows_by_entity.get(e.code, ())))
            for d in ctx.snapshot.divisions
            for e in d.service_entities
        )
        self.sheet = quote_sheetname(ctx.wording.text("liite2.sheets.mapping"))
        self.first = MAPPING_HEADER_ROW + 1
        self.last = MAPPING_HEADER_ROW + max(1, count)

    def column(self, letter: str) -> str:
        return f"{self.sheet}!${letter}${self.first}:${letter}${self.last}"

    def nps(self, function: int, argument: float, division_cell: str | None) -> str:
        """AGGREGATE over the NPS column (15 smallest, 14 largest, 16 percentile), errors
        ignored: dividing by the condition leaves only this division's numbers."""
        nps = self.column("I")
        condition = f"ISNUMBER({nps})"
        if division_cell is not None:
            condition = f"({self.column('A')}={division_cell})*{condition}"
        return f'=IFERROR(_xlfn.AGGREGATE({function},6,{nps}/({condition}),{argument}),"{NONE}")'

    def nps_count(self, division_cell: str | None) -> str:
        nps = self.column("I")
        if division_cell is None:
            return f"=SUMPRODUCT(--ISNUMBER({nps}))"
        return f"=SUMPRODUCT(({self.column('A')}={division_cell})*ISNUMBER({nps}))"


NONE = "–"


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    attachment = ctx.attachment("liite2")
    title = w.text("liite2.title", number=attachment.number)
    book = Book(ctx, title)
    _summary(book, title)
    if ctx.previous_figures is not None:
        _comparison(book)
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
    headers = [cols[k] for k in keys]
    widths = fit_words([8.0, 8.0, 12.0, 7.0, 7.0, 8.0, 9.0, 7.0, 7.0, 8.0, 16.0], headers)
    widths[-1] = max(widths[-1], SUMMARY_WIDTH - sum(widths[:-1]))  # the types take the rest
    header_row = 6
    sheet = book.sheet(w.text("liite2.sheets.summary"), widths, freeze=f"B{header_row + 1}")
    sheet.title_block(title, w.text("liite2.subtitle"))
    sheet.row([Styled(w.text("liite2.summary_title"), "heading")])
    sheet.note(w.text("liite2.summary_note"))
    assert sheet.rows + 1 == header_row
    sheet.row([Styled(h, "header") for h in headers])
    ranges = MappingRanges(ctx)
    first_data = sheet.rows + 1
    for division in ctx.snapshot.divisions:
        figures = sat.by_division[division.code]
        sheet.row(_summary_values(division.code, figures, sheet.rows + 1, ranges, total=False))
    last_data = sheet.rows
    totals = _summary_values(
        w.text("common.city_total"), sat.total, sheet.rows + 1, ranges, total=True
    )
    if last_data >= first_data:  # live sums of the division rows
        for index, column in ((1, "B"), (2, "C"), (4, "E"), (5, "F")):
            cell = totals[index]
            assert isinstance(cell, Styled)
            totals[index] = Styled(
                Formula(f"=SUM({column}{first_data}:{column}{last_data})", cell.value),
                cell.style,
            )
    book.refs["summary_total_row"] = sheet.row(totals)
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
    chart.height = 8
    readable_text(chart)
    # Series: measuring (col C), not measured (E), no answer (F); categories: col A.
    for column in (3, 5, 6):  # type: ignore[assignment]
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
    sheet.add_chart(chart)


def _comparison(book: Book) -> None:
    """Taulukko 6's figures of both years: last year's from the previous round's snapshot,
    this year's as formulas over the summary's city total line."""
    from docgen.listateksti import comparison_satisfaction

    ctx = book.ctx
    w = ctx.wording
    previous = ctx.previous_figures
    assert previous is not None
    cols = w.mapping("listateksti.change_columns")
    summary = quote_sheetname(w.text("liite2.sheets.summary"))
    total = book.refs["summary_total_row"]
    # The rows of Taulukko 6 in its order: measuring (C), NPS results (G), NPS median (J).
    columns = ["C", "G", "J"]
    figures = comparison_satisfaction(ctx, previous)
    assert len(figures) == len(columns)
    sheet = book.sheet(w.text("liite2.sheets.comparison"), [52.0, 12.0, 12.0, 12.0])
    sheet.title_block(w.text("liite2.comparison_title"), w.text("liite2.subtitle"))
    sheet.note(w.text("liite2.comparison_note"))
    sheet.row(
        [
            Styled(cols["figure"], "header"),
            Styled(ctx.year - 1, "header", number_format="0"),
            Styled(ctx.year, "header", number_format="0"),
            Styled(cols["change"], "header"),
        ]
    )
    for (label, before, value), column in zip(figures, columns, strict=True):
        row = sheet.rows + 1
        old, new = _whole(before), _whole(value)
        change = None if old is None or new is None else _whole(new - old)
        sheet.row(
            [
                Styled(label, "body"),
                Styled(old, _style(old, "number", "decimal")),
                Styled(
                    Formula(f"={summary}!{column}{total}", _or_none(new)),
                    _style(new, "number", "decimal"),
                ),
                Styled(
                    Formula(
                        f'=IF(AND(ISNUMBER(B{row}),ISNUMBER(C{row})),C{row}-B{row},"")',
                        "" if change is None else change,
                    ),
                    _style(change, "signed", "signed_decimal"),
                ),
            ]
        )


def _whole(value: float | None) -> float | None:
    """A whole number as an int (12, not 12.0), so a cell shows and stores it as one."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _style(value: float | None, whole: str, fraction: str) -> str:
    return fraction if isinstance(value, float) else whole


# Columns of the summary in Excel width units: A4 landscape at 100 % (781 pt).
SUMMARY_WIDTH = 121.0
# The mapping's 13 columns: A4 landscape at 100 % (784 pt).
MAPPING_WIDTH = 123.5
MAPPING_MIN_SCALE = 0.9


def _summary_values(
    label: str,
    figures: DivisionSatisfaction,
    row: int,
    ranges: MappingRanges,
    *,
    total: bool,
) -> list[object]:
    """One line of the summary; the city total line is bold throughout."""
    text, number, percent, signed, signed_decimal = (
        ("total_text", "total_number", "total_percent", "total_signed", "total_signed_decimal")
        if total
        else ("body", "number", "percent", "signed", "signed_decimal")
    )
    share = figures.measuring / figures.entities if figures.entities else None
    types = "\n".join(f"{unbreakable(clean(name))} {count}" for name, count in figures.types)
    scores = [r.score for r in figures.nps]
    median = statistics.median(scores) if scores else None
    division = None if total else f"$A{row}"
    return [
        Styled(label, text),
        Styled(figures.entities, number),
        Styled(figures.measuring, number),
        Styled(Formula(f'=IF(B{row}=0,"",C{row}/B{row})', share), percent),
        Styled(figures.not_measured, number),
        Styled(figures.unanswered, number),
        Styled(Formula(ranges.nps_count(division), len(figures.nps)), number),
        Styled(Formula(ranges.nps(15, 1, division), _or_none(figures.nps_low)), signed),
        Styled(Formula(ranges.nps(14, 1, division), _or_none(figures.nps_high)), signed),
        Styled(
            Formula(ranges.nps(16, 0.5, division), _or_none(median)),
            signed if median is None or float(median).is_integer() else signed_decimal,
        ),
        Styled(types or NONE, text),
    ]


def _or_none(value: float | None) -> float | str:
    """A value, or the "–" the list text shows where there is none."""
    return NONE if value is None else value


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
    header = [clean(cols[k]) for k in keys]
    widths = _mapping_widths(ctx, header)
    header_row = MAPPING_HEADER_ROW
    sheet = book.sheet(
        w.text("liite2.sheets.mapping"),
        widths,
        freeze=f"C{header_row + 1}",
        print_rows=f"{header_row}:{header_row}",
        min_scale=MAPPING_MIN_SCALE,
    )
    sheet.title_block(w.text("liite2.mapping_title"), w.text("liite2.subtitle"))
    assert sheet.rows + 1 == header_row
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
                sheet.row(_mapping_values(ctx, item, sheet.rows + 1))
    # Answers about service entities retired from the catalog since: still shown.
    for code, rows in sat.rows_by_entity.items():
        if code not in seen:
            for item in rows:
                sheet.row(_mapping_values(ctx, item, sheet.rows + 1))
    if sheet.rows > header_row:
        # Filter buttons on the header row. (A native table would need its column names
        # equal to the header cells, which break their long words with "-" and a newline.)
        sheet.ws.auto_filter.ref = cell_range(1, header_row, len(keys), sheet.rows)


def _mapping_widths(ctx: Context, header: list[str]) -> list[float]:
    """Column widths of the mapping: each header word whole, then the text columns as wide
    as their longest word (up to a limit) while the whole stays A4 landscape at ≥ 9 pt;
    the notes take what is left."""
    widths = fit_words(
        [8.0, 15.0, 14.0, 7.0, 12.5, 11.0, 7.5, 8.0, 6.0, 7.0, 7.0, 7.0, 8.0], header
    )
    items = [i for rows in ctx.figures.satisfaction.rows_by_entity.values() for i in rows]
    texts = {
        1: [ctx.entity_name(i.entity_code) for i in items],
        2: [type_name(i) for i in items],
        4: [frequency_text(i) or "" for i in items],
        5: [clean(i.latest_result) for i in items],
        6: [i.period or "" for i in items],
    }
    for column, values in texts.items():
        wanted = fit_words([widths[column]], [" ".join(values)], bold=False)[0]
        spare = MAPPING_WIDTH - sum(widths) - 8.0  # keep 8 units for the notes at least
        widths[column] += max(0.0, min(wanted - widths[column], spare, 6.0))
    widths[-1] = max(widths[-1], MAPPING_WIDTH - sum(widths[:-1]))
    return widths


def _mapping_values(ctx: Context, item: SatisfactionItem, row: int) -> list[object]:
    measured = item.measurement.measures
    result = result_value(item.latest_result)
    nps: object = item.nps_score if measured else None
    if measured and item.nps_from_counts:  # NPS = 100 × (P − D) / (P + N + D), live
        nps = Formula(f"=ROUND(100*(J{row}-L{row})/(J{row}+K{row}+L{row}),0)", item.nps_score)
    respondents: object = item.respondent_count if measured else None
    if measured and item.respondents is None and item.nps_from_counts:
        respondents = Formula(f"=J{row}+K{row}+L{row}", item.respondent_count)
    return [
        Styled(item.division_code, "body"),
        Styled(ctx.entity_name(item.entity_code), "body"),
        Styled(unbreakable(type_name(item)), "body"),
        Styled(scale_text(item), "body"),
        Styled(frequency_text(item), "body"),
        Styled(result, "decimal" if isinstance(result, float) else "body"),
        Styled(item.period or None, "body"),
        Styled(respondents, "number"),
        Styled(nps, "signed"),
        Styled(item.promoters, "number"),
        Styled(item.passives, "number"),
        Styled(item.detractors, "number"),
        Styled(item.note or None, "body"),
    ]

"""Listateksti (.docx): a draft of the city board's agenda item, in the board's order.

1. header: body, agenda date, § placeholder, title, case number and task class;
2. Päätösehdotus ("Kaupunginhallitus päättää …");
3. Esittelijän perustelut: background, both metrics (decision, definition, the four
   levels, lähtötaso / tavoitetaso / seurantatiheys), the year's results per division and
   level, service entities using methods per level, satisfaction measurement per division,
   NPS where reported, change from last year (when last year's round exists), coverage;
4. Esittelijä; 5. Lisätiedot; 6. Liitteet (numbered as the attachment files);
7. Otteet and Päätöshistoria.

All sentences come from the wording file; this module arranges them and the numbers.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument

from docgen import figures as fig
from docgen.context import MIME, Context, GeneratedDocument
from docgen.docx_util import (
    draft_note,
    heading,
    labelled,
    new_document,
    page_header,
    para,
    save,
    table,
)
from docgen.fmt import clean, fi_int, fi_list, fi_median, fi_percent, fi_signed

MAX_NPS_LINES = 12


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    title = w.text("listateksti.document_title")
    doc = new_document(ctx, title)
    page_header(ctx, doc, w.text("listateksti.page_header"))
    _header(ctx, doc)
    _proposal(ctx, doc)
    _reasoning(ctx, doc)
    _presenter(ctx, doc)
    _more_info(ctx, doc)
    _attachments(ctx, doc)
    _extracts_and_history(ctx, doc)
    return GeneratedDocument(
        filename=ctx.filename("listateksti", "docx"),
        content=save(doc),
        mime_type=MIME["docx"],
        title=title,
    )


def _header(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    lt = ctx.settings.list_text
    para(doc, lt.body, bold=True, size=12, space_after=0)
    para(doc, w.text("listateksti.agenda"), space_after=0)
    para(doc, w.text("listateksti.section_number"), space_after=6)
    heading(doc, clean(w.text("listateksti.title")), 1)
    para(doc, f"{lt.case_number}   {lt.task_class}".strip(), space_after=8)
    draft_note(ctx, doc)


def _heading(ctx: Context, doc: DocxDocument, key: str) -> None:
    heading(doc, clean(ctx.wording.text(f"listateksti.headings.{key}")), 2)


def _proposal(ctx: Context, doc: DocxDocument) -> None:
    _heading(ctx, doc, "proposal")
    para(doc, ctx.wording.text("listateksti.proposal"))


def _reasoning(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(ctx, doc, "reasoning")
    heading(doc, clean(w.text("listateksti.background_heading")), 3)
    para(doc, w.text("listateksti.background"))
    _metric_osallisuus(ctx, doc)
    _metric_asiakaskokemus(ctx, doc)
    _results_participation(ctx, doc)
    _results_satisfaction(ctx, doc)
    if ctx.previous_figures is not None:
        _change(ctx, doc, ctx.previous_figures)
    _coverage(ctx, doc)
    para(doc, w.text("listateksti.attachments_ref"))


def _metric_facts(ctx: Context, doc: DocxDocument, key: str) -> None:
    w = ctx.wording
    labelled(doc, w.text("metrics.labels.baseline"), w.text(f"metrics.{key}.baseline"))
    labelled(doc, w.text("metrics.labels.target"), w.text(f"metrics.{key}.target"))
    labelled(doc, w.text("metrics.labels.frequency"), w.text(f"metrics.{key}.frequency"))


def _metric_osallisuus(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    heading(doc, clean(w.text("metrics.osallisuus.long_name")), 3)
    para(doc, w.text("metrics.osallisuus.decision"))
    para(doc, w.text("metrics.osallisuus.definition"))
    para(doc, w.text("listateksti.levels_intro"), space_after=2)
    for level in ctx.snapshot.levels:
        examples = fi_list([clean(m.name.fi) for m in level.examples]) or "–"
        line = w.text(
            "listateksti.level_line",
            number=level.number,
            name=clean(level.name.fi),
            description=clean(level.description.fi).rstrip("."),
            examples=examples,
        )
        para(doc, line, "List Bullet")
    _metric_facts(ctx, doc, "osallisuus")


def _metric_asiakaskokemus(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    heading(doc, clean(w.text("metrics.asiakaskokemus.long_name")), 3)
    para(doc, w.text("metrics.asiakaskokemus.decision"))
    para(doc, w.text("metrics.asiakaskokemus.definition"))
    para(doc, w.text("metrics.asiakaskokemus.nps"))
    _metric_facts(ctx, doc, "asiakaskokemus")


def _level_headers(ctx: Context) -> list[str]:
    word = ctx.wording.text("common.levels_word")
    return [f"{word} {lvl.number}" for lvl in ctx.snapshot.levels]


def _results_participation(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    part = ctx.figures.participation
    heading(doc, clean(w.text("listateksti.results_participation_heading")), 3)
    if not ctx.snapshot.participation and not ctx.snapshot.none_answers:
        para(doc, w.text("common.no_data"))
        return
    para(
        doc,
        w.text(
            "listateksti.results_participation",
            methods=fi_int(part.methods),
            count=fi_int(part.count),
            entities_with=part.entities_with,
            entities_total=part.entities_total,
            entities_all=part.entities_all_levels,
            share=fi_percent(part.entities_with, part.entities_total),
        ),
    )
    levels = [lvl.number for lvl in ctx.snapshot.levels]
    divisions = [d.code for d in ctx.snapshot.divisions]
    total_word = w.text("common.total")

    def cell(c: fig.Cell) -> str:
        return f"{fi_int(c.methods)} ({fi_int(c.count)})"

    rows = [
        [code]
        + [cell(part.by_division_level[(code, n)]) for n in levels]
        + [cell(part.by_division[code])]
        for code in divisions
    ]
    rows.append(
        [total_word]
        + [cell(part.by_level[n]) for n in levels]
        + [cell(fig.Cell(part.methods, part.count, 0))]
    )
    para(doc, w.text("listateksti.table_methods_caption"), "Caption")
    widths = [25.0] + [140.0 / (len(levels) + 1)] * (len(levels) + 1)
    table(doc, ["", *_level_headers(ctx), total_word], rows, widths, bold_last=True)
    para(doc, "", space_after=2)

    rows = []
    for code in divisions:
        total = part.entities_by_division.get(code, 0)
        rows.append(
            [code]
            + [f"{part.by_division_level[(code, n)].entities}/{total}" for n in levels]
            + [f"{part.entities_with_by_division.get(code, 0)}/{total}"]
        )
    total = part.entities_total
    rows.append(
        [w.text("common.city_total")]
        + [
            f"{part.by_level[n].entities}/{total} ({fi_percent(part.by_level[n].entities, total)})"
            for n in levels
        ]
        + [f"{part.entities_with}/{total} ({fi_percent(part.entities_with, total)})"]
    )
    para(doc, w.text("listateksti.table_entities_caption"), "Caption")
    any_level = w.text("liite1.coverage_summary_columns.any_level")
    table(doc, ["", *_level_headers(ctx), any_level], rows, widths, bold_last=True)
    para(doc, "", space_after=2)

    if part.top_methods:
        para(doc, w.text("listateksti.top_methods_intro"), space_after=2)
        for code in divisions:
            top = part.top_methods.get(code)
            if not top:
                continue
            names = ", ".join(
                w.text("listateksti.top_method", name=clean(name), count=fi_int(count))
                for name, count in top
            )
            para(doc, f"{code}: {names}", "List Bullet")


def _results_satisfaction(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    sat = ctx.figures.satisfaction
    total = sat.total
    heading(doc, clean(w.text("listateksti.results_satisfaction_heading")), 3)
    if not ctx.snapshot.satisfaction:
        para(doc, w.text("common.no_data"))
        return
    para(
        doc,
        w.text(
            "listateksti.results_satisfaction",
            measuring=total.measuring,
            entities_total=total.entities,
            share=fi_percent(total.measuring, total.entities),
            not_measured=total.not_measured,
            unanswered=total.unanswered,
        ),
    )
    cols = w.mapping("listateksti.satisfaction_columns")
    rows = []
    for division in ctx.snapshot.divisions:
        d = sat.by_division[division.code]
        types = ", ".join(f"{clean(name)} ({count})" for name, count in d.types) or "–"
        rows.append(
            [
                division.code,
                f"{d.measuring}/{d.entities} ({fi_percent(d.measuring, d.entities)})",
                types,
                _nps_range(d),
            ]
        )
    rows.append(
        [
            w.text("common.city_total"),
            f"{total.measuring}/{total.entities} ({fi_percent(total.measuring, total.entities)})",
            "",
            _nps_range(total),
        ]
    )
    para(doc, w.text("listateksti.table_satisfaction_caption"), "Caption")
    table(
        doc,
        [cols["division"], cols["measuring"], cols["types"], cols["nps"]],
        rows,
        [22.0, 27.0, 88.0, 28.0],
        bold_last=True,
    )
    para(doc, "", space_after=2)
    if not total.nps:
        para(doc, w.text("listateksti.nps_none"))
        return
    para(
        doc,
        w.text(
            "listateksti.nps_results",
            count=len(total.nps),
            low=fi_signed(total.nps_low),
            high=fi_signed(total.nps_high),
            median=fi_median([r.score for r in total.nps]),
        ),
        space_after=2,
    )
    for result in total.nps[:MAX_NPS_LINES]:
        respondents = fi_int(result.respondents) if result.respondents is not None else "–"
        para(
            doc,
            w.text(
                "listateksti.nps_line",
                division=result.division_code,
                entity=ctx.entity_name(result.entity_code),
                nps=fi_signed(result.score),
                respondents=respondents,
                period=clean(result.period) or "–",
            ),
            "List Bullet",
        )


def _nps_range(d: fig.DivisionSatisfaction) -> str:
    if not d.nps:
        return "–"
    if d.nps_low == d.nps_high:
        return fi_signed(d.nps_low)
    return f"{fi_signed(d.nps_low)}…{fi_signed(d.nps_high)}"


def _change(ctx: Context, doc: DocxDocument, previous: fig.Figures) -> None:
    w = ctx.wording
    now = ctx.figures
    heading(doc, clean(w.text("listateksti.change_heading")), 3)
    para(doc, w.text("listateksti.change_intro"), space_after=2)
    labels = w.mapping("listateksti.change_rows")
    cols = w.mapping("listateksti.change_columns")
    p_now, p_old = now.participation, previous.participation
    s_now, s_old = now.satisfaction, previous.satisfaction
    figures: list[tuple[str, float | None, float | None]] = [
        (labels["methods"], p_old.methods, p_now.methods),
        (labels["count"], p_old.count, p_now.count),
        (labels["entities_with"], p_old.entities_with, p_now.entities_with),
    ]
    for n in p_now.levels:
        old = p_old.by_level.get(n)
        figures.append(
            (
                w.text("listateksti.change_rows.entities_level", number=n),
                old.entities if old else None,
                p_now.by_level[n].entities,
            )
        )
    figures += [
        (labels["measuring"], s_old.total.measuring, s_now.total.measuring),
        (labels["nps_count"], len(s_old.total.nps), len(s_now.total.nps)),
        (labels["nps_median"], s_old.nps_median, s_now.nps_median),
    ]
    rows = []
    for label, old_value, new_value in figures:
        change = None if old_value is None or new_value is None else new_value - old_value
        rows.append([label, _number(old_value), _number(new_value), _change_text(change)])
    table(
        doc,
        [cols["figure"], str(ctx.year - 1), str(ctx.year), cols["change"]],
        rows,
        [85.0, 25.0, 25.0, 30.0],
    )
    para(doc, "", space_after=2)


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return fi_int(int(value))
    return fi_signed(value, 1).lstrip("+")


def _change_text(change: float | None) -> str:
    if change is None:
        return "–"
    return fi_signed(change, 0 if float(change).is_integer() else 1)


def _coverage(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    heading(doc, clean(w.text("listateksti.coverage_heading")), 3)
    if ctx.snapshot.complete:
        para(doc, w.text("listateksti.coverage_complete"))
        return
    complete = [s.division_code for s in ctx.snapshot.progress if s.complete]
    para(
        doc,
        w.text(
            "listateksti.coverage_incomplete",
            complete=fi_list(complete) or w.text("listateksti.coverage_none_complete"),
            missing=ctx.missing_summary() or "–",
        ),
    )


def _presenter(ctx: Context, doc: DocxDocument) -> None:
    presenter = ctx.settings.list_text.presenter
    _heading(ctx, doc, "presenter")
    para(doc, presenter.title, space_after=0)
    para(doc, presenter.name)


def _more_info(ctx: Context, doc: DocxDocument) -> None:
    contact = ctx.settings.list_text.contact
    _heading(ctx, doc, "more_info")
    line = f"{contact.name}, {contact.title}"
    if contact.phone:
        line += ", " + ctx.wording.text("listateksti.more_info_phone", phone=contact.phone)
    para(doc, line, space_after=0 if contact.email else None)
    if contact.email:
        para(doc, contact.email)


def _attachments(ctx: Context, doc: DocxDocument) -> None:
    _heading(ctx, doc, "attachments")
    for attachment in ctx.attachments:
        para(doc, f"{attachment.number} {attachment.title}", space_after=0)


def _extracts_and_history(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(ctx, doc, "extracts")
    header = w.texts("listateksti.extracts_columns")
    rows = w.rows("listateksti.extracts")
    if rows:
        table(doc, header, rows, [100.0, 65.0], size=9.5)
    _heading(ctx, doc, "history")
    for line in w.texts("listateksti.history"):
        para(doc, line)

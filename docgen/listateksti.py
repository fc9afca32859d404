"""Listateksti (.docx): a draft of the city board's agenda item, in the board's order.

0. page header: "Helsingin kaupunki · Esityslista nn/YYYY · Asia n · date" and "1 (4)"
   (config.yaml's meeting of the year; "Esityslistaluonnos" while none is set);
1. header: body, title, case number and task class;
2. Päätösehdotus (approve or take note, per year in config.yaml);
3. Esittelijän perustelut: Tiivistelmä, background, both metrics (decision, definition, the four
   levels, lähtötaso / tavoitetaso / seurantatiheys), the year's results per division and
   level, service entities using methods per level, satisfaction measurement per division,
   NPS where reported, change from last year (when last year's round exists), coverage;
4. Esittelijä; 5. Lisätiedot; 6. Liitteet (numbered as the attachment files);
7. Muutoksenhaku; 8. Otteet and Päätöshistoria.

All sentences come from the wording file; this module arranges them and the numbers.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument

from docgen import figures as fig
from docgen.context import MIME, Context, GeneratedDocument
from docgen.docx_util import (
    draft_note,
    hanging,
    heading,
    labelled,
    new_document,
    page_header,
    para,
    save,
    table,
)
from docgen.fmt import (
    clean,
    fi_date,
    fi_int,
    fi_list,
    fi_median,
    fi_percent,
    fi_signed,
    lower_first,
)


def build(ctx: Context) -> GeneratedDocument:
    w = ctx.wording
    title = w.text("listateksti.document_title")
    doc = new_document(ctx, title)
    page_header(ctx, doc, _page_header_text(ctx))
    _header(ctx, doc)
    _proposal(ctx, doc)
    _reasoning(ctx, doc)
    _presenter(ctx, doc)
    _more_info(ctx, doc)
    _attachments(ctx, doc)
    _appeal(ctx, doc)
    _extracts_and_history(ctx, doc)
    return GeneratedDocument(
        filename=ctx.filename("listateksti", "docx"),
        content=save(doc),
        mime_type=MIME["docx"],
        title=title,
    )


def _page_header_text(ctx: Context) -> str:
    """The agenda's header line; the draft form until the meeting is configured."""
    meeting = ctx.meeting
    if meeting.day is None or meeting.agenda_number is None or meeting.item_number is None:
        return ctx.wording.text("listateksti.page_header_no_meeting")
    return ctx.wording.text(
        "listateksti.page_header",
        agenda_number=meeting.agenda_number,
        item_number=meeting.item_number,
        meeting_date=fi_date(meeting.day),
    )


def _header(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    lt = ctx.settings.list_text
    para(doc, lt.body, bold=True, size=12, space_after=6)
    heading(doc, clean(w.text("listateksti.title")), 1)
    para(doc, f"{lt.case_number}   {lt.task_class}".strip(), space_after=8)
    draft_note(ctx, doc)


def _heading(ctx: Context, doc: DocxDocument, key: str) -> None:
    heading(doc, clean(ctx.wording.text(f"listateksti.headings.{key}")), 2)


def _proposal(ctx: Context, doc: DocxDocument) -> None:
    _heading(ctx, doc, "proposal")
    para(doc, ctx.wording.text(f"listateksti.proposal.{ctx.meeting.decision}"))


def _reasoning(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(ctx, doc, "reasoning")
    _summary(ctx, doc)
    heading(doc, clean(w.text("listateksti.background_heading")), 3)
    para(doc, w.text("listateksti.background", divisions=ctx.division_mentions()))
    para(doc, w.text("definitions.tapa") + " " + w.text("definitions.lkm"))
    _metric_osallisuus(ctx, doc)
    _metric_asiakaskokemus(ctx, doc)
    _results_participation(ctx, doc)
    _results_satisfaction(ctx, doc)
    if ctx.previous_figures is not None:
        _change(ctx, doc, ctx.previous_figures)
    _coverage(ctx, doc)
    para(doc, w.text("listateksti.attachments_ref"))


def summary_sentences(ctx: Context) -> list[str]:
    """Tiivistelmä: three to five sentences with the headline figures."""
    w = ctx.wording
    part = ctx.figures.participation
    total = ctx.figures.satisfaction.total
    sentences = []
    if ctx.snapshot.participation or ctx.snapshot.none_answers:
        sentences += [
            w.text(
                "listateksti.summary_participation",
                entries=ctx.num(part.methods),
                distinct=ctx.num(part.distinct_methods()),
            ),
            w.text(
                "listateksti.summary_coverage",
                entities_with=ctx.num(part.entities_with, "inessive"),
                entities_total=ctx.of_total(part.entities_total),
                share=fi_percent(part.entities_with, part.entities_total),
                entities_all=ctx.num(part.entities_all_levels, "inessive"),
            ),
        ]
    if ctx.snapshot.satisfaction:
        sentences.append(
            w.text(
                "listateksti.summary_satisfaction",
                measuring=ctx.num(total.measuring, "inessive"),
                entities_total=ctx.of_total(total.entities),
                share=fi_percent(total.measuring, total.entities),
            )
        )
        if total.nps:
            sentences.append(
                w.text(
                    "listateksti.summary_nps",
                    count=ctx.num(len(total.nps), "elative"),
                    median=fi_median([r.score for r in total.nps]),
                )
            )
    if not sentences:
        sentences.append(w.text("common.no_data"))
    if ctx.snapshot.complete:
        sentences.append(w.text("listateksti.summary_complete"))
    else:
        progress = ctx.snapshot.progress
        sentences.append(
            w.text(
                "listateksti.summary_incomplete",
                complete=ctx.num(sum(1 for s in progress if s.complete)),
                total=ctx.of_total(len(progress)),
            )
        )
    return sentences


def _summary(ctx: Context, doc: DocxDocument) -> None:
    heading(doc, clean(ctx.wording.text("listateksti.headings.summary")), 3)
    para(doc, " ".join(summary_sentences(ctx)))


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
        examples = fi_list([lower_first(clean(m.name.fi)) for m in level.examples]) or "–"
        line = w.text(
            "listateksti.level_line",
            number=level.number,
            name=clean(level.name.fi),
            description=clean(level.description.fi).rstrip("."),
            examples=examples,
        )
        hanging(doc, line)
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
            entries=ctx.num(part.methods),
            distinct=ctx.num(part.distinct_methods()),
            entities_with=ctx.num(part.entities_with, "inessive"),
            entities_total=ctx.of_total(part.entities_total),
            entities_all=ctx.num(part.entities_all_levels, "inessive"),
            share=fi_percent(part.entities_with, part.entities_total),
        ),
    )
    levels = [lvl.number for lvl in ctx.snapshot.levels]
    divisions = [d.code for d in ctx.snapshot.divisions]
    total_word = w.text("common.total")
    numeric = range(1, len(levels) + 2)

    def cell(c: fig.Cell, division: str | None, level: int | None) -> str:
        return f"{fi_int(c.methods)} ({fi_int(part.distinct_methods(division, level))})"

    rows = [
        [code]
        + [cell(part.by_division_level[(code, n)], code, n) for n in levels]
        + [cell(part.by_division[code], code, None)]
        for code in divisions
    ]
    rows.append(
        [total_word]
        + [cell(part.by_level[n], None, n) for n in levels]
        + [cell(fig.Cell(part.methods, part.count, 0), None, None)]
    )
    para(doc, w.text("listateksti.table_methods_caption"), "Caption")
    widths = [25.0] + [140.0 / (len(levels) + 1)] * (len(levels) + 1)
    table(doc, ["", *_level_headers(ctx), total_word], rows, widths, bold_last=True, right=numeric)
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
    table(doc, ["", *_level_headers(ctx), any_level], rows, widths, bold_last=True, right=numeric)
    para(doc, "", space_after=2)

    if part.top_methods:
        cols = w.mapping("listateksti.top_columns")
        rows = [
            [code, clean(name), fi_int(entities), fi_int(count)]
            for code in divisions
            for name, entities, count in part.top_methods.get(code, ())
        ]
        para(doc, w.text("listateksti.table_top_caption"), "Caption")
        table(
            doc,
            [cols["division"], cols["method"], cols["entities"], cols["count"]],
            rows,
            [22.0, 76.0, 47.0, 20.0],
            right=(2, 3),
        )
        para(doc, "", space_after=2)


def _results_satisfaction(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    sat = ctx.figures.satisfaction
    total = sat.total
    heading(doc, clean(w.text("listateksti.results_satisfaction_heading")), 3)
    if not ctx.snapshot.satisfaction:
        para(doc, w.text("common.no_data"))
        return
    text = w.text(
        "listateksti.results_satisfaction",
        measuring=ctx.num(total.measuring, "inessive"),
        entities_total=ctx.of_total(total.entities),
        share=fi_percent(total.measuring, total.entities),
    )
    key = "results_not_measured_unanswered" if total.unanswered else "results_not_measured"
    text += " " + w.text(
        f"listateksti.{key}",
        not_measured=ctx.num(total.not_measured, "inessive"),
        unanswered=ctx.num(total.unanswered, "elative"),
    )
    para(doc, text)
    cols = w.mapping("listateksti.satisfaction_columns")
    rows = []
    for division in ctx.snapshot.divisions:
        d = sat.by_division[division.code]
        types = ", ".join(f"{clean(name)} {count}" for name, count in d.types) or "–"
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
        right=(1, 3),
    )
    para(doc, "", space_after=2)
    if not total.nps:
        para(doc, w.text("listateksti.nps_none"))
        return
    para(
        doc,
        w.text(
            "listateksti.nps_results",
            count=ctx.num(len(total.nps), "elative"),
            low=fi_signed(total.nps_low),
            high=fi_signed(total.nps_high),
            median=fi_median([r.score for r in total.nps]),
        ),
        space_after=2,
    )


def _nps_range(d: fig.DivisionSatisfaction) -> str:
    if not d.nps:
        return "–"
    if d.nps_low == d.nps_high:
        return fi_signed(d.nps_low)
    return f"{fi_signed(d.nps_low)}…{fi_signed(d.nps_high)}"


def comparison(ctx: Context, previous: fig.Figures) -> list[tuple[str, float | None, float | None]]:
    """(label, last year, this year) of the key figures: the list text's change table and
    Liite 1's Vertailu sheet show the same rows."""
    w = ctx.wording
    now = ctx.figures
    labels = w.mapping("listateksti.change_rows")
    p_now, p_old = now.participation, previous.participation
    s_now, s_old = now.satisfaction, previous.satisfaction
    figures: list[tuple[str, float | None, float | None]] = [
        (labels["methods"], p_old.methods, p_now.methods),
        (labels["distinct"], p_old.distinct_methods(), p_now.distinct_methods()),
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
    return figures


def _change(ctx: Context, doc: DocxDocument, previous: fig.Figures) -> None:
    w = ctx.wording
    heading(doc, clean(w.text("listateksti.change_heading")), 3)
    cols = w.mapping("listateksti.change_columns")
    rows = []
    for label, old_value, new_value in comparison(ctx, previous):
        change = None if old_value is None or new_value is None else new_value - old_value
        rows.append([label, _number(old_value), _number(new_value), _change_text(change)])
    para(doc, w.text("listateksti.change_intro"), "Caption")
    table(
        doc,
        [cols["figure"], str(ctx.year - 1), str(ctx.year), cols["change"]],
        rows,
        [85.0, 25.0, 25.0, 30.0],
        right=(1, 2, 3),
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


def coverage_sentences(ctx: Context) -> str:
    """Who has reported everything and what is still missing, as board prose."""
    w = ctx.wording
    if ctx.snapshot.complete:
        return w.text("listateksti.coverage_complete")
    complete = [s.division_code for s in ctx.snapshot.progress if s.complete]
    parts = [w.text("listateksti.coverage_date")]
    if not complete:
        parts.append(w.text("listateksti.coverage_complete_none"))
    else:
        key = "coverage_complete_one" if len(complete) == 1 else "coverage_complete_many"
        parts.append(w.text(f"listateksti.{key}", divisions=fi_list(complete)))
    missing = ctx.missing_summary()
    if missing:
        parts.append(w.text("listateksti.coverage_missing", missing=missing))
    return " ".join(parts)


def _coverage(ctx: Context, doc: DocxDocument) -> None:
    heading(doc, clean(ctx.wording.text("listateksti.coverage_heading")), 3)
    para(doc, coverage_sentences(ctx))


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


def _appeal(ctx: Context, doc: DocxDocument) -> None:
    _heading(ctx, doc, "appeal")
    para(doc, ctx.settings.list_text.appeal)


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

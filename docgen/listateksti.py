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
from docx.shared import Pt

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
from docgen.wording import fill

# The first column of the tables by division: wide enough for "Koko kaupunki" and
# "Yhteensä" in bold 9 pt on one line (with the cell margins LibreOffice and Word add).
FIRST_COLUMN_MM = 32.0


def _spacer(doc: DocxDocument) -> None:
    """A little space after a table (an empty body-text line would take a whole line)."""
    paragraph = para(doc, space_after=0)
    paragraph.paragraph_format.line_spacing = Pt(6)


def _city_total(ctx: Context) -> str:
    """``Koko kaupunki`` with a no-break space: a table's row label never wraps."""
    return ctx.wording.text("common.city_total").replace(" ", "\u00a0")


def _first_column_widths(numeric_columns: int) -> list[float]:
    """The first column, then the text width shared by ``numeric_columns`` columns."""
    return [FIRST_COLUMN_MM] + [(165.0 - FIRST_COLUMN_MM) / numeric_columns] * numeric_columns


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


def proposal_text(ctx: Context) -> str:
    """Päätösehdotus: the metrics named by their quoted names, so the sentence parses."""
    w = ctx.wording
    return w.text(
        f"listateksti.proposal.{ctx.meeting.decision}",
        osallisuus=w.text("metrics.osallisuus.name"),
        asiakaskokemus=w.text("metrics.asiakaskokemus.name"),
    )


def _proposal(ctx: Context, doc: DocxDocument) -> None:
    _heading(ctx, doc, "proposal")
    para(doc, proposal_text(ctx))


def sheet_ref(ctx: Context, attachment: str, sheet: str) -> str:
    """``liite 1, välilehti Kaavio``: the one way the text points to a workbook sheet, with
    the sheet's name as the attachment itself names it (wording ``<attachment>.sheets``)."""
    w = ctx.wording
    return w.text(
        "listateksti.sheet_ref",
        number=ctx.attachment(attachment).number,
        sheet=w.text(f"{attachment}.sheets.{sheet}"),
    )


def history_entries(ctx: Context) -> list[tuple[int, str, str]]:
    """(year, Päätöshistoria entry, background sentence) of the decisions made by the
    round's year, oldest first (wording ``listateksti.history``)."""
    found = []
    for item in ctx.base_wording.raw("listateksti.history"):
        if isinstance(item, str):  # an entry without a year: always shown
            found.append((0, item, ""))
            continue
        year = int(item.get("year", 0))
        if year <= ctx.year:
            found.append((year, str(item.get("entry", "")), str(item.get("background", ""))))
    found.sort(key=lambda entry: entry[0])
    defaults = ctx.wording.defaults
    return [
        (year, fill(" ".join(entry.split()), defaults), fill(" ".join(bg.split()), defaults))
        for year, entry, bg in found
    ]


def _reasoning(ctx: Context, doc: DocxDocument) -> None:
    w = ctx.wording
    _heading(ctx, doc, "reasoning")
    _summary(ctx, doc)
    heading(doc, clean(w.text("listateksti.background_heading")), 3)
    history = " ".join(background for _y, _e, background in history_entries(ctx) if background)
    background = w.text(
        "listateksti.background", divisions=ctx.division_mentions(), history=history
    )
    para(doc, " ".join(background.split()))
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
    total = ctx.figures.satisfaction.total
    sentences = []
    if ctx.snapshot.participation or ctx.snapshot.none_answers:
        sentences += [
            participation_sentence(ctx),
            coverage_sentence(ctx),
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
                w.counted(
                    "listateksti.summary_nps",
                    len(total.nps),
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
        complete = sum(1 for s in progress if s.complete)
        if not complete:
            sentences.append(w.text("listateksti.summary_incomplete_none"))
        else:
            sentences.append(
                w.counted(
                    "listateksti.summary_incomplete",
                    complete,
                    complete=ctx.num(complete),
                    total=ctx.of_total(len(progress)),
                )
            )
    return sentences


def coverage_sentence(ctx: Context) -> str:
    """In how many service entities methods are used, and on all four levels; no "zero"."""
    w = ctx.wording
    part = ctx.figures.participation
    if not part.entities_with:
        return w.text("listateksti.coverage_none")
    key = "summary_coverage" if part.entities_all_levels else "summary_coverage_no_all_levels"
    return w.text(
        f"listateksti.{key}",
        entities_with=ctx.num(part.entities_with, "inessive"),
        entities_total=ctx.of_total(part.entities_total),
        share=fi_percent(part.entities_with, part.entities_total),
        entities_all=ctx.num(part.entities_all_levels, "inessive"),
    )


def participation_sentence(ctx: Context) -> str:
    """How many methods were reported and how many different ones (one: singular)."""
    part = ctx.figures.participation
    return ctx.wording.counted(
        "listateksti.summary_participation",
        part.methods,
        entries=ctx.num(part.methods),
        distinct=ctx.num(part.distinct_methods()),
    )


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
        names = [lower_first(clean(m.name.fi)) for m in level.examples]
        examples = (
            w.counted("listateksti.level_examples", len(names), examples=fi_list(names))
            if names
            else ""
        )
        line = w.text(
            "listateksti.level_line",
            number=level.number,
            name=clean(level.name.fi),
            description=clean(level.description.fi).rstrip("."),
            examples=examples,
        )
        last = hanging(doc, line.strip())
    if ctx.snapshot.levels:  # the list ends with a paragraph's space, not tight on the facts
        last.paragraph_format.space_after = Pt(4)
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
            participation=participation_sentence(ctx),
            coverage=coverage_sentence(ctx),
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
    para(
        doc,
        w.text("listateksti.table_methods_caption", ref=sheet_ref(ctx, "liite1", "chart")),
        "Caption",
    )
    widths = _first_column_widths(len(levels) + 1)
    table(doc, ["", *_level_headers(ctx), total_word], rows, widths, bold_last=True, right=numeric)
    _spacer(doc)

    rows = []
    for code in divisions:
        total = part.entities_by_division.get(code, 0)
        rows.append(
            [code]
            + [f"{part.by_division_level[(code, n)].entities}/{total}" for n in levels]
            + [f"{part.entities_with_by_division.get(code, 0)}/{total}"]
        )
    total = part.entities_total
    # The city's counts and, on a row of their own, the shares: "18/18 (100 %)" in one cell
    # would wrap in a column of a fifth of the page.
    rows.append(
        [_city_total(ctx)]
        + [f"{part.by_level[n].entities}/{total}" for n in levels]
        + [f"{part.entities_with}/{total}"]
    )
    rows.append(
        [w.text("listateksti.share_row")]
        + [fi_percent(part.by_level[n].entities, total) for n in levels]
        + [fi_percent(part.entities_with, total)]
    )
    para(
        doc,
        w.text("listateksti.table_entities_caption", ref=sheet_ref(ctx, "liite1", "coverage")),
        "Caption",
    )
    any_level = w.text("liite1.coverage_summary_columns.any_level")
    table(doc, ["", *_level_headers(ctx), any_level], rows, widths, bold_last=2, right=numeric)
    _spacer(doc)

    if part.top_methods:
        cols = w.mapping("listateksti.top_columns")
        rows = [
            [code, clean(name), fi_int(entities), fi_int(count)]
            for code in divisions
            for name, entities, count in part.top_methods.get(code, ())
        ]
        para(
            doc,
            w.text("listateksti.table_top_caption", ref=sheet_ref(ctx, "liite1", "top")),
            "Caption",
        )
        table(
            doc,
            [cols["division"], cols["method"], cols["entities"], cols["count"]],
            rows,
            [22.0, 76.0, 47.0, 20.0],
            right=(2, 3),
        )
        _spacer(doc)


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
    if not total.measuring:
        text = w.text("listateksti.results_satisfaction_none")
    if total.not_measured:
        key = "results_not_measured_unanswered" if total.unanswered else "results_not_measured"
        text += " " + w.text(
            f"listateksti.{key}",
            not_measured=ctx.num(total.not_measured, "inessive"),
            unanswered=ctx.num(total.unanswered, "elative"),
        )
    elif total.unanswered:
        sentence = w.text(
            "listateksti.results_unanswered", unanswered=ctx.num(total.unanswered, "elative")
        )
        text += " " + sentence[:1].upper() + sentence[1:]
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
                nps_range(d),
            ]
        )
    rows.append(
        [
            _city_total(ctx),
            f"{total.measuring}/{total.entities} ({fi_percent(total.measuring, total.entities)})",
            "",
            nps_range(total),
        ]
    )
    para(
        doc,
        w.text("listateksti.table_satisfaction_caption", ref=sheet_ref(ctx, "liite2", "summary")),
        "Caption",
    )
    table(
        doc,
        [cols["division"], cols["measuring"], cols["types"], cols["nps"]],
        rows,
        [FIRST_COLUMN_MM, 28.0, 165.0 - FIRST_COLUMN_MM - 28.0 - 25.0, 25.0],
        bold_last=True,
        right=(1, 3),
    )
    _spacer(doc)
    if not total.nps:
        para(doc, w.text("listateksti.nps_none"))
        return
    para(
        doc,
        w.counted(
            "listateksti.nps_results",
            len(total.nps),
            count=ctx.num(len(total.nps), "elative"),
            low=fi_signed(total.nps_low),
            high=fi_signed(total.nps_high),
            median=fi_median([r.score for r in total.nps]),
            ref=sheet_ref(ctx, "liite2", "summary"),
        ),
        space_after=2,
    )


def nps_range(d: fig.DivisionSatisfaction) -> str:
    """``+27…+42``; one result (or equal ones) is one value, never ``+40…+40``."""
    if not d.nps:
        return "–"
    if d.nps_low == d.nps_high:
        return fi_signed(d.nps_low)
    return f"{fi_signed(d.nps_low)}…{fi_signed(d.nps_high)}"


Comparison = list[tuple[str, float | None, float | None]]


def comparison(ctx: Context, previous: fig.Figures) -> Comparison:
    """(label, last year, this year) of the key figures of both metrics."""
    return comparison_participation(ctx, previous) + comparison_satisfaction(ctx, previous)


def comparison_participation(ctx: Context, previous: fig.Figures) -> Comparison:
    """Resident participation, last year and this: the list text's Taulukko 5 and Liite 1's
    Vertailu sheet show the same rows."""
    w = ctx.wording
    now = ctx.figures
    labels = w.mapping("listateksti.change_rows")
    p_now, p_old = now.participation, previous.participation
    figures: Comparison = [
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
    return figures


def comparison_satisfaction(ctx: Context, previous: fig.Figures) -> Comparison:
    """Customer satisfaction, last year and this: Taulukko 6, from Liite 2's figures."""
    labels = ctx.wording.mapping("listateksti.change_rows")
    s_now, s_old = ctx.figures.satisfaction, previous.satisfaction
    return [
        (labels["measuring"], s_old.total.measuring, s_now.total.measuring),
        (labels["nps_count"], len(s_old.total.nps), len(s_now.total.nps)),
        (labels["nps_median"], s_old.nps_median, s_now.nps_median),
    ]


def _satisfaction_ref(ctx: Context) -> str:
    """Where Taulukko 6's figures are: Liite 2's own comparison sheet when it has one
    (wording liite2.sheets.comparison); else its summary sheet, which holds this year's."""
    if "comparison" in ctx.base_wording.raw("liite2.sheets"):
        return sheet_ref(ctx, "liite2", "comparison")
    return ctx.wording.text("listateksti.current_year_ref", ref=sheet_ref(ctx, "liite2", "summary"))


def _change(ctx: Context, doc: DocxDocument, previous: fig.Figures) -> None:
    w = ctx.wording
    heading(doc, clean(w.text("listateksti.change_heading")), 3)
    cols = w.mapping("listateksti.change_columns")
    header = [cols["figure"], str(ctx.year - 1), str(ctx.year), cols["change"]]
    for caption, figures in (
        (
            w.text("listateksti.change_intro", ref=sheet_ref(ctx, "liite1", "comparison")),
            comparison_participation(ctx, previous),
        ),
        (
            w.text("listateksti.change_intro_satisfaction", ref=_satisfaction_ref(ctx)),
            comparison_satisfaction(ctx, previous),
        ),
    ):
        rows = []
        for label, old_value, new_value in figures:
            change = None if old_value is None or new_value is None else new_value - old_value
            rows.append([label, _number(old_value), _number(new_value), _change_text(change)])
        para(doc, caption, "Caption")
        table(doc, header, rows, [85.0, 25.0, 25.0, 30.0], right=(1, 2, 3))
        _spacer(doc)
    old_count = len(previous.satisfaction.total.nps)
    new_count = len(ctx.figures.satisfaction.total.nps)
    if old_count and new_count and old_count != new_count:
        para(
            doc,
            w.text(
                "listateksti.change_nps_note",
                old_count=ctx.num(old_count, "elative"),
                new_count=ctx.num(new_count, "elative"),
            ),
        )


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
    if not ctx.snapshot.has_data:
        return " ".join([*parts, w.text("listateksti.coverage_nothing")])
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


def attachment_lines(ctx: Context) -> list[str]:
    """Liitteet: each attachment by its number and the title it carries itself."""
    return [
        ctx.wording.text(
            "listateksti.attachment_line", number=attachment.number, title=attachment.title
        )
        for attachment in ctx.attachments
    ]


def _attachments(ctx: Context, doc: DocxDocument) -> None:
    _heading(ctx, doc, "attachments")
    for line in attachment_lines(ctx):
        para(doc, line, space_after=0)


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
    entries = [line for _year, line, _background in reversed(history_entries(ctx))]
    for index, line in enumerate(entries):  # newest first, kept together on one page
        paragraph = para(doc, line)
        paragraph.paragraph_format.keep_with_next = index < len(entries) - 1

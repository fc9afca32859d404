"""Texts of /tila, /valmis and /muokkaa: pure functions from data to Telegram HTML.

Compact lines instead of a wide table: service-entity names are long ("Sairaala-,
kuntoutus- ja hoivapalvelut") and a phone shows about 35 monospace characters, so each
entity gets its full name on one line and its level counts in a short monospace line under
it. Text that people typed (methods, notes, results) is always HTML-escaped; catalog names
are escaped too, because staff edit the catalog.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Final

from babel.numbers import format_decimal

from bot.access import Caller
from data.models import ReportState
from data.overview import DivisionStatus
from data.progress import EntityProgress
from i18n import N_
from i18n.formats import format_date, format_nps
from settings import Deadline

MESSAGE_LIMIT: Final = 4096

STATE_NAMES: Final[dict[ReportState, str]] = {
    ReportState.DRAFT: N_("draft"),
    ReportState.SUBMITTED: N_("ready (submitted)"),
    ReportState.REOPENED: N_("reopened"),
}
NONE_MARK: Final = "–"  # answered "no methods at this level"
NO_ANSWER_MARK: Final = "?"


def number(value: int, language: str) -> str:
    """1 200 in Finnish and Swedish (no-break space), 1,200 in English."""
    return format_decimal(value, locale=language)


def local_date(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return format_date(moment.astimezone(tz).date())


def state_label(who: Caller, status: DivisionStatus, tz: dt.tzinfo) -> str:
    """luonnos / valmis, lähetetty 2.11.2026 / avattu uudelleen."""
    if status.state is ReportState.SUBMITTED and status.state_changed_at is not None:
        return who._("ready, submitted {date}").format(date=local_date(status.state_changed_at, tz))
    return who._(STATE_NAMES[status.state])


# --- /tila -----------------------------------------------------------------------------


def _level_cell(who: Caller, entity: EntityProgress, level: int) -> str:
    if level in entity.methods_by_level:  # how many methods, never their counts added up
        value = number(entity.methods_by_level[level], who.language)
    elif level in entity.none_levels:
        value = NONE_MARK
    else:
        value = NO_ANSWER_MARK
    return who._("L{number}").format(number=level) + " " + value


def _satisfaction_text(who: Caller, status: DivisionStatus, entity: EntityProgress) -> str:
    answers = status.measurements.get(entity.service_entity_id, ())
    if not answers:
        return who._("no answer")
    if status.not_measured(entity.service_entity_id):
        return who._("not measured")
    parts = []
    for answer in answers:
        if answer.kind == "none":
            continue
        text = escape(answer.label(who.language))
        details = []
        if answer.nps is not None:
            details.append(who._("NPS {nps}").format(nps=format_nps(answer.nps, who.language)))
        elif answer.latest_result:
            result = answer.latest_result  # an overview: a long text result is shortened
            result = result if len(result) <= 40 else result[:39].rstrip() + "…"
            details.append(who._("result {result}").format(result=escape(result)))
        if answer.respondents is not None:
            details.append(
                who._("{count} respondents").format(count=number(answer.respondents, who.language))
            )
        if details:
            text += ": " + ", ".join(details)
        parts.append(text)
    return "; ".join(parts)


def entity_block(who: Caller, status: DivisionStatus, entity: EntityProgress) -> str:
    name = escape(entity.name.get(who.language) or entity.name["fi"])
    mark = " ✓" if entity.complete else ""
    cells = " · ".join(_level_cell(who, entity, level) for level in (1, 2, 3, 4))
    satisfaction = who._("Satisfaction: {what}").format(
        what=_satisfaction_text(who, status, entity)
    )
    return f"<b>{name}</b>{mark}\n<code>{cells}</code>\n{satisfaction}"


def _missing_for(who: Caller, entity: EntityProgress) -> str | None:
    parts = []
    missing = entity.missing_levels
    if len(missing) == 4:
        parts.append(who._("all levels"))
    elif len(missing) > 1:
        parts.append(who._("levels {levels}").format(levels=", ".join(map(str, missing))))
    elif missing:
        parts.append(who._("level {level}").format(level=missing[0]))
    if not entity.satisfaction_mapped:
        parts.append(who._("satisfaction"))
    if not parts:
        return None
    name = escape(entity.name.get(who.language) or entity.name["fi"])
    return f"• {name}: " + ", ".join(parts)


def missing_lines(who: Caller, status: DivisionStatus) -> list[str]:
    """One line per service entity that still lacks answers (empty when complete)."""
    return [line for e in status.progress.entities if (line := _missing_for(who, e))]


def completeness_line(who: Caller, status: DivisionStatus) -> str:
    entities = status.progress.entities
    return who._("{done}/{total} service entities complete.").format(
        done=sum(1 for e in entities if e.complete), total=len(entities)
    )


def deadline_line(who: Caller, deadline: tuple[Deadline, dt.date] | None) -> str:
    if deadline is None:
        return who._("This year's deadlines have passed.")
    item, day = deadline
    return who._("Next deadline: {date} – {title}").format(
        date=f"<b>{format_date(day)}</b>", title=escape(item.title.get(who.language))
    )


def status_text(
    who: Caller,
    status: DivisionStatus,
    division_name: str,
    deadline: tuple[Deadline, dt.date] | None,
    tz: dt.tzinfo,
) -> str:
    """The whole /tila message."""
    header = who._("Status of {division}, {year}").format(
        division=escape(division_name), year=status.year
    )
    lines = [
        f"<b>{header}</b>",
        who._("Report: {state}").format(state=f"<b>{state_label(who, status, tz)}</b>"),
        deadline_line(who, deadline),
        "",
    ]
    for entity in status.progress.entities:
        lines += [entity_block(who, status, entity), ""]
    lines.append(
        "<i>"
        + who._(
            "L1–L4 = participation levels; numbers are how many methods were reported (their "
            "counts are not added up); – = no methods at this level; ? = not answered yet."
        )
        + "</i>"
    )
    lines.append("")
    lines.append(completeness_line(who, status))
    missing = missing_lines(who, status)
    if status.state is ReportState.SUBMITTED:
        lines.append(
            who._("The report has been submitted. To change it, ask a coordinator to reopen it.")
        )
        if missing:  # submitted while incomplete: still missing what it misses
            lines.append(who._("Submitted with these answers missing:"))
            lines += missing
    elif missing:
        if deadline is not None:
            lines.append(
                who._("Still missing before {date}:").format(date=format_date(deadline[1]))
            )
        else:
            lines.append(who._("Still missing:"))
        lines += missing
        lines.append(
            who._(
                "Add answers with /raportoi and /tyytyvaisyys, change saved ones with "
                "/muokkaa, and submit with /valmis."
            )
        )
    else:
        lines.append(who._("Everything has been answered. Submit the report with /valmis."))
    return "\n".join(lines)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at blank lines (then lines) into parts Telegram accepts.

    Every block of the status text is complete HTML on its own, so any blank-line
    boundary is a safe cut.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for block in text.split("\n\n"):
        pieces = [block] if len(block) <= limit else block.split("\n")
        for piece in pieces:
            joiner = "\n\n" if piece is block else "\n"
            candidate = f"{current}{joiner}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    parts.append(current)
                current = piece[:limit]
    if current:
        parts.append(current)
    return parts


# --- /valmis ---------------------------------------------------------------------------


def submit_question(who: Caller, status: DivisionStatus, division_name: str) -> str:
    header = who._("Submit the report of {division}, {year}").format(
        division=escape(division_name), year=status.year
    )
    lines = [f"<b>{header}</b>", "", completeness_line(who, status)]
    missing = missing_lines(who, status)
    if missing:
        lines.append(who._("Still missing:"))
        lines += missing
        lines.append(who._("You can submit now anyway, or add the missing answers first."))
    else:
        lines.append(who._("Everything has been answered."))
    lines += [
        "",
        who._(
            "After submitting, the answers cannot be changed unless a coordinator reopens "
            "the report. Submit now?"
        ),
    ]
    return "\n".join(lines)


def locked_text(who: Caller, status: DivisionStatus, tz: dt.tzinfo) -> str:
    when = local_date(status.state_changed_at, tz) if status.state_changed_at is not None else ""
    return who._(
        "The report was submitted on {date}, so its answers cannot be changed now. Ask a "
        "coordinator to reopen it if something must change."
    ).format(date=when)

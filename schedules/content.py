"""What a reminder says, in the reader's language.

A reminder names the deadline and its date, says what is due, and — depending on who reads
it — what is still missing in the reader's division (contacts), where each division stands
(coordinators) or what can already be generated (strategy staff). A person with several
roles gets one message with a section per role. Text is HTML (Telegram ``parse_mode``);
everything that comes from data is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from data.progress import DivisionProgress, EntityProgress, Gap
from i18n import N_, gettext_for, normalize_language
from i18n.formats import format_date, format_time, weekday
from schedules.audience import Snapshot
from schedules.plan import Audience
from settings import Deadline

#: Telegram's limit on message text, in characters.
MAX_TEXT = 4096

AUDIENCE_NAMES = {
    Audience.CONTACT: N_("division contacts"),
    Audience.COORDINATOR: N_("coordinators"),
    Audience.STAFF: N_("strategy unit staff"),
}


@dataclass(frozen=True)
class ReminderFacts:
    """The deadline side of a reminder: the same for every reader of one send."""

    deadline: Deadline
    deadline_date: dt.date
    today: dt.date
    kind: str  # scheduled | nudge | snooze (data.ledger.KIND_*)


def language_of(preferred: str | None, default: str) -> str:
    return normalize_language(preferred, normalize_language(default))


def when_phrase(language: str, deadline_date: dt.date, today: dt.date) -> str:
    """today / tomorrow / in 3 days / yesterday / 2 days ago (days ≥ 2: always plural)."""
    _ = gettext_for(language)
    days = (deadline_date - today).days
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if days == -1:
        return _("yesterday")
    if days > 1:
        return _("in {days} days").format(days=days)
    return _("{days} days ago").format(days=-days)


def dated(language: str, day: dt.date) -> str:
    """pe 20.11.2026 — weekday in the reader's language, date the Finnish way."""
    return f"{weekday(day, language, short=True)} {format_date(day)}"


def _entity_line(entity: EntityProgress, language: str) -> str | None:
    """One service entity's gaps (`EntityProgress.gaps`), or None when it has none."""
    _ = gettext_for(language)
    if not entity.gaps:
        return None
    if not entity.has_answers:
        parts = [_("nothing reported yet")]
    else:
        parts = []
        if Gap.PARTICIPATION in entity.gaps:
            levels = ", ".join(str(n) for n in entity.missing_levels)
            parts.append(_("participation levels {levels}").format(levels=levels))
        if Gap.SATISFACTION in entity.gaps:
            parts.append(_("how satisfaction is measured"))
    name = entity.name.get(language) or entity.name["fi"]
    return f"• {escape(name)}: {escape('; '.join(parts))}"


def contact_section(progress: DivisionProgress | None, language: str) -> list[str]:
    """What is still missing in the reader's own division."""
    _ = gettext_for(language)
    if progress is None:
        return [escape(_("Your division is not set; ask the strategy unit to fix your access."))]
    division = progress.name.get(language) or progress.name["fi"]
    if not progress.gaps:
        done = _("{division}: the data is complete. Thank you!").format(division=division)
        return [escape(done)]
    gaps = [line for e in progress.missing if (line := _entity_line(e, language))]
    if progress.submitted:
        heading = _(
            "{division}: the report was submitted with these answers missing; a coordinator "
            "must reopen it before they can be added:"
        ).format(division=division)
        return [escape(heading), *gaps]
    lines = [escape(_("Still missing – {division}:").format(division=division)), *gaps]
    lines.append(escape(_("Report with the button below, or with /raportoi and /tyytyvaisyys.")))
    return lines


def coordinator_section(progress: Sequence[DivisionProgress], language: str) -> list[str]:
    """Every division at a glance."""
    _ = gettext_for(language)
    lines = [escape(_("Divisions:"))]
    for division in progress:
        if division.answers_complete:
            status = _("all service entities complete")
            lines.append(f"✅ {escape(division.code)}: {escape(status)}")
        elif division.submitted:
            # Submitted with gaps: nobody is reminded, but the gaps are still there.
            status = _("submitted with answers missing ({done}/{total} service entities complete)")
            done = sum(1 for e in division.entities if e.complete)
            text = status.format(done=done, total=len(division.entities))
            lines.append(f"• {escape(division.code)}: {escape(text)}")
        else:
            done = sum(1 for e in division.entities if e.complete)
            status = _("{done}/{total} service entities complete").format(
                done=done, total=len(division.entities)
            )
            lines.append(f"• {escape(division.code)}: {escape(status)}")
    if any(not d.complete for d in progress):
        lines.append(escape(_("Nudge the divisions that are late with /muistuta.")))
    return lines


def staff_section(progress: Sequence[DivisionProgress], language: str) -> list[str]:
    """What can already be generated for the list text and its attachments."""
    _ = gettext_for(language)
    complete = [d.code for d in progress if d.complete]
    if progress and len(complete) == len(progress):
        text = _(
            "All divisions have reported: the final list text and attachments can be "
            "generated now with /luonnos."
        )
    elif complete:
        text = _(
            "{done} of {total} divisions complete ({codes}). Drafts of the list text and the "
            "Excel attachments can already be generated with /luonnos; they are marked "
            "LUONNOS until every division is complete."
        ).format(done=len(complete), total=len(progress), codes=", ".join(complete))
    else:
        text = _(
            "No division is complete yet. Drafts of the list text and the Excel attachments "
            "can already be generated with /luonnos; they are marked LUONNOS until every "
            "division is complete."
        )
    return [escape(text)]


def reminder_text(
    facts: ReminderFacts,
    *,
    language: str,
    audiences: Sequence[Audience],
    snapshot: Snapshot,
    division_id: int | None,
) -> str:
    """The whole message for one reader (HTML, at most 4096 characters)."""
    _ = gettext_for(language)
    title = facts.deadline.title.get(language)
    label = _("Reminder")
    lines = [f"⏰ <b>{escape(label)}: {escape(title)}</b>"]
    if facts.kind == "nudge":
        lines.insert(0, escape(_("The coordinator asks you to complete your division's data.")))
    elif facts.kind == "snooze":
        lines.insert(0, escape(_("You asked me to remind you again today.")))
    deadline = _("Deadline: {date} ({when})").format(
        date=dated(language, facts.deadline_date),
        when=when_phrase(language, facts.deadline_date, facts.today),
    )
    lines.append(escape(deadline))
    sections: dict[Audience, Callable[[], list[str]]] = {
        Audience.CONTACT: lambda: contact_section(snapshot.division(division_id), language),
        Audience.COORDINATOR: lambda: coordinator_section(snapshot.progress, language),
        Audience.STAFF: lambda: staff_section(snapshot.progress, language),
    }
    for audience in audiences:
        lines.append("")
        lines.extend(sections[audience]())
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def snooze_time_text(language: str, at: dt.time) -> str:
    _ = gettext_for(language)
    return _("OK, I will remind you tomorrow at {time}.").format(time=format_time(at))

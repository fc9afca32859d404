"""/aikataulu: the coming deadlines and the next reminders, for coordinators and staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from i18n import gettext_for
from i18n.formats import format_time
from schedules.audience import Snapshot
from schedules.content import AUDIENCE_NAMES, dated, when_phrase
from schedules.plan import PlannedReminder, SlotKey, plan_year
from settings import Deadline, Settings

#: How many coming reminder sends /aikataulu lists before "+ N more".
NEXT_REMINDERS = 5
#: How many coming deadlines it lists before "+ N more" (a round has four).
NEXT_DEADLINES = 8


def coming_deadlines(
    settings: Settings, today: dt.date, *, through_year: int | None = None
) -> list[tuple[Deadline, dt.date]]:
    """Every deadline from today on: the rest of this year's round and, once that round
    has none left or when ``through_year`` asks for it, every deadline of the next ones.

    ``through_year`` is the year of the last reminder shown, so each listed reminder's
    deadline is listed too (the two sections never disagree about what is coming).
    """
    last = max(today.year, through_year or today.year)
    found: list[tuple[Deadline, dt.date]] = []
    for year in range(today.year, last + 2):
        if year > last and found:
            break
        found += [(d, day) for d, day in settings.calendar.dates_for(year) if day >= today]
    return found


def next_sends(
    settings: Settings, snapshots: dict[int, Snapshot], now: dt.datetime
) -> list[list[PlannedReminder]]:
    """Every send after ``now`` in the years of ``snapshots``, each as its audiences."""
    grouped: dict[SlotKey, list[PlannedReminder]] = {}
    for year, snapshot in sorted(snapshots.items()):
        for item in plan_year(settings, year, audiences=snapshot.audiences):
            if item.at > now:
                grouped.setdefault(item.slot, []).append(item)
    return sorted(grouped.values(), key=lambda items: items[0].at)


def _more(language: str, hidden: int) -> list[str]:
    """The "+ N more" line of a shortened list (none when nothing was left out)."""
    _ = gettext_for(language)
    return [escape(_("+ {count} more").format(count=hidden))] if hidden > 0 else []


def uncertain_lines(language: str, uncertain: Sequence[tuple[str, dt.date]]) -> list[str]:
    """The "delivery uncertain" section: reminders whose sending was interrupted during the
    Telegram call (never re-sent), as (person's name, deadline date)."""
    if not uncertain:
        return []
    _ = gettext_for(language)
    heading = _("Delivery uncertain ({count})").format(count=len(uncertain))
    lines = ["", f"⚠️ <b>{escape(heading)}</b>"]
    lines.append(
        escape(
            _(
                "Sending these reminders was interrupted and they are not sent again; "
                "check with the person if needed."
            )
        )
    )
    for name, day in uncertain[:NEXT_REMINDERS]:
        line = _("{name} – deadline {date}").format(name=name, date=dated(language, day))
        lines.append(f"• {escape(line)}")
    return lines + _more(language, len(uncertain) - NEXT_REMINDERS)


def schedule_text(
    settings: Settings,
    snapshots: dict[int, Snapshot],
    now: dt.datetime,
    language: str,
    uncertain: Sequence[tuple[str, dt.date]] = (),
) -> str:
    """The /aikataulu message (HTML). ``snapshots``: audiences per year (this and next);
    ``uncertain``: this year's reminders whose delivery is unknown (name, deadline)."""
    _ = gettext_for(language)
    local_now = now.astimezone(settings.tz)
    today = local_now.date()
    sends = next_sends(settings, snapshots, now)
    shown = sends[:NEXT_REMINDERS]
    through = max((items[0].deadline_date.year for items in shown), default=None)
    heading = _("Coming deadlines")
    lines = [f"📅 <b>{escape(heading)}</b>"]
    deadlines = coming_deadlines(settings, today, through_year=through)
    for deadline, day in deadlines[:NEXT_DEADLINES]:
        title = deadline.title.get(language)
        when = when_phrase(language, day, today)
        lines.append(f"• {escape(dated(language, day))} – {escape(title)} ({escape(when)})")
    lines += _more(language, len(deadlines) - NEXT_DEADLINES)
    if not deadlines:
        lines.append(escape(_("No deadlines in the calendar.")))
    heading = _("Next reminders")
    lines += ["", f"⏰ <b>{escape(heading)}</b>"]
    for items in shown:
        first = items[0]
        at = first.at.astimezone(settings.tz)
        title = first.deadline.title.get(language)
        who = ", ".join(
            f"{_(AUDIENCE_NAMES[item.audience])} {len(item.recipients)}" for item in items
        )
        lines.append(
            f"• {escape(dated(language, at.date()))} {format_time(at)} – "
            f"{escape(title)}: {escape(who)}"
        )
    lines += _more(language, len(sends) - len(shown))
    if not sends:
        lines.append(escape(_("No reminders planned.")))
    lines += uncertain_lines(language, uncertain)
    return "\n".join(lines)

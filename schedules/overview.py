"""/aikataulu: the coming deadlines and the next reminders, for coordinators and staff."""

from __future__ import annotations

import datetime as dt
from html import escape

from i18n import gettext_for
from schedules.audience import Snapshot
from schedules.content import AUDIENCE_NAMES, dated, when_phrase
from schedules.dates import fi_time
from schedules.plan import PlannedReminder, SlotKey, plan_year
from settings import Deadline, Settings

#: How many coming reminder sends /aikataulu lists.
NEXT_REMINDERS = 5


def coming_deadlines(settings: Settings, today: dt.date) -> list[tuple[Deadline, dt.date]]:
    """This year's deadlines from today on — or, after the last one, next year's."""
    for year in (today.year, today.year + 1):
        found = [(d, day) for d, day in settings.calendar.dates_for(year) if day >= today]
        if found:
            return found
    return []


def next_sends(
    settings: Settings, snapshots: dict[int, Snapshot], now: dt.datetime, limit: int
) -> list[list[PlannedReminder]]:
    """The next ``limit`` sends after ``now``, each as its list of audiences."""
    grouped: dict[SlotKey, list[PlannedReminder]] = {}
    for year, snapshot in sorted(snapshots.items()):
        for item in plan_year(settings, year, audiences=snapshot.audiences):
            if item.at > now:
                grouped.setdefault(item.slot, []).append(item)
    sends = sorted(grouped.values(), key=lambda items: items[0].at)
    return sends[:limit]


def schedule_text(
    settings: Settings, snapshots: dict[int, Snapshot], now: dt.datetime, language: str
) -> str:
    """The /aikataulu message (HTML). ``snapshots``: audiences per year (this and next)."""
    _ = gettext_for(language)
    local_now = now.astimezone(settings.tz)
    today = local_now.date()
    heading = _("Coming deadlines")
    lines = [f"📅 <b>{escape(heading)}</b>"]
    deadlines = coming_deadlines(settings, today)
    for deadline, day in deadlines:
        title = deadline.title.get(language)
        when = when_phrase(language, day, today)
        lines.append(f"• {escape(dated(language, day))} – {escape(title)} ({escape(when)})")
    if not deadlines:
        lines.append(escape(_("No deadlines in the calendar.")))
    heading = _("Next reminders")
    lines += ["", f"⏰ <b>{escape(heading)}</b>"]
    sends = next_sends(settings, snapshots, now, NEXT_REMINDERS)
    for items in sends:
        first = items[0]
        at = first.at.astimezone(settings.tz)
        title = first.deadline.title.get(language)
        who = ", ".join(
            f"{_(AUDIENCE_NAMES[item.audience])} {len(item.recipients)}" for item in items
        )
        lines.append(
            f"• {escape(dated(language, at.date()))} {fi_time(at)} – {escape(title)}: {escape(who)}"
        )
    if not sends:
        lines.append(escape(_("No reminders planned.")))
    return "\n".join(lines)

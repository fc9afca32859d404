"""/tilanne: every division at a glance, the next deadline, and the same as a chart.

Coordinators (and strategy staff) see, per division: service entities reported / total,
the levels with methods, satisfaction mapped, the report state and the last change; then
the next deadline with the divisions still incomplete. Coordinators can reopen a
submitted report from here; the division's contacts and the other coordinators are told.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.access import Caller, in_worker, requires
from bot.admin.callbacks import ID, OVERVIEW, OverviewStep, button_data, pattern
from bot.admin.shared import (
    chat_action,
    division_label,
    edit,
    language_of,
    person_label,
    send_menu,
)
from bot.charts import ChartTexts, DivisionCoverage, coverage_chart
from bot.ui import MSG_STALE
from core.services import Services, services
from data import catalog, people, progress, reports
from data.db import off_loop, transaction
from data.models import Division, Person, ReportState, Role
from data.people import PersonValue
from data.progress import DivisionProgress, DivisionState
from delivery import notices
from i18n import N_, gettext_for
from i18n.formats import format_date, format_datetime, format_percent
from settings import Deadline, Settings

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

STATE_NAMES = {
    ReportState.DRAFT: N_("in progress"),
    ReportState.SUBMITTED: N_("submitted"),
    ReportState.REOPENED: N_("reopened"),
}


def next_deadline(settings: Settings, today: dt.date) -> tuple[Deadline, dt.date] | None:
    """The first deadline on or after today that divisions work towards (``remind``);
    after the last one of the year, the first of next year."""
    for year in (today.year, today.year + 1):
        for deadline, day in settings.calendar.dates_for(year):
            if deadline.remind and day >= today:
                return deadline, day
    return None


def _when(who: Caller, days: int) -> str:
    if days == 0:
        return who._("today")
    if days == 1:
        return who._("tomorrow")
    return who._("in {days} days").format(days=days)


def _division_block(who: Caller, division: DivisionProgress, tz: ZoneInfo) -> list[str]:
    title = division.name.get(who.language) or division.name["fi"]
    total = len(division.entities)
    levels = ", ".join(str(n) for n in division.levels_covered) or "–"
    changed = (
        format_datetime(division.last_change_at, tz)
        if division.last_change_at
        else who._("nothing reported yet")
    )
    return [
        f"<b>{html.escape(division.code)}</b> {html.escape(title)} – "
        f"{html.escape(who._(STATE_NAMES[division.state]))}",
        who._("Service entities reported: {done}/{total}").format(
            done=division.entities_reported, total=total
        ),
        who._("Levels with methods: {levels}").format(levels=levels),
        who._("Satisfaction measurement mapped: {done}/{total}").format(
            done=division.satisfaction_mapped, total=total
        ),
        who._("Last change: {when}").format(when=changed),
    ]


def overview_text(
    who: Caller, rows: list[DivisionProgress], settings: Settings, today: dt.date, year: int
) -> str:
    """The message: one block per division, then the next deadline and who is late."""
    heading = who._("Situation {year}").format(year=year)
    lines = [f"<b>{html.escape(heading)}</b>", ""]
    for division in rows:
        lines += [*_division_block(who, division, settings.tz), ""]
    upcoming = next_deadline(settings, today)
    if upcoming is not None:
        deadline, day = upcoming
        lines.append(
            "<b>"
            + html.escape(
                who._("Next deadline: {date} ({when})").format(
                    date=format_date(day, who.language), when=_when(who, (day - today).days)
                )
            )
            + "</b>"
        )
        lines.append(html.escape(deadline.title.get(who.language)))
    # Each division is in exactly one of these (data.progress.division_state): a report
    # submitted with gaps is "submitted", never also "still incomplete".
    incomplete = [d.code for d in rows if d.division_state is DivisionState.INCOMPLETE]
    unsent = [d.code for d in rows if d.division_state is DivisionState.COMPLETE]
    # ... but what is missing is missing whatever the state (data.progress.Gap).
    with_gaps = [d.code for d in rows if d.submitted_with_gaps]
    if incomplete:
        lines.append(who._("Still incomplete: {divisions}").format(divisions=", ".join(incomplete)))
    elif not with_gaps:
        lines.append(who._("Every division is complete."))
    if with_gaps:
        lines.append(
            who._("Submitted with answers missing: {divisions}").format(
                divisions=", ".join(with_gaps)
            )
        )
    if unsent:
        lines.append(
            who._("Complete but not submitted: {divisions}").format(divisions=", ".join(unsent))
        )
    if who.has(Role.COORDINATOR):
        lines += ["", who._("/muistuta sends a reminder to the incomplete divisions.")]
    return "\n".join(lines)


def _keyboard(who: Caller, rows: list[DivisionProgress], year: int) -> InlineKeyboardMarkup | None:
    """Reopen buttons for the submitted reports (coordinators only)."""
    if not who.has(Role.COORDINATOR):
        return None
    buttons = [
        [
            InlineKeyboardButton(
                who._("Reopen {division}").format(division=d.code),
                callback_data=button_data(OVERVIEW, OverviewStep.REOPEN, d.division_id, year),
            )
        ]
        for d in rows
        if d.state is ReportState.SUBMITTED
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


def chart_texts(who: Caller, levels: list[str], today: dt.date) -> ChartTexts:
    """Every word on the chart in the reader's language."""
    return ChartTexts(
        title=who._("Situation {date}").format(date=format_date(today, who.language)),
        levels_title=who._("Service entities with methods at each level"),
        level_names=levels,
        coverage_title=who._("Service entities reported"),
        participation=who._("participation complete"),
        satisfaction=who._("satisfaction mapped"),
        submitted=who._(STATE_NAMES[ReportState.SUBMITTED]),
        percents=[format_percent(share / 100, who.language) for share in (0, 25, 50, 75, 100)],
    )


def chart_rows(rows: list[DivisionProgress], level_numbers: list[int]) -> list[DivisionCoverage]:
    return [
        DivisionCoverage(
            code=d.code,
            entities=len(d.entities),
            with_methods_by_level=[
                sum(1 for e in d.entities if n in e.counts_by_level) for n in level_numbers
            ],
            participation_complete=d.entities_reported,
            satisfaction_mapped=d.satisfaction_mapped,
            submitted=d.state is ReportState.SUBMITTED,
        )
        for d in rows
    ]


def _progress(
    svc: Services, year: int
) -> tuple[list[DivisionProgress], list[tuple[int, dict[str, str]]]]:
    """Every division's progress, and the active levels (number, names)."""
    with transaction(svc.sessions) as session:
        rows = progress.round_progress(session, year)
        levels = [(level.number, level.name) for level in catalog.levels(session)]
    return rows, levels


@requires(Role.COORDINATOR, Role.STAFF)
async def overview_command(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """/tilanne: the chart first (it reads fastest), then the details with the buttons."""
    chat = update.effective_chat
    assert chat is not None
    svc = services(context)
    year, today = svc.current_year(), svc.local_now().date()
    rows, levels = await in_worker(context, _progress, svc, year)
    level_names = [f"{number} {name.get(who.language) or name['fi']}" for number, name in levels]
    async with chat_action(context.bot, chat.id, ChatAction.UPLOAD_PHOTO):
        png = await asyncio.to_thread(
            coverage_chart,
            chart_rows(rows, [number for number, _ in levels]),
            chart_texts(who, level_names, today),
        )
    await chat.send_photo(
        InputFile(png, filename=f"tilanne-{today.isoformat()}.png"),
        caption=who._("Situation {date}").format(date=format_date(today, who.language)),
    )
    await send_menu(
        context,
        chat,
        who,
        OVERVIEW,
        overview_text(who, rows, svc.settings, today, year),
        parse_mode=ParseMode.HTML,
        reply_markup=_keyboard(who, rows, year),
    )


def _submitted_division(svc: Services, division_id: int, year: int) -> Division | None:
    """The division if its report of ``year`` is submitted now, else None."""
    with transaction(svc.sessions) as session:
        division = catalog.by_id(session, Division, division_id)
        rnd = progress.find_round(session, year)
        if division is None or rnd is None:
            return None
        state = progress.report_state(session, rnd.id, division_id)
        return division if state is ReportState.SUBMITTED else None


async def _not_reopenable(
    query: CallbackQuery, who: Caller, svc: Services, division_id: int
) -> None:
    """The alert for a reopen button whose report is no longer submitted (or is gone)."""

    def read() -> Division | None:
        with transaction(svc.sessions) as session:
            return catalog.by_id(session, Division, division_id)

    division = await off_loop(read, sessions=svc.sessions)
    if division is None:
        await query.answer(who._(MSG_STALE), show_alert=True)
        return
    await query.answer(
        who._("{division}'s report is not submitted, so there is nothing to reopen.").format(
            division=division.code
        ),
        show_alert=True,
    )


@requires(Role.COORDINATOR)
async def ask_reopen(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Reopening unlocks a submitted report for its contacts: ask first, in a new message, so
    the overview stays readable above it."""
    query = update.callback_query
    assert query is not None and context.matches and query.message is not None
    division_id, year = int(context.matches[0].group(1)), int(context.matches[0].group(2))
    svc = services(context)
    division = await in_worker(context, _submitted_division, svc, division_id, year)
    if division is None:
        await _not_reopenable(query, who, svc, division_id)
        return
    await query.answer()
    overview_id = query.message.message_id
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    who._("Yes, reopen"),
                    callback_data=button_data(
                        OVERVIEW, OverviewStep.REOPEN_CONFIRMED, division_id, year, overview_id
                    ),
                ),
                InlineKeyboardButton(
                    who._("Keep it submitted"),
                    callback_data=button_data(OVERVIEW, OverviewStep.REOPEN_CANCEL, division_id),
                ),
            ]
        ]
    )
    assert update.effective_chat is not None
    await update.effective_chat.send_message(
        who._(
            "Reopen the submitted report of {division}? Its contacts can then change the "
            "answers, and the report must be submitted again with /valmis."
        ).format(division=division.code),
        reply_markup=keyboard,
    )


@requires(Role.COORDINATOR)
async def cancel_reopen(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, who._("Not reopened; the report stays submitted."))


@requires(Role.COORDINATOR)
async def reopen(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Reopen a submitted report, then tell the division's contacts and the coordinators."""
    query = update.callback_query
    assert query is not None and context.matches and who.person is not None
    groups = context.matches[0].groups()
    division_id, year, overview_id = int(groups[0]), int(groups[1]), int(groups[2])
    svc = services(context)
    me = who.person

    def write() -> tuple[Division | None, bool, list[Person]]:
        with transaction(svc.sessions) as session:
            division = catalog.by_id(session, Division, division_id)
            reopened = division is not None and reports.reopen_report(
                session, me, year, division_id
            )
            contacts = people.people_with_role(session, Role.CONTACT, division_id=division_id)
            if reopened:  # reopened and everyone told, or neither (delivery.notices)
                assert division is not None
                coordinators = [
                    p for p in people.people_with_role(session, Role.COORDINATOR) if p.id != me.id
                ]
                notices.notify(
                    session,
                    [(p, _contact_notice(p, division, me, svc)) for p in contacts]
                    + [(p, _coordinator_notice(p, division, me, svc)) for p in coordinators],
                )
        return division, reopened, contacts

    division, reopened, contacts = await in_worker(context, write)
    if division is None or not reopened:
        await _not_reopenable(query, who, svc, division_id)
        return
    await query.answer(who._("Reopened."))
    if contacts:
        result = who._(
            "{division}'s report is reopened. Its contacts ({count}) were told and can change "
            "the answers."
        ).format(division=division.code, count=len(contacts))
    else:
        result = who._(
            "{division}'s report is reopened. The division has no contact yet, so nobody was "
            "told; invite one with /kutsu (strategy staff)."
        ).format(division=division.code)
    await edit(query, result)
    await _refresh_overview(context, who, svc, year, query, overview_id)


def _contact_notice(person: Person, division: Division, by: PersonValue, svc: Services) -> str:
    _ = gettext_for(language_of(person, svc.settings.default_language))
    return _(
        "Your division's report ({division}) was reopened by {name}, coordinator. You "
        "can change the answers again; /valmis submits the report once more."
    ).format(division=division.code, name=person_label(by))


def _coordinator_notice(person: Person, division: Division, by: PersonValue, svc: Services) -> str:
    language = language_of(person, svc.settings.default_language)
    _ = gettext_for(language)
    return _("{name} reopened the report of {division}.").format(
        name=person_label(by), division=division_label(division, language)
    )


async def _refresh_overview(
    context: ContextTypes.DEFAULT_TYPE,
    who: Caller,
    svc: Services,
    year: int,
    query: CallbackQuery,
    overview_id: int,
) -> None:
    """The overview the reopen button was on now shows the new state (and loses the
    button); an overview too old to edit or deleted is left as it is."""
    if query.message is None:
        return
    rows, _levels = await in_worker(context, _progress, svc, year)
    try:
        await context.bot.edit_message_text(
            overview_text(who, rows, svc.settings, svc.local_now().date(), year),
            chat_id=query.message.chat.id,
            message_id=overview_id,
            parse_mode=ParseMode.HTML,
            reply_markup=_keyboard(who, rows, year),
        )
    except BadRequest as error:
        log.info("overview %s not refreshed: %s", overview_id, error)


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("tilanne", overview_command))
    year = r"[0-9]{4}"
    handlers = [
        (ask_reopen, pattern(OVERVIEW, OverviewStep.REOPEN, ID, year)),
        (reopen, pattern(OVERVIEW, OverviewStep.REOPEN_CONFIRMED, ID, year, ID)),
        (cancel_reopen, pattern(OVERVIEW, OverviewStep.REOPEN_CANCEL, ID)),
    ]
    for callback, regex in handlers:
        application.add_handler(CallbackQueryHandler(callback, pattern=regex))

"""/tila: the division's status matrix for the current round, for its contacts only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.access import Caller, caller, in_worker, refuse
from bot.flow.engine import is_contact
from bot.status import render
from core import codec
from core.services import Services, services
from data import catalog, overview
from data.db import transaction
from data.models import Division
from i18n import N_
from miniapp.texts import OPEN_FORM
from schedules.plan import CONTACT_DEADLINES
from settings import Deadline, Settings

EXCEL_BUTTON = N_("Excel workbook")
#: The Excel feature's buttons (``bot.handlers.excel``) and the one that sends the workbook.
EXCEL = "xl"
EXCEL_BUTTON_DATA = codec.button(EXCEL, "get")


def next_deadline(settings: Settings, today: dt.date) -> tuple[Deadline, dt.date] | None:
    """The division's next deadline on or after ``today``: of the deadlines its answers are
    due for (``schedules.plan.CONTACT_DEADLINES``, as its reminders say), never the staff's
    own; None when they are all past."""
    for deadline, day in settings.calendar.dates_for(today.year):
        if day >= today and deadline.code in CONTACT_DEADLINES:
            return deadline, day
    return None


def load_status(svc: Services, who: Caller, year: int) -> tuple[overview.DivisionStatus, str]:
    """The division's status and its name in the caller's language."""
    with transaction(svc.sessions) as session:
        return load_status_in(session, who, year)


def load_status_in(session: Session, who: Caller, year: int) -> tuple[overview.DivisionStatus, str]:
    """`load_status` inside a transaction the update already has open."""
    assert who.person is not None and who.person.division_id is not None
    status = overview.division_status(session, who.person, year, who.person.division_id)
    division = session.get_one(Division, who.person.division_id)
    return status, catalog.name_of(division, who.language)


async def show_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tila: entities × levels with counts, satisfaction, what is missing, report state."""
    who = await caller(update, context)
    if not is_contact(who):
        await refuse(update, who)
        return
    assert update.effective_chat is not None
    svc = services(context)
    status, division_name = await in_worker(context, load_status, svc, who, svc.current_year())
    deadline = next_deadline(svc.settings, svc.local_now().date())
    text = render.status_text(who, status, division_name, deadline, svc.settings.tz)
    parts = render.split_message(text)
    # The Excel way next to the chat (bot.handlers.excel answers the button).
    buttons = [[InlineKeyboardButton(who._(EXCEL_BUTTON), callback_data=EXCEL_BUTTON_DATA)]]
    page = svc.settings.miniapp_page
    if page is not None:  # the Mini App: the whole division on one page
        buttons.insert(0, [InlineKeyboardButton(who._(OPEN_FORM), web_app=WebAppInfo(page))])
    excel = InlineKeyboardMarkup(buttons)
    for index, part in enumerate(parts):
        markup = excel if index == len(parts) - 1 else None
        await update.effective_chat.send_message(
            part, parse_mode=ParseMode.HTML, reply_markup=markup
        )

"""/tila: the division's status matrix for the current round, for its contacts only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.access import Caller, caller, refuse
from bot.flow.engine import is_contact
from bot.status import render
from core.services import Services, services
from data import catalog, overview
from data.db import transaction
from data.models import Division
from settings import Deadline, Settings


def next_deadline(settings: Settings, today: dt.date) -> tuple[Deadline, dt.date] | None:
    """The first of this year's deadlines on or after ``today`` (None when all are past)."""
    for deadline, day in settings.calendar.dates_for(today.year):
        if day >= today:
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
    who = caller(update, context)
    if not is_contact(who):
        await refuse(update, who)
        return
    assert update.effective_chat is not None
    svc = services(context)
    status, division_name = load_status(svc, who, svc.current_year())
    deadline = next_deadline(svc.settings, svc.local_now().date())
    text = render.status_text(who, status, division_name, deadline, svc.settings.tz)
    for part in render.split_message(text):
        await update.effective_chat.send_message(part, parse_mode=ParseMode.HTML)

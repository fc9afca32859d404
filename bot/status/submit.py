"""/valmis: show what is missing, confirm, submit, and tell every coordinator.

The submitted state is committed before anything is sent: a coordinator who blocked the
bot, a flood wait or a network failure while notifying can delay or drop a notification,
never the submission. Each coordinator is notified separately in their own language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.access import caller, refuse
from bot.status import render, steps
from bot.status.flow import (
    END,
    NO_LONGER_VALID,
    Turn,
    answer_alert,
    begin,
    remember,
    send,
    show,
    show_after_save,
    step,
)
from bot.status.show import load_status
from bot.status.steps import Step
from core.services import Services, services
from data import overview, people, reports
from data.db import transaction
from data.models import Division, Person, ReportState, Role
from i18n import gettext_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    """A coordinator to notify, captured inside the submit transaction."""

    person_id: int
    telegram_user_id: int
    language: str


def _keyboard(turn: Turn) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    turn._("Submit the report"), callback_data=steps.submit_yes(turn.year)
                )
            ],
            [InlineKeyboardButton(turn._("Cancel"), callback_data=steps.submit_no())],
        ]
    )


async def _ask(update: Update, turn: Turn) -> object:
    status, division_name = load_status(turn.svc, turn.who, turn.year)
    if status.state is ReportState.SUBMITTED:
        await send(update, render.locked_text(turn.who, status, turn.svc.settings.tz))
        return END
    await send(update, render.submit_question(turn.who, status, division_name), _keyboard(turn))
    return Step.CONFIRM_SUBMIT


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/valmis (also restarts a running /valmis or /muokkaa)."""
    who = caller(update, context)
    svc = services(context)
    turn = begin(context, who, "submit", svc.current_year())
    if turn is None:
        await refuse(update, who)
        return END
    return remember(turn, await _ask(update, turn))


@step
async def ask_again(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    """Typed text at the confirmation: say so and ask the same question again."""
    await send(update, turn._("Please answer with the buttons."))
    return await _ask(update, turn)


@step
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    await show(update, turn._("The report was not submitted. Nothing was changed."))
    return END


@step
async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> object:
    """Submit (the year in the button must be this flow's and still the current year)."""
    assert context.match is not None
    year = int(context.match["year"])
    if year != turn.year or year != turn.svc.current_year():
        await answer_alert(update, turn._(NO_LONGER_VALID))
        return END
    try:
        with transaction(turn.svc.sessions) as session:
            person = people.active_person(session, turn.telegram_user_id)
            if person is None:
                raise reports.AccessDenied("no longer an active person")
            reports.submit_report(session, person, year, turn.division_id)
            status = overview.division_status(session, person, year, turn.division_id)
            division = session.get_one(Division, turn.division_id)
            division_names = dict(division.name)
            submitter = person.name
            recipients = [
                Recipient(
                    p.id, p.telegram_user_id, p.language or turn.svc.settings.default_language
                )
                for p in people.people_with_role(session, Role.COORDINATOR)
                if p.id != person.id
            ]
    except reports.ReportLocked:
        status, _name = load_status(turn.svc, turn.who, turn.year)
        await show(update, render.locked_text(turn.who, status, turn.svc.settings.tz))
        return END
    except reports.AccessDenied:
        await refuse(update, turn.who)
        return END
    division_name = division_names.get(turn.who.language) or division_names["fi"]
    await show_after_save(
        update,
        turn._(
            "The report of {division} for {year} has been submitted. The coordinators have "
            "been told. To change it later, ask a coordinator to reopen it."
        ).format(division=escape(division_name), year=year),
    )
    await notify_coordinators(
        context, turn.svc, recipients, division_names, year, submitter, status
    )
    return END


async def notify_coordinators(
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    recipients: list[Recipient],
    division_names: dict[str, str],
    year: int,
    submitter: str,
    status: overview.DivisionStatus,
) -> None:
    """One plain-text message per coordinator; a failure for one never stops the others."""
    done = sum(1 for e in status.progress.entities if e.complete)
    total = len(status.progress.entities)
    for recipient in recipients:
        _ = gettext_for(recipient.language)
        name = division_names.get(recipient.language) or division_names["fi"]
        lines = [
            _("{division} submitted its report for {year}.").format(division=name, year=year),
            _("Submitted by: {name}").format(name=submitter or "–"),
            _("{done}/{total} service entities complete.").format(done=done, total=total),
        ]
        try:
            await context.bot.send_message(recipient.telegram_user_id, "\n".join(lines))
        except Forbidden as error:
            log.warning("coordinator %s could not be notified: %s", recipient.person_id, error)
            if "blocked" in str(error).lower():
                _deactivate_blocked(svc, recipient.person_id)
        except TelegramError as error:  # flood wait past the retries, network, …
            log.warning("coordinator %s could not be notified: %s", recipient.person_id, error)


def _deactivate_blocked(svc: Services, person_id: int) -> None:
    """A person who blocked the bot cannot be reached: mark them inactive (audited)."""
    with transaction(svc.sessions) as session:
        person = session.get(Person, person_id)
        if person is not None:
            people.deactivate(session, person, actor_id=None, reason="blocked_bot")

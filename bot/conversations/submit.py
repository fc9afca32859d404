"""/valmis: show what is missing, confirm, submit, and tell every coordinator.

Steps: CONFIRM ──► (an empty report: EMPTY, confirmed once more) ──► submitted.

The submitted state is committed with the update's transaction before anything is sent: a
coordinator who blocked the bot, a flood wait or a network failure while notifying can
delay or drop a notification, never the submission. Each coordinator is notified separately
in their own language, after the contact has had the answer.
"""

from __future__ import annotations

import enum
import functools
import logging
from dataclasses import dataclass
from html import escape

from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.flow import entities
from bot.flow.codec import Press
from bot.flow.engine import Button, Done, EngineDraft, Flow, Outcome, Prompt, Stale, Turn
from bot.status import render
from bot.status.show import load_status_in
from core.services import Services
from data import overview, people, reports
from data.db import transaction
from data.models import Division, Person, Role
from i18n import N_, gettext_for

log = logging.getLogger(__name__)


class SubmitDraft(EngineDraft, total=False):
    """The draft's data of /valmis; validated whenever it is read."""

    division: int | None  # the division the submission began in (re-checked every update)


TITLE = N_("Submitting the report")
MSG_SUBMIT = N_("Submit the report")
MSG_CANCEL = N_("Cancel")
MSG_NOT_SUBMITTED = N_("The report was not submitted. Nothing was changed.")
MSG_EMPTY = N_(
    "Nothing has been reported for {year} yet: no service entity has any answer. Submit an "
    "empty report anyway? Usually it is better to report first with /raportoi and "
    "/tyytyvaisyys."
)
MSG_SUBMIT_EMPTY = N_("Yes, submit it empty")
MSG_SUBMITTED = N_(
    "The report of {division} for {year} has been submitted. The coordinators have been "
    "told. To change it later, ask a coordinator to reopen it."
)
HELP_CONFIRM = N_(
    "Submitting tells the coordinators that your division's report is ready. After that the "
    "answers cannot be changed unless a coordinator reopens the report."
)
HELP_EMPTY = N_(
    "The report has no answers at all. Submit it empty only if the division really has "
    "nothing to report; otherwise cancel and report first."
)


class SubmitStep(enum.StrEnum):
    CONFIRM = "confirm"
    EMPTY = "empty"


@dataclass(frozen=True)
class Recipient:
    """A coordinator to notify, captured inside the submit transaction."""

    person_id: int
    telegram_user_id: int
    language: str


def _start(turn: Turn) -> Outcome:
    turn.data["division"] = turn.person.division_id
    return SubmitStep.CONFIRM


def _render_confirm(turn: Turn) -> Prompt:
    status, division_name = load_status_in(turn.session, turn.who, turn.year)
    return Prompt(
        render.submit_question(turn.who, status, division_name),
        [[Button(turn._(MSG_SUBMIT), "y", turn.year)], [Button(turn._(MSG_CANCEL), "n")]],
    )


def _render_empty(turn: Turn) -> Prompt:
    return Prompt(
        turn._(MSG_EMPTY).format(year=turn.year),
        [[Button(turn._(MSG_SUBMIT_EMPTY), "y", turn.year)], [Button(turn._(MSG_CANCEL), "n")]],
    )


def _cancel(turn: Turn, press: Press) -> Outcome:
    return Done(turn._(MSG_NOT_SUBMITTED), replace=True)


def _confirm(turn: Turn, press: Press) -> Outcome:
    """First confirmation: an empty report is confirmed once more, anything else submitted."""
    _check_year(turn, press)
    status, _name = load_status_in(turn.session, turn.who, turn.year)
    if not any(entity.has_answers for entity in status.progress.entities):
        return SubmitStep.EMPTY
    return _submit(turn)


def _confirm_empty(turn: Turn, press: Press) -> Outcome:
    _check_year(turn, press)
    return _submit(turn)


def _check_year(turn: Turn, press: Press) -> None:
    """The year in the button must be this draft's and still the current year."""
    if press.int_arg() != turn.year or turn.year != turn.services.current_year():
        raise Stale


def _submit(turn: Turn) -> Outcome:
    session, person, year = turn.session, turn.person, turn.year
    division_id = int(turn.data["division"])
    try:
        reports.submit_report(session, person, year, division_id)
    except reports.ReportLocked:
        status, _name = load_status_in(session, turn.who, year)
        return Done(render.locked_text(turn.who, status, turn.services.settings.tz))
    status = overview.division_status(session, person, year, division_id)
    division_names = dict(session.get_one(Division, division_id).name)
    default = turn.services.settings.default_language
    recipients = [
        Recipient(p.id, p.chat_id, p.language or default)
        for p in people.people_with_role(session, Role.COORDINATOR)
        if p.id != person.id
    ]
    turn.after.append(
        functools.partial(
            notify_coordinators,
            svc=turn.services,
            recipients=recipients,
            division_names=division_names,
            year=year,
            submitter=person.name,
            status=status,
        )
    )
    name = division_names.get(turn.language) or division_names["fi"]
    text = turn._(MSG_SUBMITTED).format(division=escape(name), year=year)
    return Done(text, replace=True)


FLOW = Flow(
    name="submit",
    title=TITLE,
    prefix="sb",
    command="valmis",
    start=_start,
    draft=SubmitDraft,
    **entities.DIVISION_ACTION,
)
FLOW.step(
    SubmitStep.CONFIRM,
    "C",
    render=_render_confirm,
    help=HELP_CONFIRM,
    on_button={"y": _confirm, "n": _cancel},
)
FLOW.step(
    SubmitStep.EMPTY,
    "E",
    render=_render_empty,
    help=HELP_EMPTY,
    on_button={"y": _confirm_empty, "n": _cancel},
)


async def notify_coordinators(
    context: ContextTypes.DEFAULT_TYPE,
    *,
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

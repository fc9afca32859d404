"""/valmis: show what is missing, confirm, submit, and tell every coordinator.

Steps: CONFIRM ──► (an empty report: EMPTY, confirmed once more) ──► submitted.

The coordinators' messages are written to the outbox in the submit's own transaction
(``delivery.notices``): submitted and told, or neither — a kill after the commit leaves them
to the outbox of any replica, delivered once. A coordinator who blocked the bot (marked
inactive), a flood wait or a network failure can delay or drop a notification, never the
submission. Each coordinator is told separately in their own language, after the contact
has had the answer.
"""

from __future__ import annotations

import enum
from html import escape

from bot.flow import entities
from bot.flow.codec import Press
from bot.flow.engine import Button, Done, EngineDraft, Flow, Outcome, Prompt, Stale, Turn
from bot.status import render
from bot.status.show import load_status_in
from data import overview, people, reports
from data.models import Division, Person, Role
from data.people import PersonValue
from delivery import notices
from i18n import N_, gettext_for


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
    coordinators = [
        p for p in people.people_with_role(session, Role.COORDINATOR) if p.id != person.id
    ]
    # In the submit's own transaction: submitted and told, or neither (delivery.notices).
    notices.notify(
        session,
        [
            (p, coordinator_notice(p.language or default, division_names, year, person, status))
            for p in coordinators
        ],
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


def coordinator_notice(
    language: str,
    division_names: dict[str, str],
    year: int,
    submitter: Person | PersonValue,
    status: overview.DivisionStatus,
) -> str:
    """What a coordinator is told of a submitted report, in their language."""
    done = sum(1 for e in status.progress.entities if e.complete)
    total = len(status.progress.entities)
    _ = gettext_for(language)
    name = division_names.get(language) or division_names["fi"]
    lines = [
        _("{division} submitted its report for {year}.").format(division=name, year=year),
        _("Submitted by: {name}").format(name=submitter.name or "–"),
        _("{done}/{total} service entities complete.").format(done=done, total=total),
    ]
    return "\n".join(lines)

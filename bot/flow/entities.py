"""The steps both division flows (/raportoi and /tyytyvaisyys) share.

Both start from the person's division, refuse to open a submitted report, let the person
pick one of the division's service entities, re-check on every update that the entity is
still theirs and still active, and may offer last year's answers as a starting point.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from bot import ui
from bot.flow.codec import Press
from bot.flow.engine import Button, Done, Prompt, Row, Stale, Turn, WebAppButton
from bot.status import render
from bot.status.show import load_status_in
from data import catalog, progress, reports
from data.drafts import Draft
from data.models import ReportState, ServiceEntity
from data.progress import EntityProgress, Gap
from i18n import N_
from miniapp.texts import OPEN_FORM

MSG_NO_DIVISION = N_(
    "Your access has no division, so there is nothing to report. Ask the strategy unit to "
    "check your invitation."
)
MSG_LOCKED = N_(
    "Your division's report for {year} has been submitted, so it cannot be changed here. A "
    "coordinator must reopen it first: ask your coordinator if something needs correcting."
)
MSG_USE_LAST_YEAR = N_("Use last year's answers")
MSG_ACTION_IDLE = N_(
    "This step ended because nothing happened for {minutes} minutes. Nothing was changed."
)
MSG_ACTION_ACCESS_GONE = N_("Your access to this division has changed. /{command} starts again.")


def refuse_submitted_report(turn: Turn) -> Done | None:
    """A division action's guard: a submitted report can be neither edited nor submitted."""
    status, _name = load_status_in(turn.session, turn.who, turn.services.current_year())
    if status.state is ReportState.SUBMITTED:
        return Done(render.locked_text(turn.who, status, turn.services.settings.tz))
    return None


def verify_same_division(turn: Turn) -> None:
    """Every update: the person is still a contact of the division the action began in."""
    if turn.data.get("division") != turn.person.division_id:
        raise reports.AccessDenied("moved to another division")


def nothing_to_resume(turn: Turn, row: Draft) -> str | None:
    """A division action holds no unsaved answers: its command simply starts it again."""
    return None


#: How the short division actions (/muokkaa, /valmis) run on the engine: they hold no
#: unsaved answers, so they always start afresh, and their texts are HTML.
DIVISION_ACTION: dict[str, Any] = {
    "guard": refuse_submitted_report,
    "verify": verify_same_division,
    "describe": nothing_to_resume,
    "gone_message": MSG_ACTION_ACCESS_GONE,
    "idle_message": MSG_ACTION_IDLE,
    "cancel_message": N_("Cancelled. Nothing was changed."),
    "html": True,
    "resumable": False,
}
MSG_START_EMPTY = N_("Start empty")
MSG_UNSAVED_MARK = N_("unsaved answers")
MSG_KEPT_LEFT = N_(
    "Your unsaved answers for {entity} are kept as its draft: open it again to continue them."
)
MSG_CHANGED_ELSEWHERE = N_(
    "Nothing was saved: {entity} was changed elsewhere (for example in the form or in "
    "Excel) after you opened it here. Below are its answers as they are saved now.\n\n"
    "Your unsaved answers were:\n{mine}\n\nMake your changes again here if they are still "
    "needed, then Save."
)
MSG_NOTHING_YET = N_("(none)")
#: The draft key of the version of the entity's answers when the flow opened it
#: (``data.reports.entity_version``); the save passes it on as ``based_on``.
BASE_KEY = "based_on"
MSG_KEPT_RESTORED = N_(
    "These are your unsaved answers for {entity}, kept when you left it. They are saved only "
    "when you press Save."
)


def guard_open_report(turn: Turn) -> Done | None:
    """Stop before the first step when there is no division or its report is submitted."""
    division_id = turn.person.division_id
    if division_id is None:
        return Done(turn._(MSG_NO_DIVISION))
    year = turn.services.current_year()
    if division_progress(turn, year).submitted:
        return Done(turn._(MSG_LOCKED).format(year=year))
    return None


def division_progress(turn: Turn, year: int, *, keep: bool = True) -> progress.DivisionProgress:
    """The person's division's progress in the year's round. The start's guard keeps it
    for the entity list shown right after (one statement for both); the list takes it
    (``keep=False``), so a list shown later in the update reads afresh."""
    division_id = turn.person.division_id
    assert division_id is not None
    key = (progress.DivisionProgress, year)
    held = turn.held.pop(key, None)
    if held is None:
        rnd = progress.find_round(turn.session, year)
        held = progress.division_progress(turn.session, rnd.id if rnd else None, division_id)
    if keep:
        turn.held[key] = held
    return held


def verify_entity(turn: Turn) -> None:
    """Every update: the chosen entity is still active and still the person's division's.

    ``reports.entity_for`` raises AccessDenied otherwise, which the engine turns into
    "this button is no longer valid" with nothing changed.
    """
    if turn.data.get("entity") is not None:
        entity = reports.entity_for(turn.session, turn.person, int(turn.data["entity"]))
        turn.held[(ServiceEntity, entity.id)] = entity


def chosen_entity(turn: Turn) -> ServiceEntity:
    entity = turn.get(ServiceEntity, int(turn.data["entity"]))
    assert entity is not None
    return entity


def entity_menu(turn: Turn, heading: str, done: Callable[[EntityProgress], bool]) -> Prompt:
    """The division's service entities as buttons, ✓ on those ``done`` says are answered."""
    division_id = turn.person.division_id
    assert division_id is not None
    year = int(turn.data["year"])
    state = division_progress(turn, year, keep=False)
    division = turn.get(catalog.Division, division_id)
    assert division is not None
    kept = kept_entities(turn.data)
    rows: list[Row] = [
        [
            Button(
                ("✓ " if done(e) else "")
                + ui.short_label(e.name.get(turn.language) or e.name["fi"])
                + (f" ({turn._(MSG_UNSAVED_MARK)})" if e.service_entity_id in kept else ""),
                "s",
                e.service_entity_id,
            )
        ]
        for e in state.entities
    ]
    page = turn.services.settings.miniapp_page
    if page is not None:  # the whole division on one page instead (the Mini App)
        rows.append([WebAppButton(turn._(OPEN_FORM), page)])
    text = turn._(heading).format(year=year, division=catalog.name_of(division, turn.language))
    return Prompt(text, rows)


def pressed_entity(turn: Turn, press: Press) -> int:
    """The entity id a menu button carries, refused (Stale) unless it is the person's."""
    entity_id = press.int_arg()
    if entity_id is None:
        raise Stale
    try:
        reports.entity_for(turn.session, turn.person, entity_id)
    except reports.AccessDenied:
        raise Stale from None
    return entity_id


def last_year_prompt(turn: Turn, message: str, lines: list[str]) -> Prompt:
    """Offer last year's answers (``lines``) as the starting point, or an empty start."""
    text = turn._(message).format(
        year=int(turn.data["year"]) - 1,
        entity=entity_name(turn),
        answers="\n".join(lines),
    )
    return Prompt(
        text,
        [[Button(turn._(MSG_USE_LAST_YEAR), "y")], [Button(turn._(MSG_START_EMPTY), "n")]],
    )


def entity_name(turn: Turn) -> str:
    """The chosen entity's name in the person's language."""
    return catalog.name_of(chosen_entity(turn), turn.language)


#: The flow that asks each kind of missing answer (`data.progress.Gap`).
FLOW_OF_GAP = {Gap.PARTICIPATION: "reporting", Gap.SATISFACTION: "satisfaction"}


def open_what_is_missing(turn: Turn, data: str) -> str | None:
    """The reminders' "Report now" (``delivery.courier.REPORT_CALLBACK``): the flow of the
    division's first gap as the data stands when the button is pressed (satisfaction when
    only satisfaction is missing); None keeps the flow the button belongs to."""
    from delivery.courier import REPORT_CALLBACK

    division_id = turn.person.division_id
    if data != REPORT_CALLBACK or division_id is None:
        return None
    rnd = progress.find_round(turn.session, turn.services.current_year())
    gap = progress.division_progress(turn.session, rnd.id if rnd else None, division_id).first_gap
    return FLOW_OF_GAP[gap] if gap is not None else None


# --- nothing vanishes: each entity's unsaved answers are kept when the person leaves it ----


def kept_entities(data: dict[str, Any]) -> set[int]:
    """Entities whose unsaved answers are kept in the draft (not the one open now)."""
    return {int(key) for key in data.get("kept") or {}}


def switch_entity(
    turn: Turn, entity_id: int, keys: tuple[str, ...], unsaved: Callable[[Turn], bool]
) -> bool:
    """Open ``entity_id``: the entity left keeps its unsaved answers (``keys`` of the draft)
    as its own draft, and the one opened gets back what was kept for it. Either is said
    above the next question. True when kept answers were restored (the flow goes on from
    them instead of the saved answers)."""
    kept: dict[str, dict[str, Any]] = dict(turn.data.get("kept") or {})
    current = turn.data.get("entity")
    if current is not None and int(current) != entity_id and unsaved(turn):
        kept[str(int(current))] = {key: copy.deepcopy(turn.data.get(key)) for key in keys}
        left = turn.get(ServiceEntity, int(current))
        if left is not None:
            name = catalog.name_of(left, turn.language)
            turn.notices.append(turn._(MSG_KEPT_LEFT).format(entity=name))
    restored = kept.pop(str(entity_id), None)
    turn.data["kept"] = kept
    if restored is None:
        return False
    turn.data.update(restored)
    if BASE_KEY in keys:  # kept by a release that recorded no version: saved unchecked
        turn.data[BASE_KEY] = restored.get(BASE_KEY)
    opened = turn.get(ServiceEntity, entity_id)
    name = catalog.name_of(opened, turn.language) if opened else "?"
    turn.notices.append(turn._(MSG_KEPT_RESTORED).format(entity=name))
    return True


def forget_kept(turn: Turn, entity_id: int) -> None:
    """The entity's answers were saved: nothing of it is kept any more."""
    kept = dict(turn.data.get("kept") or {})
    kept.pop(str(entity_id), None)
    turn.data["kept"] = kept


# --- no silent overwrite: the version the entity had when it was opened ----------------------


def record_base(turn: Turn, entity_id: int, version: int | None = None) -> None:
    """Remember the version of the entity's answers as the flow opens them (read before
    the answers, or with them: ``version`` from ``reports.entity_state``), so a save
    committed in between is refused, never overwritten."""
    if version is None:
        version = reports.entity_version(turn.session, turn.year, entity_id)
    turn.data[BASE_KEY] = version


def base(turn: Turn) -> int | None:
    """The version the open entity's answers were based on (None: a draft from before
    versions were recorded, saved without the check)."""
    value = turn.data.get(BASE_KEY)
    return None if value is None else int(value)


def changed_elsewhere(turn: Turn, mine: list[str]) -> None:
    """A save refused with ``reports.ChangedElsewhere``: nothing was written. The flow
    reopens the entity with the answers saved now (new base version) and says so above
    the next question, listing the person's unsaved answers (``mine``) so that none of
    them vanishes unseen."""
    entity_id = int(turn.data["entity"])
    record_base(turn, entity_id)
    turn.notices.append(
        turn._(MSG_CHANGED_ELSEWHERE).format(
            entity=entity_name(turn), mine="\n".join(mine) or turn._(MSG_NOTHING_YET)
        )
    )

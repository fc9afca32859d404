"""What every step of /valmis and /muokkaa does before and after its own work.

Each update is checked again: the person must still be an active contact of a division,
the flow must still be alive (not ended by another command) and not idle for longer than
``conversation.idle_timeout_minutes``. The flow's small working state (year, chosen entry,
the value typed but not yet confirmed) lives in ``user_data`` under one key, so it survives
a restart with the conversation state; confirmed changes go to the database at once and
never live here.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes, ConversationHandler

from bot.access import Caller, caller, refuse
from bot.status.steps import Step
from core.services import Services, services
from data.models import Role
from i18n import N_

log = logging.getLogger(__name__)

FLOW_KEY: Final = "status.flow"
END: Final = ConversationHandler.END

#: Commands that leave a running /valmis or /muokkaa as it is (they are ours or harmless);
#: any other command ends it, so a later typed number is never taken as its answer.
KEEPS_FLOW: Final = frozenset({"tila", "valmis", "muokkaa", "peru", "ohje", "kieli"})

NO_LONGER_VALID = N_("This button is no longer valid.")
FLOW_ENDED = N_("This step has ended. Start again with /muokkaa or /valmis.")
IDLE_ENDED = N_(
    "This step ended because nothing happened for {minutes} minutes. Nothing was changed."
)


def is_contact(who: Caller) -> bool:
    """An active contact with a division: the only people these commands serve."""
    return (
        who.person is not None
        and who.person.active
        and Role.CONTACT in who.roles
        and who.person.division_id is not None
    )


@dataclass
class Turn:
    """One update inside a flow: who, their division, the flow's working state."""

    who: Caller
    division_id: int
    flow: dict[str, Any]
    svc: Services

    @property
    def telegram_user_id(self) -> int:
        assert self.who.person is not None
        return self.who.person.telegram_user_id

    @property
    def year(self) -> int:
        return int(self.flow["year"])

    def _(self, message: str) -> str:
        return self.who._(message)


StepHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Turn], Awaitable[object]]
PTBHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]]


def _user_data(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data


def end_flow(context: ContextTypes.DEFAULT_TYPE) -> None:
    _user_data(context).pop(FLOW_KEY, None)


def begin(context: ContextTypes.DEFAULT_TYPE, who: Caller, flow: str, year: int) -> Turn | None:
    """A fresh flow for a contact (entry commands), replacing any earlier one."""
    if not is_contact(who):
        return None
    assert who.person is not None and who.person.division_id is not None
    svc = services(context)
    state: dict[str, Any] = {
        "flow": flow,
        "year": year,
        "division_id": who.person.division_id,
        "at": svc.now().isoformat(),
    }
    _user_data(context)[FLOW_KEY] = state
    return Turn(who, who.person.division_id, state, svc)


def remember(turn: Turn, result: object) -> object:
    """Keep the flow's step in step with the conversation state (for /ohje and restarts)."""
    if result == END:
        turn.flow.clear()
    elif isinstance(result, Step):
        turn.flow["step"] = result.value
    return result


async def answer_alert(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


def step(handler: StepHandler) -> PTBHandler:
    """Wrap a state handler with the per-update checks described in the module docstring."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        who = caller(update, context)
        if not is_contact(who):
            end_flow(context)
            await refuse(update, who)
            return END
        assert who.person is not None and who.person.division_id is not None
        flow = _user_data(context).get(FLOW_KEY)
        if not flow or flow.get("division_id") != who.person.division_id:
            # Ended by another command, or the person was moved to another division since.
            end_flow(context)
            await answer_alert(
                update,
                who._(NO_LONGER_VALID if update.callback_query else FLOW_ENDED),
            )
            return END
        svc = services(context)
        idle = dt.timedelta(minutes=svc.settings.conversation.idle_timeout_minutes)
        last = dt.datetime.fromisoformat(flow["at"])
        if svc.now() - last > idle:
            end_flow(context)
            minutes = f"{svc.settings.conversation.idle_timeout_minutes:g}"
            if update.callback_query is not None:
                await update.callback_query.answer()
            await send(update, who._(IDLE_ENDED).format(minutes=minutes))
            return END
        flow["at"] = svc.now().isoformat()
        turn = Turn(who, who.person.division_id, flow, svc)
        result = await handler(update, context, turn)
        if result == END:
            end_flow(context)
        return remember(turn, result)

    return wrapper


async def send(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """A new message in the person's chat (HTML)."""
    assert update.effective_chat is not None
    await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def show(
    update: Update,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    answered: bool = False,
) -> None:
    """Replace the pressed button's message (so its old buttons go away), else send anew.

    ``answered``: the button press was already answered (with an alert).
    """
    query = update.callback_query
    if query is None or query.message is None:
        await send(update, text, keyboard)
        return
    if not answered:
        await query.answer()
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as error:
        # The message is too old to edit or unchanged: say it in a new message instead.
        log.info("could not edit message, sending a new one: %s", error)
        await send(update, text, keyboard)


async def show_after_save(
    update: Update,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    answered: bool = False,
) -> bool:
    """Like `show`, after a change is already committed: a network failure while telling
    the person must not make the conversation repeat the step (the change is saved)."""
    try:
        await show(update, text, keyboard, answered=answered)
    except NetworkError as error:  # includes TimedOut; RetryAfter is retried by the limiter
        log.warning("saved, but the confirmation could not be delivered: %s", error)
        return False
    return True

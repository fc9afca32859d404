"""The one persistent ConversationHandler behind /valmis and /muokkaa, and its fallbacks.

One handler for both flows, with ``allow_reentry``, so starting either ends the other
instead of leaving two conversations waiting for the same typed text. Its state is
persisted (``name`` below), so after a restart the person continues at the same step.
"""

from __future__ import annotations

import warnings
from typing import Any, Final

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.access import caller, refuse
from bot.status import edit, steps, submit
from bot.status.flow import END, FLOW_ENDED, FLOW_KEY, KEEPS_FLOW, end_flow, is_contact, send
from bot.status.steps import ASK_STEPS, Step
from i18n import N_

NAME: Final = "status_flows"

STEP_HELP: Final[dict[Step, str]] = {
    Step.CONFIRM_SUBMIT: N_(
        'You are submitting your division\'s report. Press "Submit the report" to submit it, '
        'or "Cancel" (or /peru) to keep working on it. After submitting, changes need a '
        "coordinator to reopen the report."
    ),
    Step.CHOOSE_ENTRY: N_(
        "Choose the saved answer you want to change or delete by pressing its button. The "
        'page buttons show more answers; "Stop editing" or /peru ends editing.'
    ),
    Step.ENTRY_MENU: N_(
        'Choose what to change in this answer, or delete it. "← Back" returns to the list; '
        "/peru ends editing without changes."
    ),
    Step.ASK_COUNT: N_(
        "Type the new count as a whole number from 0 to 100 000, for example 1 200. "
        '"← Back" returns without changes.'
    ),
    Step.ASK_NOTE: N_(
        'Type the new note, at most 300 characters. "Remove the note" empties it; '
        '"← Back" returns without changes.'
    ),
    Step.ASK_RESULT: N_(
        "Type the latest result as text, at most 300 characters, for example 4,2 or "
        '87 % satisfied. "← Back" returns without changes.'
    ),
    Step.ASK_RESPONDENTS: N_(
        'Type the number of respondents as a whole number. "← Back" returns without changes.'
    ),
    Step.ASK_NPS: N_(
        "Type the Net Promoter Score: a whole number from -100 to 100 (% promoters minus % "
        'detractors). "← Back" returns without changes.'
    ),
    Step.CONFIRM_CHANGE: N_(
        'Check the change. "Save" stores it at once; "← Back" lets you type another value. '
        'Nothing is stored before you press "Save".'
    ),
    Step.CONFIRM_DELETE: N_('"Yes, delete" deletes this answer for good; "← Back" keeps it.'),
}


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/peru: end the flow; nothing unconfirmed is stored."""
    who = caller(update, context)
    end_flow(context)
    if not is_contact(who):
        await refuse(update, who)
        return END
    await send(update, who._("Cancelled. Nothing was changed."))
    return END


async def help_for_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/ohje inside the flow: what the current step expects (the question stays above)."""
    who = caller(update, context)
    if not is_contact(who):
        end_flow(context)
        await refuse(update, who)
        return END
    flow: dict[str, Any] = (context.user_data or {}).get(FLOW_KEY) or {}
    current = flow.get("step")
    text = who._(STEP_HELP[Step(current)]) if current in STEP_HELP else None
    if text is None:
        end_flow(context)
        await send(update, who._(FLOW_ENDED))
        return END
    await send(update, text + "\n\n" + who._("/peru cancels."))
    return None


async def other_command_ends_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command other than ours ends a running /valmis or /muokkaa (see KEEPS_FLOW).

    Runs in its own handler group before the features, and only forgets the flow's working
    state: the next update the old conversation receives then finds no flow and ends it,
    rather than taking a number typed for another command as its answer.
    """
    message = update.effective_message
    if message is None or not message.text or context.user_data is None:
        return
    command = message.text.split()[0][1:].split("@")[0].lower()
    if command not in KEEPS_FLOW and FLOW_KEY in context.user_data:
        context.user_data.pop(FLOW_KEY, None)


def build() -> ConversationHandler:  # type: ignore[type-arg]
    typed = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[Any]] = {
        Step.CONFIRM_SUBMIT: [
            CallbackQueryHandler(submit.confirm, pattern=steps.SUBMIT_YES),
            CallbackQueryHandler(submit.cancel, pattern=steps.SUBMIT_NO),
            MessageHandler(typed, submit.ask_again),
        ],
        Step.CHOOSE_ENTRY: [
            CallbackQueryHandler(edit.pick, pattern=steps.LIST_PICK),
            CallbackQueryHandler(edit.turn_page, pattern=steps.LIST_PAGE),
            CallbackQueryHandler(edit.done, pattern=steps.LIST_DONE),
            MessageHandler(typed, edit.use_buttons),
        ],
        Step.ENTRY_MENU: [
            CallbackQueryHandler(edit.choose_field, pattern=steps.MENU_FIELD),
            CallbackQueryHandler(edit.ask_delete, pattern=steps.MENU_DELETE),
            CallbackQueryHandler(edit.back_to_list, pattern=steps.MENU_BACK),
            MessageHandler(typed, edit.use_buttons),
        ],
        Step.CONFIRM_CHANGE: [
            CallbackQueryHandler(edit.save, pattern=steps.CHANGE_SAVE),
            CallbackQueryHandler(edit.back_to_value, pattern=steps.CHANGE_BACK),
            MessageHandler(typed, edit.use_buttons),
        ],
        Step.CONFIRM_DELETE: [
            CallbackQueryHandler(edit.delete, pattern=steps.DELETE_YES),
            CallbackQueryHandler(edit.back_to_menu, pattern=steps.DELETE_BACK),
            MessageHandler(typed, edit.use_buttons),
        ],
    }
    for ask in ASK_STEPS:
        states[ask] = [
            MessageHandler(typed, edit.typed_value),
            CallbackQueryHandler(edit.back_to_menu, pattern=steps.ASK_BACK),
            CallbackQueryHandler(edit.clear_note, pattern=steps.ASK_CLEAR),
        ]
    with warnings.catch_warnings():
        # Expected: buttons are tracked per chat, and step tags in callback_data catch
        # buttons pressed in the wrong step (see docs/engineering notes).
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("valmis", submit.start),
                CommandHandler("muokkaa", edit.start),
            ],
            states=states,
            fallbacks=[
                CommandHandler("peru", cancel),
                CommandHandler("ohje", help_for_step),
            ],
            allow_reentry=True,
            name=NAME,
            persistent=True,
        )

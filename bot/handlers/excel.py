"""/excel: the division's workbook out of the chat, and the filled workbook back in.

``/excel`` (or the ``xl:get`` button) sends the division's workbook for the current round.
A document sent in the chat, with no command, is taken as a filled workbook: its size and
name are checked from the message, then it is fetched with getFile and checked by
``sheets``. A refused file or a file with cell errors gets one message and nothing is
saved. A valid file gets the change summary with "Save" / "Cancel"; the change set waits in
the person's draft row (flow "excel", kept paused so the guided-flow router never takes it
for the open conversation), so whichever process receives the press can save it.
The buttons carry a nonce of that one check: a press on an older summary changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import sheets
from bot import ui
from bot.access import Caller, caller, in_worker, refuse
from bot.flow.entities import MSG_LOCKED
from bot.status.show import EXCEL, EXCEL_BUTTON_DATA
from core import codec
from core.services import Services, services
from data import drafts, people, reports
from data.db import transaction
from data.models import Division, Role
from i18n import N_
from sheets import changes

log = logging.getLogger(__name__)

FLOW = "excel"
STEP = "confirm"
GET_DATA = EXCEL_BUTTON_DATA  # the /tila button that sends the workbook

MSG_WORKBOOK_CAPTION = N_(
    "Your division's workbook for {year}. Fill in the white cells and send the file back "
    "here as it is: no command is needed."
)
MSG_CHECKING = N_("Checking the file “{name}” …")
MSG_DOWNLOAD_FAILED = N_("The file could not be fetched from Telegram. Please send it again.")
MSG_NOT_A_CONTACT = N_(
    "Only a division contact can send a filled workbook. /ohje lists what you can do."
)
MSG_SAVED = N_(
    "Saved ✓ service entities: {count}, year {year}. /tila shows your division's status."
)

if TYPE_CHECKING:
    from bot.app import BotApplication
MSG_CANCELLED = N_("Cancelled: nothing from the file was saved.")
MSG_EXPIRED = N_(
    "This check has expired or was replaced by a newer file; nothing was saved. Send the file "
    "again."
)
MSG_STORED_CHANGED = N_(
    "Nothing was saved: answers in the file were changed elsewhere (in the chat or the "
    "form) after the file was checked. Send the file again: it is then compared with the "
    "current answers."
)
MSG_DENIED = N_("You do not have permission for this.")
MSG_SAVE = N_("Save")
MSG_CANCEL = N_("Cancel")
MSG_STALE = ui.MSG_STALE
MAX_ERRORS_SHOWN = 20


def _is_contact(who: Caller) -> bool:
    return (
        who.person is not None
        and Role.CONTACT in who.roles
        and who.person.division_id is not None
        and who.person.active
    )


async def send_workbook(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/excel or the ``xl:get`` button: send the division's workbook for the current round."""
    who = await caller(update, context)
    if not _is_contact(who):
        await refuse(update, who)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert who.person is not None and update.effective_user is not None
    # A press on an inline message (sent via inline mode) has no chat: the person's own.
    chat_id = (
        update.effective_chat.id if update.effective_chat is not None else update.effective_user.id
    )
    svc = services(context)
    year = svc.current_year()
    name, content = await in_worker(context, _export, svc, who, year)
    await context.bot.send_document(
        chat_id=chat_id,
        document=content,
        filename=name,
        caption=who._(MSG_WORKBOOK_CAPTION).format(year=year),
    )


def _export(svc: Services, who: Caller, year: int) -> tuple[str, bytes]:
    assert who.person is not None
    with transaction(svc.sessions) as session:
        division = session.get_one(Division, who.person.division_id)
        return sheets.export(session, division, year, who.language)


async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document in the chat: check it, and offer the changes for saving."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or message.document is None or chat is None:
        return
    who = await caller(update, context)
    if who.person is None:
        await refuse(update, who)
        raise ApplicationHandlerStop
    if not _is_contact(who):
        await chat.send_message(who._(MSG_NOT_A_CONTACT))
        raise ApplicationHandlerStop
    document = message.document
    svc = services(context)
    year = svc.current_year()
    try:
        sheets.check_size(document.file_size)
        sheets.check_name(document.file_name)
    except sheets.Rejection as rejection:
        await chat.send_message(rejection.text(who._))
        raise ApplicationHandlerStop from None
    if await in_worker(context, _is_submitted, svc, who, year):
        await chat.send_message(who._(MSG_LOCKED).format(year=year))
        raise ApplicationHandlerStop
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        content = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not fetch an uploaded file: %s", type(error).__name__)
        await chat.send_message(who._(MSG_DOWNLOAD_FAILED))
        raise ApplicationHandlerStop from None
    # Reading a workbook takes up to a few seconds of CPU: keep the event loop answering.
    text, markup = await in_worker(
        context, _check_and_offer, svc, who, content, document.file_name, year
    )
    await chat.send_message(text, reply_markup=markup)
    raise ApplicationHandlerStop


def _is_submitted(svc: Services, who: Caller, year: int) -> bool:
    assert who.person is not None
    with transaction(svc.sessions) as session:
        division = session.get_one(Division, who.person.division_id)
        return sheets.is_submitted(session, division, year)


def _check_and_offer(
    svc: Services, who: Caller, content: bytes, name: str | None, year: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The answer to a fetched file; a valid file with changes is kept in the draft row."""
    assert who.person is not None
    sessions = svc.sessions
    now = svc.now()
    with transaction(sessions) as session:
        division = session.get_one(Division, who.person.division_id)
        try:
            checked = sheets.check(
                session, content, name, division=division, year=year, language=who.language
            )
        except sheets.Rejection as rejection:
            return rejection.text(who._), None
        if not checked.ok:
            return changes.error_list(checked.parsed, who.language, limit=MAX_ERRORS_SHOWN), None
        assert checked.changes is not None
        text = changes.summary(session, checked.changes, who.language)
        if checked.changes.empty:
            drafts.discard(session, who.person.id, FLOW)
            return text, None
        nonce = secrets.token_hex(6)
        row = drafts.put(
            session,
            who.person.id,
            FLOW,
            STEP,
            {"nonce": nonce, "changes": checked.changes.to_json()},
            now,
        )
        # Not a guided conversation: paused, so typed text keeps going to the open flow
        # (the router treats the one draft not paused as the open conversation).
        row.paused = True
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    who._(MSG_SAVE), callback_data=codec.button(EXCEL, "s", nonce)
                ),
                InlineKeyboardButton(
                    who._(MSG_CANCEL), callback_data=codec.button(EXCEL, "c", nonce)
                ),
            ]
        ]
    )
    return text, markup


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Save" or "Cancel" under a change summary (``xl:s:<nonce>`` / ``xl:c:<nonce>``)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = await caller(update, context)
    if who.person is None:
        await refuse(update, who)
        return
    pressed = codec.action(query.data)
    assert pressed is not None and len(pressed.args) == 1  # the handler's pattern
    action, nonce = pressed.step, pressed.args[0]
    svc = services(context)
    outcome, change_set = await in_worker(context, _pressed, svc, who, action, nonce)
    if outcome == "stale":
        await query.answer(who._(MSG_STALE), show_alert=True)
        return
    await query.answer()
    saved = 0
    if outcome == "save":
        assert change_set is not None
        outcome, saved = await in_worker(context, _save, svc, who, change_set)
    texts = {
        "expired": MSG_EXPIRED,
        "cancelled": MSG_CANCELLED,
        "locked": MSG_LOCKED,
        "changed": MSG_STORED_CHANGED,
        "denied": MSG_DENIED,
        "saved": MSG_SAVED,
    }
    year = services(context).current_year() if outcome == "expired" else None
    if outcome not in ("expired", "cancelled"):
        assert change_set is not None
        year = change_set.year
    text = who._(texts[outcome]).format(count=saved, year=year)
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError:
        log.info("could not remove the buttons of a change summary")
    assert update.effective_chat is not None
    await update.effective_chat.send_message(text)


def _pressed(
    svc: Services, who: Caller, action: str, nonce: str
) -> tuple[str, sheets.ChangeSet | None]:
    """What a press of Save or Cancel under a change summary finds in the draft row."""
    assert who.person is not None
    idle = svc.settings.conversation.idle_timeout_minutes
    with transaction(svc.sessions) as session:
        row = drafts.get(session, who.person.id, FLOW)
        if row is None or row.data.get("nonce") != nonce:
            return "stale", None
        if drafts.is_idle(row, svc.now(), idle):
            drafts.discard(session, who.person.id, FLOW)
            return "expired", None
        if action == "c":
            drafts.discard(session, who.person.id, FLOW)
            return "cancelled", None
        return "save", sheets.ChangeSet.from_json(row.data["changes"])


def _save(svc: Services, who: Caller, change_set: sheets.ChangeSet) -> tuple[str, int]:
    """Save in one transaction; the draft goes in the same one, or on a refusal afterwards."""
    assert who.person is not None
    sessions = svc.sessions
    try:
        with transaction(sessions) as session:
            person = people.active_person(session, who.person.chat_id)
            if person is None or person.division_id != change_set.division_id:
                raise reports.AccessDenied("not the division's contact any more")
            saved = changes.apply(session, person, change_set)
            drafts.discard(session, person.id, FLOW)
        return "saved", saved
    except reports.ReportLocked:
        outcome = "locked"
    except changes.StoredChanged:
        outcome = "changed"
    except reports.AccessDenied:
        outcome = "denied"
    with transaction(sessions) as session:
        drafts.discard(session, who.person.id, FLOW)
    return outcome, 0


def register(application: BotApplication) -> None:
    application.add_handler(
        MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, receive_document)
    )
    application.add_handler(CommandHandler("excel", send_workbook))
    application.add_handler(CallbackQueryHandler(send_workbook, pattern=rf"^{GET_DATA}$"))
    application.add_handler(
        CallbackQueryHandler(confirm, pattern=rf"^{EXCEL}:[sc]:[0-9a-f]{{12}}$")
    )

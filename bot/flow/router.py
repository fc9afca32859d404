"""The single handler in front of every guided conversation: which flow an update is for.

It replaces one ConversationHandler per flow. Each update is classified without touching the
database (a flow's command or entry button, a flow's button, /peru, /ohje, another command,
typed text); then one transaction loads the person and their drafts — locked, so one
person's updates never interleave across processes — lets the flow act, writes the draft and
commits; only then is the person answered. An update that no guided conversation wants
(another feature's command, text with no open conversation, a document) is left to the
feature handlers that come after it (see the phases in ``bot.app``).

Which conversation is open is a fact of the drafts themselves: the one not paused. Another
command pauses it (typed text then no longer goes there, the draft stays); its command or one
of its current buttons continues it. Commands that only show something (/tila, /kieli,
/start) and unknown commands leave it open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.access import Caller, caller_in, refuse
from bot.commands import all_commands
from bot.flow import codec
from bot.flow.engine import MSG_GONE, MSG_PAUSED, MSG_STALE, Flow, Turn
from core.services import Services, services
from data import drafts, inbox
from data.db import is_lock_wait, off_loop, transaction
from data.drafts import Draft, copy_data
from data.models import Person
from data.outbox import Request
from data.people import person_value_of
from delivery import ingress
from delivery import outbox as delivery_outbox
from delivery.ordering import step_done
from delivery.outbox import sender as outbox_sender
from delivery.replies import Outbox, deliver, send_safely
from i18n import N_, gettext_for, normalize_language

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

#: A typed answer or a button press that arrived before the conversation moved on, and is
#: handled only afterwards (replayed after a crash, or by another replica).
MSG_NOT_APPLIED = N_(
    "Your earlier message was not applied: it reached the bot only after your conversation "
    "had already moved on, so it would have answered a different question. Please answer "
    "the question below again."
)
MSG_NOT_APPLIED_BUTTON = N_(
    "This press was not applied: it reached the bot only after your conversation had "
    "already moved on."
)

#: Commands that leave an open conversation open (they only show something).
KEEPS_FLOW = frozenset({"tila", "kieli", "start", "omat_tiedot", "excel"})


@dataclass(frozen=True)
class Route:
    """What an update asks of the guided conversations."""

    kind: str  # "entry" | "button" | "typed" | "help" | "cancel" | "other"
    flow: Flow | None = None
    text: str | None = None


def command_word(text: str | None) -> str | None:
    """ "/Raportoi@bot x" → "raportoi"; None for text that is not a command."""
    if not text or not text.startswith("/"):
        return None
    return text.split()[0][1:].split("@")[0].lower()


def classify(update: Update) -> Route | None:
    """The route of an update, or None when no guided conversation is concerned."""
    flows = Flow.flows.values()
    query = update.callback_query
    if query is not None:
        data = query.data or ""
        for flow in flows:
            if data in flow.entry_data:
                return Route("entry", flow, data)
        prefix = codec.prefix_of(data)
        for flow in flows:
            if prefix == flow.prefix:
                return Route("button", flow, data)
        return None
    message = update.message
    if message is None:
        return None
    word = command_word(message.text)
    if word is not None:
        for flow in flows:
            if word == flow.command:
                return Route("entry", flow)
        if word == "ohje":
            return Route("help")
        if word == "peru":
            return Route("cancel")
        if word in KEEPS_FLOW or word not in all_commands():
            return None
        return Route("other")
    if message.document is not None:
        return None  # a file is for the features (an Excel sheet), never a typed answer
    return Route("typed", text=message.text)


#: Said when the person's data stayed locked by another session past the lock timeout.
MSG_BUSY = N_(
    "Your previous message is still being handled, so this one was not applied. "
    "Please try again in a moment."
)
#: Back-off before the one retry of an update that gave up waiting for a lock.
BUSY_RETRY_SECONDS = 0.2


async def route(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hand the update to its flow, or let it pass to the feature handlers.

    The database work (load, act, write, commit) runs on a worker thread (`off_loop`): the
    event loop — every other chat, /healthz — never waits on the database. A lock wait is
    bounded (``lock_timeout``): the update is tried once more, then the person is asked to
    try again and the update counts as handled (nothing of it was applied).
    """
    found = classify(update)
    if found is None or update.effective_user is None:
        return
    svc = services(context)
    sender = outbox_sender(context.application)
    for attempt in range(2):
        outbox = Outbox()
        # A typed message's first reply is a message to its chat: its turn is taken now, so
        # the step writes it *sending* and it goes the moment the step commits (a press's
        # first reply answers the press, which takes no turn).
        turn = None
        if sender is not None and update.callback_query is None:
            chat = update.effective_chat
            turn = sender.take_turn(chat.id if chat is not None else None)
        try:
            who, handled, written = await off_loop(
                _transact, update, context, svc, found, outbox, turn, sessions=svc.sessions
            )
        except BaseException as error:
            if sender is not None:
                await sender.turn_lost(turn)
            if not isinstance(error, DBAPIError) or not is_lock_wait(error):
                raise
            if attempt == 0:
                await asyncio.sleep(BUSY_RETRY_SECONDS)
                continue
            log.warning(
                "update %s: the person's data stayed locked; asked to retry", update.update_id
            )
            await off_loop(_mark_unapplied, context, svc, update.update_id, sessions=svc.sessions)
            step_done()
            language = normalize_language(
                update.effective_user.language_code, svc.settings.default_language
            )
            await send_safely(
                update.effective_user.id, update, gettext_for(language)(MSG_BUSY), None
            )
            raise ApplicationHandlerStop from None
        if sender is not None:
            sender.turn_committed(turn)
        break
    step_done()  # the next update's database work may start while this one replies
    if handled and who.person is not None:
        ingress.handled_in_transaction(context.application, update.update_id)
    if not handled:
        for text, _markup in outbox.messages:  # e.g. "the report was paused"
            await send_safely(update.effective_user.id, update, text, None)
        return
    if outbox.refused:
        await refuse(update, who)
    else:
        if outbox_sender(context.application) is not None:
            await outbox_sender(context.application).deliver(written)  # type: ignore[union-attr]
        else:
            await deliver(update, outbox)
    raise ApplicationHandlerStop


def _transact(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    found: Route,
    outbox: Outbox,
    turn: delivery_outbox.Turn | None = None,
) -> tuple[Caller, bool, list[Request]]:
    """One transaction (on a worker thread): the person and drafts, the flow's step, the
    inbox mark and the replies (``delivery.outbox``; the first one *sending* when it
    takes the ``turn`` held for it); (who, whether the conversations handled it, the reply
    rows to deliver after the commit)."""
    assert update.effective_user is not None
    handled = True
    sender = outbox_sender(context.application)
    written: list[Request] = []
    with transaction(svc.sessions) as session:
        ahead = found.kind == "entry" and found.flow is not None and found.flow.reads_progress
        person, rows = drafts.person_and_drafts(
            session,
            update.effective_user.id,
            progress_year=svc.current_year() if ahead else None,
            update_id=update.update_id,
        )
        who = caller_in(session, update, svc, person=person)
        if who.person is None:
            if found.kind not in ("entry", "button"):
                # the greeting and the catch-alls answer people without access
                return who, False, written
            outbox.refused = True
        else:
            if ingress.replayed(context.application, update.update_id) and inbox.is_handled(
                session, update.update_id
            ):
                # Replayed at start-up while another replica was applying it (the person's
                # lock made us wait for that): applied once is enough.
                ingress.handled_in_transaction(context.application, update.update_id)
                raise ApplicationHandlerStop
            if _overtaken(found, rows, update.update_id, svc):
                _refuse_stale(found, who, rows, session, svc, outbox)
            else:
                handled = _act(found, who, session, svc, rows, outbox)
            # The drafts the turn changed (before the replies); when it was handled, each
            # changed or created one records the update (see `_overtaken`): committed with
            # its effects, so a replay after a crash skips it.
            drafts.save(session, stamp=handled)
            if handled:
                if sender is not None:  # the replies, in the same transaction
                    written = sender.write(
                        session, replies(update, outbox), update_id=update.update_id, turn=turn
                    )
                if not written:  # reply rows mark the inbox themselves (data.inbox)
                    inbox.mark_handled(session, update.update_id, now=svc.now())
    return who, handled, written


def replies(update: Update, outbox: Outbox) -> list[Any]:
    """The outbox requests of a turn's replies: the button press answered, the question
    edited in place (or sent anew), then the messages; none when the person is refused."""
    chat = update.effective_chat
    query = update.callback_query
    if outbox.refused:
        return []
    requests: list[Any] = []
    user_chat = chat.id if chat is not None else update.effective_user.id  # type: ignore[union-attr]
    if query is not None:
        requests.append(
            delivery_outbox.answer(user_chat, query.id, outbox.toast, alert=outbox.alert)
        )
    if chat is None:
        return requests
    messages = list(outbox.messages)
    if outbox.edit is not None:
        text, markup = outbox.edit
        question = query.message if query is not None else None
        if question is not None and question.message_id:
            requests.append(
                delivery_outbox.edit(chat.id, question.message_id, text, markup, html=outbox.html)
            )
        else:
            messages.append(outbox.edit)
    for text, markup in messages:
        requests.append(delivery_outbox.message(chat.id, text, markup, html=outbox.html))
    return requests


#: Telegram may number updates afresh after a week without any: an older draft's update
#: id says nothing about a new update's then.
_IDS_COMPARABLE = dt.timedelta(days=6)


def _overtaken(found: Route, rows: list[Draft], update_id: int, svc: Services) -> bool:
    """A typed answer or a button press older than the update that last changed a draft:
    it was replayed (after a crash, by another replica) or overtaken on the way, and the
    conversation has moved on since it was written."""
    if found.kind not in ("typed", "button"):
        return False
    horizon = svc.now() - _IDS_COMPARABLE
    return any(
        row.last_update_id is not None
        and row.last_update_id > update_id
        and row.last_activity_at >= horizon
        for row in rows
    )


def _refuse_stale(
    found: Route,
    who: Caller,
    rows: list[Draft],
    session: Session,
    svc: Services,
    outbox: Outbox,
) -> None:
    """Tell the person plainly that the message was not applied and why; repeat the
    question they are at."""
    if found.kind == "button":
        outbox.toast, outbox.alert = who._(MSG_NOT_APPLIED_BUTTON), True
        return
    outbox.say(who._(MSG_NOT_APPLIED))
    active = next((row for row in rows if not row.paused), None)
    flow = Flow.flows.get(active.flow) if active is not None else None
    if active is not None and flow is not None and flow.allowed(who):
        turn = _turn(who, session, svc, active)
        if _current(flow, turn, active, outbox, button=False):
            flow.help(turn, active, outbox)


def _mark_unapplied(context: ContextTypes.DEFAULT_TYPE, svc: Services, update_id: int) -> None:
    """An update given up on (the person was asked to try again) is not replayed later."""
    with transaction(svc.sessions) as session:
        inbox.mark_handled(session, update_id, now=svc.now())
    ingress.handled_in_transaction(context.application, update_id)


def _act(
    found: Route,
    who: Caller,
    session: Session,
    svc: Services,
    rows: list[Draft],
    outbox: Outbox,
) -> bool:
    """Act inside the transaction; False when the update is not the conversations' after all."""
    active = next((row for row in rows if not row.paused), None)
    if found.kind == "other":
        if active is not None and active.flow in Flow.flows:
            flow = Flow.flows[active.flow]
            if flow.describe(_turn(who, session, svc, active), active) is not None:
                text = who._(MSG_PAUSED).format(flow=who._(flow.title), command=flow.command)
                outbox.say(text)
        drafts.pause_others(rows, None)
        return False
    if found.kind == "cancel":
        # A paused conversation, never another command's menu record (data.drafts).
        target = active or next((r for r in rows if r.flow in Flow.flows), None)
        if target is None:
            return False
        cancelled = Flow.flows.get(target.flow)
        if cancelled is None:
            return False
        cancelled.cancel(_turn(who, session, svc, target), outbox)
        return True
    if found.kind in ("typed", "help"):
        if active is None or active.flow not in Flow.flows:
            return False
        flow = Flow.flows[active.flow]
        if not flow.allowed(who):
            return False
        turn = _turn(who, session, svc, active)
        if not _current(flow, turn, active, outbox, button=False):
            return True
        if found.kind == "help":
            flow.help(turn, active, outbox)
        else:
            flow.typed(turn, active, found.text, outbox)
        return True
    assert found.flow is not None
    flow = found.flow
    if found.kind == "entry" and found.text and flow.redirect is not None:
        redirected = flow.redirect(_turn(who, session, svc, None), found.text)
        flow = Flow.flows.get(redirected, flow) if redirected else flow
    if not flow.allowed(who):
        outbox.refused = True
        return True
    row = next((r for r in rows if r.flow == flow.name), None)
    drafts.pause_others(rows, flow.name)
    if found.kind == "entry":
        turn = _turn(who, session, svc, row)
        flow.begin(turn, row, outbox)
        return True
    press = codec.decode(found.text)
    if row is None or press is None:
        outbox.toast, outbox.alert = who._(MSG_STALE), True
        return True
    turn = _turn(who, session, svc, row)
    if _current(flow, turn, row, outbox, button=True):
        flow.press(turn, row, press, outbox)
    return True


def _turn(who: Caller, session: Session, svc: Services, row: Draft | None) -> Turn:
    return Turn(who, session, svc, row.step if row else "", copy_data(row.data) if row else {})


def _current(flow: Flow, turn: Turn, row: Draft, outbox: Outbox, *, button: bool) -> bool:
    """False (and the person told) when the draft is from an older version or idle."""
    if row.step not in flow.specs or not flow.readable(row.data):
        drafts.discard(turn.session, turn.person.id, flow.name)
        outbox.say(turn._(MSG_GONE).format(command=flow.command))
        return False
    idle = turn.services.settings.conversation.idle_timeout_minutes
    if drafts.is_idle(row, turn.now, idle):
        row.paused = True
        outbox.say(flow.idle_message(turn))
        return False
    return True


async def end_idle_conversations(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell each person whose open conversation went idle that it ended (the draft is kept).

    A JobQueue job on the application's clock; it reads only the drafts, so a restart or
    another process loses nothing, and each idle draft is claimed by one process only. The
    messages go to the outbox with the claim (``delivery.outbox``): a kill after the commit
    does not lose them.
    """
    svc = services(context)
    idle = svc.settings.conversation.idle_timeout_minutes
    notices: list[tuple[int, str]] = []
    sender = outbox_sender(context.application)
    written: list[Request] = []
    with transaction(svc.sessions) as session:
        for row in drafts.claim_idle(session, svc.now(), idle):
            flow = Flow.flows.get(row.flow)
            person = session.get(Person, row.person_id)
            if flow is None or person is None or not person.active:
                continue
            if person.telegram_user_id is None:  # erased (privacy): nobody to tell
                continue
            who = Caller(person_value_of(person), person.language or svc.settings.default_language)
            turn = Turn(who, session, svc, row.step, {})
            notices.append((person.telegram_user_id, flow.idle_message(turn)))
        if sender is not None:
            requests = [
                delivery_outbox.message(chat_id, text, None, html=False)
                for chat_id, text in notices
            ]
            written = sender.write(session, requests, update_id=None)
    if sender is not None:
        await sender.deliver(written)
        return
    for chat_id, text in notices:
        try:
            await context.bot.send_message(chat_id, text)
        except TelegramError as error:  # a timer has nobody to report to
            log.warning("could not send the idle message: %s", error)


def install_idle_check(application: BotApplication) -> None:
    """Check for idle conversations a few times per timeout (at most once a minute)."""
    if application.job_queue is None:
        return
    idle = services(application).settings.conversation.idle_timeout_minutes
    interval = min(60.0, max(0.2, idle * 60 / 3))
    application.job_queue.run_repeating(
        end_idle_conversations, interval=interval, first=interval, name="idle-conversations"
    )

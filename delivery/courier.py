"""Reminder delivery: the scheduler's notices as Telegram messages with buttons.

``schedules`` decides what to send to whom and records it in the ledger; this module is
the Telegram side of that (the guided flows' replies are ``delivery.replies``):

* the buttons of a notice's actions and their callback data (``report:now``, which opens the
  conversation of what is missing, and ``rem:snooze:<ledger id>``, handled in
  ``bot.handlers.reminders``);
* the send itself, through the bot's rate limiter (`delivery.pacing.PacingLimiter`), with the
  notice's ``before_send`` hook run right before the HTTP call;
* what each Telegram error means for the ledger (`schedules.notices.Outcome`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from core import codec, metrics
from data import ledger, people
from data.db import off_loop, transaction
from data.models import LedgerStatus, Person, ReminderLedger
from delivery import capture
from delivery.pacing import BEFORE_SEND, PACE_CHAT, SendCancelled, retry_after_seconds
from delivery.wire import UnreadableAnswer
from i18n import gettext_for
from schedules.notices import Action, BeforeSend, HandOver, Notice, Outcome, Result

log = logging.getLogger(__name__)

#: Feature name of the reminders' buttons (`core.codec.button`).
REMINDER = "rem"
SNOOZE = "snooze"
#: "Report now": opens the conversation of what the division is missing (the reporting
#: flow's redirect, ``bot.flow.entities.open_what_is_missing``). Reminders sent before it
#: carry ``report:start``, which still opens /raportoi.
REPORT_CALLBACK = codec.button("report", "now")

#: httpx errors (named in PTB's NetworkError text) raised after the request went out.
_LOST_ANSWER = ("httpx.ReadError", "httpx.RemoteProtocolError")


def snooze_data(ledger_id: int) -> str:
    return codec.button(REMINDER, SNOOZE, ledger_id)


def is_snooze(data: object) -> bool:
    pressed = codec.action(str(data or ""))
    return pressed is not None and (pressed.feature, pressed.step) == (REMINDER, SNOOZE)


def reminder_keyboard(notice: Notice) -> InlineKeyboardMarkup | None:
    """ "Report now" and "Remind me tomorrow", as the notice's actions say."""
    _ = gettext_for(notice.language)
    row = []
    if Action.REPORT_NOW in notice.actions:
        row.append(InlineKeyboardButton(_("Report now"), callback_data=REPORT_CALLBACK))
    if Action.SNOOZE in notice.actions and notice.ledger_id is not None:
        row.append(
            InlineKeyboardButton(
                _("Remind me tomorrow"), callback_data=snooze_data(notice.ledger_id)
            )
        )
    return InlineKeyboardMarkup([row]) if row else None


def delivery_unknown(error: TelegramError) -> bool:
    """True when Telegram may have received the message although we saw an error.

    A read timeout or a connection dropped while waiting for the answer can follow a
    delivered message; sending again could duplicate it, so such errors are not retried.
    A pool timeout (PTB says the request was *not* sent), a refused connection or an
    error answer from Telegram (5xx) are known not to have delivered anything. A 2xx
    answer that is not Telegram's (``delivery.wire.UnreadableAnswer``: not JSON, ``ok``
    missing or false) came after the request went out: Telegram may have it.
    """
    if isinstance(error, UnreadableAnswer):
        return True
    if isinstance(error, TimedOut):
        return "Pool timeout" not in str(error)
    return isinstance(error, NetworkError) and any(name in str(error) for name in _LOST_ANSWER)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


#: The outbox rows' owner name of reminders and nudges (``delivery.outbox.RECORDERS``).
OWNER = "reminder"


def record_outcome(session: Session, payload: dict[str, Any], settled: Any, now: Any) -> None:
    """The outbox's step of a reminder's row, recorded in its ledger row (same transaction):
    *sending* → in flight; sent; uncertain (never sent again); refused → failed; blocked →
    failed and the person deactivated; known not delivered → failed with the ledger's
    back-off (``schedules.sender.BACKOFF``), or given up after its last attempt.

    Each outcome that changes the row is counted here (``mittaribotti_reminders_total``),
    whichever process's outbox delivered it — also one left queued by a killed process,
    which no scheduler run waits for; the scheduler does not count these again."""
    from delivery.outbox import BLOCKED, RETRY
    from schedules.sender import BACKOFF, MAX_ATTEMPTS

    ledger_id = int(payload["ledger_id"])
    error = settled.error or settled.status
    counted, changed = "failed", False
    match settled.status:
        case "sending":
            ledger.start_queued(session, ledger_id, now=now)
            return
        case "sent":
            counted, changed = "sent", ledger.mark_sent(session, ledger_id, now=now)
        case "uncertain":
            detail = f"{error}; delivery unknown, not re-sent (at most once)"
            counted = "uncertain"
            changed = ledger.mark_uncertain(session, ledger_id, now=now, error=detail)
        case status if status == BLOCKED:
            counted = "blocked"
            changed = ledger.mark_failed(session, ledger_id, now=now, error=f"blocked: {error}")
            person = session.get(Person, int(payload["person_id"]))
            if person is not None:
                people.deactivate(session, person, actor_id=None, reason="blocked")
        case status if status == RETRY:
            row = ledger.get(session, ledger_id)
            attempts = row.attempts if row is not None else MAX_ATTEMPTS
            if attempts >= MAX_ATTEMPTS:
                changed = ledger.mark_failed(
                    session, ledger_id, now=now, error=f"gave up after {attempts} attempts: {error}"
                )
            else:
                delay = max(BACKOFF[attempts - 1], dt.timedelta(seconds=settled.retry_after))
                counted = "retrying"
                changed = ledger.mark_failed(
                    session, ledger_id, now=now, error=error, retry_at=now + delay
                )
        case _:
            changed = ledger.mark_failed(session, ledger_id, now=now, error=error)
    if changed:
        metrics.reminder_outcome(counted)


def _recorded(row: ReminderLedger | None) -> Result:
    """The ledger row's state after the outbox's delivery, as the scheduler counts it."""
    if row is None:
        return Result(Outcome.NOT_SENT, recorded=True)
    match row.status:
        case LedgerStatus.SENT:
            return Result(Outcome.SENT, recorded=True)
        case LedgerStatus.UNCERTAIN:
            return Result(Outcome.UNCERTAIN, row.error, recorded=True)
        case LedgerStatus.FAILED if (row.error or "").startswith("blocked"):
            return Result(Outcome.BLOCKED, row.error, recorded=True)
        case LedgerStatus.FAILED if row.next_attempt_at is None:
            return Result(Outcome.REJECTED, row.error, recorded=True)
        case _:  # a retry scheduled, or still in the outbox (a paused chat): not yet
            return Result(Outcome.RETRY, row.error, recorded=True)


class TelegramCourier:
    """Delivers `Notice` objects through an Application's bot (``schedules.Courier``):
    through the outbox when the application has one (`deliver`), else straight."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def deliver(
        self, notice: Notice, *, before_send: BeforeSend, hand_over: HandOver | None = None
    ) -> Result:
        try:
            markup = reminder_keyboard(notice)
        except Exception as error:  # a rendering bug: known not sent
            log.exception("reminder %s: keyboard failed", notice.ledger_id)
            return Result(Outcome.REJECTED, _describe(error))
        from delivery.outbox import OWNER_KEY, message
        from delivery.outbox import sender as outbox_sender

        sender = outbox_sender(self.application)
        if sender is None or hand_over is None or notice.ledger_id is None:
            return await self._straight(notice, markup, before_send)
        request = message(notice.chat_id, notice.text, markup, html=True)
        request[2][OWNER_KEY] = [
            OWNER,
            {"ledger_id": notice.ledger_id, "person_id": notice.person_id},
        ]

        def queue() -> list[Any] | None:
            with transaction(sender.sessions) as session:
                if not hand_over(session):
                    return None
                return sender.write(session, [request], update_id=None, paced=True)

        rows = await off_loop(queue, sessions=sender.sessions)
        if rows is None:
            return Result(Outcome.NOT_SENT)
        try:
            await sender.deliver(rows)
        except Exception:  # the row is the outbox's now: its loop delivers it
            log.exception("reminder %s: delivering from the outbox failed", notice.ledger_id)

        def outcome() -> Result:
            with transaction(sender.sessions) as session:
                return _recorded(ledger.get(session, notice.ledger_id))  # type: ignore[arg-type]

        return await off_loop(outcome, sessions=sender.sessions)

    async def _straight(
        self, notice: Notice, markup: InlineKeyboardMarkup | None, before_send: BeforeSend
    ) -> Result:
        bot = self.application.bot
        extra: dict[str, Any] = {}
        if getattr(bot, "rate_limiter", None) is not None:
            extra["rate_limit_args"] = {BEFORE_SEND: before_send, PACE_CHAT: True}
        elif not await before_send():
            return Result(Outcome.NOT_SENT)
        try:
            with capture.direct():  # its own ledger records the outcome: never captured
                await bot.send_message(
                    chat_id=notice.chat_id,
                    text=notice.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    **extra,
                )
        except SendCancelled:
            return Result(Outcome.NOT_SENT)
        except RetryAfter as error:
            return Result(Outcome.RETRY, _describe(error), retry_after_seconds(error))
        except Forbidden as error:
            return Result(Outcome.BLOCKED, _describe(error))
        except BadRequest as error:
            return Result(Outcome.REJECTED, _describe(error))
        except TelegramError as error:
            if delivery_unknown(error):
                return Result(Outcome.UNCERTAIN, _describe(error))
            return Result(Outcome.RETRY, _describe(error))
        return Result(Outcome.SENT)

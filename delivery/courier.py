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

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from core import codec
from delivery.pacing import BEFORE_SEND, PACE_CHAT, SendCancelled, retry_after_seconds
from i18n import gettext_for
from schedules.notices import Action, BeforeSend, Notice, Outcome, Result

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
    error answer from Telegram (5xx) are known not to have delivered anything.
    """
    if isinstance(error, TimedOut):
        return "Pool timeout" not in str(error)
    return isinstance(error, NetworkError) and any(name in str(error) for name in _LOST_ANSWER)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class TelegramCourier:
    """Delivers `Notice` objects through an Application's bot (``schedules.Courier``)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def deliver(self, notice: Notice, *, before_send: BeforeSend) -> Result:
        bot = self.application.bot
        try:
            markup = reminder_keyboard(notice)
        except Exception as error:  # a rendering bug: known not sent
            log.exception("reminder %s: keyboard failed", notice.ledger_id)
            return Result(Outcome.REJECTED, _describe(error))
        extra: dict[str, Any] = {}
        if getattr(bot, "rate_limiter", None) is not None:
            extra["rate_limit_args"] = {BEFORE_SEND: before_send, PACE_CHAT: True}
        elif not await before_send():
            return Result(Outcome.NOT_SENT)
        try:
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

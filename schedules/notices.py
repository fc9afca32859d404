"""What the scheduler hands to the bot: plain notices, and what became of each.

The scheduler decides *when* and *to whom* and *what the reminder says*; it knows nothing
about Telegram. A `Notice` is one message for one person with the actions it offers
(report now, remind me tomorrow) as plain values. The bot (``delivery.courier``) turns a notice
into a Telegram message with buttons, sends it under the rate limiter and answers with a
`Result` the scheduler records in the ledger.

The bot's courier delivers through the outbox (``delivery.outbox``): it writes the notice's
outbox row in the same transaction as ``hand_over`` moves the ledger row to *queued*, so a
kill after that commit leaves the notice to the outbox of any replica, never to a second
claim; the outbox records the outcome in the ledger (``Result.recorded``).

Without an outbox (a courier of the tests), the one coupling point that matters for
exactly-once delivery is ``before_send``: the
courier must await it right before the Telegram call starts (after any waiting for the
rate limits) and must not call Telegram when it returns False. That is where the ledger row
moves from *claimed* (safe to send again after a crash) to *in flight* (unknown after a
crash, never re-sent).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Action(enum.StrEnum):
    """What the reader can do from the reminder itself."""

    REPORT_NOW = "report_now"  # start reporting (contacts)
    SNOOZE = "snooze"  # remind me again tomorrow at the send time (once)


@dataclass(frozen=True)
class Notice:
    """One reminder for one person, ready to be delivered.

    ``text`` is in the reader's language, with Telegram-compatible HTML markup (``<b>``
    and escaped data only). ``ledger_id`` is filled in once the ledger row is claimed: the
    snooze action refers to it.
    """

    person_id: int
    chat_id: int
    language: str
    text: str
    actions: tuple[Action, ...]
    deadline_code: str
    deadline_date: dt.date
    kind: str  # scheduled | nudge | snooze (data.ledger.KIND_*)
    ledger_id: int | None = None


class Outcome(enum.StrEnum):
    """What happened to one delivery, in the scheduler's terms."""

    SENT = "sent"
    NOT_SENT = "not-sent"  # the claim was lost before the call (another process has it)
    RETRY = "retry"  # known not delivered, may work later (5xx, connection refused, 429)
    REJECTED = "rejected"  # known not delivered, will never work (bad request)
    BLOCKED = "blocked"  # the person blocked the bot
    UNCERTAIN = "uncertain"  # the call may have reached Telegram: never re-sent


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None
    #: For RETRY: the least time to wait (Telegram's retry_after), in seconds.
    retry_after: float = 0.0
    #: The outcome is in the ledger already (the outbox recorded it, ``delivery.courier``):
    #: count it, write nothing.
    recorded: bool = False


#: Awaited by the courier right before the Telegram call; False: do not call.
BeforeSend = Callable[[], Awaitable[bool]]
#: Run by a courier that delivers through the outbox inside the transaction that writes the
#: notice's outbox row (a SQLAlchemy session): moves the ledger row from *claimed* to
#: *queued*; False (the claim was lost): nothing may be written or sent.
HandOver = Callable[[Any], bool]


class Courier(Protocol):
    """Delivers notices (implemented by the bot; tests may give their own)."""

    async def deliver(
        self, notice: Notice, *, before_send: BeforeSend, hand_over: HandOver | None = None
    ) -> Result: ...

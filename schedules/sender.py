"""Paced, ledger-guarded sending: every reminder and nudge goes out through `Sender`.

Order of one delivery: book a send slot (`Pacer`), claim the ledger row (committed) just
before the slot, call Telegram at the slot, record the outcome. Claiming only a moment
before sending keeps the window in which a crash leaves a row "claimed, delivery unknown"
down to about `DEFAULT_CLAIM_LEAD` plus the Telegram call.

Telegram allows about 30 messages per second overall and one per second per chat.
``AIORateLimiter`` only limits the overall rate (and groups); the `Pacer` spaces all sends
evenly below 30/s and keeps each chat at least ~1 s apart, so a burst of reminders never
meets a 429 in the first place. When one comes anyway (another process, a stricter
server), its ``retry_after`` pauses every send of this process.

Failures:

* ``RetryAfter`` — pause, then send the same claimed message again.
* ``Forbidden`` — the person blocked the bot: deactivated, ledger ``failed``, never retried.
* ``BadRequest`` — the request itself is wrong (e.g. chat not found): ``failed``, no retry.
* ``TimedOut`` or a connection lost while reading the answer — the message may have
  reached Telegram, so it is *not* retried (at most once); ledger ``failed`` with "delivery
  unknown" (`delivery_unknown`). A pool timeout (never sent) is retried.
* anything else (5xx, connection errors) — ``failed`` with ``next_attempt_at`` set; the
  runtime's sweep sends it again with growing back-off, at most `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import enum
import logging
import warnings
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application

from core.services import services
from data import ledger, people
from data.db import transaction
from data.models import Person

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Any python-telegram-bot Application (its six type parameters do not matter here).
App = Application[Any, Any, Any, Any, Any, Any]

#: Telegram's documented limit: about 30 messages per second overall.
TELEGRAM_PER_SECOND = 30
#: The gate's window for those 30: a little over a second, for the latency between our
#: clock and Telegram's.
GATE_WINDOW_SECONDS = 1.02
#: Overall sends per second the slots aim at: 30 per gate window, so the gate only has to
#: absorb jitter.
DEFAULT_PER_SECOND = 29.4
#: Seconds between two sends to one chat (Telegram: about one per second).
DEFAULT_PER_CHAT_SECONDS = 1.05
#: Concurrent Telegram calls: enough to keep 30/s going with a real network round trip.
DEFAULT_IN_FLIGHT = 16
#: Seconds before its send slot that a message's ledger row is claimed.
DEFAULT_CLAIM_LEAD = 0.1
#: Back-off before retry n (after failed attempt n); then it is given up.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(hours=1),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
#: Longest total flood wait spent on one message before it is left to the sweep.
MAX_FLOOD_WAIT_SECONDS = 120.0


class Outcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # another process (or an earlier run) has this ledger key already
    RETRYING = "retrying"  # failed for now; next_attempt_at is set
    FAILED = "failed"  # given up (bad request, delivery unknown, too many attempts)
    BLOCKED = "blocked"  # Forbidden: the person was deactivated


@dataclass(frozen=True)
class Claim:
    ledger_id: int
    attempts: int


#: Claims a ledger row inside the given transaction at the given time; None if it is taken.
ClaimFn = Callable[[Session, dt.datetime], Claim | None]


@dataclass(frozen=True)
class Delivery:
    """One message to one person, with how to claim its ledger row.

    ``claim`` runs inside a transaction just before the Telegram call and returns None when
    the row is someone else's; ``markup`` builds the keyboard from the ledger id (the snooze
    button carries it).
    """

    person_id: int
    chat_id: int
    text: str
    claim: ClaimFn
    markup: Callable[[int], InlineKeyboardMarkup | None] = lambda _id: None


@dataclass
class DeliveryReport:
    counts: Counter[Outcome] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1

    def merge(self, other: DeliveryReport) -> None:
        self.counts.update(other.counts)

    @property
    def sent(self) -> int:
        return self.counts[Outcome.SENT]

    @property
    def skipped(self) -> int:
        return self.counts[Outcome.SKIPPED]

    @property
    def failed(self) -> int:
        """Not delivered now: given up, blocked, or waiting for a retry."""
        return sum(self.counts[o] for o in (Outcome.FAILED, Outcome.BLOCKED, Outcome.RETRYING))


class Pacer:
    """Decides when each send may go: two layers, both on this process's monotonic clock.

    1. *Slots* (`reserve`): all sends ≥ 1/per_second apart and one chat ≥ per_chat apart.
       Reservations are kept sorted and a new one takes the earliest gap that respects
       both, so a chat that must wait does not hold up the others. Even spacing (not bursts
       of 30) is what keeps Telegram's rolling one-second counters below 30.
    2. *Gate* (`gate`), right before the Telegram call, on the times sends *actually*
       went: never more than ``limit`` in any ``window`` seconds, never a chat twice within
       ``per_chat`` seconds. A send that started late (a slow database, a busy event loop,
       a cold start) would otherwise squeeze the next window; the gate absorbs that jitter.

    ``clock`` and ``sleep`` are injectable so tests run on virtual time.
    """

    def __init__(
        self,
        *,
        per_second: float = DEFAULT_PER_SECOND,
        per_chat_seconds: float = DEFAULT_PER_CHAT_SECONDS,
        limit: int = TELEGRAM_PER_SECOND,
        window: float = GATE_WINDOW_SECONDS,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or per_chat_seconds < 0 or limit < 1:
            raise ValueError("per_second and limit must be > 0, per_chat_seconds ≥ 0")
        self.interval = 1.0 / per_second
        self.per_chat = per_chat_seconds
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._slots: list[float] = []
        self._chat_next: dict[int | str, float] = {}
        self._sent: deque[float] = deque(maxlen=limit)
        self._chat_sent: dict[int | str, float] = {}
        self.paused_until = 0.0
        self.flood_waits = 0
        self.gate_waits = 0

    def now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def reserve(self, chat_id: int | str) -> float:
        """The earliest send time for ``chat_id`` that keeps both spacings; booked."""
        now = self.now()
        horizon = now - self.interval
        cut = bisect.bisect_left(self._slots, horizon)
        if cut:
            del self._slots[:cut]
        at = max(now, self.paused_until, self._chat_next.get(chat_id, now))
        for booked in self._slots:
            if booked <= at - self.interval:
                continue
            if booked >= at + self.interval:
                break
            at = booked + self.interval
        bisect.insort(self._slots, at)
        self._chat_next[chat_id] = at + self.per_chat
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return at

    async def sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await self._sleep(delay)

    def still_valid(self, at: float) -> bool:
        """False when a pause began after ``at`` was booked: the slot must be booked again."""
        return at >= self.paused_until and self.now() >= self.paused_until

    async def acquire(self, chat_id: int | str) -> None:
        """Wait for a send slot; a pause that starts while waiting voids the slot."""
        while True:
            at = self.reserve(chat_id)
            await self.sleep_until(at)
            if self.still_valid(at):
                return

    async def gate(self, chat_id: int | str) -> None:
        """Wait until a send now keeps both limits on the actual send times; record it.

        Check and record happen without an await in between, so concurrent senders on
        one event loop cannot both pass on the same vacancy.
        """
        while True:
            now = self.now()
            wait = self.paused_until - now
            if len(self._sent) == self.limit:
                wait = max(wait, self._sent[0] + self.window - now)
            last = self._chat_sent.get(chat_id)
            if last is not None:
                wait = max(wait, last + self.per_chat - now)
            if wait <= 0:
                self._sent.append(now)
                self._chat_sent[chat_id] = now
                if len(self._chat_sent) > 10_000:
                    horizon = now - self.per_chat
                    self._chat_sent = {c: t for c, t in self._chat_sent.items() if t > horizon}
                return
            self.gate_waits += 1
            await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Telegram said wait: no send of this process before ``seconds`` from now."""
        now = self.now()
        self.flood_waits += 1
        self.paused_until = max(self.paused_until, now + seconds)
        self._slots = [t for t in self._slots if t < now]
        # Reservations not yet used are void; chats keep only the spacing of real sends.
        self._chat_next = {c: t for c, t in self._chat_next.items() if t - self.per_chat < now}


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` as seconds (PTB 22 returns int or timedelta, with a
    deprecation warning for the int form)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


#: httpx errors (named in PTB's NetworkError text) raised after the request went out.
_LOST_ANSWER = ("httpx.ReadError", "httpx.RemoteProtocolError")


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


class Sender:
    """Delivers batches of `Delivery` through one application's bot, paced and recorded."""

    def __init__(
        self,
        application: App,
        *,
        claimer: str,
        pacer: Pacer | None = None,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
        claim_lead: float = DEFAULT_CLAIM_LEAD,
    ) -> None:
        self.application = application
        self.claimer = claimer
        self.pacer = pacer or Pacer()
        self.max_in_flight = max(1, max_in_flight)
        self.claim_lead = claim_lead

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction on a worker thread (the event loop keeps going)."""
        sessions = services(self.application).sessions

        def run() -> T:
            with transaction(sessions) as session:
                return work(session)

        return await asyncio.to_thread(run)

    def now(self) -> dt.datetime:
        return services(self.application).now()

    async def deliver(self, deliveries: Sequence[Delivery]) -> DeliveryReport:
        """Send all, ``max_in_flight`` at a time, in the given order of send slots."""
        report = DeliveryReport()
        queue = deque(deliveries)

        async def worker() -> None:
            while queue:
                delivery = queue.popleft()
                report.add(await self._deliver_one(delivery))

        workers = min(self.max_in_flight, len(queue))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return report

    async def _deliver_one(self, delivery: Delivery) -> Outcome:
        # Book the slot, claim shortly before it, then send on time: the database's latency
        # is absorbed by the lead instead of shifting the send (a late send squeezes the
        # next second's window at Telegram), and a crash can strand at most the claims
        # made within the lead.
        at = self.pacer.reserve(delivery.chat_id)
        await self.pacer.sleep_until(at - self.claim_lead)
        claim = await self.db(lambda s: delivery.claim(s, self.now()))
        if claim is None:
            return Outcome.SKIPPED
        await self.pacer.sleep_until(at)
        if not self.pacer.still_valid(at):
            await self.pacer.acquire(delivery.chat_id)
        await self.pacer.gate(delivery.chat_id)
        try:
            markup = delivery.markup(claim.ledger_id)
        except Exception as error:  # a bug in rendering must not leave the row claimed
            log.exception("reminder %s: keyboard failed", claim.ledger_id)
            return await self._give_up(claim, _describe(error))
        flood_waited = 0.0
        while True:
            try:
                await self.application.bot.send_message(
                    chat_id=delivery.chat_id,
                    text=delivery.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                log.warning("flood control: waiting %.0f s (chat %s)", wait, delivery.chat_id)
                self.pacer.pause(wait)
                flood_waited += wait
                if flood_waited > MAX_FLOOD_WAIT_SECONDS:
                    return await self._retry_later(claim, _describe(error), minimum=wait)
                await self.pacer.acquire(delivery.chat_id)
                await self.pacer.gate(delivery.chat_id)
                continue
            except Forbidden as error:
                return await self._blocked(claim, delivery.person_id, _describe(error))
            except BadRequest as error:
                return await self._give_up(claim, _describe(error))
            except TelegramError as error:
                if delivery_unknown(error):
                    return await self._give_up(
                        claim, f"{_describe(error)}; delivery unknown, not re-sent (at most once)"
                    )
                return await self._retry_later(claim, _describe(error))
            except Exception as error:
                log.exception("reminder %s: unexpected error while sending", claim.ledger_id)
                return await self._retry_later(claim, _describe(error))
            else:
                await self.db(lambda s: ledger.mark_sent(s, claim.ledger_id, now=self.now()))
                return Outcome.SENT

    async def _give_up(self, claim: Claim, error: str) -> Outcome:
        log.warning("reminder %s failed for good: %s", claim.ledger_id, error)
        await self.db(lambda s: ledger.mark_failed(s, claim.ledger_id, now=self.now(), error=error))
        return Outcome.FAILED

    async def _retry_later(self, claim: Claim, error: str, *, minimum: float = 0.0) -> Outcome:
        if claim.attempts >= MAX_ATTEMPTS:
            return await self._give_up(claim, f"gave up after {claim.attempts} attempts: {error}")
        delay = max(BACKOFF[claim.attempts - 1], dt.timedelta(seconds=minimum))
        now = self.now()
        log.info("reminder %s: retry in %s after %s", claim.ledger_id, delay, error)
        await self.db(
            lambda s: ledger.mark_failed(
                s, claim.ledger_id, now=now, error=error, retry_at=now + delay
            )
        )
        return Outcome.RETRYING

    async def _blocked(self, claim: Claim, person_id: int, error: str) -> Outcome:
        def record(session: Session) -> None:
            ledger.mark_failed(session, claim.ledger_id, now=self.now(), error=f"blocked: {error}")
            person = session.get(Person, person_id)
            if person is not None:
                people.deactivate(session, person, actor_id=None, reason="blocked")

        log.info("person %s blocked the bot; deactivated", person_id)
        await self.db(record)
        return Outcome.BLOCKED

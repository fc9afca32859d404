"""Ledger-guarded delivery: every reminder and nudge goes out through `Sender`.

Order of one delivery: claim the ledger row (committed), hand the notice to the courier
(the bot). The bot's courier writes it to the outbox in the same transaction as the ledger
row becomes *queued* (``hand_over``); the outbox sends it and records the outcome in the
ledger, with the same meaning as below (``delivery.courier.record_outcome``). A courier
without an outbox waits for its turn under the rate limits and calls ``before_send`` right
before the Telegram call — that moves the row from *claimed* to *in flight* — then record
the outcome. Pacing (about 30 messages/s overall, one per second per chat, ``RetryAfter``)
is the bot's rate limiter's job; this module only decides what each outcome means for the
ledger:

* sent — ``sent``.
* not sent, claim lost — nothing (the process that took the row over sends it).
* retry (5xx, connection refused, flood wait too long) — ``failed`` with
  ``next_attempt_at``; the runtime's sweep sends it again with growing back-off, at most
  `MAX_ATTEMPTS` times.
* rejected (bad request, e.g. chat not found) — ``failed``, no retry.
* blocked — the person is deactivated, ``failed``, never retried.
* uncertain (timeout, connection lost while waiting for the answer) — ``uncertain``: the
  message may have arrived, so it is never sent again (at most once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import logging
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core import metrics
from core.services import services
from data import ledger, people
from data.db import transaction
from data.models import Person
from schedules.notices import Courier, Notice, Result
from schedules.notices import Outcome as Delivered

log = logging.getLogger(__name__)

T = TypeVar("T")
#: A python-telegram-bot Application (used only for its job queue and ``bot_data``).
App = Any

#: Deliveries handed to the courier at once: enough to keep 30/s going with a real
#: network round trip, few enough that a crash leaves few rows claimed.
DEFAULT_IN_FLIGHT = 16
#: Back-off before retry n (after failed attempt n); then it is given up.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(hours=1),
)
MAX_ATTEMPTS = len(BACKOFF) + 1


class Outcome(enum.StrEnum):
    """What one delivery did, as the callers count it."""

    SENT = "sent"
    SKIPPED = "skipped"  # another process (or an earlier run) has this ledger key already
    RETRYING = "retrying"  # failed for now; next_attempt_at is set
    FAILED = "failed"  # given up (bad request, too many attempts)
    BLOCKED = "blocked"  # Forbidden: the person was deactivated
    UNCERTAIN = "uncertain"  # may have arrived; recorded, never re-sent


#: What an outcome the outbox recorded in the ledger counts as here.
_RECORDED = {
    Delivered.SENT: Outcome.SENT,
    Delivered.NOT_SENT: Outcome.SKIPPED,
    Delivered.RETRY: Outcome.RETRYING,
    Delivered.REJECTED: Outcome.FAILED,
    Delivered.BLOCKED: Outcome.BLOCKED,
    Delivered.UNCERTAIN: Outcome.UNCERTAIN,
}


@dataclass(frozen=True)
class Claim:
    ledger_id: int
    attempts: int


#: Claims a ledger row inside the given transaction at the given time; None if it is taken.
ClaimFn = Callable[[Session, dt.datetime], Claim | None]


@dataclass(frozen=True)
class Delivery:
    """One notice to one person, with how to claim its ledger row (just before sending)."""

    notice: Notice
    claim: ClaimFn

    @property
    def person_id(self) -> int:
        return self.notice.person_id


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
        """Not known delivered now: given up, blocked, uncertain or waiting for a retry."""
        return sum(
            self.counts[o]
            for o in (Outcome.FAILED, Outcome.BLOCKED, Outcome.RETRYING, Outcome.UNCERTAIN)
        )


class Sender:
    """Delivers batches of `Delivery` through a courier, recorded in the ledger."""

    def __init__(
        self,
        application: App,
        *,
        claimer: str,
        courier: Courier,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        self.application = application
        self.claimer = claimer
        self.courier = courier
        self.max_in_flight = max(1, max_in_flight)

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
        """Send all, ``max_in_flight`` at a time, in the given order."""
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
        recorded: list[bool] = []
        outcome = await self._claim_and_send(delivery, recorded)
        # A skip here: another process has the row. An outcome the outbox recorded in the
        # ledger was counted there (``delivery.courier.record_outcome``), also when it comes
        # only later (a paused chat) or from another process (after a kill).
        if outcome is not Outcome.SKIPPED and not recorded:
            metrics.reminder_outcome(outcome.value)
        return outcome

    async def _claim_and_send(self, delivery: Delivery, recorded: list[bool]) -> Outcome:
        claim = await self.db(lambda s: delivery.claim(s, self.now()))
        if claim is None:
            return Outcome.SKIPPED
        notice = dataclasses.replace(delivery.notice, ledger_id=claim.ledger_id)
        in_flight = False

        async def before_send() -> bool:
            nonlocal in_flight
            in_flight = await self.db(
                lambda s: ledger.mark_in_flight(
                    s,
                    claim.ledger_id,
                    claimer=self.claimer,
                    attempts=claim.attempts,
                    now=self.now(),
                )
            )
            return in_flight

        def hand_over(session: Session) -> bool:
            return ledger.mark_queued(
                session,
                claim.ledger_id,
                claimer=self.claimer,
                attempts=claim.attempts,
                now=self.now(),
            )

        try:
            result = await self.courier.deliver(
                notice, before_send=before_send, hand_over=hand_over
            )
        except Exception as failure:  # a bug in the courier must not leave the row open
            log.exception("reminder %s: the courier failed", claim.ledger_id)
            detail = f"{type(failure).__name__}: {failure}"
            if in_flight:  # the call may have gone out
                result = Result(Delivered.UNCERTAIN, detail)
            else:
                return await self._retry_later(claim, detail)
        error = result.error or result.outcome.value
        if result.recorded:
            recorded.append(True)
            return _RECORDED.get(result.outcome, Outcome.RETRYING)
        match result.outcome:
            case Delivered.SENT:
                await self.db(lambda s: ledger.mark_sent(s, claim.ledger_id, now=self.now()))
                return Outcome.SENT
            case Delivered.NOT_SENT:
                log.info("reminder %s: taken over by another process", claim.ledger_id)
                return Outcome.SKIPPED
            case Delivered.RETRY:
                return await self._retry_later(claim, error, minimum=result.retry_after)
            case Delivered.BLOCKED:
                return await self._blocked(claim, notice.person_id, error)
            case Delivered.UNCERTAIN:
                detail = f"{error}; delivery unknown, not re-sent (at most once)"
                log.warning("reminder %s: %s", claim.ledger_id, detail)
                await self.db(
                    lambda s: ledger.mark_uncertain(
                        s, claim.ledger_id, now=self.now(), error=detail
                    )
                )
                return Outcome.UNCERTAIN
            case _:
                return await self._give_up(claim, error)

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

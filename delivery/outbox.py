"""The outbox sender: delivers what ``data.outbox`` holds, once, from any replica.

A guided conversation writes its replies to the outbox inside its transaction
(`Sender.write`) and, after the commit, hands the new rows to `Sender.deliver`, which sends
them in order through the bot's rate limiter (``delivery.pacing``):

* a message is marked *sending* (committed) right before its HTTP call — the limiter's
  ``before_send`` hook, so the mark lands after the wait for its turn — and *sent* after;
  a request that does no harm twice (answering a button press, editing the question) is not
  marked first. The marks asked for at the same moment are written together (one statement
  for rows of different chats and the *sent* marks collected so far, built once and run
  with the ids as parameters: `Sender._write_starts`), and never more than
  `MAX_IN_FLIGHT` rows are *sending* at once — in a call, or sent with the *sent* mark
  still to come — so a kill leaves at most that many *uncertain*;
* except when an update's first reply can go the moment its step commits: then its turn
  is taken on the event loop before the step (`Sender.take_turn`: a free place at the
  limiter's gate, no wait for the chat, fewer than `MAX_IN_FLIGHT` in flight), the step's
  own transaction writes it *sending* — with the *sent* marks in hand, and on PostgreSQL
  the chat's clock moved in the insert's statement, unless a 429 pauses the chat
  (``data.outbox.add_starting``) — and its call follows the commit with no wait: one write
  transaction for the update. A kill between that commit and the call leaves the reply
  *uncertain*, as a kill during the call does; nothing waits in between. A reply that
  would have to wait (the budget spent, a pause, a paced row, another reply before it,
  the cap) is written *pending* and marked right before its call, as above; a turn no
  reply took (no reply, a failed or rolled-back step) is given back;
* a known non-delivery (5xx, a refused connection, a pool time-out) is retried here a few
  times with back-off, then left *pending* for the background loop; a lost answer (read
  time-out, connection dropped after the request went out) makes the row *uncertain*: the
  message may have arrived and is never sent again, and nobody is told "something went
  wrong" about it; Telegram refusing it (blocked, bad request) makes it *failed*;
* a 429 pauses the chat for every replica (``chat_pauses.until``), and every message moves
  the chat's deployment-wide clock (``chat_pauses.next_send``), which paced messages
  (reminders, nudges; anything to a group) wait for — both in the statement that marks the
  row *sending* (``delivery.pacing`` explains the design).

The background loop (`Sender.run`, one per process, started with the Application) every
`SWEEP_SECONDS`, in one transaction: writes this replica's heartbeat (unless the budget's
claims below do); settles rows left
*sending* by a dead replica; claims pending rows whose lease ran out (written by a replica
that died or stopped, or due for a retry) and delivers them; renews the inbox leases of the
updates this replica holds and takes over unhandled updates whose replica died
(``delivery.ingress.keep_and_claim``). While its rounds find nothing to do, the pause
between them doubles up to `IDLE_SWEEP_SECONDS` (at most a quarter of the lease and of
`REPLICA_GONE`); any work, an update in hand, a delivery or a replica coming or going brings
it back to every second. On PostgreSQL a loop of its own (`Sender.claim_budget`, as often,
in a short transaction) claims this replica's part of the bot's send budget by its demand
in its heartbeat row — the claim is the heartbeat, one write of the row per beat
(``data.ratelimit.share_send_budget``; ``delivery.pacing`` explains). It does not poll
for new replies: those are handed to `deliver` by the replica that wrote them, right after
their commit, so waking senders through the database (LISTEN/NOTIFY) would only serve rows
whose writer died, which the leases cover.

Leases use real time (they are about live processes), not the bot's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from core.services import services
from data import catalog, outbox, ratelimit
from data.db import begin, off_loop, transaction
from data.models import utcnow
from delivery import capture, notices, wire
from delivery.courier import OWNER as REMINDER_OWNER
from delivery.courier import delivery_unknown, record_outcome
from delivery.pacing import (
    BEFORE_SEND,
    HOOK_AT_GATE,
    ON_FLOOD,
    PACE_CHAT,
    RESERVED,
    SHARED_GROUP_SECONDS,
    SHARED_PER_CHAT_SECONDS,
    TELEGRAM_PER_SECOND,
    Later,
    PacingLimiter,
    Reserved,
    SendCancelled,
    is_group,
    is_message,
    retry_after_seconds,
)
from delivery.replies import Markup

log = logging.getLogger(__name__)

KEY = "outbox-sender"
#: How long a replica's claim on a row (or an inbox update) holds without renewal.
DEFAULT_LEASE_SECONDS = 15.0
#: A row marked *sending* is left alone this long before it is called uncertain: longer
#: than any HTTP call with its time-outs.
SENDING_LEASE = dt.timedelta(seconds=120)
#: How often the background loop looks for work, renews leases and beats its heart.
SWEEP_SECONDS = 1.0
#: While rounds find nothing to do (no rows due or interrupted, no updates held, taken over
#: or delivered since), the pause between them doubles up to this — a quarter of
#: `REPLICA_GONE`, and at most a quarter of the lease — so leases and the heartbeat stay
#: renewed in time. An idle replica then makes one transaction every 2.5 s instead of two
#: every second.
IDLE_SWEEP_SECONDS = 2.5
#: A replica not seen for this long no longer counts for the send budget.
REPLICA_GONE = dt.timedelta(seconds=10)
#: How long a replica may use the slots of the send budget it claimed without claiming them
#: again: less than `REPLICA_GONE`, after which the others take them over.
BUDGET_HELD = REPLICA_GONE - dt.timedelta(seconds=3)
#: Immediate retries of a known non-delivery, with these pauses; then the loop's turn.
RETRY_PAUSES = (0.5, 1.5, 3.0)
#: Attempts in all before a row that keeps failing (5xx) is given up.
MAX_ATTEMPTS = 12
#: The least wait before asking again for a chat's turn that was refused.
MIN_TURN_WAIT = 0.02
#: Finished rows are kept this long (inspection), then pruned by the loop.
KEEP_FINISHED = dt.timedelta(days=3)
PRUNE_EVERY = dt.timedelta(minutes=10)
#: The *sent* marks of the deliveries in this window are written in one transaction.
FLUSH_SECONDS = 0.05
#: Rows of one sender marked *sending* whose outcome is not yet written (in a call, or sent
#: with the *sent* mark still to come): the most a kill can leave *uncertain*. Marks are
#: written for many deliveries at once (`Sender._write_starts`) only below it.
MAX_IN_FLIGHT = 16
#: How long a reply's turn taken before its update's step (`Sender.take_turn`) may wait
#: for the step's commit: a step that took longer (a lock wait) writes its reply *pending*
#: and gives the turn back.
TURN_HOLD_SECONDS = 1.0
#: At a stop, how long the marks asked for may still be written.
STOP_WRITER_SECONDS = 2.0

#: A *sending* mark's outcome: (may go now, else when to try again — None: never, as it is
#: no longer this replica's —, the time the mark was written).
Verdict = tuple[bool, dt.datetime | None, dt.datetime]

_EDITS = frozenset({"editMessageText", "editMessageReplyMarkup"})

#: Outcomes told to a row's owner (`Settled.status`) besides the outbox's own statuses.
BLOCKED = "blocked"  # the person blocked the bot (Forbidden)
RETRY = "retry"  # known not delivered: the owner retries on its own schedule
#: Key of a row's owner in its ``params``: ``[name, payload]``; `RECORDERS[name]` is told
#: each step (sending, then the outcome) in the same transaction as the row's status.
OWNER_KEY = "__owner__"


@dataclass(frozen=True)
class Settled:
    """A step of an owned row: ``sending``, ``sent``, ``uncertain``, ``failed``, ``blocked``
    or ``retry`` (with the least wait in seconds)."""

    status: str
    error: str | None = None
    retry_after: float = 0.0


#: name → function(session, payload, settled, now by the bot's clock), registered by the
#: owner (the reminder ledger: ``delivery.courier``).
RECORDERS: dict[str, Callable[[Session, dict[str, Any], Settled, dt.datetime], None]] = {
    REMINDER_OWNER: record_outcome,
    notices.OWNER: notices.record_outcome,
}
#: Owners that retry a known non-delivery on their own schedule (the reminder ledger's
#: back-off): their row is handed back. Other owned rows (``delivery.notices``) are retried
#: by the outbox like any reply.
HANDED_BACK = frozenset({REMINDER_OWNER})


def _waits(request: outbox.Request) -> bool:
    """The request waits for its chat's clock (paced: reminders, nudges; or to a group)."""
    return request.paced or is_group(request.chat_id)


def starts_at_once(request: tuple[int, str, dict[str, Any]]) -> bool:
    """A request (``(chat_id, method, params)``) that may take a turn held before its
    update's step (`Sender.take_turn`) and be written *sending*: a new message (marked
    before its call; an idempotent request is never marked) to a private chat, with no
    owner to tell (`RECORDERS`)."""
    chat_id, method, params = request
    return (
        isinstance(chat_id, int)
        and not is_group(chat_id)
        and method not in outbox.IDEMPOTENT
        and is_message(method)
        and OWNER_KEY not in params
    )


def _owner(request: outbox.Request) -> Any:
    return request.params.get(OWNER_KEY)


def _hands_back(request: outbox.Request) -> bool:
    owner = _owner(request)
    return bool(owner) and owner[0] in HANDED_BACK


def _mark_sent_one(session: Session, request_id: int) -> None:
    outbox.mark_sent(session, [request_id], now=utcnow())


#: Work run once a request is sent, with the real message id (``delivery.capture.after_sent``):
#: name → function(session, payload, message_id), registered by the feature that asks for it.
AFTER_SENT: dict[str, Callable[[Session, dict[str, Any], int], None]] = {}


def replica_name() -> str:
    """Unique per process: host, pid and a random part (pids repeat across restarts)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def lease_seconds() -> float:
    """``DELIVERY_LEASE_SECONDS`` (tests shorten it), else `DEFAULT_LEASE_SECONDS`."""
    raw = os.environ.get("DELIVERY_LEASE_SECONDS", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_LEASE_SECONDS
    return value if value > 0 else DEFAULT_LEASE_SECONDS


def message(chat_id: int, text: str, markup: Markup | None, *, html: bool) -> Any:
    """An outbox request for sendMessage."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if html:
        params["parse_mode"] = ParseMode.HTML
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    return (chat_id, "sendMessage", params)


def edit(chat_id: int, message_id: int, text: str, markup: Markup | None, *, html: bool) -> Any:
    """An outbox request for editMessageText (falls back to a new message if it fails)."""
    params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text}
    if html:
        params["parse_mode"] = ParseMode.HTML
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    return (chat_id, "editMessageText", params)


def answer(chat_id: int, query_id: str, text: str | None, *, alert: bool) -> Any:
    """An outbox request for answerCallbackQuery."""
    params: dict[str, Any] = {"callback_query_id": query_id}
    if text:
        params["text"] = text
    if alert:
        params["show_alert"] = True
    return (chat_id, "answerCallbackQuery", params)


@dataclass
class Turn:
    """The turn of an update's first reply, taken on the event loop before the update's
    step (`Sender.take_turn`), so the step's own transaction can write the reply *sending*
    and its call follow the commit at once — one write transaction for the update."""

    chat_id: int
    #: The place at the rate limiter's gate (None without a `PacingLimiter`).
    ticket: Reserved | None
    #: Its placeholder among the rows in flight (`Sender._flying`) until the step is done.
    token: int
    #: ``time.monotonic()`` after which the step no longer takes it (`TURN_HOLD_SECONDS`).
    expires: float
    #: The *sent* marks the step's transaction wrote (`Sender.write`).
    done: list[int] = field(default_factory=list)
    #: The row the step wrote *sending*, if any, and its update.
    started: int | None = None
    update_id: int | None = None


@dataclass
class Sender:
    """One per process (see the module docstring)."""

    application: Any
    sessions: sessionmaker[Session]
    name: str = field(default_factory=replica_name)
    lease: dt.timedelta = field(default_factory=lambda: dt.timedelta(seconds=lease_seconds()))
    replicas: int = 1
    _task: asyncio.Task[None] | None = None
    #: The send budget's claims (`_claim_loop`; PostgreSQL).
    _claims: asyncio.Task[None] | None = None
    _stopping: asyncio.Event | None = None
    _busy_chats: set[int] = field(default_factory=set)
    _pruned_at: dt.datetime | None = None
    _done: list[int] = field(default_factory=list)
    _flush_task: asyncio.Task[None] | None = None
    #: Deliveries started since the last background round (it then does not back off).
    _delivered: int = 0
    #: The shared clock's gaps (``delivery.pacing``): a paced message to a private chat, and
    #: any message to a group (Telegram: 20 a minute). Tests run Telegram's limits on a
    #: faster clock (``localtg.FloodLimits.time_scale``) and shorten these with it.
    chat_seconds: float = SHARED_PER_CHAT_SECONDS
    group_seconds: float = SHARED_GROUP_SECONDS
    #: *sending* marks asked for and not yet written, each with who waits for its verdict.
    _starts: list[tuple[outbox.Request, asyncio.Future[Verdict]]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None
    #: Rows marked *sending* whose outcome is not written yet (at most `MAX_IN_FLIGHT`).
    _flying: set[int] = field(default_factory=set)
    #: Rows written *sending* by the step that wrote them (`Turn`), with the place at the
    #: rate limiter's gate taken for their call: the call goes at once, with no mark.
    _premarked: dict[int, Reserved | None] = field(default_factory=dict)
    #: The last placeholder of a `Turn` in `_flying` (negative: never a row id).
    _turns: int = 0
    #: Set when a row leaves `_flying` (or a mark is asked for): the writer may go on.
    _room: asyncio.Event = field(default_factory=asyncio.Event)
    #: Guards `_done`, `_flying` and `_premarked`: `write` runs on a worker thread.
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    #: Counters (tests, benches).
    sent: int = 0
    uncertain: int = 0
    retried: int = 0

    # --- writing (inside the caller's transaction) ------------------------------------

    def write(
        self,
        session: Session,
        requests: Sequence[Any],
        *,
        update_id: int | None,
        paced: bool = False,
        turn: Turn | None = None,
    ) -> list[outbox.Request]:
        """Add ``requests`` (from `message`, `edit`, `answer`) claimed by this replica.
        ``paced`` for messages on the bot's own initiative (reminders, nudges): they keep
        a chat's messages from all replicas `SHARED_PER_CHAT_SECONDS` apart.

        With a ``turn`` (`take_turn`, an update's replies) the *sent* marks collected so
        far are written in this transaction too, and the first request, when it is a
        message that may take the turn (`starts_at_once`) and the turn is still fresh,
        is written *sending* (``data.outbox.add_starting``: unless a 429 pauses its chat).
        The caller then hands the turn to `turn_committed` after the commit (or to
        `turn_lost`), and delivers the rows at once."""
        now = utcnow()
        starting = False
        if turn is not None:
            turn.done = self._take_done()
            outbox.mark_sent(session, turn.done, now=now)
            starting = bool(
                requests
                and requests[0][0] == turn.chat_id
                and starts_at_once(requests[0])
                and time.monotonic() < turn.expires
            )
        if turn is not None and starting:
            ids, started = outbox.add_starting(
                session,
                list(requests),
                update_id=update_id,
                claimer=self.name,
                now=now,
                lease=self.lease,
                start=outbox.Start(SENDING_LEASE, dt.timedelta(seconds=self.chat_seconds)),
            )
            turn.started = ids[0] if started else None
            turn.update_id = update_id
        else:
            ids = outbox.add(
                session,
                list(requests),
                update_id=update_id,
                claimer=self.name,
                now=now,
                lease=self.lease,
                paced=paced,
            )
        return [
            outbox.Request(row_id, chat_id, method, params, update_id, 0, paced)
            for row_id, (chat_id, method, params) in zip(ids, requests, strict=True)
        ]

    # --- delivering ---------------------------------------------------------------------

    async def deliver(self, requests: Sequence[outbox.Request]) -> None:
        """Send the rows in order (after their transaction committed); never raises for a
        Telegram failure: the row's status records it.

        The *sent* marks are not written here: they are collected (shared by concurrent
        deliveries) and written together with the next *sending* mark, by the next flush
        (`FLUSH_SECONDS` later, one transaction for every delivery in between), or by the
        background round, whichever comes first. A crash before that leaves a sent
        idempotent request to be made again (harmless) and a sent message *sending*, i.e.
        uncertain — never sent twice.
        """
        self._loop = asyncio.get_running_loop()
        self._delivered += 1
        try:
            for request in requests:
                try:
                    with capture.direct():
                        await self._deliver_one(request)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox: delivering row %s failed", request.id)
        finally:
            if self._done:  # (read without the lock: a flush too many is harmless)
                self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            # Of no single update (an empty context): one flush serves every delivery.
            self._flush_task = asyncio.create_task(
                self._flush_later(), name="outbox-sent-marks", context=contextvars.Context()
            )

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self._write_marks()

    async def flush(self) -> None:
        """Write the *sent* marks collected so far, now (and wait for a flush under way)."""
        task = self._flush_task
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._write_marks()

    async def _write_marks(self) -> None:
        done = self._take_done()
        if done:
            try:
                await off_loop(self._mark_sent, done, sessions=self.sessions)
            except Exception:
                # Left *sending* (uncertain after a restart: never sent twice) or pending
                # (an idempotent request, made again): safe either way.
                log.exception("outbox: could not mark %d row(s) sent", len(done))
                self._give_back_done(done)
                return
            self._settled(done)

    def _take_done(self) -> list[int]:
        """The *sent* marks collected so far, to be written by the caller."""
        with self._lock:
            done, self._done = self._done, []
        return done

    def _give_back_done(self, done: list[int]) -> None:
        """Their write failed: written with the next marks instead."""
        with self._lock:
            self._done[:0] = done

    def _settled(self, row_ids: Iterable[int]) -> None:
        """These rows' outcomes are written: they no longer count against the cap (any
        thread; a writer waiting at the cap is woken)."""
        tickets: list[Reserved] = []
        with self._lock:
            before = len(self._flying)
            for row_id in row_ids:
                self._flying.discard(row_id)
                ticket = self._premarked.pop(row_id, None)
                if ticket is not None:
                    tickets.append(ticket)
            freed = len(self._flying) < before
        for ticket in tickets:  # (settled before its call: its place is free again)
            ticket.give_back()
        if freed:
            self._wake()

    def _wake(self) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._room.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._room.set)

    def _sent_ok(self, row_id: int) -> None:
        """Sent: its *sent* mark goes with the next marks written (or the next flush)."""
        with self._lock:
            self._done.append(row_id)
            waiting = row_id in self._flying and bool(self._starts)
        if waiting:
            self._room.set()  # a writer waiting at the cap can write it now

    def _reserve(
        self, wanted: Sequence[int], done: Sequence[int], cap: int = MAX_IN_FLIGHT
    ) -> list[int]:
        """Under the lock: as many of ``wanted`` as ``cap`` leaves room for (``done`` is
        written in the same transaction), counted in flight from now on."""
        with self._lock:
            room = cap - len(self._flying.difference(done))
            taken = list(wanted[: max(room, 0)])
            self._flying.update(taken)
        return taken

    def take_turn(self, chat_id: int | None) -> Turn | None:
        """On the event loop, before an update's step: the turn of the step's first reply
        to ``chat_id`` (a private chat), if it may go the moment the step commits — fewer
        than `MAX_IN_FLIGHT` rows in flight, and (with the bot's `PacingLimiter`) a free
        place at its gate with no wait for the chat (``PacingLimiter.turn_now``). Else None:
        the reply is written *pending* and marked at the gate, right before its call.

        The turn is one of the rows in flight from now on (a kill can leave its reply
        *uncertain*: written *sending*, its call not made — the same as a kill during the
        call, and nothing waits between that commit and the call). Handed back by
        `turn_committed` / `turn_lost`."""
        if chat_id is None or is_group(chat_id):
            return None
        self._loop = asyncio.get_running_loop()
        with self._lock:
            if len(self._flying.difference(self._done)) >= MAX_IN_FLIGHT:
                return None
            self._turns -= 1
            token = self._turns
            self._flying.add(token)
        ticket: Reserved | None = None
        limiter = getattr(self.application.bot, "rate_limiter", None)
        if isinstance(limiter, PacingLimiter):
            ticket = limiter.turn_now(chat_id, hold=TURN_HOLD_SECONDS)
            if ticket is None:
                self._settled([token])
                return None
        return Turn(chat_id, ticket, token, time.monotonic() + TURN_HOLD_SECONDS)

    def turn_committed(self, turn: Turn | None) -> None:
        """The step that held ``turn`` committed (on the event loop, before its delivery):
        the reply it wrote *sending* is in flight with the turn's place at the gate for its
        call; a turn no reply took is given back, and the *sent* marks written are done."""
        if turn is None:
            return
        with self._lock:
            self._flying.discard(turn.token)
            if turn.started is not None:
                self._flying.add(turn.started)
                self._premarked[turn.started] = turn.ticket
        if turn.started is None and turn.ticket is not None:
            turn.ticket.give_back()
        done, turn.done = turn.done, []
        self._settled([turn.token, *done])

    async def turn_lost(self, turn: Turn | None) -> None:
        """The step that held ``turn`` failed or rolled back: the turn is given back, the
        *sent* marks it would have written go with the next ones.

        When the step had written its reply *sending*, its commit may still have gone
        through (its answer lost with the connection): that reply was certainly not sent
        — no call was made — so it is made *pending* again for any replica
        (``data.outbox.unstart``; nothing when the commit did not happen), before the
        caller tries the update again."""
        if turn is None:
            return
        done, turn.done = turn.done, []
        self._give_back_done(done)
        if turn.ticket is not None:
            turn.ticket.give_back()
        self._settled([turn.token])
        started, turn.started = turn.started, None
        update_id = turn.update_id
        if started is None or update_id is None:
            return

        def unstart() -> None:
            with transaction(self.sessions) as session:
                outbox.unstart(
                    session, started, update_id=update_id, claimer=self.name, now=utcnow()
                )

        try:
            await off_loop(unstart, sessions=self.sessions)
        except Exception:
            log.exception("outbox: row %s may stay *sending* unsent (uncertain)", started)

    def _claim_premark(self, row_id: int) -> tuple[bool, Reserved | None]:
        """Once for a row written *sending* by its step (`turn_committed`): True, with the
        place at the gate taken for its call."""
        with self._lock:
            if row_id in self._premarked:
                return True, self._premarked.pop(row_id)
        return False, None

    async def _deliver_one(self, request: outbox.Request) -> None:
        bot = self.application.bot
        limited = isinstance(getattr(bot, "rate_limiter", None), PacingLimiter)
        # Written *sending* by its step, its place at the gate taken (`take_turn`): the
        # first call goes at once, with no mark and no turn of its own.
        premarked, reserved = self._claim_premark(request.id)
        for attempt, pause in enumerate((*RETRY_PAUSES, None)):
            marked = premarked and attempt == 0

            async def before_send() -> bool | Later:
                nonlocal marked
                if request.idempotent:
                    return True
                verdict = await self._start_sending(request, wait=not limited)
                marked = verdict is True
                return verdict

            try:
                if marked:
                    try:
                        result = await self._call(bot, request, None, reserved=reserved)
                    finally:  # spent by the limiter, or never reached it: free again
                        if reserved is not None:
                            reserved.give_back()
                else:
                    if not limited and await before_send() is not True:
                        return
                    result = await self._call(bot, request, before_send if limited else None)
            except SendCancelled:
                return
            except RetryAfter as error:  # the limiter gave up waiting
                wait = retry_after_seconds(error)
                if _hands_back(request):
                    await self._hand_back(request, str(error), wait)
                    return
                await self._finish(
                    outbox.retry_later, request, at=utcnow() + dt.timedelta(seconds=wait)
                )
                return
            except Forbidden as error:
                log.info("outbox: chat %s refused row %s: %s", request.chat_id, request.id, error)
                await self._finish(
                    outbox.mark_failed,
                    request,
                    error=str(error),
                    settled=Settled(BLOCKED, str(error)),
                )
                return
            except BadRequest as error:
                await self._refused(request, error)
                return
            except TelegramError as error:
                if not request.idempotent and delivery_unknown(error):
                    log.warning(
                        "outbox: row %s may have arrived (%s); not sent again", request.id, error
                    )
                    self.uncertain += 1
                    await self._finish(
                        outbox.mark_uncertain,
                        request,
                        error=str(error),
                        settled=Settled(outbox.UNCERTAIN, str(error)),
                    )
                    return
                if not isinstance(error, NetworkError):
                    log.warning("outbox: Telegram refused row %s: %s", request.id, error)
                    await self._finish(
                        outbox.mark_failed,
                        request,
                        error=str(error),
                        settled=Settled(outbox.FAILED, str(error)),
                    )
                    return
                self.retried += 1
                if _hands_back(request):  # its owner retries, on its own schedule
                    await self._hand_back(request, str(error), 0.0)
                    return
                tries = request.attempts + attempt + 1
                if tries >= MAX_ATTEMPTS:
                    log.warning("outbox: row %s given up after %s", request.id, error)
                    await self._finish(outbox.mark_failed, request, error=str(error))
                    return
                if pause is None:
                    log.info("outbox: row %s not delivered (%s); later", request.id, error)
                    later = utcnow() + dt.timedelta(seconds=10)
                    await self._finish(outbox.retry_later, request, at=later, error=str(error))
                    return
                if marked:  # known not delivered: pending again, still ours
                    await self._reclaim(request)
                await asyncio.sleep(pause)
                continue
            self.sent += 1
            if _owner(request) is not None:  # its owner learns it at once
                await self._finish(_mark_sent_one, request, settled=Settled(outbox.SENT))
            else:
                self._sent_ok(request.id)
            await self._after_sent(request, result)
            return

    async def _hand_back(self, request: outbox.Request, error: str, wait: float) -> None:
        """Known not delivered, for a row whose owner retries (the reminder ledger's
        back-off): the row is done here, its owner schedules the next attempt."""
        log.info("outbox: row %s not delivered (%s); its owner retries", request.id, error)
        await self._finish(
            outbox.mark_failed,
            request,
            error=f"handed back for a later retry: {error}",
            settled=Settled(RETRY, error, wait),
        )

    async def _refused(self, request: outbox.Request, error: BadRequest) -> None:
        text = str(error).lower()
        if request.method in _EDITS and "not modified" in text:
            self._sent_ok(request.id)
        elif request.method == "editMessageText":
            await self._edit_failed(request, error)
        elif request.method == "answerCallbackQuery":  # too old: nothing to show any more
            self._sent_ok(request.id)
        else:
            log.warning("outbox: Telegram refused row %s: %s", request.id, error)
            await self._finish(
                outbox.mark_failed,
                request,
                error=str(error),
                settled=Settled(outbox.FAILED, str(error)),
            )

    async def _call(
        self,
        bot: Any,
        request: outbox.Request,
        before_send: Any,
        *,
        reserved: Reserved | None = None,
    ) -> Any:
        """The request as stored (its markup already Telegram's JSON; a stored file back as
        an `InputFile`, `delivery.capture.restore`), posted through the bot's own request
        object (``delivery.wire``: none of PTB's per-call parameter handling) and its rate
        limiter; Telegram's answer (the sent message, as JSON) is not parsed into PTB
        objects. ``reserved``: its place at the gate, taken before (`take_turn`)."""
        if request.method not in capture.CAPTURED:
            if reserved is not None:
                reserved.give_back()
            raise ValueError(f"outbox: unknown method {request.method!r}")
        params = capture.restore(request.params)
        method = request.method

        async def call() -> Any:
            return await wire.post(bot, method, params)

        limiter = bot.rate_limiter
        if limiter is None:
            if reserved is not None:
                reserved.give_back()
            return await call()
        limits: dict[str, Any] | None = None
        if reserved is not None:
            limits = {RESERVED: reserved, ON_FLOOD: self._on_flood, PACE_CHAT: False}
        elif before_send is not None:
            limits = {
                BEFORE_SEND: before_send,
                HOOK_AT_GATE: True,
                ON_FLOOD: self._on_flood,
                PACE_CHAT: request.paced,
            }
        return await limiter.process_request(
            callback=call, args=(), kwargs={}, endpoint=method, data=params, rate_limit_args=limits
        )

    async def _after_sent(self, request: outbox.Request, result: Any) -> None:
        """The work a handler asked for once its reply is sent (`AFTER_SENT`)."""
        wanted = request.params.get(capture.AFTER_SENT_KEY)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if not wanted or not isinstance(message_id, int):
            return
        name, payload = wanted
        work = AFTER_SENT.get(name)
        if work is None:
            log.warning("outbox: no after-send work %r (row %s)", name, request.id)
            return

        def run() -> None:
            with transaction(self.sessions) as session:
                work(session, payload, message_id)

        try:
            await off_loop(run, sessions=self.sessions)
        except Exception:
            log.exception("outbox: after-send work %r of row %s failed", name, request.id)

    async def _edit_failed(self, request: outbox.Request, error: TelegramError) -> None:
        """The question could not be edited (too old, deleted): send it anew instead."""
        log.info("outbox: could not edit the question, sending it anew: %s", error)
        params = {k: v for k, v in request.params.items() if k != "message_id"}

        def replace() -> outbox.Request:
            with transaction(self.sessions) as session:
                outbox.mark_sent(session, [request.id], now=utcnow())
                [fresh] = self.write(
                    session, [(request.chat_id, "sendMessage", params)], update_id=request.update_id
                )
            return fresh

        await self._deliver_one(await off_loop(replace, sessions=self.sessions))

    async def _start_sending(self, request: outbox.Request, *, wait: bool) -> bool | Later:
        """Commit *sending* and take the chat's turn on the deployment-wide clock
        (``data.outbox.start_sending``), together with the other deliveries' marks in hand
        (`_write_starts`). When a 429 any replica saw pauses the chat, or (a paced message)
        another replica's message to it went less than `SHARED_PER_CHAT_SECONDS` ago:
        `Later` for the limiter, which gives its gate back meanwhile — or, without one
        (``wait``), wait here."""
        loop = asyncio.get_running_loop()
        while True:
            verdict: asyncio.Future[Verdict] = loop.create_future()
            self._starts.append((request, verdict))
            self._kick_writer()
            started, until, now = await verdict
            if started:
                return True
            if until is None:
                return False  # taken over by another replica, or already sent
            seconds = max((until - now).total_seconds(), MIN_TURN_WAIT)
            if not wait:
                return Later(min(seconds, 60.0))
            await asyncio.sleep(min(seconds, 60.0))

    def _kick_writer(self) -> None:
        """Start the mark writer unless it is running (it then takes what is in hand next).
        It belongs to no single update (an empty context): its marks serve many."""
        self._room.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(
                self._write_starts(), name="outbox-sending-marks", context=contextvars.Context()
            )

    def _take_batch(self, room: int) -> list[tuple[outbox.Request, asyncio.Future[Verdict]]]:
        """Up to ``room`` of the marks asked for, oldest first, one per chat (a chat's next
        message waits for the next batch: its clock moves once per statement)."""
        batch: list[tuple[outbox.Request, asyncio.Future[Verdict]]] = []
        chats: set[int] = set()
        kept: list[tuple[outbox.Request, asyncio.Future[Verdict]]] = []
        for item in self._starts:
            request, verdict = item
            if verdict.done():  # its delivery was cancelled meanwhile
                continue
            if len(batch) < room and request.chat_id not in chats:
                chats.add(request.chat_id)
                batch.append(item)
            else:
                kept.append(item)
        self._starts = kept
        return batch

    async def _write_starts(self) -> None:
        """Group commit of the *sending* marks: every mark asked for (one per chat), with
        the *sent* marks collected so far, in one transaction on one worker-thread hop,
        while fewer than `MAX_IN_FLIGHT` rows of this sender are *sending* — the most a
        kill can leave uncertain. Marks asked for while it writes go in the next round;
        at the cap it waits for an outcome to be written."""
        while self._starts:
            self._room.clear()
            done = self._take_done()
            with self._lock:
                room = MAX_IN_FLIGHT - len(self._flying.difference(done))
                batch = self._take_batch(room) if room > 0 else []
                self._flying.update(request.id for request, _ in batch)
            if not batch and not done:
                if self._starts:
                    await self._room.wait()
                continue
            try:
                verdicts = await off_loop(
                    self._try_start, [request for request, _ in batch], done, sessions=self.sessions
                )
            except Exception as error:
                self._give_back_done(done)  # written with the next marks
                self._settled(request.id for request, _ in batch)
                for _, verdict in batch:
                    if not verdict.done():
                        verdict.set_exception(error)
                continue
            idle = [request.id for request, _ in batch if not verdicts[request.id][0]]
            for request, verdict in batch:
                if not verdict.done():
                    verdict.set_result(verdicts[request.id])
                elif verdicts[request.id][0]:  # cancelled meanwhile: left for the lease
                    idle.append(request.id)
            self._settled([*done, *idle])

    def _try_start(self, requests: list[outbox.Request], done: list[int]) -> dict[int, Verdict]:
        """One transaction: the *sent* marks, then the replies' *sending* marks in one
        statement (``data.outbox.start_sending_replies``), then each message that waits for
        its chat's clock (paced, or to a group) with its own statement.

        When every one is a plain reply (waits for no clock, has no owner to tell) and
        each is started, that one statement is all, on a bare connection
        (`_marks_connection`)."""
        verdicts: dict[int, Verdict] = {}
        if all(not _waits(r) and _owner(r) is None for r in requests):
            with self._marks_connection() as connection:
                now = utcnow()
                started = outbox.start_sending_replies(
                    connection,
                    [(r.id, r.chat_id) for r in requests],
                    sent=done,
                    claimer=self.name,
                    now=now,
                    lease=SENDING_LEASE,
                    spacing=dt.timedelta(seconds=self.chat_seconds),
                )
            if len(started) == len(requests):
                return {r.id: (True, None, now) for r in requests}
            with transaction(self.sessions) as session:  # why the others may not go now
                for request in requests:
                    if request.id in started:
                        verdicts[request.id] = (True, None, now)
                    else:
                        until = outbox.blocked_until(
                            session, request.id, claimer=self.name, now=now, wait_spacing=False
                        )
                        verdicts[request.id] = (False, until, now)
            return verdicts
        with transaction(self.sessions) as session:
            now = utcnow()  # here, so the chat's clock is set as close to the call as can be
            replies = [r for r in requests if not _waits(r)]
            started = outbox.start_sending_replies(
                session,
                [(r.id, r.chat_id) for r in replies],
                sent=done,
                claimer=self.name,
                now=now,
                lease=SENDING_LEASE,
                spacing=dt.timedelta(seconds=self.chat_seconds),
            )
            for request in sorted((r for r in requests if _waits(r)), key=lambda r: r.chat_id):
                spacing = self.group_seconds if is_group(request.chat_id) else self.chat_seconds
                if outbox.start_sending(
                    session,
                    request.id,
                    claimer=self.name,
                    now=now,
                    lease=SENDING_LEASE,
                    chat_id=request.chat_id,
                    spacing=dt.timedelta(seconds=spacing),
                    wait_spacing=True,
                ):
                    started.add(request.id)
            for request in requests:
                if request.id in started:
                    self._record(session, request.params, Settled(outbox.SENDING))
                    verdicts[request.id] = (True, None, now)
                    continue
                until = outbox.blocked_until(
                    session, request.id, claimer=self.name, now=now, wait_spacing=_waits(request)
                )
                verdicts[request.id] = (False, until, now)
        return verdicts

    def _mark_sent(self, done: list[int]) -> None:
        with self._marks_connection() as connection:
            outbox.mark_sent(connection, done, now=utcnow())

    def _marks_connection(self) -> contextlib.AbstractContextManager[Connection]:
        """A connection in a transaction of its own for a statement of marks: a bare
        connection (no ORM session: nothing here is an object); on a worker thread the
        one it keeps between transactions (`data.db.begin`), no checkout from the pool.

        Not autocommit, although the marks are one statement: PostgreSQL would commit an
        autocommit statement that waited for a lock even after its process was killed (it
        notices the dead client only when it answers), so a reply could become *sending*
        after the kill — uncertain, never sent — where the explicit COMMIT, sent only once
        the statement has returned, leaves it pending for any replica (`tests.killing`
        kills under the outbox's lock and saw exactly that)."""
        return begin(cast(Engine, self.sessions.kw["bind"]))

    def _on_flood(self, chat_id: int | str, seconds: float) -> None:
        """A 429 for ``chat_id``: every replica waits (the limiter retries the request)."""
        if not isinstance(chat_id, int):
            return
        try:
            with transaction(self.sessions) as session:
                outbox.pause_chat(session, chat_id, until=utcnow() + dt.timedelta(seconds=seconds))
        except Exception:
            log.exception("outbox: could not record the flood wait of chat %s", chat_id)

    async def _reclaim(self, request: outbox.Request) -> None:
        """Known not delivered after *sending* was marked: pending again, still ours."""
        await self._finish(outbox.retry_later, request, at=utcnow() + self.lease, claimer=self.name)

    async def _finish(
        self,
        action: Any,
        request: outbox.Request,
        *,
        settled: Settled | None = None,
        **kwargs: Any,
    ) -> None:
        """``action`` on the row and, for a row with an owner, the outcome in the owner's
        record, in one transaction."""

        def run() -> None:
            with transaction(self.sessions) as session:
                action(session, request.id, **kwargs)
                if settled is not None:
                    self._record(session, request.params, settled)

        await off_loop(run, sessions=self.sessions)
        self._settled([request.id])

    def _record(self, session: Session, params: dict[str, Any], settled: Settled) -> None:
        """Tell a row's owner (``params[OWNER_KEY]``, `RECORDERS`) what became of it."""
        owner = params.get(OWNER_KEY)
        if not owner:
            return
        name, payload = owner
        recorder = RECORDERS.get(name)
        if recorder is None:
            log.warning("outbox: no recorder %r for a row's outcome %s", name, settled.status)
            return
        recorder(session, payload, settled, services(self.application).now())

    # --- the background loop ---------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self.run(), name="outbox-sender")
            limiter = self._limiter()
            if limiter is not None:
                # No part of the send budget before the first claim (at once): the other
                # replicas may hold all of it.
                limiter.set_slots(0)
                self._claims = asyncio.create_task(self._claim_loop(), name="send-budget")

    async def run(self) -> None:
        assert self._stopping is not None
        pause = SWEEP_SECONDS
        while not self._stopping.is_set():
            busy = True
            try:
                busy = await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: the background round failed; trying again")
            pause = SWEEP_SECONDS if busy else min(pause * 2, self._idle_pause())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)

    def _idle_pause(self) -> float:
        """The longest pause between idle rounds (`IDLE_SWEEP_SECONDS`)."""
        bound = min(self.lease, REPLICA_GONE).total_seconds() / 4
        return max(SWEEP_SECONDS, min(IDLE_SWEEP_SECONDS, bound))

    async def sweep(self) -> bool:
        """One round of the background loop (see the module docstring); False when it found
        nothing to do and this replica holds and delivered nothing since the last one."""
        from delivery import ingress

        now = utcnow()
        self._loop = asyncio.get_running_loop()
        done = self._take_done()
        held = ingress.held_updates(self.application)
        delivered, self._delivered = self._delivered, 0
        replicas = self.replicas
        try:
            due, stranded, settled = await off_loop(
                self._round, now, done, held, sessions=self.sessions
            )
        except BaseException:
            self._give_back_done(done)  # written by the next flush instead
            raise
        self._settled([*done, *settled])
        await ingress.take_over(self.application, stranded)
        busy = bool(due or stranded or settled or held or done or delivered)
        busy = busy or self.replicas != replicas  # a replica came or went: its share moves
        if due:
            by_chat: dict[int, list[outbox.Request]] = defaultdict(list)
            for request in due:
                by_chat[request.chat_id].append(request)
            log.info("outbox: delivering %d request(s) left by earlier senders", len(due))
            await asyncio.gather(*(self.deliver(rows) for rows in by_chat.values()))
        return busy

    def _round(
        self, now: dt.datetime, done: list[int], held: list[int]
    ) -> tuple[list[outbox.Request], list[tuple[int, dict[str, Any]]], list[int]]:
        """The background round's database work (on a worker thread), one transaction: the
        *sent* marks collected since the last flush first, so no sent row's lease runs out
        unmarked; the inbox leases of the ``held`` updates renewed and stranded updates
        claimed (``delivery.ingress.keep_and_claim``)."""
        from delivery import ingress

        with transaction(self.sessions) as session:
            catalog.keep_fresh(session)  # the updates then never check it themselves
            outbox.mark_sent(session, done, now=now)
            if self._claims is None:  # else the budget's claim is the heartbeat (`_share`)
                outbox.heartbeat(session, self.name, now=now)
            self.replicas = outbox.live_replicas(session, now=now, within=REPLICA_GONE)
            settled = outbox.settle_interrupted(
                session, now=now, alive_since=now - REPLICA_GONE, me=self.name
            )
            for row_id in settled:
                log.warning("outbox: row %s was in flight when its sender stopped", row_id)
            if settled:
                gone = Settled(outbox.UNCERTAIN, "the sending replica stopped during the call")
                for params in outbox.params_of(session, settled):
                    self._record(session, params, gone)
            due = outbox.claim_due(session, claimer=self.name, now=now, lease=self.lease)
            if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
                outbox.prune(session, older_than=now - KEEP_FINISHED)
                self._pruned_at = now
            stranded = ingress.keep_and_claim(
                session, held, claimer=self.name, now=now, lease=self.lease
            )
        return due, stranded, settled

    def _shared(self) -> bool:
        """Several replicas may send on the bot's token (PostgreSQL; SQLite serves one
        process, which keeps the whole budget)."""
        bind = self.sessions.kw.get("bind")
        return bind is not None and bind.dialect.name == "postgresql"

    def _limiter(self) -> PacingLimiter | None:
        """The rate limiter whose part of the send budget this sender claims (PostgreSQL)."""
        limiter = getattr(self.application.bot, "rate_limiter", None)
        return limiter if isinstance(limiter, PacingLimiter) and self._shared() else None

    async def claim_budget(self) -> bool:
        """Claim this replica's part of the send budget by its demand and hand it to the
        rate limiter (``data.ratelimit.share_send_budget``); whether anything is to be sent
        or the part moved (the next claim then comes after `SWEEP_SECONDS`, not backed off).

        Its own loop (`_claim_loop`), not the background round's: that round awaits the
        deliveries it starts, which may wait for the very slots the next claim gives."""
        limiter = self._limiter()
        if limiter is None:
            return False
        # Measured before the hop: while it runs, this replica sends at most its limit in
        # effect, which the claim then still covers.
        demand, holding = limiter.demand(), max(limiter.slots, limiter.occupancy())
        before = limiter.slots
        slots = await off_loop(self._share, utcnow(), demand, holding, sessions=self.sessions)
        # Held for less than REPLICA_GONE: a replica whose claims stall stops sending before
        # the others count its slots as free.
        limiter.set_slots(slots, for_seconds=BUDGET_HELD.total_seconds())
        return bool(demand) or slots != before

    async def _claim_loop(self) -> None:
        assert self._stopping is not None
        pause = SWEEP_SECONDS
        while not self._stopping.is_set():
            busy = True
            try:
                busy = await self.claim_budget()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: could not claim this replica's send budget; trying again")
            pause = SWEEP_SECONDS if busy else min(pause * 2, self._idle_pause())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)

    def _share(self, now: dt.datetime, demand: int, holding: int) -> int:
        """This replica's sends per window from now on, claimed in its heartbeat row — the
        claim is this replica's heartbeat (the round writes none while claims run: one
        write of the row per beat) — in a transaction of its own, so no other lock is held
        while the claims are made one at a time."""
        with transaction(self.sessions) as session:
            return ratelimit.share_send_budget(
                session,
                self.name,
                total=TELEGRAM_PER_SECOND,
                demand=demand,
                holding=holding,
                now=now,
                within=REPLICA_GONE,
            )

    async def stop(self) -> None:
        """Stop the loop and free this replica's pending rows for the others at once."""
        if self._stopping is not None:
            self._stopping.set()
        for task in (self._task, self._claims):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._claims = None
        writer = self._writer
        if writer is not None and not writer.done():
            # The sending marks asked for are written first; one waiting at the cap for an
            # outcome that a stopping process will not see any more is given up.
            self._room.set()
            await asyncio.wait({writer}, timeout=STOP_WRITER_SECONDS)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        self._writer = None
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._flush_task
            self._flush_task = None
        await self._write_marks()

        def release() -> int:
            with transaction(self.sessions) as session:
                released = outbox.release(session, claimer=self.name, now=utcnow())
                outbox.forget_replica(session, self.name)
            return released

        try:
            released = await off_loop(release, sessions=self.sessions)
            if released:
                log.info("outbox: %d unsent request(s) left for the other replicas", released)
        except Exception:
            log.exception("outbox: could not release this replica's rows")


def sender(application: Any) -> Sender | None:
    return application.bot_data.get(KEY)


def install(application: Any, sessions: sessionmaker[Session]) -> Sender:
    found = Sender(application, sessions)
    application.bot_data[KEY] = found
    return found

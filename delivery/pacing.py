"""The bot's one rate limiter: every request to Telegram passes through `PacingLimiter`.

Telegram allows about 30 messages per second overall, about one per second in one chat
and 20 per minute in a group, and answers 429 (``RetryAfter``) past them. PTB's
``AIORateLimiter`` limits only the overall rate and groups, and on a 429 it stops every
request of the bot; this limiter instead

* spaces all new messages evenly below 30/s (``per_second``) and never lets more than
  ``limit`` go out in any ``window`` seconds of actual send times (the gate absorbs the
  jitter of a busy event loop), so a burst of reminders never meets a 429;
* keeps messages the bot sends on its own initiative (reminders, nudges: requests with
  ``rate_limit_args={PACE_CHAT: True}``) ≥ ``per_chat_seconds`` after the chat's previous
  message, and every message to a group ≥ ``group_seconds`` apart; a chat that must wait
  does not hold up the others (each request waits for its own chat only);
* honours ``RetryAfter`` for the chat concerned only: that chat is paused (every kind of
  message to it waits) and the request retried, at most ``max_retries`` times and at most
  ``max_flood_wait`` seconds in all, while other chats' sends go on.

Replies to a person's own message are not held to one per second: a person cannot type
faster than Telegram tolerates for long, and waiting a second before the second message of
a reply (or before every reply in the tests, which type instantly) only makes the bot feel
slow. Telegram "may allow short bursts" per chat; the overall gate and ``RetryAfter`` still
apply to replies.

Only requests that post a new message are paced (``send*`` except chat actions, copies and
forwards) and ``editMessageText`` (the guided flows answer a button press by editing the
question into the next one: a message in its place); answers to button presses, keyboard
edits and the rest go straight through, so a person
pressing a button never waits behind a broadcast. The command menus, a chat's menu button
and chat actions (`BUDGET_ONLY`) are no messages but spend the bot's budget: they take a
turn of the overall gate, with no chat's spacing.

**Across replicas.** All replicas send on one token, so the limits are the deployment's:

* the overall 30 per window is shared out between the live replicas, each holding a number
  of them (``set_slots``) that it claimed in the database (``data.outbox.share_send_budget``,
  in the outbox sender's background round): the claims never add up to more than 30, and
  they follow each replica's demand (`PacingLimiter.demand`), so a replica with nothing to
  send does not sit on a share another one queues for. No database round trip per send;
* the per-chat and per-group spacing is one clock per chat in the database
  (``chat_pauses.next_send``), checked and moved in the statement that marks an outbox row
  *sending* right before its call (``data.outbox.start_sending``: an upsert under the
  chat's row lock in a CTE of that UPDATE on PostgreSQL) — no statement of its own, and
  two replicas can never take the same turn. The mark is made after this limiter's gate
  (``HOOK_AT_GATE``), just before the call, so the clock is set when the message leaves,
  not when it was queued; the shared gap (`SHARED_PER_CHAT_SECONDS`, 1.25 s; groups
  `SHARED_GROUP_SECONDS`) adds a quarter second for the way from the mark to Telegram. A
  turn taken elsewhere answers `Later`: the gate's place is given back and the request
  waits without holding up other chats;
* a 429 pauses the chat on every replica (``chat_pauses.until``, written on ``ON_FLOOD``).

Chat affinity (only the replica owning a chat sends to it) was the alternative: no row at
all, but a reply written by one replica would have to be handed to another, ownership moves
whenever a replica comes or goes (two owners for a moment), and a dead owner's chats wait
for the lease. The clock row costs nothing extra where the sending mark is made anyway.
Reminders still sent straight by ``delivery.courier`` (not through the outbox) keep this
process's spacing only; through the outbox (``Sender.write(..., paced=True)``) they share.

``rate_limit_args`` may also carry ``{BEFORE_SEND: coroutine function}``: it is awaited just
before the HTTP call (after the waiting) and the request is abandoned with `SendCancelled`
when it returns False. The reminder courier uses it to mark the ledger row "in flight"
exactly when the call starts.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from core import metrics

log = logging.getLogger(__name__)

#: Key of ``rate_limit_args`` for the hook awaited right before the HTTP call.
BEFORE_SEND = "before_send"
#: Key of ``rate_limit_args``: True for messages the bot sends on its own initiative, which
#: keep one chat ≥ ``per_chat_seconds`` apart.
PACE_CHAT = "pace_chat"

#: Key of ``rate_limit_args``: True to run the ``before_send`` hook after the gate, right
#: before the call (the outbox marks a row "sending" there and takes the chat's turn on the
#: deployment-wide clock: a mark made early would let the call reach Telegram late, closer
#: than a second to another replica's message). The hook may answer `Later`: the gate's
#: place is given back and the request waits, then goes through the gate again.
HOOK_AT_GATE = "hook_at_gate"
#: Key of ``rate_limit_args``: ``callback(chat_id, seconds)`` told of each 429, so the
#: pause can be shared with the other replicas (``delivery.outbox``).
ON_FLOOD = "on_flood"
#: Key of ``rate_limit_args``: a `Reserved` turn, taken at the gate before the request was
#: even written (`PacingLimiter.turn_now`): the call goes at once, without a turn of its own.
RESERVED = "reserved"

#: Telegram's documented limit: about 30 messages per second overall.
TELEGRAM_PER_SECOND = 30
#: The gate's window for those 30: a little over a second. The gate counts a send from the
#: moment it leaves until one window after Telegram answered it — Telegram counted it at
#: some moment in between — so jitter on the way (a busy machine, the network) cannot
#: squeeze more than 30 into one of Telegram's seconds (bench/replicas_bench.py met 429s
#: when sends were counted from the moment they left only).
GATE_WINDOW_SECONDS = 1.02
#: Overall sends per second the spacing aims at: 30 per gate window, so the gate only has
#: to absorb jitter.
DEFAULT_PER_SECOND = 29.4
#: Seconds between two messages to one private chat (Telegram: about one per second).
DEFAULT_PER_CHAT_SECONDS = 1.05
#: Seconds between two messages to one group (Telegram: 20 per minute).
DEFAULT_GROUP_SECONDS = 3.05
#: Retries of one request after a 429, and the longest total flood wait for it.
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_FLOOD_WAIT = 120.0
#: Seconds before its turn that a request's ``before_send`` hook runs: the hook's own
#: latency (a database commit) is absorbed by the wait instead of delaying the send.
DEFAULT_HOOK_LEAD = 0.1
#: Forget the spacing of chats idle for longer than this (bounded memory).
_FORGET_AFTER = 120.0
#: A send waiting only for calls in flight wakes when one of them is answered (or given
#: back); it also looks again after this long, through the injectable ``sleep`` (virtual
#: time in tests). It used to look every 5 ms: with four replicas each replica's gate is
#: 7 calls, often all in flight, and the bench counted ~50 such wake-ups per second per
#: replica.
_IN_FLIGHT_RECHECK = 0.25
_PRUNE_AT = 10_000
#: `_gate_wait`'s answer when only a call in flight coming back can make room.
_FOR_AN_ANSWER = float("inf")

#: Endpoints that do not post a message although their name starts with "send".
_NOT_MESSAGES = frozenset({"sendChatAction", "sendInvoice"})
#: Calls that are not messages but spend the bot's overall budget all the same: the command
#: menus (the start-up sync sets four per person), a chat's menu button, chat actions. They
#: take a place at the overall gate like a message (so every replica's calls stay within
#: its part of the 30 per second, `set_slots`) but keep no chat's spacing, and they skip
#: the outbox: each is idempotent and set again at the next start or change.
BUDGET_ONLY = frozenset(
    {"setMyCommands", "deleteMyCommands", "setChatMenuButton", "sendChatAction"}
)
#: The key a `BUDGET_ONLY` call waits under: no chat (never paused, never spaced).
_NO_CHAT = 0


#: Seconds between two paced messages to one private chat, and to one group, on the
#: deployment-wide clock (``data.outbox.start_sending``): a quarter second more than a
#: replica's own spacing, for the way from the mark in the database to Telegram (a commit,
#: the event loop, the HTTP call), which can differ between two replicas.
SHARED_PER_CHAT_SECONDS = 1.25
SHARED_GROUP_SECONDS = 3.25


class SendCancelled(Exception):
    """The ``before_send`` hook said no: the request was not made."""


class Later:
    """A ``before_send`` hook's answer (with ``HOOK_AT_GATE``): not now, ask again after
    ``seconds`` — the chat's turn on the shared clock is another replica's."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)


class Reserved:
    """A place at the gate taken ahead of its call (`PacingLimiter.turn_now`): counted in
    flight from the moment it was taken. Spent by the call it is handed to (``RESERVED``),
    or given back (`give_back`) when no call comes of it; either at most once."""

    __slots__ = ("_limiter", "chat_id", "spent")

    def __init__(self, limiter: PacingLimiter, chat_id: int | str) -> None:
        self._limiter = limiter
        self.chat_id = chat_id
        self.spent = False

    def take(self) -> bool:
        """For the call: True once (the place is the call's now), False if given back."""
        if self.spent:
            return False
        self.spent = True
        return True

    def give_back(self) -> None:
        """No call comes of it: the place is free again (harmless when spent)."""
        if not self.spent:
            self.spent = True
            self._limiter._landed()


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` as seconds (PTB 22 returns int or timedelta, with a
    deprecation warning for the int form)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


#: Requests that rewrite a message: a reply to a button press that edits the question in
#: place (``bot.flow.engine``) counts against the flood limits as the message it replaces.
_EDITS = frozenset({"editMessageText"})


def is_message(endpoint: str) -> bool:
    """True for requests that post a new message, or edit one in its place (they count
    against the flood limits)."""
    if endpoint in _NOT_MESSAGES:
        return False
    return endpoint.startswith("send") or endpoint in {"copyMessage", "forwardMessage", *_EDITS}


def is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels: negative ids or @usernames."""
    return isinstance(chat_id, str) or chat_id < 0


class PacingLimiter(BaseRateLimiter[dict[str, Any]]):
    """Paces the bot's messages under Telegram's limits; see the module docstring.

    ``clock`` (monotonic seconds) and ``sleep`` are injectable so tests run on virtual time.
    """

    def __init__(
        self,
        *,
        per_second: float = DEFAULT_PER_SECOND,
        limit: int = TELEGRAM_PER_SECOND,
        window: float = GATE_WINDOW_SECONDS,
        per_chat_seconds: float = DEFAULT_PER_CHAT_SECONDS,
        group_seconds: float = DEFAULT_GROUP_SECONDS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_flood_wait: float = DEFAULT_MAX_FLOOD_WAIT,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or limit < 1 or per_chat_seconds < 0 or group_seconds < 0:
            raise ValueError("per_second and limit must be > 0, chat spacings ≥ 0")
        self.interval = 1.0 / per_second
        self.limit = limit
        self.window = window
        #: The whole bot's budget; `set_slots` takes this replica's part of it.
        self._full_per_second = per_second
        self._full_limit = limit
        self.slots = limit
        #: Until when `slots` may be used (`set_slots`).
        self._slots_until = float("inf")
        self.per_chat = per_chat_seconds
        self.per_group = group_seconds
        self.max_retries = max_retries
        self.max_flood_wait = max_flood_wait
        self.hook_lead = DEFAULT_HOOK_LEAD
        self._clock = clock
        self._sleep = sleep
        self._slots: list[float] = []
        self._chat_next: dict[int | str, float] = {}
        #: When the last ``limit`` paced calls were answered, oldest first.
        self._sent: deque[float] = deque(maxlen=limit)
        self._in_flight = 0
        #: Set (and dropped) when a call in flight lands: wakes `_until_answered`.
        self._flight_event: asyncio.Event | None = None
        #: One request at a time looks at the overall gate, first come first served: the
        #: others wait their turn in the lock's queue instead of all waking whenever a place
        #: may have come free (100 queued sends woke ~20 times each per send).
        self._gate = asyncio.Lock()
        #: Requests waiting for their turn (booked, not yet called): part of the demand.
        self._waiting = 0
        self._chat_sent: dict[int | str, float] = {}
        self._chat_paused: dict[int | str, float] = {}
        #: Counters for benchmarks and tests.
        self.flood_waits = 0
        self.gate_waits = 0

    async def initialize(self) -> None:
        """Nothing to set up: the state is plain numbers."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def set_slots(self, slots: int, *, for_seconds: float | None = None) -> None:
        """Take ``slots`` of the bot's ``limit`` sends per window (0 to all of them): all
        replicas send on one token, and Telegram's 30 messages/s are for the bot, not for
        each process. The spacing follows (``slots`` per window); a lower number holds from
        the next send on — the sends already counted keep their place until they age out,
        which the claim in the database covers (``data.ratelimit.share_send_budget``).
        With ``for_seconds`` the slots are held that long only (nothing is sent after it
        unless they are set again): a replica that stops claiming them stops using them
        before the others take them over."""
        self._slots_until = float("inf") if for_seconds is None else self.now() + for_seconds
        slots = max(0, min(int(slots), self._full_limit))
        if slots == self.slots:
            return
        self.slots = slots
        self.interval = self._full_limit / (max(slots, 1) * self._full_per_second)
        self.limit = slots
        self._sent = deque(self._sent, maxlen=max(slots, 1))
        self._wake_gate()  # a higher limit may let the request at the gate go

    def occupancy(self) -> int:
        """Sends that still count against this replica's part of the budget: in flight, or
        answered within the last window."""
        now = self.now()
        return self._in_flight + sum(1 for t in self._sent if t > now - self.window)

    def demand(self) -> int:
        """Sends this replica would make in one window if its part of the budget allowed:
        those counted now (`occupancy`) and those waiting for their turn."""
        return self.occupancy() + self._waiting

    def paused_until(self, chat_id: int | str) -> float:
        """Until when Telegram asked this chat to wait (0 when it did not)."""
        return self._chat_paused.get(chat_id, 0.0)

    def turn_now(self, chat_id: int | str, *, hold: float) -> Reserved | None:
        """A reply's turn right now, or None when it would have to wait for anything.

        What `_turn` gives a reply (no chat spacing) that finds no wait at the gate — the
        chat not paused by a 429, nobody at the gate, a free place under the overall limit,
        this replica's slots held at least ``hold`` seconds more, no other request's booked
        turn within the next interval — taken with no await in between, so no other request
        can take the same place. Unlike `_turn` it does not wait out the even spacing after
        a message that left less than one interval ago (a smoothing only: the gate's limit
        on the sends of one window holds all the same). The place counts in flight
        from now on (the outbox takes it before its update's step, so the step's own
        transaction can mark the reply *sending* and the call follow its commit at once);
        the call spends it (``RESERVED``), else `Reserved.give_back`."""
        now = self.now()
        if self._gate.locked() or now + hold >= self._slots_until:
            return None
        if self._chat_wait(chat_id, now, False) > 0 or self._gate_wait(now) > 0:
            return None
        cut = bisect.bisect_left(self._slots, now - self.interval)
        if cut:
            del self._slots[:cut]
        ahead = bisect.bisect_left(self._slots, now)
        if ahead < len(self._slots) and self._slots[ahead] < now + self.interval:
            return None  # a request waiting for its booked turn would lose it
        bisect.insort(self._slots, now)
        gap = self.per_group if is_group(chat_id) else self.per_chat
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + gap)
        self._record(chat_id, now)
        return Reserved(self, chat_id)

    def _spacing(self, chat_id: int | str, pace_chat: bool) -> float | None:
        """The least gap after the chat's previous message, or None when it need not wait."""
        if is_group(chat_id):
            return self.per_group
        return self.per_chat if pace_chat else None

    def _reserve(self, chat_id: int | str, pace_chat: bool) -> float:
        """Book the earliest send time for ``chat_id`` that keeps the spacings.

        Bookings are kept sorted and a new one takes the earliest gap of ``interval``
        after the chat may send, so a chat that must wait does not hold up the others, and
        each request knows its own turn (the ``before_send`` hook runs just before it).
        """
        now = self.now()
        cut = bisect.bisect_left(self._slots, now - self.interval)
        if cut:
            del self._slots[:cut]
        at = max(now, self._chat_paused.get(chat_id, 0.0))
        spacing = self._spacing(chat_id, pace_chat)
        if spacing is not None:
            at = max(at, self._chat_next.get(chat_id, 0.0))
        for booked in self._slots:
            if booked <= at - self.interval:
                continue
            if booked >= at + self.interval:
                break
            at = booked + self.interval
        bisect.insort(self._slots, at)
        gap = self.per_group if is_group(chat_id) else self.per_chat
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), at + gap)
        return at

    def _chat_wait(self, chat_id: int | str, now: float, pace_chat: bool) -> float:
        """Seconds the chat itself must still wait: a 429's pause, its spacing."""
        wait = self._chat_paused.get(chat_id, 0.0) - now
        last = self._chat_sent.get(chat_id)
        spacing = self._spacing(chat_id, pace_chat)
        if last is not None and spacing is not None:
            wait = max(wait, last + spacing - now)
        return wait

    def _gate_wait(self, now: float) -> float:
        """Seconds until a send now keeps the overall limit: the sends in flight and those
        answered within the last window may all fall into Telegram's second with this one."""
        within = [t for t in self._sent if t > now - self.window]
        limit = self.limit if now < self._slots_until else 0
        excess = self._in_flight + len(within) - limit + 1
        if excess <= 0:
            return 0.0
        if excess <= len(within):
            return within[excess - 1] + self.window - now
        return _FOR_AN_ANSWER  # only an answer to a call in flight can make room

    def _record(self, chat_id: int | str, now: float) -> None:
        self._in_flight += 1
        self._chat_sent[chat_id] = now
        if len(self._chat_sent) > _PRUNE_AT:
            horizon = now - _FORGET_AFTER
            self._chat_sent = {c: t for c, t in self._chat_sent.items() if t > horizon}
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            self._chat_paused = {c: t for c, t in self._chat_paused.items() if t > now}

    def _answered(self) -> None:
        """A paced call came back (answered or failed): it counts one more window."""
        self._sent.append(self.now())
        self._landed()

    def _landed(self) -> None:
        """One call fewer in flight: wake the send waiting for that (`_until_answered`)."""
        self._in_flight -= 1
        self._wake_gate()

    def _wake_gate(self) -> None:
        event, self._flight_event = self._flight_event, None
        if event is not None:
            event.set()

    async def _until_answered(self) -> None:
        """Until a call in flight is answered or given back, or `_IN_FLIGHT_RECHECK`."""
        if self._flight_event is None:
            self._flight_event = asyncio.Event()
        answered = asyncio.ensure_future(self._flight_event.wait())
        recheck = asyncio.ensure_future(self._sleep(_IN_FLIGHT_RECHECK))
        try:
            await asyncio.wait({answered, recheck}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            answered.cancel()
            recheck.cancel()

    async def _sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await self._sleep(delay)

    async def _turn(
        self,
        chat_id: int | str,
        before_send: Callable[[], Awaitable[bool | Later]] | None,
        pace_chat: bool,
        at_gate: bool = False,
    ) -> None:
        """Wait for this message's turn, run ``before_send`` just before it, record the send.

        Two layers: the booked slot (even spacing, per-chat gaps), then a gate on the times
        sends actually went, right before the call — a send that started late (a slow
        hook, a busy event loop) would otherwise squeeze the next window. The gate's check
        and record happen with no await in between, so concurrent requests on one event
        loop cannot both take the same vacancy; requests reach the gate one at a time, in
        the order they came (its lock), and a chat's own wait (pause, spacing) is waited
        before the queue. The hook runs ``hook_lead`` seconds before the slot, so its own
        latency (a database commit) is absorbed by the wait.
        """
        self._waiting += 1
        try:
            at = self._reserve(chat_id, pace_chat)
            if before_send is not None and not at_gate:
                await self._sleep_until(at - self.hook_lead)
                if await before_send() is not True:
                    raise SendCancelled
            await self._sleep_until(at)
            while True:
                # The chat's own wait first, outside the gate's queue: it holds up no other
                # chat.
                wait = self._chat_wait(chat_id, self.now(), pace_chat)
                if wait > 0:
                    self.gate_waits += 1
                    metrics.pacing_gate_wait()
                    await self._sleep(wait)
                    continue
                async with self._gate:
                    while (wait := self._gate_wait(now := self.now())) > 0:
                        self.gate_waits += 1
                        metrics.pacing_gate_wait()
                        if wait == _FOR_AN_ANSWER:
                            await self._until_answered()
                        else:
                            await self._sleep(wait)
                    if self._chat_wait(chat_id, now, pace_chat) > 0:
                        continue  # a 429 paused the chat meanwhile: back to its own wait
                    self._record(chat_id, now)
                if before_send is None or not at_gate:
                    return
                # The gate's place is held (in flight) while the hook commits its mark, so
                # no other request takes it; given back if the hook says no or not yet.
                try:
                    verdict = await before_send()
                except BaseException:
                    self._landed()
                    raise
                if verdict is True:
                    return
                self._landed()
                if not isinstance(verdict, Later):
                    raise SendCancelled
                self.gate_waits += 1
                await self._sleep(verdict.seconds)
        finally:
            self._waiting -= 1

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        paced = chat_id is not None and is_message(endpoint)
        # A budget-only call takes its place at the gate under no chat (`BUDGET_ONLY`).
        gated = paced or endpoint in BUDGET_ONLY
        turn_of: int | str = chat_id if paced else _NO_CHAT  # type: ignore[assignment]
        before_send = (rate_limit_args or {}).get(BEFORE_SEND)
        pace_chat = bool((rate_limit_args or {}).get(PACE_CHAT))
        on_flood = (rate_limit_args or {}).get(ON_FLOOD)
        at_gate = bool((rate_limit_args or {}).get(HOOK_AT_GATE))
        reserved = (rate_limit_args or {}).get(RESERVED)
        if isinstance(reserved, Reserved) and not gated:
            reserved.give_back()  # (a request that takes no place at the gate)
        flood_waited = 0.0
        retries = 0
        while True:
            if gated and isinstance(reserved, Reserved) and reserved.take():
                pass  # its place at the gate was taken before (`turn_now`); a retry waits
            elif gated:
                await self._turn(turn_of, before_send, pace_chat and paced, at_gate)
            elif before_send is not None and await before_send() is not True:
                raise SendCancelled
            before_send = None
            started = time.perf_counter()
            try:
                try:
                    return await callback(*args, **kwargs)
                finally:
                    if gated:
                        self._answered()
                    if paced:
                        metrics.telegram_send(time.perf_counter() - started)
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                self.flood_waits += 1
                if chat_id is not None:
                    until = self.now() + wait
                    self._chat_paused[chat_id] = max(self._chat_paused.get(chat_id, 0.0), until)
                    if on_flood is not None:
                        on_flood(chat_id, wait)
                retries += 1
                if retries > self.max_retries or flood_waited + wait > self.max_flood_wait:
                    log.warning("flood control: giving up after %d waits (%s)", retries, endpoint)
                    raise
                flood_waited += wait
                log.info("flood control: chat %s waits %.0f s (%s)", chat_id, wait, endpoint)
                if not paced:
                    await self._sleep(wait)

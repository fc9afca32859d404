"""Where Telegram updates enter the bot: recorded in the inbox first, then handled.

PTB's ``Updater`` acknowledges a getUpdates batch (by the offset of its next call) as soon
as the batch is in ``application.update_queue``, i.e. before it is handled: a process killed
then loses the batch. Here every update is written to the database (`data.inbox`) before
Telegram is told it arrived — by `InboxUpdater`'s next getUpdates, or by the webhook's 200
after `receive` returns — and is marked handled once its effects are committed:

* the guided-flow engine marks it inside its own transaction (``inbox.mark_handled``) and
  then calls `handled_in_transaction`, so no second write is made;
* every other update is marked right after ``Application.process_update`` returns (see
  ``bot.app``), also when a handler failed: a poison update must not come back forever.
  A mark that fails is written again until it is (`mark_processed`): the update stays in
  this replica's hand meanwhile, so it is answered once and never applied twice.

At start-up `replay` puts every update still unhandled back on the queue, oldest first
(`InboxUpdater.start_polling` and ``delivery.webhook`` call it). An update Telegram delivers
again (same update_id) is dropped by `receive`.

Each recorded update carries a lease (``claimed_by``, ``lease_until``) that this replica
renews while it holds the update (`keep_and_claim`, in the transaction of the outbox
sender's background round). When a replica dies, its leases run out and any live replica takes its
unhandled updates over — not only the dead one's own restart. A replayed or taken-over
update is checked by the guided-flow engine before it is applied (``bot.flow.router``).

An update the bot cannot read (PTB refuses to parse it) is kept raw in the inbox, marked
handled and skipped with one warning; polling moves on.

The inbox keeps every update as Telegram sent it; the copy PTB parses for the handlers
(`parse`) leaves out what no handler reads (`readable`: the keyboard of the bot's own message
that comes with every button press).

Once a stop has run out of its budget (`close`), nothing more is marked handled: an update
still in hand then is replayed by another replica or at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application, Updater

from core.services import services
from data import inbox
from data.db import off_loop, transaction
from data.models import utcnow
from delivery.courier import is_snooze
from delivery.outbox import Turn, starts_at_once
from delivery.outbox import sender as outbox_sender

log = logging.getLogger(__name__)

KEY = "ingress"
#: Handled updates are kept this long; the scheduler leader prunes them in batches, off the
#: hot path (`schedules.housekeeping`).
KEEP_HANDLED_DAYS = inbox.KEEP_HANDLED_DAYS
#: Unhandled updates put back on the queue per database read at start-up.
REPLAY_PAGE = 500
#: Back-off after a failed getUpdates or a failed inbox write, doubling up to the maximum.
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class IngressState:
    """What this process has recorded and queued but not yet marked handled."""

    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime]
    #: update_ids in the inbox, on the update queue, whose handled mark is still to be written.
    pending: set[int] = field(default_factory=set)
    #: Those of them queued by `replay`: another replica may have applied them meanwhile.
    replayed: set[int] = field(default_factory=set)
    #: The stop budget ran out: updates still in hand must stay unhandled (replayed later).
    closed: bool = False


#: Parts of a message quoted in an update (the bot's message a button was pressed on, the
#: one a person replied to) that no handler reads: its keyboard, its formatting, its sender.
UNREAD_OF_QUOTED = ("reply_markup", "entities", "caption_entities", "from")


def readable(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` (a raw update, left unchanged) as the handlers read it: the message
    quoted in it without `UNREAD_OF_QUOTED`. The one place that decides what is dropped.

    Why: Telegram sends the whole message a button sits on with every press of it, and
    PTB turns all of it into objects before any handler runs — a question's keyboard is a
    dozen or more buttons; leaving it out cut the event loop's CPU per update by a fifth
    (``bench/reporting_bench.py``). No handler reads those parts: the
    handlers use the quoted message's id and chat only (``bot.flow.router`` edits the
    question by its id; who pressed is the query's own ``from``, which stays). The one
    exception keeps the keyboard: the reminder's "remind me tomorrow"
    (``delivery.courier.is_snooze``) rebuilds its message's keyboard without itself.
    A change that reads more of a quoted message must change this function.
    """
    query = payload.get("callback_query")
    if isinstance(query, dict):
        quoted = query.get("message")
        if isinstance(quoted, dict) and not is_snooze(query.get("data")):
            return {**payload, "callback_query": {**query, "message": _trimmed(quoted)}}
        return payload
    for kind in ("message", "edited_message"):
        message = payload.get(kind)
        if isinstance(message, dict) and isinstance(message.get("reply_to_message"), dict):
            quoted = _trimmed(message["reply_to_message"])
            return {**payload, kind: {**message, "reply_to_message": quoted}}
    return payload


def _trimmed(message: dict[str, Any]) -> dict[str, Any]:
    if not any(key in message for key in UNREAD_OF_QUOTED):
        return message
    return {key: value for key, value in message.items() if key not in UNREAD_OF_QUOTED}


def parse(payload: dict[str, Any], bot: Any) -> Update:
    """The update the handlers get: `readable` ``payload`` parsed by PTB (raises what PTB
    raises for an update it cannot read)."""
    return Update.de_json(readable(payload), bot)


def _state(application: AnyApplication) -> IngressState:
    state = application.bot_data.get(KEY)
    if state is None:
        found = services(application)
        state = IngressState(found.sessions, found.now)
        application.bot_data[KEY] = state
    return state


async def receive(
    application: AnyApplication,
    payloads: Sequence[dict[str, Any]],
    parsed: Sequence[Update] | None = None,
) -> None:
    """Record ``payloads`` (raw Telegram updates) in one transaction, then queue the new ones.

    When this returns, the updates are durable and may be acknowledged to Telegram. An
    update_id already in the inbox (a redelivery) is not queued again. Raises if the
    database write fails: then nothing may be acknowledged. ``parsed``: the same updates
    already parsed by `parse` (the webhook checks each one so), not parsed again.
    """
    await _receive(application, payloads, parsed)


async def _receive(
    application: AnyApplication,
    payloads: Sequence[dict[str, Any]],
    parsed: Sequence[Update] | None,
) -> None:
    """`receive`; ``parsed`` are the same updates as PTB objects when the caller has them
    (polling, the webhook), which saves parsing each one again."""
    if not payloads:
        return
    state = _state(application)
    claimer, lease_until = _lease(application)

    def record() -> set[int]:
        with transaction(state.sessions) as session:
            return set(
                inbox.record(
                    session, payloads, now=state.clock(), claimer=claimer, lease_until=lease_until
                )
            )

    # The event loop never waits on the database.
    new = await off_loop(record, sessions=state.sessions)
    dropped = len(payloads) - len(new)
    if dropped:
        log.info("inbox: %d redelivered update(s) dropped", dropped)
    for index, payload in enumerate(payloads):
        update_id = payload["update_id"]
        if update_id not in new:
            continue
        new.discard(update_id)  # a batch that repeats an id queues it once
        if parsed is not None:
            state.pending.add(update_id)
            await application.update_queue.put(parsed[index])
        else:
            await _enqueue(application, state, update_id, payload)


async def replay(application: AnyApplication) -> int:
    """Queue every update left unhandled by an earlier process (oldest first); how many.

    Call once at start-up, before polling (or serving the webhook) begins. (Old handled
    rows are pruned by the scheduler leader, `schedules.housekeeping`.)
    """
    state = _state(application)
    queued = 0
    after: int | None = None
    while True:
        with state.sessions() as session:
            page = inbox.pending(session, REPLAY_PAGE, after=after)
        for update_id, payload in page:
            if update_id not in state.pending:
                await _enqueue(application, state, update_id, payload)
                state.replayed.add(update_id)
                queued += 1
        if len(page) < REPLAY_PAGE:
            break
        after = page[-1][0]
    if queued:
        log.info("inbox: %d unhandled update(s) from before the restart queued", queued)
    return queued


def _lease(application: AnyApplication) -> tuple[str | None, dt.datetime | None]:
    """This replica's name and the lease end for updates it records now."""
    found = outbox_sender(application)
    if found is None:
        return None, None
    return found.name, utcnow() + found.lease


def held_updates(application: AnyApplication) -> list[int]:
    """The updates this replica has recorded or taken and not yet marked handled."""
    return list(_state(application).pending)


def keep_and_claim(
    session: Session,
    held: Sequence[int],
    *,
    claimer: str,
    now: dt.datetime,
    lease: dt.timedelta,
) -> list[tuple[int, dict[str, Any]]]:
    """Renew the leases of the ``held`` updates; claim the unhandled updates whose lease ran
    out — their replica died — for `take_over`. In the caller's transaction (the outbox
    sender's background round)."""
    inbox.renew_leases(session, claimer=claimer, update_ids=held, until=now + lease)
    return inbox.claim_stranded(session, claimer=claimer, now=now, lease=lease)


async def take_over(
    application: AnyApplication, stranded: Sequence[tuple[int, dict[str, Any]]]
) -> int:
    """Queue the updates `keep_and_claim` claimed (unless already in hand); how many."""
    state = _state(application)
    taken = 0
    for update_id, payload in stranded:
        if update_id in state.pending:
            continue
        await _enqueue(application, state, update_id, payload)
        state.replayed.add(update_id)
        taken += 1
    if taken:
        log.warning("inbox: took over %d update(s) left unhandled by a stopped replica", taken)
    return taken


def close(application: AnyApplication) -> int:
    """The stop budget ran out: write no more handled marks; how many updates stay
    unhandled (another replica or the next start handles them)."""
    state = application.bot_data.get(KEY)
    if state is None:
        return 0
    state.closed = True
    return len(state.pending)


def handled_in_transaction(application: AnyApplication, update_id: int) -> None:
    """The caller committed ``inbox.mark_handled(session, update_id)`` with the update's
    effects: skip the separate mark after processing. Call after the commit."""
    state = application.bot_data.get(KEY)
    if state is not None:
        state.pending.discard(update_id)
        state.replayed.discard(update_id)


def replayed(application: AnyApplication, update_id: int) -> bool:
    """The update was queued by `replay`, not received just now.

    With several replicas, one starting up may replay an update another is applying at
    that moment; a handler that can tell (the guided-flow engine, under the person's lock)
    checks ``inbox.is_handled`` for these, and only these, before applying them.
    """
    state = application.bot_data.get(KEY)
    return state is not None and update_id in state.replayed


async def mark_processed(
    application: AnyApplication, update: object, replies: Sequence[Any] = ()
) -> None:
    """Mark a recorded update handled after ``process_update`` (unless already marked),
    and write the ``replies`` its handlers made (``delivery.capture``) to the outbox in the
    same transaction; then deliver them.

    Updates that never went through `receive`/`replay` and made no reply cost no write.

    A mark that fails is written again (`_mark_until_written`), never given up while the
    update is in hand: whatever its handlers committed is applied, and a replay (this
    replica's lease would otherwise be renewed forever, then the update replayed at its next
    start) could apply a press that is not idempotent a second time.
    """
    update_id = getattr(update, "update_id", None)
    state = application.bot_data.get(KEY)
    sender = outbox_sender(application)
    recorded = isinstance(update_id, int) and state is not None and update_id in state.pending
    if recorded and state.closed:
        return  # the stop budget ran out while it was in hand: it is replayed elsewhere
    replies = list(replies) if sender is not None else []
    if not recorded and not replies:
        return
    if recorded:
        state.replayed.discard(update_id)
    sessions = state.sessions if state is not None else sender.sessions  # type: ignore[union-attr]
    now = state.clock() if state is not None else utcnow()

    def mark(replies: list[Any], again: bool, turn: Turn | None) -> list[Any]:
        with transaction(sessions) as session:
            if recorded:
                marked = inbox.mark_handled(session, update_id, now=now)  # type: ignore[arg-type]
                if again and not marked:
                    # The earlier attempt's commit went through after all (its answer was
                    # lost): its reply rows are in the outbox already, delivered after
                    # their lease. Written twice they would be sent twice.
                    return []
            if not replies:
                return []
            return sender.write(  # type: ignore[union-attr]
                session,
                replies,
                update_id=update_id if isinstance(update_id, int) else None,
                turn=turn,
            )

    async def hop(replies: list[Any], again: bool) -> list[Any]:
        # The first reply's turn, when it may go the moment this commits
        # (``delivery.outbox``): written *sending* here, no mark of its own before its call.
        turn = None
        if replies and starts_at_once(replies[0]):
            turn = sender.take_turn(replies[0][0])  # type: ignore[union-attr]
        try:
            written = await off_loop(mark, replies, again, turn, sessions=sessions)
        except BaseException:
            await sender.turn_lost(turn)  # type: ignore[union-attr]
            raise
        sender.turn_committed(turn)  # type: ignore[union-attr]
        return written

    if recorded:
        assert state is not None and isinstance(update_id, int)
        written = await _mark_until_written(state, update_id, hop, replies)
        if written is None:
            return
    else:
        try:
            written = await hop(replies, False)
        except Exception:
            log.exception("outbox: could not write the replies of update %s", update_id)
            return
    if written:
        await sender.deliver(written)  # type: ignore[union-attr]


#: A failed handled mark is written again after this pause, doubling up to the maximum.
MARK_RETRY_FIRST = 0.1
MARK_RETRY_MAX = 5.0


def _transient(error: BaseException) -> bool:
    """A database failure that another attempt may not meet: the connection lost, the
    server restarting or unreachable, a lock wait or a serialisation failure."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


async def _mark_until_written(
    state: IngressState,
    update_id: int,
    mark: Callable[[list[Any], bool], Awaitable[list[Any]]],
    replies: list[Any],
) -> list[Any] | None:
    """Write the update's handled mark with its ``replies`` (``mark``, which makes the
    worker-thread hop) until it is written;
    the reply rows written, or None when the stop budget ran out first.

    What a person expects of an update whose mark failed: answered once, never applied
    twice, never stuck. So the mark is never given up: while the database fails (a
    restart, a lost connection, a lock) it is tried again with back-off, the update stays in
    this replica's hand (its lease renewed: nobody else applies it again) and the chat's
    next updates wait behind it, in order. Replies that cannot be written at all (the
    database refuses them, not a failure of the moment) are dropped with an error — the
    update is then marked handled alone rather than held forever. Only a stop whose budget
    ran out (`close`) leaves it unhandled, for another replica or the next start, as a kill
    would. The update leaves `IngressState.pending` only once its mark is committed.
    """
    delay = MARK_RETRY_FIRST
    again = False
    while True:
        try:
            written = await mark(replies, again)
        except Exception as error:
            if state.closed:
                log.warning("inbox: update %s stays unhandled: the stop ran out of time", update_id)
                return None
            if replies and not _transient(error):
                log.exception(
                    "inbox: the %d reply(ies) of update %s cannot be written; "
                    "marking it handled without them",
                    len(replies),
                    update_id,
                )
                replies = []
            else:
                log.warning(
                    "inbox: could not mark update %s handled (%s); trying again in %.1f s",
                    update_id,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MARK_RETRY_MAX)
            again = True
            continue
        state.pending.discard(update_id)
        return written


async def _enqueue(
    application: AnyApplication, state: IngressState, update_id: int, payload: dict[str, Any]
) -> None:
    try:
        update = parse(payload, application.bot)
    except Exception:
        log.exception("inbox: update %s cannot be read; marked handled", update_id)
        with transaction(state.sessions) as session:
            inbox.mark_handled(session, update_id, now=state.clock())
        return
    state.pending.add(update_id)
    await application.update_queue.put(update)


class InboxUpdater(Updater):
    """Long polling that acknowledges a batch only after `receive` has recorded it.

    Replaces PTB's ``Updater`` on the Application, so ``run_polling`` (the real bot) and
    ``localtg.running`` (tests, the local chat) both poll through it: getUpdates →
    `receive` (one commit) → the next getUpdates carries ``offset = last + 1``. Failures
    back off and retry the same offset, so Telegram sends the batch again. Webhooks are
    not handled here.
    """

    def __init__(self, application: AnyApplication) -> None:
        super().__init__(bot=application.bot, update_queue=application.update_queue)
        self._application = application
        self._offset = 0
        self._poll_task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        self._ack: Callable[[], Any] | None = None

    async def start_polling(
        self,
        poll_interval: float = 0.0,
        timeout: int | dt.timedelta = dt.timedelta(seconds=10),
        bootstrap_retries: int = 0,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool | None = None,
        error_callback: Callable[[TelegramError], None] | None = None,
    ) -> asyncio.Queue[object]:
        """Replay what an earlier process left unhandled, then start the getUpdates loop."""
        if self.running:
            raise RuntimeError("This Updater is already running!")
        if not self._initialized:
            raise RuntimeError("This Updater was not initialized via `Updater.initialize`!")
        self._running = True
        try:
            # Polling and a webhook exclude each other on Telegram.
            await self.bot.delete_webhook(drop_pending_updates=bool(drop_pending_updates))
            await replay(self._application)
        except Exception:
            self._running = False
            raise
        self._stopping = asyncio.Event()
        allowed = list(allowed_updates) if allowed_updates is not None else None
        self._poll_task = asyncio.create_task(
            self._poll(poll_interval, timeout, allowed, error_callback),
            name="InboxUpdater:poll",
        )

        async def acknowledge() -> None:
            # Everything below the offset is recorded: tell Telegram, so a restart is not
            # sent it again (it would be dropped as a duplicate anyway).
            await self.bot.get_updates(
                offset=self._offset, timeout=0, allowed_updates=allowed, limit=1
            )

        self._ack = acknowledge
        return self.update_queue

    async def stop(self) -> None:
        """Stop polling; the current long poll is abandoned (its batch was not acknowledged)."""
        if not self.running:
            raise RuntimeError("This Updater is not running!")
        self._running = False
        if self._stopping is not None:
            self._stopping.set()
        if self._poll_task is not None:
            try:
                await self._poll_task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("inbox: the polling loop had failed")
            self._poll_task = None
        if self._ack is not None and self._offset:
            try:
                await self._ack()
            except TelegramError as error:
                log.info("inbox: final acknowledgement failed (%s); harmless", error)
        self._ack = None

    async def _poll(
        self,
        poll_interval: float,
        timeout: int | dt.timedelta,
        allowed_updates: list[str] | None,
        error_callback: Callable[[TelegramError], None] | None,
    ) -> None:
        assert self._stopping is not None
        delay = BACKOFF_FIRST
        while not self._stopping.is_set():
            fetch = asyncio.ensure_future(self._fetch(timeout, allowed_updates))
            stop = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            stop.cancel()
            try:
                raw = fetch.result()
                if raw:
                    payloads, updates, last = self._read(raw)
                    await _receive(self._application, payloads, updates)
                    if last is not None:
                        self._offset = last + 1
                delay = BACKOFF_FIRST
            except InvalidToken:
                log.critical("getUpdates: the bot token was refused; polling stops")
                return
            except RetryAfter as error:
                wait = error.retry_after
                seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
                log.warning("getUpdates: flood control, waiting %.0f s", seconds)
                await self._pause(seconds)
                continue
            except TelegramError as error:
                if error_callback is not None:
                    error_callback(error)
                level = logging.WARNING if isinstance(error, Conflict) else logging.INFO
                log.log(level, "getUpdates failed (%s); retrying in %.1f s", error, delay)
                await self._pause(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            except Exception:
                # Most likely the inbox write: the batch is not acknowledged and comes again.
                log.exception("inbox: could not record a batch; retrying in %.1f s", delay)
                await self._pause(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if poll_interval:
                await self._pause(poll_interval)

    async def _fetch(
        self, timeout: int | dt.timedelta, allowed_updates: list[str] | None
    ) -> list[Any]:
        """getUpdates as Telegram sent it, unparsed: the inbox keeps the raw JSON (turning
        parsed updates back into dicts cost more CPU than anything else per update), and one
        update PTB cannot read must not lose the batch (``Bot.get_updates`` raises for the
        whole batch, and polling would stall on it forever). Mirrors ``Bot.get_updates``
        (PTB 22): the read timeout is the request's own plus the long-poll time."""
        seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout
        data: dict[str, Any] = {"timeout": seconds, "offset": self._offset}
        if allowed_updates is not None:
            data["allowed_updates"] = allowed_updates
        requests = getattr(self.bot, "_request", None)
        base = getattr(requests[0], "read_timeout", None) if requests else None
        result = await self.bot._post("getUpdates", data, read_timeout=(base or 0) + (seconds or 0))
        return list(result or [])

    def _read(self, raw: list[Any]) -> tuple[list[dict[str, Any]], list[Update], int | None]:
        """The batch's readable updates (payloads and PTB objects) and its highest update_id.

        An update PTB cannot parse is kept raw in the inbox, marked handled, with one
        warning; one whose update_id cannot be stored (missing, beyond 64 bits) is skipped
        with one warning. Either way the offset moves past it.
        """
        payloads: list[dict[str, Any]] = []
        updates: list[Update] = []
        unreadable: list[dict[str, Any]] = []
        last: int | None = None
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("inbox: skipped an update without a usable update_id")
                continue
            last = update_id if last is None else max(last, update_id)
            if not inbox.storable_id(update_id):
                log.warning("inbox: skipped update %s: its id is out of range", update_id)
                continue
            try:
                update = parse(item, self.bot)
            except Exception as error:
                log.warning(
                    "inbox: update %s cannot be read (%s); kept raw and skipped",
                    update_id,
                    type(error).__name__,
                )
                unreadable.append(item)
                continue
            payloads.append(item)
            updates.append(update)
        if unreadable:
            state = _state(self._application)
            with transaction(state.sessions) as session:
                inbox.record(session, unreadable, now=state.clock(), handled=True)
        return payloads, updates, last

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when polling is stopped."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def install(application: AnyApplication) -> None:
    """Poll through `InboxUpdater` instead of PTB's own Updater."""
    application.updater = InboxUpdater(application)

"""Every query on the outbox: the requests to Telegram an update produced, kept until sent.

A guided conversation writes its replies here in the same transaction as the draft, the
answers and the inbox mark, so a commit means "applied *and* will be answered". The sender
(``delivery.outbox``) delivers the rows after the commit. A row moves

    pending ──► sending ──► sent | failed
       ▲           │
       │           └──► (its replica died during the call) uncertain — never sent again
       └── retry later (5xx, refused connection: known not delivered)

exactly like the reminder ledger (``data.ledger``): *pending* rows are claimed with a lease
(``claimed_by``, ``lease_until``) by the replica that wrote them; when the lease runs out
(the replica died or stopped) any live replica claims them (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL). *sending* is committed right before the HTTP call, conditional on the claim,
so of two replicas holding the same row only one can ever start the call; a row left
*sending* past its lease becomes *uncertain* — unless its request is idempotent (answering
a button press, editing a message), which is simply retried.

``chat_pauses`` holds Telegram's 429 answers per chat, so every replica waits; ``replicas``
holds heartbeats, from which each replica takes its share of the bot's send budget.

Callers pass ``now`` (real UTC time: leases are about live processes, not the bot's clock).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    String,
    Table,
    TypeDecorator,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from data.models import ChatPause, OutboxMessage, Replica

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
UNCERTAIN = "uncertain"

#: Requests that do no harm when made twice: a crash in the middle retries them.
IDEMPOTENT = frozenset(
    {"answerCallbackQuery", "editMessageText", "editMessageReplyMarkup", "leaveChat"}
)
_ERROR_LIMIT = 500


@dataclass(frozen=True)
class Request:
    """One row to deliver."""

    id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    update_id: int | None
    attempts: int
    #: Sent on the bot's own initiative: waits for the chat's shared clock (`start_sending`).
    paced: bool = False

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT


def _dialect_insert(session: Session, model: Any) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"outbox: unsupported database {name!r}")


class _JsonIds(TypeDecorator[list[int]]):
    """A list of row ids bound as one JSON text (SQLite's ``json_each`` reads it)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str:
        return json.dumps(list(value))


def _status(postgres: bool) -> ColumnElement[str]:
    """The row's status, as a condition on it may use. On SQLite ``+outbox.status``: no
    index may serve it (SQLite's documented way to say so), so the rows are looked up by
    their ids (`_among`) — SQLite takes ``json_each`` for a large table and would rather
    walk every *pending* row through the status index (a backlog of reminders made each
    mark slower)."""
    column = cast(Table, OutboxMessage.__table__).c.status
    if postgres:
        return column
    return literal_column("+outbox.status", type_=column.type)


def _unfinished(postgres: bool) -> ColumnElement[bool]:
    """*pending* or *sending*, written without an ``IN`` list (SQLAlchemy renders one anew
    at every execution)."""
    status = _status(postgres)
    return or_(status == PENDING, status == SENDING)


def _among(column: Any, name: str, *, postgres: bool) -> ColumnElement[bool]:
    """``column`` is one of the ids bound as ``name`` (a list): one parameter whatever the
    list's length, so the statement's text is the same for every call. An expanding ``IN
    (…)`` has a text per length, and each text fills a slot of Python ``sqlite3``'s
    per-connection cache of prepared statements (128, allocated by SQLite: the process's
    memory crept up while rare lengths turned up) and is re-rendered by SQLAlchemy on every
    execution. PostgreSQL: ``= ANY(:ids)`` with an array; SQLite: ``IN (SELECT value FROM
    json_each(:ids))`` with the ids as JSON."""
    if postgres:
        return cast(
            ColumnElement[bool], column == any_(bindparam(name, type_=postgresql.ARRAY(BigInteger)))
        )
    ids: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(name, type_=_JsonIds()))
    )
    return cast(ColumnElement[bool], column.in_(ids))


def add(
    session: Session,
    requests: Sequence[tuple[int, str, dict[str, Any]]],
    *,
    update_id: int | None,
    claimer: str,
    now: dt.datetime,
    lease: dt.timedelta,
    paced: bool = False,
) -> list[int]:
    """Write ``(chat_id, method, params)`` rows, claimed by ``claimer``; their ids in order.
    ``paced``: messages the bot sends on its own initiative (reminders, nudges), which keep
    the chat's spacing from every replica's messages (`start_sending`).

    One statement for all of them, in the caller's transaction. With an ``update_id`` the
    rows also mark that update handled in the inbox (``data.inbox.OUTBOX_TRIGGER``).
    """
    if not requests:
        return []
    rows = [
        {
            "chat_id": chat_id,
            "method": method,
            "params": params,
            "update_id": update_id,
            "status": PENDING,
            "created_at": now,
            "claimed_by": claimer,
            "lease_until": now + lease,
            "attempts": 0,
            "paced": paced,
        }
        for chat_id, method, params in requests
    ]
    ids = session.connection().execute(_ADD, rows)
    return sorted(int(row[0]) for row in ids)


#: `add`'s statement, built once (it runs for every update with a reply).
_ADD = cast(Table, OutboxMessage.__table__).insert().returning(OutboxMessage.__table__.c.id)


@dataclass(frozen=True)
class Start:
    """`add_starting`: the first row goes *sending* as it is written (its call follows the
    commit with no wait), for ``lease`` (`start_sending`'s), moving its chat's clock by
    ``spacing`` on PostgreSQL."""

    lease: dt.timedelta
    spacing: dt.timedelta


def add_starting(
    session: Session,
    requests: Sequence[tuple[int, str, dict[str, Any]]],
    *,
    update_id: int | None,
    claimer: str,
    now: dt.datetime,
    lease: dt.timedelta,
    start: Start,
) -> tuple[list[int], bool]:
    """`add` (not paced), with the first row written *sending* — `start_sending_replies`
    made in the same statement as the insert — unless its chat is paused by a 429 (then
    it is *pending* like the others); the ids in order, and whether the first one is
    *sending*.

    The first row must be a reply that waits for no chat clock (not paced, not to a group):
    the caller holds its turn of the send budget. As in `start_sending_replies`, on
    PostgreSQL the chat's clock is upserted in a CTE of the insert and moved to at least
    ``now + spacing``, under the chat's row lock, and the row starts only when the CTE
    returns the chat (no 429 pause); on SQLite the pause is checked in the insert and no
    clock moves. One statement, as `add`.
    """
    if not requests:
        return [], False
    chat = requests[0][0]
    rows = [
        {
            "chat_id": chat_id,
            "method": method,
            "params": params,
            "update_id": update_id,
            "now": now,
            "claimer": claimer,
            "lease_until": now + lease,
            "sending_until": now + start.lease,
            "go": n == 0,
            "turn_chat": chat,
            "turn_until": now,
            "following": now + start.spacing,
        }
        for n, (chat_id, method, params) in enumerate(requests)
    ]
    connection = session.connection()
    statement = _ADD_STARTING_PG if connection.dialect.name == "postgresql" else _ADD_STARTING
    result = connection.execute(statement, rows)
    written = sorted((int(row_id), status) for row_id, status in result)
    return [row_id for row_id, _ in written], written[0][1] == SENDING


def _add_starting_statement(postgres: bool) -> Any:
    """`add_starting`'s statement, built once per dialect. The chat clock's CTE takes its
    parameters once (``turn_*``, ``following``: the same in every row) and compares with
    ``excluded`` rather than a parameter of its own: a multi-row insert renders each row's
    parameters under a name of the row's, and those in the CTE must not be."""
    table = cast(Table, OutboxMessage.__table__)
    pauses = cast(Table, ChatPause.__table__)
    stamp = table.c.lease_until.type
    now = bindparam("now", type_=stamp)
    statement = table.insert()
    free: ColumnElement[bool]
    if postgres:
        upsert = postgresql.insert(pauses).values(
            chat_id=bindparam("turn_chat", type_=BigInteger),
            until=bindparam("turn_until", type_=stamp),
            next_send=bindparam("following", type_=stamp),
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"next_send": func.greatest(pauses.c.next_send, upsert.excluded.next_send)},
            where=pauses.c.until <= upsert.excluded.until,
        )
        turn = upsert.returning(pauses.c.chat_id).cte("turn")
        statement = statement.add_cte(turn)
        free = exists(select(turn.c.chat_id))
    else:
        free = ~exists().where(
            pauses.c.chat_id == bindparam("turn_chat", type_=BigInteger), pauses.c.until > now
        )
    started = and_(bindparam("go", type_=Boolean), free)
    return statement.values(
        chat_id=bindparam("chat_id", type_=BigInteger),
        method=bindparam("method", type_=table.c.method.type),
        params=bindparam("params", type_=table.c.params.type),
        update_id=bindparam("update_id", type_=BigInteger),
        status=case((started, SENDING), else_=PENDING),
        created_at=now,
        claimed_by=bindparam("claimer", type_=table.c.claimed_by.type),
        lease_until=case(
            (started, bindparam("sending_until", type_=stamp)),
            else_=bindparam("lease_until", type_=stamp),
        ),
        attempts=case((started, 1), else_=0),
        paced=false(),
    ).returning(table.c.id, table.c.status)


_ADD_STARTING = _add_starting_statement(postgres=False)
_ADD_STARTING_PG = _add_starting_statement(postgres=True)


def start_sending(
    session: Session,
    request_id: int,
    *,
    claimer: str,
    now: dt.datetime,
    lease: dt.timedelta,
    chat_id: int,
    spacing: dt.timedelta,
    wait_spacing: bool,
) -> bool:
    """Mark the row *sending* right before its HTTP call and take the chat's turn; False
    when it may not go now (another replica took it over, it was already sent, its chat is
    paused by a 429, or — ``wait_spacing`` — a message to the chat from any replica went
    less than ``spacing`` ago). `blocked_until` says which.

    Every message sent moves the chat's clock (``chat_pauses.next_send``) to ``now +
    spacing``; one that waits for it (``wait_spacing``: reminders, nudges, groups) takes the
    turn only if the clock has passed. On PostgreSQL the turn and the mark are one statement
    (the chat's row is upserted in a CTE under its row lock, so two replicas never take the
    same turn) and no more statements than before. SQLite serves one process (README), whose
    own limiter spaces its chats; there a paced row takes the turn with a second statement
    in the same transaction (SQLite has one writer at a time) and a reply moves nothing.
    """
    table = cast(Table, OutboxMessage.__table__)
    pauses = cast(Table, ChatPause.__table__)
    mine = (table.c.id == request_id, table.c.status == PENDING, table.c.claimed_by == claimer)
    values = {"status": SENDING, "attempts": table.c.attempts + 1, "lease_until": now + lease}
    following = now + spacing
    if session.get_bind().dialect.name == "postgresql":
        upsert = postgresql.insert(pauses).values(chat_id=chat_id, until=now, next_send=following)
        if wait_spacing:
            free = pauses.c.next_send.is_(None) | (pauses.c.next_send <= now)
            upsert = upsert.on_conflict_do_update(
                index_elements=["chat_id"],
                set_={"next_send": following},
                where=(pauses.c.until <= now) & free,
            )
        else:
            upsert = upsert.on_conflict_do_update(
                index_elements=["chat_id"],
                set_={"next_send": func.greatest(pauses.c.next_send, following)},
                where=pauses.c.until <= now,
            )
        turn = upsert.returning(pauses.c.chat_id).cte("turn")
        statement = (
            table.update()
            .add_cte(turn)
            .where(*mine, exists(select(turn.c.chat_id)))
            .values(**values)
        )
        return bool(session.connection().execute(statement).rowcount)
    blocked = pauses.c.until > now
    if wait_spacing:
        blocked = blocked | (pauses.c.next_send > now)
    held = exists().where(pauses.c.chat_id == table.c.chat_id, blocked)
    result = session.connection().execute(table.update().where(*mine, ~held).values(**values))
    if not result.rowcount:
        return False
    if wait_spacing:
        clock = sqlite.insert(pauses).values(chat_id=chat_id, until=now, next_send=following)
        session.connection().execute(
            clock.on_conflict_do_update(index_elements=["chat_id"], set_={"next_send": following})
        )
    return True


def start_sending_replies(
    bind: Session | Connection,
    rows: Sequence[tuple[int, int]],
    *,
    sent: Sequence[int] = (),
    claimer: str,
    now: dt.datetime,
    lease: dt.timedelta,
    spacing: dt.timedelta,
) -> set[int]:
    """`start_sending` for many replies at once, and `mark_sent` for ``sent``, in one
    statement: ``rows`` are ``(row id, chat id)``, none of which waits for its chat's
    clock (not paced, not a group); the ids of ``rows`` marked *sending* (the others:
    paused by a 429, taken over or already sent — `blocked_until` says which).

    The statement is built once per dialect and run with each list of ids as one
    parameter (`_among`: its text never depends on the lists' lengths); each row's new
    status is chosen by whether its id is among ``sent``. On
    PostgreSQL the chats' clocks are upserted in a CTE (one row each, in chat order, so two
    replicas lock them in one order) and moved to at least ``now + spacing``; a chat under
    a 429 pause returns no row from the CTE and keeps its messages pending. On SQLite (one
    process) the pause is checked in the UPDATE and no clock is moved, as in
    `start_sending`. ``bind``: the caller's session, or a connection in a transaction.
    """
    if not rows:
        mark_sent(bind, sent, now=now)
        return set()
    connection = bind.connection() if isinstance(bind, Session) else bind
    starts = [row_id for row_id, _ in rows]
    params: dict[str, Any] = {
        "start": starts,
        "sent": list(sent),
        "claimer": claimer,
        "now": now,
        "lease": now + lease,
    }
    if connection.dialect.name == "postgresql":
        params["chats"] = sorted({chat_id for _, chat_id in rows})
        params["following"] = now + spacing
        statement = _START_PG
    else:
        statement = _START
    # Only rows that came back *sending*: a row among both ``rows`` and ``sent`` (sent by
    # an earlier delivery of this replica while another one waited for its turn) comes
    # back *sent*, and is no turn to send it again.
    wanted = set(starts)
    return {
        row_id
        for row_id, status in connection.execute(statement, params)
        if row_id in wanted and status == SENDING
    }


def _start_statement(postgres: bool) -> Any:
    """`start_sending_replies`'s statement (see there), built once per dialect."""
    table = cast(Table, OutboxMessage.__table__)
    pauses = cast(Table, ChatPause.__table__)
    stamp = table.c.lease_until.type
    now = bindparam("now", type_=stamp)
    is_sent = _among(table.c.id, "sent", postgres=postgres)
    to_start = (
        _among(table.c.id, "start", postgres=postgres),
        _status(postgres) == PENDING,
        table.c.claimed_by == bindparam("claimer"),
    )
    statement = table.update()
    if postgres:
        chats = select(
            func.unnest(bindparam("chats", type_=postgresql.ARRAY(BigInteger))),
            now,
            bindparam("following", type_=stamp),
        )
        upsert = postgresql.insert(pauses).from_select(["chat_id", "until", "next_send"], chats)
        upsert = upsert.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"next_send": func.greatest(pauses.c.next_send, upsert.excluded.next_send)},
            where=pauses.c.until <= now,
        )
        turn = upsert.returning(pauses.c.chat_id).cte("turn")
        statement = statement.add_cte(turn)
        free: ColumnElement[bool] = table.c.chat_id.in_(select(turn.c.chat_id))
    else:
        free = ~exists().where(pauses.c.chat_id == table.c.chat_id, pauses.c.until > now)
    return (
        statement.where((is_sent & _unfinished(postgres)) | and_(*to_start, free))
        .values(
            status=case((is_sent, SENT), else_=SENDING),
            attempts=case((is_sent, table.c.attempts), else_=table.c.attempts + 1),
            lease_until=case((is_sent, null()), else_=bindparam("lease", type_=stamp)),
            sent_at=case((is_sent, now), else_=table.c.sent_at),
        )
        .returning(table.c.id, table.c.status)
    )


_START = _start_statement(postgres=False)
_START_PG = _start_statement(postgres=True)


def unstart(
    session: Session, request_id: int, *, update_id: int, claimer: str, now: dt.datetime
) -> bool:
    """A row `add_starting` wrote *sending* whose transaction's outcome its writer never
    learnt (the commit's answer lost): its call was never made, so it is *pending* again,
    free for any replica now. Only that row of that update, still *sending* for that
    writer: on SQLite a rolled-back insert's id may be taken by a later row."""
    table = cast(Table, OutboxMessage.__table__)
    result = session.connection().execute(
        table.update()
        .where(
            table.c.id == request_id,
            table.c.update_id == update_id,
            table.c.status == SENDING,
            table.c.claimed_by == claimer,
        )
        .values(status=PENDING, attempts=table.c.attempts - 1, claimed_by=None, lease_until=now)
    )
    return bool(result.rowcount)


def blocked_until(
    session: Session,
    request_id: int,
    *,
    claimer: str,
    now: dt.datetime,
    wait_spacing: bool,
) -> dt.datetime | None:
    """After `start_sending` said no: None when the row is no longer this replica's to
    send, else when to try again (the chat's 429 pause or, for a paced row, its clock;
    ``now`` when neither holds it any more)."""
    row = session.execute(
        select(OutboxMessage.status, OutboxMessage.claimed_by, OutboxMessage.chat_id).where(
            OutboxMessage.id == request_id
        )
    ).first()
    if row is None or row.status != PENDING or row.claimed_by != claimer:
        return None
    clock = session.execute(
        select(ChatPause.until, ChatPause.next_send).where(ChatPause.chat_id == row.chat_id)
    ).first()
    times = [now]
    if clock is not None:
        times.append(clock.until)
        if wait_spacing and clock.next_send is not None:
            times.append(clock.next_send)
    return max(times)


def mark_sent(bind: Session | Connection, request_ids: Iterable[int], *, now: dt.datetime) -> None:
    """*sent* (from pending or sending); ``bind``: a session, or a connection in a
    transaction. One statement built once per dialect, the ids one parameter (`_among`)."""
    ids = list(request_ids)
    if not ids:
        return
    connection = bind.connection() if isinstance(bind, Session) else bind
    statement = _MARK_SENT_PG if connection.dialect.name == "postgresql" else _MARK_SENT
    connection.execute(statement, {"ids": ids, "now": now})


def _mark_sent_statement(postgres: bool) -> Any:
    table = cast(Table, OutboxMessage.__table__)
    return (
        table.update()
        .where(
            _among(table.c.id, "ids", postgres=postgres),
            _unfinished(postgres),
        )
        .values(
            status=SENT,
            sent_at=bindparam("now", type_=table.c.sent_at.type),
            lease_until=None,
        )
    )


_MARK_SENT = _mark_sent_statement(postgres=False)
_MARK_SENT_PG = _mark_sent_statement(postgres=True)


def _finish(session: Session, request_id: int, status: str, error: str | None) -> None:
    table = cast(Table, OutboxMessage.__table__)
    session.connection().execute(
        table.update()
        .where(table.c.id == request_id)
        .values(status=status, error=None if error is None else error[:_ERROR_LIMIT])
    )


def mark_failed(session: Session, request_id: int, *, error: str) -> None:
    """Telegram refused it for good (blocked, bad request): not retried."""
    _finish(session, request_id, FAILED, error)


def mark_uncertain(session: Session, request_id: int, *, error: str) -> None:
    """The call went out and its answer was lost: Telegram may have it; never sent again."""
    _finish(session, request_id, UNCERTAIN, error)


def retry_later(
    session: Session,
    request_id: int,
    *,
    at: dt.datetime,
    error: str | None = None,
    claimer: str | None = None,
) -> None:
    """Known not delivered (5xx, refused connection, 429): pending again; for whichever
    replica claims it from ``at``, or kept by ``claimer`` (retrying it now) until then."""
    table = cast(Table, OutboxMessage.__table__)
    session.connection().execute(
        table.update()
        .where(table.c.id == request_id)
        .values(
            status=PENDING,
            claimed_by=claimer,
            lease_until=at,
            error=None if error is None else error[:_ERROR_LIMIT],
        )
    )


def claim_due(
    session: Session, *, claimer: str, now: dt.datetime, lease: dt.timedelta, limit: int = 200
) -> list[Request]:
    """Claim pending rows whose lease ran out (their replica died, stopped or scheduled a
    retry), oldest first. On PostgreSQL rows another replica is claiming are skipped."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == PENDING,
            (OutboxMessage.lease_until.is_(None)) | (OutboxMessage.lease_until <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    if not rows:
        return []
    ids = [row.id for row in rows]
    table = cast(Table, OutboxMessage.__table__)
    postgres = session.get_bind().dialect.name == "postgresql"
    session.connection().execute(
        table.update()
        .where(_among(table.c.id, "ids", postgres=postgres), _status(postgres) == PENDING)
        .values(claimed_by=claimer, lease_until=now + lease),
        {"ids": ids},
    )
    return [
        Request(
            row.id,
            row.chat_id,
            row.method,
            dict(row.params),
            row.update_id,
            row.attempts,
            row.paced,
        )
        for row in rows
    ]


def settle_interrupted(
    session: Session,
    *,
    now: dt.datetime,
    alive_since: dt.datetime | None = None,
    me: str | None = None,
) -> list[int]:
    """Rows left *sending* by a replica that died in the call — past their lease, or
    (with ``alive_since``) claimed by a replica without a heartbeat since then: idempotent
    ones pending again, the others *uncertain*; the ids made uncertain.

    ``me`` is the caller, alive whatever its heartbeat row says: a replica's first round
    may run before its first heartbeat (on PostgreSQL the budget claim writes it, on its
    own task), and must not take its own replies in flight for a dead replica's."""
    table = cast(Table, OutboxMessage.__table__)
    gone: ColumnElement[bool] = table.c.lease_until <= now
    if alive_since is not None:
        alive = select(Replica.name).where(Replica.seen_at > alive_since)
        unseen: ColumnElement[bool] = table.c.claimed_by.not_in(alive)
        if me is not None:
            unseen = unseen & (table.c.claimed_by != me)
        gone = gone | unseen
    stale = (table.c.status == SENDING) & gone
    session.connection().execute(
        table.update()
        .where(stale, table.c.method.in_(IDEMPOTENT))
        .values(status=PENDING, claimed_by=None, lease_until=now)
    )
    result = session.connection().execute(
        table.update()
        .where(stale)
        .values(status=UNCERTAIN, error="the sending replica stopped during the call")
        .returning(table.c.id)
    )
    return [int(row[0]) for row in result]


def release(session: Session, *, claimer: str, now: dt.datetime) -> int:
    """A stopping replica's pending rows: free for any replica at once; how many."""
    table = cast(Table, OutboxMessage.__table__)
    result = session.connection().execute(
        table.update()
        .where(table.c.status == PENDING, table.c.claimed_by == claimer)
        .values(claimed_by=None, lease_until=now)
    )
    return int(result.rowcount or 0)


def pause_chat(session: Session, chat_id: int, *, until: dt.datetime) -> None:
    """Telegram's 429 for a chat: every replica waits until ``until``."""
    statement = _dialect_insert(session, ChatPause).values(chat_id=chat_id, until=until)
    statement = statement.on_conflict_do_update(
        index_elements=["chat_id"], set_={"until": statement.excluded.until}
    )
    session.execute(statement)


def heartbeat(session: Session, name: str, *, now: dt.datetime) -> None:
    statement = _dialect_insert(session, Replica).values(name=name, seen_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["name"], set_={"seen_at": statement.excluded.seen_at}
    )
    session.execute(statement)


def live_replicas(session: Session, *, now: dt.datetime, within: dt.timedelta) -> int:
    """Replicas seen within ``within`` (at least 1: the caller itself)."""
    count = session.scalar(
        select(func.count()).select_from(Replica).where(Replica.seen_at > now - within)
    )
    return max(1, int(count or 0))


def forget_replica(session: Session, name: str) -> None:
    session.execute(delete(Replica).where(Replica.name == name))


def prune(session: Session, *, older_than: dt.datetime, limit: int = 5000) -> int:
    """Delete finished rows (sent, failed, uncertain) created before ``older_than``, at
    most ``limit`` per call; expired chat pauses and replicas gone for good too."""
    table = cast(Table, OutboxMessage.__table__)
    ids = select(table.c.id).where(
        table.c.status.in_((SENT, FAILED, UNCERTAIN)), table.c.created_at < older_than
    )
    result = session.execute(delete(OutboxMessage).where(table.c.id.in_(ids.limit(limit))))
    session.execute(
        delete(ChatPause).where(
            ChatPause.until < older_than,
            ChatPause.next_send.is_(None) | (ChatPause.next_send < older_than),
        )
    )
    session.execute(delete(Replica).where(Replica.seen_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


def counts(session: Session) -> dict[str, int]:
    """Rows per status (metrics, tests)."""
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: int(n) for status, n in rows}


def for_update_id(session: Session, update_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.update_id == update_id)
            .order_by(OutboxMessage.id)
        )
    )


def params_of(session: Session, request_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The stored parameters of these rows (their owners are told what became of them)."""
    ids = list(request_ids)
    if not ids:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    query = select(OutboxMessage.params).where(_among(OutboxMessage.id, "ids", postgres=postgres))
    return [dict(params) for params in session.scalars(query, {"ids": ids})]

"""Every query on the update inbox: Telegram updates kept until their effects are committed.

An update is written here *before* Telegram is told it arrived (the next getUpdates offset,
or the webhook's 200), and marked handled in the same transaction as what handling it
changed (the guided-flow engine) or right after (everything else). So a process killed at
any moment loses nothing: rows with ``handled_at`` empty are handled again at start-up. The
primary key is Telegram's ``update_id``, which makes a redelivered update a no-op insert.

A batch is recorded with one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` (the
same mechanism on SQLite and PostgreSQL, `record`), so the cost of durability is one
statement and one commit per getUpdates batch.

Writing an update's replies to the outbox (``data.outbox.add`` with its ``update_id``) marks
the update handled too: a trigger on ``outbox`` (`OUTBOX_TRIGGER`, migration
``0015_outbox_marks_inbox``) sets ``handled_at`` in the same transaction, so the guided
conversations need no separate mark. Whatever writes no reply rows calls `mark_handled`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from data.models import InboxUpdate, UtcDateTime, utcnow

#: Handled updates are kept this long, so a late redelivery still finds its first copy
#: (Telegram keeps an unacknowledged update for 24 hours), and pruned well before Telegram
#: may start numbering updates afresh (after a week without updates).
KEEP_HANDLED_DAYS = 3

#: Where an update's chat is, for the update types that have one (others fall back to "from").
_CHAT_PATHS: tuple[tuple[str, ...], ...] = (
    ("message", "chat", "id"),
    ("edited_message", "chat", "id"),
    ("channel_post", "chat", "id"),
    ("edited_channel_post", "chat", "id"),
    ("business_message", "chat", "id"),
    ("edited_business_message", "chat", "id"),
    ("callback_query", "message", "chat", "id"),
    ("my_chat_member", "chat", "id"),
    ("chat_member", "chat", "id"),
    ("chat_join_request", "chat", "id"),
    ("message_reaction", "chat", "id"),
    ("message_reaction_count", "chat", "id"),
    ("chat_boost", "chat", "id"),
    ("removed_chat_boost", "chat", "id"),
)


def _dig(payload: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def chat_id_of(payload: Mapping[str, Any]) -> int | None:
    """The chat an update belongs to (the sender for chat-less updates such as inline
    queries), so that one chat's pending updates can be found and kept in order."""
    for path in _CHAT_PATHS:
        value = _dig(payload, path)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    for key, body in payload.items():
        if key != "update_id" and isinstance(body, Mapping):
            sender = _dig(body, ("from", "id"))
            if isinstance(sender, int) and not isinstance(sender, bool):
                return sender
    return None


#: The trigger that marks an update handled when its replies are written to the outbox.
OUTBOX_TRIGGER = "outbox_marks_inbox"

#: Telegram's update_id fits a signed 64-bit column; anything beyond cannot be stored.
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1


def storable_id(update_id: object) -> bool:
    """An integer update_id that the inbox can store (a signed 64-bit integer)."""
    return (
        isinstance(update_id, int)
        and not isinstance(update_id, bool)
        and _ID_MIN <= update_id <= _ID_MAX
    )


def record(
    session: Session,
    payloads: Sequence[Mapping[str, Any]],
    *,
    now: dt.datetime | None = None,
    claimer: str | None = None,
    lease_until: dt.datetime | None = None,
    handled: bool = False,
) -> list[int]:
    """Insert the updates not seen before; the update_ids that were new, in the given order.

    One statement for the whole batch (`_RECORD`). An update_id already in the inbox
    (handled or not) is left alone: Telegram redelivered it, and it must not be applied
    twice. ``claimer`` and ``lease_until`` say which replica handles them (see
    `claim_stranded`); ``handled`` records them as already handled (updates the bot cannot
    read, kept raw for inspection).
    """
    connection = session.connection()
    statement = _RECORD.get(connection.dialect.name)
    if statement is None:
        raise NotImplementedError(f"inbox: unsupported database {connection.dialect.name!r}")
    rows: dict[int, list[Any]] = {}
    for payload in payloads:
        update_id = _storable(payload)
        if update_id not in rows:
            rows[update_id] = [update_id, chat_id_of(payload), json.dumps(payload)]
    if not rows:
        return []
    received = now or utcnow()
    params = {
        "rows": json.dumps(list(rows.values())),
        "received_at": received,
        "claimed_by": claimer,
        "lease_until": lease_until,
        "handled_at": received if handled else None,
    }
    inserted = {row[0] for row in connection.execute(statement, params)}
    return [update_id for update_id in rows if update_id in inserted]


def _storable(payload: Mapping[str, Any]) -> int:
    update_id = payload.get("update_id")
    if not storable_id(update_id):
        raise ValueError(f"inbox: update without a storable update_id: {update_id!r}")
    return cast(int, update_id)


#: `record`'s statement: ``INSERT … SELECT … ON CONFLICT (update_id) DO NOTHING RETURNING
#: update_id``, the batch one JSON array parameter of ``[update_id, chat_id, payload as
#: JSON text]`` rows and what every row shares (the times, the claimer) given once. One
#: mechanism on both databases; the statement's text is each one's, because their JSON
#: functions are: the array is read by ``json_array_elements`` (PostgreSQL) or
#: ``json_each`` (SQLite, whose upsert after a SELECT needs a ``WHERE``), the payload cast
#: back to JSON on PostgreSQL and kept as the text on SQLite (which has no JSON type).
#: Either way the text stored is exactly ``json.dumps(payload)``, as the ORM column writes
#: it, and a ``\u0000`` in it (which PostgreSQL refuses to unescape) stays escaped.
#:
#: Why not a multi-row INSERT ("insertmanyvalues", 7 parameters a row, as SQLite had): each
#: parameter is adapted on its own (on PostgreSQL the payload by psycopg's JSON dumper).
#: Measured at load 8-10, alternating pairs, batches of 16, µs of CPU per update: PostgreSQL
#: this 39/42/49 against multi-row 66/66/79; SQLite this 44.5/40.7/39.0 against multi-row
#: 45.1/40.9/43.7, and against the old code 42.8/42.9/39.9 vs 45.6/48.2/45.9.
_RECORD_COLUMNS = (
    "INSERT INTO inbox (update_id, chat_id, payload, received_at, claimed_by, lease_until,"
    " handled_at)"
)
_RECORD_SHARED = ":received_at, :claimed_by, :lease_until, :handled_at"
_RECORD_TAIL = " ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
_RECORD_TYPES = (
    bindparam("received_at", type_=UtcDateTime()),
    bindparam("lease_until", type_=UtcDateTime()),
    bindparam("handled_at", type_=UtcDateTime()),
    bindparam("claimed_by", type_=String()),
    bindparam("rows", type_=String()),
)
_RECORD = {
    "postgresql": text(
        f"{_RECORD_COLUMNS} SELECT CAST(item ->> 0 AS BIGINT), CAST(item ->> 1 AS BIGINT),"
        f" CAST(item ->> 2 AS JSON), {_RECORD_SHARED}"
        f" FROM json_array_elements(CAST(:rows AS JSON)) AS item{_RECORD_TAIL}"
    ).bindparams(*_RECORD_TYPES),
    "sqlite": text(
        f"{_RECORD_COLUMNS} SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
        f" json_extract(value, '$[2]'), {_RECORD_SHARED}"
        f" FROM json_each(:rows) WHERE true{_RECORD_TAIL}"
    ).bindparams(*_RECORD_TYPES),
}


def mark_handled(session: Session, update_id: int, *, now: dt.datetime | None = None) -> bool:
    """Record that the update's effects are committed (with this session's transaction).

    False when the update is not in the inbox or was already marked. It is a conditional
    ``UPDATE … WHERE handled_at IS NULL``, so it also works as a claim: called first in the
    transaction that applies the update, False means another process (a replica replaying
    it at start-up) already applied it — roll back and skip. On PostgreSQL the second of two
    concurrent callers waits for the first to commit, then gets False.
    """
    # A Core statement built once, on the session's connection: this runs once per update,
    # and the ORM path (session synchronisation, entity lookup) costs twice as much.
    result = session.connection().execute(_MARK_HANDLED, {"id": update_id, "at": now or utcnow()})
    return bool(result.rowcount)


def _mark_handled_statement() -> Any:
    table = cast(Table, InboxUpdate.__table__)
    return (
        table.update()
        .where(table.c.update_id == bindparam("id"), table.c.handled_at.is_(None))
        .values(handled_at=bindparam("at", type_=table.c.handled_at.type))
    )


_MARK_HANDLED = _mark_handled_statement()


def pending(
    session: Session, limit: int = 1000, *, after: int | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """Unhandled updates as ``(update_id, payload)``, oldest (lowest update_id) first;
    ``after`` pages on from the last update_id of the previous page."""
    query = select(InboxUpdate.update_id, InboxUpdate.payload).where(
        InboxUpdate.handled_at.is_(None)
    )
    if after is not None:
        query = query.where(InboxUpdate.update_id > after)
    rows = session.execute(query.order_by(InboxUpdate.update_id).limit(limit))
    return [(update_id, dict(payload)) for update_id, payload in rows]


def backlog(session: Session) -> tuple[int, dt.datetime | None]:
    """How many updates wait unhandled, and when the oldest of them was received (for the
    metrics; the ``ix_inbox_pending`` index answers both)."""
    count, oldest = session.execute(
        select(func.count(), func.min(InboxUpdate.received_at)).where(
            InboxUpdate.handled_at.is_(None)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite's aggregate loses the type
        oldest = dt.datetime.fromisoformat(str(oldest)).replace(tzinfo=dt.UTC)
    return int(count or 0), oldest


def last_update_id(session: Session) -> int:
    """The highest update_id recorded (0 for an empty inbox)."""
    return int(session.scalar(select(func.max(InboxUpdate.update_id))) or 0)


def is_handled(session: Session, update_id: int) -> bool | None:
    """True/False for an update in the inbox, None for one that is not there."""
    row = session.execute(
        select(InboxUpdate.handled_at).where(InboxUpdate.update_id == update_id)
    ).first()
    return None if row is None else row[0] is not None


def prune(
    session: Session,
    *,
    older_than_days: int,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> int:
    """Delete handled updates received more than ``older_than_days`` ago; how many.

    Unhandled rows are never deleted. Handled rows are kept a while so that a redelivery
    (Telegram keeps unacknowledged updates for 24 hours) still finds its first copy.
    ``limit`` deletes at most that many rows (the oldest first, found through the index on
    ``received_at``), so a large backlog goes in short transactions that never hold the
    write lock for long (`schedules.housekeeping` calls it batch by batch).
    """
    if older_than_days < 1:
        raise ValueError("inbox: keep handled updates at least one day")
    cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
    old = (InboxUpdate.handled_at.is_not(None), InboxUpdate.received_at < cutoff)
    if limit is None:
        result = session.execute(delete(InboxUpdate).where(*old))
    else:
        batch = (
            select(InboxUpdate.update_id)
            .where(*old)
            .order_by(InboxUpdate.received_at)
            .limit(limit)
            .scalar_subquery()
        )
        result = session.execute(
            delete(InboxUpdate)
            .where(InboxUpdate.update_id.in_(batch))
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)


def renew_leases(
    session: Session, *, claimer: str, update_ids: Iterable[int], until: dt.datetime
) -> None:
    """Keep the updates this replica holds from being taken over while it works on them."""
    ids = list(update_ids)
    if not ids:
        return
    session.connection().execute(_RENEW, {"ids": ids, "claimer": claimer, "until": until})


def _renew_statement() -> Any:
    table = cast(Table, InboxUpdate.__table__)
    return (
        table.update()
        .where(
            table.c.update_id.in_(bindparam("ids", expanding=True)), table.c.handled_at.is_(None)
        )
        .values(
            claimed_by=bindparam("claimer"),
            lease_until=bindparam("until", type_=table.c.lease_until.type),
        )
    )


_RENEW = _renew_statement()


def claim_stranded(
    session: Session, *, claimer: str, now: dt.datetime, lease: dt.timedelta, limit: int = 200
) -> list[tuple[int, dict[str, Any]]]:
    """Unhandled updates whose lease ran out (their replica died): claimed for ``claimer``,
    oldest first, as ``(update_id, payload)``. Rows without a lease (recorded by an older
    release) count as expired."""
    query = (
        select(InboxUpdate.update_id, InboxUpdate.payload)
        .where(
            InboxUpdate.handled_at.is_(None),
            (InboxUpdate.lease_until.is_(None)) | (InboxUpdate.lease_until <= now),
        )
        .order_by(InboxUpdate.update_id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = [(int(update_id), dict(payload)) for update_id, payload in session.execute(query)]
    if rows:
        renew_leases(session, claimer=claimer, update_ids=[r[0] for r in rows], until=now + lease)
    return rows

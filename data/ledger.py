"""Every query on the reminder ledger: the database's record of what went to whom.

The ledger is what makes a reminder go out **exactly once** per (deadline, offset, person)
where that can be known, and **at most once** where it cannot, whatever restarts, kills or
duplicate processes happen. A row moves

    claimed ──► queued ──► in_flight ──► sent | failed (retry later / given up) | uncertain
       │
       └──► (its process died before the Telegram call) due again ──► claimed …

* *claimed*: a process has taken the row, committed, and has not yet handed the message to
  Telegram. Nothing can have reached the person, so a claim left by a dead process is
  simply made due again (`release_stale_claims`) and sent by whoever claims it next.
* *queued*: handed to the outbox (``data.outbox``) in the same transaction as its outbox
  row. The outbox delivers it, from any replica and after a kill too, and records each
  step here (`start_queued` with the row's *sending*, then the outcome); a queued row is
  never released or re-sent by the ledger itself.
* *in flight*: committed right before the HTTP call (`mark_in_flight`, conditional on the
  claim's owner and attempt number, so of two processes holding the same row only one can
  ever start the call). From here the outcome is unknown until Telegram answers; a row
  left in flight by a dead process becomes *uncertain* ("toimitus epävarma") and is never
  re-sent.

A claim is either the INSERT of the unique row itself (``INSERT … ON CONFLICT DO NOTHING
RETURNING id``: of two processes inserting the same key exactly one gets an id back) or an
``UPDATE … WHERE id = :id AND status = :expected`` for a row that is due again (a retry or
a snooze), whose rowcount says whether this process won. Both work unchanged on SQLite and
PostgreSQL and need no explicit locks.

Callers pass ``now`` explicitly (the bot's clock), so tests control time.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from data.db import affected
from data.models import LedgerStatus, Person, ReminderLedger

#: Kinds of ledger rows: planned reminders, the coordinator's nudges, snoozed re-sends.
KIND_SCHEDULED = "scheduled"
KIND_NUDGE = "nudge"
KIND_SNOOZE = "snooze"

_KEY_COLUMNS = ("deadline_code", "deadline_date", "offset_days", "person_id")
_ERROR_LIMIT = 500


@dataclass(frozen=True)
class LedgerKey:
    """The unique key: one reminder of one deadline at one offset for one person."""

    deadline_code: str
    deadline_date: dt.date
    offset_days: int
    person_id: int


class SnoozeOutcome(enum.StrEnum):
    SNOOZED = "snoozed"
    ALREADY = "already"  # this reminder was snoozed once already
    TOO_LATE = "too-late"  # the snooze would land after the deadline
    INVALID = "invalid"  # unknown id, someone else's reminder, or not a delivered reminder


def _insert(session: Session) -> Any:
    """The dialect's INSERT construct, which has ``on_conflict_do_nothing``."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(ReminderLedger)
    if name == "sqlite":
        return sqlite.insert(ReminderLedger)
    raise NotImplementedError(f"reminder ledger claims are not implemented for {name}")


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:_ERROR_LIMIT]


def _new_row(
    key: LedgerKey,
    *,
    audience: str,
    kind: str,
    due_at: dt.datetime,
    now: dt.datetime,
    status: LedgerStatus,
    claimer: str | None = None,
    error: str | None = None,
) -> dict[str, object]:
    claimed = status is LedgerStatus.CLAIMED
    return {
        "deadline_code": key.deadline_code,
        "deadline_date": key.deadline_date,
        "offset_days": key.offset_days,
        "person_id": key.person_id,
        "audience": audience,
        "kind": kind,
        "due_at": due_at,
        "status": status,
        "attempts": 1 if claimed else 0,
        "claimed_at": now if claimed else None,
        "claimed_by": claimer if claimed else None,
        "error": _clip(error),
        "updated_at": now,
    }


def claim_new(
    session: Session,
    key: LedgerKey,
    *,
    audience: str,
    kind: str,
    due_at: dt.datetime,
    now: dt.datetime,
    claimer: str,
) -> int | None:
    """Insert the row as ``claimed``; its id, or None when the key exists already.

    Commit before sending: the committed row *is* the permission to send.
    """
    return _insert_once(
        session,
        key,
        audience=audience,
        kind=kind,
        due_at=due_at,
        now=now,
        status=LedgerStatus.CLAIMED,
        claimer=claimer,
    )


def record_skipped(
    session: Session,
    key: LedgerKey,
    *,
    audience: str,
    kind: str,
    due_at: dt.datetime,
    now: dt.datetime,
    reason: str,
) -> bool:
    """Record a reminder that will not be sent (too late after an outage); False if the key
    already has a row (sent, or recorded before)."""
    ledger_id = _insert_once(
        session,
        key,
        audience=audience,
        kind=kind,
        due_at=due_at,
        now=now,
        status=LedgerStatus.SKIPPED,
        error=reason,
    )
    return ledger_id is not None


def _insert_once(session: Session, key: LedgerKey, **fields: Any) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING on the ledger key: the new row's id, or None."""
    statement = (
        _insert(session)
        .values(**_new_row(key, **fields))
        .on_conflict_do_nothing(index_elements=list(_KEY_COLUMNS))
        .returning(ReminderLedger.id)
    )
    return session.execute(statement).scalar_one_or_none()


def _move(session: Session, ledger_id: int, *conditions: Any, **values: Any) -> bool:
    """Set ``values`` on the row if it meets ``conditions`` (its expected status, owner …):
    the one conditional UPDATE of every step of a row, whose rowcount says whether this
    process made the step."""
    result = session.execute(
        update(ReminderLedger)
        .where(ReminderLedger.id == ledger_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return affected(result) == 1


def claim_due(
    session: Session,
    ledger_id: int,
    *,
    expected: LedgerStatus,
    now: dt.datetime,
    claimer: str,
) -> bool:
    """Take a row that is due again (a retry or a snooze); True if this process won it."""
    return _move(
        session,
        ledger_id,
        ReminderLedger.status == expected,
        ReminderLedger.next_attempt_at.is_not(None),
        ReminderLedger.next_attempt_at <= now,
        status=LedgerStatus.CLAIMED,
        claimed_at=now,
        claimed_by=claimer,
        attempts=ReminderLedger.attempts + 1,
        next_attempt_at=None,
        updated_at=now,
    )


def _advance_claim(
    session: Session,
    ledger_id: int,
    claimer: str,
    attempts: int,
    status: LedgerStatus,
    now: dt.datetime,
) -> bool:
    """Move a claimed row on to `status` only while this claim (owner and attempt) still
    holds it: the one conditional UPDATE behind `mark_in_flight` and `mark_queued`, so of
    two processes holding the same row only one can ever go on."""
    return _move(
        session,
        ledger_id,
        ReminderLedger.status == LedgerStatus.CLAIMED,
        ReminderLedger.claimed_by == claimer,
        ReminderLedger.attempts == attempts,
        status=status,
        updated_at=now,
    )


def mark_in_flight(
    session: Session, ledger_id: int, *, claimer: str, attempts: int, now: dt.datetime
) -> bool:
    """The Telegram call is about to start: True if this claim (owner and attempt) still
    holds the row. False means another process took it over; the caller must not send."""
    return _advance_claim(session, ledger_id, claimer, attempts, LedgerStatus.IN_FLIGHT, now)


def mark_queued(
    session: Session, ledger_id: int, *, claimer: str, attempts: int, now: dt.datetime
) -> bool:
    """The notice is handed to the outbox, in this transaction (the caller writes its outbox
    row here): True if this claim (owner and attempt) still holds the row. From now on the
    outbox delivers it — any replica, after a kill too — and records its outcome here
    (`start_queued`, `mark_sent`, `mark_uncertain`, `mark_failed`); a *queued* row is never
    released as a stale claim."""
    return _advance_claim(session, ledger_id, claimer, attempts, LedgerStatus.QUEUED, now)


def start_queued(session: Session, ledger_id: int, *, now: dt.datetime) -> bool:
    """The outbox marked the queued notice *sending* (same transaction): in flight."""
    return _move(
        session,
        ledger_id,
        ReminderLedger.status == LedgerStatus.QUEUED,
        status=LedgerStatus.IN_FLIGHT,
        updated_at=now,
    )


#: Rows a process (or the outbox) is working on: an outcome may be recorded for them.
_OPEN = (LedgerStatus.CLAIMED, LedgerStatus.QUEUED, LedgerStatus.IN_FLIGHT)
#: Rows whose message reached the person (or may have: a pressed button proves it did).
_DELIVERED = (LedgerStatus.SENT, LedgerStatus.UNCERTAIN)


def mark_sent(session: Session, ledger_id: int, *, now: dt.datetime) -> bool:
    """Telegram accepted the message. Also settles a row that another process had meanwhile
    declared uncertain (its owner was slow, not dead): the truth wins."""
    return _move(
        session,
        ledger_id,
        ReminderLedger.status.in_([*_OPEN, LedgerStatus.UNCERTAIN]),
        status=LedgerStatus.SENT,
        sent_at=now,
        error=None,
        next_attempt_at=None,
        updated_at=now,
    )


def _record_outcome(
    session: Session,
    ledger_id: int,
    status: LedgerStatus,
    error: str,
    next_attempt_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """An open row's outcome other than *sent*: with why, and when to try again (None:
    never)."""
    return _move(
        session,
        ledger_id,
        ReminderLedger.status.in_(_OPEN),
        status=status,
        error=_clip(error),
        next_attempt_at=next_attempt_at,
        updated_at=now,
    )


def mark_uncertain(session: Session, ledger_id: int, *, now: dt.datetime, error: str) -> bool:
    """The call may have reached Telegram (timeout, connection lost): never sent again."""
    return _record_outcome(session, ledger_id, LedgerStatus.UNCERTAIN, error, None, now)


def mark_failed(
    session: Session,
    ledger_id: int,
    *,
    now: dt.datetime,
    error: str,
    retry_at: dt.datetime | None = None,
) -> bool:
    """The row was not delivered: to be retried at ``retry_at``, or given up (None)."""
    return _record_outcome(session, ledger_id, LedgerStatus.FAILED, error, retry_at, now)


def mark_skipped(session: Session, ledger_id: int, *, now: dt.datetime, reason: str) -> bool:
    """A claimed retry or snooze that is no longer worth sending (too late, not needed)."""
    return _record_outcome(session, ledger_id, LedgerStatus.SKIPPED, reason, None, now)


def release_stale_claims(
    session: Session, *, now: dt.datetime, older_than: dt.datetime, claimer: str | None = None
) -> int:
    """Claims made before ``older_than`` (by anyone but ``claimer``, when given) belong to a
    process that stopped before calling Telegram: nothing was sent, so the row is made due
    again at its claim time (the sweep sends it, or skips it when that is too late).

    Safe even when the owner is merely slow: its `mark_in_flight` fails after this, so it
    cannot send. Returns how many rows were released.
    """
    return _settle_left(
        session,
        ReminderLedger.status == LedgerStatus.CLAIMED,
        ReminderLedger.claimed_at < older_than,
        claimer=claimer,
        status=LedgerStatus.FAILED,
        error="interrupted before the Telegram call (not delivered); sending again",
        next_attempt_at=ReminderLedger.claimed_at,
        updated_at=now,
    )


def settle_interrupted_sends(
    session: Session, *, now: dt.datetime, older_than: dt.datetime, claimer: str | None = None
) -> int:
    """Rows left in flight before ``older_than`` (by anyone but ``claimer``, when given):
    the process died during the Telegram call, so whether the person got the message is
    unknown. They become *uncertain* and are never re-sent: at most once wins over at least
    once. Returns how many rows were settled."""
    return _settle_left(
        session,
        ReminderLedger.status == LedgerStatus.IN_FLIGHT,
        ReminderLedger.updated_at < older_than,
        claimer=claimer,
        status=LedgerStatus.UNCERTAIN,
        error="interrupted during the Telegram call; delivery unknown, not re-sent",
        next_attempt_at=None,
        updated_at=now,
    )


def _settle_left(session: Session, *left: Any, claimer: str | None, **values: Any) -> int:
    """Rows a process left (the ``left`` conditions), by anyone but ``claimer`` when given,
    given ``values``: the one bulk UPDATE behind `release_stale_claims` and
    `settle_interrupted_sends`. How many rows it changed."""
    conditions = [*left]
    if claimer is not None:
        conditions.append(ReminderLedger.claimed_by != claimer)
    result = session.execute(
        update(ReminderLedger)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def uncertain_rows(session: Session, *, year: int) -> list[tuple[ReminderLedger, Person]]:
    """The year's reminders whose delivery is unknown, oldest first (for coordinators)."""
    query = _report_query(year, [LedgerStatus.UNCERTAIN]).order_by(
        ReminderLedger.due_at, ReminderLedger.id
    )
    return [(row, person) for row, person in session.execute(query)]  # type: ignore[misc]


def due_again(session: Session, *, now: dt.datetime, limit: int = 500) -> list[ReminderLedger]:
    """Rows waiting for another send whose time has come: retries and snoozes."""
    query = (
        select(ReminderLedger)
        .where(
            ReminderLedger.status.in_([LedgerStatus.FAILED, LedgerStatus.SNOOZED]),
            ReminderLedger.next_attempt_at.is_not(None),
            ReminderLedger.next_attempt_at <= now,
        )
        .order_by(ReminderLedger.next_attempt_at, ReminderLedger.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def next_due_again(session: Session) -> dt.datetime | None:
    """The earliest pending retry or snooze (to tell the operator what is waiting)."""
    return session.scalar(
        select(func.min(ReminderLedger.next_attempt_at)).where(
            ReminderLedger.status.in_([LedgerStatus.FAILED, LedgerStatus.SNOOZED]),
            ReminderLedger.next_attempt_at.is_not(None),
        )
    )


def snooze(
    session: Session,
    ledger_id: int,
    *,
    person_id: int,
    until: dt.datetime,
    until_day: dt.date,
    now: dt.datetime,
) -> SnoozeOutcome:
    """Postpone a delivered reminder once, for the person it was sent to.

    The row becomes ``snoozed`` with kind ``snooze`` until ``until``; the kind is what
    remembers that the one snooze is used up (a second press answers "already").
    ``until_day`` is the local date of ``until``: a reminder whose deadline is before it
    is not snoozed (a reminder the day after the deadline helps nobody). An *uncertain*
    reminder can be snoozed too: the button press proves it arrived.
    """
    if _move(
        session,
        ledger_id,
        ReminderLedger.person_id == person_id,
        ReminderLedger.status.in_(_DELIVERED),
        ReminderLedger.kind != KIND_SNOOZE,
        ReminderLedger.deadline_date >= until_day,
        status=LedgerStatus.SNOOZED,
        kind=KIND_SNOOZE,
        next_attempt_at=until,
        updated_at=now,
    ):
        return SnoozeOutcome.SNOOZED
    row = session.get(ReminderLedger, ledger_id)
    if row is None or row.person_id != person_id:
        return SnoozeOutcome.INVALID
    if row.kind == KIND_SNOOZE:
        return SnoozeOutcome.ALREADY
    if row.status in _DELIVERED and row.deadline_date < until_day:
        return SnoozeOutcome.TOO_LATE
    return SnoozeOutcome.INVALID


def recorded_people(
    session: Session, *, deadline_code: str, deadline_date: dt.date, offset_days: int
) -> set[int]:
    """People who already have a row (any status) for one send: no need to try them."""
    return set(
        session.scalars(
            select(ReminderLedger.person_id).where(
                ReminderLedger.deadline_code == deadline_code,
                ReminderLedger.deadline_date == deadline_date,
                ReminderLedger.offset_days == offset_days,
            )
        )
    )


def get(session: Session, ledger_id: int) -> ReminderLedger | None:
    return session.get(ReminderLedger, ledger_id)


def rows_for(
    session: Session,
    *,
    deadline_code: str | None = None,
    deadline_date: dt.date | None = None,
    offset_days: int | None = None,
    person_id: int | None = None,
) -> list[ReminderLedger]:
    """Rows matching the given key parts, oldest first."""
    query = select(ReminderLedger).order_by(ReminderLedger.id)
    for column, value in (
        (ReminderLedger.deadline_code, deadline_code),
        (ReminderLedger.deadline_date, deadline_date),
        (ReminderLedger.offset_days, offset_days),
        (ReminderLedger.person_id, person_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return list(session.scalars(query))


def _report_query(
    year: int | None, statuses: Iterable[LedgerStatus] | None
) -> Select[tuple[ReminderLedger, Person]]:
    query = select(ReminderLedger, Person).join(Person, Person.id == ReminderLedger.person_id)
    if year is not None:
        query = query.where(
            ReminderLedger.deadline_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31))
        )
    if statuses:
        query = query.where(ReminderLedger.status.in_(list(statuses)))
    return query  # type: ignore[return-value]


def report(
    session: Session,
    *,
    year: int | None = None,
    statuses: Sequence[LedgerStatus] | None = None,
    limit: int | None = None,
) -> list[tuple[ReminderLedger, Person]]:
    """Ledger rows with their person, newest first, for the operator's listing."""
    query = _report_query(year, statuses).order_by(
        ReminderLedger.due_at.desc(), ReminderLedger.id.desc()
    )
    if limit is not None:
        query = query.limit(limit)
    return [(row, person) for row, person in session.execute(query)]  # type: ignore[misc]


def counts(session: Session, *, year: int | None = None) -> dict[LedgerStatus, int]:
    """Number of rows per status (the listing's summary line)."""
    query = select(ReminderLedger.status, func.count()).group_by(ReminderLedger.status)
    if year is not None:
        query = query.where(
            ReminderLedger.deadline_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31))
        )
    return {LedgerStatus(status): int(n) for status, n in session.execute(query)}

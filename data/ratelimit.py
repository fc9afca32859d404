"""Rate limits kept in the database, so every replica counts the same calls: a person's
Mini App saves, and the bot's Telegram send budget shared by the replicas."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from data.db import insert_for
from data.leader import deployment_schema, lock_key
from data.models import MiniAppSave, Person, Replica

#: Rows older than this are deleted when the person saves again: the table stays small.
KEEP = dt.timedelta(hours=1)
#: The send budget's advisory lock: one per deployment (`data.leader.lock_key`).
SEND_BUDGET_LOCK = "mittaribotti.send-budget"


def take_save_slot(
    session: Session, person_id: int, now: dt.datetime, *, limit: int, window: dt.timedelta
) -> bool:
    """Record one Mini App save of the person unless ``limit`` were made within ``window``.

    The person's row is locked first (PostgreSQL), so two replicas answering the same
    person at once count one after the other. False (nothing recorded) when over the limit.
    """
    session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    recent = session.scalar(
        select(func.count())
        .select_from(MiniAppSave)
        .where(MiniAppSave.person_id == person_id, MiniAppSave.at > now - window)
    )
    if (recent or 0) >= limit:
        return False
    if not recent:  # the first save of a burst clears the person's old rows
        session.execute(
            delete(MiniAppSave).where(
                MiniAppSave.person_id == person_id, MiniAppSave.at < now - KEEP
            )
        )
    session.add(MiniAppSave(person_id=person_id, at=now))
    session.flush()
    return True


# --- the bot's send budget, shared by the replicas -----------------------------------------


def allocate(total: int, demands: dict[str, int], floor: int = 1) -> dict[str, int]:
    """Share ``total`` sends per window between replicas (name → demand), max-min fair:
    each gets ``floor`` (so a replica whose work just began can send at once), then one
    send at a time goes to the replica that wants more and holds the fewest; what nobody
    wants is spread evenly (it is there for whoever wants it next). Deterministic: every
    replica computes the same shares from the same rows."""
    names = sorted(demands)
    if not names:
        return {}
    base = min(floor, total // len(names))
    got = dict.fromkeys(names, base)
    for _ in range(total - base * len(names)):
        wanting = [name for name in names if demands[name] > got[name]] or names
        got[min(wanting, key=lambda name: (got[name], name))] += 1
    return got


def share_send_budget(
    session: Session,
    name: str,
    *,
    total: int,
    demand: int,
    holding: int,
    now: dt.datetime,
    within: dt.timedelta,
) -> int:
    """Claim this replica's part of the bot's ``total`` sends per window in its heartbeat
    row (``replicas``: the claim is the heartbeat too — seen ``now`` — one write of the row
    per beat) and record its ``demand``; the number of sends per window it may use from now
    on.

    The claims of the replicas seen within ``within`` never add up to more than ``total``:
    the claims are made one at a time (a transaction-level advisory lock of this deployment
    on PostgreSQL, keyed like the leader's, `data.leader.lock_key`; SQLite serves one
    process), and a replica takes only what the others leave — its fair share by demand
    (`allocate`) or less, until the others give theirs back at their next round. A replica
    giving slots back keeps claiming ``holding`` of them (the sends that may still count in
    Telegram's window: its limit in effect until now, or more in flight) until its next
    round, so the slots another replica takes are free by then. A replica of the release
    before (``slots`` NULL) counts as holding its even share; this replica's own row before
    its first claim counts nothing."""
    if session.get_bind().dialect.name == "postgresql":
        key = lock_key(deployment_schema(session.connection()), SEND_BUDGET_LOCK)
        session.execute(select(func.pg_advisory_xact_lock(key)))
    rows = session.execute(
        select(Replica.name, Replica.slots, Replica.demand).where(Replica.seen_at > now - within)
    ).all()
    replicas = len(rows) + (name not in {row.name for row in rows})
    even = -(-total // replicas)
    others = {
        row.name: even if row.slots is None else row.slots for row in rows if row.name != name
    }
    previous = next((row.slots or 0 for row in rows if row.name == name), 0)
    demands = {row.name: row.demand or 0 for row in rows}
    demands[name] = demand
    fair = allocate(total, demands)[name]
    usable = min(fair, max(0, total - sum(others.values())))
    claim = max(usable, min(previous, holding))
    statement = insert_for(session, Replica).values(
        name=name, seen_at=now, slots=claim, demand=demand
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"seen_at": now, "slots": claim, "demand": demand},
        )
    )
    return usable

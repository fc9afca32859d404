"""One Telegram send budget for the whole deployment, shared by the replicas' demand.

Each replica claims, in its heartbeat row, how many of Telegram's 30 sends per window it may
use (``data.ratelimit.share_send_budget``, in the outbox sender's background round). The
claims follow demand — a replica with nothing to send does not sit on a share another one
queues for — and never add up to more than 30, also while they move.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from data import outbox, ratelimit
from data.db import is_lock_wait, make_engine, make_sessionmaker, migrate, transaction
from data.models import Replica
from delivery.outbox import Sender
from delivery.pacing import PacingLimiter
from localtg import LocalBotApi

from ..conftest import Database, scratch_schema
from .conftest import VirtualTime, replica_senders, write_messages

TOTAL = 30
GONE = dt.timedelta(seconds=10)
NAMES = ("a", "b", "c", "d")


def test_the_budget_goes_to_the_replicas_that_want_it_and_is_spread_when_nobody_does() -> None:
    assert ratelimit.allocate(TOTAL, dict.fromkeys(NAMES, 0)) == {"a": 8, "b": 8, "c": 7, "d": 7}
    assert ratelimit.allocate(TOTAL, dict.fromkeys(NAMES, 50)) == {"a": 8, "b": 8, "c": 7, "d": 7}
    busy = ratelimit.allocate(TOTAL, {"a": 50, "b": 0, "c": 0, "d": 0})
    assert busy == {"a": 27, "b": 1, "c": 1, "d": 1}
    some = ratelimit.allocate(TOTAL, {"a": 50, "b": 4, "c": 0, "d": 0})
    assert some == {"a": 24, "b": 4, "c": 1, "d": 1}
    assert ratelimit.allocate(TOTAL, {"a": 3, "b": 3}) == {"a": 15, "b": 15}


def _claims(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {row.name: row.slots or 0 for row in session.scalars(select(Replica))}


def test_claims_follow_demand_and_never_add_up_to_more_than_the_budget(db: Database) -> None:
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    demand = dict.fromkeys(NAMES, 0)
    usable = dict.fromkeys(NAMES, 0)  # what each replica's limiter allows
    claims_seen: list[dict[str, int]] = []

    def round_of(name: str) -> None:
        nonlocal now
        now += dt.timedelta(milliseconds=250)
        with db.transaction() as session:
            outbox.heartbeat(session, name, now=now)
            usable[name] = ratelimit.share_send_budget(
                session,
                name,
                total=TOTAL,
                demand=demand[name],
                # The limiter in effect until now (no more in flight in this test).
                holding=usable[name],
                now=now,
                within=GONE,
            )
        claims = _claims(db)
        claims_seen.append(claims)
        # What the limiters allow never exceeds the claims, and the claims the budget.
        assert all(usable[n] <= claims[n] for n in claims)
        assert sum(claims.values()) <= TOTAL

    def rounds(times: int = 3) -> None:
        for _ in range(times):
            for name in NAMES:
                round_of(name)

    rounds()
    assert usable == {"a": 8, "b": 8, "c": 7, "d": 7}  # idle: spread evenly
    demand["a"] = 60  # one replica gets all the work
    rounds()
    assert usable == {"a": 27, "b": 1, "c": 1, "d": 1}
    demand["c"] = 60  # a second one too: they share what the idle ones do not want
    rounds()
    assert usable == {"a": 14, "b": 1, "c": 14, "d": 1}
    demand.update(a=0, c=0)  # the work is done: spread evenly again
    rounds()
    assert usable == {"a": 8, "b": 8, "c": 7, "d": 7}
    assert max(sum(claims.values()) for claims in claims_seen) == TOTAL


def test_a_replica_gone_leaves_its_slots_to_the_others(db: Database) -> None:
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    got: dict[str, int] = {}
    # The second replica comes while the first holds all 30: the first gives half back at
    # its next round and keeps claiming it until the one after, then the second takes it.
    for step, name in enumerate(("a", "b") * 3):
        with db.transaction() as session:
            outbox.heartbeat(session, name, now=now + dt.timedelta(seconds=step))
            got[name] = ratelimit.share_send_budget(
                session,
                name,
                total=TOTAL,
                demand=60,
                holding=got.get(name, 0),
                now=now + dt.timedelta(seconds=step),
                within=GONE,
            )
    assert got == {"a": 15, "b": 15}
    later = now + GONE + dt.timedelta(seconds=5)  # b has not been seen since
    for _ in range(2):
        with db.transaction() as session:
            outbox.heartbeat(session, "a", now=later)
            got["a"] = ratelimit.share_send_budget(
                session, "a", total=TOTAL, demand=60, holding=got["a"], now=later, within=GONE
            )
    assert got["a"] == TOTAL


async def test_a_limiter_sends_nothing_past_the_time_its_slots_were_held_for() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(clock=time, sleep=time.sleep)
    limiter.set_slots(3, for_seconds=2.0)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(time.now)
        return True

    async def send(chat_id: int) -> None:
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, {})

    for chat in range(3):
        await send(chat)
    assert len(sent) == 3 and sent[-1] - sent[0] < 1.0  # 3 per window: at 10/s
    time.now += 3.0  # past the 2 s the slots were held for
    late = asyncio.create_task(send(99))
    while time.now < 1000.0 + 8.0:  # the slots ran out: it waits however long it waits
        await asyncio.sleep(0)
        assert not late.done()
        time.now += 0.05
    limiter.set_slots(3, for_seconds=2.0)  # claimed again
    await late
    assert sent[-1] >= 1008.0


async def test_one_busy_replica_of_four_takes_the_slots_the_idle_ones_leave_without_a_429(
    db: Database, stack: AsyncExitStack
) -> None:
    """Four replicas (each a real Application with its own limiter and outbox sender, as four
    processes would have) on one database and a fake Bot API answering 429 past 30 messages
    a second: one of them holds 60 replies, the others nothing. Their claims (each
    replica's own loop) move the idle ones' slots to the busy one, and never exceed the 30."""
    if db.backend != "postgresql":
        pytest.skip("several replicas run on PostgreSQL only; one process keeps the budget")
    api = LocalBotApi(enforce_limits=True)
    chats = range(7200, 7260)
    for chat_id in chats:
        api.user(chat_id, f"P{chat_id}", has_started=True)
    senders = await replica_senders(stack, db, api, 4)
    limiters = [one.application.bot.rate_limiter for one in senders]
    assert all(isinstance(limiter, PacingLimiter) for limiter in limiters)
    # The first replica's first round sees only itself and claims all 30; it gives 23 back
    # at its second, still claiming them until its third (its sends of the window before
    # may still count), and then the others take theirs: an even share each.
    for one in senders * 3:
        await one.claim_budget()
    assert sorted(limiter.slots for limiter in limiters) == [7, 7, 8, 8]
    busy = senders[0]
    rows = write_messages(db, busy, chats)
    delivering = asyncio.ensure_future(asyncio.gather(*(busy.deliver([row]) for row in rows)))
    shares = []
    while not delivering.done():  # the background rounds go on meanwhile
        for one in senders:
            await one.claim_budget()  # as its own loop does, beside the background round
            assert sum(_claims(db).values()) <= TOTAL
        shares.append([limiter.slots for limiter in limiters])
        await asyncio.wait({delivering}, timeout=0.2)
    await delivering

    assert api.rate_limit_errors == 0
    assert busy.sent == len(chats)
    # The busy replica got all but the one slot each idle replica keeps.
    assert [TOTAL - 3, 1, 1, 1] in shares


def test_deployments_in_two_schemas_of_one_database_claim_the_budget_each(db: Database) -> None:
    """The claims' advisory lock is the deployment's (keyed on the schema the bot's own
    sessions see, as the leader's): a claim under way in one schema holds up the replicas
    of its own deployment, never another deployment's in another schema of the database."""
    if db.backend != "postgresql":
        pytest.skip("the claims are made one at a time by a PostgreSQL advisory lock")
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)

    def claim(session: object, name: str) -> int:
        return ratelimit.share_send_budget(
            session,  # type: ignore[arg-type]
            name,
            total=TOTAL,
            demand=0,
            holding=0,
            now=now,
            within=GONE,
        )

    with scratch_schema() as url:
        other = make_engine(url, lock_timeout_ms=500)
        same = make_engine(db.url, lock_timeout_ms=500)
        try:
            migrate(other)
            with db.transaction() as here:  # this claim's lock is held until its commit
                assert claim(here, "a") == TOTAL
                with transaction(make_sessionmaker(other)) as there:
                    assert claim(there, "b") == TOTAL  # another deployment: its own budget
                with (
                    pytest.raises(OperationalError) as waited,
                    transaction(make_sessionmaker(same)) as beside,
                ):
                    claim(beside, "c")  # a replica of the same deployment waits its turn
                assert is_lock_wait(waited.value)
        finally:
            other.dispose()
            same.dispose()


async def test_the_budget_claim_is_the_heartbeat_one_write_of_the_row_per_beat(
    db: Database, stack: AsyncExitStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a replica claims its part of the send budget (PostgreSQL), each claim is its
    heartbeat: the background round writes no heartbeat of its own and the claim writes the
    row once — it was written three times a beat (the round's heartbeat, the claim's, and
    the claim itself)."""
    if db.backend != "postgresql":
        pytest.skip("the send budget is claimed on PostgreSQL only")

    async def idle(self: Sender) -> None:  # the loops: driven by hand below
        await asyncio.Event().wait()

    monkeypatch.setattr(Sender, "run", idle)
    monkeypatch.setattr(Sender, "_claim_loop", idle)
    [one] = await replica_senders(stack, db, LocalBotApi(), 1)
    one.start()
    stack.push_async_callback(one.stop)
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT INTO REPLICAS", "UPDATE REPLICAS")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        seen = []
        for _ in range(3):  # three beats: a round and a claim each
            await one.sweep()
            await one.claim_budget()
            with db.session() as session:
                seen.append(session.scalar(select(Replica.seen_at).where(Replica.name == one.name)))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(writes) == 3
    assert seen == sorted(seen) and len(set(seen)) == 3  # the claims keep the row alive

"""The ledger's claims on both databases: at most one winner per key, also across processes."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from data import ledger, people
from data.models import LedgerStatus, Role

from ..conftest import Database

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)
DUE = NOW
DAY = dt.date(2026, 11, 30)


def _people(db: Database, count: int) -> list[int]:
    with db.transaction() as s:
        return [
            people.ensure_person(s, 5000 + n, name=f"P{n}", roles={Role.COORDINATOR}).id
            for n in range(count)
        ]


def _key(person_id: int, offset: int = 14) -> ledger.LedgerKey:
    return ledger.LedgerKey("valmis", DAY, offset, person_id)


def _claim(db: Database, person_id: int, claimer: str = "a", now: dt.datetime = NOW) -> int | None:
    with db.transaction() as s:
        return ledger.claim_new(
            s,
            _key(person_id),
            audience="coordinator",
            kind=ledger.KIND_SCHEDULED,
            due_at=DUE,
            now=now,
            claimer=claimer,
        )


def test_the_insert_is_the_claim_and_only_the_first_wins(db: Database) -> None:
    (pid,) = _people(db, 1)
    first = _claim(db, pid, "a")
    assert first is not None
    assert _claim(db, pid, "b") is None
    with db.session() as s:
        (row,) = ledger.rows_for(s, person_id=pid)
        assert (row.status, row.claimed_by, row.attempts) == (LedgerStatus.CLAIMED, "a", 1)
        assert row.due_at == DUE and row.claimed_at == NOW
    with db.transaction() as s:
        assert ledger.mark_sent(s, first, now=NOW)
        assert not ledger.mark_sent(s, first, now=NOW)  # only a claimed row can be marked
        # A skip never overwrites what happened.
        assert not ledger.record_skipped(
            s, _key(pid), audience="coordinator", kind="scheduled", due_at=DUE, now=NOW, reason="x"
        )
    with db.session() as s:
        assert ledger.get(s, first).status is LedgerStatus.SENT  # type: ignore[union-attr]


def test_a_retry_is_claimed_once_and_only_when_due(db: Database) -> None:
    (pid,) = _people(db, 1)
    row_id = _claim(db, pid)
    assert row_id is not None
    retry_at = NOW + dt.timedelta(minutes=5)
    with db.transaction() as s:
        ledger.mark_failed(s, row_id, now=NOW, error="NetworkError: Bad Gateway", retry_at=retry_at)
    with db.transaction() as s:
        assert ledger.due_again(s, now=NOW) == []
        assert not ledger.claim_due(s, row_id, expected=LedgerStatus.FAILED, now=NOW, claimer="a")
        assert ledger.next_due_again(s) == retry_at
    later = retry_at + dt.timedelta(seconds=1)
    with db.transaction() as s:
        assert [r.id for r in ledger.due_again(s, now=later)] == [row_id]
        assert ledger.claim_due(s, row_id, expected=LedgerStatus.FAILED, now=later, claimer="a")
    with db.transaction() as s:
        assert not ledger.claim_due(s, row_id, expected=LedgerStatus.FAILED, now=later, claimer="b")
        row = ledger.get(s, row_id)
        assert row is not None and row.attempts == 2 and row.next_attempt_at is None


def test_a_claim_left_before_the_call_is_made_due_again_at_its_claim_time(
    db: Database,
) -> None:
    old, fresh = _people(db, 2)
    _claim(db, old, "dead", now=NOW - dt.timedelta(minutes=30))
    _claim(db, fresh, "alive", now=NOW - dt.timedelta(minutes=1))
    with db.transaction() as s:
        released = ledger.release_stale_claims(
            s, now=NOW, older_than=NOW - dt.timedelta(minutes=10)
        )
        assert released == 1
    with db.session() as s:
        (stale,) = ledger.rows_for(s, person_id=old)
        assert stale.status is LedgerStatus.FAILED and "not delivered" in (stale.error or "")
        assert stale.next_attempt_at == NOW - dt.timedelta(minutes=30)
        assert [r.id for r in ledger.due_again(s, now=NOW)] == [stale.id]
        (alive,) = ledger.rows_for(s, person_id=fresh)
        assert alive.status is LedgerStatus.CLAIMED


def test_only_the_current_claim_can_start_the_call(db: Database) -> None:
    (pid,) = _people(db, 1)
    row_id = _claim(db, pid, "slow")
    assert row_id is not None
    with db.transaction() as s:
        # Another process releases the slow one's claim and claims the row itself.
        assert ledger.release_stale_claims(
            s, now=NOW, older_than=NOW + dt.timedelta(1), claimer="new"
        )
        assert ledger.claim_due(s, row_id, expected=LedgerStatus.FAILED, now=NOW, claimer="new")
    with db.transaction() as s:
        assert not ledger.mark_in_flight(s, row_id, claimer="slow", attempts=1, now=NOW)
        assert not ledger.mark_in_flight(s, row_id, claimer="new", attempts=1, now=NOW)
        assert ledger.mark_in_flight(s, row_id, claimer="new", attempts=2, now=NOW)
        assert not ledger.mark_in_flight(s, row_id, claimer="new", attempts=2, now=NOW)
        row = ledger.get(s, row_id)
        assert row is not None and row.status is LedgerStatus.IN_FLIGHT


def test_a_send_interrupted_in_flight_becomes_uncertain_and_is_never_due(db: Database) -> None:
    old, fresh = _people(db, 2)
    for pid, at in ((old, NOW - dt.timedelta(minutes=30)), (fresh, NOW)):
        row_id = _claim(db, pid, "p", now=at)
        assert row_id is not None
        with db.transaction() as s:
            assert ledger.mark_in_flight(s, row_id, claimer="p", attempts=1, now=at)
    with db.transaction() as s:
        settled = ledger.settle_interrupted_sends(
            s, now=NOW, older_than=NOW - dt.timedelta(minutes=10)
        )
        assert settled == 1
        assert ledger.release_stale_claims(s, now=NOW, older_than=NOW + dt.timedelta(1)) == 0
    with db.session() as s:
        (uncertain,) = ledger.rows_for(s, person_id=old)
        assert uncertain.status is LedgerStatus.UNCERTAIN
        assert "delivery unknown" in (uncertain.error or "")
        assert ledger.due_again(s, now=NOW + dt.timedelta(days=1)) == []
        assert [r.id for r, _p in ledger.uncertain_rows(s, year=2026)] == [uncertain.id]
        (alive,) = ledger.rows_for(s, person_id=fresh)
        assert alive.status is LedgerStatus.IN_FLIGHT
    with db.transaction() as s:  # a slow owner's real answer overrides "uncertain"
        assert ledger.mark_sent(s, uncertain.id, now=NOW)


def test_snooze_once_for_the_owner_only(db: Database) -> None:
    owner, other = _people(db, 2)
    row_id = _claim(db, owner)
    assert row_id is not None
    until = NOW + dt.timedelta(days=1)
    with db.transaction() as s:
        # Not delivered yet: nothing to snooze.
        assert (
            ledger.snooze(s, row_id, person_id=owner, until=until, until_day=until.date(), now=NOW)
            is ledger.SnoozeOutcome.INVALID
        )
        ledger.mark_sent(s, row_id, now=NOW)
    with db.transaction() as s:
        assert (
            ledger.snooze(s, row_id, person_id=other, until=until, until_day=until.date(), now=NOW)
            is ledger.SnoozeOutcome.INVALID
        )
        assert (
            ledger.snooze(s, 987654, person_id=owner, until=until, until_day=until.date(), now=NOW)
            is ledger.SnoozeOutcome.INVALID
        )
        assert (
            ledger.snooze(s, row_id, person_id=owner, until=until, until_day=until.date(), now=NOW)
            is ledger.SnoozeOutcome.SNOOZED
        )
    with db.transaction() as s:
        assert (
            ledger.snooze(s, row_id, person_id=owner, until=until, until_day=until.date(), now=NOW)
            is ledger.SnoozeOutcome.ALREADY
        )
        row = ledger.get(s, row_id)
        assert row is not None
        assert (row.status, row.kind, row.next_attempt_at) == (
            LedgerStatus.SNOOZED,
            "snooze",
            until,
        )


def test_threads_racing_for_the_same_keys_get_disjoint_winners(db: Database) -> None:
    ids = _people(db, 40)
    won: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def race(name: str) -> None:
        barrier.wait()
        won[name] = [pid for pid in ids if _claim(db, pid, name) is not None]

    threads = [threading.Thread(target=race, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [pid for claimed in won.values() for pid in claimed]
    assert sorted(winners) == sorted(ids)  # every key claimed, none twice


_RACER = textwrap.dedent(
    """
    import datetime as dt, sys
    from data import ledger
    from data.db import make_engine, make_sessionmaker, transaction
    url, ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
    sessions = make_sessionmaker(make_engine(url))
    now = dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start claiming when the test says go
    won = []
    for pid in ids:
        with transaction(sessions) as s:
            key = ledger.LedgerKey("valmis", dt.date(2026, 11, 30), 14, pid)
            if ledger.claim_new(s, key, audience="coordinator", kind="scheduled",
                                due_at=now, now=now, claimer=sys.argv[3]) is not None:
                won.append(pid)
    print(",".join(map(str, won)))
    """
)


def test_two_processes_racing_on_one_database_send_each_key_once(db: Database) -> None:
    ids = _people(db, 30)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, db.url, ",".join(map(str, order)), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        # One goes forwards, one backwards: they collide in the middle.
        for name, order in (("p1", ids), ("p2", list(reversed(ids))))
    ]
    for process in processes:  # wait until both have imported and connected
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outputs.append([int(x) for x in out.strip().split(",") if x])
    assert outputs[0] and outputs[1], "both processes must have won some keys (a real race)"
    assert not set(outputs[0]) & set(outputs[1])
    assert sorted(outputs[0] + outputs[1]) == sorted(ids)
    with db.session() as s:
        assert len(ledger.rows_for(s, deadline_code="valmis")) == len(ids)


def test_an_uncertain_reminder_whose_button_is_pressed_can_be_snoozed(db: Database) -> None:
    (pid,) = _people(db, 1)
    row_id = _claim(db, pid, "p")
    assert row_id is not None
    until = NOW + dt.timedelta(days=1)
    with db.transaction() as s:
        assert ledger.mark_in_flight(s, row_id, claimer="p", attempts=1, now=NOW)
        assert ledger.mark_uncertain(s, row_id, now=NOW, error="TimedOut")
    with db.transaction() as s:  # the press proves the message arrived
        outcome = ledger.snooze(
            s, row_id, person_id=pid, until=until, until_day=until.date(), now=NOW
        )
        assert outcome is ledger.SnoozeOutcome.SNOOZED

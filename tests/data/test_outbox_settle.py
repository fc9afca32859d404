"""Which rows left *sending* are taken for a dead sender's (``data.outbox.settle_interrupted``).

On PostgreSQL a replica's heartbeat is its budget claim, made on a task of its own; its
first background round may run before that claim. The CI of 7fc8e93 saw the round settle
the replica's own first replies as *uncertain* ("row 1 was in flight when its sender
stopped" 0.2 s after the start): they were never sent, and 40 people waited in vain.
"""

from __future__ import annotations

import datetime as dt

from data import outbox

from ..conftest import Database

NOW = dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)
GONE = dt.timedelta(seconds=20)


def _sending(db: Database, claimer: str, chat_id: int) -> int:
    with db.transaction() as session:
        (row_id,) = outbox.add(
            session,
            [(chat_id, "sendMessage", {"chat_id": chat_id, "text": "Vaihe 3/6"})],
            update_id=None,
            claimer=claimer,
            now=NOW,
            lease=LEASE,
        )
        assert outbox.start_sending(
            session,
            row_id,
            claimer=claimer,
            now=NOW,
            lease=LEASE,
            chat_id=chat_id,
            spacing=dt.timedelta(seconds=1),
            wait_spacing=False,
        )
    return row_id


def test_a_replica_before_its_first_heartbeat_keeps_its_own_sends_but_settles_a_dead_ones(
    db: Database,
) -> None:
    mine = _sending(db, "new-replica", 8101)
    theirs = _sending(db, "dead-replica", 8102)  # never seen: no heartbeat row at all
    with db.transaction() as session:
        settled = outbox.settle_interrupted(
            session, now=NOW, alive_since=NOW - GONE, me="new-replica"
        )
    assert settled == [theirs]
    with db.session() as session:
        assert outbox.counts(session) == {"sending": 1, "uncertain": 1}
    # Its own row is still judged by its lease: past it, the call is taken as lost.
    with db.transaction() as session:
        late = NOW + LEASE + dt.timedelta(seconds=1)
        assert outbox.settle_interrupted(
            session, now=late, alive_since=late - GONE, me="new-replica"
        ) == [mine]

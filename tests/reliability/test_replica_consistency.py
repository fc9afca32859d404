"""Concurrent saves of one entity from several webhook replicas end in one save, never a union.

Issue 19's consistency run in small: real `python -m bot run` replicas on one PostgreSQL
database, contacts two or three to a service entity, each saving its entity over and over
through whichever replica the next update goes to (``bench/replicas_bench.py --saves``,
whose machinery this is; the full run there is 4 replicas × 100 contacts × 20 s and prints
its verdict). Every entity as stored must equal its last confirmed save row for row.

The size is set by the suite's time budget (this directory runs on its own after the main
suite): 2 replicas × 36 contacts (two to an entity) × 10 s, about a minute with the
replicas' start-up. Nothing is timed: the contacts wait for each answer (30 s at most) and
the verdict is about what the database holds. On a loaded machine each contact gets
through about one save, so each entity has one confirmed save and its other contacts'
saves refused as changed elsewhere: what is proven is that the refused ones left nothing
behind (no union); the bench's longer run adds saves in sequence.
"""

from __future__ import annotations

import os

import pytest

from bench.replicas_bench import bench

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.mark.skipif(
    not PG_URL.startswith("postgresql"), reason="replicas share a PostgreSQL database"
)
def test_every_entity_saved_concurrently_through_two_replicas_is_its_last_confirmed_save() -> None:
    run = bench(PG_URL, replicas=2, count=36, seconds=10.0, think=1.1, saves=True)

    confirmed = [save for save in run.saves if save.outcome == "confirmed"]
    assert len({save.entity for save in confirmed}) >= 10, run.why[:3]
    assert any(save.outcome == "refused" for save in run.saves) or len(confirmed) > 18
    assert run.mismatches == []

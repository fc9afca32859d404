"""Concurrent saves of one entity from several webhook replicas end in one save, never a union.

Issue 19's consistency run in small: real `python -m bot run` replicas on one PostgreSQL
database, contacts two to a service entity, each saving its entity several times with
other answers each time (rows added and removed, not only counts changed), every update
through the next replica in turn (``bench/replicas_bench.py --saves``, whose machinery this
is; the full run there is 4 replicas × 100 contacts × 20 s and prints its verdict). Every
fourth contact makes one of its saves through the Excel import (``/excel``, the workbook
changed and sent back, *Tallenna* under its change summary). Every entity as stored must
equal its last confirmed save row for row: never a union of two saves, never an older one.

The size is set by the suite's time budget (this directory runs on its own after the main
suite): 4 replicas × 36 contacts × at least 3 saves each, a few minutes on a loaded machine.
Nothing is timed: the contacts wait for each answer (30 s at most) and the verdict is about
what the database holds.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from bench.replicas_bench import bench

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
CONTACTS = 36
SAVES = 3


@pytest.mark.skipif(
    not PG_URL.startswith("postgresql"), reason="replicas share a PostgreSQL database"
)
def test_every_entity_saved_again_and_again_through_four_replicas_is_its_last_confirmed_save() -> (
    None
):
    run = bench(
        PG_URL,
        replicas=4,
        count=CONTACTS,
        seconds=5.0,
        think=1.1,
        saves=True,
        saves_per_contact=SAVES,
        excel=True,
    )

    pressed = Counter(save.contact for save in run.saves)
    assert sorted(pressed) == list(range(CONTACTS)) and min(pressed.values()) >= SAVES, pressed
    confirmed = [save for save in run.saves if save.outcome == "confirmed"]
    per_entity = Counter(save.entity for save in confirmed)
    assert len(per_entity) >= 10, run.why[:3]
    # Entities saved again and again, their saves through more than one replica.
    again = [e for e, n in per_entity.items() if n >= 3]
    assert again, per_entity
    assert any(len({s.replica for s in confirmed if s.entity == e}) > 1 for e in again)
    assert any(save.path == "excel" and save.outcome == "confirmed" for save in run.saves)
    assert run.mismatches == []

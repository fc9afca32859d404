"""A rolling upgrade across a migration: two replicas of this release serve; the next
release migrates the database (an additive change declared compatible); one old replica
crashes mid-way and is restarted on the new schema; every message is answered.

The figures (messages answered / lost) are printed for the issue note (pytest -s).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from data.db import make_engine
from localtg import LocalBotApi
from localtg.http import ServerThread
from tests.data.test_expand_contract import HEAD, next_release

from ..conftest import BACKENDS, PG_URL, scratch_schema
from .processes import TOKEN, start_bot
from .test_webhook_server import _say

PEOPLE = 28
CEILING = 180


@pytest.fixture(params=[b for b in BACKENDS if b == "postgresql"] or ["none"])
def shared(request: pytest.FixtureRequest) -> Iterator[tuple[str, Engine]]:
    """Several replicas share one database: PostgreSQL (SQLite runs one process)."""
    if request.param == "none" or not PG_URL:
        pytest.skip("replicas share a PostgreSQL database (TEST_DATABASE_URL)")
    with scratch_schema("t_roll") as url:
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()


def test_a_rolling_upgrade_with_an_old_replica_restarted_mid_way_answers_everyone(
    shared: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = shared
    api = LocalBotApi(token=TOKEN, settle_timeout=CEILING)
    ids = [47_000 + n for n in range(PEOPLE)]
    with ServerThread(api) as server:
        a = start_bot(server.base_url, url, tmp_path / "a.log")
        a.wait_until_ready()
        b = start_bot(server.base_url, url, tmp_path / "b.log")
        b.wait_until_ready()
        restarted = None
        try:
            statuses = []
            for n, person in enumerate(ids):
                if n == PEOPLE // 4:
                    next_release(engine, declares=HEAD)  # the new release's migration Job
                if n == PEOPLE // 2:
                    # The answers already given arrive first: a reply in its HTTP call at the
                    # kill is uncertain and never sent again (tests/bot/test_delivery_process
                    # covers that); under load the kill often landed in one.
                    for earlier in ids[:n]:
                        server.run_sync(
                            api.user(earlier).wait_for_message(contains="kutsulinkki"), CEILING
                        )
                    a.process.kill()  # an old replica crashes (OOM, node drain) mid-rollout
                    a.process.wait(timeout=CEILING)
                    restarted = start_bot(server.base_url, url, tmp_path / "a2.log", port=a.port)
                target = b if n % 2 or (restarted is None and n >= PEOPLE // 2) else a
                if target is a and restarted is not None:
                    restarted.wait_until_ready()
                    target = restarted
                statuses.append(server.run_sync(_say(api, person, "/start", target.webhook))[-1])
            for person in ids:
                server.run_sync(api.user(person).wait_for_message(contains="kutsulinkki"), CEILING)
        finally:
            for replica in (a, b, restarted):
                if replica is not None:
                    replica.stop()
    answered = sum(1 for p in ids if any("kutsulinkki" in t for t in api.user(p).texts()))
    assert statuses == [200] * PEOPLE
    assert answered == PEOPLE
    assert restarted is not None and "Traceback" not in restarted.log()
    print(
        f"rolling upgrade across a migration, old replica killed and restarted on the new "
        f"schema: {answered}/{PEOPLE} answered, {PEOPLE - answered} lost"
    )

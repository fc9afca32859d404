"""Reminders go through the outbox: a kill -9 in the middle of a reminder run loses nothing
and doubles nothing (issue 19; ``delivery.courier``, ``data.ledger`` *queued*).

A real process (``tests.bot.processes.start_clocked``: the Application of ``python -m bot
run`` on the test's clock) sends the 14-day reminder to 200 coordinators; it is killed -9
while the run is going on, at a moment every message in a Telegram call has reached Telegram
(those become *uncertain*, never sent again; a call cut before it reached Telegram is the
failover test's part). After the restart every one of them has the reminder exactly once,
and the ledger says *sent* or, for those calls, *uncertain*: the rows handed to the outbox
before the kill are delivered from the outbox, the ones claimed but not handed over are sent
again, and the rest go out with the start-up catch-up.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from data import ledger, outbox, people
from data.models import LedgerStatus, OutboxMessage, Role
from localtg import LocalBotApi
from localtg.http import ServerThread

from ..bot.processes import CEILING, TOKEN, start_clocked, wait_for
from ..conftest import Database
from ..killing import kill_when_calm
from .conftest import YEAR, local

COUNT = 200
FIRST = 7600


def _ledger(db: Database) -> Counter[LedgerStatus]:
    with db.session() as s:
        return Counter(r.status for r in ledger.rows_for(s, deadline_code="listatekstit"))


def _outbox(db: Database) -> dict[str, int]:
    with db.session() as s:
        return outbox.counts(s)


def _in_call(db: Database) -> set[int]:
    with db.session() as s:
        return set(
            s.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.status == outbox.SENDING))
        )


def _kill_between_calls(
    process: subprocess.Popen[bytes], db: Database, api: LocalBotApi
) -> Counter[LedgerStatus]:
    """kill -9 when every reminder marked *sending* has reached Telegram already (its
    answer not yet recorded: after the kill it is *uncertain*, and delivered once), under
    the outbox's lock (``tests.killing``); the ledger then. A call cut before it reached
    Telegram would be a reminder lost as uncertain, which no process can tell from a
    delivered one: the failover test's part."""

    def arrived(sending: list[tuple[int, int]]) -> bool:
        reached = {int(c.params["chat_id"]) for c in api.calls_to("sendMessage")}
        return {chat for _, chat in sending} <= reached

    kill_when_calm(process, db, arrived)
    return _ledger(db)


def test_a_kill_during_a_reminder_run_delivers_every_due_reminder_exactly_once_after_restart(
    db: Database, tmp_path: Path
) -> None:
    api = LocalBotApi(token=TOKEN)
    with db.transaction() as s:
        for n in range(COUNT):
            person = people.ensure_person(
                s, FIRST + n, name=f"P{n}", language="fi", roles={Role.COORDINATOR}
            )
            person.created_at = local(YEAR, 1, 2)
    users = [api.user(FIRST + n, f"P{n}", has_started=True) for n in range(COUNT)]
    # The 14-day reminder of 20.11. is due at 9.00, 15 s after the start.
    fake_now = local(YEAR, 11, 6, 8, 59) + dt.timedelta(seconds=45)
    real_start = time.time()
    with ServerThread(api) as server:
        log_path = tmp_path / "bot.log"

        def start() -> subprocess.Popen[bytes]:
            return start_clocked(
                server.base_url,
                db.url,
                log_path,
                fake_now=fake_now,
                real_start=real_start,
                extra_env={"DELIVERY_LEASE_SECONDS": "2"},
            )

        def delivered() -> int:
            return sum(1 for c in api.calls_to("sendMessage") if c.status == 200)

        first = start()
        try:
            wait_for(lambda: delivered() >= 20, CEILING, "the reminder run to be under way")
            at_kill = _kill_between_calls(first, db, api)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        sent_before = delivered()
        assert sent_before < COUNT, "the kill came too late to interrupt the run"
        second = start()
        try:
            wait_for(
                lambda: (
                    all(user.messages for user in users)
                    and set(_ledger(db)) <= {LedgerStatus.SENT, LedgerStatus.UNCERTAIN}
                    and sum(_ledger(db).values()) == COUNT
                    and _outbox(db).get("pending", 0) == 0
                ),
                CEILING,
                f"every reminder after the restart (ledger {_ledger(db)}, outbox {_outbox(db)})",
            )
            time.sleep(2)  # anything still on its way would arrive (nothing may, twice)
        finally:
            if second.poll() is None:
                second.terminate()
                second.wait(timeout=CEILING)
    per_chat = Counter(
        c.params.get("chat_id") for c in api.calls_to("sendMessage") if c.status == 200
    )
    assert sorted(per_chat.values()) == [1] * COUNT, per_chat
    assert [len(user.messages) for user in users] == [1] * COUNT
    # Uncertain: only the calls cut by the kill after they reached Telegram (delivered).
    assert _ledger(db)[LedgerStatus.UNCERTAIN] == _outbox(db).get("uncertain", 0) <= 16
    print(
        f"reminder kill: {sent_before}/{COUNT} delivered at the kill, ledger then "
        f"{dict(at_kill)}; after the restart {COUNT}/{COUNT} exactly once"
    )

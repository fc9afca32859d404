"""Messages to other people are durable (issue 19, ``delivery.notices``).

A real ``python -m bot run`` process over HTTP: the contacts of four divisions submit their
reports (/valmis) while Telegram refuses every message to the three coordinators (502,
known not delivered); the process is killed -9 with the reports submitted and the
coordinators' messages still to go. The restarted process tells each coordinator of each
submission exactly once — on main nobody was told: the handler called Telegram after the
submit's commit, and a failed message was only logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from data import catalog, people, progress
from data.models import Role
from localtg import LocalBotApi, LocalUser
from localtg.http import ServerThread

from ..conftest import Database
from .processes import CEILING, TOKEN, start_polling, stop, wait_for
from .test_delivery_process import FAST, _kill_between_calls, _outbox
from .test_submit import SUBMIT, SUBMIT_EMPTY

DIVISIONS = ("KUVA", "KYMP", "SOTE", "KASKO")
CONTACT = 74_000
COORDINATOR = 74_100
COORDINATORS = 3
#: The process runs on real time: this year's round (Helsinki).
YEAR = dt.datetime.now(ZoneInfo("Europe/Helsinki")).year
TOLD = "raporttinsa."  # "… lähetti vuoden <year> raporttinsa."
SUBMITTED = "raportti on lähetetty"


def _people(db: Database) -> None:
    with db.transaction() as session:
        for n, code in enumerate(DIVISIONS):
            division = catalog.division_by_code(session, code)
            assert division is not None
            people.ensure_person(
                session,
                CONTACT + n,
                name=f"Yhteyshenkilö {n}",
                roles={Role.CONTACT},
                division_id=division.id,
            )
        for n in range(COORDINATORS):
            people.ensure_person(
                session, COORDINATOR + n, name=f"Koordinaattori {n}", roles={Role.COORDINATOR}
            )


async def _submit(user: LocalUser) -> None:
    """/valmis, "submit", "yes, submit it empty" — each after the bot's answer, as people do."""
    await user.send("/valmis")
    await user.wait_for_message(contains="Raportin lähettäminen", timeout=CEILING)
    await user.press(SUBMIT)
    await user.wait_for_message(contains="Lähetetäänkö tyhjä raportti", timeout=CEILING)
    await user.press(SUBMIT_EMPTY)
    await user.wait_for_message(contains=SUBMITTED, timeout=CEILING)


def _told(user: LocalUser) -> list[str]:
    """The first line of each message telling this coordinator of a submission."""
    return sorted(t.splitlines()[0] for t in user.texts() if TOLD in t)


def test_a_kill_after_reports_were_submitted_still_tells_every_coordinator_exactly_once(
    db: Database, tmp_path: Path
) -> None:
    _people(db)
    api = LocalBotApi(token=TOKEN, settle_timeout=60)
    contacts = [api.user(CONTACT + n, f"Yhteys{n}", language_code="fi") for n in range(4)]
    coordinators = [
        api.user(COORDINATOR + n, f"Koord{n}", language_code="fi", has_started=True)
        for n in range(COORDINATORS)
    ]
    for user in coordinators:
        api.fail_next("sendMessage", "502", count=100_000, chat_id=user.id)
    refused = {str(user.id) for user in coordinators}

    def tried_every_notice() -> bool:
        failed = [
            c for c in api.calls if c.status == 502 and str(c.params.get("chat_id")) in refused
        ]
        return len({(c.params.get("chat_id"), c.params.get("text")) for c in failed}) == 12

    with ServerThread(api) as server, (tmp_path / "bot.log").open("w") as log:
        first = start_polling(server.base_url, db.url, log, extra_env=FAST)
        try:

            async def everyone_submits() -> None:
                await asyncio.gather(*(_submit(user) for user in contacts))

            server.run_sync(everyone_submits(), timeout=CEILING)
            wait_for(tried_every_notice, CEILING, "each coordinator's message to be tried")
            _kill_between_calls(first, db)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        before = [_told(user) for user in coordinators]
        submitted = [report_state_of(db, code) for code in DIVISIONS]
        api.faults.rules.clear()
        second = start_polling(server.base_url, db.url, log, extra_env=FAST)
        try:
            wait_for(
                lambda: all(len(_told(user)) >= len(DIVISIONS) for user in coordinators),
                CEILING,
                "every coordinator to be told of every submission",
            )
            wait_for(lambda: _outbox(db).get("pending", 0) == 0, CEILING, "the outbox to empty")
        finally:
            stop(second)
    assert submitted == ["submitted"] * len(DIVISIONS)
    assert before == [[]] * COORDINATORS, before
    after = [_told(user) for user in coordinators]
    expected = sorted(
        f"{name} lähetti vuoden {YEAR} raporttinsa."
        for name in (
            "Kulttuurin ja vapaa-ajan toimiala",
            "Kaupunkiympäristön toimiala",
            "Sosiaali- ja terveystoimiala",
            "Kasvatuksen ja koulutuksen toimiala",
        )
    )
    assert after == [expected] * COORDINATORS, after
    assert _outbox(db).get("uncertain", 0) == 0
    print(
        f"submit ack-kill: 0/{COORDINATORS * len(DIVISIONS)} coordinator messages before the "
        f"restart, {sum(map(len, after))}/{COORDINATORS * len(DIVISIONS)} once after"
    )


def report_state_of(db: Database, code: str) -> str:
    with db.session() as session:
        division = catalog.division_by_code(session, code)
        assert division is not None
        found = progress.find_round(session, YEAR)
        return progress.division_progress(
            session, found.id if found else None, division.id
        ).state.value

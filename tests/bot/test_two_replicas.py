"""Two `python -m bot run` webhook replicas on one database serve one conversation.

The test is Telegram and the load balancer: it posts the updates of one person's /raportoi
conversation alternately to replica A and replica B, waiting for each answer as a person
would. Then A is killed with SIGKILL mid-conversation and B carries the conversation to the
end: what the person had confirmed before the kill is in the saved report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from data import catalog, people, reports
from data.models import Role, ServiceEntity
from localtg import LocalBotApi
from localtg.http import ServerThread
from localtg.user import LocalUser
from localtg.webhook import WebhookDelivery

from ..conftest import Database
from .processes import CEILING, TOKEN, BotProcess, start_bot

CONTACT_ID = 5501

#: One /raportoi conversation: (action, text or button label, what the answer contains).
CONVERSATION: list[tuple[str, str, str]] = [
    ("send", "/raportoi", "Vaihe 1/6"),
    ("press", "Kirjasto", "Taso 1: Viestintä ja kuuleminen"),
    ("press", "Kyselyt", "Lkm: kuinka monta"),
    ("send", "12", "• Kyselyt – Lkm 12"),
    ("press", "✎ Lisää huomautus: Kyselyt", "Kirjoita huomautus"),
    # -- replica A is killed here in the kill test --
    ("send", "verkossa", "• Kyselyt – Lkm 12 (verkossa)"),
    ("press", "Seuraava taso ›", "Taso 2: Vuorovaikutus"),
    ("press", "Ei tapoja tällä tasolla", "Vaihe 4/6"),
    ("press", "Ei tapoja tällä tasolla", "Vaihe 5/6"),
    ("press", "Ei tapoja tällä tasolla", "Yhteenveto: Kirjasto"),
    ("press", "💾 Tallenna", "Tallennettu: Kirjasto"),
]
KILL_AFTER = 5


@pytest.fixture
def api() -> LocalBotApi:
    return LocalBotApi(token=TOKEN, settle_timeout=20)


@pytest.fixture
def server(api: LocalBotApi) -> Iterator[ServerThread]:
    with ServerThread(api) as thread:
        yield thread


@pytest.fixture
def replicas(server: ServerThread, db: Database, tmp_path: Path) -> Iterator[list[BotProcess]]:
    """Replica A and B, both ready, the contact registered before they start."""
    with db.transaction() as session:
        kuva = catalog.division_by_code(session, "KUVA")
        assert kuva is not None
        people.ensure_person(
            session, CONTACT_ID, name="Aino Asukas", roles={Role.CONTACT}, division_id=kuva.id
        )
    started = [start_bot(server.base_url, db.url, tmp_path / f"{n}.log") for n in ("a", "b")]
    try:
        for replica in started:
            replica.wait_until_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


async def _step(api: LocalBotApi, user: LocalUser, action: str, value: str, url: str) -> int:
    """One person action delivered to ``url``; the webhook's HTTP status."""
    user.mark = len(api.events)
    if action == "send":
        api.push_text(user.info, user.chat, value)
    else:
        message = user.message_with_button(value)
        button = message.find_button(value)
        assert button is not None
        api.push_callback(user.info, message, str(button["callback_data"]))
    delivered = await WebhookDelivery(api).deliver(url)
    return delivered[-1].status


def _converse(
    server: ServerThread, api: LocalBotApi, steps: list[tuple[str, str, str]], urls: list[str]
) -> None:
    user = api.user(CONTACT_ID, "Aino", language_code="fi")
    for index, (action, value, expected) in enumerate(steps):
        url = urls[index % len(urls)]
        status = server.run_sync(_step(api, user, action, value, url), timeout=CEILING)
        assert status == 200, (index, value, url, status)
        waiting = user.wait_for_message(contains=expected, timeout=CEILING)
        try:
            server.run_sync(waiting, timeout=CEILING)
        except TimeoutError:
            raise AssertionError(
                f"step {index} ({action} {value!r} → {url}): no answer containing {expected!r}; "
                f"last bot messages: {[m.text[:80] for m in user.messages[-3:]]}"
            ) from None


def _saved(db: Database) -> set[tuple[int, str | None, int, bool]]:
    year = dt.datetime.now(ZoneInfo("Europe/Helsinki")).year
    with db.session() as session:
        entity = session.scalar(select(ServiceEntity).where(ServiceEntity.code == "KUVA_KIRJASTO"))
        assert entity is not None
        rows = set()
        for answer in reports.participation_for_year(session, year, entity.id):
            level = catalog.by_id(session, catalog.Level, answer.level_id)
            assert level is not None
            method = (
                catalog.by_id(session, catalog.CatalogMethod, answer.method_id)
                if answer.method_id is not None
                else None
            )
            name = method.name["fi"] if method is not None else answer.method_text
            rows.add((level.number, name, answer.count, answer.none))
        return rows


EXPECTED = {(1, "Kyselyt", 12, False), (2, None, 0, True), (3, None, 0, True), (4, None, 0, True)}


def test_the_conversation_completes_over_the_webhook_when_one_replica_gets_it_all(
    server: ServerThread, api: LocalBotApi, db: Database, replicas: list[BotProcess]
) -> None:
    """The baseline of the two tests below: the steps and checks themselves are right."""
    _converse(server, api, CONVERSATION, [replicas[0].webhook])
    assert _saved(db) == EXPECTED


def test_one_conversation_alternating_between_two_replicas_completes(
    server: ServerThread, api: LocalBotApi, db: Database, replicas: list[BotProcess]
) -> None:
    _converse(server, api, CONVERSATION, [r.webhook for r in replicas])
    assert _saved(db) == EXPECTED
    for replica in replicas:
        assert "Traceback" not in replica.log()


def test_a_replica_killed_mid_conversation_loses_nothing_and_the_other_continues(
    server: ServerThread, api: LocalBotApi, db: Database, replicas: list[BotProcess]
) -> None:
    a, b = replicas
    _converse(server, api, CONVERSATION[:KILL_AFTER], [a.webhook, b.webhook])
    a.process.kill()  # SIGKILL: no clean-up of any kind
    assert a.process.wait(timeout=CEILING) != 0
    # The balancer now sends everything to B; the person just goes on.
    _converse(server, api, CONVERSATION[KILL_AFTER:], [b.webhook])
    assert _saved(db) == EXPECTED
    assert "Traceback" not in b.log()

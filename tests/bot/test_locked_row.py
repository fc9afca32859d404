"""An event loop that never waits on the database.

Another session (a hung transaction of another replica, a slow admin query) holds one
person's draft row. Before, every database call ran on the event loop: that person's update
blocked the loop, and 5 other people on the replica waited 9.1 s for their replies and
``/healthz`` took 9.0 s. Now the database work of an update runs on a worker thread and a
lock wait is bounded (PostgreSQL ``lock_timeout``): others are answered at once, /healthz
too, and the person whose row is held is asked to try again.

On SQLite a write lock is the whole database's, so the others' writes wait for it as well
(SQLite serialises writers by design); what holds there is that the event loop — /healthz —
stays responsive, and every update is answered once the lock is gone.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
from sqlalchemy import text
from starlette.applications import Starlette

from bot.flow.router import MSG_BUSY
from core.web import probe_routes
from data.db import is_lock_wait, make_engine
from i18n import gettext_for
from localtg import LocalUser

from ..sheets.workbooks import fill
from .conftest import BotHarness

#: Generous ceilings for waits (a loaded machine), never the asserted property: that is an
#: order of events — answered while the row is still held, which the test lets go only
#: after the answers (a loop that waited on the row would answer only after that).
CEILING_S = 120.0
#: How long the other session holds the row at most (released by the test once checked).
HOLD_S = CEILING_S


class RowHolder:
    """A session in its own thread holding the person's draft row until released."""

    def __init__(self, url: str, backend: str, person_id: int) -> None:
        self.engine = make_engine(url, lock_timeout_ms=0)
        self.backend = backend
        self.person_id = person_id
        self.locked = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        with self.engine.connect() as connection:
            if self.backend == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.execute(
                    text("UPDATE conversation_drafts SET paused = paused WHERE person_id = :p"),
                    {"p": self.person_id},
                )
            else:
                connection.execute(
                    text("SELECT id FROM conversation_drafts WHERE person_id = :p FOR UPDATE"),
                    {"p": self.person_id},
                ).all()
            self.locked.set()
            self.release.wait(HOLD_S)
            connection.rollback()

    def __enter__(self) -> RowHolder:
        self.thread.start()
        assert self.locked.wait(CEILING_S)
        return self

    def held(self) -> bool:
        """The row is still held: not yet let go by the test, nor by the ceiling."""
        return self.thread.is_alive() and not self.release.is_set()

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.thread.join(CEILING_S)
        self.engine.dispose()


async def _answered(bot: BotHarness, user: LocalUser, text: str) -> float:
    """Send ``text`` without waiting for the bot; seconds until the bot answers in the chat."""
    mark = len(bot.api.events)
    started = time.monotonic()
    bot.api.push_text(user.info, user.chat, text)
    await bot.api.wait_for_event(
        lambda e: e.message.chat_id == user.chat_id, after=mark, timeout=CEILING_S
    )
    return time.monotonic() - started


async def _healthz(client: httpx.AsyncClient) -> float:
    started = time.monotonic()
    response = await client.get("/healthz")
    assert response.status_code == 200
    return time.monotonic() - started


async def test_a_held_draft_row_delays_neither_other_people_nor_healthz(bot: BotHarness) -> None:
    held = bot.contact(7101, "KUVA", "Hilkka")
    others = [bot.contact(7102 + n, "KASKO", f"Muu{n}") for n in range(5)]
    await held.send("/raportoi")  # the person's draft row exists
    person_id = (
        bot.services.sessions()
        .execute(text("SELECT id FROM people WHERE telegram_user_id = 7101"))
        .scalar_one()
    )
    web = Starlette(routes=probe_routes(bot.db.engine, lambda: False))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        with RowHolder(bot.db.url, bot.db.backend, person_id) as holder:
            mark = len(bot.api.events)
            bot.api.push_text(held.info, held.chat, "/ohje")  # waits on the held row
            await asyncio.sleep(0.1)  # it is now waiting (on PostgreSQL: on a worker thread)
            health = await _healthz(client)
            assert holder.held(), f"/healthz waited for the row ({health:.2f} s)"
            if bot.db.backend == "postgresql":
                waits = await asyncio.gather(*(_answered(bot, u, "/raportoi") for u in others))
                assert holder.held(), f"the others waited for the row ({max(waits):.2f} s)"
                busy = await bot.api.wait_for_event(
                    lambda e: e.message.chat_id == held.chat_id, after=mark, timeout=CEILING_S
                )
                assert busy.message.text == gettext_for("fi")(MSG_BUSY)
            else:
                pending = [asyncio.ensure_future(_answered(bot, u, "/raportoi")) for u in others]
                await asyncio.sleep(0.3)
                health = await _healthz(client)
                assert holder.held(), f"/healthz answered only after the writers ({health:.2f} s)"
                holder.release.set()
                await asyncio.gather(*pending)
    # Once the row is free, the person continues normally.
    await held.send("/raportoi")
    assert "Valitse palvelukokonaisuus" in held.last.text or held.last.buttons
    for user in others:
        assert user.last.buttons, user.last.text


def _lock_waiters(url: str) -> int:
    """Sessions of the bot's database waiting for a row lock (PostgreSQL)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _wait_for_lock_waiter(url: str) -> None:
    deadline = time.monotonic() + CEILING_S
    while _lock_waiters(url) == 0:
        assert time.monotonic() < deadline, "the save never waited for the held row"
        time.sleep(0.02)


async def test_a_save_waiting_on_a_held_row_delays_neither_others_tila_nor_healthz(
    bot: BotHarness,
) -> None:
    """The same for the handlers outside the guided conversations: /tila, Excel, the
    administration commands (``bot.access.in_worker``). A contact presses *Tallenna* under
    a checked workbook while another session holds their draft rows: the save's DELETE of
    the draft waits for the row — on a worker thread, at most ``lock_timeout`` (3 s), tried
    twice, then the person is asked to try again.

    Issue 19 asks for the others' answers within 0.5 s; on a machine shared with other work
    a duration is no proof (one /tila alone can take longer), so what is asserted is an
    order of events: once PostgreSQL shows the save waiting for the row (seen from another
    thread, so even a blocked event loop cannot hide it), five other contacts ask /tila and
    /healthz is called, and all of them are answered *before* the waiting person hears
    anything. A loop that waited on the row (before: the save ran on it) could answer them
    only after the save's wait had ended and its person had been told. On SQLite the whole
    database is write-locked and its one worker thread waits in the save: there the event
    loop (/healthz) answers while the row is held, and the save goes on once it is let go.
    """
    held = bot.contact(7201, "KUVA", "Hilkka")
    others = [bot.contact(7202 + n, "KASKO", f"Muu{n}") for n in range(5)]
    await held.send("/excel")
    workbook = fill(held.documents[-1].content, {"Kirjasto": {"B7": "Kyselyt", "D7": 12}})
    await held.send_document(workbook, "Mittarit_KUVA_2026.xlsx")
    assert held.last.buttons == [["Tallenna", "Peru"]]
    person_id = (
        bot.services.sessions()
        .execute(text("SELECT id FROM people WHERE telegram_user_id = 7201"))
        .scalar_one()
    )
    summary = held.message_with_button("Tallenna")
    button = summary.find_button("Tallenna")
    assert button is not None
    web = Starlette(routes=probe_routes(bot.db.engine, lambda: False))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        with RowHolder(bot.db.url, bot.db.backend, person_id) as holder:
            mark = len(bot.api.events)
            bot.api.push_callback(held.info, summary, str(button["callback_data"]))

            def told() -> bool:
                return any(
                    e.message.chat_id == held.chat_id and e.kind == "sent"
                    for e in bot.api.events[mark:]
                )

            if bot.db.backend == "postgresql":
                await asyncio.to_thread(_wait_for_lock_waiter, bot.db.url)
                await asyncio.gather(
                    *(_answered(bot, u, "/tila") for u in others), _healthz(client)
                )
                assert not told(), "the others were answered only after the save gave up"
                busy = await bot.api.wait_for_event(
                    lambda e: e.message.chat_id == held.chat_id and e.kind == "sent",
                    after=mark,
                    timeout=CEILING_S,
                )
                assert busy.message.text == gettext_for("fi")(MSG_BUSY)
                [error] = bot.take_errors()  # the lock wait, handed to the error handler
                assert is_lock_wait(error)
            else:
                await asyncio.sleep(0.3)  # the save is now waiting in SQLite's busy handler
                await _healthz(client)
                assert holder.held() and not told(), "/healthz waited for the row"
                holder.release.set()  # the waiting save goes on now
                await bot.api.wait_for_event(
                    lambda e: e.message.chat_id == held.chat_id and "Tallennettu" in e.message.text,
                    after=mark,
                    timeout=CEILING_S,
                )
    if bot.db.backend == "postgresql":  # once the row is free, the same button saves
        await held.press("Tallenna", message=summary)
        assert "Tallennettu ✓" in held.last.text

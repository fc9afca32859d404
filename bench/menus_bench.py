"""Benchmark: the start-up menu sync of 10 000 people leaves the updates their database.

At start-up the bot sets each person's command menu (setMyCommands per person and language,
``bot.admin.menus.install_all_menus``). Here 10 000 people have menus never set before (the
worst case: a new release changed every menu) while 16 contacts report through /raportoi
(``reporting_bench``'s conversation, 14 updates each, again and again) until the sync is done.

Printed per database: how long the sync took and how many menus it set; the updates handled
meanwhile; SQL statements per update over that window — every statement the process ran
(the updates' own, the menu sync's, the outbox loop's heartbeat), divided by the updates —
and the updates' own apart. Target (issue 19): ≤ 6 statements per update while the sync
runs. A missed target prints a MISSED line.

    .venv/bin/python bench/menus_bench.py [--people 10000] [--contacts 16]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import local_bot, postgres_schema  # noqa: E402
from reporting_bench import (  # noqa: E402
    DEFAULT_PG,
    FIRST_USER_ID,
    _afresh,
    _prepare_database,
    _report,
)
from sqlalchemy import event  # noqa: E402

from bot.admin.menus import MENU_TASK  # noqa: E402
from data import catalog  # noqa: E402
from data.db import transaction  # noqa: E402
from data.models import Person, PersonRole, Role  # noqa: E402
from localtg import LocalBotApi, running  # noqa: E402

TARGET = 6.0
FIRST_MENU_ID = 50_000_000
_IN_UPDATE: contextvars.ContextVar[bool] = contextvars.ContextVar("in_update", default=False)


def _add_people(sessions: Any, count: int) -> None:
    """``count`` people of every role and language, as a city deployment has them."""
    shapes = [
        ({Role.CONTACT}, "fi"),
        ({Role.CONTACT}, "sv"),
        ({Role.CONTACT}, "en"),
        ({Role.COORDINATOR}, "fi"),
        ({Role.STAFF, Role.COORDINATOR}, "fi"),
        ({Role.CONTACT}, None),
    ]
    with transaction(sessions) as session:
        divisions = catalog.divisions(session)
        for n in range(count):
            roles, language = shapes[n % len(shapes)]
            division = divisions[n % len(divisions)] if Role.CONTACT in roles else None
            session.add(
                Person(
                    telegram_user_id=FIRST_MENU_ID + n,
                    name=f"Henkilö {n}",
                    language=language,
                    division_id=division.id if division else None,
                    active=True,
                    roles=[PersonRole(role=role) for role in roles],
                )
            )
            if n % 1000 == 999:
                session.flush()


class Counter:
    """Statements, all and those of updates (the updates' context, also on worker threads)."""

    def __init__(self) -> None:
        self.all = 0
        self.in_updates = 0
        self.updates = 0
        self.paused = False

    def count(self, *_args: Any) -> None:
        if self.paused:
            return
        self.all += 1
        if _IN_UPDATE.get():
            self.in_updates += 1


async def run(database: str, url: str, schema: str | None, people: int, contacts: int) -> list[str]:
    engine, sessions = _prepare_database(url, schema, contacts)
    _add_people(sessions, people)
    api = LocalBotApi(settle_timeout=600)
    app = local_bot(api, sessions)
    counter = Counter()
    event.listen(engine, "before_cursor_execute", counter.count)
    process_update = app.process_update

    async def counted(update: object) -> None:
        token = _IN_UPDATE.set(True)
        counter.updates += 1
        try:
            await process_update(update)
        finally:
            _IN_UPDATE.reset(token)

    app.process_update = counted  # type: ignore[method-assign]
    users = [
        api.user(FIRST_USER_ID + i, f"Kontakti{i}", language_code="fi") for i in range(contacts)
    ]
    window: dict[str, float] = {}
    try:
        async with running(app, api):
            task = app.bot_data[MENU_TASK]
            started = time.monotonic()
            begin = (counter.all, counter.in_updates, counter.updates)

            def finished(_task: Any) -> None:
                window["seconds"] = time.monotonic() - started
                window["all"] = counter.all - begin[0]
                window["in_updates"] = counter.in_updates - begin[1]
                window["updates"] = counter.updates - begin[2]

            task.add_done_callback(finished)
            while not task.done():
                await asyncio.gather(*(_report(user, i) for i, user in enumerate(users)))
                counter.paused = True  # the bench's own clean-up is not the bot's work
                _afresh(engine)
                counter.paused = False
    finally:
        engine.dispose()
    updates = max(int(window["updates"]), 1)
    overall = window["all"] / updates
    own = window["in_updates"] / updates
    calls = len([c for c in api.calls if c.method.lower() == "setmycommands"])
    lines = [
        f"{database} menu sync: {people} people, {window['seconds']:.1f} s, setMyCommands "
        f"calls {calls}; while it ran: {int(window['updates'])} updates, statements/update "
        f"{overall:.1f} (the updates' own {own:.1f}, the rest {overall - own:.1f})"
    ]
    if overall > TARGET:
        lines.append(
            f"MISSED menus: {database} {overall:.1f} statements/update while the menu sync runs "
            f"(target ≤ {TARGET:.0f})"
        )
    return lines


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=16)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"menus bench: load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{tmp}/menus.sqlite3"
        for line in await run("SQLite", sqlite, None, args.people, args.contacts):
            print(line)
    if not args.no_postgres:
        with postgres_schema(args.postgres) as schema:
            for line in await run("PostgreSQL", args.postgres, schema, args.people, args.contacts):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

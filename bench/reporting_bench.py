"""Benchmark: 200 contacts report participation at the same time, through the local Telegram.

Every simulated contact goes through a complete /raportoi conversation (choose a service
entity, a catalog method with its count and a note, a typed method with its count, "no
methods" at three levels, Save): 14 updates each. The same number of updates, with the same
mix of typed messages and button presses, also goes through two reference Applications built
the same way (same request class, same rate-limiter setting):

* the bare echo — the framework's ceiling on this machine;
* the durability floor — the echo plus one committed write per update on the same database,
  the least any bot that keeps nothing only in memory must do.

Printed per database: updates/s, p50/p95 of the time one update spends in
``Application.process_update`` (the same window for all three apps: from the moment its
handling starts until its handlers, their replies and their writes are done), our throughput
as a ratio of the floor's (and of the echo's), the CPU time per update of each app (the
stable figure on a shared machine: wall-clock ratios swing 3×, CPU does not), one line
``statements/update N`` (SQL statements counted with a cursor listener, per step of the
conversation; the save apart) and one line ``cpu floor/bot R`` (the floor's CPU per update
divided by the bot's). On PostgreSQL one more line, ``round trips/update N``: the statements
plus what the driver sends around them (BEGIN, COMMIT, ROLLBACK, pre-ping), counted at the
driver (`RoundTripCounter`).

    .venv/bin/python bench/reporting_bench.py [--contacts 200] [--rate-limiter]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-postgres]

What the window leaves out, for the bot: the wait before its handling starts. The bot
handles chats concurrently, each chat in order, and admits as many updates to their database
step at a time as the database has worker threads (``delivery.ordering``: SQLite 1,
PostgreSQL 4); an update waiting for its chat's turn or for such a slot waits before
``process_update``, as the echo's and the floor's updates wait in PTB's queue (they run one
at a time). Before that admission a wave's 16 updates all started at once and each one's
time in ``process_update`` was mostly queueing for the same worker threads. So that nothing
is hidden, the bot's line is followed by p50/p95 *including* that wait ("arrival to done").
The outbox's *sent* marks are also written after the window, for many updates together
(``delivery.outbox``): their CPU is in the CPU figure, which covers the whole process.

PostgreSQL gets its own schema, dropped at the end. Targets (conversation issue, issue 19):
throughput ≥ 0.6 × the floor; p95 ≤ 8 ms on SQLite and ≤ 12 ms on PostgreSQL; statements per
update ≤ 4 (the save ≤ 8); cpu floor/bot ≥ 0.5. A missed target prints a MISSED line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.admin.menus import menus_installed  # noqa: E402
from bot.app import build_application  # noqa: E402
from core.services import Services  # noqa: E402
from data import catalog, people  # noqa: E402
from data.catalog import load_catalog  # noqa: E402
from data.db import make_engine, make_sessionmaker, migrate, transaction  # noqa: E402
from data.models import Role  # noqa: E402
from localtg import DEFAULT_TOKEN, LocalBotApi, LocalRequest, LocalUser, running  # noqa: E402
from settings import load_settings  # noqa: E402

if TYPE_CHECKING:
    from bot.app import BotApplication

REPORT_SEQUENCE = "tpptptpttppppp"  # t = typed message, p = button press, as in _report
P95_TARGET_MS = {"SQLite": 8.0, "PostgreSQL": 12.0}
FLOOR_RATIO_TARGET = 0.6
UPDATES_PER_CONTACT = len(REPORT_SEQUENCE)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIRST_USER_ID = 900_000
STATEMENTS_TARGET = 4
SAVE_STATEMENTS_TARGET = 8
CPU_RATIO_TARGET = 0.5
#: What each update of `_report` is, in order (one contact's updates are handled in order).
STEP_NAMES = (
    "/raportoi",
    "entity press",
    "method press",
    "count",
    "note press",
    "note text",
    "other press",
    "typed name",
    "typed level",
    "next level",
    "no methods",
    "no methods",
    "no methods",
    "save",
)

#: The step of the update being handled (set around process_update; threads inherit it).
_STEP: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_step", default=None)


class StatementCounter:
    """SQL statements per conversation step, with a cursor listener on the engine."""

    def __init__(self) -> None:
        self.by_step: dict[str, int] = {}
        self.updates_by_step: dict[str, int] = {}
        self.outside = 0
        self.seen: dict[int, int] = {}

    def attach(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        step = _STEP.get()
        if step is None:
            self.outside += 1
        else:
            self.by_step[step] = self.by_step.get(step, 0) + 1

    def step_of(self, update: Any) -> str:
        user = getattr(getattr(update, "effective_user", None), "id", 0)
        index = self.seen.get(user, 0)
        self.seen[user] = index + 1
        step = STEP_NAMES[index] if index < len(STEP_NAMES) else "other"
        self.updates_by_step[step] = self.updates_by_step.get(step, 0) + 1
        return step

    def per_update(self, step: str) -> float:
        return self.by_step.get(step, 0) / max(self.updates_by_step.get(step, 0), 1)

    def line(self) -> str:
        names = list(dict.fromkeys(STEP_NAMES))
        parts = ", ".join(f"{name} {self.per_update(name):.1f}" for name in names)
        updates = sum(self.updates_by_step.values())
        return f"  per step: {parts}; outside updates {self.outside / max(updates, 1):.2f}/update"

    def worst_step(self) -> tuple[str, float]:
        steps = [name for name in dict.fromkeys(STEP_NAMES) if name != "save"]
        worst = max(steps, key=self.per_update)
        return worst, self.per_update(worst)

    def overall(self) -> float:
        updates = sum(self.updates_by_step.values())
        return (sum(self.by_step.values()) + self.outside) / max(updates, 1)


class RoundTripCounter:
    """PostgreSQL round trips per update, counted at the driver: what the statement counter
    does not see. psycopg 3 sends BEGIN on its own before the first statement of a
    transaction and COMMIT/ROLLBACK only for a transaction that is open (a pool checkin's
    reset of an idle connection costs nothing); a pre-ping is one more per checkout. New
    connections are counted apart (several round trips each, once per connection)."""

    def __init__(self) -> None:
        self.statements = 0
        self.begins = 0
        self.commits = 0
        self.rollbacks = 0
        self.pings = 0
        self.connects = 0

    def attach(self, engine: Any) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("round trips are counted on PostgreSQL only")
        event.listen(engine, "before_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        event.listen(engine.pool, "reset", self._reset)
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine.pool, "connect", self._connect)
        self._pre_ping = bool(getattr(engine.pool, "_pre_ping", False))

    @staticmethod
    def _open(dbapi_connection: Any) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(dbapi_connection.info.transaction_status != TransactionStatus.IDLE)

    def _execute(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        if not cursor.connection.autocommit and not self._open(cursor.connection):
            self.begins += 1
        self.statements += 1

    def _commit(self, conn: Any) -> None:
        if self._open(conn.connection.dbapi_connection):
            self.commits += 1

    def _rollback(self, conn: Any) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection is not None and self._open(dbapi_connection):
            self.rollbacks += 1

    def _reset(self, dbapi_connection: Any, _record: Any, _state: Any) -> None:
        if self._open(dbapi_connection):
            self.rollbacks += 1

    def _checkout(self, *_args: Any) -> None:
        self.pings += self._pre_ping

    def _connect(self, *_args: Any) -> None:
        self.connects += 1

    def line(self, database: str, updates: int) -> str:
        n = max(updates, 1)
        total = self.statements + self.begins + self.commits + self.rollbacks + self.pings
        return (
            f"{database}: round trips/update {total / n:.2f} (statements "
            f"{self.statements / n:.2f}, BEGIN {self.begins / n:.2f}, COMMIT "
            f"{self.commits / n:.2f}, ROLLBACK {self.rollbacks / n:.2f}, pre-ping "
            f"{self.pings / n:.2f}); new connections {self.connects}"
        )


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    handling: list[float]
    cpu: float = 0.0
    statements: StatementCounter | None = None
    #: Arrival to done (the wait for its chat's turn and a database slot included).
    arrival: list[float] | None = None
    #: PostgreSQL round trips (None on SQLite).
    trips: RoundTripCounter | None = None

    @property
    def cpu_ms(self) -> float:
        """Process CPU time per update (the local Telegram's share included, alike for all)."""
        return self.cpu * 1000 / self.updates

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.handling if values is None else values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    def line(self) -> str:
        text = (
            f"{self.name:<22} {self.updates:>6} updates in {self.seconds:6.2f} s = "
            f"{self.rate:7.1f} updates/s   handling p50 {self.percentile(0.5):6.2f} ms  "
            f"p95 {self.percentile(0.95):6.2f} ms  max {max(self.handling) * 1000:7.2f} ms  "
            f"CPU {self.cpu_ms:5.2f} ms/update"
        )
        if self.arrival:
            text += (
                f"\n{'':<22} arrival to done (its chat's turn and a database slot included): "
                f"p50 {self.percentile(0.5, self.arrival):6.2f} ms  "
                f"p95 {self.percentile(0.95, self.arrival):6.2f} ms"
            )
        return text


def _timed(
    application: BotApplication,
    sink: list[float],
    counter: StatementCounter | None = None,
) -> None:
    """Measure each update's time in process_update (handlers + persistence flush)."""
    inner = application.process_update

    async def process_update(update: object) -> None:
        token = _STEP.set(counter.step_of(update)) if counter is not None else None
        started = time.perf_counter()
        try:
            await inner(update)
        finally:
            sink.append(time.perf_counter() - started)
            if token is not None:
                _STEP.reset(token)

    application.process_update = process_update  # type: ignore[method-assign]


def _arrival_timed(application: BotApplication, sink: list[float]) -> None:
    """Measure each update from the moment PTB hands it to the update processor (before
    the wait for its chat's turn and a database slot) until it is done."""
    processor = application.update_processor
    inner = processor.process_update

    async def process_update(update: object, coroutine: Any) -> None:
        started = time.perf_counter()
        try:
            await inner(update, coroutine)
        finally:
            sink.append(time.perf_counter() - started)

    processor.process_update = process_update  # type: ignore[method-assign]


#: Contacts that report at the same time: four per division (each division has at least
#: four service entities), so no two of them edit one entity at once — the bot refuses the
#: later of two overlapping edits of one entity ("changed elsewhere"), as it should.
WAVE = 16


async def _drive(
    api: LocalBotApi,
    users: list[LocalUser],
    script: Callable[[LocalUser, int], Awaitable[None]],
    between: Callable[[], None] | None = None,
) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of every user running ``script``, `WAVE` users
    at a time (the same for every app measured); ``between`` runs after each wave."""
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(users), WAVE):
        wave = users[first : first + WAVE]
        await asyncio.gather(*(script(user, first + n) for n, user in enumerate(wave)))
        if between is not None:
            between()
    return time.perf_counter() - started, time.process_time() - cpu


# --- our bot -------------------------------------------------------------------------------


async def _report(user: LocalUser, index: int) -> None:
    """One complete participation report: 14 updates."""
    await user.send("/raportoi")
    entities = [row[0] for row in user.last.buttons]
    # The division is index % 4 (see _prepare_database); within a wave each of its four
    # contacts takes another entity.
    await user.press(entities[(index % WAVE) // 4 % len(entities)])
    method = user.last.buttons[0][0]  # the first example method of level 1
    await user.press(method)
    await user.send("12")
    await user.press(f"✎ Lisää huomautus: {method}")
    await user.send("Kokoontuu kuukausittain")
    await user.press("Muu tapa – kirjoita")
    await user.send(f"Asukasraati {index}")
    await user.send("1 200")
    await user.press("Seuraava taso ›")
    for _ in range(3):
        await user.press("Ei tapoja tällä tasolla")
    await user.press("💾 Tallenna")
    if not user.last.text.startswith("Tallennettu"):
        raise RuntimeError(f"contact {user.id} did not finish: {user.last.text[:200]!r}")


def _afresh(engine: Any) -> None:
    """The next wave reports its entities afresh (each is saved once per wave)."""
    with engine.begin() as connection:
        for table in ("participation_entries", "level_none_answers"):
            connection.execute(text(f"DELETE FROM {table}"))


def _prepare_database(url: str, schema: str | None, contacts: int) -> Any:
    engine = (
        make_engine(url, schema=schema, pool_size=5, max_overflow=5) if schema else make_engine(url)
    )
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_catalog(session)
        divisions = catalog.divisions(session)
        for offset in range(contacts):
            division = divisions[offset % len(divisions)]
            people.ensure_person(
                session,
                FIRST_USER_ID + offset,
                name=f"Yhteyshenkilö {offset}",
                language="fi",
                roles={Role.CONTACT},
                division_id=division.id,
            )
    return engine, sessions


async def run_bot(name: str, url: str, schema: str | None, contacts: int, limiter: bool) -> Result:
    engine, sessions = _prepare_database(url, schema, contacts)
    settings = load_settings(env={})
    api = LocalBotApi(settle_timeout=600)
    app = build_application(
        Services(settings, sessions),
        token=DEFAULT_TOKEN,
        request=LocalRequest(api),
        get_updates_request=LocalRequest(api),
        rate_limiter=limiter,
        with_jobs=False,
    )
    handling: list[float] = []
    counter = StatementCounter()
    counter.attach(engine)
    trips = RoundTripCounter() if engine.dialect.name == "postgresql" else None
    if trips is not None:
        trips.attach(engine)
    _timed(app, handling, counter)
    arrival: list[float] = []
    _arrival_timed(app, arrival)
    errors: list[BaseException] = []

    async def collect(update: object, context: Any) -> None:
        if context.error is not None:
            errors.append(context.error)

    app.add_error_handler(collect)
    users = [
        api.user(FIRST_USER_ID + i, f"Kontakti{i}", language_code="fi") for i in range(contacts)
    ]
    try:
        async with running(app, api):
            # Start-up work (every person's command menu, paced in the background) is not
            # per-update work: measuring during it would count its Bot API calls.
            await menus_installed(app)
            seconds, cpu = await _drive(api, users, _report, lambda: _afresh(engine))
        if errors:
            raise RuntimeError(f"handlers raised: {errors[:3]!r}")
    finally:
        engine.dispose()
    return Result(name, len(handling), seconds, handling, cpu, counter, arrival, trips)


# --- the echo ceiling ------------------------------------------------------------------------


async def _echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.message is not None
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="echo:ok")]])
    await update.effective_chat.send_message(update.message.text or "", reply_markup=markup)


async def _echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="echo:ok")]])
    await update.effective_chat.send_message(query.data or "", reply_markup=markup)


async def _echo_script(user: LocalUser, index: int) -> None:
    """The same sequence as a report: 5 typed messages and 9 button presses."""
    for kind in REPORT_SEQUENCE:
        if kind == "t":
            await user.send("12")
        else:
            await user.press("OK")


def _floor_handlers(sessions: Any) -> tuple[Any, Any]:
    """The echo's two handlers, each first committing one row: the durability floor."""

    def write(update: Update) -> None:
        with transaction(sessions) as session:
            session.execute(
                text("INSERT INTO bench_floor (update_id) VALUES (:id)"),
                {"id": update.update_id},
            )

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        write(update)
        await _echo_text(update, context)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        write(update)
        await _echo_press(update, context)

    return on_text, on_press


async def run_floor(url: str, schema: str | None, contacts: int, limiter: bool) -> Result:
    engine = (
        make_engine(url, schema=schema, pool_size=5, max_overflow=5) if schema else make_engine(url)
    )
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_floor (update_id BIGINT PRIMARY KEY)"))
    try:
        on_text, on_press = _floor_handlers(make_sessionmaker(engine))
        return await run_echo(contacts, limiter, handlers=(on_text, on_press), name="floor")
    finally:
        engine.dispose()


async def run_echo(
    contacts: int,
    limiter: bool,
    *,
    handlers: tuple[Any, Any] = (_echo_text, _echo_press),
    name: str = "echo Application",
) -> Result:
    api = LocalBotApi(settle_timeout=600)
    builder: Any = (
        ApplicationBuilder()
        .token(DEFAULT_TOKEN)
        .request(LocalRequest(api))
        .get_updates_request(LocalRequest(api))
    )
    if limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=2))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, handlers[0]))
    app.add_handler(CallbackQueryHandler(handlers[1]))
    handling: list[float] = []
    _timed(app, handling)
    users = [
        api.user(FIRST_USER_ID + i, f"Kontakti{i}", language_code="fi") for i in range(contacts)
    ]
    async with running(app, api):
        seconds, cpu = await _drive(api, users, _echo_script)
    return Result(name, len(handling), seconds, handling, cpu)


# --- main ------------------------------------------------------------------------------------


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--rate-limiter", action="store_true", help="the rate limiter on all apps")
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    print(
        f"{args.contacts} contacts × {UPDATES_PER_CONTACT} updates, concurrently; "
        f"rate limiter {'ON' if args.rate_limiter else 'OFF'} on every app."
    )
    runs: list[tuple[str, Result, Result, Result]] = []
    # Each database run is measured right after its echo and floor runs, so that a machine
    # busy with something else slows every side of a ratio alike.
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        runs.append(await _measure("SQLite", url, None, args))
    if not args.no_postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(args.postgres)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            runs.append(await _measure("PostgreSQL", args.postgres, schema, args))
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print()
    missed = []
    for database, echo, floor, result in runs:
        ratio = result.rate / floor.rate
        p95 = result.percentile(0.95)
        target = P95_TARGET_MS[database]
        cpu_ratio = floor.cpu_ms / result.cpu_ms
        print(
            f"{database}: CPU ms/update echo {echo.cpu_ms:.2f}, floor {floor.cpu_ms:.2f}, "
            f"bot {result.cpu_ms:.2f}"
        )
        print(f"{database}: cpu floor/bot {cpu_ratio:.2f} (target ≥ {CPU_RATIO_TARGET})")
        print(
            f"{result.name:<22} bot/floor {ratio:5.2f} (target ≥ {FLOOR_RATIO_TARGET}), "
            f"bot/echo {result.rate / echo.rate:5.2f}, p95 {p95:.1f} ms (target ≤ {target:g} ms)"
        )
        if ratio < FLOOR_RATIO_TARGET:
            missed.append(f"reporting: {database} throughput {ratio:.2f} × floor < 0.6")
        if p95 > target:
            missed.append(f"reporting: {database} p95 {p95:.1f} ms > {target:g} ms")
        if cpu_ratio < CPU_RATIO_TARGET:
            missed.append(
                f"reporting: {database} cpu floor/bot {cpu_ratio:.2f} < {CPU_RATIO_TARGET}"
            )
        counter = result.statements
        if counter is not None:
            worst, worst_count = counter.worst_step()
            save = counter.per_update("save")
            print(
                f"{database}: statements/update {worst_count:.1f} (worst step: {worst}; "
                f"target ≤ {STATEMENTS_TARGET}), save {save:.1f} (target ≤ "
                f"{SAVE_STATEMENTS_TARGET}), all {counter.overall():.2f}"
            )
            print(counter.line())
        if result.trips is not None:
            print(result.trips.line(database, result.updates))
            if worst_count > STATEMENTS_TARGET:
                missed.append(
                    f"reporting: {database} statements/update {worst_count:.1f} ({worst}) "
                    f"> {STATEMENTS_TARGET}"
                )
            if save > SAVE_STATEMENTS_TARGET:
                missed.append(
                    f"reporting: {database} statements for the save {save:.1f} "
                    f"> {SAVE_STATEMENTS_TARGET}"
                )
    for line in missed:
        print(f"MISSED {line}")
    if missed:
        print("(a benchmark reports; it does not fail the build)")
    return 0


async def _measure(
    database: str, url: str, schema: str | None, args: argparse.Namespace
) -> tuple[str, Result, Result, Result]:
    echo = await run_echo(args.contacts, args.rate_limiter)
    print(echo.line())
    floor = await run_floor(url, schema, args.contacts, args.rate_limiter)
    floor.name = f"floor on {database}"
    print(floor.line())
    bot = await run_bot(f"bot on {database}", url, schema, args.contacts, args.rate_limiter)
    print(bot.line())
    return database, echo, floor, bot


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Scale-out of webhook replicas on PostgreSQL behind a Bot API that enforces Telegram's limits.

For 1, 2 and 4 replicas (real ``python -m bot run`` processes in webhook mode, one database):
``--people`` contacts each run the start of a /raportoi conversation over and over —
``/raportoi`` (a new message), the division's first service entity (a button: answered, the
question edited, the next question sent), ``/peru`` (a new message) — waiting for the bot's
answer and then ``--think`` seconds (a person does not type faster than once a second, and
Telegram allows one message per second per chat). Each update goes to the next replica in
turn, as a load balancer would.

The fake Bot API (localtg over HTTP) answers 429 past 30 messages per second per token, one
per second per chat and 20 per minute per group, like Telegram; it is shared by the replicas.

Prints per replica count: updates/s, p50/p95 end to end (POST to the reply), 429 answers,
lost updates (no reply within ``--timeout``), doubled replies (the same message twice in a
row in one chat), CPU ms per update of each replica (from /proc), and MISSED lines for any
429, lost or doubled. Needs ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` (PostgreSQL):
each run gets its own schema, dropped afterwards.

    .venv/bin/python bench/replicas_bench.py --people 100 --seconds 20

``--saves`` runs the consistency check of issue 19 instead (default 4 replicas × 100
contacts × 20 s): the contacts are spread over every service entity of the catalog (5 or 6
on each), and each one over and over opens its entity in /raportoi, changes it and presses
*Tallenna* — at least ``--saves-per-contact`` times (3), on until the time is up, each
update through the next replica. Each save differs from the one before in its rows, not
only in a count: the first types the four levels; on a saved entity every other save adds
a second method to level 2 (typed on the level), the others remove it and change level 1's
count (each count unique to that attempt). Every fourth contact makes its third save
through the Excel import instead (unless ``--no-excel``): ``/excel``, level 1's count
changed in the workbook, the file sent back, *Tallenna* under its change summary. Two
contacts saving one entity at once is the point: the later save over an older version is
refused ("muutettu muualla"), the other confirmed. At the end every entity as stored must
equal, row for row, its last confirmed save — the summary it saved, or the workbook's rows
(the confirmed saves of one entity are ordered by when *Tallenna* was pressed: a save is
confirmed only when based on the version before it, so it was opened after the one before
committed); never a union of two saves, never an older one. Prints ``consistency: …`` and
a MISSED line for any entity that differs.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import openpyxl
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime import prepare_database  # noqa: E402
from data import catalog, people, reports  # noqa: E402
from data.db import transaction  # noqa: E402
from data.models import Role  # noqa: E402
from delivery.outbox import IDLE_SWEEP_SECONDS  # noqa: E402
from localtg import LocalBotApi, LocalUser  # noqa: E402
from localtg.http import ServerThread  # noqa: E402
from localtg.limits import FloodLimits  # noqa: E402
from localtg.models import ChatMessage  # noqa: E402
from localtg.webhook import SECRET_HEADER  # noqa: E402
from sheets import layout  # noqa: E402
from tests.bot.processes import (  # noqa: E402
    SECRET,
    TOKEN,
    BotProcess,
    start_bot,
)

FIRST_ID = 90_000
ENTITY = "Kirjasto"
CLK_TCK = os.sysconf("SC_CLK_TCK")


#: A saved participation answer as the summary shows it and the database holds it.
Row = tuple[int, str, int]


@dataclass
class Save:
    """One press of *Tallenna*: the summary it saved and what the bot answered."""

    entity: int
    rows: Counter[Row]
    pressed: float
    outcome: str  # "confirmed", "refused" or "unknown" (no answer)
    contact: int = 0  # the contact's number
    replica: int = 0  # the replica the press went to
    path: str = "chat"  # or "excel": the workbook's import


@dataclass
class Run:
    replicas: int
    latencies: list[float] = field(default_factory=list)
    done: int = 0
    lost: int = 0
    posted: dict[int, int] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)
    saves: list[Save] = field(default_factory=list)
    #: Entities whose stored answers are not their last confirmed save, with why.
    mismatches: list[str] = field(default_factory=list)
    year_seen: set[int] = field(default_factory=set)
    #: Wakes the contact a bot message is for (set on the fake API's event loop).
    replies: Replies | None = None
    #: How late the bench's event loop (the fake Bot API's) woke a timer, in seconds.
    lags: list[float] = field(default_factory=list)

    def confirmed_entities(self) -> set[int]:
        return {save.entity for save in self.saves if save.outcome == "confirmed"}


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _register_spread(url: str, count: int) -> list[tuple[int, str, str]]:
    """``count`` contacts spread over every service entity (round robin): each contact's
    (entity id, code, Finnish name)."""
    engine, sessions = prepare_database(url)
    with transaction(sessions) as session:
        entities = [
            (division, entity)
            for division in catalog.divisions(session)
            for entity in catalog.service_entities(session, division.id)
        ]
        chosen = []
        for n in range(count):
            division, entity = entities[n % len(entities)]
            people.ensure_person(
                session, FIRST_ID + n, name=f"H {n}", roles={Role.CONTACT}, division_id=division.id
            )
            chosen.append((entity.id, entity.code, entity.name["fi"]))
    engine.dispose()
    return chosen


def _stored(url: str, entity_ids: set[int], year: int) -> dict[int, Counter[Row]]:
    """Each entity's participation answers as the database holds them."""
    engine, sessions = prepare_database(url)
    found: dict[int, Counter[Row]] = {}
    with transaction(sessions) as session:
        for entity_id in entity_ids:
            rows: Counter[Row] = Counter()
            for answer in reports.participation_for_year(session, year, entity_id):
                level = catalog.by_id(session, catalog.Level, answer.level_id)
                assert level is not None
                name = answer.method_text or ""
                if answer.method_id is not None:
                    method = catalog.by_id(session, catalog.CatalogMethod, answer.method_id)
                    assert method is not None
                    name = method.name["fi"]
                rows[(level.number, name, int(answer.count or 0))] += 1
            found[entity_id] = rows
    engine.dispose()
    return found


_LEVEL = re.compile(r"^(\d)\. ")
_ANSWER = re.compile(r"^\s+\d+\) (.+?) – Lkm ([\d\s]+?)(?: \(.*\))?$")


def _summary_rows(text: str) -> tuple[int, Counter[Row]]:
    """The year and the answers of a summary ("Yhteenveto: Kirjasto (2026)" …)."""
    year = int(re.search(r"Yhteenveto: .* \((\d{4})\)", text).group(1))  # type: ignore[union-attr]
    rows: Counter[Row] = Counter()
    level = 0
    for line in text.splitlines():
        if found := _LEVEL.match(line):
            level = int(found.group(1))
        elif found := _ANSWER.match(line):
            rows[(level, found.group(1), int(re.sub(r"\s", "", found.group(2))))] += 1
    return year, rows


def check_consistency(run: Run, url: str) -> int:
    """Compare every saved entity with its last confirmed save (see the module docstring);
    the year of the round."""
    by_entity: dict[int, list[Save]] = {}
    for save in run.saves:
        by_entity.setdefault(save.entity, []).append(save)
    confirmed_any = {
        e for e, saves in by_entity.items() if any(s.outcome == "confirmed" for s in saves)
    }
    year = max(run.year_seen) if run.year_seen else 0
    stored = _stored(url, confirmed_any, year)
    for entity, saves in sorted(by_entity.items()):
        confirmed = sorted((s for s in saves if s.outcome == "confirmed"), key=lambda s: s.pressed)
        if not confirmed:
            continue
        last = confirmed[-1]
        held = stored[entity]
        if held == last.rows:
            continue
        # A save whose answer was lost, pressed after the last confirmed one, may be the
        # one that committed last: not a defect of the bot.
        if any(
            s.outcome == "unknown" and s.pressed > last.pressed and s.rows == held for s in saves
        ):
            continue
        if any(s.rows == held for s in confirmed):
            why = "an older confirmed save"
        elif any(count > 1 for count in held.values()) or sum(held.values()) > sum(
            last.rows.values()
        ):
            why = "a union of saves"
        else:
            why = "no save's answers"
        run.mismatches.append(
            f"entity {entity}: stored {sorted(held.elements())} is {why}; last confirmed "
            f"{sorted(last.rows.elements())}"
        )
    return year


def _register(url: str, count: int, code: Path) -> None:
    if code != ROOT:  # another release's tree: its own migrations and catalog
        script = (
            "import sys; from bot.runtime import prepare_database; from data.db import "
            "transaction; from data import catalog, people; from data.models import Role\n"
            "engine, sessions = prepare_database(sys.argv[1])\n"
            "with transaction(sessions) as session:\n"
            "    kuva = catalog.division_by_code(session, 'KUVA')\n"
            "    for n in range(int(sys.argv[2])):\n"
            "        people.ensure_person(session, int(sys.argv[3]) + n, name=f'H {n}', "
            "roles={Role.CONTACT}, division_id=kuva.id)\n"
        )
        subprocess.run(
            [sys.executable, "-c", script, url, str(count), str(FIRST_ID)], cwd=code, check=True
        )
        return
    engine, sessions = prepare_database(url)
    with transaction(sessions) as session:
        kuva = catalog.division_by_code(session, "KUVA")
        assert kuva is not None
        for n in range(count):
            people.ensure_person(
                session, FIRST_ID + n, name=f"H {n}", roles={Role.CONTACT}, division_id=kuva.id
            )
    engine.dispose()


class Replies:
    """Wakes the one contact a bot message is for (``LocalBotApi.on_bot_message``).

    ``LocalUser.wait_for_message`` wakes every waiter on every event of the fake API (each
    then scans the events since its mark): with 100 contacts waiting that cost the bench
    process more CPU than a replica spent on the update, and its event loop — the fake Bot
    API's too — fell behind, which the figures then counted as the bot's latency."""

    def __init__(self, api: LocalBotApi) -> None:
        self._waiting: dict[int, tuple[tuple[str, ...], asyncio.Future[ChatMessage]]] = {}
        self.unsubscribe = api.on_bot_message(self._seen)

    def _seen(self, event: Any) -> None:
        waiter = self._waiting.get(event.message.chat_id)
        if waiter is None or event.kind == "deleted":
            return
        expect, future = waiter
        if any(text in event.message.text for text in expect) and not future.done():
            future.set_result(event.message)

    def expect(self, chat_id: int, contains: str | tuple[str, ...]) -> asyncio.Future[ChatMessage]:
        """A future done with the next bot message to ``chat_id`` containing ``contains``
        (or one of them) — call before the update is posted."""
        future: asyncio.Future[ChatMessage] = asyncio.get_running_loop().create_future()
        self._waiting[chat_id] = ((contains,) if isinstance(contains, str) else contains, future)
        return future

    def forget(self, chat_id: int) -> None:
        self._waiting.pop(chat_id, None)

    async def wait(
        self, chat_id: int, future: asyncio.Future[ChatMessage], timeout: float
    ) -> ChatMessage:
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(chat_id, None)


#: How often `_probe_lag` looks.
LAG_PROBE_SECONDS = 0.05


async def _probe_lag(lags: list[float]) -> None:
    """How late the event loop wakes a timer, every `LAG_PROBE_SECONDS`: a request to the
    fake Bot API waits about that long before it is read, so this is the bench's part of
    the answer time the replicas see (the rest is theirs and the machine's)."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(LAG_PROBE_SECONDS)
        lags.append(max(0.0, loop.time() - asked - LAG_PROBE_SECONDS))


def _take(api: LocalBotApi, update_id: int) -> dict[str, Any]:
    """The queued update, out of the getUpdates queue (it is posted to a replica instead)."""
    for index, update in enumerate(api.updates.pending):
        if int(str(update["update_id"])) == update_id:
            return api.updates.pending.pop(index)
    raise KeyError(update_id)


@dataclass
class Driver:
    """What every simulated person's updates go through: the fake Bot API, the replicas in
    turn (as a load balancer sends them), one HTTP client, the run's tally and its pace."""

    api: LocalBotApi
    urls: itertools.cycle[tuple[int, str]]
    client: httpx.AsyncClient
    run: Run
    until: float
    think: float
    timeout: float = 30.0
    #: The replica each person's last update went to.
    replica_of: dict[int, int] = field(default_factory=dict)

    async def step(
        self,
        user: LocalUser,
        action: str,
        value: str | bytes,
        expect: str | tuple[str, ...],
        name: str = "",
    ) -> ChatMessage | None:
        """Post one update (to the next replica) and wait for the bot's message containing
        ``expect`` (or one of them); None when none comes (counted lost) or the button is
        not there. ``action``: "send" a text, "press" a button, or send a "document"
        (``value`` its bytes, ``name`` its file name)."""
        api, run = self.api, self.run
        user.mark = len(api.events)
        replies = run.replies
        assert replies is not None
        answered = replies.expect(user.chat_id, expect)
        if action == "send":
            update_id = api.push_text(user.info, user.chat, str(value))[1]
        elif action == "document":
            assert isinstance(value, bytes)
            update_id = api.push_document(user.info, user.chat, name, value)[1]
        else:
            try:
                message = user.message_with_button(str(value))
            except AssertionError:
                replies.forget(user.chat_id)
                return None
            button = message.find_button(str(value))
            assert button is not None
            update_id = api.push_callback(user.info, message, str(button["callback_data"]))[1]
        index, url = next(self.urls)
        self.replica_of[user.id] = index
        started = time.monotonic()
        payload = _take(api, update_id)
        for _attempt in range(3):  # Telegram delivers again what was not answered 200
            try:
                answer = await self.client.post(url, json=payload, headers={SECRET_HEADER: SECRET})
                status = str(answer.status_code)
            except httpx.HTTPError as error:  # e.g. a kept-alive connection the server closed
                status = type(error).__name__
            if status == "200":
                break
        ok = status == "200"
        run.posted[index] = run.posted.get(index, 0) + 1
        try:
            if not ok:
                raise TimeoutError
            reply = await replies.wait(user.chat_id, answered, self.timeout)
        except TimeoutError:
            replies.forget(user.chat_id)
            run.lost += 1
            last = user.messages[-1].text[:60] if user.messages else ""
            what = name or value
            run.why.append(f"{what!r} -> {status if not ok else 'no answer'}; last {last!r}")
            return None
        run.latencies.append(time.monotonic() - started)
        run.done += 1
        return reply

    async def paced(self, user: LocalUser, action: str, value: str, expect: str) -> bool:
        """`step`, then the person's pause before the next input; whether it was answered."""
        answer = await self.step(user, action, value, expect)
        await asyncio.sleep(self.think)
        return answer is not None


async def _person(driver: Driver, user: LocalUser) -> None:
    steps = [
        ("send", "/raportoi", "Vaihe 1/6"),
        ("press", ENTITY, "Taso 1"),
        ("send", "/peru", "Peruttu"),
    ]
    for action, value, expect in itertools.cycle(steps):
        if time.monotonic() >= driver.until:
            return
        await driver.paced(user, action, value, expect)


def _buttons(user: LocalUser) -> list[str]:
    return [label for row in user.messages[-1].buttons for label in row] if user.messages else []


#: Level 1's first catalog method: what a contact's first save types at each level.
FIRST_METHOD = "Tiedotustilaisuudet"


async def _change_in_chat(driver: Driver, user: LocalUser, count: int) -> bool:
    """On the summary of a saved entity, change the answers so that this save differs from
    the one before in its rows, not only in a count: every other time level 2 gets a second
    method (typed on the level, "2 <count>"), the other times that method is removed and
    level 1's count changed. False when an answer did not come."""
    removals = [label for label in _buttons(user) if label.startswith("🗑 T2 ")]
    if len(removals) < 2:
        return await driver.paced(user, "press", "Taso 2", "Taso 2") and await driver.paced(
            user, "send", f"2 {count}", "Yhteenveto"
        )
    return (
        await driver.paced(user, "press", removals[-1], "Yhteenveto")
        and await driver.paced(user, "press", f"✎ T1 {FIRST_METHOD}", "Lkm")
        and await driver.paced(user, "send", str(count), "Yhteenveto")
    )


def _workbook_change(content: bytes, code: str, count: int) -> tuple[bytes, Counter[Row]] | None:
    """The division's workbook with the entity's level-1 answer of `FIRST_METHOD` set to
    ``count``, and the entity's answers as the changed file holds them; None when the file
    has no such answer."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    meta = {row[0]: row[1] for row in book[layout.META_SHEET].iter_rows(values_only=True)}
    sheet_of = {k: name for k, name, _runs in json.loads(str(meta["layout"]))["participation"]}
    sheet = book[sheet_of[code]]
    rows: Counter[Row] = Counter()
    changed = False
    for r in itertools.count(layout.FIRST_ROW):
        label = sheet.cell(row=r, column=layout.P_LEVEL).value
        if label is None:
            break
        level = int(str(label).split()[0])
        method = sheet.cell(row=r, column=layout.P_METHOD).value
        method = method or sheet.cell(row=r, column=layout.P_OWN).value
        cell = sheet.cell(row=r, column=layout.P_COUNT)
        if level == 1 and method == FIRST_METHOD and cell.value is not None:
            cell.value = count
            changed = True
        if cell.value is not None:
            rows[(level, str(method), int(cell.value))] += 1
    if not changed:
        return None
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), rows


async def _save_by_excel(
    driver: Driver, user: LocalUser, entity_id: int, code: str, number: int, count: int
) -> Save | None:
    """The entity's level-1 count changed in the division's workbook, the file sent back and
    its change summary saved: the import path (``/excel``), through whichever replicas the
    updates go to. The save, or None when the file could not be had or changed."""
    sent = await driver.step(user, "send", "/excel", "työkirja")
    await asyncio.sleep(driver.think)
    document = sent.document if sent else None
    changed = _workbook_change(document.content, code, count) if document else None
    if document is None or changed is None:
        return None
    content, rows = changed
    # Besides the change summary: the file refused because the entity was saved elsewhere
    # after the workbook was made ("Tiedostosta ei voi tallentaa"), or, on a loaded machine,
    # the bot timing out fetching the file from the fake Bot API ("Tiedostoa ei saatu").
    pressed = time.monotonic()
    summary = await driver.step(
        user,
        "document",
        content,
        ("Tiedosto on kunnossa", "Tiedostosta ei", "Tiedostoa ei"),
        document.filename,
    )
    await asyncio.sleep(driver.think)
    if summary is not None and summary.text.startswith("Tiedostosta ei"):
        return Save(
            entity_id, rows, pressed, "refused", number, driver.replica_of[user.id], "excel"
        )
    if summary is None or summary.find_button("Tallenna") is None:
        return None
    pressed = time.monotonic()
    answer = await driver.step(user, "press", "Tallenna", SAVE_ANSWERS)
    replica = driver.replica_of[user.id]
    return Save(entity_id, rows, pressed, _outcome(answer), number, replica, "excel")


#: How the bot answers a press of *Tallenna* (chat and workbook): saved, or refused because
#: the entity was changed elsewhere in between ("Mitään ei tallennettu: …").
SAVE_ANSWERS = ("Tallennettu", "ei tallennettu")


def _outcome(answer: ChatMessage | None) -> str:
    """What the bot's answer to a press of *Tallenna* says of the save."""
    if answer is None:
        return "unknown"
    return "confirmed" if answer.text.startswith("Tallennettu") else "refused"


async def _saver(
    driver: Driver,
    user: LocalUser,
    entity: tuple[int, str, str],
    number: int,
    saves: int,
    excel: bool,
) -> None:
    """One contact changing and saving its entity over and over (``--saves``): at least
    ``saves`` presses of *Tallenna*, each with other answers than the one before, and on
    until the run's time is up; with ``excel`` its third save goes through the workbook."""
    entity_id, code, name = entity
    run = driver.run
    pressed_saves = 0
    for attempt in itertools.count(1):
        if time.monotonic() >= driver.until and pressed_saves >= saves:
            return
        count = number * 100 + attempt  # unique to this attempt
        if excel and attempt == 3 and entity_id in driver.run.confirmed_entities():
            # One save through the Excel import path, in between the chat's.
            save = await _save_by_excel(driver, user, entity_id, code, number, count)
            if save is not None:
                driver.run.saves.append(save)
                pressed_saves += 1
            await driver.paced(user, "send", "/peru", "")
            continue
        if not await driver.paced(user, "send", "/raportoi", "Vaihe 1/6"):
            await driver.paced(user, "send", "/peru", "")
            continue
        label = name if name in _buttons(user) else f"✓ {name}"
        if not await driver.paced(user, "press", label, "Vaihe"):
            await driver.paced(user, "send", "/peru", "")
            continue
        if "Yhteenveto" in user.messages[-1].text:  # saved already
            ok = await _change_in_chat(driver, user, count)
        else:
            ok = True
            for expect in ("Vaihe 3/6", "Vaihe 4/6", "Vaihe 5/6", "Yhteenveto"):
                ok = ok and await driver.paced(user, "send", f"1 {count}", expect)
        if not ok:
            await driver.paced(user, "send", "/peru", "")
            continue
        year, rows = _summary_rows(user.messages[-1].text)
        run.year_seen.add(year)
        pressed = time.monotonic()
        answer = await driver.step(user, "press", "💾 Tallenna", SAVE_ANSWERS)
        replica = driver.replica_of[user.id]
        run.saves.append(Save(entity_id, rows, pressed, _outcome(answer), number, replica))
        pressed_saves += 1
        await asyncio.sleep(driver.think)
        await driver.paced(user, "send", "/peru", "")


def _count_limits(api: LocalBotApi) -> Counter[str]:
    """Which of Telegram's limits each 429 came from (overall, chat, group)."""
    which: Counter[str] = Counter()
    flood = api.flood
    assert flood is not None
    original = flood.retry_after

    def retry_after(chat_id: int | str) -> int | None:
        wait = original(chat_id)
        if wait is not None:
            now = flood.clock()
            chat = flood._chats.get(chat_id)
            recent = [t for t in chat or () if t > now - 1.0]
            which["chat" if len(recent) >= flood.limits.per_chat_per_second else "overall"] += 1
        return wait

    flood.retry_after = retry_after  # type: ignore[method-assign]
    return which


def _doubled(api: LocalBotApi, users: list[LocalUser]) -> int:
    doubled = 0
    for user in users:
        texts = [m.text for m in user.messages]
        doubled += sum(1 for a, b in itertools.pairwise(texts) if a == b)
    return doubled


#: The log line that ends a replica's start-up work (``bot.admin.menus``: every person's
#: command menu set): measuring before it would count that work, minutes of Bot API calls
#: on a loaded machine with a fresh schema, against the updates.
STARTED = "command menus checked="


def _wait_started(process: BotProcess, ceiling: float = 300.0) -> None:
    """Until the replica has done its start-up work (`STARTED` in its log); an older
    release that does not log it gets the ceiling's worth of waiting at most."""
    deadline = time.monotonic() + ceiling
    while STARTED not in process.log() and time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise AssertionError(f"replica exited:\n{process.log()}")
        time.sleep(0.2)


def _print_ceiling(
    run: Run, elapsed: float, calls: Counter[str], people: int, think: float, replicas: int
) -> None:
    """What this bench's cycle can reach at most, and how far the run was from it.

    Two ceilings: the contacts' own pace (each waits ``think`` after every answer, so at
    most ``people / think`` updates/s however fast the bot is), and the bot's share of
    Telegram (the paced messages, i.e. new messages and edits of a question, go out at most
    ``pacing.DEFAULT_PER_SECOND`` per second for the whole deployment; answers to button
    presses are not paced)."""
    from delivery.pacing import DEFAULT_PER_SECOND, is_message

    answered = max(run.done, 1)
    paced = sum(n for method, n in calls.items() if is_message(method))
    per_update = paced / answered
    budget = DEFAULT_PER_SECOND / per_update if per_update else float("inf")
    ceiling = min(budget, people / think)
    rate = run.done / elapsed
    print(
        f"  ceiling {ceiling:.1f} updates/s (Telegram budget {DEFAULT_PER_SECOND}/s ÷ "
        f"{per_update:.2f} paced messages per update = {budget:.1f}; contacts {people} ÷ "
        f"think {think} s = {people / think:.1f}); replicas {replicas} reached "
        f"{100 * rate / ceiling:.0f} %"
    )


_SENDS = ("mittaribotti_telegram_send_seconds_sum", "mittaribotti_telegram_send_seconds_count")
_GATE = "mittaribotti_pacing_gate_waits_total"


def _scrape(processes: list[BotProcess]) -> list[dict[str, float]]:
    """Each replica's paced-send time (sum, count) and gate waits from ``/metrics`` (empty
    for a release without them)."""
    found = []
    for process in processes:
        values: dict[str, float] = {}
        try:
            body = httpx.get(f"{process.base}/metrics", timeout=30, trust_env=False).text
        except httpx.HTTPError:
            body = ""
        for line in body.splitlines():
            name, _, value = line.partition(" ")
            if name in (*_SENDS, _GATE):
                values[name] = float(value)
        found.append(values)
    return found


def _print_sends(
    before: list[dict[str, float]], after: list[dict[str, float]], shared: bool = True
) -> None:
    """How long Telegram (the fake) took to answer the replicas' paced sends, and what that
    leaves of the budget: the gate counts a send from its call until a window after its
    answer (``delivery.pacing``), so the deployment sends at most ``30 / (window + answer
    time)`` per second — ``replicas × (30 // replicas)`` instead of 30 for a release whose
    replicas each took an equal share (``shared`` False)."""
    from delivery.pacing import GATE_WINDOW_SECONDS, TELEGRAM_PER_SECOND

    pairs = list(zip(after, before, strict=True))
    total = sum(a.get(_SENDS[0], 0) - b.get(_SENDS[0], 0) for a, b in pairs)
    count = sum(a.get(_SENDS[1], 0) - b.get(_SENDS[1], 0) for a, b in pairs)
    waits = sum(a.get(_GATE, 0) - b.get(_GATE, 0) for a, b in pairs)
    if not count:
        return
    answer = total / count
    replicas = len(after)
    slots = TELEGRAM_PER_SECOND if shared else replicas * (TELEGRAM_PER_SECOND // replicas)
    gate = slots / (GATE_WINDOW_SECONDS + answer)
    print(
        f"  paced sends: {count:.0f}, Bot API answer {1000 * answer:.0f} ms on average (the "
        f"fake Bot API shares the bench's event loop), gate waits {waits:.0f}: the gate "
        f"allows {gate:.1f} messages/s at that answer time"
    )


def _start(base_url: str, url: str, log: Path, code: Path) -> BotProcess:
    """One replica of the code in ``code`` (this tree, or an older release's for a before
    figure)."""
    return start_bot(base_url, url, log, cwd=code)


def bench(
    base_url: str,
    replicas: int,
    count: int,
    seconds: float,
    think: float,
    code: Path = ROOT,
    *,
    saves: bool = False,
    saves_per_contact: int = 1,
    excel: bool = False,
) -> Run:
    """One run of ``replicas`` replicas; with ``saves`` the consistency run, each contact
    pressing *Tallenna* at least ``saves_per_contact`` times (``excel``: every fourth
    contact's third save through the workbook's import)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(base_url, schema)
    run = Run(replicas)
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / f"replicas-{schema}"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[BotProcess] = []
    try:
        chosen: list[tuple[int, str, str]] = []
        if saves:
            chosen = _register_spread(url, count)
        else:
            _register(url, count, code)
        api = LocalBotApi(
            token=TOKEN,
            enforce_limits=True,
            limits=FloodLimits(overall_per_second=30, per_chat_per_second=1, group_per_minute=20),
            settle_timeout=60,
        )
        users = [api.user(FIRST_ID + n, f"H{n}", language_code="fi") for n in range(count)]
        which = _count_limits(api)
        with ServerThread(api) as server:
            processes = [
                _start(server.base_url, url, log_dir / f"{n}.log", code) for n in range(replicas)
            ]
            for process in processes:
                process.wait_until_ready(timeout=120)
            for process in processes:
                _wait_started(process)
            # The heartbeats: every replica knows how many share the budget (an idle replica
            # looks every IDLE_SWEEP_SECONDS).
            time.sleep(IDLE_SWEEP_SECONDS + 1.0)
            scraped = _scrape(processes)
            before = [_cpu_seconds(p.process.pid) for p in processes]
            bench_before = time.process_time()
            api.rate_limit_errors = 0
            calls_before = len(api.calls)
            urls = itertools.cycle(list(enumerate(p.webhook for p in processes)))

            async def everyone() -> float:
                run.replies = Replies(api)
                limits = httpx.Limits(max_connections=200)
                probe = asyncio.create_task(_probe_lag(run.lags))
                try:
                    return await contacts(limits)
                finally:
                    probe.cancel()

            async def contacts(limits: httpx.Limits) -> float:
                async with httpx.AsyncClient(timeout=30, trust_env=False, limits=limits) as client:
                    started = time.monotonic()
                    driver = Driver(api, urls, client, run, started + seconds, think)
                    if saves:
                        await asyncio.gather(
                            *(
                                _saver(
                                    driver,
                                    user,
                                    chosen[n],
                                    n,
                                    saves_per_contact,
                                    excel and n % 4 == 0,
                                )
                                for n, user in enumerate(users)
                            )
                        )
                    else:
                        await asyncio.gather(*(_person(driver, user) for user in users))
                    return time.monotonic() - started

            # A ceiling for a loaded machine: each contact's saves are ~10 updates apiece.
            ceiling = seconds + 120 + (60 * saves_per_contact if saves else 0)
            elapsed = server.run_sync(everyone(), timeout=ceiling)
            after = [_cpu_seconds(p.process.pid) for p in processes]
            bench_cpu = time.process_time() - bench_before
            sends = (scraped, _scrape(processes))
            calls = Counter(call.method for call in api.calls[calls_before:])
            rate_limited = api.rate_limit_errors
            doubled = _doubled(api, users)
            if saves:
                check_consistency(run, url)
        cpu = [
            1000 * (b - a) / max(run.posted.get(i, 0), 1)
            for i, (a, b) in enumerate(zip(before, after, strict=True))
        ]
        updates = run.done + run.lost
        p50 = statistics.median(run.latencies) * 1000 if run.latencies else float("nan")
        p95 = (
            statistics.quantiles(run.latencies, n=20)[18] * 1000
            if len(run.latencies) >= 20
            else float("nan")
        )
        print(
            f"replicas {replicas}: {run.done / elapsed:6.1f} updates/s ({updates} updates, "
            f"{run.done} answered), p50 {p50:.0f} ms, p95 {p95:.0f} ms, 429 {rate_limited}, "
            f"lost {run.lost}, doubled {doubled}, CPU ms/update per replica "
            + " ".join(f"{c:.1f}" for c in cpu)
        )
        _print_ceiling(run, elapsed, calls, count, think, replicas)
        _print_sends(*sends, shared=code == ROOT)
        lags = sorted(run.lags) or [float("nan")]
        print(
            f"  bench process (contacts and fake Bot API, one event loop) CPU ms/update "
            f"{1000 * bench_cpu / max(updates, 1):.1f}, its event loop late by "
            f"{1000 * lags[len(lags) // 2]:.0f} ms p50, {1000 * lags[len(lags) * 95 // 100]:.0f}"
            f" ms p95 (the fake Bot API's share of the answer time); Bot API calls {dict(calls)}"
        )
        if rate_limited:
            print(f"  429 by limit: {dict(which)}")
        for line in run.why[:3]:
            print(f"  lost: {line}")
        for what, value in (("429", rate_limited), ("lost", run.lost), ("doubled", doubled)):
            if value:
                print(f"MISSED replicas {replicas}: {what} {value} (target 0)")
        if saves:
            outcomes = Counter(save.outcome for save in run.saves)
            by_excel = Counter(save.outcome for save in run.saves if save.path == "excel")
            per_entity = Counter(s.entity for s in run.saves if s.outcome == "confirmed")
            print(
                f"consistency, replicas {replicas}: {len({s.entity for s in run.saves})} "
                f"entities, {len(run.saves)} saves pressed ({len(users)} contacts), "
                f"{outcomes['confirmed']} confirmed (at most {max(per_entity.values(), default=0)}"
                f" on one entity), {outcomes['refused']} refused as changed elsewhere, "
                f"{outcomes['unknown']} unanswered; through the workbook {sum(by_excel.values())}"
                f" ({by_excel['confirmed']} confirmed); entities not equal to their last "
                f"confirmed save: {len(run.mismatches)}"
            )
            for line in run.mismatches[:5]:
                print(f"  {line}")
            if run.mismatches:
                print(f"MISSED consistency, replicas {replicas}: {len(run.mismatches)} entities")
        return run
    finally:
        for process in processes:
            process.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=1.1)
    parser.add_argument("--replicas", default=None, help="default 1,2,4 (--saves: 4)")
    parser.add_argument(
        "--saves",
        action="store_true",
        help="the consistency run: contacts save their entities concurrently (module docstring)",
    )
    parser.add_argument(
        "--saves-per-contact",
        type=int,
        default=3,
        help="with --saves: each contact presses Tallenna at least this often (default 3)",
    )
    parser.add_argument(
        "--no-excel",
        action="store_true",
        help="with --saves: every save through the chat, none through the workbook's import",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="run the replicas from another checkout (e.g. the release before, for a before "
        "figure)",
    )
    args = parser.parse_args()
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        print("MISSED replicas bench: not run, set BENCH_DATABASE_URL (or TEST_DATABASE_URL)")
        return 0
    print(
        f"replicas bench: {args.people} people, {args.seconds:.0f} s per run, think "
        f"{args.think} s, load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, "
        f"code {args.code}"
    )
    replicas = args.replicas or ("4" if args.saves else "1,2,4")
    for count in (int(n) for n in replicas.split(",")):
        bench(
            base,
            count,
            args.people,
            args.seconds,
            args.think,
            args.code.resolve(),
            saves=args.saves,
            saves_per_contact=args.saves_per_contact,
            excel=not args.no_excel,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

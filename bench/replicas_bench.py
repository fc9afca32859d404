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
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
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
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime import prepare_database  # noqa: E402
from data import catalog, people  # noqa: E402
from data.db import transaction  # noqa: E402
from data.models import Role  # noqa: E402
from localtg import LocalBotApi, LocalUser  # noqa: E402
from localtg.http import ServerThread  # noqa: E402
from localtg.limits import FloodLimits  # noqa: E402
from localtg.webhook import SECRET_HEADER  # noqa: E402
from tests.bot.processes import (  # noqa: E402
    SECRET,
    TOKEN,
    BotProcess,
    start_bot,
)

FIRST_ID = 90_000
ENTITY = "Kirjasto"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    replicas: int
    latencies: list[float] = field(default_factory=list)
    done: int = 0
    lost: int = 0
    posted: dict[int, int] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


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


def _take(api: LocalBotApi, update_id: int) -> dict[str, Any]:
    """The queued update, out of the getUpdates queue (it is posted to a replica instead)."""
    for index, update in enumerate(api.updates.pending):
        if int(str(update["update_id"])) == update_id:
            return api.updates.pending.pop(index)
    raise KeyError(update_id)


async def _person(
    api: LocalBotApi,
    user: LocalUser,
    urls: itertools.cycle[tuple[int, str]],
    client: httpx.AsyncClient,
    run: Run,
    until: float,
    think: float,
    timeout: float,
) -> None:
    steps = [
        ("send", "/raportoi", "Vaihe 1/6"),
        ("press", ENTITY, "Taso 1"),
        ("send", "/peru", "Peruttu"),
    ]
    for action, value, expect in itertools.cycle(steps):
        if time.monotonic() >= until:
            return
        user.mark = len(api.events)
        if action == "send":
            update_id = api.push_text(user.info, user.chat, value)[1]
        else:
            try:
                message = user.message_with_button(value)
            except AssertionError:
                continue
            button = message.find_button(value)
            assert button is not None
            update_id = api.push_callback(user.info, message, str(button["callback_data"]))[1]
        index, url = next(urls)
        started = time.monotonic()
        payload = _take(api, update_id)
        for _attempt in range(3):  # Telegram delivers again what was not answered 200
            try:
                answer = await client.post(url, json=payload, headers={SECRET_HEADER: SECRET})
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
            await user.wait_for_message(contains=expect or None, timeout=timeout)
        except TimeoutError:
            run.lost += 1
            last = user.messages[-1].text[:60] if user.messages else ""
            run.why.append(f"{value!r} -> {status if not ok else 'no answer'}; last {last!r}")
            continue
        run.latencies.append(time.monotonic() - started)
        run.done += 1
        await asyncio.sleep(think)


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


def _start(base_url: str, url: str, log: Path, code: Path) -> BotProcess:
    """One replica of the code in ``code`` (this tree, or an older release's for a before
    figure)."""
    return start_bot(base_url, url, log, cwd=code)


def bench(
    base_url: str, replicas: int, count: int, seconds: float, think: float, code: Path = ROOT
) -> Run:
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
            time.sleep(3.0)  # the heartbeats: every replica knows how many share the budget
            before = [_cpu_seconds(p.process.pid) for p in processes]
            api.rate_limit_errors = 0
            urls = itertools.cycle(list(enumerate(p.webhook for p in processes)))

            async def everyone() -> float:
                until = time.monotonic() + seconds
                limits = httpx.Limits(max_connections=200)
                async with httpx.AsyncClient(timeout=30, trust_env=False, limits=limits) as client:
                    started = time.monotonic()
                    await asyncio.gather(
                        *(
                            _person(api, user, urls, client, run, until, think, 30.0)
                            for user in users
                        )
                    )
                    return time.monotonic() - started

            elapsed = server.run_sync(everyone(), timeout=seconds + 120)
            after = [_cpu_seconds(p.process.pid) for p in processes]
            rate_limited = api.rate_limit_errors
            doubled = _doubled(api, users)
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
        if rate_limited:
            print(f"  429 by limit: {dict(which)}")
        for line in run.why[:3]:
            print(f"  lost: {line}")
        for what, value in (("429", rate_limited), ("lost", run.lost), ("doubled", doubled)):
            if value:
                print(f"MISSED replicas {replicas}: {what} {value} (target 0)")
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
    parser.add_argument("--replicas", default="1,2,4")
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
    for count in (int(n) for n in args.replicas.split(",")):
        bench(base, count, args.people, args.seconds, args.think, args.code.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

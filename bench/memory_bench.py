"""Benchmark: the bot's memory stays flat while it serves the same people for a long time.

10 contacts report participation over and over (the 14-update /raportoi conversation of
bench/reporting_bench.py, saved each time) through the local Telegram, on SQLite or
PostgreSQL. After a warm-up the process's RSS is sampled every few thousand updates; the
target is RSS flat within ± 10 % over 50 000 updates (issue 19: a process serving 10 people
grew from 166 MB to 303 MB over 15 000 updates, about 9 kB per update). The local Telegram's
own records (calls, transcripts, events) are trimmed as it goes, so only the bot is measured.
With ``--trace`` the biggest growths by allocation site are printed too (tracemalloc).

    .venv/bin/python bench/memory_bench.py [--updates 50000] [--warmup 5000] [--contacts 10]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--trace]
        [--malloc-trim] [--sqlite-cache-kib N] [--sqlite-statements N]

The last three are A/B switches for memory outside Python's allocations (which ``--trace``
does not see): the C allocator's free memory given back before each sample, SQLite's page
cache and its prepared-statement cache per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import gc
import logging
import resource
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import collect_errors, local_bot, postgres_schema  # noqa: E402
from reporting_bench import (  # noqa: E402
    FIRST_USER_ID,
    UPDATES_PER_CONTACT,
    _afresh,
    _prepare_database,
    _report,
)
from sqlalchemy import event  # noqa: E402

from localtg import LocalBotApi, running  # noqa: E402

FLAT_TARGET = 0.10


def rss_mb() -> float:
    """The current resident set size (Linux /proc), in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


def _trim(api: LocalBotApi) -> None:
    """Forget what the local Telegram recorded (the bot's memory is what is measured)."""
    api.calls.clear()
    api.store.events.clear()
    for transcript in api.store.transcripts.values():
        del transcript[:-3]
    api.callback_queries.clear()


def _sqlite_cache(engine: Any, kib: int) -> None:
    """Every SQLite connection from now on with a page cache of ``kib`` KiB (SQLite's own
    default is 2 000 KiB per connection, outside Python's allocations): an A/B of how much
    of the RSS is the page caches filling while the database grows."""

    @event.listens_for(engine, "connect")
    def _cache(connection: Any, _record: Any) -> None:
        connection.execute(f"PRAGMA cache_size = -{int(kib)}")

    engine.dispose()  # the connections made before use the new size too


def _sqlite_statements(engine: Any, count: int) -> None:
    """Every SQLite connection from now on keeping ``count`` prepared statements (Python's
    ``sqlite3`` keeps 128 per connection, allocated by SQLite: outside tracemalloc's view).
    Statements with expanding ``IN`` lists have a text per list length, so new ones keep
    coming while rare lengths turn up."""

    @event.listens_for(engine, "do_connect")
    def _statements(_dialect: Any, _record: Any, _cargs: Any, cparams: Any) -> None:
        cparams["cached_statements"] = count

    engine.dispose()


def _malloc_trim() -> None:
    """Give the C allocator's free memory back to the system (glibc ``malloc_trim``): what
    RSS then still holds is in use, not freed memory the allocator kept."""
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


async def run(url: str, schema: str | None, args: argparse.Namespace) -> list[str]:
    engine, sessions = _prepare_database(url, schema, args.contacts)
    if args.sqlite_cache_kib is not None and schema is None:
        _sqlite_cache(engine, args.sqlite_cache_kib)
    if args.sqlite_statements is not None and schema is None:
        _sqlite_statements(engine, args.sqlite_statements)
    api = LocalBotApi(settle_timeout=600)
    app = local_bot(api, sessions)
    errors = collect_errors(app)
    users = [
        api.user(FIRST_USER_ID + i, f"Kontakti{i}", language_code="fi")
        for i in range(args.contacts)
    ]
    per_round = UPDATES_PER_CONTACT * args.contacts
    samples: list[tuple[int, float]] = []
    done = 0
    lines = []
    snapshot = None
    try:
        async with running(app, api):
            while done < args.warmup + args.updates:
                await asyncio.gather(*(_report(user, i) for i, user in enumerate(users)))
                done += per_round
                _trim(api)
                _afresh(engine)
                if errors:
                    raise RuntimeError(f"handlers raised: {errors[:3]!r}")
                last = done >= args.warmup + args.updates  # the span ends on a sample
                if done >= args.warmup and (
                    not samples or last or done - samples[-1][0] >= args.sample_every
                ):
                    gc.collect()
                    if args.malloc_trim:
                        _malloc_trim()
                    samples.append((done, rss_mb()))
                    # As it goes, so that a run cut short still shows its figures.
                    print(f"  after {done} updates: RSS {samples[-1][1]:.1f} MB", flush=True)
                    if args.trace and snapshot is None:
                        tracemalloc.start(12)
                        snapshot = tracemalloc.take_snapshot()
    finally:
        engine.dispose()
    if args.trace and snapshot is not None:
        gc.collect()
        later = tracemalloc.take_snapshot()
        for stat in later.compare_to(snapshot, "traceback")[:8]:
            lines.append(f"  growth {stat.size_diff / 1024:8.0f} kB  {stat.count_diff:+7d} blocks")
            lines.extend(f"      {frame}" for frame in stat.traceback.format()[-8:])
    first_count, first = samples[0]
    last_count, last = samples[-1]
    low, high = min(r for _, r in samples), max(r for _, r in samples)
    per_update = (last - first) * 1024 * 1024 / max(last_count - first_count, 1)
    lines.insert(
        0,
        f"RSS after warm-up ({first_count} updates) {first:.1f} MB, after {last_count} "
        f"{last:.1f} MB; range {low:.1f}–{high:.1f} MB ({(high - low) / first:+.1%}); "
        f"{per_update:+.0f} bytes/update",
    )
    lines.insert(1, "  samples: " + ", ".join(f"{n}:{r:.0f}" for n, r in samples))
    if (high - low) / first > FLAT_TARGET:
        lines.append(
            f"MISSED memory: RSS moved {(high - low) / first:.1%} over "
            f"{last_count - first_count} updates (target ± {FLAT_TARGET:.0%})"
        )
    return lines


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--contacts", type=int, default=10)
    parser.add_argument("--sample-every", type=int, default=5_000)
    parser.add_argument("--postgres", default=None, help="run on PostgreSQL instead of SQLite")
    parser.add_argument("--trace", action="store_true", help="tracemalloc's top growths")
    parser.add_argument(
        "--sqlite-statements", type=int, default=None, help="prepared statements kept"
    )
    parser.add_argument(
        "--malloc-trim", action="store_true", help="malloc_trim(0) before each sample"
    )
    parser.add_argument(
        "--sqlite-cache-kib", type=int, default=None, help="SQLite page cache per connection"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.postgres:
        with postgres_schema(args.postgres) as schema:
            lines = await run(args.postgres, schema, args)
        database = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            lines = await run(f"sqlite:///{tmp}/memory.sqlite3", None, args)
        database = "SQLite"
    print(f"memory on {database}, {args.contacts} contacts:")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

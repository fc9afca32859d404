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
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import resource
import sys
import tempfile
import tracemalloc
from pathlib import Path

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


async def run(url: str, schema: str | None, args: argparse.Namespace) -> list[str]:
    engine, sessions = _prepare_database(url, schema, args.contacts)
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

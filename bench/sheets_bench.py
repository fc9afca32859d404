"""Excel round trip: time to build a division's workbook, to check it back, and to refuse a
file padded with data (the bot does this in a worker thread, so chats stay responsive).

Then a division with 20 000 saved answers: its own export must be accepted back, and the
check must take at most 0.1 ms of CPU per answer (CPU time: wall-clock swings on a shared
machine). A missed target prints a line starting with MISSED.

    .venv/bin/python bench/sheets_bench.py [--answers 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import load_workbook
from sqlalchemy import insert

import sheets
from data import catalog
from data.catalog import division_by_code, load_catalog
from data.db import make_engine, make_sessionmaker, migrate, transaction
from data.models import ParticipationEntry
from data.progress import get_or_create_round

#: The large workbook's check: at most this much CPU per answer.
CHECK_TARGET_MS = 0.1


def large(answers: int) -> list[str]:
    """A division with ``answers`` saved answers: export, check it back; the lines to print."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/large.sqlite3")
        migrate(engine)
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as session:
            load_catalog(session)
            division = division_by_code(session, "KASKO")
            assert division is not None
            entities = catalog.service_entities(session, division.id)
            levels = catalog.levels(session)
            rnd = get_or_create_round(session, 2026)
            rows = [
                {
                    "round_id": rnd.id,
                    "division_id": division.id,
                    "service_entity_id": entities[n % len(entities)].id,
                    "level_id": levels[(n // len(entities)) % len(levels)].id,
                    "method_text": f"Oma tapa {n}",
                    "count": n % 1000 + 1,
                    "note": "huomautus" if n % 7 == 0 else None,
                }
                for n in range(answers)
            ]
            session.execute(insert(ParticipationEntry), rows)
        with transaction(sessions) as session:
            division = division_by_code(session, "KASKO")
            assert division is not None
            started = time.perf_counter()
            name, content = sheets.export(session, division, 2026, "fi")
            built = time.perf_counter() - started
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                checked = sheets.check(
                    session, content, name, division=division, year=2026, language="fi"
                )
                outcome = "accepted" if checked.ok else f"{len(checked.parsed.errors)} cell errors"
                accepted = checked.ok and checked.changes is not None and checked.changes.empty
            except sheets.Rejection as rejection:
                outcome, accepted = f"refused: {rejection.message}", False
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        engine.dispose()
    per_answer = cpu * 1000 / answers
    lines = [
        f"workbook of {answers} answers: {len(content) / 1024:.0f} kB, built in {built:.1f} s",
        f"its own export checked back: {outcome}, {wall:.1f} s wall, "
        f"check {per_answer:.3f} ms CPU per answer (target ≤ {CHECK_TARGET_MS})",
    ]
    if not accepted:
        lines.append(f"MISSED the bot's own export of {answers} answers is not accepted unchanged")
    if per_answer > CHECK_TARGET_MS:
        lines.append(f"MISSED check {per_answer:.3f} ms CPU per answer > {CHECK_TARGET_MS} ms")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        migrate(engine)
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as session:
            load_catalog(session)
            division = division_by_code(session, "KASKO")
            assert division is not None
            started = time.perf_counter()
            name, content = sheets.export(session, division, 2026, "fi")
            built = time.perf_counter() - started
            started = time.perf_counter()
            sheets.check(session, content, name, division=division, year=2026, language="fi")
            checked = time.perf_counter() - started
        workbook = load_workbook(io.BytesIO(content))
        sheet = workbook["Perusopetus"]
        for row in range(30, 4030):
            for column in range(1, 60):
                sheet.cell(row, column, value=row * column)
        out = io.BytesIO()
        workbook.save(out)
        padded = out.getvalue()
        with transaction(sessions) as session:
            division = division_by_code(session, "KASKO")
            assert division is not None
            started = time.perf_counter()
            with contextlib.suppress(sheets.Rejection):
                sheets.check(session, padded, name, division=division, year=2026, language="fi")
            refused = time.perf_counter() - started
        engine.dispose()
    print(f"workbook KASKO: {len(content) / 1024:.0f} kB, built in {built * 1000:.0f} ms")
    print(f"unchanged workbook checked in {checked * 1000:.0f} ms")
    print(f"{len(padded) / 1024 / 1024:.1f} MB padded workbook refused in {refused * 1000:.0f} ms")
    for line in large(args.answers):
        print(line)


if __name__ == "__main__":
    main()

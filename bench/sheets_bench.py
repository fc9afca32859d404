"""Excel round trip: time to build a division's workbook, to check it back, and to refuse a
file padded with data (the bot does this in a worker thread, so chats stay responsive)."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import load_workbook

import sheets
from data.catalog import division_by_code, load_catalog
from data.db import make_engine, make_sessionmaker, migrate, transaction


def main() -> None:
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


if __name__ == "__main__":
    main()

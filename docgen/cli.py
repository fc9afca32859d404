"""Command line: ``python -m docgen --out DIR [--year Y] [--only KIND] [--demo]``.

Without ``--demo`` the documents are built from the configured database. A first-time
user may have an empty one: it is migrated and the reference catalog loaded. A round
with no data at all is an error (one line, exit 1) unless ``--allow-empty`` asks for the
"no data reported" documents anyway. With ``--demo`` a throwaway SQLite
database under a temporary directory is filled with ``data.demo.seed_demo_round``.

Every expected problem (a wrong argument, a broken config or wording file, an unreachable
database, an unwritable directory) is one line on stderr and a non-zero exit status.
Messages are in English, like the other command lines; the documents are Finnish.
Presenter, contact and case details still at their config.yaml placeholders are warned
about (``docgen.readiness``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from data import catalog
from data.catalog import CatalogError, load_catalog
from data.db import has_schema, make_engine, make_sessionmaker, migrate, transaction
from data.demo import seed_demo_round
from data.snapshot import RoundSnapshot, read_snapshot
from docgen import KINDS, generate, generate_all, pdf
from docgen.readiness import placeholder_warnings
from docgen.wording import WordingError
from settings import ConfigError, Settings, load_settings

PROG = "python -m docgen"

# Why a PDF copy is missing from the package (docgen.pdf's reason codes), in English.
PDF_REASONS = {
    pdf.NOT_INSTALLED: "LibreOffice is not installed",
    pdf.TIMEOUT: "LibreOffice did not finish within {seconds} s",
    pdf.FAILED: "the LibreOffice conversion failed",
    pdf.NO_OUTPUT: "LibreOffice wrote no PDF for it",
}


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; users get the error in one line instead."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Make the city board's list text, its attachments, the instructions and the "
            "management-group slides from a year's strategy-metric data."
        ),
    )
    parser.add_argument("--out", required=True, type=Path, help="directory to write the files to")
    parser.add_argument("--year", type=int, help="the round's year (default: the current year)")
    parser.add_argument("--only", choices=KINDS, help="only this document")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use sample data in a throwaway database (the real database is not touched)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="write the documents even when nothing has been reported for the year",
    )
    return parser


def database_snapshot(settings: Settings, year: int) -> RoundSnapshot:
    """The year's snapshot from the configured database, preparing an empty database first."""
    engine = make_engine(settings.database.url)
    try:
        if not has_schema(engine):
            migrate(engine)
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as session:
            if not catalog.levels(session, include_retired=True):
                load_catalog(session)
        return read_snapshot(sessions, year)
    finally:
        engine.dispose()


def demo_snapshot(year: int) -> RoundSnapshot:
    """The snapshot of a freshly seeded demo round, from a database deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="docgen-demo-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'demo.sqlite3'}")
        try:
            migrate(engine)
            sessions = make_sessionmaker(engine)
            with transaction(sessions) as session:
                load_catalog(session)
                seed_demo_round(session, year)
            return read_snapshot(sessions, year)
        finally:
            engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc}", file=sys.stderr)
        return 1
    now = dt.datetime.now(settings.tz)
    year = args.year if args.year is not None else now.year
    if not 2000 <= year <= 2100:
        parser.error(f"--year {year}: the year must be between 2000 and 2100")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: not a directory")
    try:
        snapshot = demo_snapshot(year) if args.demo else database_snapshot(settings, year)
        if not snapshot.has_data and not args.allow_empty:
            print(
                f"{PROG}: nothing has been reported for {year}; "
                "use --allow-empty to write the empty documents anyway",
                file=sys.stderr,
            )
            return 1
        if args.only:
            documents = generate(snapshot, args.only, settings=settings, today=now.date())
        else:
            documents = generate_all(snapshot, settings=settings, today=now.date())
        out.mkdir(parents=True, exist_ok=True)
        for doc in documents:
            path = out / doc.filename
            path.write_bytes(doc.content)
            print(path)
    except (WordingError, CatalogError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"{PROG}: database error: {reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: file error: {exc}", file=sys.stderr)
        return 1
    for warning in placeholder_warnings(settings, year):
        print(f"{PROG}: warning: {warning.english()}", file=sys.stderr)
    if not snapshot.has_data:
        print(f"{PROG}: nothing has been reported for {year}", file=sys.stderr)
    elif not snapshot.complete:
        print(f"{PROG}: the data is incomplete; the documents are marked LUONNOS", file=sys.stderr)
    for doc in documents:
        for name, reason in doc.missing_pdfs:
            why = PDF_REASONS[reason].format(seconds=pdf.TIMEOUT_SECONDS)
            print(f"{PROG}: warning: no PDF of {name}: {why}", file=sys.stderr)
    return 0

"""Command line: ``python -m docgen --out DIR [--year Y] [--only KIND] [--demo]``.

Without ``--demo`` the documents are built from the configured database. A first-time
user may have an empty one: it is migrated and the reference catalog loaded, so they get
"no data reported" documents instead of a crash. With ``--demo`` a throwaway SQLite
database under a temporary directory is filled with ``data.demo.seed_demo_round``.

Every expected problem (a wrong argument, a broken config or wording file, an unreachable
database, an unwritable directory) is one line on stderr and a non-zero exit status.
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
from docgen import KINDS, generate, generate_all
from docgen.wording import WordingError
from settings import ConfigError, Settings, load_settings

PROG = "python -m docgen"


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; users get the error in one line instead."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: virhe: {message} (ks. --help)\n")


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Luo kaupunginhallituksen listatekstin ja sen liitteet, ohjeet ja johtoryhmän "
            "diat strategiamittarien vuoden tiedoista."
        ),
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="hakemisto, johon tiedostot kirjoitetaan"
    )
    parser.add_argument("--year", type=int, help="kierroksen vuosi (oletus: kuluva vuosi)")
    parser.add_argument("--only", choices=KINDS, help="vain tämä dokumentti")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="käytä esimerkkiaineistoa väliaikaisessa tietokannassa (ei koske oikeaa tietokantaa)",
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
        print(f"{PROG}: asetusvirhe: {exc}", file=sys.stderr)
        return 1
    now = dt.datetime.now(settings.tz)
    year = args.year if args.year is not None else now.year
    if not 2000 <= year <= 2100:
        parser.error(f"--year {year}: vuoden pitää olla välillä 2000–2100")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: ei ole hakemisto")
    try:
        snapshot = demo_snapshot(year) if args.demo else database_snapshot(settings, year)
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
        print(f"{PROG}: tietokantavirhe: {reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: tiedostovirhe: {exc}", file=sys.stderr)
        return 1
    if not snapshot.has_data:
        print(f"{PROG}: vuodelta {year} ei ole ilmoitettu tietoja", file=sys.stderr)
    elif not snapshot.complete:
        print(
            f"{PROG}: tiedot ovat puutteelliset – dokumentit on merkitty LUONNOS", file=sys.stderr
        )
    return 0

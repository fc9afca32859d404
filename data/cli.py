"""Operator commands on the configured database.

    python -m data backup --out FILE
    python -m data restore FILE [--force]
    python -m data person export --telegram-id N [--out FILE]
    python -m data person erase --telegram-id N

All read config.yaml (or $MITTARIBOTTI_CONFIG) and the database it names (``database.url``,
or $DATABASE_URL). Problems are one line on stderr and a non-zero exit status, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from data import backup as backups
from settings import ConfigError, load_settings

PROG = "python -m data"
EXIT_ERROR = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse prints usage plus the error; one line is enough for an operator."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Backups, restore and personal data.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    make = sub.add_parser("backup", help="back up the whole database (safe while the bot runs)")
    make.add_argument("--out", required=True, type=Path, help="the backup file to write")
    put = sub.add_parser("restore", help="replace the database's contents with a backup")
    put.add_argument("file", type=Path, help="a file made by `backup`")
    put.add_argument(
        "--force", action="store_true", help="also when the database already holds data"
    )
    person = sub.add_parser("person", help="what is stored about a person; erase it")
    actions = person.add_subparsers(dest="action", required=True, parser_class=_Parser)
    export = actions.add_parser("export", help="everything stored about the person, as JSON")
    export.add_argument("--telegram-id", required=True, type=int)
    export.add_argument("--out", type=Path, help="write to this file instead of stdout")
    erase = actions.add_parser(
        "erase", help="pseudonymise the person; their reported answers stay, under the pseudonym"
    )
    erase.add_argument("--telegram-id", required=True, type=int)
    return parser


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    url = settings.database.url
    try:
        if args.command == "backup":
            result = backups.backup(url, args.out)
            print(
                f"backup written: {result.path} ({result.backend}, {_size(result.size)}, "
                f"{result.seconds:.1f} s)"
            )
            return 0
        if args.command == "restore":
            result = backups.restore(url, args.file, force=args.force)
            print(
                f"restored {result.path} into the {result.backend} database "
                f"({result.seconds:.1f} s); {_after_restore(url)}"
            )
            return 0
        return _person(url, args)
    except backups.BackupError as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"{PROG} {args.command}: database error: {reason}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _after_restore(url: str) -> str:
    """What the restored schema means for this release (`data.health`)."""
    from data.db import make_engine
    from data.health import Standing, schema_state

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            state = schema_state(connection)
    finally:
        engine.dispose()
    match state.standing:
        case Standing.AT_HEAD:
            return "its schema is this release's"
        case Standing.BEHIND | Standing.EMPTY:
            return (
                f"its schema ({state.revision}) is an older release's: `python -m bot migrate` "
                "or the next start brings it to this release's"
            )
        case Standing.AHEAD_COMPATIBLE:
            return f"its schema ({state.revision}) is a newer release's, which this one runs on"
        case Standing.AHEAD_INCOMPATIBLE:
            return (
                f"WARNING: its schema ({state.revision}) is a newer release's that this one "
                "cannot run on: run that release (or newer) against this database"
            )


def _person(url: str, args: argparse.Namespace) -> int:
    from data import privacy
    from data.db import has_schema, make_engine, make_sessionmaker, transaction

    engine = make_engine(url)
    try:
        if not has_schema(engine):
            print(f"{PROG} person: the database has no tables yet", file=sys.stderr)
            return EXIT_ERROR
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as session:
            if args.action == "export":
                data = privacy.export_person(session, args.telegram_id)
            else:
                data = privacy.erase_person(session, args.telegram_id, actor_id=None)
        if data is None:
            print(f"{PROG} person: no person with Telegram id {args.telegram_id}", file=sys.stderr)
            return EXIT_ERROR
        if args.action == "export":
            text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
            if args.out:
                args.out.write_text(text, encoding="utf-8")
                print(f"written: {args.out}", file=sys.stderr)
            else:
                sys.stdout.write(text)
        else:
            print(f"erased: person #{data['id']} is now {data['name']!r}; {data['removed']}")
        return 0
    finally:
        engine.dispose()

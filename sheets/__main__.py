"""python -m sheets export --division CODE --out FILE [--year Y] [--language fi|sv|en]
python -m sheets import FILE --division CODE [--dry-run] [--as TELEGRAM_USER_ID] [--year Y]

For coordinators handling a workbook that came by e-mail. ``import`` runs exactly the checks
the chat runs and prints the one rejection, the errors by cell, or the change summary; it
exits 1 when the file is refused or has errors. Without ``--dry-run`` it then saves the
changes, attributed to the division contact given with ``--as`` (their Telegram user id),
in one transaction, audited with the source "excel". ``export`` writes the same workbook
the chat's /excel sends.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

import sheets
from data import catalog, people, reports
from data.catalog import load_catalog
from data.db import make_engine, make_sessionmaker, migrate, transaction
from data.models import Division
from i18n import LANGUAGES, gettext_for
from settings import ConfigError, Settings, load_settings
from sheets import changes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sheets", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    out = sub.add_parser("export", help="write the division's workbook")
    out.add_argument("--division", required=True, help="division code, e.g. KUVA")
    out.add_argument("--out", required=True, type=Path, help="the .xlsx file to write")
    out.add_argument("--year", type=int, help="the round (default: this year)")
    out.add_argument("--language", default="fi", choices=LANGUAGES)
    imp = sub.add_parser("import", help="check (and save) a filled workbook")
    imp.add_argument("file", type=Path)
    imp.add_argument("--division", required=True, help="division code, e.g. KUVA")
    imp.add_argument("--dry-run", action="store_true", help="check only, save nothing")
    imp.add_argument(
        "--as", dest="as_user", type=int, help="Telegram user id of the division contact"
    )
    imp.add_argument("--year", type=int, help="the round (default: this year)")
    return parser


def _sessions(settings: Settings) -> sessionmaker[Session]:
    engine = make_engine(settings.database.url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_catalog(session)
    return sessions


def _division(session: Session, code: str) -> Division | None:
    division = catalog.division_by_code(session, code)
    if division is None or division.retired_at is not None:
        codes = ", ".join(d.code for d in catalog.divisions(session))
        print(f"error: unknown division {code!r} (one of {codes})", file=sys.stderr)
        return None
    return division


def export_command(settings: Settings, args: argparse.Namespace) -> int:
    year = args.year or _current_year(settings)
    with transaction(_sessions(settings)) as session:
        division = _division(session, args.division)
        if division is None:
            return 2
        _name, content = sheets.export(session, division, year, args.language)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(content)
    print(f"{args.out}: {division.code} {year}, {len(content)} bytes")
    return 0


def import_command(settings: Settings, args: argparse.Namespace) -> int:
    _ = gettext_for("fi")
    year = args.year or _current_year(settings)
    try:
        content = args.file.read_bytes()
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    if not args.dry_run and args.as_user is None:
        print(
            "error: saving needs --as <Telegram user id of the division's contact> "
            "(or use --dry-run)",
            file=sys.stderr,
        )
        return 2
    with transaction(_sessions(settings)) as session:
        division = _division(session, args.division)
        if division is None:
            return 2
        person = None
        if args.as_user is not None:
            person = people.active_person(session, args.as_user)
            if person is None or not reports.can_write_division(person, division.id):
                print(
                    f"error: {args.as_user} is not an active contact of {division.code}",
                    file=sys.stderr,
                )
                return 2
        try:
            checked = sheets.check(
                session, content, args.file.name, division=division, year=year, language="fi"
            )
        except sheets.Rejection as rejection:
            print(rejection.text(_))
            return 1
        if not checked.ok:
            print(changes.error_list(checked.parsed, "fi", limit=len(checked.parsed.errors)))
            return 1
        assert checked.changes is not None
        print(changes.summary(session, checked.changes, "fi"))
        if args.dry_run or checked.changes.empty:
            return 0
        if sheets.is_submitted(session, division, year):
            print(_(LOCKED).format(year=year))
            return 1
        assert person is not None
        saved = changes.apply(session, person, checked.changes)
    print(f"saved: {saved} service entities")
    return 0


# The chat's words for a submitted report (bot.flow.entities.MSG_LOCKED, same message id).
LOCKED = (
    "Your division's report for {year} has been submitted, so it cannot be changed here. A "
    "coordinator must reopen it first: ask your coordinator if something needs correcting."
)


def _current_year(settings: Settings) -> int:
    import datetime as dt

    return dt.datetime.now(settings.tz).year


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "export":
        return export_command(settings, args)
    return import_command(settings, args)


if __name__ == "__main__":
    sys.exit(main())

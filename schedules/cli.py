"""Operator commands: what will be sent, and what was.

    python -m schedules plan [--year Y] [--json]
    python -m schedules ledger [--year Y] [--status S ...] [--limit N] [--json]

Both read config.yaml (or $MITTARIBOTTI_CONFIG) and the configured database
(``database.url``, or $DATABASE_URL), migrating an empty database first. Problems are
reported on one line with a non-zero exit status, never as a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn, TextIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from data import ledger
from data.db import has_schema, make_engine, make_sessionmaker, migrate, transaction
from data.models import LedgerStatus
from i18n.formats import format_date, format_time
from schedules.audience import load_audiences
from schedules.plan import plan_year
from settings import ConfigError, Settings, load_settings

EXIT_USAGE = 2
EXIT_ERROR = 1
#: What coordinators call a reminder whose delivery is unknown (the bot says the same).
UNCERTAIN_LABEL = "toimitus epävarma"


class CliError(Exception):
    """A problem to report to the operator as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse prints usage plus the error; one line is enough for an operator."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m schedules", description="Reminder plan and ledger.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser("plan", help="the year's reminders with their audiences")
    plan.add_argument("--year", type=int, help="year (default: this year in Helsinki)")
    plan.add_argument("--json", action="store_true", help="one JSON object per line")
    listing = sub.add_parser("ledger", help="what was sent, skipped or failed")
    listing.add_argument("--year", type=int, help="only deadlines of this year")
    listing.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in LedgerStatus],
        help="only rows with this status (repeatable)",
    )
    listing.add_argument("--limit", type=int, default=None, help="newest N rows")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _open_database(settings: Settings) -> Engine:
    engine = make_engine(settings.database.url)
    if not has_schema(engine):
        migrate(engine)
    return engine


def _local(moment: dt.datetime | None, settings: Settings) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(settings.tz)
    return f"{format_date(local.date())} {format_time(local)}"


def _offset(moment: dt.datetime) -> str:
    """+03:00 — the UTC offset that distinguishes summer and winter time."""
    return moment.isoformat()[-6:]


def cmd_plan(settings: Settings, engine: Engine, year: int, as_json: bool, out: TextIO) -> None:
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        audiences = load_audiences(session, year)
    plan = plan_year(settings, year, audiences=audiences)
    if as_json:
        for item in plan:
            record = {
                "at": item.at.isoformat(),
                "deadline": item.deadline_date.isoformat(),
                "offset_days": item.offset_days,
                "audience": item.audience.value,
                "recipients": len(item.recipients),
                "deadline_code": item.deadline_code,
                "merged_offsets": list(item.offsets),
                "moved_from": item.moved_from.isoformat() if item.moved_from else None,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    out.write(f"Reminders {year} ({settings.timezone}); recipients as of now\n")
    header = (
        f"{'local time':<27} {'deadline':<32} {'offset':>6}  {'audience':<12} {'recipients':>10}"
    )
    out.write(header + "\n")
    for item in plan:
        when = f"{item.at.strftime('%a')} {format_date(item.at.date())} {format_time(item.at)}"
        when = f"{when} ({_offset(item.at)})"
        deadline = f"{item.deadline_code} {format_date(item.deadline_date)}"
        notes = []
        if len(item.offsets) > 1:
            notes.append("merged " + "+".join(str(o) for o in item.offsets))
        if item.moved_from:
            notes.append(
                f"moved from {item.moved_from.strftime('%a')} {format_date(item.moved_from)}"
            )
        note = f"  {'; '.join(notes)}" if notes else ""
        out.write(
            f"{when:<27} {deadline:<32} {item.offset_days:>6}  {item.audience.value:<12} "
            f"{len(item.recipients):>10}{note}\n"
        )
    if not plan:
        out.write("(no deadline has remind: true)\n")


def cmd_ledger(
    settings: Settings,
    engine: Engine,
    year: int | None,
    statuses: Sequence[str] | None,
    limit: int | None,
    as_json: bool,
    out: TextIO,
) -> None:
    sessions = make_sessionmaker(engine)
    wanted = [LedgerStatus(s) for s in statuses] if statuses else None
    with transaction(sessions) as session:
        rows = ledger.report(session, year=year, statuses=wanted, limit=limit)
        counts = ledger.counts(session, year=year)
    if as_json:
        for row, person in rows:
            record = {
                "id": row.id,
                "status": row.status.value,
                "delivery_uncertain": row.status is LedgerStatus.UNCERTAIN,
                "kind": row.kind,
                "deadline_code": row.deadline_code,
                "deadline": row.deadline_date.isoformat(),
                "offset_days": row.offset_days,
                "person_id": row.person_id,
                "telegram_user_id": person.telegram_user_id,
                "audience": row.audience,
                "due_at": row.due_at.isoformat(),
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "attempts": row.attempts,
                "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
                "error": row.error,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if not rows:
        out.write("The reminder ledger is empty.\n" if not counts else "No rows match.\n")
    else:
        out.write(
            f"{'id':>6} {'status':<9} {'kind':<9} {'deadline':<31} {'off':>3} "
            f"{'person':<24} {'audience':<11} {'due':<16} {'sent':<16} {'try':>3}  error / next\n"
        )
    for row, person in rows:
        who = f"{person.name or '-'} ({person.telegram_user_id})"[:24]
        deadline = f"{row.deadline_code} {format_date(row.deadline_date)}"[:31]
        detail = row.error or ""
        if row.status is LedgerStatus.UNCERTAIN:
            detail = f"{UNCERTAIN_LABEL}: {detail}".rstrip(": ")
        if row.next_attempt_at is not None:
            detail = f"next {_local(row.next_attempt_at, settings)}; {detail}".rstrip("; ")
        out.write(
            f"{row.id:>6} {row.status.value:<9} {row.kind:<9} {deadline:<31} "
            f"{row.offset_days:>3} {who:<24} {row.audience:<11} "
            f"{_local(row.due_at, settings):<16} {_local(row.sent_at, settings):<16} "
            f"{row.attempts:>3}  {detail}\n"
        )
    if counts:
        summary = ", ".join(
            f"{status.value} {counts[status]}"
            + (f" ({UNCERTAIN_LABEL})" if status is LedgerStatus.UNCERTAIN else "")
            for status in sorted(counts)
        )
        out.write(f"Total: {summary}\n")


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(env=env)
        if args.year is not None and not 1970 <= args.year <= 2200:
            raise CliError(f"--year {args.year} is out of range")
        try:
            engine = _open_database(settings)
        except SQLAlchemyError as error:
            detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise CliError(f"cannot open the database: {detail}") from None
        try:
            if args.command == "plan":
                year = args.year or dt.datetime.now(settings.tz).year
                cmd_plan(settings, engine, year, args.json, out)
            else:
                cmd_ledger(settings, engine, args.year, args.status, args.limit, args.json, out)
        except SQLAlchemyError as error:
            detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise CliError(f"database error: {detail}") from None
        finally:
            engine.dispose()
    except (ConfigError, CliError) as error:
        err.write(f"error: {error}\n")
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. piped into head
        return 0
    return 0

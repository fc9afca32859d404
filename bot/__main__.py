"""python -m bot [run] | chat | invite --role ROLE [--division CODE] [--days N]

``run`` (the default) starts the bot and its reminder scheduler on Telegram
(TELEGRAM_BOT_TOKEN): long polling, or a webhook server when TELEGRAM_WEBHOOK_URL is set.
Without a token it opens the local chat only when a person is at the terminal; under a
process supervisor it refuses to start (exit 2) instead of silently doing something else.
``chat`` opens the local chat: the real bot on an emulated Telegram, in this terminal.
``migrate`` brings the database (DATABASE_URL) to this release's schema and catalog and
exits: the first step of an upgrade, before the replicas are restarted one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys

from core.logs import setup_logging
from settings import ConfigError, Settings, load_settings

log = logging.getLogger("bot")

#: What Telegram accepts as a webhook secret_token.
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")

ROLE_ALIASES = {
    "contact": "contact",
    "yhteyshenkilo": "contact",
    "coordinator": "coordinator",
    "koordinaattori": "coordinator",
    "staff": "staff",
    "asiantuntija": "staff",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    sub.add_parser("chat", help="the local chat in this terminal, without Telegram")
    sub.add_parser(
        "migrate", help="migrate the database to this release and load the catalog, then exit"
    )
    invite = sub.add_parser("invite", help="create an invitation link")
    invite.add_argument("--role", required=True, help="contact | coordinator | staff")
    invite.add_argument("--division", help="division code for a contact, e.g. KUVA")
    invite.add_argument("--days", type=int, default=7, help="days the link is valid (default 7)")
    return parser


def invite(settings: Settings, role_name: str, division_code: str | None, days: int) -> int:
    from bot.runtime import prepare_database
    from data import catalog, people
    from data.db import transaction
    from data.models import Role

    role_value = ROLE_ALIASES.get(role_name.lower())
    if role_value is None:
        print(f"error: unknown role {role_name!r} (contact, coordinator or staff)", file=sys.stderr)
        return 2
    if not 1 <= days <= 90:
        print("error: --days must be between 1 and 90", file=sys.stderr)
        return 2
    role = Role(role_value)
    _engine, sessions = prepare_database(settings.database.url)
    with transaction(sessions) as session:
        division = None
        if division_code:
            division = catalog.division_by_code(session, division_code)
            if division is None or division.retired_at is not None:
                codes = ", ".join(d.code for d in catalog.divisions(session))
                print(f"error: unknown division {division_code!r} ({codes})", file=sys.stderr)
                return 2
        if role is Role.CONTACT and division is None:
            print("error: a contact invitation needs --division", file=sys.stderr)
            return 2
        invitation = people.create_invitation(session, role, division=division, days=days)
        link = f"https://t.me/{settings.telegram.bot_username}?start={invitation.token}"
        expires = invitation.expires_at.astimezone(settings.tz).strftime("%-d.%-m.%Y %-H.%M")
    print(link)
    print(
        f"role={role.value} division={division_code.upper() if division_code else '-'} "
        f"valid_until={expires}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a command; every start-up failure is one redacted log line and an exit status
    (`bot.startup`: 2 when a restart cannot fix it, 1 when it may)."""
    args = _parser().parse_args(argv)
    # Redacting from the first line on, before the settings (and the token) are validated.
    setup_logging(os.environ.get("TELEGRAM_BOT_TOKEN"))
    try:
        settings = load_settings()
    except ConfigError as error:
        log.error("configuration error: %s", error)
        return 2
    quiet = args.command in ("invite", "migrate") and settings.log_level == "info"
    setup_logging(
        settings.bot_token,
        level=logging.WARNING if quiet else settings.log_level,
        secrets=[settings.webhook_secret or "", _database_password(settings)],
    )
    try:
        return _command(args, settings)
    except Exception as error:
        from bot.startup import explain

        failure = explain(error)
        log.error("%s", failure.message)
        return failure.status


def _database_password(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(settings.database.url).password or ""
    except Exception:
        return ""


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "invite":
        return invite(settings, args.role, args.division, args.days)
    if args.command == "chat":
        return _local_chat(settings)
    if args.command == "migrate":
        return _migrate(settings)
    if settings.bot_token:
        problem = _webhook_problem(settings)
        if problem:
            log.error("configuration error: %s", problem)
            return 2
        from bot.telegram_main import run_on_telegram

        return run_on_telegram(settings)
    if sys.stdin.isatty():
        return _local_chat(settings)
    log.error(
        "configuration error: TELEGRAM_BOT_TOKEN is not set; set it to run the bot "
        "(or use `python -m bot chat` for the local chat)"
    )
    return 2


def _webhook_problem(settings: Settings) -> str | None:
    """Why webhook mode cannot start, or None (also None in polling mode)."""
    if not settings.telegram.webhook.url:
        return None
    secret = settings.webhook_secret
    if not secret:
        return "TELEGRAM_WEBHOOK_SECRET is required in webhook mode (TELEGRAM_WEBHOOK_URL is set)"
    if not WEBHOOK_SECRET_SHAPE.fullmatch(secret):
        return "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
    return None


def _migrate(settings: Settings) -> int:
    from bot.runtime import prepare_database
    from data.health import Standing, schema_state

    engine, _sessions = prepare_database(settings.database.url)
    with engine.connect() as connection:
        state = schema_state(connection)
    engine.dispose()
    if not state.runnable:
        log.error("database schema: %s", state.describe())
        return 2 if state.standing is Standing.AHEAD_INCOMPATIBLE else 1
    if state.standing is Standing.AT_HEAD:
        print(f"database at {state.revision} (head); catalog loaded")
    else:
        print(f"database not migrated: {state.describe()}; catalog loaded")
    return 0


def _local_chat(settings: Settings) -> int:
    from bot.localchat import run_local_chat

    return asyncio.run(run_local_chat(settings))


if __name__ == "__main__":
    sys.exit(main())

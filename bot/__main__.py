"""python -m bot [run] | python -m bot invite --role ROLE [--division CODE] [--days N]

``run`` (the default) starts the bot and its reminder scheduler: on Telegram when
TELEGRAM_BOT_TOKEN is set, otherwise as the local chat in this terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.logs import setup_logging
from settings import ConfigError, Settings, load_settings

log = logging.getLogger("bot")

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
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    setup_logging(
        settings.bot_token, level=logging.WARNING if args.command == "invite" else logging.INFO
    )
    if args.command == "invite":
        return invite(settings, args.role, args.division, args.days)
    if settings.bot_token:
        from bot.telegram_main import run_on_telegram

        run_on_telegram(settings)
        return 0
    from bot.localchat import run_local_chat

    return asyncio.run(run_local_chat(settings))


if __name__ == "__main__":
    sys.exit(main())

"""`make run` without a token: the real bot, in this terminal, on the local Telegram.

The person at the terminal can act as any role and division (`:rooli`), so every flow can be
tried without a Telegram account. The local chat keeps its data in its own SQLite file
(var/localchat.sqlite3), apart from the bot's database, so trying things never mixes with
real reports.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_application
from bot.runtime import prepare_database
from core.services import Services
from data import catalog, drafts, inbox, people
from data.db import transaction
from data.models import Role
from localtg import DEFAULT_TOKEN, LocalBotApi, LocalRequest
from localtg.terminal import run_terminal_chat
from settings import Settings

LOCAL_DATABASE_URL = "sqlite:///var/localchat.sqlite3"
LOCAL_DATABASE_ENV = "LOCALCHAT_DATABASE_URL"  # tests point it elsewhere
LOCAL_USER_ID = 1001
ROLE_WORDS = {
    "yhteyshenkilo": Role.CONTACT,
    "yhteyshenkilö": Role.CONTACT,
    "contact": Role.CONTACT,
    "koordinaattori": Role.COORDINATOR,
    "coordinator": Role.COORDINATOR,
    "asiantuntija": Role.STAFF,
    "staff": Role.STAFF,
}
META_HELP = """\
  :rooli ROOLI [TOIMIALA]  act as another role: yhteyshenkilo KYMP|KASKO|SOTE|KUVA,
                           koordinaattori, asiantuntija, or kaikki (all roles, KYMP)
  :kuka                    who you are now
  :app                     the Mini App form: a local address to open in a browser"""
#: Port of the local Mini App server (0: any free port).
APP_PORT_ENV = "LOCALCHAT_APP_PORT"


def _describe(sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        person = people.person_by_telegram_id(session, LOCAL_USER_ID)
        if person is None:
            return "not registered"
        division = person.division.code if person.division else "-"
        roles = ", ".join(sorted(r.value for r in person.role_set)) or "-"
        return f"roles: {roles}; division: {division}"


def _set_role(sessions: sessionmaker[Session], args: list[str]) -> str:
    if not args:
        return "usage: :rooli yhteyshenkilo KUVA | koordinaattori | asiantuntija | kaikki"
    word = args[0].lower()
    with transaction(sessions) as session:
        person = people.ensure_person(session, LOCAL_USER_ID, name="Paikallinen Käyttäjä")
        if word == "kaikki":
            roles, division_code = set(Role), (args[1] if len(args) > 1 else "KYMP")
        elif word in ROLE_WORDS:
            roles = {ROLE_WORDS[word]}
            division_code = args[1] if len(args) > 1 else None  # type: ignore[assignment]
        else:
            return f"unknown role {args[0]!r}"
        division = catalog.division_by_code(session, division_code) if division_code else None
        if division_code and division is None:
            codes = ", ".join(d.code for d in catalog.divisions(session))
            return f"unknown division {division_code!r} ({codes})"
        if Role.CONTACT in roles and division is None:
            return "a contact needs a division, e.g. :rooli yhteyshenkilo KUVA"
        people.set_roles(
            session,
            person,
            roles,
            division_id=division.id if division else None,
            actor_id=person.id,
        )
    return "now " + _describe(sessions)


async def run_local_chat(settings: Settings) -> int:
    logging.getLogger().setLevel(logging.WARNING)  # keep the terminal for the conversation
    # The bot's own database is made ready as on Telegram; the chat itself uses its own file.
    prepare_database(settings.database.url)
    _engine, sessions = prepare_database(os.environ.get(LOCAL_DATABASE_ENV, LOCAL_DATABASE_URL))
    with transaction(sessions) as session:
        if people.person_by_telegram_id(session, LOCAL_USER_ID) is None:
            kymp = catalog.division_by_code(session, "KYMP")
            people.ensure_person(
                session,
                LOCAL_USER_ID,
                name="Paikallinen Käyttäjä",
                roles=set(Role),
                division_id=kymp.id if kymp else None,
            )
        # In Telegram the last question's buttons stay on screen; a new terminal has none,
        # so a conversation left at some step is asked again (/ohje repeats its question).
        me = people.person_by_telegram_id(session, LOCAL_USER_ID)
        resume = me is not None and drafts.active(session, me.id) is not None
        last_update_id = inbox.last_update_id(session)
    api = LocalBotApi()
    # This Telegram lives only as long as the terminal; its update ids go on from the ones
    # the bot's inbox has already seen, or the inbox would drop them as redeliveries.
    api.updates.start_after(last_update_id)
    services = Services(settings, sessions)
    application = build_application(
        services,
        token=DEFAULT_TOKEN,
        request=LocalRequest(api),
        get_updates_request=LocalRequest(api),
    )

    app_server: dict[str, Any] = {}

    async def open_app() -> str:
        """Serve the Mini App on this machine (first time only) and give its address with
        init data signed for the local person, as Telegram would sign it."""
        from starlette.applications import Starlette

        from core.web import bind, make_server
        from miniapp import auth, routes

        if "url" not in app_server:
            sock = bind("127.0.0.1", int(os.environ.get(APP_PORT_ENV) or 0))
            server = make_server(Starlette(routes=routes(services, bot_token=DEFAULT_TOKEN)))
            app_server.update(
                server=server,
                sock=sock,
                task=asyncio.create_task(server.serve(sockets=[sock]), name="miniapp"),
                url=f"http://127.0.0.1:{sock.getsockname()[1]}/app/",
            )
        init_data = auth.sign(
            DEFAULT_TOKEN,
            LOCAL_USER_ID,
            dt.datetime.now(dt.UTC),
            first_name="Paikallinen",
            language_code=settings.default_language,
        )
        return (
            "Mini App (valid for an hour; :app again for a new one):\n"
            f"{app_server['url']}#tgWebAppData={quote(init_data)}"
        )

    def on_meta(command: str, args: list[str]) -> Any:
        if command == "rooli":
            return _set_role(sessions, args)
        if command == "kuka":
            return _describe(sessions)
        if command == "app":
            return open_app()
        return f"unknown command :{command} (:help)"

    print(
        f"Local chat without Telegram (data in var/localchat.sqlite3); you are "
        f"{_describe(sessions)}. :rooli changes it."
    )
    await run_terminal_chat(
        application,
        api,
        user_id=LOCAL_USER_ID,
        first_name="Paikallinen",
        language_code=settings.default_language,
        on_meta=on_meta,
        meta_help=META_HELP,
        initial_messages=["/start", "/ohje"] if resume else ["/start"],
    )
    if "server" in app_server:
        app_server["server"].should_exit = True
        await app_server["task"]
        app_server["sock"].close()
    return 0

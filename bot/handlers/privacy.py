"""/omat_tiedot: anyone sees what is stored about them and gets it all as a JSON file.

Answered also for a person whose access was removed (their data is still stored) and for a
stranger (nothing is stored: the bot keeps no one who has not joined with an invitation).
Erasure is an operator's job (``python -m data person erase``): the reply says whom to ask.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from telegram import InputFile, Update
from telegram.ext import CommandHandler, ContextTypes

from bot.access import caller, in_session
from bot.admin.shared import division_label, role_names
from bot.handlers.common import LANGUAGE_NAMES
from core.services import services
from data import people, privacy
from i18n.formats import format_count, format_date

if TYPE_CHECKING:
    from bot.app import BotApplication


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The summary as a message, everything as ``omat_tiedot.json``."""
    who = await caller(update, context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    svc = services(context)

    def read(session: Session) -> tuple[Any, Any, Any, str, bool]:
        person = people.person_by_telegram_id(session, user.id)
        if person is None:
            return None, None, None, "", False
        facts = privacy.summary(session, person)
        exported = privacy.export(session, person, now=svc.now())
        division = facts.division
        division_text = division_label(division, who.language) if division else "–"
        return person, facts, exported, division_text, person.active and bool(person.roles)

    person, facts, exported, division_text, active = await in_session(context, read)
    if person is None:
        await chat.send_message(
            who._("Nothing is stored about you: you have not joined with an invitation link.")
        )
        return
    language = (
        LANGUAGE_NAMES.get(facts.language, facts.language)
        if facts.language
        else who._("not chosen (follows Telegram)")
    )
    roles = role_names(set(facts.roles), who) or who._("none (no access)")
    lines = [
        who._("This is what the bot has stored about you:"),
        "",
        who._("Name: {name}").format(name=facts.name or "–"),
        who._("Telegram id: {id}").format(id=facts.telegram_user_id),
        who._("Language: {language}").format(language=language),
        who._("Roles: {roles}").format(roles=roles),
        who._("Division: {division}").format(division=division_text),
        who._("Joined: {date}").format(
            date=format_date(facts.joined.astimezone(svc.settings.tz).date(), who.language)
        ),
        who._("Answers you have saved: {count}").format(
            count=format_count(facts.answers, who.language)
        ),
        who._("Change log rows by you or about you: {count}").format(
            count=format_count(facts.audit_rows, who.language)
        ),
    ]
    if not active:
        lines += ["", who._("Your access has been removed; what you reported is kept.")]
    lines += [
        "",
        who._(
            "The attached file holds all of it as JSON. To have your data erased, ask the "
            "strategy unit: your name and Telegram id are then removed, and the answers you "
            "reported stay in the city's record under a pseudonym."
        ),
    ]
    await chat.send_message("\n".join(lines))
    content = json.dumps(exported, ensure_ascii=False, indent=2).encode("utf-8")
    await chat.send_document(
        InputFile(content, filename="omat_tiedot.json"), caption=who._("Your data (JSON)")
    )


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("omat_tiedot", my_data))

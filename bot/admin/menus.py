"""Telegram's command menu ("/" button): each person sees their own commands.

The default scope holds only what everyone may use (start, ohje, kieli). A registered
person gets a chat-scoped menu from ``bot.commands`` in their language, refreshed when
they register, change language or get different roles, and at every start-up (so the
``admins`` of config.yaml and changes to ``bot.commands`` reach everyone). A person without
access loses their chat menu and falls back to the default one.

Telegram picks, for a private chat: the chat scope in the user's app language, then the
chat scope without a language, then the default scope likewise. A person who has chosen
a language gets that language under every language code; a person who has not gets each
language under its own code, so the app language decides, as it does for the messages.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.admin.shared import language_of, person_label, role_names, tell
from bot.commands import commands_for
from core.services import services
from data import admin_queries, people
from data.db import transaction
from data.models import Person, Role
from i18n import LANGUAGES, gettext_for

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


def menu(roles: set[Role], language: str) -> list[BotCommand]:
    """The commands of ``roles`` with descriptions in ``language``."""
    _ = gettext_for(language)
    return [BotCommand(command, _(description)) for command, description in commands_for(roles)]


async def install_default_menu(application: App) -> None:
    """The menu of people the bot does not know: start, ohje, kieli."""
    bot = application.bot
    default = services(application).settings.default_language
    scope = BotCommandScopeDefault()
    await bot.set_my_commands(menu(set(), default), scope=scope)
    for language in LANGUAGES:
        await bot.set_my_commands(menu(set(), language), scope=scope, language_code=language)


async def refresh_menu(application: App, person: Person) -> None:
    """Set (or, without access, remove) one person's chat menu; failures are logged only,
    because a menu is a convenience and /ohje always tells the same."""
    bot = application.bot
    scope = BotCommandScopeChat(person.telegram_user_id)
    default = services(application).settings.default_language
    try:
        if not person.active or not person.roles:
            await bot.delete_my_commands(scope=scope)
            for language in LANGUAGES:
                await bot.delete_my_commands(scope=scope, language_code=language)
            return
        roles = person.role_set
        chosen = person.language
        await bot.set_my_commands(menu(roles, chosen or default), scope=scope)
        for language in LANGUAGES:
            await bot.set_my_commands(
                menu(roles, chosen or language), scope=scope, language_code=language
            )
    except TelegramError as error:
        log.warning("could not set the command menu of person %s: %s", person.id, error)


async def refresh_menu_of_user(application: App, telegram_user_id: int) -> None:
    with transaction(services(application).sessions) as session:
        person = people.person_by_telegram_id(session, telegram_user_id)
    if person is not None:
        await refresh_menu(application, person)


async def on_registered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After an invitation was redeemed: the new menu, and a word to whoever invited."""
    assert update.effective_user is not None
    await refresh_menu_of_user(context.application, update.effective_user.id)
    await _tell_inviter(update, context)


async def on_language_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_user is not None
    await refresh_menu_of_user(context.application, update.effective_user.id)


async def _tell_inviter(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The staff member who created the invitation learns it was used."""
    assert update.effective_user is not None
    token = context.args[0] if context.args else None
    if not token:
        return
    svc = services(context)
    with transaction(svc.sessions) as session:
        invitation = admin_queries.invitation_by_token(session, token)
        if invitation is None or invitation.created_by_id is None:
            return
        inviter = admin_queries.person_by_id(session, invitation.created_by_id)
        newcomer = people.active_person(session, update.effective_user.id)
        if inviter is None or newcomer is None or not inviter.active or not inviter.roles:
            return
        language = language_of(inviter, svc.settings.default_language)
        _ = gettext_for(language)
        text = _("{name} accepted your invitation ({roles}).").format(
            name=person_label(newcomer), roles=role_names({invitation.role}, language)
        )
    await tell(context.bot, inviter, text)


async def install_all_menus(application: App) -> None:
    """At start-up: the default menu and every person's own menu."""
    try:
        await install_default_menu(application)
    except TelegramError as error:
        log.warning("could not set the default command menu: %s", error)
    with transaction(services(application).sessions) as session:
        everyone = admin_queries.active_people(session)
    for person in everyone:
        await refresh_menu(application, person)


def register(application: App) -> None:
    """Hooks for common.start and /kieli, and the start-up menus (chained to post_init)."""
    application.bot_data["on_registered"] = on_registered
    application.bot_data["on_language_changed"] = on_language_changed
    previous = application.post_init

    async def post_init(app: App) -> None:
        if previous is not None:
            await previous(app)
        await install_all_menus(app)

    application.post_init = post_init

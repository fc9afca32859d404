"""Telegram's command menu ("/" button): each person sees their own commands.

The default scope holds only what everyone may use (start, ohje, kieli). A registered
person gets a chat-scoped menu from ``bot.commands`` in their language, refreshed when
they register, change language or get different roles, and at start-up (so the ``admins``
of config.yaml and changes to ``bot.commands`` reach everyone). A person without access
loses their chat menu and falls back to the default one.

Start-up sets the menus in the background once the bot is running, and only those that
differ from what was last set (``data.menus`` keeps a digest per scope): with hundreds of
people, four calls each before polling would delay every answer by a minute.

Telegram picks, for a private chat: the chat scope in the user's app language, then the
chat scope without a language, then the default scope likewise. A person who has chosen
a language gets that language under every language code; a person who has not gets each
language under its own code, so the app language decides, as it does for the messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any

from sqlalchemy.orm import Session
from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.access import in_session
from bot.admin.shared import language_of, person_label, role_names
from bot.commands import commands_for
from core.services import services
from data import admin_queries, menus, people
from data.db import off_loop, transaction
from data.models import Person, Role
from delivery import notices
from i18n import LANGUAGES, gettext_for
from miniapp.texts import MENU_BUTTON

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


def menu(roles: set[Role], language: str) -> list[BotCommand]:
    """The commands of ``roles`` with descriptions in ``language``."""
    _ = gettext_for(language)
    return [BotCommand(command, _(description)) for command, description in commands_for(roles)]


#: A menu as sent: (language code or None for "any language", commands); None = removed.
MenuSpec = list[tuple[str | None, list[BotCommand]]] | None
#: bot_data key of the start-up task that sets the menus in the background.
MENU_TASK = "command_menu_task"
#: ``data.menus`` key of a chat's menu button (the Mini App's "Lomake").
BUTTON_SCOPE = "button:{chat_id}"
#: How long after the application runs the start-up menus begin.
STARTUP_GRACE_SECONDS = 0.05


def _digest(spec: MenuSpec) -> str:
    """A stable fingerprint of what setMyCommands would be given."""
    plain = (
        None
        if spec is None
        else [(lang, [(c.command, c.description) for c in commands]) for lang, commands in spec]
    )
    return hashlib.sha256(json.dumps(plain, ensure_ascii=False).encode()).hexdigest()


def _default_spec(application: App) -> MenuSpec:
    default = services(application).settings.default_language
    return [(None, menu(set(), default))] + [(lang, menu(set(), lang)) for lang in LANGUAGES]


def _person_spec(application: App, person: Person) -> MenuSpec:
    if not person.active or not person.roles:
        return None
    default = services(application).settings.default_language
    roles, chosen = person.role_set, person.language
    return [(None, menu(roles, chosen or default))] + [
        (lang, menu(roles, chosen or lang)) for lang in LANGUAGES
    ]


async def _apply(application: App, spec: MenuSpec, scope: BotCommandScope) -> None:
    bot = application.bot
    if spec is None:
        await bot.delete_my_commands(scope=scope)
        for language in LANGUAGES:
            await bot.delete_my_commands(scope=scope, language_code=language)
        return
    for language, commands in spec:  # type: ignore[assignment]
        await bot.set_my_commands(commands, scope=scope, language_code=language)


async def _set_if_changed(
    application: App,
    key: str,
    spec: MenuSpec,
    scope: BotCommandScope,
    known: dict[str, str] | None,
) -> bool:
    """Call Telegram only when the menu differs from the one last set for ``key``."""
    digest = _digest(spec)
    if known is None:
        current = await in_session(application, lambda s: menus.digest_of(s, key))
    else:
        current = known.get(key)
    if current == digest:
        return False
    await _apply(application, spec, scope)
    await in_session(application, lambda s: menus.remember(s, key, digest))
    return True


async def install_default_menu(application: App, known: dict[str, str] | None = None) -> None:
    """The menu of people the bot does not know: start, ohje, kieli."""
    spec = _default_spec(application)
    await _set_if_changed(application, menus.DEFAULT_SCOPE, spec, BotCommandScopeDefault(), known)


async def refresh_menu(
    application: App, person: Person, known: dict[str, str] | None = None
) -> bool:
    """Set (or, without access, remove) one person's chat menu if it changed; failures are
    logged only, because a menu is a convenience and /ohje always tells the same."""
    try:
        changed = await _set_if_changed(
            application,
            menus.chat_scope(person.chat_id),
            _person_spec(application, person),
            BotCommandScopeChat(person.chat_id),
            known,
        )
    except TelegramError as error:
        log.warning("could not set the command menu of person %s: %s", person.id, error)
        return False
    try:
        await refresh_menu_button(application, person, known)
    except TelegramError as error:
        log.warning("could not set the menu button of person %s: %s", person.id, error)
    return changed


def menu_button(application: App, person: Person) -> MenuButton | None:
    """The chat's menu button: "Lomake" opening the Mini App for an active division contact
    when ``MINIAPP_URL`` is set; None (Telegram's default button) otherwise."""
    settings = services(application).settings
    page = settings.miniapp_page
    if page is None or not person.active or Role.CONTACT not in person.role_set:
        return None
    if person.division_id is None:
        return None
    _ = gettext_for(person.language or settings.default_language)
    return MenuButtonWebApp(_(MENU_BUTTON), WebAppInfo(page))


async def refresh_menu_button(
    application: App, person: Person, known: dict[str, str] | None = None
) -> bool:
    """setChatMenuButton for the person's chat when their button changed (digest kept in
    ``data.menus`` like the command menus); a chat that never had ours is left alone."""
    button = menu_button(application, person)
    key = BUTTON_SCOPE.format(chat_id=person.telegram_user_id)
    plain = button.to_dict() if button is not None else None
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()
    if known is None:
        current = await in_session(application, lambda s: menus.digest_of(s, key))
    else:
        current = known.get(key)
    if current == digest or (current is None and button is None):
        return False
    await application.bot.set_chat_menu_button(
        chat_id=person.telegram_user_id, menu_button=button or MenuButtonDefault()
    )
    await in_session(application, lambda s: menus.remember(s, key, digest))
    return True


async def refresh_menu_of_user(application: App, telegram_user_id: int) -> None:
    person = await in_session(
        application, lambda s: people.person_by_telegram_id(s, telegram_user_id)
    )
    if person is not None:
        await refresh_menu(application, person)


async def on_registered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After an invitation was redeemed: the new menu (the inviter's notice went with the
    registration, `tell_inviter`)."""
    assert update.effective_user is not None
    await refresh_menu_of_user(context.application, update.effective_user.id)


async def on_language_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_user is not None
    await refresh_menu_of_user(context.application, update.effective_user.id)


def tell_inviter(session: Session, redeemed: people.Redeemed, default_language: str) -> None:
    """The staff member who created the invitation learns it was used: written in the
    registration's own transaction (``delivery.notices``), so a kill after it still tells
    them, once."""
    invitation, newcomer = redeemed.invitation, redeemed.person
    if invitation is None or invitation.created_by_id is None:
        return
    inviter = admin_queries.person_by_id(session, invitation.created_by_id)
    if inviter is None or not inviter.active or not inviter.roles:
        return
    language = language_of(inviter, default_language)
    _ = gettext_for(language)
    text = _("{name} accepted your invitation ({roles}).").format(
        name=person_label(newcomer), roles=role_names({invitation.role}, language)
    )
    notices.notify(session, [(inviter, text)])


#: People whose menus are checked and written back in one statement at start-up, and the
#: least pause after each batch: the check of 10 000 unchanged menus takes a fraction of a
#: second in all.
MENU_BATCH = 200
MENU_BATCH_PAUSE_SECONDS = 0.02
#: Menus *set* (four Telegram calls each) between two pauses, and the share of the event
#: loop's time the sync may take: after each slice it pauses as long again as the slice
#: took. Setting 10 000 menus is 40 000 calls; without the pauses the sync held the loop
#: (and, through the GIL, the database threads) so that the updates arriving meanwhile
#: crawled through (1–2 per second) while the outbox loop's statements went on.
MENU_SLICE = 25
MENU_SHARE = 0.5


async def install_all_menus(application: App) -> int:
    """The default menu and every person's own menu, each only if it changed since it was
    last set; returns how many people's menus were set.

    Batched and paced: the people are read once (on a worker thread), each distinct menu
    (roles × language) is built and fingerprinted once, the digests of a batch's changed
    menus are remembered in one statement, and the loop pauses between batches.
    """
    sessions = services(application).sessions

    def load() -> tuple[dict[str, str], list[Person]]:
        with transaction(sessions) as session:
            return menus.last_set(session), admin_queries.active_people(session)

    known, everyone = await off_loop(load, sessions=sessions)
    try:
        await install_default_menu(application, known)
    except TelegramError as error:
        log.warning("could not set the default command menu: %s", error)
    specs: dict[tuple[frozenset[Role], str | None], tuple[MenuSpec, str]] = {}
    changed = 0
    slice_started, in_slice = time.perf_counter(), 0
    for start in range(0, len(everyone), MENU_BATCH):
        remembered: dict[str, str] = {}
        for person in everyone[start : start + MENU_BATCH]:
            if in_slice >= MENU_SLICE:  # give the updates their share of the loop
                took = time.perf_counter() - slice_started
                await asyncio.sleep(took * (1 - MENU_SHARE) / MENU_SHARE)
                slice_started, in_slice = time.perf_counter(), 0
            try:  # the Mini App's "Lomake" button, only when it changed
                await refresh_menu_button(application, person, known)
            except TelegramError as error:
                log.warning("could not set the menu button of person %s: %s", person.id, error)
            key = menus.chat_scope(person.chat_id)
            shape = (frozenset(person.role_set), person.language)
            if shape not in specs:
                spec = _person_spec(application, person)
                specs[shape] = (spec, _digest(spec))
            spec, digest = specs[shape]
            if known.get(key) == digest:
                continue
            in_slice += 1
            try:
                await _apply(application, spec, BotCommandScopeChat(person.chat_id))
            except TelegramError as error:
                log.warning("could not set the command menu of person %s: %s", person.id, error)
                continue
            remembered[key] = digest
        if remembered:
            changed += len(remembered)

            def write(batch: dict[str, str] = remembered) -> None:
                with transaction(sessions) as session:
                    menus.remember_many(session, batch)

            await off_loop(write, sessions=sessions)
        await asyncio.sleep(MENU_BATCH_PAUSE_SECONDS)
    log.info("command menus checked=%d set=%d", len(everyone), changed)
    return changed


async def _install_when_running(application: App) -> None:
    """Wait until the bot polls (or serves its webhook), then set the menus: start-up must
    not wait for a few calls per person before anyone gets an answer."""
    while not application.running:
        await asyncio.sleep(0.05)
    # A moment for the polling task to send its first getUpdates (or the webhook to serve).
    await asyncio.sleep(STARTUP_GRACE_SECONDS)
    try:
        await install_all_menus(application)
    except Exception:
        log.warning("could not install the command menus", exc_info=True)


async def menus_installed(application: App) -> None:
    """Wait for the start-up menu task (tests, and anyone who needs the menus in place)."""
    task: asyncio.Task[None] | None = application.bot_data.get(MENU_TASK)
    if task is not None:
        await asyncio.shield(task)


def register(application: App) -> None:
    """Hooks for common.start and /kieli, and the start-up menus (in the background, once
    the application runs; cancelled when it stops)."""
    application.bot_data["on_registered"] = on_registered
    application.bot_data["on_language_changed"] = on_language_changed
    previous_init, previous_stop = application.post_init, application.post_stop

    async def post_init(app: App) -> None:
        if previous_init is not None:
            await previous_init(app)
        app.bot_data[MENU_TASK] = asyncio.create_task(
            _install_when_running(app), name="command menus"
        )

    async def post_stop(app: App) -> None:
        task: asyncio.Task[None] | None = app.bot_data.pop(MENU_TASK, None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if previous_stop is not None:
            await previous_stop(app)

    application.post_init = post_init
    application.post_stop = post_stop

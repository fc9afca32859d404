"""Entry, language, help, and the private-chat guard: what every person meets first."""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import ui
from bot.access import Caller, caller, in_worker
from bot.callbacks import answer_quietly, edit_or_send
from bot.commands import commands_for
from core import codec
from core.services import services
from data import catalog, people
from data.db import transaction
from data.models import Role
from i18n import LANGUAGES, N_, gettext_for

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
#: The feature name of /kieli's buttons (``lang:<language>``, `core.codec.button`).
LANGUAGE = "lang"

INVITATION_PROBLEMS = {
    people.InvitationProblem.UNKNOWN: N_(
        "This invitation link is not valid. Check the link or ask for a new one."
    ),
    people.InvitationProblem.USED: N_(
        "This invitation link has already been used. Ask for a new one if you need access."
    ),
    people.InvitationProblem.EXPIRED: N_(
        "This invitation link has expired. Ask the person who invited you for a new one."
    ),
    people.InvitationProblem.REVOKED: N_(
        "This invitation link has been cancelled. Ask for a new one if you need access."
    ),
}


#: Groups and channels the bot has answered and left; bounded, oldest forgotten first.
LEFT_CHATS_KEY = "left_chats"
LEFT_CHATS_REMEMBERED = 10_000


def _left_chats(context: ContextTypes.DEFAULT_TYPE) -> OrderedDict[int, None]:
    chats: OrderedDict[int, None] = context.bot_data.setdefault(LEFT_CHATS_KEY, OrderedDict())
    return chats


async def private_chats_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group, supergroup or channel the bot says once that it works privately and
    leaves: anyone can add it to a group, and answering every command there would spend the
    group's flood limit (20 messages a minute) and keep the bot busy for nothing."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    member = update.my_chat_member
    gone = member is not None and member.new_chat_member.status in (
        ChatMemberStatus.LEFT,
        ChatMemberStatus.BANNED,
    )
    left = _left_chats(context)
    if gone or chat.id in left:
        raise ApplicationHandlerStop
    # Marked before any await: the chat's next update (handled after this one) stays silent.
    left[chat.id] = None
    while len(left) > LEFT_CHATS_REMEMBERED:
        left.popitem(last=False)
    who = await caller(update, context)
    try:
        await chat.send_message(
            who._("I work only in private chats. Open a private chat with me to continue.")
        )
    except TelegramError as error:
        log.info("could not answer in chat %s before leaving: %s", chat.id, error)
    try:
        await chat.leave()
    except TelegramError as error:
        log.info("could not leave chat %s: %s", chat.id, error)
    raise ApplicationHandlerStop


def _role_line(who: Caller, division_name: str | None) -> str:
    assert who.person is not None
    roles = ", ".join(who._(ui.ROLE_NAMES[r]) for r in sorted(who.roles, key=list(Role).index))
    # Two messages rather than ngettext: fi, sv and en all have one form for 1 and one for
    # the rest, and "Din roll:" before three roles reads wrong.
    several = len(who.roles) > 1
    if division_name and Role.CONTACT in who.roles:
        template = (
            who._("Your roles: {roles} ({division}).")
            if several
            else who._("Your role: {roles} ({division}).")
        )
        return template.format(roles=roles, division=division_name)
    template = who._("Your roles: {roles}.") if several else who._("Your role: {roles}.")
    return template.format(roles=roles)


def help_text(who: Caller, division_name: str | None) -> str:
    lines = []
    if who.person is not None:
        lines.append(_role_line(who, division_name))
        lines.append("")
    lines.append(who._("You can use these commands:"))
    for command, description in commands_for(who.roles):
        lines.append(f"/{command} – {who._(description)}")
    return "\n".join(lines)


async def _division_name(context: ContextTypes.DEFAULT_TYPE, who: Caller) -> str | None:
    if who.person is None or who.person.division_id is None:
        return None
    division_id = who.person.division_id

    def read() -> str | None:
        with transaction(services(context).sessions) as session:
            division = catalog.by_id(session, catalog.Division, division_id)
            return catalog.name_of(division, who.language) if division else None

    return await in_worker(context, read)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /start <invitation>: register with an invitation, or greet."""
    assert update.effective_user is not None and update.effective_chat is not None
    user = update.effective_user
    svc = services(context)
    token = context.args[0] if context.args else None
    if token:

        def redeem() -> people.Redeemed | people.InvitationProblem:
            from bot.admin.menus import tell_inviter

            with transaction(svc.sessions) as session:
                result = people.redeem_invitation(
                    session, token, user.id, name=user.full_name, language=None, now=svc.now()
                )
                if isinstance(result, people.Redeemed):  # registered and the inviter told
                    tell_inviter(session, result, svc.settings.default_language)
                return result

        result = await in_worker(context, redeem)
        if isinstance(result, people.InvitationProblem):
            who = await caller(update, context)
            await update.effective_chat.send_message(who._(INVITATION_PROBLEMS[result]))
            return
        await context.application.bot_data.get("on_registered", _noop)(update, context)
    who = await caller(update, context)
    if who.person is None:
        await update.effective_chat.send_message(
            who._(
                "Hello! This bot collects the City of Helsinki divisions' reports for two "
                "strategy metrics: resident participation and customer satisfaction.\n\n"
                "You do not have access yet. Ask the strategy unit or your coordinator for "
                "an invitation link, and open it in Telegram."
            )
        )
        return
    greeting = who._("Hello, {name}!").format(name=who.person.name or user.first_name)
    if token:
        greeting = who._("Welcome, {name}! You now have access.").format(
            name=who.person.name or user.first_name
        )
    await update.effective_chat.send_message(
        greeting + "\n\n" + help_text(who, await _division_name(context, who))
    )


async def _noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Default hook after registration (the command menu installs its own)."""


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ohje outside a conversation: the person's commands (a conversation answers itself)."""
    who = await caller(update, context)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(help_text(who, await _division_name(context, who)))


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    who = await caller(update, context)
    assert update.effective_chat is not None
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(LANGUAGE_NAMES[lang], callback_data=codec.button(LANGUAGE, lang))]
            for lang in LANGUAGES
        ]
    )
    await update.effective_chat.send_message(who._("Choose your language:"), reply_markup=keyboard)


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    pressed = codec.action(query.data)
    language = pressed.step if pressed is not None and pressed.feature == LANGUAGE else ""
    if language not in LANGUAGES:
        await ui.answer_stale(query, gettext_for(None))
        return
    user_id = update.effective_user.id

    def store() -> None:
        with transaction(services(context).sessions) as session:
            person = people.active_person(session, user_id)
            if person is not None:
                people.set_language(session, person, language)

    await in_worker(context, store)
    if context.user_data is not None:
        context.user_data["language"] = language
    _ = gettext_for(language)
    await answer_quietly(query)
    await edit_or_send(query, _("Language: {language}").format(language=LANGUAGE_NAMES[language]))
    hook = context.application.bot_data.get("on_language_changed")
    if hook is not None:
        await hook(update, context)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button no handler claims: from an ended conversation, or forged."""
    who = await caller(update, context)
    assert update.callback_query is not None
    await ui.answer_stale(update.callback_query, who._)


async def unknown_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    who = await caller(update, context)
    assert update.effective_chat is not None
    if who.person is None:
        await start(update, context)
        return
    await update.effective_chat.send_message(
        who._("I did not understand that. /ohje lists what you can do.")
    )


async def nothing_to_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/peru when no conversation is open: say so rather than "I did not understand"."""
    who = await caller(update, context)
    assert update.effective_chat is not None
    if who.person is None:
        await start(update, context)
        return
    await update.effective_chat.send_message(who._("There is nothing to cancel."))


def register_guard(application: BotApplication, *, group: int) -> None:
    """Groups and channels are answered by the guard and go no further."""
    application.add_handler(TypeHandler(Update, private_chats_only), group=group)


def register(application: BotApplication) -> None:
    """The entry commands: /start, /kieli and the language buttons."""
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("kieli", language_command))
    application.add_handler(CallbackQueryHandler(language_chosen, pattern=rf"^{LANGUAGE}:"))


def register_fallbacks(application: BotApplication, *, group: int) -> None:
    """Catch-alls, after the features: a conversation's own /ohje and /peru come first."""
    for handler in (
        CommandHandler("ohje", help_command),
        CommandHandler("peru", nothing_to_cancel),
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.TEXT, unknown_text),
    ):
        application.add_handler(handler, group=group)

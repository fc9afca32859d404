"""Who is asking, in which language, and may they: checked on every command and button.

Handlers never trust that a conversation was started by an authorised person: each update
looks the person up again, so removing access or a role takes effect on the next tap.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ContextTypes

from core.services import Services, services
from data import people
from data.db import is_lock_wait, off_loop, transaction
from data.models import Role
from data.people import PersonValue
from i18n import gettext_for, normalize_language

R = TypeVar("R")
T = TypeVar("T")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, R]]


@dataclass(frozen=True)
class Caller:
    """The person behind an update (None if not registered) and their language.

    ``person`` is a plain value read with Core (``data.people.PersonValue``), never an ORM
    entity: a handler that changes the person loads the row in its own transaction."""

    person: PersonValue | None
    language: str

    @property
    def roles(self) -> frozenset[Role]:
        return self.person.role_set if self.person else frozenset()

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def _(self, message: str) -> str:
        return gettext_for(self.language)(message)


#: Back-off before the one retry of database work that gave up waiting for a lock.
LOCK_RETRY_SECONDS = 0.2


async def in_worker(context: Any, function: Callable[..., T], *args: Any) -> T:
    """A handler's database work, off the event loop: on the worker threads the
    conversations use (``data.db.off_loop``), so a slow query or a held row never stalls
    other chats or /healthz. A lock wait is bounded (``lock_timeout``); the work is tried
    once more, then the lock error goes to the bot's error handler, which asks the person
    to try again (``bot.app.on_error``). ``function`` opens its own transaction."""
    sessions = services(context).sessions
    for attempt in range(2):
        try:
            return await off_loop(function, *args, sessions=sessions)
        except DBAPIError as error:
            if attempt or not is_lock_wait(error):
                raise
            await asyncio.sleep(LOCK_RETRY_SECONDS)
    raise AssertionError("unreachable")


async def in_session(context: Any, work: Callable[[Session], T]) -> T:
    """`in_worker` for work that is one transaction: ``work(session)``, committed.
    ``context``: a handler's context or the Application."""
    sessions = services(context).sessions

    def run() -> T:
        with transaction(sessions) as session:
            return work(session)

    return await in_worker(context, run)


async def caller(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Caller:
    """Look the person up (fresh from the database, off the event loop) and pick their
    language."""
    return await in_worker(context, _caller, update, services(context))


def _caller(update: Update, svc: Services) -> Caller:
    with transaction(svc.sessions) as session:
        return caller_in(session, update, svc)


_UNSET: Any = object()


def caller_in(
    session: Session, update: Update, svc: Services, *, person: PersonValue | None = _UNSET
) -> Caller:
    """`caller` inside a transaction the update already has open (one per update).

    A registered person's language is the one stored with them; anyone else is answered in
    the language of their Telegram app (nothing about them is kept between updates).
    ``person`` is the person already loaded for the update (the conversations load it with
    their drafts in one statement), or None if there is none; without it, it is read here.
    """
    user = update.effective_user
    if person is _UNSET:
        person = people.active_person_value(session, user.id) if user is not None else None
    elif person is not None and not (person.active and person.role_set):
        person = None
    chosen = person.language if person and person.language else None
    if chosen is None and user is not None and user.language_code:
        chosen = normalize_language(user.language_code, svc.settings.default_language)
    return Caller(person, chosen or svc.settings.default_language)


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Answer in the chat the update came from (message or button press)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, **kwargs)


async def refuse(update: Update, who: Caller) -> None:
    """The refusal shows no data: not even whether the thing asked about exists."""
    if who.person is None:
        text = who._(
            "You do not have access to this bot yet. Ask the strategy unit or your "
            "coordinator for an invitation link."
        )
    else:
        text = who._("You do not have permission for this.")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


def requires(*roles: Role) -> Callable[[Callable[..., Awaitable[R]]], Handler[R | None]]:
    """Run the handler only for an active person with one of the roles; refuse otherwise.

    The wrapped handler receives the Caller as a third argument.
    """

    def decorate(handler: Callable[..., Awaitable[R]]) -> Handler[R | None]:
        @functools.wraps(handler)
        async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> R | None:
            who = await caller(update, context)
            if who.person is None or (roles and not who.has(*roles)):
                await refuse(update, who)
                return None
            return await handler(update, context, who)

        return wrapper

    return decorate

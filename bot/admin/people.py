"""/henkilot: strategy staff see who has access, change roles and remove access.

Changes take effect on the person's next tap (every update looks them up again); their
command menu is refreshed at once and they get a short notice. Removing access keeps what
they reported, attributed to them. Staff cannot take their own staff role or access, so
the bot never ends up without anyone who can invite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.access import Caller, in_session, in_worker, requires
from bot.admin import menus
from bot.admin.callbacks import ID, PEOPLE, PeopleStep, button_data, pattern
from bot.admin.invitations import ROLE_BUTTONS
from bot.admin.shared import (
    BACK,
    answer_stale,
    division_label,
    edit,
    language_of,
    person_label,
    role_names,
    send_menu,
)
from bot.ui import short_label
from core.services import services
from data import admin_queries, catalog
from data.admin_queries import RoleChange
from data.db import transaction
from data.models import Division, Person, Role
from delivery import notices
from i18n import gettext_for

if TYPE_CHECKING:
    from bot.app import BotApplication

PAGE_SIZE = 20


def _list_page(who: Caller, everyone: list[Person], page: int) -> tuple[str, InlineKeyboardMarkup]:
    pages = max(1, -(-len(everyone) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = everyone[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [who._("People with access ({count}):").format(count=len(everyone))]
    for n, person in enumerate(shown, page * PAGE_SIZE + 1):
        line = f"{n}. {person_label(person)} – {role_names(person.role_set, who)}"
        if Role.CONTACT in person.role_set and person.division is not None:
            line += f" ({person.division.code})"
        lines.append(line)
    lines += ["", who._("Choose a person to change their roles or remove access.")]
    rows = [
        [
            InlineKeyboardButton(
                f"{n}. {short_label(person_label(p))}",
                callback_data=button_data(PEOPLE, PeopleStep.SHOW, p.id),
            )
        ]
        for n, p in enumerate(shown, page * PAGE_SIZE + 1)
    ]
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton("«", callback_data=button_data(PEOPLE, PeopleStep.PAGE, page - 1))
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton("»", callback_data=button_data(PEOPLE, PeopleStep.PAGE, page + 1))
        )
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _everyone(context: ContextTypes.DEFAULT_TYPE) -> list[Person]:
    with transaction(services(context).sessions) as session:
        everyone = admin_queries.active_people(session)
        for person in everyone:
            _ = person.division  # loaded while the session is open
    return everyone


@requires(Role.STAFF)
async def people_command(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """/henkilot: the first page of people."""
    text, keyboard = _list_page(who, await in_worker(context, _everyone, context), 0)
    assert update.effective_chat is not None
    await send_menu(context, update.effective_chat, who, PEOPLE, text, reply_markup=keyboard)


@requires(Role.STAFF)
async def page(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None and context.matches
    text, keyboard = _list_page(
        who, await in_worker(context, _everyone, context), int(context.matches[0].group(1))
    )
    await query.answer()
    await edit(query, text, reply_markup=keyboard)


def _detail(
    who: Caller, person: Person, division: Division | None
) -> tuple[str, InlineKeyboardMarkup]:
    roles = person.role_set
    lines = [
        person_label(person),
        who._("Roles: {roles}").format(roles=role_names(roles, who)),
    ]
    if Role.CONTACT in roles and division is not None:
        lines.append(
            who._("Division: {division}").format(division=division_label(division, who.language))
        )
    rows = []
    for role, label in ROLE_BUTTONS.items():
        held = role in roles
        rows.append(
            [
                InlineKeyboardButton(
                    ("✓ " if held else "") + who._(label),
                    callback_data=button_data(
                        PEOPLE, PeopleStep.ROLE, person.id, role, int(not held)
                    ),
                )
            ]
        )
    if Role.CONTACT in roles:
        rows.append(
            [
                InlineKeyboardButton(
                    who._("Change division"),
                    callback_data=button_data(PEOPLE, PeopleStep.DIVISIONS, person.id),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                who._("Remove access"),
                callback_data=button_data(PEOPLE, PeopleStep.REMOVE, person.id),
            )
        ]
    )
    rows.append(
        [InlineKeyboardButton(who._(BACK), callback_data=button_data(PEOPLE, PeopleStep.PAGE, 0))]
    )
    lines += ["", who._("Tap a role to give or take it (✓ = has the role).")]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _load(
    context: ContextTypes.DEFAULT_TYPE, person_id: int
) -> tuple[Person | None, Division | None]:
    """The person if they still have access, with their division."""
    with transaction(services(context).sessions) as session:
        person = admin_queries.person_by_id(session, person_id)
        if person is None or not person.active or not person.roles:
            return None, None
        return person, person.division


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller, person_id: int
) -> bool:
    """Render one person in place; False (nothing shown) if they no longer have access."""
    query = update.callback_query
    assert query is not None
    person, division = await in_worker(context, _load, context, person_id)
    if person is None:
        return False
    text, keyboard = _detail(who, person, division)
    await edit(query, text, reply_markup=keyboard)
    return True


@requires(Role.STAFF)
async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    assert update.callback_query is not None and context.matches
    if await _show(update, context, who, int(context.matches[0].group(1))):
        await update.callback_query.answer()
    else:
        await answer_stale(update, who)


def _tell_changed(session: Session, person_id: int, default_language: str) -> None:
    """Write the changed person's notice (their new roles, or access removed, in their
    language) in the change's own transaction: changed and told, or neither
    (``delivery.notices``)."""
    person = admin_queries.person_by_id(session, person_id)
    if person is None:
        return
    language = language_of(person, default_language)
    _ = gettext_for(language)
    if not person.active or not person.roles:
        notices.notify(session, [(person, _("Your access to this bot has been removed."))])
        return
    division = catalog.by_id(session, Division, person.division_id) if person.division_id else None
    text = _("Your roles changed: {roles}.").format(roles=role_names(person.role_set, language))
    if Role.CONTACT in person.role_set and division is not None:
        text += "\n" + _("Division: {division}").format(division=division_label(division, language))
    text += "\n" + _("/ohje lists what you can do now.")
    notices.notify(session, [(person, text)])


async def _after_change(context: ContextTypes.DEFAULT_TYPE, person_id: int) -> None:
    """The changed person's new menu (their notice went with the change)."""
    person = await in_session(context, lambda s: admin_queries.person_by_id(s, person_id))
    if person is not None:
        await menus.refresh_menu(context.application, person)


def _is_self(who: Caller, person_id: int) -> bool:
    return who.person is not None and who.person.id == person_id


@requires(Role.STAFF)
async def set_role(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Give or take one role (the button says which, so an old button does no harm)."""
    query = update.callback_query
    assert query is not None and context.matches and who.person is not None
    person_id = int(context.matches[0].group(1))
    role, enabled = Role(context.matches[0].group(2)), context.matches[0].group(3) == "1"
    if _is_self(who, person_id) and role is Role.STAFF and not enabled:
        await query.answer(
            who._("You cannot take your own staff role or access. Ask another staff member."),
            show_alert=True,
        )
        return
    actor_id = who.person.id
    default = services(context).settings.default_language

    def write(session: Session) -> RoleChange | None:
        person = admin_queries.person_by_id(session, person_id)
        if person is None or not person.active or not person.roles:
            return None
        result = admin_queries.set_role(session, person, role, enabled, actor_id=actor_id)
        if result is RoleChange.CHANGED:
            _tell_changed(session, person_id, default)
        return result

    result = await in_session(context, write)
    if result is None:
        await answer_stale(update, who)
        return
    if result is RoleChange.NEEDS_DIVISION:
        await _show_divisions(update, context, who, person_id)
        await query.answer(who._("Choose the division first."))
        return
    if result is RoleChange.LAST_ROLE:
        await query.answer(
            who._("A person needs at least one role. To take all access, use Remove access."),
            show_alert=True,
        )
        return
    await query.answer(who._("Saved.") if result is RoleChange.CHANGED else None)
    if result is RoleChange.CHANGED:
        await _after_change(context, person_id)
    await _show(update, context, who, person_id)


async def _show_divisions(
    update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller, person_id: int
) -> bool:
    """The division picker in place; False if the person no longer has access."""
    query = update.callback_query
    assert query is not None
    person, _division = await in_worker(context, _load, context, person_id)
    if person is None:
        return False
    divisions = await in_session(context, catalog.divisions)
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if d.id == person.division_id and Role.CONTACT in person.role_set else "")
                + division_label(d, who.language),
                callback_data=button_data(PEOPLE, PeopleStep.DIVISION, person.id, d.id),
            )
        ]
        for d in divisions
    ]
    rows.append(
        [
            InlineKeyboardButton(
                who._(BACK), callback_data=button_data(PEOPLE, PeopleStep.SHOW, person.id)
            )
        ]
    )
    await edit(
        query,
        who._("{name}: which division does this contact report for?").format(
            name=person_label(person)
        ),
        reply_markup=InlineKeyboardMarkup(rows),
    )
    return True


@requires(Role.STAFF)
async def choose_division(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    assert update.callback_query is not None and context.matches
    if await _show_divisions(update, context, who, int(context.matches[0].group(1))):
        await update.callback_query.answer()
    else:
        await answer_stale(update, who)


@requires(Role.STAFF)
async def set_division(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Make the person a contact of the division (adds the role when needed)."""
    query = update.callback_query
    assert query is not None and context.matches and who.person is not None
    person_id, division_id = int(context.matches[0].group(1)), int(context.matches[0].group(2))
    actor_id = who.person.id
    default = services(context).settings.default_language

    def write(session: Session) -> RoleChange | None:
        person = admin_queries.person_by_id(session, person_id)
        division = catalog.by_id(session, Division, division_id)
        if (
            person is None
            or not person.active
            or not person.roles
            or division is None
            or division.retired_at is not None
        ):
            return None
        result = admin_queries.make_contact(session, person, division, actor_id=actor_id)
        if result is RoleChange.CHANGED:
            _tell_changed(session, person_id, default)
        return result

    result = await in_session(context, write)
    if result is None:
        await answer_stale(update, who)
        return
    await query.answer(who._("Saved.") if result is RoleChange.CHANGED else None)
    if result is RoleChange.CHANGED:
        await _after_change(context, person_id)
    await _show(update, context, who, person_id)


@requires(Role.STAFF)
async def ask_remove(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None and context.matches
    person_id = int(context.matches[0].group(1))
    if _is_self(who, person_id):
        await query.answer(
            who._("You cannot take your own staff role or access. Ask another staff member."),
            show_alert=True,
        )
        return
    person, _division = await in_worker(context, _load, context, person_id)
    if person is None:
        await answer_stale(update, who)
        return
    await query.answer()
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    who._("Yes, remove access"),
                    callback_data=button_data(PEOPLE, PeopleStep.REMOVE_CONFIRMED, person.id),
                )
            ],
            [
                InlineKeyboardButton(
                    who._(BACK), callback_data=button_data(PEOPLE, PeopleStep.SHOW, person.id)
                )
            ],
        ]
    )
    await edit(
        query,
        who._(
            "Remove {name}'s access to the bot? What they have reported stays, marked as "
            "reported by them. A new invitation can give access again."
        ).format(name=person_label(person)),
        reply_markup=keyboard,
    )


@requires(Role.STAFF)
async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None and context.matches and who.person is not None
    person_id = int(context.matches[0].group(1))
    if _is_self(who, person_id):
        await answer_stale(update, who)
        return
    actor_id = who.person.id
    default = services(context).settings.default_language

    def write(session: Session) -> tuple[bool, str]:
        person = admin_queries.person_by_id(session, person_id)
        removed = (
            person is not None
            and person.active
            and bool(person.roles)
            and admin_queries.remove_access(session, person, actor_id=actor_id)
        )
        if removed:
            _tell_changed(session, person_id, default)
        return removed, person_label(person) if person is not None else ""

    removed, name = await in_session(context, write)
    if not removed:
        await answer_stale(update, who)
        return
    await query.answer(who._("Access removed."))
    await _after_change(context, person_id)
    text, keyboard = _list_page(who, await in_worker(context, _everyone, context), 0)
    await edit(
        query,
        who._("{name} no longer has access.").format(name=name) + "\n\n" + text,
        reply_markup=keyboard,
    )


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("henkilot", people_command))
    roles = "|".join(r.value for r in Role)
    handlers = [
        (page, pattern(PEOPLE, PeopleStep.PAGE, ID)),
        (show, pattern(PEOPLE, PeopleStep.SHOW, ID)),
        (set_role, pattern(PEOPLE, PeopleStep.ROLE, ID, roles, "0|1")),
        (choose_division, pattern(PEOPLE, PeopleStep.DIVISIONS, ID)),
        (set_division, pattern(PEOPLE, PeopleStep.DIVISION, ID, ID)),
        (ask_remove, pattern(PEOPLE, PeopleStep.REMOVE, ID)),
        (remove, pattern(PEOPLE, PeopleStep.REMOVE_CONFIRMED, ID)),
    ]
    for callback, regex in handlers:
        application.add_handler(CallbackQueryHandler(callback, pattern=regex))

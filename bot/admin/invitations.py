"""/kutsu: strategy staff invite people and cancel invitations that were not used.

An invitation is a deep link ``https://t.me/<bot>?start=<token>``; the token is random,
works once and expires (7 days). The link is shown to the staff member, who sends it to
the person; common.start redeems it.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.helpers import create_deep_linked_url

from bot.access import Caller, in_session, requires
from bot.admin.callbacks import ID, INVITE, InviteStep, button_data, pattern
from bot.admin.shared import (
    answer_stale,
    division_label,
    edit,
    person_label,
    role_names,
    send_menu,
)
from bot.ui import MSG_CLOSE
from core.services import services
from data import admin_queries, catalog, people
from data.models import Division, Invitation, Role
from i18n import N_
from i18n.formats import format_datetime

if TYPE_CHECKING:
    from bot.app import BotApplication

ROLE_BUTTONS = {
    Role.CONTACT: N_("Division contact"),
    Role.COORDINATOR: N_("Coordinator"),
    Role.STAFF: N_("Strategy staff"),
}
FROM_LIST = "l"
FROM_LINK = "k"


def _menu(who: Caller, open_count: int) -> tuple[str, InlineKeyboardMarkup]:
    text = who._(
        "Whom do you invite? Choose the role. You get a link to send to the person; it works "
        "once and for {days} days."
    ).format(days=people.INVITATION_DAYS)
    rows = [
        [InlineKeyboardButton(who._(label), callback_data=button_data(INVITE, InviteStep.ROLE, r))]
        for r, label in ROLE_BUTTONS.items()
    ]
    rows.append(
        [
            InlineKeyboardButton(
                who._("Open invitations ({count})").format(count=open_count),
                callback_data=button_data(INVITE, InviteStep.OPEN),
            )
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                who._(MSG_CLOSE), callback_data=button_data(INVITE, InviteStep.CANCEL)
            )
        ]
    )
    return text, InlineKeyboardMarkup(rows)


@requires(Role.STAFF)
async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """/kutsu: the role menu."""
    svc = services(context)
    open_count = await in_session(context, lambda s: len(people.open_invitations(s, svc.now())))
    text, keyboard = _menu(who, open_count)
    assert update.effective_chat is not None
    await send_menu(context, update.effective_chat, who, INVITE, text, reply_markup=keyboard)


@requires(Role.STAFF)
async def role_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """A contact needs a division first; other roles get their link at once."""
    query = update.callback_query
    assert query is not None and context.matches
    role = Role(context.matches[0].group(1))
    if role is not Role.CONTACT:
        await _create(update, context, who, role, None)
        return
    divisions = await in_session(context, catalog.divisions)
    rows = [
        [
            InlineKeyboardButton(
                division_label(d, who.language),
                callback_data=button_data(INVITE, InviteStep.DIVISION, d.id),
            )
        ]
        for d in divisions
    ]
    rows.append(
        [
            InlineKeyboardButton(
                who._(MSG_CLOSE), callback_data=button_data(INVITE, InviteStep.CANCEL)
            )
        ]
    )
    await query.answer()
    await edit(
        query,
        who._("Which division will the new contact report for?"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


@requires(Role.STAFF)
async def division_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    assert context.matches
    division_id = int(context.matches[0].group(1))
    division = await in_session(context, lambda s: catalog.by_id(s, Division, division_id))
    if division is None or division.retired_at is not None:
        await answer_stale(update, who)
        return
    await _create(update, context, who, Role.CONTACT, division)


async def _create(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    who: Caller,
    role: Role,
    division: Division | None,
) -> None:
    """Create the invitation and turn the menu into the link, so the buttons cannot be
    pressed twice by mistake."""
    query = update.callback_query
    assert query is not None
    svc = services(context)

    def create(session: Session) -> tuple[int, str | None, dt.datetime]:
        invitation = people.create_invitation(
            session, role, division=division, created_by=who.person, now=svc.now()
        )
        return invitation.id, invitation.token, invitation.expires_at

    invitation_id, token, expires_at = await in_session(context, create)
    link = create_deep_linked_url(context.bot.username, token)
    who_text = role_names({role}, who)
    if division is not None:
        who_text += f", {division_label(division, who.language)}"
    text = (
        who._("Invitation created: {who}.").format(who=html.escape(who_text))
        + "\n"
        + who._(
            "Send this link to the person. It works once, until {until}. When they open it "
            "in Telegram and press Start, they have access."
        ).format(until=format_datetime(expires_at, svc.settings.tz))
        + f"\n\n{html.escape(link)}"
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    who._("Cancel this invitation"),
                    callback_data=button_data(INVITE, InviteStep.REVOKE, invitation_id, FROM_LINK),
                )
            ]
        ]
    )
    await query.answer()
    await edit(
        query, text, reply_markup=keyboard, parse_mode=ParseMode.HTML, disable_web_page_preview=True
    )


def _invitation_line(who: Caller, view: admin_queries.InvitationView, tz: ZoneInfo) -> str:
    """ "division contact, KUVA – … – until 9.11.2026 10.00 – by Sanna"."""
    invitation: Invitation = view.invitation
    text = role_names({invitation.role}, who)
    if view.division is not None:
        text += f", {view.division.code}"
    until = format_datetime(invitation.expires_at, tz)
    creator = (
        person_label(view.created_by) if view.created_by is not None else who._("the command line")
    )
    return who._("{invitation} – valid until {until} – created by {creator}").format(
        invitation=text, until=until, creator=creator
    )


async def _show_open(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None
    svc = services(context)
    views = await in_session(context, lambda s: admin_queries.open_invitations(s, svc.now()))
    if not views:
        text = who._("There are no open invitations.")
    else:
        lines = [who._("Open invitations ({count}):").format(count=len(views))]
        lines += [
            f"{n}. {_invitation_line(who, v, svc.settings.tz)}" for n, v in enumerate(views, 1)
        ]
        lines += ["", who._("Cancelling makes the link stop working.")]
        text = "\n".join(lines)
    rows = [
        [
            InlineKeyboardButton(
                who._("Cancel invitation {number}").format(number=n),
                callback_data=button_data(INVITE, InviteStep.REVOKE, v.invitation.id, FROM_LIST),
            )
        ]
        for n, v in enumerate(views, 1)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                who._(MSG_CLOSE), callback_data=button_data(INVITE, InviteStep.CANCEL)
            )
        ]
    )
    await edit(query, text, reply_markup=InlineKeyboardMarkup(rows))


@requires(Role.STAFF)
async def open_list(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_open(update, context, who)


@requires(Role.STAFF)
async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Cancel an invitation; a used, expired or already cancelled one is left as it is."""
    query = update.callback_query
    assert query is not None and context.matches and who.person is not None
    invitation_id, source = int(context.matches[0].group(1)), context.matches[0].group(2)
    svc = services(context)
    actor_id = who.person.id

    def revoke_it(session: Session) -> people.InvitationProblem | None:
        invitation = admin_queries.invitation_by_id(session, invitation_id)
        problem = people.invitation_problem(invitation, svc.now())
        if problem is None:
            people.revoke_invitation(session, invitation_id, actor_id=actor_id)
        return problem

    problem = await in_session(context, revoke_it)
    if problem is people.InvitationProblem.UNKNOWN:
        await answer_stale(update, who)
        return
    if problem is not None:
        await query.answer(
            who._(
                "This invitation can no longer be cancelled: it was used, has expired or was "
                "already cancelled."
            ),
            show_alert=True,
        )
    else:
        await query.answer(who._("Invitation cancelled."))
    if source == FROM_LIST:
        await _show_open(update, context, who)
    elif problem is None:
        await edit(query, who._("The invitation was cancelled; the link no longer works."))


@requires(Role.STAFF)
async def close(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, who._("Closed."))


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("kutsu", invite_command))
    roles = "|".join(r.value for r in Role)
    application.add_handler(
        CallbackQueryHandler(role_chosen, pattern=pattern(INVITE, InviteStep.ROLE, roles))
    )
    application.add_handler(
        CallbackQueryHandler(division_chosen, pattern=pattern(INVITE, InviteStep.DIVISION, ID))
    )
    application.add_handler(
        CallbackQueryHandler(open_list, pattern=pattern(INVITE, InviteStep.OPEN))
    )
    application.add_handler(
        CallbackQueryHandler(
            revoke, pattern=pattern(INVITE, InviteStep.REVOKE, ID, f"{FROM_LIST}|{FROM_LINK}")
        )
    )
    application.add_handler(CallbackQueryHandler(close, pattern=pattern(INVITE, InviteStep.CANCEL)))

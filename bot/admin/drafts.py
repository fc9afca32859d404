"""/luonnos: strategy staff get the list text, its attachments, the instructions or the
management-group slide as files, made from the current data.

The readiness check comes first, so staff know before opening the file whether it was
made from incomplete data (``docgen`` then marks the document itself as LUONNOS). Making
a document is CPU work: it runs in a worker thread while the chat shows "sending a
document…", so the bot keeps answering everyone else.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.access import Caller, in_worker, requires
from bot.admin.callbacks import DRAFT, DraftStep, button_data, pattern
from bot.admin.shared import chat_action, send_menu
from bot.ui import MSG_STALE
from core import metrics
from core.services import Services, services
from data import progress
from data.db import transaction
from data.models import Role
from data.progress import DivisionProgress
from docgen import pdf
from docgen.readiness import ConfigWarning, placeholder_warnings
from i18n import N_

if TYPE_CHECKING:
    from bot.app import BotApplication

if TYPE_CHECKING:
    from docgen.context import GeneratedDocument

log = logging.getLogger(__name__)

#: The documents staff can ask for, in the order of the deliverables.
KIND_LABELS: dict[str, str] = {
    "listateksti": N_("List text"),
    "liite1": N_("Attachment 1: resident participation"),
    "liite2": N_("Attachment 2: customer satisfaction"),
    "ohjeet": N_("Instructions"),
    "dia": N_("Management-group slide"),
    "paketti": N_("Whole package"),
}


def _kinds() -> tuple[str, ...]:
    """The kinds docgen makes (its own list decides; labels are ours)."""
    from docgen import KINDS

    return KINDS


def _readiness(svc: Services, year: int) -> list[DivisionProgress]:
    with transaction(svc.sessions) as session:
        return progress.round_progress(session, year)


def readiness_text(
    who: Caller,
    rows: list[DivisionProgress],
    year: int,
    warnings: Sequence[ConfigWarning] = (),
) -> str:
    """Which divisions are incomplete, what that means for the documents, and which
    list-text details of config.yaml are still placeholders (``docgen.readiness``)."""
    complete = [d for d in rows if d.complete]
    lines = [
        who._("Document drafts {year}").format(year=year),
        who._("Complete divisions: {done}/{total}").format(done=len(complete), total=len(rows)),
    ]
    incomplete = [d for d in rows if not d.complete]
    if incomplete:
        lines.append(who._("Incomplete:"))
        for d in incomplete:
            total = len(d.entities)
            lines.append(
                "• "
                + who._(
                    "{division}: reported {done}/{total}, satisfaction mapped {mapped}/{total}"
                ).format(
                    division=d.code,
                    done=d.entities_reported,
                    mapped=d.satisfaction_mapped,
                    total=total,
                )
            )
        lines += [
            "",
            who._("A document made now is marked LUONNOS (draft): the data is incomplete."),
        ]
    else:
        lines += [
            "",
            who._("Every division is complete: the documents are made from complete data."),
        ]
    if warnings:
        lines += ["", who._("To fill in in config.yaml before filing:")]
        lines += [f"• {w.key}" if w.missing else f"• {w.key} ({w.value})" for w in warnings]
    lines += ["", who._("Which document do you want?")]
    return "\n".join(lines)


def _menu(who: Caller) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                who._(KIND_LABELS[kind]) if kind in KIND_LABELS else kind,
                callback_data=button_data(DRAFT, DraftStep.KIND, kind),
            )
        ]
        for kind in _kinds()
    ]
    return InlineKeyboardMarkup(rows)


@requires(Role.STAFF)
async def drafts_command(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """/luonnos: the readiness check and the document menu."""
    assert update.effective_chat is not None
    svc = services(context)
    year = svc.current_year()
    warnings = placeholder_warnings(svc.settings, year)
    await send_menu(
        context,
        update.effective_chat,
        who,
        DRAFT,
        readiness_text(who, await in_worker(context, _readiness, svc, year), year, warnings),
        reply_markup=_menu(who),
    )


def _generate(svc: Services, year: int, kind: str, today: dt.date) -> list[GeneratedDocument]:
    """In a worker thread: one consistent read of the round, then pure document building."""
    from data.snapshot import build_snapshot
    from docgen import generate

    with metrics.document_timer(kind):
        with transaction(svc.sessions) as session:
            snapshot = build_snapshot(session, year)
        return generate(snapshot, kind, settings=svc.settings, today=today)


@requires(Role.STAFF)
async def make(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Caller) -> None:
    """Make the chosen document(s) and send them as files; the menu stays for the next."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None and context.matches
    kind = context.matches[0].group(1)
    if kind not in _kinds():
        await query.answer(who._(MSG_STALE), show_alert=True)
        return
    svc = services(context)
    year, today = svc.current_year(), svc.local_now().date()
    await query.answer(who._("Making the document…"))
    incomplete = [d.code for d in await in_worker(context, _readiness, svc, year) if not d.complete]
    try:
        async with chat_action(context.bot, chat.id, ChatAction.UPLOAD_DOCUMENT):
            documents = await in_worker(context, _generate, svc, year, kind, today)
    except Exception:
        log.exception("document %s for %s could not be made", kind, year)
        await chat.send_message(
            who._(
                "The document could not be made. The error was logged; please try again "
                "later or tell the maintainers."
            )
        )
        return
    for document in documents:
        caption = document.title
        if incomplete:
            caption += "\n" + who._("LUONNOS: incomplete data ({divisions}).").format(
                divisions=", ".join(incomplete)
            )
        await chat.send_document(
            InputFile(document.content, filename=document.filename),
            caption=caption[:1024],
        )
    for document in documents:
        note = missing_pdfs_text(who, document)
        if note:
            await chat.send_message(note)


def missing_pdfs_text(who: Caller, document: GeneratedDocument) -> str:
    """Which PDF copies the package lacks and why (LibreOffice missing, timed out, failed);
    empty when it has them all. ``docgen.pdf`` has logged each one."""
    if not document.missing_pdfs:
        return ""
    reasons: dict[str, list[str]] = {}
    for name, reason in document.missing_pdfs:
        reasons.setdefault(reason, []).append(PurePath(name).with_suffix(".pdf").name)
    if set(reasons) == {pdf.NOT_INSTALLED}:
        return who._("The package has no PDF copies: LibreOffice is not installed on the server.")
    lines = [who._("Some PDF copies are missing from the package:")]
    for reason, names in reasons.items():
        if reason == pdf.TIMEOUT:
            why = who._("LibreOffice did not finish within {seconds} s").format(
                seconds=pdf.TIMEOUT_SECONDS
            )
        elif reason == pdf.NOT_INSTALLED:
            why = who._("LibreOffice is not installed on the server")
        else:
            why = who._("the LibreOffice conversion failed")
        lines += [f"• {name}: {why}" for name in names]
    lines.append(who._("Save these documents as PDF in Office before filing them."))
    return "\n".join(lines)


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("luonnos", drafts_command))
    application.add_handler(
        CallbackQueryHandler(make, pattern=pattern(DRAFT, DraftStep.KIND, r"[a-z0-9_]{1,20}"))
    )

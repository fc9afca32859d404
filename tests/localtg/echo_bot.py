"""A tiny bot that exercises what our real bot does: text, HTML, buttons, edits, files."""

from __future__ import annotations

import hashlib
import html
import struct
import zlib
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

REPORT = "Mittari;Arvo\nAsukastyytyväisyys;4,2\n".encode()
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Paina", callback_data="press"),
            InlineKeyboardButton("Raportti", callback_data="doc"),
        ],
        [InlineKeyboardButton("Ohje", url="https://example.org/ohje")],
    ]
)


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG so sendPhoto's image check passes and dimensions can be asserted."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.effective_user is not None
    payload = context.args[0] if context.args else "-"
    await update.message.reply_text(
        f"Hei {update.effective_user.first_name}! payload={payload}", reply_markup=KEYBOARD
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_html(f"<b>{html.escape(update.message.text)}</b>")


async def received_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document from the user: fetch it with getFile + download, answer its size and hash."""
    message = update.effective_message
    assert message is not None and message.document is not None
    telegram_file = await context.bot.get_file(message.document.file_id)
    content = bytes(await telegram_file.download_as_bytearray())
    digest = hashlib.sha256(content).hexdigest()[:12]
    await message.reply_text(f"{message.document.file_name}: {len(content)} bytes, {digest}")


async def raw_html(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/raw <markup>: sends the markup unescaped, like a bot that forgot html.escape."""
    assert update.message is not None
    await update.message.reply_text(" ".join(context.args or []), parse_mode=ParseMode.HTML)


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_photo(tiny_png(), caption="<i>Kuva</i>", parse_mode=ParseMode.HTML)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    if query.data == "press":
        await query.answer("Painettu!")
        await query.edit_message_text("Painettu ✔", reply_markup=KEYBOARD)
    elif query.data == "doc":
        await query.answer()
        await context.bot.send_chat_action(query.message.chat.id, ChatAction.UPLOAD_DOCUMENT)
        await context.bot.send_document(
            query.message.chat.id, REPORT, filename="raportti.csv", caption="Raportti valmis"
        )
    else:
        await query.answer("Vanhentunut painike", show_alert=True)


async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await application.bot.set_my_commands(
        [BotCommand("start", "Aloita"), BotCommand("kuva", "Kuva")]
    )
    await application.bot.set_my_commands([BotCommand("start", "Start")], language_code="en")


async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB swallows handler exceptions after calling error handlers; tests read them here."""
    context.application.bot_data.setdefault("errors", []).append(context.error)


def build_echo_app(
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any],
) -> Application[Any, Any, Any, Any, Any, Any]:
    application = builder.post_init(post_init).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("raw", raw_html))
    application.add_handler(CommandHandler("kuva", photo))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(MessageHandler(filters.Document.ALL, received_file))
    application.add_handler(CallbackQueryHandler(button))
    application.add_error_handler(record_error)
    return application

"""The terminal chat: talk to the real bot in a terminal, no Telegram account or token needed.

``make run`` without a token lands here. The bot runs exactly as in production (polling,
handlers, jobs) against a `LocalBotApi`; this module prints what the bot sends and turns
typed lines into user actions. Input is read by a daemon thread so the event loop (and the
bot's scheduled jobs) keep running while waiting, and so a blocked read never delays exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from telegram.ext import Application

from localtg.api import LocalBotApi
from localtg.harness import running
from localtg.models import BotMessageEvent, CallbackQueryRecord, ChatMessage, LocalFile
from localtg.user import LocalUser

MetaHandler = Callable[[str, list[str]], Awaitable[str | None] | str | None]
DEFAULT_DOWNLOAD_DIR = Path("var") / "localtg-files"
#: A button is pressed with ``b<number>`` (or ``:<number>``): never a plain number, which
#: is an answer ("1" typed as a count must not press a "[1] ‹ Back" button).
BUTTON_PREFIX = "b"
_BUTTON = re.compile(rf"{BUTTON_PREFIX}(\d+)", re.IGNORECASE)
HELP = """\
Type a message and press Enter to send it; a line starting with / is a command (/start, and
the commands the bot lists). Plain numbers and text are always sent as messages.
  b<number>       press that button of the newest inline keyboard ([b1], [b2] …)
  :<number>       the same (:2 presses [b2])
  :press <label>  press the newest button whose label contains <label>
  :send <text>    send <text> as a message even if it looks like a button (b1)
  :help           this help
  :quit           end the chat (Ctrl-D works too)
After a press the bot's answer is shown too: 💬 a short notice, ❗ an alert."""


class TerminalPrinter:
    """Renders bot messages as they happen and remembers the keyboard the user last saw."""

    def __init__(self, out: TextIO, chat_id: int, download_dir: Path) -> None:
        self.out = out
        self.chat_id = chat_id
        self.download_dir = download_dir
        self.keyboard_message: ChatMessage | None = None
        self._saved: dict[str, Path] = {}

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def on_event(self, event: BotMessageEvent) -> None:
        message = event.message
        prefix = "" if message.chat_id == self.chat_id else f"[→ chat {message.chat_id}] "
        if event.kind == "deleted":
            self.write(f"{prefix}🗑  message #{message.message_id} deleted")
            return
        marker = "✏️  (edited) " if event.kind == "edited" else ""
        if message.text:
            self.write(f"{prefix}🤖 {marker}{message.text}")
        elif marker:
            self.write(f"{prefix}🤖 {marker}#{message.message_id}")
        if event.kind == "sent":
            for stored, icon in ((message.document, "📎"), (message.photo, "🖼")):
                if stored is not None:
                    self.write(f"{prefix}{icon} {self._describe_saved(stored)}")
        if message.chat_id != self.chat_id:
            return
        if message.inline_keyboard:
            self.keyboard_message = message
            number = 0
            for row in message.inline_keyboard:
                cells = []
                for button in row:
                    number += 1
                    suffix = f" ↗ {button['url']}" if "url" in button else ""
                    label = f"[{BUTTON_PREFIX}{number}]"
                    cells.append(f"{label} {button.get('text', '')}{suffix}")
                self.write("   " + "  ".join(cells))
        if message.reply_keyboard:
            self.write(
                "   ⌨  " + " | ".join(label for row in message.reply_keyboard for label in row)
            )

    def _describe_saved(self, stored: LocalFile) -> str:
        path = self._save(stored)
        kilobytes = max(1, round(stored.size / 1024))
        return f"{stored.filename} ({kilobytes} kB) saved to {path}"

    def _save(self, stored: LocalFile) -> Path:
        """Save under the download dir; a second file with the same name this session gets a
        numbered name instead of overwriting the first."""
        if stored.file_id in self._saved:
            return self._saved[stored.file_id]
        name = Path(stored.filename.replace("\\", "/")).name or stored.file_id
        path = self.download_dir / name
        used = set(self._saved.values())
        counter = 2
        while path in used:
            path = self.download_dir / f"{Path(name).stem}-{counter}{Path(name).suffix}"
            counter += 1
        self.download_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stored.content)
        self._saved[stored.file_id] = path
        return path

    def numbered_buttons(self, user: LocalUser) -> tuple[ChatMessage, list[dict[str, Any]]] | None:
        """The keyboard last printed (if still there), else the newest one in the chat."""
        candidates = [self.keyboard_message] if self.keyboard_message else []
        candidates += [m for m in reversed(user.messages) if m.inline_keyboard]
        for message in candidates:
            if message is not None and not message.deleted and message.inline_keyboard:
                return message, [button for row in message.inline_keyboard for button in row]
        return None


def _start_line_reader(stream: TextIO) -> asyncio.Queue[str | None]:
    """Feed lines from ``stream`` into a queue; ``None`` marks end of input."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(lines.put_nowait, item)

    def pump() -> None:
        try:
            for line in iter(stream.readline, ""):
                put(line)
        finally:
            put(None)

    threading.Thread(target=pump, name="localtg-stdin", daemon=True).start()
    return lines


class _Session:
    def __init__(
        self,
        user: LocalUser,
        printer: TerminalPrinter,
        on_meta: MetaHandler | None,
        meta_help: str | None,
    ) -> None:
        self.user = user
        self.printer = printer
        self.on_meta = on_meta
        self.meta_help = meta_help

    async def handle_safely(self, line: str) -> bool:
        """`handle`, reporting a failed action (no such button, bot timeout) and going on."""
        try:
            return await self.handle(line)
        except (AssertionError, TimeoutError) as error:
            self.printer.write(f"⚠  {error}")
            return True

    async def handle(self, line: str) -> bool:
        """Act on one input line; False ends the chat."""
        if line.startswith(":"):
            command, _, rest = line[1:].partition(" ")
            if command.isdigit() and not rest:
                await self.press_number(int(command))
                return True
            return await self.meta(command.lower(), rest.strip())
        if match := _BUTTON.fullmatch(line):
            await self.press_number(int(match.group(1)))
            return True
        await self.user.send(line)
        return True

    async def press_number(self, number: int) -> None:
        """Press button ``number`` of the newest keyboard; a wrong number is said, not sent."""
        found = self.printer.numbered_buttons(self.user)
        if found is None:
            self.printer.write(
                f"⚠  no buttons to press ({BUTTON_PREFIX}{number}); :send "
                f"{BUTTON_PREFIX}{number} sends it as text"
            )
            return
        message, buttons = found
        if not 1 <= number <= len(buttons):
            self.printer.write(
                f"⚠  no button {BUTTON_PREFIX}{number}: the newest keyboard has "
                f"{BUTTON_PREFIX}1…{BUTTON_PREFIX}{len(buttons)}"
            )
            return
        button = buttons[number - 1]
        if "callback_data" not in button:
            self.printer.write(f"↗ {button.get('url') or button}")
            return
        self.show_answer(await self.user.press(str(button["text"]), message=message))

    def show_answer(self, answer: CallbackQueryRecord) -> None:
        """What Telegram shows after a press: an alert box or a short notice (toast). A
        refusal must not look like nothing happened."""
        if answer.text and answer.show_alert:
            self.printer.write(f"❗ {answer.text}")
        elif answer.text:
            self.printer.write(f"💬 {answer.text}")
        if answer.url:
            self.printer.write(f"↗ {answer.url}")

    async def meta(self, command: str, rest: str) -> bool:
        if command in ("quit", "q", "exit"):
            return False
        if command == "help":
            self.printer.write(HELP + (f"\n{self.meta_help}" if self.meta_help else ""))
        elif command == "send" and rest:
            await self.user.send(rest)
        elif command == "press" and rest:
            self.show_answer(await self.user.press(rest, exact=False))
        elif self.on_meta is None:
            self.printer.write(f"unknown command :{command} (try :help)")
        else:
            result = self.on_meta(command, rest.split())
            if inspect.isawaitable(result):
                result = await result
            if result:
                self.printer.write(str(result))
        return True


async def run_terminal_chat(
    application: Application[Any, Any, Any, Any, Any, Any],
    api: LocalBotApi,
    *,
    user_id: int,
    first_name: str,
    language_code: str = "fi",
    on_meta: MetaHandler | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    download_dir: Path | str = DEFAULT_DOWNLOAD_DIR,
    meta_help: str | None = None,
    initial_messages: Sequence[str] = (),
) -> None:
    """Chat with ``application`` (built with ``LocalRequest(api)``) until :quit or EOF.

    ``on_meta(command, args)`` receives ``:command arg1 arg2`` lines other than the built-in
    ones; whatever it returns (or its awaitable resolves to) is printed if not empty.
    ``meta_help`` is appended to :help. Files the bot sends are saved in ``download_dir``.
    ``initial_messages`` are handled first, as if typed (e.g. ``["/start"]``). Input that
    does not come from a terminal is echoed (``› line``) so a scripted session reads as a
    conversation.
    """
    out = stdout or sys.stdout
    source = stdin or sys.stdin
    interactive = source.isatty()
    printer = TerminalPrinter(out, user_id, Path(download_dir))
    unsubscribe = api.on_bot_message(printer.on_event)
    # The terminal user stands for someone who already uses the bot, so the bot may write
    # first (a reminder job, say) without Telegram's "can't initiate conversation" 403.
    user = api.user(user_id, first_name, language_code=language_code, has_started=True)
    session = _Session(user, printer, on_meta, meta_help)
    try:
        async with running(application, api):
            printer.write(
                f"Local Telegram: chatting with @{api.bot.username} as {first_name} "
                f"(id {user_id}). :help for help, :quit to end."
            )
            for text in initial_messages:
                printer.write(f"› {text}")
                if not await session.handle_safely(text):
                    return
            lines = _start_line_reader(source)
            while True:
                if interactive:
                    out.write("› ")
                    out.flush()
                line = await lines.get()
                if line is None:
                    break
                text = line.strip()
                if not text:
                    continue
                if not interactive:
                    printer.write(f"› {text}")
                if not await session.handle_safely(text):
                    break
    finally:
        unsubscribe()

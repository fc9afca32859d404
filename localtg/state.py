"""Chats, users, transcripts and uploaded files: the part of Telegram a test inspects.

Message ids are counted per chat (as in private chats on Telegram) and shared by the user's
and the bot's messages. Every bot send/edit/delete becomes a `BotMessageEvent`, which feeds
the ``on_bot_message`` hooks (the terminal chat prints through them) and wakes waiters.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from localtg.models import BotMessageEvent, ChatInfo, ChatMessage, LocalFile, UserInfo
from localtg.notify import Notifier

_LOG = logging.getLogger(__name__)

BotMessageHook = Callable[[BotMessageEvent], None]
EventKind = Literal["sent", "edited", "deleted"]


class ChatStore:
    def __init__(self, bot: UserInfo, now: Callable[[], datetime], notifier: Notifier) -> None:
        self.bot = bot
        self._now = now
        self._notifier = notifier
        self.users: dict[int, UserInfo] = {}
        self.chats: dict[int, ChatInfo] = {}
        self.transcripts: dict[int, list[ChatMessage]] = {}
        self.files: dict[str, LocalFile] = {}
        self.events: list[BotMessageEvent] = []
        self._next_message_id: dict[int, int] = {}
        self._hooks: list[BotMessageHook] = []
        self._file_ids = itertools.count(1)

    def timestamp(self) -> int:
        return int(self._now().timestamp())

    def add_chat(self, chat: ChatInfo) -> ChatInfo:
        existing = self.chats.get(chat.id)
        if existing is not None:
            return existing
        self.chats[chat.id] = chat
        self.transcripts[chat.id] = []
        self._next_message_id[chat.id] = 1
        return chat

    def chat(self, chat_id: int | str) -> ChatInfo | None:
        """Look a chat up by id or ``@username``."""
        if isinstance(chat_id, int):
            return self.chats.get(chat_id)
        name = chat_id.removeprefix("@").lower()
        return next((c for c in self.chats.values() if (c.username or "").lower() == name), None)

    def add_message(self, message: ChatMessage) -> ChatMessage:
        """Give ``message`` the chat's next id and append it to the transcript."""
        message.message_id = self._next_message_id[message.chat.id]
        self._next_message_id[message.chat.id] += 1
        self.transcripts[message.chat.id].append(message)
        return message

    def find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self.transcripts.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def add_file(
        self,
        kind: str,
        filename: str,
        content: bytes,
        mime_type: str,
        size: tuple[int, int] = (0, 0),
    ) -> LocalFile:
        number = next(self._file_ids)
        digest = hashlib.sha256(content).hexdigest()[:16]
        stored = LocalFile(
            kind="photo" if kind == "photo" else "document",
            filename=filename,
            content=content,
            mime_type=mime_type,
            file_id=f"local-{kind}-{number}-{digest}",
            file_unique_id=f"u{digest}",
            width=size[0],
            height=size[1],
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> LocalFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    # --- bot message events --------------------------------------------------------------------

    def subscribe(self, hook: BotMessageHook) -> Callable[[], None]:
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook) if hook in self._hooks else None

    def emit(self, kind: EventKind, message: ChatMessage) -> None:
        event = BotMessageEvent(kind=kind, message=message, seq=len(self.events) + 1)
        self.events.append(event)
        for hook in list(self._hooks):
            try:
                hook(event)
            except Exception:
                # A broken observer must not turn into a Bot API error for the bot.
                _LOG.exception("on_bot_message hook failed")
        self._notifier.notify()

"""The emulation's records: users, chats, transcript messages, files, calls.

These are plain dataclasses that tests inspect directly (``user.last.text``,
``api.calls``); `to_api` renders the JSON shape Telegram sends so PTB's ``de_json`` builds
the same objects it would from the real server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from localtg.formatting import Entity

JSON = dict[str, object]


@dataclass(frozen=True)
class UserInfo:
    """A Telegram user (a person or the bot itself)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class ChatInfo:
    """A chat; for a private chat ``id`` equals the user's id, as in Telegram."""

    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    #: Private chats only: the user has blocked the bot (sends answer 403).
    blocked: bool = False
    #: Private chats only: the user has written to the bot; before that Telegram refuses
    #: to let the bot start the conversation (403).
    started: bool = False
    #: Groups only: the bot left (leaveChat); sends answer 403 as on Telegram.
    left: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class LocalFile:
    """A file the bot uploaded (document or photo), kept byte for byte."""

    kind: Literal["document", "photo"]
    filename: str
    content: bytes
    mime_type: str
    file_id: str
    file_unique_id: str
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def file_path(self) -> str:
        """The path getFile reports and the file download URL uses."""
        return f"{self.kind}s/{self.file_id}"

    def to_api(self) -> JSON:
        if self.kind == "photo":
            return {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": self.size,
            }
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }


@dataclass
class ChatMessage:
    """One message in a chat transcript, with edits applied in place.

    ``text`` is what the reader sees: the plain text after parse_mode was applied, or the
    caption for a document/photo. ``raw_text`` is exactly what the bot sent.
    """

    chat: ChatInfo
    message_id: int
    sender: UserInfo
    date: int
    text: str = ""
    raw_text: str = ""
    parse_mode: str | None = None
    entities: list[Entity] = field(default_factory=list)
    reply_markup: JSON | None = None
    document: LocalFile | None = None
    photo: LocalFile | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    #: Earlier versions of ``text``, oldest first (one entry per editMessageText).
    history: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def is_media(self) -> bool:
        return self.document is not None or self.photo is not None

    @property
    def caption(self) -> str | None:
        return self.text if self.is_media else None

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """The raw inline keyboard button dicts (empty when there is none)."""
        rows = (self.reply_markup or {}).get("inline_keyboard")
        return rows if isinstance(rows, list) else []

    @property
    def buttons(self) -> list[list[str]]:
        """Inline keyboard labels, row by row."""
        return [[str(button.get("text", "")) for button in row] for row in self.inline_keyboard]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Reply keyboard (custom keyboard) labels, row by row."""
        rows = (self.reply_markup or {}).get("keyboard")
        if not isinstance(rows, list):
            return []
        return [[b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows]

    @property
    def documents(self) -> list[LocalFile]:
        return [self.document] if self.document else []

    def find_button(self, label: str, *, exact: bool = True) -> JSON | None:
        for row in self.inline_keyboard:
            for button in row:
                text = str(button.get("text", ""))
                if text == label or (not exact and label in text):
                    return button
        return None

    def to_api(self) -> JSON:
        data: JSON = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_api(),
            "from": self.sender.to_api(),
        }
        entities_key = "entities"
        if self.document is not None:
            data["document"] = self.document.to_api()
            entities_key = "caption_entities"
        if self.photo is not None:
            data["photo"] = [self.photo.to_api()]
            entities_key = "caption_entities"
        if self.text:
            data["caption" if self.is_media else "text"] = self.text
        if self.entities:
            data[entities_key] = self.entities
        # Telegram only echoes inline keyboards back in Message objects.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        return data


@dataclass
class CallbackQueryRecord:
    """A button press and how (whether) the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class ChatAction:
    chat_id: int
    action: str


@dataclass
class ApiCall:
    """One Bot API call as received, with its outcome (failed calls are recorded too)."""

    method: str
    params: dict[str, object]
    files: list[str]
    status: int | None = None
    description: str | None = None
    injected: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class BotMessageEvent:
    """Passed to `LocalBotApi.on_bot_message` hooks."""

    kind: Literal["sent", "edited", "deleted"]
    message: ChatMessage
    seq: int

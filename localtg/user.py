"""The user driver: plays a person talking to the bot, the way a test reads best.

Every action (`LocalUser.send`, `start`, `press`, ...) queues a real update and then waits
until the bot has *fully* handled it (see `LocalBotApi.settle`), so a test can assert on
``user.last`` on the very next line without sleeping.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from localtg.models import BotMessageEvent, CallbackQueryRecord, ChatInfo, ChatMessage, LocalFile

if TYPE_CHECKING:
    from localtg.api import LocalBotApi
    from localtg.models import UserInfo

_DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_USER_TEXT = 4096


class ChatView:
    """Read access to one chat's transcript, from the user's point of view."""

    def __init__(self, api: LocalBotApi, chat: ChatInfo) -> None:
        self.api = api
        self.chat = chat

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def all_messages(self) -> list[ChatMessage]:
        """Everything in the chat (user and bot), oldest first."""
        return self.api.transcript(self.chat_id)

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's messages in the chat, oldest first, with edits applied."""
        return [m for m in self.all_messages if m.from_bot]

    @property
    def last(self) -> ChatMessage:
        """The newest bot message."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"localtg: the bot has sent nothing to chat {self.chat_id}")
        return messages[-1]

    def texts(self) -> list[str]:
        """Texts (or captions) of the bot's messages, oldest first."""
        return [m.text for m in self.messages]

    @property
    def documents(self) -> list[LocalFile]:
        """Every document the bot sent here, oldest first."""
        return [m.document for m in self.messages if m.document is not None]

    @property
    def photos(self) -> list[LocalFile]:
        return [m.photo for m in self.messages if m.photo is not None]

    def message_with_button(self, label: str, *, exact: bool = True) -> ChatMessage:
        """The newest bot message whose inline keyboard has the button ``label``."""
        for message in reversed(self.messages):
            if message.find_button(label, exact=exact) is not None:
                return message
        available = [
            f"#{m.message_id}: {[text for row in m.buttons for text in row]}"
            for m in reversed(self.messages)
            if m.buttons
        ]
        raise AssertionError(
            f"localtg: no button {label!r} ({'exact' if exact else 'substring'} match) in chat "
            f"{self.chat_id}. Keyboards, newest first: {'; '.join(available) or 'none'}"
        )


class LocalGroup(ChatView):
    """A group chat; users write into it with `LocalUser.send_in`."""

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def title(self) -> str:
        return self.chat.title or ""


class LocalUser(ChatView):
    """A person with a private chat with the bot (chat id = user id)."""

    def __init__(self, api: LocalBotApi, info: UserInfo) -> None:
        chat = api.store.chats[info.id]
        super().__init__(api, chat)
        self.info = info
        #: Event sequence number when the last action started (see `wait_for_message`).
        self.mark = 0

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def first_name(self) -> str:
        return self.info.first_name

    @property
    def language_code(self) -> str | None:
        return self.info.language_code

    # --- actions -------------------------------------------------------------------------------

    async def send(self, text: str, *, timeout: float | None = None) -> ChatMessage:
        """Write ``text`` in the private chat (``/command`` gets a bot_command entity).
        Like on Telegram, writing to a bot you blocked unblocks it."""
        self.chat.blocked = False
        return await self._send(self.chat, text, timeout)

    async def start(
        self, payload: str | None = None, *, timeout: float | None = None
    ) -> ChatMessage:
        """Open the bot (``/start``), optionally through a deep link ``?start=payload``."""
        if payload is None:
            return await self.send("/start", timeout=timeout)
        if not _DEEP_LINK_PAYLOAD.fullmatch(payload):
            raise AssertionError(
                f"localtg: Telegram would not deliver deep-link payload {payload!r} "
                "(allowed: 1-64 characters A-Z a-z 0-9 _ -)"
            )
        return await self.send(f"/start {payload}", timeout=timeout)

    async def open_link(self, url: str, *, timeout: float | None = None) -> ChatMessage:
        """Follow a ``https://t.me/<bot>?start=...`` link the bot generated."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if parts.scheme == "tg":
            username = (query.get("domain") or [""])[0]
        else:
            username = parts.path.strip("/")
        if parts.netloc not in ("t.me", "telegram.me", "resolve") or (
            username.lower() != (self.api.bot.username or "").lower()
        ):
            raise AssertionError(f"localtg: {url!r} is not a link to @{self.api.bot.username}")
        payload = (query.get("start") or [None])[0]  # type: ignore[list-item]
        return await self.start(payload, timeout=timeout)

    async def send_document(
        self,
        content: bytes,
        filename: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        timeout: float | None = None,
    ) -> ChatMessage:
        """Send a file as a document in the private chat (Telegram allows up to 2 GB; the
        bot can fetch up to 20 MB of it with getFile)."""
        if not content:
            raise AssertionError("localtg: a Telegram client cannot send an empty file")
        self.chat.blocked = False
        self.mark = len(self.api.events)
        message, update_id = self.api.push_document(
            self.info, self.chat, filename, content, mime_type=mime_type, caption=caption
        )
        await self.api.settle(update_id, timeout)
        return message

    async def send_in(
        self, group: LocalGroup, text: str, *, timeout: float | None = None
    ) -> ChatMessage:
        """Write ``text`` in a group chat."""
        return await self._send(group.chat, text, timeout)

    async def press(
        self,
        label: str,
        *,
        exact: bool = True,
        message: ChatMessage | None = None,
        chat: ChatView | None = None,
        timeout: float | None = None,
    ) -> CallbackQueryRecord:
        """Press the inline button ``label`` on the newest bot message that has it (or on
        ``message``); returns the callback query record, showing whether it was answered."""
        view = chat or self
        target = message or view.message_with_button(label, exact=exact)
        button = target.find_button(label, exact=exact)
        if button is None:
            raise AssertionError(
                f"localtg: message #{target.message_id} has no button {label!r}: {target.buttons}"
            )
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(f"localtg: button {label!r} is not a callback button: {button}")
        return await self.press_data(data, message=target, timeout=timeout)

    async def press_data(
        self,
        data: str,
        *,
        message: ChatMessage | None = None,
        chat: ChatView | None = None,
        timeout: float | None = None,
    ) -> CallbackQueryRecord:
        """Send a callback query with arbitrary ``data`` (forged or stale buttons), attached to
        ``message`` or the newest bot message with a keyboard (else the newest bot message)."""
        view = chat or self
        if message is None:
            keyboards = [m for m in view.messages if m.inline_keyboard]
            message = keyboards[-1] if keyboards else view.last
        self.mark = len(self.api.events)
        record, update_id = self.api.push_callback(self.info, message, data)
        await self.api.settle(update_id, timeout)
        return record

    async def _send(self, chat: ChatInfo, text: str, timeout: float | None) -> ChatMessage:
        if not text.strip() or len(text) > MAX_USER_TEXT:
            raise AssertionError(
                f"localtg: a Telegram client cannot send a message of {len(text)} characters "
                f"(1-{MAX_USER_TEXT}, not only whitespace)"
            )
        self.mark = len(self.api.events)
        message, update_id = self.api.push_text(self.info, chat, text)
        await self.api.settle(update_id, timeout)
        return message

    def block(self) -> None:
        """Block the bot: its sends to this user now fail with 403 until the user writes."""
        self.chat.blocked = True

    # --- inspection ----------------------------------------------------------------------------

    def command_menu(self) -> list[tuple[str, str]]:
        """The command list Telegram would show this user (setMyCommands scopes resolved)."""
        return self.api.command_menu(self.id, self.language_code)

    async def wait_for_message(
        self,
        contains: str | None = None,
        *,
        timeout: float | None = None,
    ) -> ChatMessage:
        """Wait for a bot message (sent or edited) in this chat since the last action.

        Only needed when the bot runs outside this process (HTTP server), where the driver
        cannot join the bot's update queue."""

        def matches(event: BotMessageEvent) -> bool:
            return (
                event.message.chat_id == self.chat_id
                and event.kind != "deleted"
                and (contains is None or contains in event.message.text)
            )

        event = await self.api.wait_for_event(matches, after=self.mark, timeout=timeout)
        return event.message

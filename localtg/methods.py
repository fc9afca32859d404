"""The Bot API methods the emulation answers, with Telegram's validation and error texts.

Each handler takes `Params` and returns the ``result`` value of a successful answer, or
raises `ApiError`. `LocalBotApi` adds transport concerns (faults, flood limits, call log).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal

from localtg.errors import ApiError, bad_request
from localtg.formatting import Entity, parse_text
from localtg.markup import inline_only, validate_reply_markup
from localtg.media import image_size
from localtg.models import (
    JSON,
    CallbackQueryRecord,
    ChatAction,
    ChatInfo,
    ChatMessage,
    LocalFile,
    UserInfo,
)
from localtg.notify import Notifier
from localtg.params import Params, Upload
from localtg.state import ChatStore
from localtg.updates import UpdateQueue

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
#: Settings calls that are only recorded (bots often make them in post_init).
_RECORDED_SETTINGS = ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)

Handler = Callable[[Params], object | Awaitable[object]]
CommandsKey = tuple[str, str]


#: The Bot API serves files up to 20 MB through getFile (larger ones: "file is too big").
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def scope_key(scope: object) -> str:
    """Canonical form of a BotCommandScope for use as a dictionary key."""
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    normalized = dict(scope)
    for key in ("chat_id", "user_id"):
        value = normalized.get(key)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            normalized[key] = int(value)
    return json.dumps(normalized, sort_keys=True)


class BotMethods:
    """Bot API state and method handlers (the transport-independent core)."""

    def __init__(
        self,
        bot: UserInfo,
        now: Callable[[], datetime] | None,
    ) -> None:
        self.notifier = Notifier()
        self.store = ChatStore(bot, now or (lambda: datetime.now(UTC)), self.notifier)
        self.updates = UpdateQueue(self.notifier)
        #: (canonical scope JSON, language_code) → [{"command", "description"}, ...]
        self.commands: dict[CommandsKey, list[dict[str, str]]] = {}
        self.chat_actions: list[ChatAction] = []
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        #: Parameters of the last call to each recorded settings method (setMyDescription, ...).
        self.bot_settings: dict[str, dict[str, object]] = {}
        #: setWebhook's url and secret_token ("" = long polling), as getWebhookInfo tells.
        self.webhook_url = ""
        self.webhook_secret = ""
        self.handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": lambda p: self._send_file(p, "document"),
            "sendphoto": lambda p: self._send_file(p, "photo"),
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "getfile": self._get_file,
            "leavechat": self._leave_chat,
            "close": lambda p: True,
            "logout": lambda p: True,
        }
        for name in _RECORDED_SETTINGS:
            self.handlers[name.lower()] = self._recorder(name)

    @property
    def bot(self) -> UserInfo:
        return self.store.bot

    # --- bot, updates --------------------------------------------------------------------------

    def _get_me(self, p: Params) -> JSON:
        data = self.bot.to_api()
        data.update(
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        return data

    async def _get_updates(self, p: Params) -> list[JSON]:
        offset = p.get_int("offset") or 0
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(p.get_float("timeout", 0.0), 0.0)
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            self.updates.allowed = [str(kind) for kind in allowed]
        self.updates.acknowledge(offset)
        await self.notifier.wait_until(lambda: bool(self.updates.take(limit)), timeout)
        batch = list(self.updates.take(limit))
        if batch:
            self.updates.last_batch = batch
        return batch

    def _set_webhook(self, p: Params) -> bool:
        """Recorded only: updates are delivered to webhooks by `localtg.webhook` in tests."""
        url = p.get_str("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token") or ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        self.webhook_url, self.webhook_secret = url, secret
        if p.get_bool("drop_pending_updates"):
            self.updates.drop_all()
        return True

    def _delete_webhook(self, p: Params) -> bool:
        self.webhook_url = self.webhook_secret = ""
        if p.get_bool("drop_pending_updates"):
            self.updates.drop_all()
        return True

    def _get_webhook_info(self, p: Params) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates.pending),
        }

    # --- messages ------------------------------------------------------------------------------

    def target_chat(self, p: Params) -> ChatInfo:
        """The chat named by ``chat_id``, refusing what Telegram refuses (403/400)."""
        chat = self.store.chat(p.chat_id())
        if chat is None:
            raise bad_request("chat not found")
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.left:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _leave_chat(self, p: Params) -> bool:
        """The bot leaves a group; a private chat cannot be left (Telegram answers 400)."""
        chat = self.store.chat(p.chat_id())
        if chat is None:
            raise bad_request("chat not found")
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if chat.left:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        chat.left = True
        return True

    def _formatted(
        self, p: Params, field: str, limit: int, *, mode_field: str = "parse_mode"
    ) -> tuple[str, str, str | None, list[Entity]]:
        """(plain, raw, parse_mode, entities) of a text/caption parameter."""
        raw = p.get_str(field) or ""
        mode = p.get_str(mode_field)
        plain, entities = parse_text(raw, mode)
        explicit = p.get_json("entities" if field == "text" else "caption_entities")
        if not mode and isinstance(explicit, list):
            entities = explicit
        if len(plain) > limit:
            raise bad_request(
                "message is too long" if field == "text" else "message caption is too long"
            )
        return plain, raw, mode, entities

    def _reply_to(self, p: Params, chat: ChatInfo) -> int | None:
        reply = p.get_json("reply_parameters")
        message_id = p.get_int("reply_to_message_id")
        allow_missing = p.get_bool("allow_sending_without_reply")
        if isinstance(reply, dict) and reply.get("message_id") is not None:
            message_id = int(str(reply["message_id"]))
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        if self.store.find(chat.id, message_id) is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    def _post(self, message: ChatMessage) -> JSON:
        self.store.add_message(message)
        self.store.emit("sent", message)
        return message.to_api()

    def _send_message(self, p: Params) -> JSON:
        chat = self.target_chat(p)
        plain, raw, mode, entities = self._formatted(p, "text", MAX_TEXT_LENGTH)
        if not plain.strip():
            raise bad_request("message text is empty")
        markup = validate_reply_markup(p.get_json("reply_markup"))
        return self._post(
            ChatMessage(
                chat=chat,
                message_id=0,
                sender=self.bot,
                date=self.store.timestamp(),
                text=plain,
                raw_text=raw,
                parse_mode=mode,
                entities=entities,
                reply_markup=markup,
                reply_to_message_id=self._reply_to(p, chat),
            )
        )

    def _editable(self, p: Params) -> ChatMessage:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.target_chat(p)
        message_id = p.get_int("message_id", required=True)
        assert message_id is not None
        message = self.store.find(chat.id, message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(
        self,
        message: ChatMessage,
        text: tuple[str, str, str | None, list[Entity]] | None,
        markup: JSON | None,
    ) -> JSON:
        plain, raw, mode, entities = text or (
            message.text,
            message.raw_text,
            message.parse_mode,
            message.entities,
        )
        if (plain, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(_NOT_MODIFIED)
        if plain != message.text:
            message.history.append(message.text)
        message.text, message.raw_text, message.parse_mode = plain, raw, mode
        message.entities = entities
        message.reply_markup = markup
        message.edit_date = self.store.timestamp()
        self.store.emit("edited", message)
        return message.to_api()

    def _edit_message_text(self, p: Params) -> JSON:
        message = self._editable(p)
        if message.is_media:
            raise bad_request("there is no text in the message to edit")
        text = self._formatted(p, "text", MAX_TEXT_LENGTH)
        if not text[0].strip():
            raise bad_request("message text is empty")
        # As on Telegram: an edit without reply_markup removes the inline keyboard.
        return self._apply_edit(
            message, text, inline_only(validate_reply_markup(p.get_json("reply_markup")))
        )

    def _edit_message_caption(self, p: Params) -> JSON:
        message = self._editable(p)
        if not message.is_media:
            raise bad_request("there is no caption in the message to edit")
        caption = self._formatted(p, "caption", MAX_CAPTION_LENGTH)
        markup = inline_only(validate_reply_markup(p.get_json("reply_markup")))
        return self._apply_edit(message, caption, markup)

    def _edit_message_reply_markup(self, p: Params) -> JSON:
        message = self._editable(p)
        markup = inline_only(validate_reply_markup(p.get_json("reply_markup")))
        return self._apply_edit(message, None, markup)

    def _delete_message(self, p: Params) -> bool:
        chat = self.store.chat(p.chat_id())
        message_id = p.get_int("message_id", required=True)
        message = (
            None if chat is None or message_id is None else self.store.find(chat.id, message_id)
        )
        if message is None:
            raise bad_request("message to delete not found")
        message.deleted = True
        if message.from_bot:
            self.store.emit("deleted", message)
        return True

    # --- files ---------------------------------------------------------------------------------

    def _upload(self, p: Params, field: str) -> Upload | LocalFile:
        if field in p.files:
            return p.files[field]
        value = p.get_str(field)
        if not value:
            raise bad_request(f"there is no {field} in the request")
        if value.startswith("attach://"):
            attached = p.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"there is no {field} in the request")
            return attached
        existing = self.store.files.get(value)
        if existing is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return existing

    def _send_file(self, p: Params, kind: Literal["document", "photo"]) -> JSON:
        chat = self.target_chat(p)
        source = self._upload(p, kind)
        stored = source if isinstance(source, LocalFile) else self._store_upload(source, kind)
        plain, raw, mode, entities = self._formatted(p, "caption", MAX_CAPTION_LENGTH)
        return self._post(
            ChatMessage(
                chat=chat,
                message_id=0,
                sender=self.bot,
                date=self.store.timestamp(),
                text=plain,
                raw_text=raw,
                parse_mode=mode,
                entities=entities,
                reply_markup=validate_reply_markup(p.get_json("reply_markup")),
                document=stored if kind == "document" else None,
                photo=stored if kind == "photo" else None,
                reply_to_message_id=self._reply_to(p, chat),
            )
        )

    def _store_upload(self, upload: Upload, kind: Literal["document", "photo"]) -> LocalFile:
        if not upload.content:
            raise bad_request("file must be non-empty")
        if len(upload.content) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        size = (0, 0)
        if kind == "photo":
            if len(upload.content) > MAX_PHOTO_BYTES:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            dimensions = image_size(upload.content)
            if dimensions is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            size = dimensions
        return self.store.add_file(kind, upload.filename, upload.content, upload.mime_type, size)

    def _get_file(self, p: Params) -> JSON:
        stored = self.store.files.get(p.get_str("file_id", required=True) or "")
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    # --- callback queries, chat actions --------------------------------------------------------

    def _answer_callback_query(self, p: Params) -> bool:
        query = self.callback_queries.get(p.get_str("callback_query_id", required=True) or "")
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.text = text
        query.show_alert = p.get_bool("show_alert")
        query.url = p.get_str("url")
        self.notifier.notify()
        return True

    def _send_chat_action(self, p: Params) -> bool:
        chat = self.target_chat(p)
        action = p.get_str("action", required=True)
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat.id, action))
        return True

    # --- commands and settings -----------------------------------------------------------------

    def _commands_key(self, p: Params) -> CommandsKey:
        language = p.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("LANGUAGE_CODE_INVALID")
        return scope_key(p.get_json("scope")), language

    def _set_my_commands(self, p: Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        parsed: list[dict[str, str]] = []
        for entry in commands:
            if not isinstance(entry, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command = str(entry.get("command", ""))
            description = str(entry.get("description", ""))
            if not _COMMAND.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append({"command": command, "description": description})
        key = self._commands_key(p)
        if parsed:
            self.commands[key] = parsed
        else:
            self.commands.pop(key, None)
        return True

    def _delete_my_commands(self, p: Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    def _get_my_commands(self, p: Params) -> list[dict[str, str]]:
        return list(self.commands.get(self._commands_key(p), []))

    def _recorder(self, name: str) -> Handler:
        def record(p: Params) -> bool:
            self.bot_settings[name] = dict(p.raw)
            return True

        return record

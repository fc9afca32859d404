"""`LocalBotApi`: the in-memory Telegram Bot API that tests, the terminal chat and the HTTP
server all talk to.

It answers with the JSON Telegram would send (``{"ok": true, "result": ...}`` or an error
with ``error_code``/``description``/``parameters``), so PTB raises its real exceptions and
builds its real objects. One instance belongs to one asyncio event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from localtg.errors import ApiError, FaultKind, GarbledAnswer, TransportFault
from localtg.faults import FaultPlan, FaultRule
from localtg.formatting import utf16_len
from localtg.limits import BUDGET_METHODS, SEND_METHODS, FloodControl, FloodLimits
from localtg.methods import BotMethods, scope_key
from localtg.models import (
    JSON,
    ApiCall,
    BotMessageEvent,
    CallbackQueryRecord,
    ChatInfo,
    ChatMessage,
    LocalFile,
    UserInfo,
)
from localtg.params import Params, Upload
from localtg.user import LocalGroup, LocalUser

if TYPE_CHECKING:
    from telegram.ext import Application

#: A ceiling, not a budget: an action returns the moment the bot has handled it; this only
#: bounds how long a test hangs when the bot never answers (generous for a loaded machine).
DEFAULT_SETTLE_TIMEOUT = 120.0
_COMMAND_TOKEN = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,})?")


@dataclass(frozen=True)
class ApiReply:
    """HTTP status and JSON body of one Bot API answer."""

    status: int
    body: JSON
    #: The answer's bytes as they are, when they are not ``body`` as JSON (a fault).
    raw: bytes | None = None

    @property
    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class LocalBotApi(BotMethods):
    """In-memory Bot API state plus the transport-facing `call` entry point."""

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_first_name: str = "Mittaribotti",
        bot_username: str = "mittaribotti_bot",
        token: str | None = None,
        enforce_limits: bool = False,
        limits: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
        settle_timeout: float = DEFAULT_SETTLE_TIMEOUT,
    ) -> None:
        """
        Args:
            token: if set, requests carrying another token get 401 Unauthorized.
            enforce_limits: answer 429 past Telegram's flood limits (see `FloodLimits`).
            clock: monotonic seconds for flood control (inject to step time in tests).
            now: wall-clock time for message dates (default: real UTC now).
            settle_timeout: how long user actions wait for the bot before failing.
        """
        super().__init__(
            UserInfo(id=bot_id, first_name=bot_first_name, username=bot_username, is_bot=True),
            now,
        )
        self.token = token
        self.settle_timeout = settle_timeout
        self.calls: list[ApiCall] = []
        self.faults = FaultPlan()
        self._delays: list[list[Any]] = []
        self.flood = FloodControl(limits or FloodLimits(), clock) if enforce_limits else None
        #: Number of calls answered 429 by enforced flood limits (not by fail_next).
        self.rate_limit_errors = 0
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._callback_ids = 0
        #: Set by `LocalRequest` on getUpdates: the bot lives in this process and event loop.
        self.polled_in_process = False

    # --- transport entry point -----------------------------------------------------------------

    async def call(
        self,
        method: str,
        params: Mapping[str, object],
        files: Mapping[str, Upload] | None = None,
        *,
        token: str | None = None,
    ) -> ApiReply:
        """Answer one Bot API request. Raises `TransportFault` for injected timeouts/network
        failures, which have no JSON answer."""
        record = ApiCall(method=method, params=dict(params), files=sorted(files or {}))
        self.calls.append(record)
        p = Params(params, files)
        try:
            if self.token is not None and token is not None and token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self.handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, f"Not Found: method {method!r} is not emulated by localtg")
            delay, until = self._take_delay(method, params.get("chat_id"))
            if until is not None:  # held until the test lets it go (``delay``: a ceiling)
                await asyncio.to_thread(until.wait, delay)
            elif delay:
                await asyncio.sleep(delay)  # then answered (and delivered) as usual
            fault = self.faults.take(method, params.get("chat_id"))
            garbled = fault if isinstance(fault, GarbledAnswer) else None
            if fault is not None:
                record.injected = True
                if garbled is None:
                    raise fault
            counted = self._flood_check(method, p)
            result = handler(p)
            if inspect.isawaitable(result):
                result = await result
            if counted is not None and self.flood is not None:
                self.flood.record(counted[0])
            if garbled is not None:  # carried out; the answer does not say so
                record.status = 200
                return ApiReply(200, {}, raw=garbled.body)
        except ApiError as error:
            record.status, record.description = error.status, error.description
            return ApiReply(error.status, error.to_json())
        except TransportFault as fault:
            record.description = f"transport fault: {fault.kind}"
            raise
        except asyncio.CancelledError:
            # A long poll cut short by Updater.stop(); nothing was answered.
            record.description = "cancelled"
            raise
        record.status = 200
        return ApiReply(200, {"ok": True, "result": result})

    def _flood_check(self, method: str, p: Params) -> tuple[int | str | None] | None:
        """The chat a call counts against (``(None,)``: the overall limit only, for
        `BUDGET_METHODS`; None: no limit counts it), after refusing it if it is over."""
        if self.flood is None:
            return None
        name = method.lower()
        if name in SEND_METHODS and p.has("chat_id"):
            chat_id: int | str | None = p.chat_id()
        elif name in BUDGET_METHODS:
            chat_id = None
        else:
            return None
        wait = self.flood.retry_after(chat_id)
        if wait is not None:
            self.rate_limit_errors += 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        return (chat_id,)

    def fail_next(
        self,
        method: str,
        error: FaultKind,
        *,
        count: int = 1,
        chat_id: int | str | None = None,
        retry_after: int = 1,
        description: str | None = None,
    ) -> FaultRule:
        """Make the next ``count`` calls of ``method`` (to ``chat_id``, if given) fail.

        ``error``: "429" (RetryAfter), "403" (Forbidden: blocked), "400" (BadRequest),
        "500"/"502" (NetworkError), "timeout" (TimedOut), "network" (NetworkError);
        "garbled" / "not-ok": the call is carried out but answered 200 with a body that is
        not Telegram's (an HTML page / ``{"ok":false}``).
        """
        return self.faults.add(
            method,
            error,
            count=count,
            chat_id=chat_id,
            retry_after=retry_after,
            description=description,
        )

    def slow_next(
        self,
        method: str,
        seconds: float,
        *,
        count: int = 1,
        chat_id: int | None = None,
        until: threading.Event | None = None,
    ) -> None:
        """Hold the next ``count`` calls of ``method`` (to ``chat_id``, if given) for
        ``seconds`` before answering them normally: a slow Telegram. The call counts as
        received at once — a client that gives up meanwhile does not undo it. With
        ``until``, a call is held until the event is set (``seconds`` is then a ceiling),
        so a test decides when it ends instead of racing a time."""
        self._delays.append(
            [method.lower(), None if chat_id is None else str(chat_id), seconds, count, until]
        )

    def _take_delay(self, method: str, chat_id: object) -> tuple[float, threading.Event | None]:
        for rule in self._delays:
            if rule[0] == method.lower() and rule[1] in (None, str(chat_id)):
                rule[3] -= 1
                if rule[3] <= 0:
                    self._delays.remove(rule)
                return float(rule[2]), rule[4]
        return 0.0, None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def file_content(self, file_path: str) -> bytes | None:
        """Bytes behind a getFile ``file_path`` (for file download URLs)."""
        stored = self.store.file_by_path(file_path)
        return None if stored is None else stored.content

    # --- participants --------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Aino",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fi",
        has_started: bool = False,
    ) -> LocalUser:
        """A user with a private chat (chat id = user id). Until the user has written to the
        bot (or ``has_started``), Telegram refuses messages from the bot with 403, as here."""
        info = self.store.users.get(user_id)
        if info is None:
            info = UserInfo(user_id, first_name, last_name, username, language_code)
            self.store.users[user_id] = info
        chat = self.store.add_chat(
            ChatInfo(user_id, "private", None, first_name, last_name, username)
        )
        chat.started = chat.started or has_started
        return LocalUser(self, info)

    def group(self, chat_id: int, title: str = "Ryhmä", *, supergroup: bool = False) -> LocalGroup:
        """A group chat the bot is a member of (Telegram group ids are negative)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative in Telegram")
        chat = self.store.add_chat(
            ChatInfo(chat_id, "supergroup" if supergroup else "group", title=title)
        )
        return LocalGroup(self, chat)

    def attach(self, application: Application[Any, Any, Any, Any, Any, Any] | None) -> None:
        """Let user actions wait until ``application`` has processed their update."""
        self.application = application

    def on_bot_message(self, callback: Callable[[BotMessageEvent], None]) -> Callable[[], None]:
        """Call ``callback`` for every message the bot sends, edits or deletes.

        Returns a function that unsubscribes it."""
        return self.store.subscribe(callback)

    # --- inspection ----------------------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[ChatMessage]:
        """All messages of a chat (user's and bot's), oldest first, deleted ones excluded."""
        return [m for m in self.store.transcripts.get(chat_id, []) if not m.deleted]

    @property
    def events(self) -> list[BotMessageEvent]:
        return self.store.events

    @property
    def files(self) -> dict[str, LocalFile]:
        return self.store.files

    def commands_for(
        self, scope: Mapping[str, object] | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """Commands recorded by setMyCommands for exactly this scope and language."""
        entries = self.commands.get((scope_key(dict(scope) if scope else None), language_code), [])
        return [(e["command"], e["description"]) for e in entries]

    def command_menu(self, chat_id: int, language_code: str | None = None) -> list[tuple[str, str]]:
        """The command menu a private chat would show, resolving scopes like Telegram:
        chat → all_private_chats → default, each with the language first."""
        scopes = [{"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, None]
        languages = [language_code, ""] if language_code else [""]
        for scope in scopes:
            for language in languages:
                found = self.commands_for(scope, language)  # type: ignore[arg-type]
                if found:
                    return found
        return []

    # --- user side: updates and waiting --------------------------------------------------------

    def push_text(self, sender: UserInfo, chat: ChatInfo, text: str) -> tuple[ChatMessage, int]:
        """Record a user's message and queue it as an update (commands get their entity)."""
        if chat.type == "private":
            chat.started = True
        message = ChatMessage(
            chat=chat, message_id=0, sender=sender, date=self.store.timestamp(), text=text
        )
        command = _COMMAND_TOKEN.match(text)
        if command:
            message.entities = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        self.store.add_message(message)
        return message, self.updates.push("message", message.to_api())

    def push_document(
        self,
        sender: UserInfo,
        chat: ChatInfo,
        filename: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> tuple[ChatMessage, int]:
        """Record a document the user sends (kept like an upload, so getFile serves it)."""
        if chat.type == "private":
            chat.started = True
        guessed = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self.store.add_file("document", filename, content, guessed)
        message = ChatMessage(
            chat=chat,
            message_id=0,
            sender=sender,
            date=self.store.timestamp(),
            text=caption or "",
            document=stored,
        )
        self.store.add_message(message)
        return message, self.updates.push("message", message.to_api())

    def push_callback(
        self, sender: UserInfo, message: ChatMessage, data: str
    ) -> tuple[CallbackQueryRecord, int]:
        """Queue a button press on ``message`` (its current state, edits included)."""
        self._callback_ids += 1
        record = CallbackQueryRecord(
            id=f"{sender.id}{self._callback_ids:08d}",
            user_id=sender.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
        )
        self.callback_queries[record.id] = record
        payload: JSON = {
            "id": record.id,
            "from": sender.to_api(),
            "message": message.to_api(),
            "chat_instance": f"local{message.chat_id}",
            "data": data,
        }
        return record, self.updates.push("callback_query", payload)

    async def settle(self, update_id: int, timeout: float | None = None) -> None:
        """Wait until the bot has fully handled an update.

        First the Updater must acknowledge it (getUpdates with a higher offset: it is then in
        ``application.update_queue``); then, with an attached Application, the queue must
        be joined (PTB calls ``task_done`` only after process_update finished). Without an
        attached Application only the first step is possible.
        """
        limit = self.settle_timeout if timeout is None else timeout
        started = time.monotonic()
        fetched = await self.notifier.wait_until(lambda: self.updates.is_done(update_id), limit)
        if not fetched:
            raise TimeoutError(
                f"localtg: the bot did not fetch update {update_id} within {limit:g} s. Is an "
                "Application polling through LocalRequest(api)? (use localtg.running(app, api))"
            )
        if update_id in self.updates.filtered:
            raise AssertionError(
                f"localtg: update {update_id} ({self.updates.filtered[update_id]}) was never "
                f"delivered: the bot polls with allowed_updates={self.updates.allowed}"
            )
        if self.application is None:
            if self.polled_in_process:
                raise AssertionError(
                    "localtg: an in-process Application polls this api but is not attached, so "
                    "user actions cannot wait for its handlers: use localtg.running(app, api) "
                    "or api.attach(app)"
                )
            return
        remaining = max(limit - (time.monotonic() - started), 0.001)
        try:
            await asyncio.wait_for(self.application.update_queue.join(), remaining)
        except TimeoutError:
            raise TimeoutError(
                f"localtg: the bot did not finish handling update {update_id} within {limit:g} s"
            ) from None

    async def wait_for_event(
        self,
        predicate: Callable[[BotMessageEvent], bool],
        *,
        after: int = 0,
        timeout: float | None = None,
    ) -> BotMessageEvent:
        """The first bot message event with ``seq > after`` matching ``predicate``.

        For bots this process does not host (the HTTP server case), where "the bot has
        finished" cannot be observed directly but its replies can.
        """
        limit = self.settle_timeout if timeout is None else timeout
        found: list[BotMessageEvent] = []

        def check() -> bool:
            found[:] = [e for e in self.store.events[after:] if predicate(e)][:1]
            return bool(found)

        if not await self.notifier.wait_until(check, limit):
            raise TimeoutError(f"localtg: no matching bot message within {limit:g} s")
        return found[0]

"""Every reply a handler makes goes through the outbox, not only the guided flows' ones.

The guided-flow engine writes its replies to the outbox itself (``bot.flow.router``). The
other handlers — /start, /ohje, /kieli, /tila, the administration menus, documents, Excel,
the error message — call the bot's methods directly (``chat.send_message``, ``query.answer``,
``send_document`` …). While an update is processed (`capturing`), those calls are not made:
the bot's ``_do_post`` hands each reply request to the update's `Capture` and answers with
what Telegram would (a message with id 0, or True). After the handlers, the captured requests
are written to the outbox **in the same transaction as the inbox's handled mark**
(``delivery.ingress.mark_processed``) and delivered after the commit by the outbox sender,
with its guarantees: a kill after that commit delivers them from any replica, exactly once
(or recorded uncertain); a kill before it handles the update again.

Only requests that answer the person in their own chat are captured (`CAPTURED`);
everything else goes straight to Telegram: chat actions, files being downloaded, command
menus. Messages to other people are not made through the bot at all: their handlers write
them to the outbox in the transaction of the change that causes them (``delivery.notices``;
a coordinator told of a submitted report), and reminders and nudges have the outbox through
the ledger (``delivery.courier``). The outbox sender's own calls are never captured
(`direct`).

A document or a picture is stored **as its bytes** in the outbox row (base64 in ``params``,
under the parameter's name): the file the person asked for at that moment, sent as it was
made. Regenerating it at send time would need ``docgen``/``sheets`` inside the delivery core,
might fail or differ (answers saved meanwhile) and would repeat seconds of work; the files are
small (a workbook, a Word/PowerPoint package, a chart, at most a few MB) and the row is pruned
three days after it was sent (erasure deletes it at once).

A handler that needs the real message id of a reply (an administration menu, whose newest id
is remembered to refuse older menus' buttons) asks for work after the send
(`after_sent`): the sender runs the registered function with the real message once Telegram
has it.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime as dt
import enum
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from telegram import InputFile, TelegramObject, Update
from telegram.constants import ChatType
from telegram.ext import ExtBot

log = logging.getLogger(__name__)

#: Bot API methods that answer the person: captured while an update is processed.
CAPTURED = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "sendDocument",
        "sendPhoto",
        "leaveChat",  # after the words said in a group, in order (`capturing`)
    }
)
#: Key of a stored file in an outbox row's ``params`` (its parameter then holds this dict).
FILE_KEY = "__file__"
#: Key of the work to do after the send (`after_sent`) in an outbox row's ``params``.
AFTER_SENT_KEY = "__after_sent__"
_INSTALLED = "capture-installed"

_CURRENT: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "outbox_capture", default=None
)


@dataclass
class Capture:
    """The reply requests of one update, in the order the handlers made them."""

    chat_id: int
    requests: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    #: Outbox rows of messages to other people, already written in the transaction of the
    #: change that caused them (``delivery.notices``): delivered after the inbox mark.
    notices: list[Any] = field(default_factory=list)
    #: The outbox sender of the application processing the update (writes those rows).
    sender: Any = None
    #: Telegram's type of the chat (``private``, ``group`` …), for the answers made up here.
    chat_type: str = "private"


def current() -> Capture | None:
    return _CURRENT.get()


@contextlib.contextmanager
def capturing(update: object, *, sender: Any = None) -> Iterator[Capture | None]:
    """Capture the replies made while processing ``update`` (None for an update without a
    chat to answer). In a group or channel the bot says once that it works privately and
    leaves: both are captured, in that order (``leaveChat`` is a request like a reply), so
    the outbox says the words first and leaves after them — the words wait for the group's
    turn on the shared clock (``delivery.pacing``: Telegram allows 20 messages a minute in
    a group)."""
    chat_id = None
    chat_type: str = ChatType.PRIVATE
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        if chat is not None:
            chat_id, chat_type = chat.id, chat.type
        elif user is not None:
            chat_id = user.id
    if chat_id is None:
        yield None
        return
    capture = Capture(chat_id, sender=sender, chat_type=str(chat_type))
    token = _CURRENT.set(capture)
    try:
        yield capture
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def direct() -> Iterator[None]:
    """Calls made inside go to Telegram (the outbox sender delivering its rows)."""
    token = _CURRENT.set(None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def after_sent(name: str, payload: dict[str, Any]) -> bool:
    """Ask for ``AFTER_SENT[name](session, payload, message_id)`` once the reply just made
    has been sent; False when nothing is being captured (the caller does the work now)."""
    capture = _CURRENT.get()
    if capture is None or not capture.requests:
        return False
    capture.requests[-1][2][AFTER_SENT_KEY] = [name, payload]
    return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, InputFile):
        content = value.input_file_content
        if not isinstance(content, bytes):
            content = content.read()
        return {
            FILE_KEY: {
                "filename": value.filename,
                "mimetype": value.mimetype,
                "data": base64.b64encode(content).decode("ascii"),
            }
        }
    if isinstance(value, TelegramObject):
        return value.to_dict()
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, enum.Enum):  # ParseMode …
        return value.value
    return value


def restore(params: dict[str, Any]) -> dict[str, Any]:
    """An outbox row's params as the Bot API request's parameters: files back as
    `InputFile`; the outbox's own notes (``__owner__``, ``__after_sent__``) left out; a
    keyboard, entities or other JSON object or list as its JSON text, which is what goes
    on the wire anyway — PTB would encode it twice per call (its request data reads each
    parameter's JSON twice), a third of its cost of the call."""
    restored: dict[str, Any] = {}
    for key, value in params.items():
        if key.startswith("__") and key.endswith("__"):  # the outbox's own notes
            continue
        if isinstance(value, dict) and FILE_KEY in value:
            stored = value[FILE_KEY]
            value = InputFile(
                base64.b64decode(stored["data"]), filename=stored.get("filename"), attach=False
            )
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        restored[key] = value
    return restored


def _result(capture: Capture, method: str, params: dict[str, Any]) -> Any:
    """What Telegram would answer, as far as a handler reads it."""
    if method in ("answerCallbackQuery", "leaveChat") or "inline_message_id" in params:
        return True
    return {
        "message_id": int(params.get("message_id", 0)),
        "date": int(dt.datetime.now(dt.UTC).timestamp()),
        "chat": {"id": capture.chat_id, "type": capture.chat_type},
    }


def install(bot: ExtBot[Any]) -> None:
    """Route the bot's reply requests to the current update's `Capture` (once per bot)."""
    if getattr(bot, "_outbox_capture", None) == _INSTALLED:
        return
    original: Callable[..., Any] = bot._do_post

    async def _do_post(endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        capture = _CURRENT.get()
        if capture is None or endpoint not in CAPTURED:
            return await original(endpoint, data, **kwargs)
        addressed = data.get("chat_id", capture.chat_id)
        if addressed != capture.chat_id:  # a notice to someone else: its sender decides
            return await original(endpoint, data, **kwargs)
        bot._extract_rl_kwargs(data)  # pacing applies when the outbox sends it
        params = {key: _jsonable(value) for key, value in data.items() if value is not None}
        capture.requests.append((capture.chat_id, endpoint, params))
        return _result(capture, endpoint, params)

    bot._do_post = _do_post  # type: ignore[method-assign]
    bot._outbox_capture = _INSTALLED

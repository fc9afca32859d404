"""The local Telegram: an in-process emulation of the Telegram Bot API.

Tests drive the real PTB ``Application`` through it (`LocalRequest`), ``make run`` without a
token uses it as a terminal chat (`localtg.terminal`), and `localtg.http` serves it over
HTTP for a bot running as a separate process.
"""

from localtg.api import ApiReply, LocalBotApi
from localtg.errors import ApiError, FaultKind, TransportFault
from localtg.harness import DEFAULT_TOKEN, local_application_builder, running
from localtg.http import BotApiHttpServer, ServerThread, serve_http, start_in_thread
from localtg.limits import FloodLimits
from localtg.models import (
    ApiCall,
    BotMessageEvent,
    CallbackQueryRecord,
    ChatAction,
    ChatMessage,
    LocalFile,
    UserInfo,
)
from localtg.request import LocalRequest
from localtg.terminal import run_terminal_chat
from localtg.user import ChatView, LocalGroup, LocalUser

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "ApiReply",
    "BotApiHttpServer",
    "BotMessageEvent",
    "CallbackQueryRecord",
    "ChatAction",
    "ChatMessage",
    "ChatView",
    "FaultKind",
    "FloodLimits",
    "LocalBotApi",
    "LocalFile",
    "LocalGroup",
    "LocalRequest",
    "LocalUser",
    "ServerThread",
    "TransportFault",
    "UserInfo",
    "local_application_builder",
    "run_terminal_chat",
    "running",
    "serve_http",
    "start_in_thread",
]

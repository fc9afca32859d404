"""PTB persistence on our database, instead of PicklePersistence.

PicklePersistence rewrites one file non-atomically and serves one process only; this keeps
conversation states and chat/user data in the same database as everything else, so a
restart (or a new Application in a test) continues each person's conversation at the same
step. PTB only calls ``update_*`` every ``update_interval`` seconds; ``bot.app`` makes the
Application flush right after every update, so a crash loses nothing the person confirmed.
Business data never lives here: answers go to our own tables when confirmed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from data import botstate
from data.db import transaction


def _key(key: ConversationKey) -> str:
    return ":".join(str(part) for part in key)


def _unkey(text: str) -> ConversationKey:
    return tuple(int(part) if part.lstrip("-").isdigit() else part for part in text.split(":"))


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(self, sessions: sessionmaker[Session], update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self._sessions = sessions
        # What the database holds for each (kind, name, key), as JSON text: PTB asks to
        # write every touched user and chat after every update, mostly unchanged.
        self._written: dict[tuple[str, str, str], str | None] = {}

    def _store(self, kind: str, key: str, value: Any, name: str = "") -> None:
        """Write one value unless the database already holds exactly it."""
        text = None if value is None else json.dumps(value, sort_keys=True, default=str)
        slot = (kind, name, key)
        if slot in self._written and self._written[slot] == text:
            return
        with transaction(self._sessions) as session:
            botstate.store(session, kind, key, value, name)
        self._written[slot] = text

    # --- reading at start-up -----------------------------------------------------------

    def _load(self, kind: str, name: str = "") -> dict[str, Any]:
        with self._sessions() as session:
            loaded = botstate.unwrap(botstate.load_all(session, kind, name))
        for key, value in loaded.items():
            self._written[(kind, name, key)] = json.dumps(value, sort_keys=True, default=str)
        return loaded

    async def get_conversations(self, name: str) -> ConversationDict:
        return {_unkey(k): v for k, v in self._load(botstate.CONVERSATION, name).items()}

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        stored = self._load(botstate.USER_DATA)
        return defaultdict(dict, {int(k): v for k, v in stored.items()})

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        stored = self._load(botstate.CHAT_DATA)
        return defaultdict(dict, {int(k): v for k, v in stored.items()})

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    # --- writing -----------------------------------------------------------------------

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        self._store(botstate.CONVERSATION, _key(key), new_state, name)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        self._store(botstate.USER_DATA, str(user_id), data or None)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        self._store(botstate.CHAT_DATA, str(chat_id), data or None)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """bot_data holds the live Services object and is never stored."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Arbitrary callback data is not used: buttons carry short strings."""

    async def drop_chat_data(self, chat_id: int) -> None:
        with transaction(self._sessions) as session:
            botstate.drop(session, botstate.CHAT_DATA, str(chat_id))
        self._forget(botstate.CHAT_DATA, str(chat_id))

    async def drop_user_data(self, user_id: int) -> None:
        with transaction(self._sessions) as session:
            botstate.drop(session, botstate.USER_DATA, str(user_id))
        self._forget(botstate.USER_DATA, str(user_id))

    def _forget(self, kind: str, key: str) -> None:
        for slot in [slot for slot in self._written if slot[0] == kind and slot[2] == key]:
            del self._written[slot]

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Single process owns its users' data; nothing to refresh."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Single process owns its chats' data; nothing to refresh."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """bot_data is not persisted."""

    async def flush(self) -> None:
        """Every update is written when it happens; nothing is buffered."""

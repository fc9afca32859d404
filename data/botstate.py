"""Storage behind the bot's persistence: conversation states and per-chat/user data.

Values are JSON. Keys are strings: a conversation key (chat id, user id) is stored as
"chat:user"; chat and user data are keyed by the id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data.models import BotState, utcnow

CONVERSATION = "conversation"
CHAT_DATA = "chat_data"
USER_DATA = "user_data"


def load_all(session: Session, kind: str, name: str = "") -> dict[str, Any]:
    rows = session.execute(
        select(BotState.key, BotState.value).where(BotState.kind == kind, BotState.name == name)
    )
    return {key: value for key, value in rows}


def store(session: Session, kind: str, key: str, value: Any, name: str = "") -> None:
    """Upsert one value; ``None`` deletes the row (conversation ended, data dropped)."""
    row = session.scalar(
        select(BotState).where(BotState.kind == kind, BotState.name == name, BotState.key == key)
    )
    if value is None:
        if row is not None:
            session.delete(row)
        return
    wrapped = {"v": value}
    if row is None:
        session.add(BotState(kind=kind, name=name, key=key, value=wrapped))
    elif row.value != wrapped:
        row.value = wrapped
        row.updated_at = utcnow()


def drop(session: Session, kind: str, key: str) -> None:
    session.execute(delete(BotState).where(BotState.kind == kind, BotState.key == key))


def unwrap(stored: dict[str, Any]) -> dict[str, Any]:
    return {key: value["v"] for key, value in stored.items() if value is not None}


def open_conversations(session: Session, key: str) -> list[str]:
    """Names of the conversations in which this chat:user key is at some step."""
    rows = session.scalars(
        select(BotState.name).where(BotState.kind == CONVERSATION, BotState.key == key)
    )
    return list(rows)

"""What command menu was last set with Telegram's setMyCommands, per scope.

The bot (bot/admin/menus.py) decides what each menu holds; this module only remembers a
digest of the last one sent, so a restart with unchanged roles makes no Telegram calls.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.db import insert_for
from data.models import CommandMenu, utcnow

DEFAULT_SCOPE = "default"


def chat_scope(chat_id: int) -> str:
    return f"chat:{chat_id}"


def last_set(session: Session) -> dict[str, str]:
    """Every remembered scope and the digest of the menu last set there."""
    rows = session.execute(select(CommandMenu.scope, CommandMenu.digest))
    return {scope: digest for scope, digest in rows}


def digest_of(session: Session, scope: str) -> str | None:
    row = session.get(CommandMenu, scope)
    return None if row is None else row.digest


def remember_many(session: Session, digests: dict[str, str]) -> None:
    """`remember` for many scopes in one statement (the start-up menu check, batch by batch)."""
    if not digests:
        return
    now = utcnow()
    statement = insert_for(session, CommandMenu).values(
        [{"scope": scope, "digest": digest, "updated_at": now} for scope, digest in digests.items()]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["scope"],
            set_={"digest": statement.excluded.digest, "updated_at": statement.excluded.updated_at},
        )
    )


def remember(session: Session, scope: str, digest: str) -> None:
    """Record that the menu with ``digest`` is now set for ``scope``."""
    row = session.get(CommandMenu, scope)
    if row is None:
        try:
            # Start-up and a registration may record the same scope at once.
            with session.begin_nested():
                session.add(CommandMenu(scope=scope, digest=digest))
            return
        except IntegrityError:
            row = session.get(CommandMenu, scope, populate_existing=True)
            assert row is not None
    if row.digest != digest:
        row.digest = digest
        row.updated_at = utcnow()

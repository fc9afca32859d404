"""A database server that ended the bot's connections (a restart; here the test schema's
sessions are terminated, never another's) costs the people nothing: the worker threads'
kept connections (``data.db._Kept``) are found dead by the next transaction's first
statement, and that work runs again on a fresh connection (``data.db._run_on_worker``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.conftest import terminate_sessions

from .conftest import BotHarness


@contextmanager
def _ended_once_recorded(bot: BotHarness) -> Iterator[list[int]]:
    """End the schema's sessions right after the next update is recorded (the inbox
    insert committed): its step is then the first work to meet the dead connections."""
    recording = threading.local()
    ended: list[int] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOX"):
            recording.open = True

    def committed(_session: Session) -> None:
        if getattr(recording, "open", False):
            recording.open = False
            if not ended:
                ended.append(terminate_sessions(bot.db))

    event.listen(bot.db.engine, "after_cursor_execute", seen)
    event.listen(Session, "after_commit", committed)
    try:
        yield ended
    finally:
        event.remove(Session, "after_commit", committed)
        event.remove(bot.db.engine, "after_cursor_execute", seen)


async def test_the_next_update_after_the_servers_connections_ended_is_answered_without_errors(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    if bot.db.backend != "postgresql":
        pytest.skip("a SQLite file does not hang up")
    user = bot.contact(4401, "KUVA")
    await user.send("/raportoi")
    assert "Kirjasto" in str(user.last.reply_markup)
    # Between two updates.
    assert terminate_sessions(bot.db) >= 1
    await user.press("Kirjasto")
    assert "Vaihe 2/6" in user.last.text  # the step, not "Jokin meni vikaan"
    # Between an update's recording and its step.
    with _ended_once_recorded(bot) as ended:
        await user.send("2 5")
    assert ended and ended[0] >= 1
    assert "Vaihe 3/6" in user.last.text
    bot.assert_no_errors()
    # Nothing failed on the way either: before, the first work to meet a dead connection
    # failed — a batch not recorded ("retrying"), the sent marks of earlier replies lost, or
    # the person's step ("Jokin meni vikaan"), whichever came first.
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert failures == []

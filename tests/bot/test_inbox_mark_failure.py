"""An update whose handled mark fails (``delivery.ingress.mark_processed``), through the real
Application: answered once, never applied twice, never held forever.

Before, a failed mark was logged and left: the update stayed in this replica's hand (its
lease renewed by every background round, so no other replica took it over), its captured
replies were never written (no answer), and only this replica's next start replayed it —
applying again whatever its handlers had committed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from data.models import InboxUpdate, OutboxMessage
from delivery import ingress

from .conftest import BotHarness


def _handled(bot: BotHarness) -> list[bool]:
    with bot.db.session() as session:
        return [at is not None for at in session.scalars(select(InboxUpdate.handled_at))]


class _FailingMark:
    """The next ``times`` handled marks (``UPDATE inbox SET handled_at``) fail as a database
    failure of the moment would (the server restarting, say): the driver's own error."""

    def __init__(self, bot: BotHarness, times: int) -> None:
        self.engine = bot.db.engine
        self.left = times
        self.tried = 0

    def _before(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if " ".join(statement.split()).upper().startswith("UPDATE INBOX SET HANDLED_AT"):
            self.tried += 1
            if self.left > 0:
                self.left -= 1
                raise conn.dialect.loaded_dbapi.OperationalError("injected: the mark failed")

    def __enter__(self) -> _FailingMark:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


async def test_an_update_whose_mark_fails_for_a_while_is_answered_once_and_not_held(
    bot: BotHarness,
) -> None:
    user = bot.user(4301)
    with _FailingMark(bot, times=3) as failing:
        await user.send("/start")
    assert failing.tried == 4  # three failures, then written
    assert [m.text for m in user.messages if "kutsulinkki" in m.text] == [user.last.text]
    assert _handled(bot) == [True]
    assert ingress.held_updates(bot.app) == []  # its lease is no longer renewed
    # Not applied nor answered again at the next start.
    await bot.restart()
    await asyncio.wait_for(bot.app.update_queue.join(), 10)
    assert len(user.messages) == 1


@pytest.fixture
def short_lease(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DELIVERY_LEASE_SECONDS", "1")
    yield


async def test_a_mark_whose_commit_went_through_unseen_is_not_written_or_answered_twice(
    bot: BotHarness, short_lease: None
) -> None:
    await bot.restart()  # the sender takes the short lease
    user = bot.user(4302)
    marking = threading.local()  # the mark ran in this thread's open transaction
    lost: list[int] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if " ".join(statement.split()).upper().startswith("UPDATE INBOX SET HANDLED_AT"):
            marking.open = True

    def lose_the_answer(session: Session) -> None:
        # The mark's commit is on the server; its answer is lost on the way.
        if getattr(marking, "open", False):
            marking.open = False
            if not lost:
                lost.append(1)
                raise OperationalError("COMMIT", None, Exception("injected: connection lost"))

    event.listen(bot.db.engine, "before_cursor_execute", seen)
    event.listen(Session, "after_commit", lose_the_answer)
    try:
        await user.send("/start")
    finally:
        event.remove(Session, "after_commit", lose_the_answer)
        event.remove(bot.db.engine, "before_cursor_execute", seen)
    assert lost == [1]
    assert _handled(bot) == [True]
    assert ingress.held_updates(bot.app) == []
    with bot.db.session() as session:  # the second attempt wrote no second reply row
        rows = session.scalars(select(OutboxMessage.method)).all()
    assert rows == ["sendMessage"]
    # The row the unseen commit wrote is delivered by the background round after its lease.
    assert await bot.api.notifier.wait_until(lambda: len(user.messages) >= 1, 60)
    assert "kutsulinkki" in user.last.text

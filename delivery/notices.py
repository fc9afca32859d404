"""Messages to other people, durable: written to the outbox with the change that causes them.

A handler that changes something another person must hear about — a coordinator told of a
submitted report, the contacts and coordinators of a reopened one, the inviter of an
accepted invitation, a person whose roles or access changed — calls `notify` **inside the
transaction of that change**. The message is an outbox row (``data.outbox``) committed
with the change or not at all: a kill after the commit leaves it to any replica's outbox
sender, delivered exactly once (or recorded *uncertain*, never sent twice); a kill before
it undoes both. Calling Telegram after the commit, as these handlers did, lost the message
when the process died in between, and a 5xx or a dropped connection lost it for good.

The row is *paced* (``delivery.pacing``): the other person may be in the middle of their
own conversation, and the message keeps their chat's spacing from every replica's
messages. While an update is processed (``delivery.capture``) the rows written for it are
handed to the update when their transaction commits (`_hand_over`; a rolled-back row is
never delivered) and delivered right after its inbox mark (``bot.app.MeasuredApplication``),
also when that mark fails (the change and its notices are committed already); written
elsewhere, the caller delivers them (`deliver`), and anything left over is claimed by the
outbox's background loop once its lease has run out.

What becomes of a row is the outbox's, as for any reply (retried after a 5xx or a refused
connection, *uncertain* after a lost answer). One outcome is this module's: a person who
blocked the bot is marked inactive (`record_outcome`, the row's owner ``notice``), as the
reminders do — never a reason to undo the change that caused the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from data import people
from data.models import Person
from data.txstate import PerTransaction
from delivery import capture

log = logging.getLogger(__name__)

#: Owner name of notice rows (``delivery.outbox.RECORDERS``).
OWNER = "notice"
#: The audit reason of a person deactivated because they blocked the bot.
BLOCKED_REASON = "blocked_bot"


def notify(
    session: Session, recipients: Sequence[tuple[Person, str]], *, application: Any = None
) -> list[Any]:
    """Write one message per ``(person, text)`` to the outbox in the caller's transaction.

    While an update is processed the rows are its application's sender's and are delivered
    right after the update's inbox mark (nothing returned); outside one (``application``
    given) the caller passes the returned rows to `deliver` after the commit. Erased people
    (no chat) are skipped."""
    from delivery.outbox import OWNER_KEY, message
    from delivery.outbox import sender as outbox_sender

    pending = capture.current()
    if application is not None:
        sender = outbox_sender(application)
    else:
        sender = pending.sender if pending is not None else None
    if sender is None:
        raise RuntimeError("a notice needs an outbox: call it while an update is processed")
    requests = []
    for person, text in recipients:
        if person.telegram_user_id is None:
            continue
        request = message(person.telegram_user_id, text, None, html=False)
        request[2][OWNER_KEY] = [OWNER, {"person_id": person.id}]
        requests.append(request)
    rows = sender.write(session, requests, update_id=None, paced=True)
    if application is None and pending is not None:
        # Handed to the update once its transaction commits (`_hand_over`), not before.
        uncommitted = _UNCOMMITTED.get(session)
        uncommitted.capture = pending
        uncommitted.rows.extend(rows)
        return []
    return rows


class _Uncommitted:
    """The notice rows written in the open transaction while an update is processed, with
    that update's `capture.Capture`."""

    __slots__ = ("capture", "rows")

    def __init__(self) -> None:
        self.capture: Any = None
        self.rows: list[Any] = []


def _hand_over(_session: Session, uncommitted: _Uncommitted) -> None:
    """The rows exist now: the update delivers them right after its inbox mark. Handed
    over only at the commit — a row of a transaction rolled back (a lock wait and a retry,
    a handler failing after `notify`) does not exist, and on SQLite its id is given to the
    next row written, which the stale copy would then claim and send in its place (the
    stale text to its recipient, the real row never)."""
    if uncommitted.capture is not None:
        uncommitted.capture.notices.extend(uncommitted.rows)
    uncommitted.rows = []


def _forget(_session: Session, uncommitted: _Uncommitted) -> None:
    """Rolled back (a savepoint too: its rows may be among those undone): nothing to hand
    over; rows written before a savepoint and committed later wait for the outbox loop."""
    uncommitted.rows = []


#: Per transaction (``data.txstate``): handed over at the outermost commit, forgotten at a
#: rollback.
_UNCOMMITTED: PerTransaction[_Uncommitted] = PerTransaction(
    "delivery_notices", _Uncommitted, at_commit=_hand_over, at_rollback=_forget
)


async def deliver(application: Any, rows: Sequence[Any]) -> None:
    """Deliver notice rows after their transaction committed: each chat's in order, chats
    side by side (a paced chat's wait holds up no other). A failure is the row's status."""
    from delivery.outbox import sender as outbox_sender

    sender = outbox_sender(application)
    if sender is None or not rows:
        return
    by_chat: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_chat[row.chat_id].append(row)
    await asyncio.gather(*(sender.deliver(chat_rows) for chat_rows in by_chat.values()))


def record_outcome(session: Session, payload: dict[str, Any], settled: Any, now: Any) -> None:
    """The outbox's outcome of a notice row, in the same transaction as its status: a person
    who blocked the bot is marked inactive (audited); any other outcome is the row's own."""
    from delivery.outbox import BLOCKED

    if settled.status != BLOCKED or "blocked" not in (settled.error or "").lower():
        return  # "can't initiate conversation": never opened the bot, not a refusal
    person = session.get(Person, int(payload["person_id"]))
    if person is not None and person.active:
        log.info("person %s blocked the bot: marked inactive", person.id)
        people.deactivate(session, person, actor_id=None, reason=BLOCKED_REASON)

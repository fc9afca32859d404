"""Pending updates and getUpdates semantics (offset acknowledgement, long polling).

Acknowledgement is what the user driver keys on: PTB's Updater puts fetched updates into
``application.update_queue`` *before* it calls getUpdates again with ``offset = last + 1``,
so "offset moved past update N" means "update N is inside the Application".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from localtg.models import JSON
from localtg.notify import Notifier

#: Update types Telegram delivers when allowed_updates is empty/unset.
_DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier
        self._ids = itertools.count(1)
        self.last_id = 0
        self.pending: list[JSON] = []
        #: Every update with an id below this was acknowledged (or dropped).
        self.confirmed = 0
        #: The allowed_updates Telegram remembers from the last getUpdates that set it.
        self.allowed: list[str] = []
        #: update_id → type of updates withheld because of allowed_updates.
        self.filtered: dict[int, str] = {}
        #: The updates the last non-empty getUpdates answer carried (for `redeliver_last_batch`).
        self.last_batch: list[JSON] = []
        #: Called with the new offset whenever a getUpdates call acknowledges updates (e.g. to
        #: kill a bot process at exactly that moment). Runs before the call is answered.
        self.on_acknowledge: Callable[[int], None] | None = None

    def start_after(self, update_id: int) -> None:
        """Number the next update ``update_id + 1``: a bot that remembers ids from an earlier
        session (its inbox) must not see them again, as on Telegram, whose ids only grow."""
        if self.pending or self.last_id:
            raise RuntimeError("localtg: update ids can only be moved before the first update")
        self._ids = itertools.count(update_id + 1)
        self.last_id = update_id
        self.confirmed = update_id + 1

    def redeliver_last_batch(self) -> list[int]:
        """Send the last delivered batch again (same update_ids), as Telegram does when its
        acknowledgement was lost; the ids queued again."""
        again = [u for u in self.last_batch if u not in self.pending]
        self.pending = sorted(self.pending + again, key=lambda u: int(str(u["update_id"])))
        if again:
            self.confirmed = min(self.confirmed, min(int(str(u["update_id"])) for u in again))
            self._notifier.notify()
        return [int(str(u["update_id"])) for u in again]

    def push(self, kind: str, payload: JSON) -> int:
        update_id = self.last_id = next(self._ids)
        self.pending.append({"update_id": update_id, kind: payload})
        self._notifier.notify()
        return update_id

    def is_done(self, update_id: int) -> bool:
        """The bot has fetched and acknowledged the update, or it was filtered out."""
        return self.confirmed > update_id or update_id in self.filtered

    def acknowledge(self, offset: int) -> None:
        """Apply getUpdates' ``offset``: positive confirms ids below it, negative keeps the tail."""
        if offset < 0:
            keep = self.pending[offset:]
            if len(keep) < len(self.pending):
                self._confirm(int(str(keep[0]["update_id"])) if keep else self.last_id + 1)
            return
        if offset > 0:
            self._confirm(offset)

    def drop_all(self) -> None:
        """deleteWebhook(drop_pending_updates=True)."""
        self._confirm(self.last_id + 1)

    def take(self, limit: int) -> list[JSON]:
        """Deliverable updates (oldest first), withholding types not in allowed_updates."""
        for update in list(self.pending):
            kind = _kind(update)
            if (self.allowed and kind not in self.allowed) or (
                not self.allowed and kind in _DEFAULT_EXCLUDED
            ):
                self.pending.remove(update)
                self.filtered[int(str(update["update_id"]))] = kind
                self._notifier.notify()
        return self.pending[:limit]

    def _confirm(self, offset: int) -> None:
        if offset <= self.confirmed:
            return
        self.confirmed = offset
        self.pending = [u for u in self.pending if int(str(u["update_id"])) >= offset]
        if self.on_acknowledge is not None:
            self.on_acknowledge(offset)
        self._notifier.notify()


def _kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")

"""State that lives exactly as long as one transaction of a session (``session.info``).

Two parts of the bot keep something per transaction: the drafts one transaction loaded
(``data.drafts``: saved before the commit, read afresh after a rollback) and the notice rows
written while an update is processed (``delivery.notices``: handed to the update at the
commit, never when rolled back). Each used to add its own Session listeners for the same
lifecycle; `PerTransaction` is that lifecycle, once:

* the state is made on first use in a transaction (`PerTransaction.get`) and forgotten when
  the outermost transaction ends (committed or rolled back), so a session used again starts
  afresh, as the ORM's identity map expires its objects;
* ``before_commit`` runs before every commit, a savepoint's release too (what the
  transaction changed still has to be written);
* ``at_commit`` runs once the outermost transaction has committed (not at a savepoint's
  release: the enclosing transaction may still roll back);
* ``at_rollback`` runs after a savepoint's rollback (its writes may be among those undone,
  while the enclosing transaction goes on); the outermost rollback just forgets the state;
* ``at_end`` runs when the outermost transaction has ended, committed or rolled back.

A listener added to the session itself (``event.listen(session, "after_commit", …,
once=True)``) is not the same: a worker thread's session serves its next transactions
(``data.db``), so a listener left by a transaction that rolled back fired at the next
one's commit.

The listeners are registered once per state, on the Session class; a session without the
state costs one dictionary look-up per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

T = TypeVar("T")

Hook = Callable[[Session, T], None]


class PerTransaction(Generic[T]):
    """One kind of per-transaction state, kept in ``session.info[key]``."""

    def __init__(
        self,
        key: str,
        make: Callable[[], T],
        *,
        before_commit: Hook[T] | None = None,
        at_commit: Hook[T] | None = None,
        at_rollback: Hook[T] | None = None,
        at_end: Hook[T] | None = None,
    ) -> None:
        self.key = key
        self._make = make
        if before_commit is not None:

            def _before_commit(session: Session) -> None:
                found = session.info.get(key)
                if found is not None:
                    before_commit(session, cast(T, found))

            event.listen(Session, "before_commit", _before_commit)
        if at_commit is not None:

            def _after_commit(session: Session) -> None:
                if session.in_nested_transaction():
                    return  # a savepoint released: the enclosing transaction may roll back
                found = session.info.get(key)
                if found is not None:
                    at_commit(session, cast(T, found))

            event.listen(Session, "after_commit", _after_commit)
        if at_rollback is not None:

            def _after_rollback(session: Session, _previous: SessionTransaction) -> None:
                found = session.info.get(key)
                if found is not None:
                    at_rollback(session, cast(T, found))

            event.listen(Session, "after_soft_rollback", _after_rollback)

        def _forget(session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None:
                found = session.info.pop(key, None)
                if found is not None and at_end is not None:
                    at_end(session, cast(T, found))

        event.listen(Session, "after_transaction_end", _forget)

    def get(self, session: Session) -> T:
        """The open transaction's state, made on first use."""
        found = self.peek(session)
        if found is None:
            found = session.info[self.key] = self._make()
        return found

    def peek(self, session: Session) -> T | None:
        """The open transaction's state, None when it has none yet."""
        return cast("T | None", session.info.get(self.key))

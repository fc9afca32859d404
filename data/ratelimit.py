"""Per-person rate limits kept in the database, so every replica counts the same calls."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from data.models import MiniAppSave, Person

#: Rows older than this are deleted when the person saves again: the table stays small.
KEEP = dt.timedelta(hours=1)


def take_save_slot(
    session: Session, person_id: int, now: dt.datetime, *, limit: int, window: dt.timedelta
) -> bool:
    """Record one Mini App save of the person unless ``limit`` were made within ``window``.

    The person's row is locked first (PostgreSQL), so two replicas answering the same
    person at once count one after the other. False (nothing recorded) when over the limit.
    """
    session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    recent = session.scalar(
        select(func.count())
        .select_from(MiniAppSave)
        .where(MiniAppSave.person_id == person_id, MiniAppSave.at > now - window)
    )
    if (recent or 0) >= limit:
        return False
    if not recent:  # the first save of a burst clears the person's old rows
        session.execute(
            delete(MiniAppSave).where(
                MiniAppSave.person_id == person_id, MiniAppSave.at < now - KEEP
            )
        )
    session.add(MiniAppSave(person_id=person_id, at=now))
    session.flush()
    return True

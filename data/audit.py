"""The append-only audit log: every change is recorded with who, when, old → new."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from data.models import AuditEvent


def record(
    session: Session,
    person_id: int | None,
    action: str,
    entity: str,
    entity_id: int | str | None,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    division_id: int | None = None,
    round_id: int | None = None,
    source: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        person_id=person_id,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        division_id=division_id,
        round_id=round_id,
        old=old,
        new=new,
        source=source,
    )
    session.add(event)
    return event


#: The audit table's INSERT, built once (`record_save`).
_INSERT = cast(Table, AuditEvent.__table__).insert()


def record_save(
    session: Session,
    person_id: int,
    entity: str,
    entity_id: int,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    *,
    at: dt.datetime,
    division_id: int,
    round_id: int,
    source: str,
) -> None:
    """`record` for a save of an entity's answers, written at once with one prebuilt INSERT
    (no unit of work: a save is on the chat's hot path). The ORM's flush raised the entity's
    version on seeing an audit row; a caller writing this way raises it itself
    (``data.versions.raise_once``)."""
    session.execute(
        _INSERT,
        {
            "at": at,
            "person_id": person_id,
            "action": "save",
            "entity": entity,
            "entity_id": str(entity_id),
            "division_id": division_id,
            "round_id": round_id,
            "old": {"entries": old},
            "new": {"entries": new},
            "source": source,
        },
    )


def events(
    session: Session, *, division_id: int | None = None, round_id: int | None = None
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if division_id is not None:
        query = query.where(AuditEvent.division_id == division_id)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    return list(session.scalars(query))

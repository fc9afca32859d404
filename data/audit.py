"""The append-only audit log: every change is recorded with who, when, old → new."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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


def events(
    session: Session, *, division_id: int | None = None, round_id: int | None = None
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if division_id is not None:
        query = query.where(AuditEvent.division_id == division_id)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    return list(session.scalars(query))

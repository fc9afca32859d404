"""What is stored about a person, as a summary and as a JSON export; erasing it.

The reported answers are the city's record, so erasure does not delete them: the person
row stays as the pseudonym "Poistettu käyttäjä #<id>" and keeps authoring them, while the
name, the Telegram id, the language, the roles and unsaved drafts are removed, and the
name is scrubbed from the audit log's snapshots of the person. The raw Telegram updates
the person sent (the ``inbox``: name, username, id and free text) and the record of their
command menu (``command_menus``) are deleted outright; `erase` says how many of each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from data import people
from data.audit import record
from data.db import affected
from data.menus import chat_scope
from data.models import (
    AuditEvent,
    CatalogMethod,
    CommandMenu,
    ConversationDraft,
    Division,
    InboxUpdate,
    Invitation,
    Level,
    LevelNoneAnswer,
    MeasurementType,
    MiniAppSave,
    OutboxMessage,
    ParticipationEntry,
    Person,
    ReminderLedger,
    Role,
    Round,
    SatisfactionEntry,
    ServiceEntity,
    utcnow,
)

PSEUDONYM = "Poistettu käyttäjä #{id}"
#: Where a Telegram update names its sender or chat (the inbox's raw JSON).
_SENDER_KEYS = ("from", "chat", "user", "sender_chat")
ROLE_ORDER = list(Role)


@dataclass(frozen=True)
class Summary:
    """What /omat_tiedot shows: the person's record and how much else refers to them."""

    person_id: int
    name: str
    telegram_user_id: int | None
    language: str | None
    roles: list[Role]
    division: Division | None
    joined: dt.datetime
    participation_answers: int
    none_answers: int
    satisfaction_answers: int
    audit_rows: int

    @property
    def answers(self) -> int:
        return self.participation_answers + self.none_answers + self.satisfaction_answers


def _about(person_id: int) -> Any:
    """Audit rows the person made, or that are about the person."""
    return or_(
        AuditEvent.person_id == person_id,
        (AuditEvent.entity == "person") & (AuditEvent.entity_id == str(person_id)),
    )


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def summary(session: Session, person: Person) -> Summary:
    return Summary(
        person_id=person.id,
        name=person.name,
        telegram_user_id=person.telegram_user_id,
        language=person.language,
        roles=sorted(person.role_set, key=ROLE_ORDER.index),
        division=person.division,
        joined=person.created_at,
        participation_answers=_count(
            session, ParticipationEntry, ParticipationEntry.reported_by_id == person.id
        ),
        none_answers=_count(session, LevelNoneAnswer, LevelNoneAnswer.reported_by_id == person.id),
        satisfaction_answers=_count(
            session, SatisfactionEntry, SatisfactionEntry.reported_by_id == person.id
        ),
        audit_rows=_count(session, AuditEvent, _about(person.id)),
    )


def _time(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def export(session: Session, person: Person, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data (a subject access request).

    Audit rows the person made about *other* people are listed without their old/new
    values: those hold the other people's data.
    """
    facts = summary(session, person)
    division = person.division
    result: dict[str, Any] = {
        "exported_at": _time(now or utcnow()),
        "person": {
            "id": person.id,
            "name": person.name,
            "telegram_user_id": person.telegram_user_id,
            "language": person.language,
            "roles": [r.value for r in facts.roles],
            "division": None if division is None else {"code": division.code, **division.name},
            "active": person.active,
            "joined": _time(person.created_at),
        },
        "counts": {
            "participation_answers": facts.participation_answers,
            "none_answers": facts.none_answers,
            "satisfaction_answers": facts.satisfaction_answers,
            "audit_rows": facts.audit_rows,
        },
    }
    participation = session.execute(
        select(ParticipationEntry, Round.year, ServiceEntity.code, Level.number, CatalogMethod.code)
        .join(Round, Round.id == ParticipationEntry.round_id)
        .join(ServiceEntity, ServiceEntity.id == ParticipationEntry.service_entity_id)
        .join(Level, Level.id == ParticipationEntry.level_id)
        .outerjoin(CatalogMethod, CatalogMethod.id == ParticipationEntry.method_id)
        .where(ParticipationEntry.reported_by_id == person.id)
        .order_by(ParticipationEntry.id)
    )
    result["participation_answers"] = [
        {
            "year": year,
            "service_entity": entity,
            "level": level,
            "method": method,
            "method_text": e.method_text,
            "count": e.count,
            "note": e.note,
            "created_at": _time(e.created_at),
            "updated_at": _time(e.updated_at),
        }
        for e, year, entity, level, method in participation
    ]
    nones = session.execute(
        select(LevelNoneAnswer, Round.year, ServiceEntity.code, Level.number)
        .join(Round, Round.id == LevelNoneAnswer.round_id)
        .join(ServiceEntity, ServiceEntity.id == LevelNoneAnswer.service_entity_id)
        .join(Level, Level.id == LevelNoneAnswer.level_id)
        .where(LevelNoneAnswer.reported_by_id == person.id)
        .order_by(LevelNoneAnswer.id)
    )
    result["none_answers"] = [
        {"year": year, "service_entity": entity, "level": level, "created_at": _time(a.created_at)}
        for a, year, entity, level in nones
    ]
    satisfaction = session.execute(
        select(SatisfactionEntry, Round.year, ServiceEntity.code, MeasurementType.code)
        .join(Round, Round.id == SatisfactionEntry.round_id)
        .join(ServiceEntity, ServiceEntity.id == SatisfactionEntry.service_entity_id)
        .join(MeasurementType, MeasurementType.id == SatisfactionEntry.measurement_type_id)
        .where(SatisfactionEntry.reported_by_id == person.id)
        .order_by(SatisfactionEntry.id)
    )
    result["satisfaction_answers"] = [
        {
            "year": year,
            "service_entity": entity,
            "measurement_type": mtype,
            "scale": e.scale,
            "frequency": e.frequency,
            "frequency_text": e.frequency_text,
            "other_name": e.other_name,
            "latest_result": e.latest_result,
            "nps": e.nps,
            "promoters": e.promoters,
            "passives": e.passives,
            "detractors": e.detractors,
            "respondents": e.respondents,
            "period": e.period,
            "note": e.note,
            "created_at": _time(e.created_at),
            "updated_at": _time(e.updated_at),
        }
        for e, year, entity, mtype in satisfaction
    ]
    audit = session.scalars(select(AuditEvent).where(_about(person.id)).order_by(AuditEvent.id))
    result["audit_log"] = [
        {
            "at": _time(a.at),
            "by_self": a.person_id == person.id,
            "action": a.action,
            "entity": a.entity,
            "entity_id": a.entity_id,
            **(
                {}
                if a.entity == "person" and a.entity_id != str(person.id)
                else {"old": a.old, "new": a.new}
            ),
        }
        for a in audit
    ]
    drafts = session.scalars(
        select(ConversationDraft)
        .where(ConversationDraft.person_id == person.id)
        .order_by(ConversationDraft.id)
    )
    result["unsaved_drafts"] = [
        {"flow": d.flow, "step": d.step, "data": d.data, "last_activity": _time(d.last_activity_at)}
        for d in drafts
    ]
    reminders = session.scalars(
        select(ReminderLedger)
        .where(ReminderLedger.person_id == person.id)
        .order_by(ReminderLedger.due_at, ReminderLedger.id)
    )
    result["reminders"] = [
        {
            "deadline": r.deadline_code,
            "deadline_date": _time(r.deadline_date),
            "days_before": r.offset_days,
            "kind": r.kind,
            "status": r.status.value,
            "due_at": _time(r.due_at),
            "sent_at": _time(r.sent_at),
        }
        for r in reminders
    ]
    invitations = session.scalars(
        select(Invitation)
        .where(or_(Invitation.created_by_id == person.id, Invitation.used_by_id == person.id))
        .order_by(Invitation.id)
    )
    result["invitations"] = [
        {
            "id": i.id,
            "role": i.role.value,
            "created_by_self": i.created_by_id == person.id,
            "used_by_self": i.used_by_id == person.id,
            "created_at": _time(i.created_at),
            "used_at": _time(i.used_at),
        }
        for i in invitations
    ]
    if person.telegram_user_id is not None:
        result["telegram_updates"] = [
            {
                "update_id": row.update_id,
                "received_at": _time(row.received_at),
                "handled_at": _time(row.handled_at),
                "update": row.payload,
            }
            for row in inbox_rows(session, person.telegram_user_id)
        ]
        result["messages_to_them"] = [
            {
                "method": row.method,
                "status": row.status,
                "created_at": _time(row.created_at),
                "sent_at": _time(row.sent_at),
                "request": row.params,
            }
            for row in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == person.telegram_user_id)
                .order_by(OutboxMessage.id)
            )
        ]
    return result


def _mentions(value: Any, telegram_user_id: int) -> bool:
    """Does a raw update name this Telegram id as a sender, chat or user, anywhere?"""
    if isinstance(value, dict):
        for key, inner in value.items():
            if (
                key in _SENDER_KEYS
                and isinstance(inner, dict)
                and inner.get("id") == telegram_user_id
            ):
                return True
            if _mentions(inner, telegram_user_id):
                return True
    elif isinstance(value, list):
        return any(_mentions(item, telegram_user_id) for item in value)
    return False


def inbox_rows(session: Session, telegram_user_id: int) -> list[InboxUpdate]:
    """The raw Telegram updates held in the inbox that come from or name this person: their
    private chat's (``chat_id``), and any other whose sender, chat or user is them. The
    inbox keeps a handled update for days (`data.inbox.prune`), so this is a short scan."""
    own = list(
        session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.chat_id == telegram_user_id)
            .order_by(InboxUpdate.update_id)
        )
    )
    others = session.scalars(
        select(InboxUpdate)
        .where(or_(InboxUpdate.chat_id.is_(None), InboxUpdate.chat_id != telegram_user_id))
        .order_by(InboxUpdate.update_id)
    )
    return own + [row for row in others if _mentions(row.payload, telegram_user_id)]


@dataclass(frozen=True)
class Erased:
    """What `erase` did: the pseudonym and how many rows of each kind it deleted."""

    pseudonym: str
    drafts: int
    inbox_updates: int
    command_menus: int
    outbox_messages: int = 0

    def removed(self) -> str:
        return (
            f"removed {self.inbox_updates} Telegram update(s) from the inbox, "
            f"{self.command_menus} command menu record(s), {self.drafts} unsaved draft(s), "
            f"{self.outbox_messages} message(s) to them from the outbox"
        )


def export_person(session: Session, telegram_user_id: int) -> dict[str, Any] | None:
    """The export of the person with this Telegram id (active or not), or None."""
    person = people.person_by_telegram_id(session, telegram_user_id)
    return None if person is None else export(session, person)


def erase(session: Session, person: Person, *, actor_id: int | None) -> Erased:
    """Pseudonymise the person; their reported answers stay, attributed to the pseudonym.
    Their raw Telegram updates (inbox), command menu record and drafts are deleted.

    Returns the pseudonym and what was deleted. Writes one audit row (action "erase") that
    holds no personal data itself.
    """
    pseudonym = PSEUDONYM.format(id=person.id)
    telegram_user_id = person.telegram_user_id
    inbox_updates = command_menus = outbox_messages = 0
    if telegram_user_id is not None:
        rows = inbox_rows(session, telegram_user_id)
        ids = [row.update_id for row in rows]
        for start in range(0, len(ids), 500):
            session.execute(
                delete(InboxUpdate).where(InboxUpdate.update_id.in_(ids[start : start + 500]))
            )
        inbox_updates = len(ids)
        command_menus = affected(
            session.execute(
                delete(CommandMenu).where(CommandMenu.scope == chat_scope(telegram_user_id))
            )
        )
        # Replies to them (texts), sent or still waiting: an erased person gets nothing more.
        outbox_messages = affected(
            session.execute(delete(OutboxMessage).where(OutboxMessage.chat_id == telegram_user_id))
        )
    old_state = {"roles": sorted(r.value for r in person.role_set), "active": person.active}
    person.name = pseudonym
    person.telegram_user_id = None
    person.language = None
    person.active = False
    person.roles = []
    # The audit log's snapshots of this person carry their name: keep the change history,
    # without the name.
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "person", AuditEvent.entity_id == str(person.id)
        )
    ):
        for side in ("old", "new"):
            value = getattr(event, side)
            if isinstance(value, dict) and "name" in value:
                setattr(event, side, {**value, "name": pseudonym})
    drafts = affected(
        session.execute(delete(ConversationDraft).where(ConversationDraft.person_id == person.id))
    )
    # The Mini App's rate-limit rows say when the person saved: not needed once erased.
    session.execute(delete(MiniAppSave).where(MiniAppSave.person_id == person.id))
    session.flush()
    record(
        session,
        actor_id,
        "erase",
        "person",
        person.id,
        old_state,
        {"name": pseudonym, "roles": [], "active": False},
        division_id=person.division_id,
    )
    return Erased(pseudonym, drafts or 0, inbox_updates, command_menus or 0, outbox_messages or 0)


def erase_person(
    session: Session, telegram_user_id: int, *, actor_id: int | None
) -> dict[str, Any] | None:
    """Erase the person with this Telegram id; None when there is none."""
    person = people.person_by_telegram_id(session, telegram_user_id)
    if person is None:
        return None
    erased = erase(session, person, actor_id=actor_id)
    return {"id": person.id, "name": erased.pseudonym, "removed": erased.removed()}

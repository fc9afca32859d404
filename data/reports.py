"""Reading and writing a division's answers for a round, with access checks and audit.

Every write names the acting person and the division it touches; a write to another
division's data, or to a submitted report, raises instead of happening. Saving an entity's
answers replaces them in one transaction, so a half-finished conversation never leaves
half its answers in the database.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from data import answers as rules
from data import versions
from data.answers import SATISFACTION_FIELDS as SATISFACTION_FIELDS
from data.answers import ParticipationAnswer as ParticipationAnswer
from data.answers import SatisfactionAnswer as SatisfactionAnswer
from data.audit import record, record_save
from data.catalog import get as catalog_get
from data.catalog import held_round as catalog_held_round
from data.catalog import hold_no_round as catalog_hold_no_round
from data.db import insert_for
from data.models import (
    Actor,
    AuditEvent,
    CatalogMethod,
    EntityVersion,
    Level,
    LevelNoneAnswer,
    MeasurementType,
    ParticipationEntry,
    ReportState,
    ReportStatus,
    Role,
    Round,
    SatisfactionEntry,
    ServiceEntity,
    utcnow,
)
from data.progress import find_round, get_or_create_round


class AccessDenied(PermissionError):
    """The person may not read or change this division's data."""


class ReportLocked(RuntimeError):
    """The division's report is submitted: it must be reopened before changes."""


#: A save based on an older version of the entity's answers than the stored one: the
#: answers were changed elsewhere (chat, Excel, Mini App) after the saver read them.
#: ``service_entity_ids`` names the entities; nothing of the save was written.
ChangedElsewhere = versions.VersionConflict


def entity_versions(session: Session, year: int, service_entity_ids: list[int]) -> dict[int, int]:
    """The current version of each entity's answers in the year's round (0 = never written).

    A writer that shows answers and saves them later records these when it opens the
    entities and passes them back as ``based_on`` (or to `check_versions`) when saving.
    """
    rnd = find_round(session, year)
    return versions.current(session, rnd.id if rnd else None, service_entity_ids)


def entity_version(session: Session, year: int, service_entity_id: int) -> int:
    """`entity_versions` of one entity."""
    return entity_versions(session, year, [service_entity_id])[service_entity_id]


def check_versions(session: Session, year: int, based_on: dict[int, int]) -> None:
    """Lock the entities' versions for the rest of the transaction and raise
    `ChangedElsewhere` unless each is still the one the save is based on.

    Called before any answer is written (the save functions below do it for their
    ``based_on``), so a refused save writes nothing; the lock is taken before the report
    row's, in the same order as the Mini App's saves.
    """
    if based_on:
        versions.check(session, get_or_create_round(session, year).id, based_on)


# --- access ----------------------------------------------------------------------------


def can_read_division(person: Actor, division_id: int) -> bool:
    roles = person.role_set
    if Role.COORDINATOR in roles or Role.STAFF in roles:
        return True
    return Role.CONTACT in roles and person.division_id == division_id


def can_write_division(person: Actor, division_id: int) -> bool:
    return person.active and Role.CONTACT in person.role_set and person.division_id == division_id


def _locked_status(
    session: Session, round_id: int, division_id: int, person_id: int | None
) -> ReportStatus:
    """The division's report row, locked until the transaction ends (created as a draft).

    Every change to a division's answers or report state takes this lock first. Without it
    two sessions replacing one entity's answers at once (chat and Excel, or two replicas)
    under READ COMMITTED both read the old rows, the second one's DELETE then matched
    nothing (the first had deleted them) and both inserts stayed: a union of the two saves.
    With it the second save waits, then reads and replaces what the first committed; and a
    save waiting on a submit sees the report submitted. On SQLite writers are serialised by
    the database anyway (``FOR UPDATE`` is not emitted there).
    """
    query = (
        select(ReportStatus)
        .where(ReportStatus.round_id == round_id, ReportStatus.division_id == division_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    status = session.scalar(query)
    if status is None:
        session.execute(
            insert_for(session, ReportStatus)
            .values(
                round_id=round_id,
                division_id=division_id,
                state=ReportState.DRAFT,
                changed_at=utcnow(),
                changed_by_id=person_id,
            )
            .on_conflict_do_nothing(index_elements=["round_id", "division_id"])
        )
        status = session.scalars(query).one()
    return status


def _claim_for_save(
    session: Session, person: Actor, round_id: int, entity: ServiceEntity, based_on: int | None
) -> None:
    """Before a save writes anything: the person may write the division's report, and (with
    ``based_on``) the entity's version is locked, checked and raised for this save together
    with the report row's lock of `_require_write` — one statement (the person may write:
    `entity_for`). A submitted report refuses the save and leaves the version as it was."""
    if based_on is None:
        _require_write(session, person, round_id, entity.division_id)
        return
    state = versions.claim(
        session, round_id, entity.id, based_on, report=(entity.division_id, person.id)
    )
    if state is ReportState.SUBMITTED:
        versions.unclaim(session, round_id, entity.id)
        raise ReportLocked(f"division {entity.division_id} report is submitted")


def _require_write(session: Session, person: Actor, round_id: int, division_id: int) -> ReportState:
    """Lock the division's report row (see `_locked_status`) if the person may change it
    now; its state."""
    if not can_write_division(person, division_id):
        raise AccessDenied(f"person {person.id} may not change division {division_id}")
    # The lock of `_locked_status` in one statement: an upsert that leaves an existing row
    # as it is, but locks it (PostgreSQL) and returns its state.
    table = ReportStatus.__table__
    statement = insert_for(session, ReportStatus).values(
        round_id=round_id,
        division_id=division_id,
        state=ReportState.DRAFT,
        changed_at=utcnow(),
        changed_by_id=person.id,
    )
    state = session.execute(
        statement.on_conflict_do_update(
            index_elements=["round_id", "division_id"],
            set_={"changed_by_id": table.c.changed_by_id},
        ).returning(table.c.state)
    ).scalar_one()
    if state is ReportState.SUBMITTED:
        raise ReportLocked(f"division {division_id} report is submitted")
    return state  # type: ignore[no-any-return]


def entity_for(session: Session, person: Actor, service_entity_id: int) -> ServiceEntity:
    """The active service entity, if the person may write it; AccessDenied otherwise."""
    entity = catalog_get(session, ServiceEntity, service_entity_id)
    if entity is None or entity.retired_at is not None:
        raise AccessDenied(f"service entity {service_entity_id} is not available")
    if not can_write_division(person, entity.division_id):
        raise AccessDenied(f"service entity {service_entity_id} is not the person's")
    return entity


# --- participation ---------------------------------------------------------------------


#: A participation entry's fields as compared and written to the audit log.
_ENTRY_FIELDS = ("service_entity_id", "level_id", "method_id", "method_text", "count", "note")


def _entry_dict(entry: ParticipationEntry) -> dict[str, Any]:
    return {
        "service_entity_id": entry.service_entity_id,
        "level_id": entry.level_id,
        "method_id": entry.method_id,
        "method_text": entry.method_text,
        "count": entry.count,
        "note": entry.note,
    }


def participation_answers(
    session: Session, round_id: int, service_entity_id: int
) -> list[ParticipationAnswer]:
    """The entity's saved answers, methods first then explicit nones, in level order."""
    # Columns, not entities: a large division's answers load without building (and
    # tracking) an ORM object per row.
    answers = [
        ParticipationAnswer(level_id, method_id, method_text, count, note)
        for level_id, method_id, method_text, count, note in session.execute(
            select(
                ParticipationEntry.level_id,
                ParticipationEntry.method_id,
                ParticipationEntry.method_text,
                ParticipationEntry.count,
                ParticipationEntry.note,
            )
            .where(
                ParticipationEntry.round_id == round_id,
                ParticipationEntry.service_entity_id == service_entity_id,
            )
            .order_by(ParticipationEntry.level_id, ParticipationEntry.id)
        )
    ]
    answers += [
        ParticipationAnswer(level_id, none=True)
        for level_id in session.scalars(
            select(LevelNoneAnswer.level_id).where(
                LevelNoneAnswer.round_id == round_id,
                LevelNoneAnswer.service_entity_id == service_entity_id,
            )
        )
    ]
    return answers


def _validate_participation(session: Session, answer: ParticipationAnswer) -> ParticipationAnswer:
    """The rule book's answer (``data.answers.check_participation``) of a known level and
    method; raises ``AnswerProblem`` (a ValueError) or ValueError."""
    level = catalog_get(session, Level, answer.level_id)
    if level is None:
        raise ValueError(f"unknown level {answer.level_id}")
    checked = rules.check_participation(answer)
    if checked.method_id is not None:
        method = catalog_get(session, CatalogMethod, checked.method_id)
        if method is None or method.level_id != checked.level_id:
            raise ValueError(f"method {checked.method_id} is not of level {checked.level_id}")
    return checked


def save_participation(
    session: Session,
    person: Actor,
    year: int,
    service_entity_id: int,
    answers: list[ParticipationAnswer],
    *,
    level_ids: list[int] | None = None,
    source: str = "chat",
    based_on: int | None = None,
    nothing_saved: bool = False,
) -> Round:
    """Replace the entity's answers (all levels, or only ``level_ids``) in one go; audited.

    ``source`` ("chat" or "excel") is written to the audit row: the stored answers are the
    same whichever way they came. ``based_on`` is the entity's version (`entity_version`)
    the answers were edited from: when the stored one is newer, `ChangedElsewhere` is
    raised before anything is written. ``nothing_saved`` (with ``based_on``): the entity
    had no saved answers at that version — read in the same statement as the version
    (`entity_state`) — so, the version being unchanged, there is nothing to replace.
    """
    entity = entity_for(session, person, service_entity_id)
    answers = [_validate_participation(session, answer) for answer in answers]
    rnd = get_or_create_round(session, year)
    _claim_for_save(session, person, rnd.id, entity, based_on)
    now = utcnow()
    new: list[dict[str, Any]] = []
    new_entries: list[dict[str, Any]] = []
    new_nones: list[int] = []
    for answer in answers:
        if answer.none:
            new_nones.append(answer.level_id)
            new.append({"level_id": answer.level_id, "none": True})
            continue
        values = {
            "service_entity_id": entity.id,
            "level_id": answer.level_id,
            "method_id": answer.method_id,
            "method_text": (answer.method_text or None) if answer.method_id is None else None,
            "count": answer.count,
            "note": answer.note or None,
        }
        new_entries.append(values)
        new.append(values)
    common = {
        "round_id": rnd.id,
        "division_id": entity.division_id,
        "service_entity_id": entity.id,
        "reported_by_id": person.id,
        "now": now,
    }
    audit = {
        "a_person": person.id,
        "a_entity_id": str(entity.id),
        "a_new": {"entries": new},
        "a_source": source,
    }
    old: list[dict[str, Any]] = []
    if session.get_bind().dialect.name == "postgresql":
        # Two statements at most: the old rows go (entries and "no methods" answers in one;
        # the entries' values are the audit's "old"), then the new ones come with the audit
        # row in another. Not one: the sub-statements of one statement run in no set order,
        # so an insert could meet the unique key of a row its statement is yet to delete.
        if not (nothing_saved and based_on is not None):
            gone = session.execute(
                _DELETE_OLD_PG,
                {
                    "round_id": rnd.id,
                    "service_entity_id": entity.id,
                    "all_levels": level_ids is None,
                    "levels": list(level_ids or []),
                },
            ).all()
            old = [dict(zip(_ENTRY_FIELDS, row[1:], strict=True)) for row in sorted(gone)]
        session.execute(
            _INSERT_NEW_PG,
            {
                **common,
                **audit,
                "a_old": {"entries": old},
                "e_level": [e["level_id"] for e in new_entries],
                "e_method": [e["method_id"] for e in new_entries],
                "e_text": [e["method_text"] for e in new_entries],
                "e_count": [e["count"] for e in new_entries],
                "e_note": [e["note"] for e in new_entries],
                "n_level": new_nones,
            },
        )
    else:
        # Core statements, a fixed number whatever the count of answers: the old rows go
        # with DELETE … RETURNING (they are the audit's "old"), the new ones in one INSERT
        # each, the audit row with them (no unit of work for one row).
        if not (nothing_saved and based_on is not None):
            scope: dict[str, Any] = {"round_id": rnd.id, "service_entity_id": entity.id}
            if level_ids is None:
                gone = session.execute(_DELETE_ENTRIES_RETURNING, scope).all()
                session.execute(_DELETE_NONES, scope)
            else:
                scope["level_ids"] = list(level_ids)
                gone = session.execute(_DELETE_LEVEL_ENTRIES_RETURNING, scope).all()
                session.execute(_DELETE_LEVEL_NONES, scope)
            old = [dict(zip(_ENTRY_FIELDS, row[1:], strict=True)) for row in sorted(gone)]
        rows = {
            "round_id": rnd.id,
            "division_id": entity.division_id,
            "reported_by_id": person.id,
            "created_at": now,
        }
        if new_entries:
            session.execute(
                _INSERT_ENTRIES, [{**values, **rows, "updated_at": now} for values in new_entries]
            )
        if new_nones:
            session.execute(
                _INSERT_NONES,
                [
                    {**rows, "service_entity_id": entity.id, "level_id": level_id}
                    for level_id in new_nones
                ],
            )
        record_save(
            session,
            person.id,
            "participation",
            entity.id,
            old,
            new,
            at=now,
            division_id=entity.division_id,
            round_id=rnd.id,
            source=source,
        )
    # The audit row is written without the unit of work, which raised the version on
    # seeing it (``data.versions``): a save not claimed by `versions.claim` raises it here.
    versions.raise_once(session, rnd.id, entity.id)
    return rnd


_ENTRIES = cast(Table, ParticipationEntry.__table__)
_NONES_TABLE = cast(Table, LevelNoneAnswer.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)
_SCOPE_ENTRIES = (_ENTRIES.c.round_id == bindparam("round_id")) & (
    _ENTRIES.c.service_entity_id == bindparam("service_entity_id")
)
_SCOPE_NONES = (_NONES_TABLE.c.round_id == bindparam("round_id")) & (
    _NONES_TABLE.c.service_entity_id == bindparam("service_entity_id")
)
_GONE_COLUMNS = (_ENTRIES.c.id, *(_ENTRIES.c[name] for name in _ENTRY_FIELDS))
#: `save_participation`'s statements (SQLite), built once.
_DELETE_ENTRIES_RETURNING = _ENTRIES.delete().where(_SCOPE_ENTRIES).returning(*_GONE_COLUMNS)
_DELETE_LEVEL_ENTRIES_RETURNING = (
    _ENTRIES.delete()
    .where(_SCOPE_ENTRIES, _ENTRIES.c.level_id.in_(bindparam("level_ids", expanding=True)))
    .returning(*_GONE_COLUMNS)
)
_DELETE_NONES = _NONES_TABLE.delete().where(_SCOPE_NONES)
_DELETE_LEVEL_NONES = _NONES_TABLE.delete().where(
    _SCOPE_NONES, _NONES_TABLE.c.level_id.in_(bindparam("level_ids", expanding=True))
)
_INSERT_ENTRIES = _ENTRIES.insert()
_INSERT_NONES = _NONES_TABLE.insert()

#: `save_participation`'s statements on PostgreSQL (see there), built once.
_DELETE_OLD_PG = text(
    """
WITH gone_nones AS (
    DELETE FROM level_none_answers
    WHERE round_id = :round_id AND service_entity_id = :service_entity_id
      AND (:all_levels OR level_id = ANY(CAST(:levels AS INTEGER[])))
    RETURNING id
)
DELETE FROM participation_entries
WHERE round_id = :round_id AND service_entity_id = :service_entity_id
  AND (:all_levels OR level_id = ANY(CAST(:levels AS INTEGER[])))
RETURNING id, service_entity_id, level_id, method_id, method_text, count, note
"""
).bindparams(
    bindparam("all_levels", type_=Boolean()),
    bindparam("levels", type_=postgresql.ARRAY(Integer())),
)
_INSERT_NEW_PG = text(
    """
WITH added AS (
    INSERT INTO participation_entries (round_id, division_id, service_entity_id, level_id,
        method_id, method_text, count, note, reported_by_id, created_at, updated_at)
    SELECT :round_id, :division_id, :service_entity_id, e.level_id, e.method_id,
        e.method_text, e.count, e.note, :reported_by_id, :now, :now
    FROM unnest(:e_level, :e_method, :e_text, :e_count, :e_note)
        AS e(level_id, method_id, method_text, count, note)
    RETURNING id
), added_nones AS (
    INSERT INTO level_none_answers (round_id, division_id, service_entity_id, level_id,
        reported_by_id, created_at)
    SELECT :round_id, :division_id, :service_entity_id, n.level_id, :reported_by_id, :now
    FROM unnest(:n_level) AS n(level_id)
    RETURNING id
)
INSERT INTO audit_log (at, person_id, action, entity, entity_id, division_id, round_id,
    "old", "new", source)
VALUES (:now, :a_person, 'save', 'participation', :a_entity_id, :division_id, :round_id,
    :a_old, :a_new, :a_source)
"""
).bindparams(
    bindparam("now", type_=_AUDIT.c.at.type),
    bindparam("e_level", type_=postgresql.ARRAY(Integer())),
    bindparam("e_method", type_=postgresql.ARRAY(Integer())),
    bindparam("e_text", type_=postgresql.ARRAY(String())),
    bindparam("e_count", type_=postgresql.ARRAY(Integer())),
    bindparam("e_note", type_=postgresql.ARRAY(Text())),
    bindparam("n_level", type_=postgresql.ARRAY(Integer())),
    bindparam("a_old", type_=_AUDIT.c.old.type),
    bindparam("a_new", type_=_AUDIT.c.new.type),
)


def owned_entry(
    session: Session,
    person: Actor,
    model: type[ParticipationEntry] | type[SatisfactionEntry],
    entry_id: int,
) -> ParticipationEntry | SatisfactionEntry:
    """The entry, if the person may change it now: AccessDenied or ReportLocked otherwise."""
    entry: ParticipationEntry | SatisfactionEntry | None = (
        session.get(ParticipationEntry, entry_id)
        if issubclass(model, ParticipationEntry)
        else session.get(SatisfactionEntry, entry_id)
    )
    if entry is None or not can_write_division(person, entry.division_id):
        raise AccessDenied(f"{model.__tablename__} {entry_id} is not the person's")
    _require_write(session, person, entry.round_id, entry.division_id)
    return entry


def update_participation_entry(
    session: Session,
    person: Actor,
    entry_id: int,
    *,
    count: int | None = None,
    note: str | None = None,
    method_text: str | None = None,
) -> ParticipationEntry:
    entry = owned_entry(session, person, ParticipationEntry, entry_id)
    assert isinstance(entry, ParticipationEntry)
    old = _entry_dict(entry)
    checked = rules.check_participation(
        ParticipationAnswer(
            level_id=entry.level_id,
            method_id=entry.method_id,
            method_text=method_text if method_text is not None else entry.method_text,
            count=count if count is not None else entry.count,
            note=(note or None) if note is not None else entry.note,
        )
    )
    entry.count = checked.count
    entry.note = checked.note
    if entry.method_id is None:
        entry.method_text = checked.method_text
    entry.reported_by_id = person.id
    session.flush()
    record(
        session,
        person.id,
        "update",
        "participation_entry",
        entry.id,
        old,
        _entry_dict(entry),
        division_id=entry.division_id,
        round_id=entry.round_id,
    )
    return entry


def delete_entry(session: Session, person: Actor, kind: str, entry_id: int) -> None:
    """Delete one participation or satisfaction entry (kind "participation"/"satisfaction")."""
    model = ParticipationEntry if kind == "participation" else SatisfactionEntry
    entry = owned_entry(session, person, model, entry_id)
    old = _entry_dict(entry) if isinstance(entry, ParticipationEntry) else satisfaction_dict(entry)
    session.delete(entry)
    session.flush()
    record(
        session,
        person.id,
        "delete",
        f"{kind}_entry",
        entry_id,
        old,
        None,
        division_id=entry.division_id,
        round_id=entry.round_id,
    )


def division_entries(
    session: Session, person: Actor, year: int, division_id: int
) -> tuple[list[ParticipationEntry], list[SatisfactionEntry]]:
    """All of a division's entries for the year (read access checked)."""
    if not can_read_division(person, division_id):
        raise AccessDenied(f"person {person.id} may not read division {division_id}")
    rnd = find_round(session, year)
    if rnd is None:
        return [], []
    participation = list(
        session.scalars(
            select(ParticipationEntry)
            .where(
                ParticipationEntry.round_id == rnd.id, ParticipationEntry.division_id == division_id
            )
            .order_by(
                ParticipationEntry.service_entity_id,
                ParticipationEntry.level_id,
                ParticipationEntry.id,
            )
        )
    )
    satisfaction = list(
        session.scalars(
            select(SatisfactionEntry)
            .where(
                SatisfactionEntry.round_id == rnd.id, SatisfactionEntry.division_id == division_id
            )
            .order_by(SatisfactionEntry.service_entity_id, SatisfactionEntry.id)
        )
    )
    return participation, satisfaction


# --- satisfaction ----------------------------------------------------------------------


def satisfaction_dict(entry: SatisfactionEntry) -> dict[str, Any]:
    """The entry's answer fields, as compared and written to the audit log."""
    return {
        "service_entity_id": entry.service_entity_id,
        "measurement_type_id": entry.measurement_type_id,
        "scale": entry.scale,
        "frequency": entry.frequency,
        "frequency_text": entry.frequency_text,
        "other_name": entry.other_name,
        "latest_result": entry.latest_result,
        "nps": entry.nps,
        "promoters": entry.promoters,
        "passives": entry.passives,
        "detractors": entry.detractors,
        "respondents": entry.respondents,
        "period": entry.period,
        "note": entry.note,
    }


#: A satisfaction entry's fields as written to the audit log (`satisfaction_dict`'s order).
_SATISFACTION_AUDITED = ("service_entity_id", *SatisfactionAnswer.__dataclass_fields__)
_SATISFACTION = cast(Table, SatisfactionEntry.__table__)
#: `save_satisfaction`'s statements, built once.
_DELETE_SATISFACTION_RETURNING = (
    _SATISFACTION.delete()
    .where(
        _SATISFACTION.c.round_id == bindparam("round_id"),
        _SATISFACTION.c.service_entity_id == bindparam("service_entity_id"),
    )
    .returning(_SATISFACTION.c.id, *(_SATISFACTION.c[name] for name in _SATISFACTION_AUDITED))
)
_INSERT_SATISFACTION = _SATISFACTION.insert()


def validate_satisfaction(session: Session, answer: SatisfactionAnswer) -> SatisfactionAnswer:
    """The answer to store, checked by the rule book (``data.answers.check_satisfaction``)
    against its measurement type; raises ``AnswerProblem`` (a ValueError) or ValueError."""
    mtype = catalog_get(session, MeasurementType, answer.measurement_type_id)
    if mtype is None:
        raise ValueError(f"unknown measurement type {answer.measurement_type_id}")
    return rules.check_satisfaction(answer, mtype)


def satisfaction_answers(
    session: Session, round_id: int, service_entity_id: int
) -> list[SatisfactionAnswer]:
    rows = session.scalars(
        select(SatisfactionEntry)
        .where(
            SatisfactionEntry.round_id == round_id,
            SatisfactionEntry.service_entity_id == service_entity_id,
        )
        .order_by(SatisfactionEntry.id)
    )
    return [
        SatisfactionAnswer(
            **{k: v for k, v in satisfaction_dict(r).items() if k != "service_entity_id"}
        )
        for r in rows
    ]


def save_satisfaction(
    session: Session,
    person: Actor,
    year: int,
    service_entity_id: int,
    answers: list[SatisfactionAnswer],
    *,
    source: str = "chat",
    based_on: int | None = None,
) -> Round:
    """Replace the entity's satisfaction answers in one go; audited with ``source``.

    ``based_on`` as in `save_participation`: a newer stored version raises
    `ChangedElsewhere` before anything is written.
    """
    entity = entity_for(session, person, service_entity_id)
    checked = [validate_satisfaction(session, a) for a in answers]
    rnd = get_or_create_round(session, year)
    _claim_for_save(session, person, rnd.id, entity, based_on)
    # Core statements, a fixed number whatever the count of answers (built once): the old
    # rows go with DELETE … RETURNING (the audit's "old"), the new ones in one INSERT, then
    # the audit row — no unit of work.
    gone = session.execute(
        _DELETE_SATISFACTION_RETURNING, {"round_id": rnd.id, "service_entity_id": entity.id}
    ).all()
    old = [dict(zip(_SATISFACTION_AUDITED, row[1:], strict=True)) for row in sorted(gone)]
    new = [{"service_entity_id": entity.id, **answer.to_dict()} for answer in checked]
    now = utcnow()
    if new:
        session.execute(
            _INSERT_SATISFACTION,
            [
                {
                    **values,
                    "round_id": rnd.id,
                    "division_id": entity.division_id,
                    "reported_by_id": person.id,
                    "created_at": now,
                    "updated_at": now,
                }
                for values in new
            ],
        )
    record_save(
        session,
        person.id,
        "satisfaction",
        entity.id,
        old,
        new,
        at=now,
        division_id=entity.division_id,
        round_id=rnd.id,
        source=source,
    )
    versions.raise_once(session, rnd.id, entity.id)
    return rnd


# --- report state ----------------------------------------------------------------------


def _set_state(
    session: Session, round_id: int, division_id: int, state: ReportState, person: Actor
) -> None:
    status = _locked_status(session, round_id, division_id, person.id)
    old_state = status.state
    status.state = state
    status.changed_at = utcnow()
    status.changed_by_id = person.id
    session.flush()
    record(
        session,
        person.id,
        state.value,
        "report",
        f"{round_id}/{division_id}",
        {"state": old_state.value},
        {"state": state.value},
        division_id=division_id,
        round_id=round_id,
    )


def submit_report(session: Session, person: Actor, year: int, division_id: int) -> None:
    """Mark the division's report submitted (contacts of that division only)."""
    rnd = get_or_create_round(session, year)
    _require_write(session, person, rnd.id, division_id)
    _set_state(session, rnd.id, division_id, ReportState.SUBMITTED, person)


def reopen_report(session: Session, person: Actor, year: int, division_id: int) -> bool:
    """Reopen a submitted report (coordinators only); False if it was not submitted."""
    if Role.COORDINATOR not in person.role_set or not person.active:
        raise AccessDenied("only a coordinator can reopen a report")
    rnd = find_round(session, year)
    if rnd is None:
        return False
    status = session.scalar(
        select(ReportStatus)
        .where(ReportStatus.round_id == rnd.id, ReportStatus.division_id == division_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if status is None or status.state is not ReportState.SUBMITTED:
        return False
    _set_state(session, rnd.id, division_id, ReportState.REOPENED, person)
    return True


# --- a year's answers of one entity (the starting point of a guided conversation) ---------


def _entity_state_query(*, ask_previous: bool) -> Any:
    """`entity_state`'s one statement, built once (it runs on every entity press): the
    version row, the entries and the "no methods" answers, and — ``ask_previous`` — last
    year's round; parameters ``round_id``, ``entity_id`` (and ``previous_year``)."""
    version_table = cast(Table, EntityVersion.__table__)
    entries = cast(Table, ParticipationEntry.__table__)
    nones = cast(Table, LevelNoneAnswer.__table__)
    rounds = cast(Table, Round.__table__)
    number = Integer()
    round_id = bindparam("round_id", type_=number)
    entity_id = bindparam("entity_id", type_=number)
    parts = [
        select(
            literal(0, number).label("kind"),
            version_table.c.version.label("version"),
            sql_cast(null(), number).label("level_id"),
            sql_cast(null(), number).label("method_id"),
            sql_cast(null(), String()).label("method_text"),
            sql_cast(null(), number).label("count"),
            sql_cast(null(), Text()).label("note"),
            literal(0, number).label("id"),
        ).where(
            version_table.c.round_id == round_id,
            version_table.c.service_entity_id == entity_id,
        ),
        select(
            literal(1, number),
            sql_cast(null(), number),
            entries.c.level_id,
            entries.c.method_id,
            entries.c.method_text,
            entries.c.count,
            entries.c.note,
            entries.c.id,
        ).where(
            entries.c.round_id == round_id,
            entries.c.service_entity_id == entity_id,
        ),
        select(
            literal(2, number),
            sql_cast(null(), number),
            nones.c.level_id,
            sql_cast(null(), number),
            sql_cast(null(), String()),
            sql_cast(null(), number),
            sql_cast(null(), Text()),
            nones.c.id,
        ).where(
            nones.c.round_id == round_id,
            nones.c.service_entity_id == entity_id,
        ),
    ]
    if ask_previous:
        parts.append(
            select(
                literal(3, number),
                rounds.c.id,
                *(sql_cast(null(), kind) for kind in (number, number, String(), number, Text())),
                literal(0, number),
            ).where(rounds.c.year == bindparam("previous_year", type_=number))
        )
    return union_all(*parts).order_by(text("kind"), text("level_id"), text("id"))


_ENTITY_STATE = _entity_state_query(ask_previous=False)
_ENTITY_STATE_WITH_PREVIOUS = _entity_state_query(ask_previous=True)


def entity_state(
    session: Session, year: int, service_entity_id: int
) -> tuple[int, list[ParticipationAnswer]]:
    """The entity's version (`entity_version`) and its saved participation answers
    (`participation_for_year`), read in one statement — so from one snapshot: the answers
    are exactly those of that version, which lets a save based on it with nothing saved
    skip the replacing (``save_participation(nothing_saved=True)``)."""
    rnd = find_round(session, year)
    if rnd is None:
        return 0, []
    # Whether last year has a round, when this process does not know (yet, or any more):
    # the flow asks next whether there are last year's answers to offer (`find_round`).
    ask_previous = catalog_held_round(session, year - 1) is None
    query = _ENTITY_STATE_WITH_PREVIOUS if ask_previous else _ENTITY_STATE
    params = {"round_id": rnd.id, "entity_id": service_entity_id}
    if ask_previous:
        params["previous_year"] = year - 1
    version = 0
    answers: list[ParticipationAnswer] = []
    nones: list[ParticipationAnswer] = []
    previous = False
    for kind, stored, level_id, method_id, method_text, count, note, _id in session.execute(
        query, params
    ):
        if kind == 0:
            version = int(stored)
        elif kind == 1:
            answers.append(ParticipationAnswer(level_id, method_id, method_text, count, note))
        elif kind == 2:
            nones.append(ParticipationAnswer(level_id, none=True))
        else:
            previous = True
    if ask_previous and not previous:  # known for a while: no statement of its own next
        catalog_hold_no_round(session, year - 1)
    return version, answers + nones


def participation_for_year(
    session: Session, year: int, service_entity_id: int
) -> list[ParticipationAnswer]:
    """The entity's saved participation answers in the year's round ([] if none)."""
    rnd = find_round(session, year)
    return [] if rnd is None else participation_answers(session, rnd.id, service_entity_id)


def satisfaction_for_year(
    session: Session, year: int, service_entity_id: int
) -> list[SatisfactionAnswer]:
    """The entity's saved satisfaction answers in the year's round ([] if none)."""
    rnd = find_round(session, year)
    return [] if rnd is None else satisfaction_answers(session, rnd.id, service_entity_id)


def previous_participation(
    session: Session, year: int, service_entity_id: int
) -> list[ParticipationAnswer]:
    """Last year's answers of the entity that still fit the catalog (retired items left out).

    Offered as the starting point of this year's report; the counts are last year's and the
    person confirms or changes each before saving.
    """
    usable = []
    for answer in participation_for_year(session, year - 1, service_entity_id):
        level = catalog_get(session, Level, answer.level_id)
        if level is None or level.retired_at is not None:
            continue
        if answer.method_id is not None:
            method = catalog_get(session, CatalogMethod, answer.method_id)
            if method is None or method.retired_at is not None:
                continue
        usable.append(answer)
    return usable


def previous_satisfaction(
    session: Session, year: int, service_entity_id: int
) -> list[SatisfactionAnswer]:
    """Last year's satisfaction answers of the entity whose measurement type is still active."""
    usable = []
    for answer in satisfaction_for_year(session, year - 1, service_entity_id):
        mtype = catalog_get(session, MeasurementType, answer.measurement_type_id)
        if mtype is not None and mtype.retired_at is None:
            usable.append(answer)
    return usable

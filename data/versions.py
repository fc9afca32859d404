"""Versions of a service entity's answers: no silent overwrite between chat, Excel and Mini App.

Every flush that adds, changes or deletes an entity's participation entries, "no methods"
answers or satisfaction entries — or records the audit row of such a save — raises that
entity's number in ``entity_versions`` in the same transaction. The listener sits on every
SQLAlchemy session, so whichever code path writes the answers (``data.reports`` for the
chat, the Excel import and the Mini App, ``data.overview`` for /muokkaa) the version moves;
nothing has to remember to call it.

A writer that shows answers and saves them later (the Mini App) remembers the version it
showed and calls `check` before saving: it takes the row lock, so of two saves based on
the same version exactly one goes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction

from data.models import (
    AuditEvent,
    EntityVersion,
    LevelNoneAnswer,
    ParticipationEntry,
    ReportState,
    ReportStatus,
    SatisfactionEntry,
    utcnow,
)

_ANSWER_ROWS = (ParticipationEntry, LevelNoneAnswer, SatisfactionEntry)
_AUDITED = ("participation", "satisfaction")


class VersionConflict(RuntimeError):
    """The entity was changed after the version the save was based on."""

    def __init__(self, service_entity_ids: list[int]) -> None:
        super().__init__(f"changed elsewhere: {service_entity_ids}")
        self.service_entity_ids = service_entity_ids


def _touched(session: Session) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _ANSWER_ROWS):
            if obj.round_id is not None and obj.service_entity_id is not None:
                pairs.add((obj.round_id, obj.service_entity_id))
        elif (
            isinstance(obj, AuditEvent)
            and obj in session.new
            and obj.entity in _AUDITED
            and obj.round_id is not None
            and obj.entity_id is not None
            and obj.entity_id.isdigit()
        ):
            pairs.add((obj.round_id, int(obj.entity_id)))
    return pairs


def bump(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Raise the version of each (round id, service entity id) by one (created at 1)."""
    connection = session.connection()
    dialect = connection.dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = EntityVersion.__table__
    for round_id, entity_id in sorted(pairs):
        statement = insert(table).values(round_id=round_id, service_entity_id=entity_id, version=1)
        statement = statement.on_conflict_do_update(
            index_elements=["round_id", "service_entity_id"],
            set_={"version": table.c.version + 1},
        )
        connection.execute(statement)


#: ``session.info`` key: the entities already raised in the open transaction. One raise per
#: transaction is enough (a save is one transaction), and a save's several flushes then
#: cost one statement per entity instead of one per flush.
_RAISED = "entity_versions_raised"


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    raised: set[tuple[int, int]] = session.info.setdefault(_RAISED, set())
    pairs = _touched(session) - raised
    if pairs:
        bump(session, pairs)
        raised.update(pairs)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_raised(session: Session, *_args: object) -> None:
    session.info.pop(_RAISED, None)


def current(session: Session, round_id: int | None, entity_ids: Iterable[int]) -> dict[int, int]:
    """The version of each entity (0 when never written in the round)."""
    ids = list(entity_ids)
    result = dict.fromkeys(ids, 0)
    if round_id is None or not ids:
        return result
    rows = session.execute(
        select(EntityVersion.service_entity_id, EntityVersion.version).where(
            EntityVersion.round_id == round_id, EntityVersion.service_entity_id.in_(ids)
        )
    )
    for entity_id, version in rows:
        result[entity_id] = version
    return result


def check(session: Session, round_id: int, based_on: dict[int, int]) -> None:
    """Lock the entities' versions and raise VersionConflict unless each equals its base.

    The upsert below locks each row until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway), so a concurrent save of the same entity waits here and then
    sees the new version.
    """
    if not based_on:
        return
    # One statement per entity: the row is made (version 0) when new, else "updated" to its
    # own value, which takes the row lock (PostgreSQL) and returns the newest committed
    # version; two saves of one entity queue here instead of both passing.
    connection = session.connection()
    insert: Any = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = EntityVersion.__table__
    stored: dict[int, int] = {}
    for entity_id in sorted(based_on):
        statement = (
            insert(table)
            .values(round_id=round_id, service_entity_id=entity_id, version=0)
            .on_conflict_do_update(
                index_elements=["round_id", "service_entity_id"],
                set_={"version": table.c.version},
            )
            .returning(table.c.version)
        )
        stored[entity_id] = connection.execute(statement).scalar_one()
    stale = sorted(e for e, v in based_on.items() if stored[e] != v)
    if stale:
        raise VersionConflict(stale)


#: `claim`'s statements, built once per dialect and kind (a save runs one): parameters
#: ``v_round``, ``v_entity``, ``v_initial``, ``v_based_on`` (and for the report's lock
#: ``v_expected``, ``r_division``, ``r_person``, ``r_now``).
_CLAIMS: dict[tuple[str, str], Any] = {}


def _claim_statement(dialect: str, kind: str) -> Any:
    """``kind`` "version": the version's upsert returning the raised version; "report":
    with the report row's lock and state (see `claim`)."""
    built = _CLAIMS.get((dialect, kind))
    if built is not None:
        return built
    postgres = dialect == "postgresql"
    insert: Any = postgresql.insert if postgres else sqlite.insert
    table = cast(Table, EntityVersion.__table__)
    statuses = cast(Table, ReportStatus.__table__)
    upsert = (
        insert(table)
        .values(
            round_id=bindparam("v_round", type_=table.c.round_id.type),
            service_entity_id=bindparam("v_entity", type_=table.c.service_entity_id.type),
            version=bindparam("v_initial", type_=table.c.version.type),
        )
        .on_conflict_do_update(
            index_elements=["round_id", "service_entity_id"],
            set_={"version": table.c.version + 1},
            where=table.c.version == bindparam("v_based_on", type_=table.c.version.type),
        )
    )
    if kind == "version":
        built = upsert.returning(table.c.version)
    elif postgres:
        claimed = upsert.returning(table.c.version).cte("claimed")
        draft = select(
            bindparam("v_round", type_=statuses.c.round_id.type),
            bindparam("r_division", type_=statuses.c.division_id.type),
            literal(ReportState.DRAFT, statuses.c.state.type),
            bindparam("r_now", type_=statuses.c.changed_at.type),
            bindparam("r_person", type_=statuses.c.changed_by_id.type),
        ).where(claimed.c.version == bindparam("v_expected", type_=table.c.version.type))
        built = (
            postgresql.insert(statuses)
            .from_select(["round_id", "division_id", "state", "changed_at", "changed_by_id"], draft)
            .on_conflict_do_update(
                index_elements=["round_id", "division_id"],
                set_={"changed_by_id": statuses.c.changed_by_id},
            )
            .returning(statuses.c.state)
            .add_cte(claimed)
        )
    else:
        current = (
            select(statuses.c.state)
            .where(
                statuses.c.round_id == bindparam("v_round", type_=statuses.c.round_id.type),
                statuses.c.division_id
                == bindparam("r_division", type_=statuses.c.division_id.type),
            )
            .scalar_subquery()
        )
        built = upsert.returning(table.c.version, current)
    _CLAIMS[(dialect, kind)] = built
    return built


def claim(
    session: Session,
    round_id: int,
    entity_id: int,
    based_on: int,
    *,
    report: tuple[int, int | None] | None = None,
) -> ReportState | None:
    """`check` and the save's raise in one statement: lock the entity's version and raise
    it by one if it is still ``based_on``, else raise VersionConflict (nothing changed).

    For a save that writes the entity whatever it holds (``data.reports``); the raise the
    flush would add is then skipped. The upsert's ``WHERE`` leaves a newer version as it
    is — and returns no row — but the row stays locked (PostgreSQL), as in `check`. A
    caller that gives up after this (the report turned out submitted) calls `unclaim`.

    ``report`` (division id, acting person id): the same statement also takes the lock a
    change of the division's answers needs (``data.reports._require_write``) and returns
    the division's report state. On PostgreSQL the version's upsert is a CTE whose row feeds
    the report row's upsert (made as a draft when missing, else left as it is but locked):
    the version row is locked first, then the report row, the order every save keeps; a
    version conflict locks no report row. SQLite serialises writers, so there the upsert
    only reads the state (a missing row is a draft). Without ``report``: None.
    """
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    expected = based_on + 1
    params: dict[str, Any] = {
        "v_round": round_id,
        "v_entity": entity_id,
        "v_initial": 1 if based_on == 0 else 0,
        "v_based_on": based_on,
    }
    state: ReportState | None = None
    if report is None:
        statement = _claim_statement(connection.dialect.name, "version")
        stored = connection.execute(statement, params).scalar_one_or_none()
    elif postgres:
        division_id, person_id = report
        params.update(
            v_expected=expected, r_division=division_id, r_person=person_id, r_now=utcnow()
        )
        statement = _claim_statement(connection.dialect.name, "report")
        state = connection.execute(statement, params).scalar_one_or_none()
        stored = expected if state is not None else None
    else:
        params["r_division"] = report[0]
        statement = _claim_statement(connection.dialect.name, "report")
        row = connection.execute(statement, params).first()
        stored = None if row is None else row[0]
        if row is not None:
            state = row[1] if row[1] is not None else ReportState.DRAFT
    if stored != expected:
        raise VersionConflict([entity_id])
    session.info.setdefault(_RAISED, set()).add((round_id, entity_id))
    return state


def raise_once(session: Session, round_id: int, entity_id: int) -> None:
    """Raise the entity's version for a save written without the unit of work (which
    raises it on seeing the rows), unless this transaction raised it already (`claim`)."""
    raised: set[tuple[int, int]] = session.info.setdefault(_RAISED, set())
    if (round_id, entity_id) not in raised:
        bump(session, [(round_id, entity_id)])
        raised.add((round_id, entity_id))


def unclaim(session: Session, round_id: int, entity_id: int) -> None:
    """Undo `claim`'s raise: the save it was for writes nothing after all."""
    table = cast(Table, EntityVersion.__table__)
    session.connection().execute(
        table.update()
        .where(table.c.round_id == round_id, table.c.service_entity_id == entity_id)
        .values(version=table.c.version - 1)
    )
    session.info.get(_RAISED, set()).discard((round_id, entity_id))

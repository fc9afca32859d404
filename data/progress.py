"""What each division has reported in a round and what is still missing.

One definition of "complete" serves the contact's /tila, the coordinator's /tilanne and
/muistuta, the reminders' audiences and the documents' LUONNOS mark:

* a service entity is complete when it has an answer (methods, or the explicit "none") at
  every active level and at least one satisfaction answer (a measurement, or the explicit
  "not measured");
* a division stands in exactly one of three places (`division_state`): SUBMITTED (its
  report is submitted — final, locked, and nothing more is asked of it, even if answers are
  missing: a coordinator reopens it to change that), COMPLETE (every answer is there but
  the report is not submitted yet) or INCOMPLETE (answers missing, not submitted). A
  division is complete (`DivisionProgress.complete`, `is_complete`) unless it is
  INCOMPLETE; only INCOMPLETE divisions are reminded or nudged.

What is *missing* is a separate fact from the state, defined once here (`Gap`,
`EntityProgress.gaps`, `DivisionProgress.gaps`, `DivisionProgress.first_gap`): a division
submitted while incomplete is still missing what it misses. /tila, /tilanne, /muistuta, the
reminders and the reminders' "Report now" (which opens the flow of the first gap) read it
from here; only *whom to remind* depends on the state.

Before this, /tilanne showed a division submitted with gaps as "submitted" and listed it
under "still incomplete", and /muistuta offered to nudge contacts who could no longer
change anything.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Text,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from data import catalog
from data.db import insert_for
from data.models import (
    AuditEvent,
    LevelNoneAnswer,
    ParticipationEntry,
    Person,
    ReportState,
    ReportStatus,
    Round,
    SatisfactionEntry,
    utcnow,
)
from data.txstate import PerTransaction


class DivisionState(enum.StrEnum):
    """Where a division stands in a round; every view sorts divisions by this alone."""

    SUBMITTED = "submitted"  # report submitted: final, nothing more is asked
    COMPLETE = "complete"  # every answer given, report not yet submitted
    INCOMPLETE = "incomplete"  # answers missing, report not submitted (draft or reopened)


def division_state(report_state: ReportState, answers_complete: bool) -> DivisionState:
    """The one rule: a submitted report counts as done whatever its answers."""
    if report_state is ReportState.SUBMITTED:
        return DivisionState.SUBMITTED
    return DivisionState.COMPLETE if answers_complete else DivisionState.INCOMPLETE


def is_complete(report_state: ReportState, answers_complete: bool) -> bool:
    """Nothing more is expected of the division: submitted, or every answer given."""
    return division_state(report_state, answers_complete) is not DivisionState.INCOMPLETE


class Gap(enum.StrEnum):
    """What a service entity can be missing; the order is the order they are asked in."""

    PARTICIPATION = "participation"  # a participation level without an answer
    SATISFACTION = "satisfaction"  # no satisfaction answer (nor "not measured")


@dataclass(frozen=True)
class EntityProgress:
    service_entity_id: int
    code: str
    name: dict[str, str]
    counts_by_level: dict[int, int]  # level number -> sum of counts (methods answered)
    none_levels: frozenset[int]  # level numbers answered "no methods at this level"
    satisfaction_mapped: bool
    #: level number -> how many methods were reported. /tila shows this, never the sum of
    #: counts: one method's count is events, another's participants (the listateksti's rule).
    methods_by_level: dict[int, int] = field(default_factory=dict)

    @property
    def missing_levels(self) -> list[int]:
        answered = set(self.counts_by_level) | self.none_levels
        return [n for n in (1, 2, 3, 4) if n not in answered]

    @property
    def participation_complete(self) -> bool:
        return not self.missing_levels

    @property
    def complete(self) -> bool:
        return self.participation_complete and self.satisfaction_mapped

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """What the entity is missing, whatever the report's state."""
        gaps: list[Gap] = []
        if not self.participation_complete:
            gaps.append(Gap.PARTICIPATION)
        if not self.satisfaction_mapped:
            gaps.append(Gap.SATISFACTION)
        return tuple(gaps)

    @property
    def has_answers(self) -> bool:
        """Anything at all reported for the entity (a level or the satisfaction mapping)."""
        return bool(self.counts_by_level or self.none_levels or self.satisfaction_mapped)


@dataclass(frozen=True)
class DivisionProgress:
    division_id: int
    code: str
    name: dict[str, str]
    state: ReportState
    entities: list[EntityProgress] = field(default_factory=list)
    last_change_at: dt.datetime | None = None

    @property
    def answers_complete(self) -> bool:
        """Every service entity has every answer (whether or not the report is submitted)."""
        return all(e.complete for e in self.entities)

    @property
    def division_state(self) -> DivisionState:
        return division_state(self.state, self.answers_complete)

    @property
    def complete(self) -> bool:
        """Nothing more is expected of the division (see the module text); the reminders,
        /muistuta and /tilanne's "still incomplete" all use this."""
        return self.division_state is not DivisionState.INCOMPLETE

    @property
    def submitted(self) -> bool:
        return self.state is ReportState.SUBMITTED

    @property
    def missing(self) -> list[EntityProgress]:
        """The service entities with a gap, whether or not the report is submitted."""
        return [e for e in self.entities if e.gaps]

    @property
    def gaps(self) -> frozenset[Gap]:
        """Every kind of answer still missing somewhere in the division."""
        return frozenset(g for e in self.entities for g in e.gaps)

    @property
    def first_gap(self) -> Gap | None:
        """What to ask first ("Report now"): participation before satisfaction."""
        return next((g for g in Gap if g in self.gaps), None)

    @property
    def submitted_with_gaps(self) -> bool:
        """Submitted although answers are missing: done for reminders, not "complete"."""
        return self.submitted and not self.answers_complete

    @property
    def entities_reported(self) -> int:
        """Service entities with a full participation answer."""
        return sum(1 for e in self.entities if e.participation_complete)

    @property
    def satisfaction_mapped(self) -> int:
        return sum(1 for e in self.entities if e.satisfaction_mapped)

    @property
    def levels_covered(self) -> list[int]:
        """Level numbers at which at least one service entity reports methods."""
        return sorted({n for e in self.entities for n, c in e.counts_by_level.items() if c >= 0})


def _hold_rounds(session: Session, rounds: list[Round]) -> None:
    for rnd in rounds:
        catalog.hold_round(session, rnd)


#: Rounds read or made by a transaction, held with the catalog once it commits (never when
#: it rolls back: the round may be its own insert). Per transaction (``data.txstate``), not
#: a listener on the session: a worker's session serves its next transactions.
_ROUNDS_TO_HOLD: PerTransaction[list[Round]] = PerTransaction(
    "data.progress.rounds_to_hold", list, at_commit=_hold_rounds
)


def get_or_create_round(session: Session, year: int) -> Round:
    """The year's round, created if needed; safe when several sessions create it at once
    (one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the new row or the one another
    session made, never a unique violation)."""
    rnd = find_round(session, year)
    if rnd is None:
        catalog.forget_no_round(session, year)
        statement = insert_for(session, Round).values(year=year, created_at=utcnow())
        rnd = session.scalars(
            statement.on_conflict_do_update(
                index_elements=["year"], set_={"year": statement.excluded.year}
            ).returning(Round)
        ).one()
        # Held once the transaction commits (a rolled-back round must not be remembered).
        _ROUNDS_TO_HOLD.get(session).append(rnd)
    return rnd


def find_round(session: Session, year: int) -> Round | None:
    """The year's round, or None. A round once found is held per process (with the
    catalog): it is never removed, and looking it up was a statement in most updates."""
    held = catalog.held_round(session, year)
    if held is catalog.NO_ROUND:
        return None
    if held is not None:
        return held  # type: ignore[no-any-return]
    rnd = session.scalar(select(Round).where(Round.year == year))
    if rnd is not None:
        # Held once the transaction commits: the row may be this transaction's own insert
        # (`get_or_create_round`), and a round remembered from a transaction rolled back
        # (a lock wait, then a retry) would be a round that does not exist.
        _ROUNDS_TO_HOLD.get(session).append(rnd)
    else:
        catalog.hold_no_round(session, year)
    return rnd


def report_state(session: Session, round_id: int, division_id: int) -> ReportState:
    status = session.get(ReportStatus, (round_id, division_id))
    return status.state if status else ReportState.DRAFT


def division_progress(session: Session, round_id: int | None, division_id: int) -> DivisionProgress:
    """Progress of one division; ``round_id`` None (no round yet) means nothing reported.

    One statement (a ``UNION ALL`` of the five reads it needs, tagged by ``kind``): the
    entity list of /raportoi and /tyytyvaisyys shows it on every start.
    """
    division = catalog.get(session, catalog.Division, division_id)
    assert division is not None
    levels = {lvl.id: lvl.number for lvl in catalog.levels(session)}
    counts: dict[int, dict[int, int]] = {}
    methods: dict[int, dict[int, int]] = {}
    nones: dict[int, set[int]] = {}
    mapped: set[int] = set()
    last_change = None
    state = ReportState.DRAFT
    if round_id is not None:
        preloaded = session.info.get(_PRELOADED, {}).pop((round_id, division_id), None)
        rows: Any = (
            preloaded
            if preloaded is not None
            else session.execute(
                _DIVISION_PROGRESS, {"progress_round": round_id, "progress_division": division_id}
            )
        )
        for kind, entity_id, level_id, total, how_many, at, stored_state in rows:
            if kind == _SUMS and level_id in levels:
                counts.setdefault(entity_id, {})[levels[level_id]] = int(total or 0)
                methods.setdefault(entity_id, {})[levels[level_id]] = int(how_many)
            elif kind == _NONES and level_id in levels:
                nones.setdefault(entity_id, set()).add(levels[level_id])
            elif kind == _MAPPED:
                mapped.add(entity_id)
            elif kind == _LAST_CHANGE:
                last_change = at
            elif kind == _STATE and stored_state is not None:
                state = stored_state
    entities = [
        EntityProgress(
            service_entity_id=e.id,
            code=e.code,
            name=e.name,
            counts_by_level=counts.get(e.id, {}),
            methods_by_level=methods.get(e.id, {}),
            none_levels=frozenset(nones.get(e.id, set())),
            satisfaction_mapped=e.id in mapped,
        )
        for e in catalog.service_entities(session, division_id)
    ]
    if last_change is not None and last_change.tzinfo is None:
        last_change = last_change.replace(tzinfo=dt.UTC)
    return DivisionProgress(division.id, division.code, division.name, state, entities, last_change)


_SUMS, _NONES, _MAPPED, _LAST_CHANGE, _STATE = range(5)

#: ``session.info`` key: progress read ahead with the person (`Preload`), by (round, division).
_PRELOADED = "division_progress_preloaded"


@dataclass(frozen=True)
class Preload:
    """The division progress of a person, read in the statement that loads the person
    (``data.drafts.person_and_drafts``) instead of one of its own: /raportoi and
    /tyytyvaisyys show it right after, in the same transaction (`division_progress` then
    takes it instead of reading).

    ``column`` is a scalar subquery: `division_progress`'s ``UNION ALL`` for the division
    of the Telegram user (found by a subquery, so it is computed once, not per row) as one
    JSON text."""

    round_id: int
    column: Any

    def keep(self, session: Session, division_id: int, value: str | None) -> None:
        """Hold the read rows for `division_progress` in this transaction."""
        rows = []
        for kind, entity_id, level_id, total, how_many, at, state in json.loads(value or "[]"):
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at)
            rows.append(
                (
                    kind,
                    entity_id,
                    level_id,
                    total,
                    how_many,
                    at,
                    ReportState(state) if state is not None else None,
                )
            )
        session.info.setdefault(_PRELOADED, {})[(self.round_id, division_id)] = rows


#: The parameter of the person's Telegram user id in the statement a `Preload` joins
#: (``data.drafts.person_and_drafts``): the preloaded column binds the same one.
USER_PARAM = "telegram_user_id"

#: `Preload` columns by (dialect, round id), built once: a round is never removed and
#: the column holds nothing of a person (the user id is the statement's parameter).
_PRELOAD_COLUMNS: dict[tuple[str, int], Any] = {}


def preload(session: Session, year: int, telegram_user_id: int) -> Preload | None:
    """A `Preload` of the Telegram user's division's progress in the year's round; None
    when the year has no round (nothing to read). The column binds the user id as the
    parameter `USER_PARAM` of the statement it is added to (``telegram_user_id`` is that
    value: the caller passes it with its own statement's parameters)."""
    rnd = find_round(session, year)
    if rnd is None:
        return None
    dialect = session.get_bind().dialect.name
    column = _PRELOAD_COLUMNS.get((dialect, rnd.id))
    if column is None:
        column = _PRELOAD_COLUMNS[(dialect, rnd.id)] = _preload_column(dialect, rnd.id)
    return Preload(rnd.id, column)


def _preload_column(dialect: str, round_id: int) -> Any:
    division = (
        select(Person.__table__.c.division_id)
        .where(
            Person.__table__.c.telegram_user_id
            == bindparam(USER_PARAM, type_=Person.__table__.c.telegram_user_id.type)
        )
        .scalar_subquery()
    )
    rows = _progress_query(literal(round_id, Integer()), division).subquery()
    columns = [rows.c[name] for name in ("kind", "entity", "level", "total", "methods", "at")]
    columns.append(rows.c.state)
    if dialect == "postgresql":
        gathered = func.json_agg(func.json_build_array(*columns))
    else:
        gathered = func.json_group_array(func.json_array(*columns))
    return select(cast(gathered, Text)).select_from(rows).scalar_subquery()


def _progress_query(round_id: Any, division_id: Any) -> Any:
    """`division_progress`'s reads as one ``UNION ALL``: (kind, entity, level, sum of counts,
    number of methods, last change, report state). Every empty column is a typed NULL
    (PostgreSQL matches a UNION's column types branch by branch)."""
    number, big = Integer(), BigInteger()
    at_type, state_type = AuditEvent.__table__.c.at.type, ReportStatus.__table__.c.state.type

    def empty(*types: Any) -> list[Any]:
        return [cast(null(), kind) for kind in types]

    entries = ParticipationEntry.__table__.c
    nones = LevelNoneAnswer.__table__.c
    satisfaction = SatisfactionEntry.__table__.c
    audit = AuditEvent.__table__.c
    statuses = ReportStatus.__table__.c
    return union_all(
        select(  # the names of the union's columns (`preload` reads them by name)
            literal(_SUMS, number).label("kind"),
            entries.service_entity_id.label("entity"),
            entries.level_id.label("level"),
            cast(func.sum(entries.count), big).label("total"),
            cast(func.count(entries.id), number).label("methods"),
            cast(null(), at_type).label("at"),
            cast(null(), state_type).label("state"),
        )
        .where(entries.round_id == round_id, entries.division_id == division_id)
        .group_by(entries.service_entity_id, entries.level_id),
        select(
            literal(_NONES, number),
            nones.service_entity_id,
            nones.level_id,
            *empty(big, number, at_type, state_type),
        ).where(nones.round_id == round_id, nones.division_id == division_id),
        select(
            literal(_MAPPED, number),
            satisfaction.service_entity_id,
            *empty(number, big, number, at_type, state_type),
        )
        .where(satisfaction.round_id == round_id, satisfaction.division_id == division_id)
        .distinct(),
        select(
            literal(_LAST_CHANGE, number),
            *empty(number, number, big, number),
            func.max(audit.at),
            *empty(state_type),
        ).where(audit.round_id == round_id, audit.division_id == division_id),
        select(
            literal(_STATE, number),
            *empty(number, number, big, number, at_type),
            statuses.state,
        ).where(statuses.round_id == round_id, statuses.division_id == division_id),
    )


#: `division_progress`'s statement, built once: parameters ``progress_round``,
#: ``progress_division``.
_DIVISION_PROGRESS = _progress_query(
    bindparam("progress_round", type_=Integer()), bindparam("progress_division", type_=Integer())
)


def round_progress(session: Session, year: int) -> list[DivisionProgress]:
    """Every active division's progress in the year's round, in catalog order."""
    rnd = find_round(session, year)
    return [
        division_progress(session, rnd.id if rnd else None, d.id)
        for d in catalog.divisions(session)
    ]

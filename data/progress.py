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
from dataclasses import dataclass, field

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from data import catalog
from data.db import insert_for
from data.models import (
    AuditEvent,
    LevelNoneAnswer,
    ParticipationEntry,
    ReportState,
    ReportStatus,
    Round,
    SatisfactionEntry,
    utcnow,
)


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


def get_or_create_round(session: Session, year: int) -> Round:
    """The year's round, created if needed; safe when several sessions create it at once
    (an ``INSERT … ON CONFLICT DO NOTHING`` then a read, never a unique violation)."""
    rnd = find_round(session, year)
    if rnd is None:
        catalog.forget_no_round(session, year)
        session.execute(
            insert_for(session, Round)
            .values(year=year, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["year"])
        )
        rnd = session.scalars(select(Round).where(Round.year == year)).one()
        # Held once the transaction commits (a rolled-back round must not be remembered).
        event.listen(
            session, "after_commit", lambda _s, r=rnd: catalog.hold_round(_s, r), once=True
        )
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
        event.listen(
            session, "after_commit", lambda _s, r=rnd: catalog.hold_round(_s, r), once=True
        )
    else:
        catalog.hold_no_round(session, year)
    return rnd


def report_state(session: Session, round_id: int, division_id: int) -> ReportState:
    status = session.get(ReportStatus, (round_id, division_id))
    return status.state if status else ReportState.DRAFT


def division_progress(session: Session, round_id: int | None, division_id: int) -> DivisionProgress:
    """Progress of one division; ``round_id`` None (no round yet) means nothing reported."""
    division = catalog.get(session, catalog.Division, division_id)
    assert division is not None
    levels = {lvl.id: lvl.number for lvl in catalog.levels(session)}
    counts: dict[int, dict[int, int]] = {}
    methods: dict[int, dict[int, int]] = {}
    nones: dict[int, set[int]] = {}
    mapped: set[int] = set()
    last_change = None
    if round_id is not None:
        rows = session.execute(
            select(
                ParticipationEntry.service_entity_id,
                ParticipationEntry.level_id,
                func.sum(ParticipationEntry.count),
                func.count(ParticipationEntry.id),
            )
            .where(
                ParticipationEntry.round_id == round_id,
                ParticipationEntry.division_id == division_id,
            )
            .group_by(ParticipationEntry.service_entity_id, ParticipationEntry.level_id)
        )
        for entity_id, level_id, total, how_many in rows:
            if level_id in levels:
                counts.setdefault(entity_id, {})[levels[level_id]] = int(total or 0)
                methods.setdefault(entity_id, {})[levels[level_id]] = int(how_many)
        for entity_id, level_id in session.execute(
            select(LevelNoneAnswer.service_entity_id, LevelNoneAnswer.level_id).where(
                LevelNoneAnswer.round_id == round_id,
                LevelNoneAnswer.division_id == division_id,
            )
        ):
            if level_id in levels:
                nones.setdefault(entity_id, set()).add(levels[level_id])
        mapped = set(
            session.scalars(
                select(SatisfactionEntry.service_entity_id).where(
                    SatisfactionEntry.round_id == round_id,
                    SatisfactionEntry.division_id == division_id,
                )
            )
        )
        last_change = session.scalar(
            select(func.max(AuditEvent.at)).where(
                AuditEvent.round_id == round_id, AuditEvent.division_id == division_id
            )
        )
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
    state = report_state(session, round_id, division_id) if round_id else ReportState.DRAFT
    if last_change is not None and last_change.tzinfo is None:
        last_change = last_change.replace(tzinfo=dt.UTC)
    return DivisionProgress(division.id, division.code, division.name, state, entities, last_change)


def round_progress(session: Session, year: int) -> list[DivisionProgress]:
    """Every active division's progress in the year's round, in catalog order."""
    rnd = find_round(session, year)
    return [
        division_progress(session, rnd.id if rnd else None, d.id)
        for d in catalog.divisions(session)
    ]

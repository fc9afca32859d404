"""A division's answers of a round, all service entities at once (the Mini App's form).

The same answers as ``data.reports.participation_answers`` / ``satisfaction_answers`` /
``previous_participation`` / ``previous_satisfaction`` give one entity at a time, read in a
handful of queries for the whole division, so drawing a 20-entity form does not cost a
hundred round trips.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    CatalogMethod,
    Level,
    LevelNoneAnswer,
    MeasurementType,
    ParticipationEntry,
    SatisfactionEntry,
)
from data.progress import find_round
from data.reports import (
    ParticipationAnswer,
    SatisfactionAnswer,
    satisfaction_dict,
)

Answers = tuple[dict[int, list[ParticipationAnswer]], dict[int, list[SatisfactionAnswer]]]


def division_answers(session: Session, round_id: int | None, division_id: int) -> Answers:
    """Each entity's participation (methods in level order, then explicit nones) and
    satisfaction answers in the round, by service entity id."""
    participation: dict[int, list[ParticipationAnswer]] = defaultdict(list)
    satisfaction: dict[int, list[SatisfactionAnswer]] = defaultdict(list)
    if round_id is None:
        return participation, satisfaction
    for e in session.scalars(
        select(ParticipationEntry)
        .where(
            ParticipationEntry.round_id == round_id,
            ParticipationEntry.division_id == division_id,
        )
        .order_by(ParticipationEntry.level_id, ParticipationEntry.id)
    ):
        participation[e.service_entity_id].append(
            ParticipationAnswer(e.level_id, e.method_id, e.method_text, e.count, e.note)
        )
    for entity_id, level_id in session.execute(
        select(LevelNoneAnswer.service_entity_id, LevelNoneAnswer.level_id).where(
            LevelNoneAnswer.round_id == round_id, LevelNoneAnswer.division_id == division_id
        )
    ):
        participation[entity_id].append(ParticipationAnswer(level_id, none=True))
    for row in session.scalars(
        select(SatisfactionEntry)
        .where(
            SatisfactionEntry.round_id == round_id,
            SatisfactionEntry.division_id == division_id,
        )
        .order_by(SatisfactionEntry.id)
    ):
        values = {k: v for k, v in satisfaction_dict(row).items() if k != "service_entity_id"}
        satisfaction[row.service_entity_id].append(SatisfactionAnswer(**values))
    return participation, satisfaction


def previous_answers(session: Session, year: int, division_id: int) -> Answers:
    """Last year's answers that still fit the catalog (retired levels, methods and
    measurement types left out), as ``data.reports.previous_*`` give them per entity."""
    rnd = find_round(session, year - 1)
    participation, satisfaction = division_answers(session, rnd.id if rnd else None, division_id)
    if rnd is None:
        return participation, satisfaction
    retired_levels = set(session.scalars(select(Level.id).where(Level.retired_at.is_not(None))))
    retired_methods = set(
        session.scalars(select(CatalogMethod.id).where(CatalogMethod.retired_at.is_not(None)))
    )
    retired_types = set(
        session.scalars(select(MeasurementType.id).where(MeasurementType.retired_at.is_not(None)))
    )
    for entity_id, answers in participation.items():
        participation[entity_id] = [
            a
            for a in answers
            if a.level_id not in retired_levels and a.method_id not in retired_methods
        ]
    for entity_id, rows in satisfaction.items():
        satisfaction[entity_id] = [a for a in rows if a.measurement_type_id not in retired_types]
    return participation, satisfaction

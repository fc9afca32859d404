"""Helpers for the /tila, /valmis and /muokkaa tests (no tests here).

Answers are created the way a finished /raportoi or /tyytyvaisyys would leave them: through
``data.reports`` with the contact's own Person, so these tests do not depend on the
reporting conversations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from data import catalog, people, progress, reports
from data.models import (
    AuditEvent,
    Level,
    MeasurementType,
    ParticipationEntry,
    Person,
    SatisfactionEntry,
    ServiceEntity,
)
from data.reports import ParticipationAnswer, SatisfactionAnswer

from .conftest import BotHarness

YEAR = 2026  # the harness clock starts on 2.11.2026


@dataclass(frozen=True)
class Ids:
    """Catalog ids a test needs, read once."""

    levels: dict[int, int]  # level number -> id
    entities: dict[str, int]  # service entity code -> id
    measurement: dict[str, int]  # measurement type code -> id
    first_method: dict[int, int]  # level number -> first catalog method id


def ids(bot: BotHarness) -> Ids:
    with bot.db.session() as session:
        levels = {lvl.number: lvl.id for lvl in catalog.levels(session)}
        return Ids(
            levels=levels,
            entities={e.code: e.id for e in catalog.service_entities(session)},
            measurement={m.code: m.id for m in catalog.measurement_types(session)},
            first_method={
                n: catalog.methods_for_level(session, level_id)[0].id
                for n, level_id in levels.items()
            },
        )


def person(bot: BotHarness, telegram_user_id: int) -> Person:
    with bot.db.session() as session:
        found = people.person_by_telegram_id(session, telegram_user_id)
        assert found is not None
        return found


def save_participation(
    bot: BotHarness,
    telegram_user_id: int,
    entity: str,
    answers: list[ParticipationAnswer],
    *,
    levels: list[int] | None = None,
) -> None:
    """Save as the contact would; ``levels`` (numbers) replaces only those levels."""
    with bot.db.transaction() as session:
        who = people.person_by_telegram_id(session, telegram_user_id)
        assert who is not None
        entity_id = session.scalar(select(ServiceEntity.id).where(ServiceEntity.code == entity))
        assert entity_id is not None
        level_ids = None
        if levels is not None:
            by_number = {lvl.number: lvl.id for lvl in catalog.levels(session)}
            level_ids = [by_number[n] for n in levels]
        reports.save_participation(session, who, YEAR, entity_id, answers, level_ids=level_ids)


def save_satisfaction(
    bot: BotHarness, telegram_user_id: int, entity: str, answers: list[SatisfactionAnswer]
) -> None:
    with bot.db.transaction() as session:
        who = people.person_by_telegram_id(session, telegram_user_id)
        assert who is not None
        entity_id = session.scalar(select(ServiceEntity.id).where(ServiceEntity.code == entity))
        assert entity_id is not None
        reports.save_satisfaction(session, who, YEAR, entity_id, answers)


def full_participation(
    ids: Ids, counts: dict[int, int | None], *, text: str | None = None
) -> list[ParticipationAnswer]:
    """One answer per level: a count with the level's first catalog method (or ``text``),
    or None for the explicit "no methods at this level"."""
    answers = []
    for number, count in counts.items():
        if count is None:
            answers.append(ParticipationAnswer(ids.levels[number], none=True))
        elif text:
            answers.append(ParticipationAnswer(ids.levels[number], method_text=text, count=count))
        else:
            answers.append(
                ParticipationAnswer(
                    ids.levels[number], method_id=ids.first_method[number], count=count
                )
            )
    return answers


def participation_entries(bot: BotHarness, division: str | None = None) -> list[ParticipationEntry]:
    with bot.db.session() as session:
        query = select(ParticipationEntry).order_by(ParticipationEntry.id)
        if division:
            div = catalog.division_by_code(session, division)
            assert div is not None
            query = query.where(ParticipationEntry.division_id == div.id)
        return list(session.scalars(query))


def satisfaction_entries(bot: BotHarness) -> list[SatisfactionEntry]:
    with bot.db.session() as session:
        return list(session.scalars(select(SatisfactionEntry).order_by(SatisfactionEntry.id)))


def audit_rows(bot: BotHarness, action: str | None = None) -> list[AuditEvent]:
    with bot.db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def audit_count(bot: BotHarness) -> int:
    with bot.db.session() as session:
        return session.scalar(select(func.count(AuditEvent.id))) or 0


def division_progress(bot: BotHarness, division: str) -> progress.DivisionProgress:
    with bot.db.session() as session:
        div = catalog.division_by_code(session, division)
        assert div is not None
        rnd = progress.find_round(session, YEAR)
        return progress.division_progress(session, rnd.id if rnd else None, div.id)


def report_state(bot: BotHarness, division: str) -> str:
    return division_progress(bot, division).state.value


def level_id(bot: BotHarness, number: int) -> int:
    with bot.db.session() as session:
        found = session.scalar(select(Level.id).where(Level.number == number))
        assert found is not None
        return found


def measurement_id(bot: BotHarness, code: str) -> int:
    with bot.db.session() as session:
        found = session.scalar(select(MeasurementType.id).where(MeasurementType.code == code))
        assert found is not None
        return found


def nbsp(text: str) -> str:
    """Numbers are written with a no-break space in Finnish and Swedish: 1 200."""
    return text.replace(" ", "\u00a0")

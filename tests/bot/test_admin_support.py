"""Helpers the administration tests share (this module holds no tests itself).

They set up what a test is not about — a reported service entity, a submitted report —
through ``data/``, the way the reporting conversation would store it, so each test drives
through the chat only the behaviour it proves.
"""

from __future__ import annotations

from sqlalchemy import select

from data import catalog, people, reports
from data.models import Division, Person, Role, ServiceEntity
from data.reports import ParticipationAnswer, SatisfactionAnswer
from localtg import LocalUser

from .conftest import BotHarness

YEAR = 2026  # the harness clock starts on 2.11.2026


def division_id(bot: BotHarness, code: str) -> int:
    with bot.db.session() as session:
        division = catalog.division_by_code(session, code)
        assert division is not None
        return division.id


def entity_names(bot: BotHarness, code: str) -> list[str]:
    """Every language's names of a division's service entities (for "no data shown")."""
    with bot.db.session() as session:
        division = catalog.division_by_code(session, code)
        assert division is not None
        return sorted(
            {
                name
                for e in catalog.service_entities(session, division.id)
                for name in e.name.values()
            }
        )


def person(bot: BotHarness, telegram_user_id: int) -> Person | None:
    with bot.db.session() as session:
        return people.person_by_telegram_id(session, telegram_user_id)


def report_entity(
    bot: BotHarness,
    telegram_user_id: int,
    entity_code: str,
    *,
    satisfaction: bool = True,
    levels_with_methods: tuple[int, ...] = (1, 2),
) -> None:
    """A complete participation answer (methods at some levels, "none" at the others) and,
    optionally, a satisfaction answer, saved as the contact."""
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, telegram_user_id)
        assert contact is not None
        entity = session.scalar(select(ServiceEntity).where(ServiceEntity.code == entity_code))
        assert entity is not None
        answers = []
        for level in catalog.levels(session):
            if level.number in levels_with_methods:
                method = catalog.methods_for_level(session, level.id)[0]
                answers.append(ParticipationAnswer(level.id, method_id=method.id, count=3))
            else:
                answers.append(ParticipationAnswer(level.id, none=True))
        reports.save_participation(session, contact, YEAR, entity.id, answers)
        if satisfaction:
            nps = next(m for m in catalog.measurement_types(session) if m.kind == "nps")
            reports.save_satisfaction(
                session,
                contact,
                YEAR,
                entity.id,
                [SatisfactionAnswer(nps.id, promoters=50, passives=30, detractors=20)],
            )


def report_division(bot: BotHarness, telegram_user_id: int, code: str) -> None:
    """Every service entity of the division, complete."""
    with bot.db.session() as session:
        division = catalog.division_by_code(session, code)
        assert division is not None
        codes = [e.code for e in catalog.service_entities(session, division.id)]
    for entity_code in codes:
        report_entity(bot, telegram_user_id, entity_code)


def submit(bot: BotHarness, telegram_user_id: int, code: str) -> None:
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, telegram_user_id)
        division = catalog.division_by_code(session, code)
        assert contact is not None and division is not None
        reports.submit_report(session, contact, YEAR, division.id)


def coordinator(bot: BotHarness, user_id: int, name: str = "Kaisa") -> LocalUser:
    bot.register(user_id, Role.COORDINATOR, name=name)
    return bot.user(user_id, name)


def staff(bot: BotHarness, user_id: int, name: str = "Sanna") -> LocalUser:
    bot.register(user_id, Role.STAFF, name=name)
    return bot.user(user_id, name)


def all_text(user: LocalUser) -> str:
    """Everything the bot showed the user: messages, captions and button answers."""
    answers = [
        q.text or "" for q in user.api.callback_queries.values() if q.user_id == user.id and q.text
    ]
    buttons = [label for m in user.messages for row in m.buttons for label in row]
    return "\n".join([*user.texts(), *answers, *buttons])


def divisions(bot: BotHarness) -> list[Division]:
    with bot.db.session() as session:
        return catalog.divisions(session)

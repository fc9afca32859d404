"""Helpers shared by the reporting, satisfaction and navigation tests (no tests here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from data import catalog, drafts, people, reports
from data.models import ConversationDraft, MeasurementType, Person, ServiceEntity
from localtg import LocalUser

from .conftest import BotHarness

YEAR = 2026  # the harness clock starts on 2.11.2026


def entity_id(bot: BotHarness, code: str) -> int:
    with bot.db.session() as session:
        entity = session.scalar(select(ServiceEntity).where(ServiceEntity.code == code))
        assert entity is not None
        return entity.id


def type_id(bot: BotHarness, code: str) -> int:
    with bot.db.session() as session:
        mtype = session.scalar(select(MeasurementType).where(MeasurementType.code == code))
        assert mtype is not None
        return mtype.id


def person(bot: BotHarness, telegram_id: int) -> Person:
    with bot.db.session() as session:
        found = people.person_by_telegram_id(session, telegram_id)
        assert found is not None
        return found


def participation(bot: BotHarness, code: str, year: int = YEAR) -> list[dict[str, Any]]:
    """Saved answers of the entity, with method names resolved (Finnish)."""
    with bot.db.session() as session:
        result = []
        for answer in reports.participation_for_year(session, year, entity_id(bot, code)):
            row = answer.to_dict()
            if answer.method_id is not None:
                method = catalog.by_id(session, catalog.CatalogMethod, answer.method_id)
                assert method is not None
                row["method"] = method.name["fi"]
            else:
                row["method"] = answer.method_text
            level = catalog.by_id(session, catalog.Level, answer.level_id)
            assert level is not None
            row["level"] = level.number
            result.append(row)
        return result


def satisfaction(bot: BotHarness, code: str, year: int = YEAR) -> list[reports.SatisfactionAnswer]:
    with bot.db.session() as session:
        return reports.satisfaction_for_year(session, year, entity_id(bot, code))


def draft(bot: BotHarness, telegram_id: int, flow: str) -> ConversationDraft | None:
    with bot.db.session() as session:
        return drafts.get(session, person(bot, telegram_id).id, flow)


def save_last_year(bot: BotHarness, telegram_id: int, code: str) -> None:
    """Last year's report of the entity, saved through data/ as last year's bot would have."""
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, telegram_id)
        assert contact is not None
        levels = catalog.levels(session)
        survey = catalog.methods_for_level(session, levels[0].id)[3]  # Kyselyt
        reports.save_participation(
            session,
            contact,
            YEAR - 1,
            entity_id(bot, code),
            [
                reports.ParticipationAnswer(levels[0].id, method_id=survey.id, count=40),
                reports.ParticipationAnswer(levels[1].id, method_text="Lukupiiri", count=6),
                reports.ParticipationAnswer(levels[2].id, none=True),
                reports.ParticipationAnswer(levels[3].id, none=True),
            ],
        )


async def answer_all_levels_none(
    user: LocalUser, labels: tuple[str, str] = ("Ei tapoja tällä tasolla", "")
) -> None:
    for _ in range(4):
        await user.press(labels[0])


def button_data(user: LocalUser, label: str) -> str:
    button = user.message_with_button(label).find_button(label)
    assert button is not None
    return str(button["callback_data"])

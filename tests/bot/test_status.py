"""/tila: a division contact's status matrix, through the local Telegram."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.status.render import split_message
from data import catalog, people, reports
from data.models import ReportStatus, Role, Round
from data.reports import SatisfactionAnswer
from i18n.formats import format_date

from .conftest import BotHarness
from .test_status_support import (
    YEAR,
    division_progress,
    full_participation,
    ids,
    save_participation,
    save_satisfaction,
)

KUVA_ENTITIES = ["Kulttuuri", "Kirjasto", "Liikunta", "Nuoriso", "Hallinto"]


def _submitted_on(bot: BotHarness, division: str) -> str:
    with bot.db.session() as session:
        div = catalog.division_by_code(session, division)
        assert div is not None
        status = session.scalar(select(ReportStatus).where(ReportStatus.division_id == div.id))
        assert status is not None
        return format_date(status.changed_at.astimezone(bot.settings.tz).date())


async def test_empty_division_shows_every_entity_unanswered_and_the_next_deadline(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA")
    await aino.send("/tila")
    text = aino.last.text
    assert aino.last.parse_mode == "HTML"
    assert text.startswith("Kulttuurin ja vapaa-ajan toimiala: tilanne 2026")
    assert "Raportti: luonnos" in text
    assert "Seuraava määräaika: 20.11.2026 – Listatekstit ja Excel" in text
    for name in KUVA_ENTITIES:
        assert f"{name}\nT1 ? · T2 ? · T3 ? · T4 ?\nTyytyväisyys: ei vastausta" in text
    assert "0/5 palvelukokonaisuutta valmiina." in text
    assert "Puuttuu vielä ennen 20.11.2026:\n• Kulttuuri: kaikki tasot, tyytyväisyys" in text
    with bot.db.session() as session:  # reading the status creates nothing
        assert session.scalar(select(func.count(ReportStatus.division_id))) == 0
        # Only the year's round, which the start-up makes ahead of the first save.
        assert session.scalars(select(Round.year)).all() == [YEAR]


async def test_partly_reported_counts_equal_the_database_and_none_differs_from_no_answer(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA")
    bot.contact(2002, "SOTE")
    i = ids(bot)
    save_participation(bot, 2001, "KUVA_KIRJASTO", full_participation(i, {1: 1200, 2: 3}))
    save_participation(
        bot, 2001, "KUVA_KIRJASTO", full_participation(i, {3: None, 4: None}), levels=[3, 4]
    )
    save_participation(bot, 2001, "KUVA_LIIKUNTA", full_participation(i, {1: 2, 2: None}))
    save_participation(
        bot, 2001, "KUVA_LIIKUNTA", full_participation(i, {1: 7}, text="Liikuntaraati"), levels=[1]
    )
    nps = SatisfactionAnswer(i.measurement["NPS"], promoters=50, passives=30, detractors=20)
    save_satisfaction(bot, 2001, "KUVA_KIRJASTO", [nps])
    save_satisfaction(
        bot, 2001, "KUVA_LIIKUNTA", [SatisfactionAnswer(i.measurement["NOT_MEASURED"])]
    )
    save_participation(bot, 2001, "KUVA_NUORISO", full_participation(i, {1: 1}))
    save_participation(bot, 2002, "SOTE_HALLINTO", full_participation(i, {1: 99}))

    await aino.send("/tila")
    text = aino.last.text
    progress = division_progress(bot, "KUVA")
    for entity in progress.entities:
        cells = []
        for level in (1, 2, 3, 4):
            if level in entity.methods_by_level:  # how many methods, never a sum of counts
                cells.append(f"T{level} {entity.methods_by_level[level]}")
            elif level in entity.none_levels:
                cells.append(f"T{level} –")
            else:
                cells.append(f"T{level} ?")
        assert " · ".join(cells) in text, entity.code
    assert "Kirjasto ✓\nT1 1 · T2 1 · T3 – · T4 –" in text  # not "T1 1 200" (item 8)
    assert "1\xa0200" not in text.split("Kirjasto")[1].split("\n")[1]
    assert "Liikunta\nT1 1 · T2 – · T3 ? · T4 ?\nTyytyväisyys: ei mitata" in text
    assert "Nuoriso\nT1 1 · T2 ? · T3 ? · T4 ?" in text  # "?" is no answer yet
    assert "Tyytyväisyys: Suositteluindeksi (NPS, 0–10): NPS 30, 100 vastaajaa" in text
    assert "1/5 palvelukokonaisuutta valmiina." in text
    assert "• Liikunta: tasot 3, 4\n" in text
    assert "Kirjasto:" not in text.split("Puuttuu vielä")[1]
    assert "99" not in text and "Sosiaali" not in text


async def test_submitted_and_reopened_states_are_shown(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    bot.register(3001, Role.COORDINATOR, name="Kaisa")
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, 2001)
        division = catalog.division_by_code(session, "KUVA")
        assert contact is not None and division is not None
        reports.submit_report(session, contact, YEAR, division.id)
    await aino.send("/tila")
    submitted_on = _submitted_on(bot, "KUVA")
    assert f"Raportti: valmis, lähetetty {submitted_on}" in aino.last.text
    assert "Raportti on lähetetty. Jos sitä pitää muuttaa" in aino.last.text
    assert "Puuttuu vielä" not in aino.last.text
    with bot.db.transaction() as session:
        coordinator = people.person_by_telegram_id(session, 3001)
        assert coordinator is not None and division is not None
        assert reports.reopen_report(session, coordinator, YEAR, division.id)
    await aino.send("/tila")
    assert "Raportti: avattu uudelleen" in aino.last.text
    assert "Puuttuu vielä ennen 20.11.2026" in aino.last.text


async def test_the_next_deadline_follows_the_clock_and_the_calendar(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KYMP")
    bot.clock.current = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)
    await aino.send("/tila")
    assert "Seuraava määräaika: 10.10.2026 – Johtoryhmän aineisto" in aino.last.text
    bot.clock.current = dt.datetime(2026, 11, 20, 21, 59, tzinfo=dt.UTC)  # 23.59 in Helsinki
    await aino.send("/tila")
    assert "Seuraava määräaika: 20.11.2026" in aino.last.text
    # The division's deadlines only: 30.11. ("valmis") is the strategy unit's own (issue 16).
    bot.clock.current = dt.datetime(2026, 11, 20, 22, 1, tzinfo=dt.UTC)  # 21.11. in Helsinki
    await aino.send("/tila")
    assert "Tämän vuoden määräajat ovat menneet." in aino.last.text
    assert "Puuttuu vielä:\n• Maankäyttö ja kaupunkirakenne" in aino.last.text


async def test_unknown_person_coordinator_and_staff_are_refused_without_data(
    bot: BotHarness,
) -> None:
    bot.contact(2001, "KUVA")
    i = ids(bot)
    save_participation(bot, 2001, "KUVA_KIRJASTO", full_participation(i, {1: 4321}))
    stranger = bot.user(4001, "Outi")
    coordinator = bot.user(3001, "Kaisa")
    bot.register(3001, Role.COORDINATOR, name="Kaisa")
    staff = bot.user(3002, "Sami")
    bot.register(3002, Role.STAFF, name="Sami")
    inactive = bot.contact(2009, "KUVA")
    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, 2009)
        assert person is not None
        people.deactivate(session, person, actor_id=None, reason="test")
    for user in (stranger, coordinator, staff, inactive):
        await user.send("/tila")
        text = " ".join(user.texts())
        assert "oikeutta" in user.last.text
        assert "Kirjasto" not in text and "4321" not in text and "Kulttuurin" not in text


async def test_status_renders_in_swedish_and_english(bot: BotHarness) -> None:
    sven = bot.contact(2001, "KUVA", language="sv")
    ann = bot.contact(2002, "KUVA", language="en")
    i = ids(bot)
    save_participation(bot, 2001, "KUVA_KIRJASTO", full_participation(i, {1: 1200, 2: None}))
    await sven.send("/tila")
    text = sven.last.text
    assert text.startswith("Kultur- och fritidssektorn: läget 2026")
    assert "Rapport: utkast" in text
    assert "Nästa tidsfrist: 20.11.2026 – Föredragningstexter och Excel" in text
    assert "Bibliotek\nN1 1 · N2 – · N3 ? · N4 ?\nNöjdhet: inget svar" in text
    assert "0/5 servicehelheter klara." in text
    await ann.send("/tila")
    text = ann.last.text
    assert text.startswith("Status of Culture and Leisure, 2026")
    assert "Report: draft" in text
    assert "Library\nL1 1 · L2 – · L3 ? · L4 ?\nSatisfaction: no answer" in text
    assert "Still missing before 20.11.2026:\n• Culture: all levels, satisfaction" in text


async def test_every_division_fits_in_one_telegram_message(bot: BotHarness) -> None:
    i = ids(bot)
    with bot.db.session() as session:
        divisions = [
            (d.code, [e.code for e in catalog.service_entities(session, d.id)])
            for d in catalog.divisions(session)
        ]
    for n, (code, entities) in enumerate(divisions):
        user = bot.contact(2100 + n, code)
        for entity in entities:
            save_participation(
                bot, 2100 + n, entity, full_participation(i, {1: 100000, 2: 99999, 3: 1, 4: 1})
            )
            save_satisfaction(
                bot,
                2100 + n,
                entity,
                [
                    SatisfactionAnswer(i.measurement["NPS"], nps=-100, respondents=10_000_000),
                    SatisfactionAnswer(i.measurement["SURVEY_1_5"], respondents=1234),
                    SatisfactionAnswer(i.measurement["SMILEY"], latest_result="<b>&" * 60),
                ],
            )
        await user.send("/tila")
        assert len(user.messages) == 1
        assert len(user.last.text) <= 4096
        assert f"{len(entities)}/{len(entities)} " in user.last.text
        assert "Lähetä raportti komennolla /valmis" in user.last.text


def test_a_long_status_is_split_at_block_boundaries() -> None:
    blocks = [f"<b>Palvelu {n}</b>\n<code>T1 1 · T2 2 · T3 3 · T4 4</code>" for n in range(200)]
    text = "\n\n".join(blocks)
    parts = split_message(text)
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    assert "\n\n".join(parts) == text  # nothing lost, every tag closed within its part

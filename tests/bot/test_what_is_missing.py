"""One definition of "what is missing" (``data.progress.Gap``) behind /tila, /tilanne,
/muistuta, the reminders and their "Report now" button (issue 16, items 10 and 11).

A division submitted while incomplete is still missing what it misses: it is not reminded
(its contacts cannot change a submitted report) but nothing calls it complete. Contacts are
reminded of their own deadline, and "Report now" opens the conversation of what is missing.
"""

from __future__ import annotations

from data.progress import round_progress
from schedules.content import contact_section, coordinator_section
from schedules.plan import CONTACT_DEADLINES, Audience, Audiences, plan_year

from .conftest import BotHarness
from .test_admin_support import YEAR, coordinator, report_entity, submit

KUVA_ENTITIES = ("KUVA_KULTTUURI", "KUVA_KIRJASTO", "KUVA_LIIKUNTA", "KUVA_NUORISO")


def _kuva_submitted_while_incomplete(bot: BotHarness) -> None:
    """Entities 4/5 reported, satisfaction 2/5, then submitted (as /valmis allows)."""
    bot.contact(4601, "KUVA", "Aino")
    for n, code in enumerate(KUVA_ENTITIES):
        report_entity(bot, 4601, code, satisfaction=n < 2)
    submit(bot, 4601, "KUVA")


async def test_muistuta_does_not_call_a_division_submitted_while_incomplete_complete(
    bot: BotHarness,
) -> None:
    _kuva_submitted_while_incomplete(bot)
    kaisa = coordinator(bot, 4602)
    await kaisa.send("/muistuta")
    assert (
        "Lähetetty puuttuvin vastauksin (avaa raportti uudelleen /tilanne-komennolla, jotta "
        "yhteyshenkilöt voivat täydentää): KUVA: raportoitu 4/5, tyytyväisyyden mittaus "
        "kartoitettu 2/5" in kaisa.last.text
    )
    await kaisa.press("Kaikki keskeneräiset toimialat (3)")
    result = kaisa.last.text
    assert "Ei enää puuttuvaa" not in result
    assert "Lähetetty puuttuvin vastauksin, joten ei muistutettu" in result and "KUVA" in result


async def test_tilanne_and_tila_still_show_what_a_submitted_division_misses(
    bot: BotHarness,
) -> None:
    _kuva_submitted_while_incomplete(bot)
    kaisa = coordinator(bot, 4603)
    await kaisa.send("/tilanne")
    assert "Lähetetty puuttuvin vastauksin: KUVA" in kaisa.last.text
    aino = bot.user(4601, "Aino")
    await aino.send("/tila")
    text = "\n".join(aino.texts())
    assert "Lähetetty, vaikka nämä vastaukset puuttuvat:" in text
    assert "Hallinto: kaikki tasot, tyytyväisyys" in text
    with bot.db.session() as session:
        rows = round_progress(session, YEAR)
    kuva = next(r for r in rows if r.code == "KUVA")
    assert "✅ KUVA" not in "\n".join(coordinator_section(rows, "fi"))
    section = "\n".join(contact_section(kuva, "fi"))
    assert "täydellinen" not in section and "Hallinto" in section


def test_contacts_are_reminded_of_their_own_deadlines_only(bot: BotHarness) -> None:
    everyone = Audiences(
        coordinators=(1,), staff=(2,), contacts={7: (3,)}, incomplete_divisions=frozenset({7})
    )
    plan = plan_year(bot.settings, YEAR, audiences=everyone)
    to_contacts = {p.deadline_code for p in plan if p.audience is Audience.CONTACT}
    assert to_contacts == set(CONTACT_DEADLINES) == {"johtoryhma_aineisto", "listatekstit"}
    assert "valmis" in {p.deadline_code for p in plan if p.audience is Audience.COORDINATOR}


async def test_report_now_opens_satisfaction_when_only_satisfaction_is_missing(
    bot: BotHarness,
) -> None:
    aino = bot.contact(4604, "KUVA", "Aino")
    for n, code in enumerate((*KUVA_ENTITIES, "KUVA_HALLINTO")):
        report_entity(bot, 4604, code, satisfaction=n < 2)
    await aino.start()
    await aino.press_data("report:now")
    assert "Asiakastyytyväisyys 2026: Kulttuurin ja vapaa-ajan toimiala" in aino.last.text


async def test_report_now_opens_the_participation_report_when_levels_are_missing(
    bot: BotHarness,
) -> None:
    aino = bot.contact(4605, "KUVA", "Aino")
    report_entity(bot, 4605, "KUVA_KIRJASTO")
    await aino.start()
    await aino.press_data("report:now")
    assert "Valitse raportoitava palvelukokonaisuus" in aino.last.text

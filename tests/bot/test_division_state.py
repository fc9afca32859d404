"""One definition of complete/submitted: a division submitted with gaps is "submitted" in
/tilanne, never also "still incomplete"; /muistuta, the reminders and the documents leave it
alone. A division with every answer but not submitted is "complete but not submitted"."""

from __future__ import annotations

from data import progress
from data.models import ReportState
from data.snapshot import build_snapshot
from schedules.audience import load_snapshot

from .conftest import BotHarness
from .test_admin_support import (
    YEAR,
    coordinator,
    division_id,
    report_division,
    report_entity,
    submit,
)

SUBMITTED_WITH_GAPS = "KUVA"


def _submit_with_gaps(bot: BotHarness) -> None:
    """KUVA reports one of its five service entities and submits anyway (as /valmis can,
    after its confirmation)."""
    bot.contact(4101, SUBMITTED_WITH_GAPS, "Aino")
    report_entity(bot, 4101, "KUVA_KIRJASTO", levels_with_methods=(1,))
    submit(bot, 4101, SUBMITTED_WITH_GAPS)


async def test_tilanne_lists_a_division_submitted_with_gaps_only_as_submitted(
    bot: BotHarness,
) -> None:
    _submit_with_gaps(bot)
    bot.contact(4102, "SOTE", "Saara")
    report_division(bot, 4102, "SOTE")
    kaisa = coordinator(bot, 4103)
    await kaisa.send("/tilanne")
    body = kaisa.last.text
    assert "KUVA Kulttuurin ja vapaa-ajan toimiala – lähetetty" in body
    assert "Palvelukokonaisuuksia raportoitu: 1/5" in body
    still = next(line for line in body.splitlines() if line.startswith("Vielä keskeneräiset:"))
    assert still == "Vielä keskeneräiset: KYMP, KASKO"
    assert "Valmiit, mutta ei lähetetty: SOTE" in body
    assert kaisa.last.buttons == [["Avaa uudelleen: KUVA"]]


async def test_muistuta_does_not_offer_to_nudge_a_submitted_division(bot: BotHarness) -> None:
    _submit_with_gaps(bot)
    kaisa = coordinator(bot, 4111)
    await kaisa.send("/muistuta")
    menu = kaisa.last
    assert not any(line.startswith("KUVA:") for line in menu.text.splitlines())
    labels = [label for row in menu.buttons for label in row]
    assert "KUVA" not in labels
    assert "Kaikki keskeneräiset toimialat (3)" in labels


async def test_reminders_and_documents_use_the_same_definition(bot: BotHarness) -> None:
    _submit_with_gaps(bot)
    kuva = division_id(bot, SUBMITTED_WITH_GAPS)
    with bot.db.session() as session:
        audience = load_snapshot(session, YEAR)
        documents = build_snapshot(session, YEAR, with_previous=False)
    assert kuva not in audience.audiences.incomplete_divisions
    assert len(audience.audiences.incomplete_divisions) == 3
    status = documents.status(SUBMITTED_WITH_GAPS)
    assert status is not None and status.complete and not status.answers_complete
    assert [s.division_code for s in documents.progress if not s.complete] == [
        "KYMP",
        "KASKO",
        "SOTE",
    ]


def test_each_state_and_answer_combination_has_exactly_one_place() -> None:
    state = progress.division_state
    assert state(ReportState.SUBMITTED, False) is progress.DivisionState.SUBMITTED
    assert state(ReportState.SUBMITTED, True) is progress.DivisionState.SUBMITTED
    assert state(ReportState.DRAFT, True) is progress.DivisionState.COMPLETE
    assert state(ReportState.REOPENED, True) is progress.DivisionState.COMPLETE
    assert state(ReportState.DRAFT, False) is progress.DivisionState.INCOMPLETE
    assert state(ReportState.REOPENED, False) is progress.DivisionState.INCOMPLETE
    assert not progress.is_complete(ReportState.REOPENED, False)


async def test_the_coordinator_reminder_calls_it_submitted_not_all_complete(
    bot: BotHarness,
) -> None:
    from data.progress import round_progress
    from schedules.content import coordinator_section

    _submit_with_gaps(bot)
    with bot.db.session() as session:
        rows = round_progress(session, YEAR)
    lines = coordinator_section(rows, "fi")
    # Submitted, but still missing what it misses (issue 16, item 10): no ✅.
    assert "• KUVA: lähetetty puuttuvin vastauksin (1/5 palvelukokonaisuutta valmiina)" in lines
    assert not any(line.startswith("✅ KUVA") for line in lines)

"""data.overview: the status a contact sees, the editable entries, satisfaction-entry edits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data import answers, audit, catalog, overview, people, progress, reports
from data.models import Person, ReportState, Role, SatisfactionEntry, ServiceEntity
from data.reports import AccessDenied, ParticipationAnswer, ReportLocked, SatisfactionAnswer

from ..conftest import Database

YEAR = 2026


def _person(s, tg_id: int, division: str | None, *roles: Role) -> Person:  # type: ignore[no-untyped-def]
    div = catalog.division_by_code(s, division) if division else None
    return people.ensure_person(
        s, tg_id, name=f"P{tg_id}", roles=set(roles), division_id=div.id if div else None
    )


def _entity(s, code: str) -> ServiceEntity:  # type: ignore[no-untyped-def]
    row = s.scalar(select(ServiceEntity).where(ServiceEntity.code == code))
    assert row is not None
    return row


def _mtype(s, code: str) -> int:  # type: ignore[no-untyped-def]
    return next(m.id for m in catalog.measurement_types(s) if m.code == code)


def _seed(db: Database) -> None:
    """KUVA: Kirjasto complete with NPS from counts, Liikunta partial and not measured;
    SOTE: one answer that must never show up for KUVA."""
    with db.transaction() as s:
        kuva = _person(s, 100, "KUVA", Role.CONTACT)
        sote = _person(s, 200, "SOTE", Role.CONTACT)
        l1, l2, l3, l4 = catalog.levels(s)
        method = catalog.methods_for_level(s, l1.id)[0]
        reports.save_participation(
            s,
            kuva,
            YEAR,
            _entity(s, "KUVA_KIRJASTO").id,
            [
                ParticipationAnswer(l1.id, method_id=method.id, count=12),
                ParticipationAnswer(l2.id, method_text="Kirjastoraati", count=3, note="kk"),
                ParticipationAnswer(l3.id, none=True),
                ParticipationAnswer(l4.id, none=True),
            ],
        )
        reports.save_participation(
            s, kuva, YEAR, _entity(s, "KUVA_LIIKUNTA").id, [ParticipationAnswer(l1.id, none=True)]
        )
        reports.save_satisfaction(
            s,
            kuva,
            YEAR,
            _entity(s, "KUVA_KIRJASTO").id,
            [SatisfactionAnswer(_mtype(s, "NPS"), promoters=50, passives=30, detractors=20)],
        )
        reports.save_satisfaction(
            s,
            kuva,
            YEAR,
            _entity(s, "KUVA_LIIKUNTA").id,
            [SatisfactionAnswer(_mtype(s, "NOT_MEASURED"))],
        )
        reports.save_participation(
            s,
            sote,
            YEAR,
            _entity(s, "SOTE_HALLINTO").id,
            [ParticipationAnswer(l1.id, method_text="X", count=9)],
        )


def test_division_status_combines_progress_measurements_and_state(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        kuva = people.person_by_telegram_id(s, 100)
        division = catalog.division_by_code(s, "KUVA")
        assert kuva is not None and division is not None
        status = overview.division_status(s, kuva, YEAR, division.id)
        library = _entity(s, "KUVA_KIRJASTO").id
        sports = _entity(s, "KUVA_LIIKUNTA").id
    assert status.state is ReportState.DRAFT and status.year == YEAR
    [nps] = status.measurements[library]
    assert (nps.kind, nps.nps, nps.respondents) == ("nps", 30, 100)
    assert status.not_measured(sports) and not status.not_measured(library)
    by_id = {e.service_entity_id: e for e in status.progress.entities}
    assert by_id[library].complete and by_id[library].counts_by_level == {1: 12, 2: 3}
    assert by_id[sports].none_levels == frozenset({1}) and by_id[sports].missing_levels == [2, 3, 4]
    assert len(status.progress.entities) == 5  # SOTE's entity is not there


def test_division_status_of_a_year_without_a_round_creates_nothing(db: Database) -> None:
    with db.transaction() as s:
        kuva = _person(s, 100, "KUVA", Role.CONTACT)
        division = catalog.division_by_code(s, "KUVA")
        assert division is not None
        status = overview.division_status(s, kuva, 2031, division.id)
        assert status.measurements == {} and status.state_changed_at is None
        assert progress.find_round(s, 2031) is None
        assert all(len(e.missing_levels) == 4 for e in status.progress.entities)


def test_another_divisions_contact_cannot_read_the_status_or_entries(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        sote = people.person_by_telegram_id(s, 200)
        division = catalog.division_by_code(s, "KUVA")
        assert sote is not None and division is not None
        with pytest.raises(AccessDenied):
            overview.division_status(s, sote, YEAR, division.id)
        with pytest.raises(AccessDenied):
            overview.entry_rows(s, sote, YEAR, division.id)
        kuva_entry = overview.entry_rows(
            s, people.person_by_telegram_id(s, 100), YEAR, division.id
        )[0]  # type: ignore[arg-type]
        assert overview.entry_row(s, sote, YEAR, kuva_entry.kind, kuva_entry.id) is None


def test_entry_rows_are_in_catalog_order_with_names(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        kuva = people.person_by_telegram_id(s, 100)
        division = catalog.division_by_code(s, "KUVA")
        assert kuva is not None and division is not None
        rows = overview.entry_rows(s, kuva, YEAR, division.id)
    described = [
        (
            r.entity_label("fi"),
            r.kind,
            r.level_number,
            r.method_label("fi") or r.measurement_label("fi"),
        )
        for r in rows
    ]
    assert described == [
        ("Kirjasto", "participation", 1, "Tiedotustilaisuudet"),
        ("Kirjasto", "participation", 2, "Kirjastoraati"),
        ("Kirjasto", "satisfaction", None, "Suositteluindeksi (NPS, 0–10)"),
        ("Liikunta", "satisfaction", None, "Ei mitata"),
    ]
    assert rows[0].level_label("sv") == "Kommunikation och hörande"
    assert rows[2].has_nps_counts and rows[2].nps == 30


def test_entry_row_is_none_for_deleted_other_round_or_other_division(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        kuva = people.person_by_telegram_id(s, 100)
        division = catalog.division_by_code(s, "KUVA")
        assert kuva is not None and division is not None
        row = overview.entry_rows(s, kuva, YEAR, division.id)[0]
        assert overview.entry_row(s, kuva, YEAR, row.kind, row.id) == row
        assert overview.entry_row(s, kuva, YEAR + 1, row.kind, row.id) is None
        assert overview.entry_row(s, kuva, YEAR, "satisfaction", row.id + 10_000) is None
        reports.delete_entry(s, kuva, row.kind, row.id)
        assert overview.entry_row(s, kuva, YEAR, row.kind, row.id) is None
        coordinator = _person(s, 300, None, Role.COORDINATOR)
        other = overview.entry_rows(s, coordinator, YEAR, division.id)[0]  # coordinators read
        assert overview.entry_row(s, coordinator, YEAR, other.kind, other.id) is None  # not write


def test_changing_nps_drops_the_counts_and_is_audited(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        kuva = people.person_by_telegram_id(s, 100)
        assert kuva is not None
        entry = s.scalar(select(SatisfactionEntry).where(SatisfactionEntry.nps.is_not(None)))
        assert entry is not None
        overview.update_satisfaction_entry(s, kuva, entry.id, nps=-35)
        entry_id = entry.id
    with db.transaction() as s:
        entry = s.get_one(SatisfactionEntry, entry_id)
        assert (entry.nps, entry.promoters, entry.passives, entry.detractors) == (
            -35,
            None,
            None,
            None,
        )
        assert entry.respondents == 100
        event = audit.events(s)[-1]
        assert (event.action, event.entity, event.entity_id) == (
            "update",
            "satisfaction_entry",
            str(entry_id),
        )
        assert event.old["promoters"] == 50 and event.new["nps"] == -35  # type: ignore[index]
        kuva = people.person_by_telegram_id(s, 100)
        assert kuva is not None and event.person_id == kuva.id
        overview.update_satisfaction_entry(s, kuva, entry_id, respondents=7)
        assert (entry.latest_result, entry.respondents, entry.nps) == (None, 7, -35)
        with pytest.raises(answers.AnswerProblem) as refused:  # an NPS takes no text result
            overview.update_satisfaction_entry(s, kuva, entry_id, latest_result="  4,2 ")
        assert refused.value.code == answers.RESULT_FOR_NPS
        overview.update_satisfaction_entry(s, kuva, entry_id, latest_result=None)
        assert entry.latest_result is None


def test_satisfaction_edit_checks_ranges_access_and_lock(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        kuva = people.person_by_telegram_id(s, 100)
        sote = people.person_by_telegram_id(s, 200)
        assert kuva is not None and sote is not None
        entry = s.scalar(select(SatisfactionEntry).where(SatisfactionEntry.nps.is_not(None)))
        assert entry is not None
        entry_id, division_id = entry.id, entry.division_id
        events = len(audit.events(s))
        with pytest.raises(ValueError):
            overview.update_satisfaction_entry(s, kuva, entry_id, nps=101)
        with pytest.raises(ValueError):
            overview.update_satisfaction_entry(s, kuva, entry_id, respondents=-1)
        with pytest.raises(AccessDenied):
            overview.update_satisfaction_entry(s, sote, entry_id, nps=1)
        with pytest.raises(AccessDenied):
            overview.update_satisfaction_entry(s, kuva, entry_id + 999, nps=1)
        assert len(audit.events(s)) == events
        reports.submit_report(s, kuva, YEAR, division_id)
        with pytest.raises(ReportLocked):
            overview.update_satisfaction_entry(s, kuva, entry_id, nps=1)
    with db.transaction() as s:
        entry = s.get_one(SatisfactionEntry, entry_id)
        assert entry.nps == 30
        kuva = people.person_by_telegram_id(s, 100)
        division = catalog.division_by_code(s, "KUVA")
        assert kuva is not None and division is not None
        status = overview.division_status(s, kuva, YEAR, division.id)
        assert status.state is ReportState.SUBMITTED and status.state_changed_at is not None

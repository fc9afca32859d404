"""ConversationDraft storage: unsaved answers per person and flow, idle detection."""

from __future__ import annotations

import datetime as dt

from data import catalog, drafts, people, reports
from data.models import CatalogMethod, Role, ServiceEntity

from ..conftest import Database

NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _person(db: Database, tg_id: int = 10) -> int:
    with db.transaction() as session:
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        return people.ensure_person(
            session, tg_id, name="Aino", roles={Role.CONTACT}, division_id=division.id
        ).id


def test_a_draft_is_kept_per_person_and_flow_and_replaced_on_write(db: Database) -> None:
    person_id = _person(db)
    data = {"answers": [{"level_id": 1, "count": 3}], "seq": 1}
    with db.transaction() as session:
        drafts.put(session, person_id, "reporting", "count", data, NOW)
        drafts.put(session, person_id, "satisfaction", "types", {"seq": 4}, NOW)
    data["answers"][0]["count"] = 99  # the stored copy does not change with the caller's dict
    with db.transaction() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None and row.step == "count"
        assert row.data["answers"][0]["count"] == 3
        drafts.write(row, "note", {**row.data, "seq": 2}, NOW + dt.timedelta(minutes=5))
    with db.transaction() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None and (row.step, row.data["seq"]) == ("note", 2)
        assert row.last_activity_at == NOW + dt.timedelta(minutes=5)
        assert drafts.discard(session, person_id, "reporting")
        assert not drafts.discard(session, person_id, "reporting")
        assert drafts.get(session, person_id, "satisfaction") is not None


def test_idle_means_no_activity_for_the_configured_minutes(db: Database) -> None:
    person_id = _person(db)
    with db.transaction() as session:
        row = drafts.put(session, person_id, "reporting", "level", {}, NOW)
        assert not drafts.is_idle(row, NOW + dt.timedelta(minutes=29, seconds=59), 30)
        assert drafts.is_idle(row, NOW + dt.timedelta(minutes=30), 30)
        later = NOW + dt.timedelta(minutes=31)
        assert drafts.claim_idle(session, NOW, 30) == []
        assert [d.person_id for d in drafts.claim_idle(session, later, 30)] == [person_id]
        assert drafts.claim_idle(session, later, 30) == []  # claimed (paused) once only


def test_last_years_answers_leave_out_retired_catalog_items(db: Database) -> None:
    _person(db)
    with db.transaction() as session:
        contact = people.person_by_telegram_id(session, 10)
        assert contact is not None
        entity = next(e for e in catalog.service_entities(session) if e.code == "KUVA_KIRJASTO")
        l1, l2, *_ = catalog.levels(session)
        kept, retired = catalog.methods_for_level(session, l1.id)[:2]
        answers = [
            reports.ParticipationAnswer(l1.id, method_id=kept.id, count=1),
            reports.ParticipationAnswer(l1.id, method_id=retired.id, count=2),
            reports.ParticipationAnswer(l2.id, method_text="Oma tapa", count=3),
        ]
        reports.save_participation(session, contact, 2025, entity.id, answers)
        session.get_one(CatalogMethod, retired.id).retired_at = NOW
        entity_id = entity.id
    catalog.invalidate()  # the catalog is edited behind the process-held copy
    with db.transaction() as session:
        previous = reports.previous_participation(session, 2026, entity_id)
        assert [(a.method_id, a.method_text, a.count) for a in previous] == [
            (kept.id, None, 1),
            (None, "Oma tapa", 3),
        ]
        assert reports.previous_participation(session, 2025, entity_id) == []
        assert reports.participation_for_year(session, 2027, entity_id) == []
        assert session.get(ServiceEntity, entity_id) is not None

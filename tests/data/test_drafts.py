"""ConversationDraft storage: unsaved answers per person and flow, idle detection."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from data import catalog, drafts, people, progress, reports
from data.models import CatalogMethod, Role, ServiceEntity

from ..conftest import Database, Statements

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


def test_the_progress_read_with_the_person_equals_the_progress_read_alone(db: Database) -> None:
    """/raportoi's first statement also reads the division's progress (``progress_year``):
    the same progress, methods, counts, "no methods", satisfaction, last change and state,
    as `division_progress` reads on its own; and one statement instead of two."""
    _person(db, 11)
    with db.transaction() as session:
        contact = people.person_by_telegram_id(session, 11)
        assert contact is not None
        levels = catalog.levels(session)
        library, culture = catalog.service_entities(session, contact.division_id)[:2]
        method = catalog.methods_for_level(session, levels[0].id)[0]
        reports.save_participation(
            session,
            contact,
            2026,
            library.id,
            [
                reports.ParticipationAnswer(levels[0].id, method_id=method.id, count=1200),
                reports.ParticipationAnswer(levels[0].id, method_text="Raati", count=3),
                reports.ParticipationAnswer(levels[1].id, none=True),
            ],
        )
        nps = catalog.measurement_types(session)[0]
        reports.save_satisfaction(
            session,
            contact,
            2026,
            culture.id,
            [reports.SatisfactionAnswer(nps.id, promoters=5, passives=3, detractors=2)],
        )
        reports.submit_report(session, contact, 2026, contact.division_id)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    for year in (2026, 2027):  # a year with answers, and one with no round
        with db.transaction() as session:
            rnd = progress.find_round(session, year)
            event.listen(db.engine, "before_cursor_execute", seen)
            try:
                person, _rows = drafts.person_and_drafts(session, 11, progress_year=year)
                assert person is not None and person.division_id is not None
                ahead = progress.division_progress(
                    session, rnd.id if rnd else None, person.division_id
                )
            finally:
                event.remove(db.engine, "before_cursor_execute", seen)
            alone = progress.division_progress(session, rnd.id if rnd else None, person.division_id)
            assert ahead == alone
        assert len(statements) == 1
        statements.clear()
    with db.transaction() as session:
        rnd = progress.find_round(session, 2026)
        assert rnd is not None
        state = progress.division_progress(session, rnd.id, contact.division_id)
        assert state.state is reports.ReportState.SUBMITTED and state.last_change_at is not None
        kirjasto = next(e for e in state.entities if e.service_entity_id == library.id)
        assert kirjasto.counts_by_level == {levels[0].number: 1203}
        assert kirjasto.none_levels == {levels[1].number}


def test_a_turn_reads_the_person_and_drafts_in_one_statement_and_writes_only_what_changed(
    db: Database,
) -> None:
    """The update's first statement brings the person (with roles) and every draft; a draft
    changed by the turn is one UPDATE of the changed columns, an untouched one none."""
    person_id = _person(db)
    with db.transaction() as session:
        drafts.put(session, person_id, "reporting", "level", {"seq": 1}, NOW)
        earlier = NOW - dt.timedelta(minutes=1)  # the newest draft comes first
        drafts.put(session, person_id, "satisfaction", "types", {"seq": 4}, earlier, paused=True)
    with Statements(db) as log, db.transaction() as session:
        person, rows = drafts.person_and_drafts(session, 10, update_id=500)
        assert len(log.seen) == 1
        assert person is not None and person.id == person_id
        assert person.role_set == {Role.CONTACT} and person.division_id is not None
        assert [(row.flow, row.paused) for row in rows] == [
            ("reporting", False),
            ("satisfaction", True),
        ]
        reporting = rows[0]
        drafts.write(reporting, "count", {"seq": 2}, NOW + dt.timedelta(minutes=1))
        drafts.save(session, stamp=True)
        updates = [s for s in log.seen if s.upper().startswith("UPDATE")]
        assert len(updates) == 1 and "paused" not in updates[0].split("WHERE")[0]
        assert len(log.seen) == 2  # and the commit writes nothing more
    with db.transaction() as session:
        _, rows = drafts.person_and_drafts(session, 10)
        assert [(row.flow, row.step, row.data, row.last_update_id) for row in rows] == [
            ("reporting", "count", {"seq": 2}, 500),  # the update is recorded on it
            ("satisfaction", "types", {"seq": 4}, None),  # paused, untouched: not stamped
        ]


def test_a_draft_an_update_creates_records_the_update(db: Database) -> None:
    """A replay of an update older than the one that started the conversation is then
    refused like any overtaken one (``bot.flow.router._overtaken``)."""
    person_id = _person(db)
    with db.transaction() as session:
        _, rows = drafts.person_and_drafts(session, 10, update_id=700)
        assert rows == []
        created = drafts.put(session, person_id, "reporting", "entity", {"seq": 1}, NOW)
        assert created.last_update_id == 700
        drafts.save(session, stamp=True)
    with db.transaction() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None and row.last_update_id == 700


def test_a_change_left_on_a_draft_is_written_at_the_commit(db: Database) -> None:
    """Nothing changed on a draft is lost for want of a `save` call (the commit saves)."""
    person_id = _person(db)
    with db.transaction() as session:
        drafts.put(session, person_id, "excel", "confirm", {"nonce": "a"}, NOW).paused = True
    with db.transaction() as session:
        row = drafts.get(session, person_id, "excel")
        assert row is not None and row.paused
        assert drafts.active(session, person_id) is None


def _at_level(db: Database) -> int:
    """A person with a reporting draft at "level" ({"seq": 1}); the person's id."""
    person_id = _person(db)
    with db.transaction() as session:
        drafts.put(session, person_id, "reporting", "level", {"seq": 1}, NOW)
    return person_id


def test_a_rolled_back_change_is_not_read_back_from_the_transactions_tracker(
    db: Database,
) -> None:
    """A session used again after a rollback reads its drafts from the database: the
    drafts the rolled-back transaction loaded, changed or created are not handed out again
    (on main the tracker in ``session.info`` outlived the rollback and answered with the
    rolled-back step and data, and a commit then compared against values never stored)."""
    person_id = _at_level(db)
    with db.session() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None
        drafts.write(row, "count", {"seq": 2}, NOW + dt.timedelta(minutes=1))
        drafts.save(session)
        drafts.put(session, person_id, "satisfaction", "types", {"seq": 9}, NOW)
        session.rollback()
        again = drafts.get(session, person_id, "reporting")
        assert again is not None and (again.step, again.data) == ("level", {"seq": 1})
        assert drafts.get(session, person_id, "satisfaction") is None
        drafts.write(again, "note", {"seq": 3}, NOW + dt.timedelta(minutes=2))
        session.commit()
    with db.transaction() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None and (row.step, row.data) == ("note", {"seq": 3})


def test_a_savepoint_rolled_back_leaves_no_stale_draft_behind(db: Database) -> None:
    """A change written inside a savepoint that is rolled back is read back as the
    database holds it, not as the tracker last saw it."""
    person_id = _at_level(db)
    with db.transaction() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None
        savepoint = session.begin_nested()
        drafts.write(row, "count", {"seq": 2}, NOW + dt.timedelta(minutes=1))
        drafts.save(session)
        savepoint.rollback()
        again = drafts.get(session, person_id, "reporting")
        assert again is not None and (again.step, again.data) == ("level", {"seq": 1})
    with db.transaction() as session:
        row = drafts.get(session, person_id, "reporting")
        assert row is not None and (row.step, row.data) == ("level", {"seq": 1})


def test_a_session_used_again_after_a_commit_reads_drafts_changed_meanwhile(
    db: Database,
) -> None:
    """The tracker is one transaction's: after the commit, another session's change to the
    draft is what the next read sees (on main the committed transaction's copy was)."""
    person_id = _at_level(db)
    with db.session() as session:
        assert drafts.get(session, person_id, "reporting") is not None
        session.commit()
        with db.transaction() as other:
            row = drafts.get(other, person_id, "reporting")
            assert row is not None
            drafts.write(row, "count", {"seq": 2}, NOW + dt.timedelta(minutes=1))
        again = drafts.get(session, person_id, "reporting")
        assert again is not None and (again.step, again.data) == ("count", {"seq": 2})

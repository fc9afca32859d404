"""Every way an entity's answers change moves its version: chat save, /muokkaa, delete."""

from __future__ import annotations

from sqlalchemy import select

from data import catalog, people, reports, versions
from data.models import ParticipationEntry, Role, SatisfactionEntry
from data.progress import find_round

from ..conftest import Database


def _version(db: Database, entity_id: int) -> int:
    with db.transaction() as session:
        rnd = find_round(session, 2026)
        return versions.current(session, rnd.id if rnd else None, [entity_id])[entity_id]


def test_each_change_of_an_entity_raises_its_version_once_per_transaction(db: Database) -> None:
    with db.transaction() as session:
        kuva = catalog.division_by_code(session, "KUVA")
        assert kuva is not None
        person = people.ensure_person(session, 77, roles={Role.CONTACT}, division_id=kuva.id)
        entity, other = catalog.service_entities(session, kuva.id)[:2]
        level = catalog.levels(session)[0]
        method = catalog.methods_for_level(session, level.id)[0]
        nps = next(t for t in catalog.measurement_types(session) if t.kind == "nps")
        ids = (person.id, entity.id, other.id, level.id, method.id, nps.id)
    person_id, entity_id, other_id, level_id, method_id, nps_id = ids
    assert _version(db, entity_id) == 0
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, 77)
        assert me is not None
        reports.save_participation(
            session,
            me,
            2026,
            entity_id,
            [reports.ParticipationAnswer(level_id, method_id, count=3)],
        )
    assert _version(db, entity_id) == 1  # several flushes, one raise
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, 77)
        assert me is not None
        entry_id = session.scalar(select(ParticipationEntry.id))
        reports.update_participation_entry(session, me, entry_id, count=4)
    assert _version(db, entity_id) == 2
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, 77)
        assert me is not None
        reports.save_satisfaction(
            session, me, 2026, entity_id, [reports.SatisfactionAnswer(nps_id, nps=10)]
        )
    assert _version(db, entity_id) == 3
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, 77)
        assert me is not None
        reports.delete_entry(
            session, me, "satisfaction", session.scalar(select(SatisfactionEntry.id))
        )
    assert _version(db, entity_id) == 4
    assert _version(db, other_id) == 0  # the other entity is untouched
    assert person_id


def test_of_two_concurrent_saves_based_on_one_version_exactly_one_goes_through(
    db: Database,
) -> None:
    import threading

    with db.transaction() as session:
        kuva = catalog.division_by_code(session, "KUVA")
        assert kuva is not None
        people.ensure_person(session, 78, roles={Role.CONTACT}, division_id=kuva.id)
        entity_id = catalog.service_entities(session, kuva.id)[0].id
        level = catalog.levels(session)[0]
        level_id, method_id = level.id, catalog.methods_for_level(session, level.id)[0].id
        round_id = reports.get_or_create_round(session, 2026).id
    outcomes: list[str] = []
    first_checked = threading.Event()

    def save(count: int, first: bool) -> None:
        try:
            with db.transaction() as session:
                versions.check(session, round_id, {entity_id: 0})
                if first:
                    first_checked.set()
                me = people.person_by_telegram_id(session, 78)
                assert me is not None
                reports.save_participation(
                    session,
                    me,
                    2026,
                    entity_id,
                    [reports.ParticipationAnswer(level_id, method_id, count=count)],
                )
            outcomes.append(f"saved {count}")
        except versions.VersionConflict:
            outcomes.append("conflict")

    one = threading.Thread(target=save, args=(5, True))
    one.start()
    first_checked.wait(timeout=30)
    two = threading.Thread(target=save, args=(6, False))
    two.start()
    one.join(timeout=60)
    two.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "saved 5"]
    assert _version(db, entity_id) == 1


def test_a_save_based_on_an_older_version_is_refused_before_anything_is_written(
    db: Database,
) -> None:
    with db.transaction() as session:
        kuva = catalog.division_by_code(session, "KUVA")
        assert kuva is not None
        people.ensure_person(session, 78, roles={Role.CONTACT}, division_id=kuva.id)
        entity_id = catalog.service_entities(session, kuva.id)[0].id
        level_id = catalog.levels(session)[0].id
        nps_id = next(t for t in catalog.measurement_types(session) if t.kind == "nps").id
    with db.transaction() as session:
        opened = reports.entity_version(session, 2026, entity_id)  # the chat opens the entity
    assert opened == 0
    with db.transaction() as session:  # saved elsewhere meanwhile
        me = people.person_by_telegram_id(session, 78)
        assert me is not None
        answer = reports.ParticipationAnswer(level_id, method_text="Lukupiiri", count=9)
        reports.save_participation(session, me, 2026, entity_id, [answer], source="miniapp")
    for save in ("participation", "satisfaction"):
        with db.transaction() as session:
            me = people.person_by_telegram_id(session, 78)
            assert me is not None
            try:
                if save == "participation":
                    mine = reports.ParticipationAnswer(level_id, method_text="Kysely", count=1)
                    reports.save_participation(
                        session, me, 2026, entity_id, [mine], based_on=opened
                    )
                else:
                    mine_s = reports.SatisfactionAnswer(measurement_type_id=nps_id, nps=5)
                    reports.save_satisfaction(
                        session, me, 2026, entity_id, [mine_s], based_on=opened
                    )
            except reports.ChangedElsewhere as refused:
                assert refused.service_entity_ids == [entity_id]
            else:
                raise AssertionError(f"the {save} save over a newer version went through")
    with db.transaction() as session:
        stored = reports.participation_for_year(session, 2026, entity_id)
        assert [(a.method_text, a.count) for a in stored] == [("Lukupiiri", 9)]
        assert reports.satisfaction_for_year(session, 2026, entity_id) == []
        current = reports.entity_version(session, 2026, entity_id)
        me = people.person_by_telegram_id(session, 78)
        assert me is not None
        answer = reports.ParticipationAnswer(level_id, method_text="Kysely", count=2)
        reports.save_participation(session, me, 2026, entity_id, [answer], based_on=current)
    with db.transaction() as session:
        stored = reports.participation_for_year(session, 2026, entity_id)
        assert [(a.method_text, a.count) for a in stored] == [("Kysely", 2)]


def _contact_and_entity(db: Database, user: int) -> tuple[int, int, int, int]:
    with db.transaction() as session:
        kuva = catalog.division_by_code(session, "KUVA")
        assert kuva is not None
        people.ensure_person(session, user, roles={Role.CONTACT}, division_id=kuva.id)
        entity = catalog.service_entities(session, kuva.id)[0]
        level = catalog.levels(session)[0]
        method = catalog.methods_for_level(session, level.id)[0]
        return kuva.id, entity.id, level.id, method.id


def _save(
    db: Database,
    user: int,
    entity_id: int,
    answers: list[reports.ParticipationAnswer],
    **kw: object,
) -> None:
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, user)
        assert me is not None
        reports.save_participation(session, me, 2026, entity_id, answers, **kw)  # type: ignore[arg-type]


def test_a_save_based_on_a_newer_version_raises_nothing_and_leaves_the_version(
    db: Database,
) -> None:
    """The check and the raise are one statement: a refused save, whose transaction goes
    on (the chat keeps the draft and commits), must not have moved the version."""
    _division, entity_id, level_id, method_id = _contact_and_entity(db, 78)
    answer = [reports.ParticipationAnswer(level_id, method_id, count=3)]
    _save(db, 78, entity_id, answer, based_on=0)
    assert _version(db, entity_id) == 1
    with db.transaction() as session:  # committed although the save was refused
        me = people.person_by_telegram_id(session, 78)
        assert me is not None
        try:
            reports.save_participation(session, me, 2026, entity_id, answer, based_on=0)
        except reports.ChangedElsewhere as conflict:
            assert conflict.service_entity_ids == [entity_id]
        else:
            raise AssertionError("a save based on version 0 went through over version 1")
    assert _version(db, entity_id) == 1
    _save(
        db, 78, entity_id, [reports.ParticipationAnswer(level_id, method_id, count=5)], based_on=1
    )
    assert _version(db, entity_id) == 2
    with db.transaction() as session:
        assert reports.entity_state(session, 2026, entity_id) == (
            2,
            [reports.ParticipationAnswer(level_id, method_id, count=5)],
        )


def test_a_save_refused_for_a_submitted_report_leaves_the_version(db: Database) -> None:
    division_id, entity_id, level_id, method_id = _contact_and_entity(db, 79)
    answer = [reports.ParticipationAnswer(level_id, method_id, count=3)]
    _save(db, 79, entity_id, answer, based_on=0)
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, 79)
        assert me is not None
        reports.submit_report(session, me, 2026, division_id)
    with db.transaction() as session:
        me = people.person_by_telegram_id(session, 79)
        assert me is not None
        try:
            reports.save_participation(session, me, 2026, entity_id, answer, based_on=1)
        except reports.ReportLocked:
            pass
        else:
            raise AssertionError("a submitted report was changed")
    assert _version(db, entity_id) == 1


def test_the_entity_state_is_the_version_with_exactly_its_answers(db: Database) -> None:
    _division, entity_id, level_id, method_id = _contact_and_entity(db, 80)
    with db.transaction() as session:
        assert reports.entity_state(session, 2026, entity_id) == (0, [])
    levels = [level.id for level in catalog.levels(db.session())]
    answers = [
        reports.ParticipationAnswer(level_id, method_id, count=3, note="n"),
        reports.ParticipationAnswer(level_id, None, "Oma tapa", 7),
        reports.ParticipationAnswer(levels[1], none=True),
    ]
    _save(db, 80, entity_id, answers, based_on=0, nothing_saved=True)
    with db.transaction() as session:
        version, stored = reports.entity_state(session, 2026, entity_id)
        assert version == reports.entity_version(session, 2026, entity_id) == 1
        assert stored == reports.participation_for_year(session, 2026, entity_id)
        assert sorted(map(repr, stored)) == sorted(map(repr, answers))
    # Saved over (not "nothing saved"): the answers are replaced, never added to.
    _save(db, 80, entity_id, answers[:1], based_on=1)
    with db.transaction() as session:
        assert reports.entity_state(session, 2026, entity_id) == (2, answers[:1])

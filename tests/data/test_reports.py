from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from data import audit, catalog, people, progress, reports
from data.answers import nps_from_counts
from data.models import Level, Person, ReportState, Role, ServiceEntity
from data.reports import (
    AccessDenied,
    ParticipationAnswer,
    ReportLocked,
    SatisfactionAnswer,
)

from ..conftest import Database, Statements


def _entity(s, code: str) -> ServiceEntity:  # type: ignore[no-untyped-def]
    row = s.scalar(select(ServiceEntity).where(ServiceEntity.code == code))
    assert row
    return row


def _levels(s) -> list[Level]:  # type: ignore[no-untyped-def]
    return catalog.levels(s)


def _contact(s, division: str, tg_id: int = 100) -> Person:  # type: ignore[no-untyped-def]
    div = catalog.division_by_code(s, division)
    assert div
    return people.ensure_person(s, tg_id, name="Aino", roles={Role.CONTACT}, division_id=div.id)


def test_nps_from_counts_follows_the_formula() -> None:
    assert nps_from_counts(50, 30, 20) == 30
    assert nps_from_counts(0, 0, 7) == -100
    assert nps_from_counts(1, 1, 1) == 0
    assert nps_from_counts(2, 0, 1) == 33
    with pytest.raises(ValueError):
        nps_from_counts(0, 0, 0)


def test_saving_an_entity_replaces_its_answers_and_audits(db: Database) -> None:
    with db.transaction() as s:
        contact = _contact(s, "KUVA")
        lib = _entity(s, "KUVA_KIRJASTO")
        l1, l2, l3, l4 = _levels(s)
        method = catalog.methods_for_level(s, l1.id)[3]
        answers = [
            ParticipationAnswer(l1.id, method_id=method.id, count=12),
            ParticipationAnswer(l2.id, method_text="Kirjastoraati", count=3, note="kuukausittain"),
            ParticipationAnswer(l3.id, none=True),
            ParticipationAnswer(l4.id, none=True),
        ]
        reports.save_participation(s, contact, 2026, lib.id, answers)
    with db.transaction() as s:
        contact = people.person_by_telegram_id(s, 100)
        assert contact
        lib = _entity(s, "KUVA_KIRJASTO")
        rnd = progress.find_round(s, 2026)
        assert rnd
        saved = reports.participation_answers(s, rnd.id, lib.id)
        assert len(saved) == 4
        kuva = next(p for p in progress.round_progress(s, 2026) if p.code == "KUVA")
        library = next(e for e in kuva.entities if e.code == "KUVA_KIRJASTO")
        assert library.participation_complete and not library.satisfaction_mapped
        assert library.counts_by_level == {1: 12, 2: 3}
        # replace: fewer answers now
        reports.save_participation(s, contact, 2026, lib.id, saved[:1])
        assert len(reports.participation_answers(s, rnd.id, lib.id)) == 1
        saves = [e for e in audit.events(s, round_id=rnd.id) if e.entity == "participation"]
        assert len(saves) == 2
        assert len(saves[1].old["entries"]) == 2 and len(saves[1].new["entries"]) == 1


def test_contact_cannot_touch_another_division(db: Database) -> None:
    with db.transaction() as s:
        contact = _contact(s, "KUVA")
        other = _entity(s, "SOTE_HALLINTO")
        l1 = _levels(s)[0]
        with pytest.raises(AccessDenied):
            reports.save_participation(
                s, contact, 2026, other.id, [ParticipationAnswer(l1.id, none=True)]
            )
        sote = catalog.division_by_code(s, "SOTE")
        assert sote
        with pytest.raises(AccessDenied):
            reports.division_entries(s, contact, 2026, sote.id)


def test_submitted_report_is_locked_until_a_coordinator_reopens(db: Database) -> None:
    with db.transaction() as s:
        contact = _contact(s, "KUVA")
        coordinator = people.ensure_person(s, 200, name="Kaisa", roles={Role.COORDINATOR})
        lib = _entity(s, "KUVA_KIRJASTO")
        l1 = _levels(s)[0]
        reports.submit_report(s, contact, 2026, lib.division_id)
        with pytest.raises(ReportLocked):
            reports.save_participation(
                s, contact, 2026, lib.id, [ParticipationAnswer(l1.id, none=True)]
            )
        with pytest.raises(AccessDenied):
            reports.reopen_report(s, contact, 2026, lib.division_id)
        assert reports.reopen_report(s, coordinator, 2026, lib.division_id)
        rnd = progress.find_round(s, 2026)
        assert rnd
        assert progress.report_state(s, rnd.id, lib.division_id) is ReportState.REOPENED
        reports.save_participation(
            s, contact, 2026, lib.id, [ParticipationAnswer(l1.id, none=True)]
        )


def test_a_versioned_save_claims_the_version_and_locks_the_report_in_one_statement(
    db: Database,
) -> None:
    """The version check and raise and the report row's lock (made as a draft when missing)
    are one statement; a submitted report still refuses the save and leaves the version."""
    with db.transaction() as s:
        contact = _contact(s, "KUVA")
        lib = _entity(s, "KUVA_KIRJASTO")
        l1 = _levels(s)[0]
        progress.get_or_create_round(s, 2026)
    with db.transaction() as s:
        contact = s.merge(contact)
        with Statements(db) as log:
            reports.save_participation(
                s, contact, 2026, lib.id, [ParticipationAnswer(l1.id, none=True)], based_on=0
            )
    locks = [q for q in log.seen if "entity_versions" in q or "report_statuses" in q]
    assert len(locks) == 1
    with db.transaction() as s:
        assert reports.entity_version(s, 2026, lib.id) == 1
        with pytest.raises(reports.ChangedElsewhere):  # based on an older version
            reports.save_participation(
                s,
                s.merge(contact),
                2026,
                lib.id,
                [ParticipationAnswer(l1.id, none=True)],
                based_on=0,
            )
    with db.transaction() as s:
        reports.submit_report(s, s.merge(contact), 2026, lib.division_id)
    with db.transaction() as s, pytest.raises(ReportLocked):
        reports.save_participation(
            s,
            s.merge(contact),
            2026,
            lib.id,
            [ParticipationAnswer(l1.id, none=True)],
            based_on=1,
        )
    with db.transaction() as s:
        assert reports.entity_version(s, 2026, lib.id) == 1
        rnd = progress.find_round(s, 2026)
        assert rnd is not None
        assert progress.report_state(s, rnd.id, lib.division_id) is ReportState.SUBMITTED


def test_satisfaction_counts_give_nps_and_must_add_up(db: Database) -> None:
    with db.transaction() as s:
        contact = _contact(s, "SOTE")
        entity = _entity(s, "SOTE_HALLINTO")
        nps_type = next(t for t in catalog.measurement_types(s) if t.code == "NPS")
        answer = SatisfactionAnswer(nps_type.id, promoters=60, passives=25, detractors=15)
        reports.save_satisfaction(s, contact, 2026, entity.id, [answer])
        rnd = progress.find_round(s, 2026)
        assert rnd
        (saved,) = reports.satisfaction_answers(s, rnd.id, entity.id)
        assert saved.nps == 45 and saved.respondents == 100
        bad = SatisfactionAnswer(nps_type.id, promoters=1, passives=1, detractors=1, respondents=5)
        with pytest.raises(ValueError, match="counts_disagree"):
            reports.save_satisfaction(s, contact, 2026, entity.id, [bad])
        with pytest.raises(ValueError, match="score_range"):
            reports.validate_satisfaction(s, SatisfactionAnswer(nps_type.id, nps=101))


def test_invitation_is_single_use_expiring_and_revocable(db: Database) -> None:
    now = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    with db.transaction() as s:
        kuva = catalog.division_by_code(s, "KUVA")
        inv = people.create_invitation(s, Role.CONTACT, division=kuva, now=now)
        assert len(inv.token) <= 64
        result = people.redeem_invitation(s, inv.token, 555, name="Aino", language="fi", now=now)
        assert isinstance(result, people.Redeemed)
        assert result.person.role_set == {Role.CONTACT} and result.person.division_id == kuva.id
        again = people.redeem_invitation(s, inv.token, 556, name="X", language=None, now=now)
        assert again is people.InvitationProblem.USED
        old = people.create_invitation(s, Role.STAFF, now=now - dt.timedelta(days=8))
        assert (
            people.redeem_invitation(s, old.token, 557, name="Y", language=None, now=now)
            is people.InvitationProblem.EXPIRED
        )
        revoked = people.create_invitation(s, Role.COORDINATOR, now=now)
        assert people.revoke_invitation(s, revoked.id, actor_id=None)
        assert (
            people.redeem_invitation(s, revoked.token, 558, name="Z", language=None, now=now)
            is people.InvitationProblem.REVOKED
        )
        assert people.active_person(s, 557) is None


def test_opening_an_entity_reads_whether_last_year_has_a_round_in_the_same_statement(
    db: Database,
) -> None:
    """Opening an entity reads its version and answers, and — when this process does not
    know — whether last year has a round: asking then for last year's answers to offer
    costs no statement of its own."""
    with db.transaction() as s:
        lib = _entity(s, "KUVA_KIRJASTO")
        progress.get_or_create_round(s, 2026)
    with db.transaction() as s:
        catalog.forget_no_round(s, 2025)
        assert progress.find_round(s, 2026) is not None  # held: no statement
        with Statements(db) as log:
            assert reports.entity_state(s, 2026, lib.id) == (0, [])
            assert reports.previous_participation(s, 2026, lib.id) == []
    assert len(log.seen) == 1


def test_replacing_some_levels_keeps_the_others_and_audits_exactly_the_replaced_rows(
    db: Database,
) -> None:
    """``level_ids``: only those levels' answers are replaced (methods and "no methods"
    alike); the audit's "old" is exactly the replaced entries, in the order they were
    saved, and each save raises the entity's version once."""
    with db.transaction() as s:
        contact = _contact(s, "KUVA")
        lib = _entity(s, "KUVA_KIRJASTO")
        l1, l2, l3, l4 = _levels(s)
        first, second = catalog.methods_for_level(s, l1.id)[:2]
        reports.save_participation(
            s,
            contact,
            2026,
            lib.id,
            [
                ParticipationAnswer(l1.id, method_id=first.id, count=5, note="a"),
                ParticipationAnswer(l1.id, method_text="Oma tapa", count=2),
                ParticipationAnswer(l2.id, method_id=None, method_text="Raati", count=7),
                ParticipationAnswer(l3.id, none=True),
                ParticipationAnswer(l4.id, none=True),
            ],
        )
    with db.transaction() as s:
        assert reports.entity_version(s, 2026, lib.id) == 1
        reports.save_participation(
            s,
            s.merge(contact),
            2026,
            lib.id,
            [
                ParticipationAnswer(l1.id, method_id=second.id, count=9),
                ParticipationAnswer(l3.id, method_text="Kysely", count=1),
            ],
            level_ids=[l1.id, l3.id],
        )
    with db.transaction() as s:
        rnd = progress.find_round(s, 2026)
        assert rnd
        stored = reports.participation_answers(s, rnd.id, lib.id)
        assert sorted(
            (a.level_id, a.method_id, a.method_text, a.count, a.none) for a in stored
        ) == sorted(
            [
                (l1.id, second.id, None, 9, False),
                (l2.id, None, "Raati", 7, False),
                (l3.id, None, "Kysely", 1, False),
                (l4.id, None, None, 0, True),
            ]
        )
        assert reports.entity_version(s, 2026, lib.id) == 2
        saves = [e for e in audit.events(s, round_id=rnd.id) if e.entity == "participation"]
        assert len(saves) == 2
        assert saves[1].old == {
            "entries": [
                {
                    "service_entity_id": lib.id,
                    "level_id": l1.id,
                    "method_id": first.id,
                    "method_text": None,
                    "count": 5,
                    "note": "a",
                },
                {
                    "service_entity_id": lib.id,
                    "level_id": l1.id,
                    "method_id": None,
                    "method_text": "Oma tapa",
                    "count": 2,
                    "note": None,
                },
            ]
        }
        assert saves[1].new["entries"][0]["method_id"] == second.id
        assert saves[1].source == "chat" and saves[1].person_id == contact.id


def test_a_save_of_an_entity_with_nothing_saved_writes_in_a_fixed_number_of_statements(
    db: Database,
) -> None:
    """Based on a version with nothing saved: the claim, then the new rows and the audit
    row — one statement on PostgreSQL, one per table on SQLite — whatever the count."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with db.transaction() as s:
        contact = _contact(s, "KUVA")
        lib = _entity(s, "KUVA_KIRJASTO")
        l1, l2, l3, l4 = _levels(s)
        methods = catalog.methods_for_level(s, l1.id)[:3]
        progress.get_or_create_round(s, 2026)
    answers = [
        ParticipationAnswer(l1.id, method_id=m.id, count=n + 1) for n, m in enumerate(methods)
    ]
    answers += [ParticipationAnswer(level.id, none=True) for level in (l2, l3, l4)]
    with db.transaction() as s:
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            reports.save_participation(
                s, s.merge(contact), 2026, lib.id, answers, based_on=0, nothing_saved=True
            )
            s.flush()
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    writes = [q for q in statements if not q.lstrip().upper().startswith("SELECT")]
    assert len(writes) == (2 if db.engine.dialect.name == "postgresql" else 4), writes
    with db.transaction() as s:
        rnd = progress.find_round(s, 2026)
        assert rnd
        assert len(reports.participation_answers(s, rnd.id, lib.id)) == 6
        assert reports.entity_version(s, 2026, lib.id) == 1
        (saved,) = [e for e in audit.events(s, round_id=rnd.id) if e.entity == "participation"]
        assert saved.old == {"entries": []} and len(saved.new["entries"]) == 6


def test_a_satisfaction_save_replaces_the_rows_audits_both_and_raises_the_version_once(
    db: Database,
) -> None:
    """The old rows go and are the audit's "old" (every answer field), the new ones come;
    a save based on the version claims it (one raise), a stale one writes nothing."""
    with db.transaction() as s:
        contact = _contact(s, "SOTE")
        entity = _entity(s, "SOTE_HALLINTO")
        nps_type = next(t for t in catalog.measurement_types(s) if t.code == "NPS")
        other = next(t for t in catalog.measurement_types(s) if t.code == "OTHER")
        first = SatisfactionAnswer(nps_type.id, promoters=60, passives=25, detractors=15)
        reports.save_satisfaction(s, contact, 2026, entity.id, [first])
    with db.transaction() as s:
        assert reports.entity_version(s, 2026, entity.id) == 1
        second = SatisfactionAnswer(other.id, other_name="Palautekysely", note="kerran")
        reports.save_satisfaction(s, s.merge(contact), 2026, entity.id, [second], based_on=1)
    with db.transaction() as s:
        assert reports.entity_version(s, 2026, entity.id) == 2
        with pytest.raises(reports.ChangedElsewhere):
            reports.save_satisfaction(s, s.merge(contact), 2026, entity.id, [], based_on=1)
    with db.transaction() as s:
        rnd = progress.find_round(s, 2026)
        assert rnd
        (stored,) = reports.satisfaction_answers(s, rnd.id, entity.id)
        assert stored.measurement_type_id == other.id and stored.other_name == "Palautekysely"
        saves = [e for e in audit.events(s, round_id=rnd.id) if e.entity == "satisfaction"]
        assert len(saves) == 2 and saves[0].old == {"entries": []}
        (gone,) = saves[1].old["entries"]
        assert gone["service_entity_id"] == entity.id
        assert (gone["measurement_type_id"], gone["promoters"], gone["nps"]) == (
            nps_type.id,
            60,
            45,
        )
        assert set(gone) == {
            "service_entity_id",
            *reports.SATISFACTION_FIELDS,
            "measurement_type_id",
        }
        (came,) = saves[1].new["entries"]
        assert (came["other_name"], came["note"]) == ("Palautekysely", "kerran")
        assert reports.entity_version(s, 2026, entity.id) == 2

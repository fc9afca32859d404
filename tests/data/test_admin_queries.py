"""The rules behind /kutsu and /henkilot, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from data import admin_queries, audit, catalog, people, reports
from data.admin_queries import RoleChange
from data.models import ParticipationEntry, Role, ServiceEntity
from data.reports import ParticipationAnswer

from ..conftest import Database

NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def test_a_role_is_given_and_taken_with_an_audit_record(db: Database) -> None:
    with db.transaction() as s:
        person = people.ensure_person(s, 1, name="Kaisa", roles={Role.STAFF})
        assert admin_queries.set_role(s, person, Role.COORDINATOR, True, actor_id=None) is (
            RoleChange.CHANGED
        )
        assert admin_queries.set_role(s, person, Role.COORDINATOR, True, actor_id=None) is (
            RoleChange.UNCHANGED
        )
        assert person.role_set == {Role.STAFF, Role.COORDINATOR}
        assert admin_queries.set_role(s, person, Role.STAFF, False, actor_id=None) is (
            RoleChange.CHANGED
        )
    with db.session() as s:
        person = people.person_by_telegram_id(s, 1)
        assert person is not None and person.role_set == {Role.COORDINATOR}
        updates = [e for e in audit.events(s) if e.entity == "person" and e.action == "update"]
        assert [e.new["roles"] for e in updates if e.new] == [
            ["coordinator", "staff"],
            ["coordinator"],
        ]


def test_the_last_role_stays_and_a_contact_needs_a_division(db: Database) -> None:
    with db.transaction() as s:
        person = people.ensure_person(s, 2, name="Kaisa", roles={Role.COORDINATOR})
        assert admin_queries.set_role(s, person, Role.COORDINATOR, False, actor_id=None) is (
            RoleChange.LAST_ROLE
        )
        assert admin_queries.set_role(s, person, Role.CONTACT, True, actor_id=None) is (
            RoleChange.NEEDS_DIVISION
        )
        assert person.role_set == {Role.COORDINATOR}
        kuva = catalog.division_by_code(s, "KUVA")
        assert kuva is not None
        assert admin_queries.make_contact(s, person, kuva, actor_id=None) is RoleChange.CHANGED
        assert admin_queries.make_contact(s, person, kuva, actor_id=None) is RoleChange.UNCHANGED
        assert person.role_set == {Role.COORDINATOR, Role.CONTACT}
        assert person.division_id == kuva.id
        assert admin_queries.set_role(s, person, Role.CONTACT, False, actor_id=None) is (
            RoleChange.CHANGED
        )
        assert person.division_id is None  # the division only matters for contacts


def test_removing_access_takes_every_role_and_keeps_the_reported_data(db: Database) -> None:
    with db.transaction() as s:
        kuva = catalog.division_by_code(s, "KUVA")
        assert kuva is not None
        aino = people.ensure_person(s, 3, name="Aino", roles={Role.CONTACT}, division_id=kuva.id)
        entity = s.scalar(select(ServiceEntity).where(ServiceEntity.code == "KUVA_KIRJASTO"))
        assert entity is not None
        level = catalog.levels(s)[0]
        reports.save_participation(
            s, aino, 2026, entity.id, [ParticipationAnswer(level.id, method_text="Raati", count=2)]
        )
        assert admin_queries.remove_access(s, aino, actor_id=None)
        assert not admin_queries.remove_access(s, aino, actor_id=None)
    with db.session() as s:
        assert people.active_person(s, 3) is None
        aino = people.person_by_telegram_id(s, 3)
        assert aino is not None and not aino.active and aino.roles == []
        entry = s.scalar(select(ParticipationEntry))
        assert entry is not None and entry.reported_by_id == aino.id
        assert admin_queries.active_people(s) == []
    with db.transaction() as s:
        # A new invitation gives exactly the invited role, not the old ones back.
        invitation = people.create_invitation(s, Role.COORDINATOR, now=NOW)
        result = people.redeem_invitation(
            s, invitation.token, 3, name="Aino", language=None, now=NOW
        )
        assert isinstance(result, people.Redeemed)
        assert result.person.role_set == {Role.COORDINATOR}


def test_active_contacts_are_counted_per_division(db: Database) -> None:
    with db.transaction() as s:
        kuva = catalog.division_by_code(s, "KUVA")
        sote = catalog.division_by_code(s, "SOTE")
        assert kuva is not None and sote is not None
        people.ensure_person(s, 10, roles={Role.CONTACT}, division_id=kuva.id)
        people.ensure_person(s, 11, roles={Role.CONTACT}, division_id=kuva.id)
        gone = people.ensure_person(s, 12, roles={Role.CONTACT}, division_id=sote.id)
        people.ensure_person(s, 13, roles={Role.COORDINATOR}, division_id=sote.id)
        people.deactivate(s, gone, actor_id=None, reason="test")
        assert admin_queries.active_contact_counts(s) == {kuva.id: 2}


def test_open_invitations_come_with_their_division_and_creator(db: Database) -> None:
    with db.transaction() as s:
        kuva = catalog.division_by_code(s, "KUVA")
        staff = people.ensure_person(s, 20, name="Sanna", roles={Role.STAFF})
        by_staff = people.create_invitation(
            s, Role.CONTACT, division=kuva, created_by=staff, now=NOW
        )
        people.create_invitation(s, Role.STAFF, now=NOW - dt.timedelta(days=8))  # expired
        used = people.create_invitation(s, Role.STAFF, now=NOW)
        people.redeem_invitation(s, used.token, 21, name="X", language=None, now=NOW)
        views = admin_queries.open_invitations(s, NOW)
        assert [v.invitation.id for v in views] == [by_staff.id]
        assert views[0].division is not None and views[0].division.code == "KUVA"
        assert views[0].created_by is not None and views[0].created_by.name == "Sanna"
        assert admin_queries.invitation_by_token(s, by_staff.token) is by_staff
        assert admin_queries.invitation_by_token(s, "nope") is None

"""What the administration commands read and change: people, roles, invitations, contacts.

Strategy staff manage access in the chat (/kutsu, /henkilot) and coordinators follow the
divisions (/tilanne, /muistuta). The handlers never touch SQL; the rules that protect the
data (a person keeps at least one role, a contact always has a division, removing access
leaves what the person reported attributed to them) live here so they hold for every caller.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import people
from data.models import Division, Invitation, Person, PersonRole, Role


class RoleChange(enum.StrEnum):
    """The outcome of asking to give or take away one role."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"  # the person already was (or was not) in the role
    LAST_ROLE = "last_role"  # taking it would leave no role: remove access instead
    NEEDS_DIVISION = "needs_division"  # a contact must belong to a division


@dataclass(frozen=True)
class InvitationView:
    """An open invitation with the names a staff member needs to recognise it."""

    invitation: Invitation
    division: Division | None
    created_by: Person | None


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def active_people(session: Session) -> list[Person]:
    """Everyone with access (active and holding a role), by name."""
    return [p for p in people.people(session) if p.roles]


def invitation_by_id(session: Session, invitation_id: int) -> Invitation | None:
    return session.get(Invitation, invitation_id)


def invitation_by_token(session: Session, token: str) -> Invitation | None:
    return session.scalar(
        select(Invitation).where(Invitation.token_hash == people.hash_token(token))
    )


def open_invitations(session: Session, now: dt.datetime) -> list[InvitationView]:
    """Invitations that still work (not used, revoked or expired), oldest first."""
    result = []
    for invitation in people.open_invitations(session, now):
        division = session.get(Division, invitation.division_id) if invitation.division_id else None
        creator = (
            session.get(Person, invitation.created_by_id) if invitation.created_by_id else None
        )
        result.append(InvitationView(invitation, division, creator))
    return result


def active_contact_counts(session: Session) -> dict[int, int]:
    """Division id → number of active contacts: a nudge to a division without one reaches
    nobody, and the coordinator should see that before pressing the button."""
    rows = session.execute(
        select(Person.division_id)
        .join(PersonRole)
        .where(
            PersonRole.role == Role.CONTACT,
            Person.active.is_(True),
            Person.division_id.is_not(None),
        )
    )
    return dict(Counter(division_id for (division_id,) in rows))  # type: ignore[misc]


def set_role(
    session: Session,
    person: Person,
    role: Role,
    enabled: bool,
    *,
    actor_id: int | None,
) -> RoleChange:
    """Give or take one role; audited by ``people.set_roles``.

    Taking the contact role also clears the division, because the division only decides
    which data a contact may change. Giving the contact role needs a division
    (:func:`make_contact`).
    """
    roles = set(person.role_set)
    if (role in roles) == enabled:
        return RoleChange.UNCHANGED
    if enabled:
        if role is Role.CONTACT and person.division_id is None:
            return RoleChange.NEEDS_DIVISION
        roles.add(role)
    else:
        roles.discard(role)
        if not roles:
            return RoleChange.LAST_ROLE
    division_id = person.division_id if Role.CONTACT in roles else None
    people.set_roles(session, person, roles, division_id=division_id, actor_id=actor_id)
    return RoleChange.CHANGED


def make_contact(
    session: Session, person: Person, division: Division, *, actor_id: int | None
) -> RoleChange:
    """Make the person a contact of ``division`` (adding the role, or moving them)."""
    if Role.CONTACT in person.role_set and person.division_id == division.id:
        return RoleChange.UNCHANGED
    people.set_roles(
        session,
        person,
        person.role_set | {Role.CONTACT},
        division_id=division.id,
        actor_id=actor_id,
    )
    return RoleChange.CHANGED


def remove_access(session: Session, person: Person, *, actor_id: int | None) -> bool:
    """Take every role and deactivate; False if the person had no access to remove.

    The roles go too, so a later invitation gives exactly the invited role instead of
    silently restoring old ones. Entries the person reported keep ``reported_by_id``.
    """
    if not person.active and not person.roles:
        return False
    if person.roles:
        people.set_roles(session, person, set(), division_id=person.division_id, actor_id=actor_id)
    people.deactivate(session, person, actor_id=actor_id, reason="remove_access")
    return True

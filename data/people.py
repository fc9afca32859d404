"""People, their roles and the invitations that give access.

An invitation is a random single-use token behind a deep link; it carries the role and,
for a division contact, the division. Redeeming it registers (or extends) a person.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from data.audit import record
from data.db import affected, insert_for
from data.models import Actor, Division, Invitation, Person, PersonRole, Role, utcnow

INVITATION_DAYS = 7


class InvitationProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Redeemed:
    person: Person
    invitation: Invitation | None
    problem: InvitationProblem | None


def hash_token(token: str) -> str:
    """What is stored of an invitation token: its SHA-256, hex (64 characters)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PersonValue:
    """A person as one update sees them: the row's columns and the roles, read with Core
    into a plain value (``data.models.Actor``), not an ORM entity.

    Every update asks who is behind it first (``bot.access``), and the guided
    conversations read the person with their drafts in one statement
    (``data.drafts.person_and_drafts``); the ORM's entity loading and identity map cost
    more than the rest of that read. Code that changes a person loads the ORM row."""

    id: int
    telegram_user_id: int | None
    name: str
    language: str | None
    division_id: int | None
    active: bool
    role_set: frozenset[Role]

    @property
    def chat_id(self) -> int:
        """The person's private chat with the bot (``Person.chat_id``)."""
        if self.telegram_user_id is None:
            raise ValueError(f"person {self.id} is erased: no chat")
        return self.telegram_user_id


_PEOPLE: Table = cast(Table, Person.__table__)
_ROLES: Table = cast(Table, PersonRole.__table__)
#: The people columns a `PersonValue` is read from, in the order of its fields.
PERSON_COLUMNS = (
    _PEOPLE.c.id,
    _PEOPLE.c.telegram_user_id,
    _PEOPLE.c.name,
    _PEOPLE.c.language,
    _PEOPLE.c.division_id,
    _PEOPLE.c.active,
)


def person_value(row: Sequence[Any], roles: frozenset[Role]) -> PersonValue:
    """A `PersonValue` from a row starting with `PERSON_COLUMNS`."""
    return PersonValue(row[0], row[1], row[2], row[3], row[4], row[5], roles)


def person_value_of(person: Person) -> PersonValue:
    """The `PersonValue` of a loaded ORM row (its roles loaded with it)."""
    return PersonValue(
        person.id,
        person.telegram_user_id,
        person.name,
        person.language,
        person.division_id,
        person.active,
        frozenset(person.role_set),
    )


_PERSON_WITH_ROLES = (
    select(*PERSON_COLUMNS, _ROLES.c.role)
    .select_from(_PEOPLE)
    .outerjoin(_ROLES, _ROLES.c.person_id == _PEOPLE.c.id)
    .where(_PEOPLE.c.telegram_user_id == bindparam("telegram_user_id"))
)


def active_person_value(session: Session, telegram_user_id: int) -> PersonValue | None:
    """The registered, active person behind a Telegram user as a `PersonValue`, or None
    (no access); one prebuilt Core statement (every handler asks this first)."""
    rows = (
        session.connection()
        .execute(_PERSON_WITH_ROLES, {"telegram_user_id": telegram_user_id})
        .all()
    )
    if not rows:
        return None
    roles = frozenset(row[-1] for row in rows if row[-1] is not None)
    person = person_value(rows[0], roles)
    return person if person.active and roles else None


def person_by_telegram_id(session: Session, telegram_user_id: int) -> Person | None:
    """The person with their roles, in one query (every update asks this first)."""
    return (
        session.scalars(
            select(Person)
            .options(joinedload(Person.roles))
            .where(Person.telegram_user_id == telegram_user_id)
        )
        .unique()
        .first()
    )


def active_person(session: Session, telegram_user_id: int) -> Person | None:
    """The registered, active person behind a Telegram user, or None (no access)."""
    person = person_by_telegram_id(session, telegram_user_id)
    return person if person is not None and person.active and person.roles else None


def people(session: Session, *, include_inactive: bool = False) -> list[Person]:
    query = select(Person).order_by(Person.name, Person.id)
    if not include_inactive:
        query = query.where(Person.active.is_(True))
    return list(session.scalars(query))


def people_with_role(
    session: Session, role: Role, *, division_id: int | None = None
) -> list[Person]:
    """Active people holding the role (contacts optionally of one division)."""
    query = (
        select(Person)
        .join(PersonRole)
        .where(PersonRole.role == role, Person.active.is_(True))
        .order_by(Person.id)
    )
    if division_id is not None:
        query = query.where(Person.division_id == division_id)
    return list(session.scalars(query))


def _snapshot(person: Person) -> dict[str, object]:
    return {
        "name": person.name,
        "roles": sorted(r.value for r in person.role_set),
        "division_id": person.division_id,
        "active": person.active,
        "language": person.language,
    }


def ensure_person(
    session: Session,
    telegram_user_id: int,
    *,
    name: str = "",
    language: str | None = None,
    roles: set[Role] | frozenset[Role] = frozenset(),
    division_id: int | None = None,
    actor_id: int | None = None,
) -> Person:
    """Create the person or add roles (and set the division when given); audited."""
    person = person_by_telegram_id(session, telegram_user_id)
    old = _snapshot(person) if person else None
    if person is None:
        # INSERT … ON CONFLICT: two sessions registering one Telegram user at once share
        # the row (the later one then updates it) instead of one failing.
        created = session.scalar(
            insert_for(session, Person)
            .values(
                telegram_user_id=telegram_user_id,
                name=name,
                language=language,
                active=True,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["telegram_user_id"])
            .returning(Person.id)
        )
        person = person_by_telegram_id(session, telegram_user_id)
        assert person is not None
        if created is None:
            old = _snapshot(person)
    missing = set(roles) - person.role_set
    if missing:
        session.execute(
            insert_for(session, PersonRole)
            .values([{"person_id": person.id, "role": role} for role in sorted(missing)])
            .on_conflict_do_nothing(index_elements=["person_id", "role"])
        )
        session.expire(person, ["roles"])
    if name and not person.name:
        person.name = name
    if language and not person.language:
        person.language = language
    if division_id is not None:
        person.division_id = division_id
    person.active = True
    session.flush()
    new = _snapshot(person)
    if new != old:
        record(
            session,
            actor_id or person.id,
            "register" if old is None else "update",
            "person",
            person.id,
            old,
            new,
            division_id=person.division_id,
        )
    return person


def set_roles(
    session: Session,
    person: Person,
    roles: set[Role],
    *,
    division_id: int | None,
    actor_id: int | None,
) -> None:
    old = _snapshot(person)
    person.roles = [r for r in person.roles if r.role in roles]
    for role in roles - person.role_set:
        person.roles.append(PersonRole(role=role))
    person.division_id = division_id
    session.flush()
    record(
        session,
        actor_id,
        "update",
        "person",
        person.id,
        old,
        _snapshot(person),
        division_id=division_id,
    )


def deactivate(session: Session, person: Person, *, actor_id: int | None, reason: str) -> None:
    """Remove access; what the person reported stays, attributed to them."""
    if not person.active:
        return
    old = _snapshot(person)
    person.active = False
    session.flush()
    record(
        session,
        actor_id,
        reason,
        "person",
        person.id,
        old,
        _snapshot(person),
        division_id=person.division_id,
    )


def set_language(session: Session, person: Person, language: str) -> None:
    person.language = language
    session.flush()


def create_invitation(
    session: Session,
    role: Role,
    *,
    division: Division | None = None,
    created_by: Actor | None = None,
    days: int = INVITATION_DAYS,
    now: dt.datetime | None = None,
) -> Invitation:
    """A new single-use token: 32 URL-safe characters, valid for ``days``.

    Only its hash is stored; the clear token is on the returned object's ``token``, for
    the one link shown to whoever created the invitation.
    """
    if role is Role.CONTACT and division is None:
        raise ValueError("a contact invitation needs a division")
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        token_hash=hash_token(token),
        role=role,
        division_id=division.id if division else None,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    invitation.token = token  # type: ignore[misc]
    session.add(invitation)
    session.flush()
    record(
        session,
        created_by.id if created_by else None,
        "create",
        "invitation",
        invitation.id,
        None,
        {"role": role.value, "division_id": invitation.division_id},
        division_id=invitation.division_id,
    )
    return invitation


def invitation_problem(invitation: Invitation | None, now: dt.datetime) -> InvitationProblem | None:
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if invitation.used_at is not None:
        return InvitationProblem.USED
    if invitation.expires_at <= now:
        return InvitationProblem.EXPIRED
    return None


def redeem_invitation(
    session: Session,
    token: str,
    telegram_user_id: int,
    *,
    name: str,
    language: str | None,
    now: dt.datetime | None = None,
) -> Redeemed | InvitationProblem:
    """Use a token once: register the person with its role and division.

    The claim is one conditional UPDATE (still unused, not revoked, not expired) whose row
    count decides who won: ``SELECT … FOR UPDATE`` is ignored by SQLite, and pysqlite begins
    the transaction only at the first write, so two processes on one file could both read
    the token as unused. The UPDATE is the first write here, so on SQLite the loser waits for
    the winner's commit and then matches no row; on PostgreSQL the row lock does the same.
    """
    now = now or utcnow()
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    problem = invitation_problem(invitation, now)
    if problem is not None:
        return problem
    assert invitation is not None
    claimed = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(claimed) != 1:
        session.refresh(invitation)
        return invitation_problem(invitation, now) or InvitationProblem.USED
    person = ensure_person(
        session,
        telegram_user_id,
        name=name,
        language=language,
        roles={invitation.role},
        division_id=invitation.division_id,
    )
    invitation.used_at = now
    invitation.used_by_id = person.id
    session.flush()
    return Redeemed(person, invitation, None)


def revoke_invitation(session: Session, invitation_id: int, *, actor_id: int | None) -> bool:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.revoked_at or invitation.used_at:
        return False
    invitation.revoked_at = utcnow()
    record(
        session,
        actor_id,
        "revoke",
        "invitation",
        invitation.id,
        None,
        None,
        division_id=invitation.division_id,
    )
    return True


def open_invitations(session: Session, now: dt.datetime | None = None) -> list[Invitation]:
    now = now or utcnow()
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at)
        )
    )

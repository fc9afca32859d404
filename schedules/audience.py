"""The database side of the plan: who holds which role and which divisions are incomplete.

`data.progress.round_progress` is the one definition of "complete"; this module only turns
it and the people table into the `Audiences` snapshot that `schedules.plan` applies its
rules to, plus the details the messages need (progress per division, each person's
language and chat).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.models import Person, Role
from data.people import people_with_role
from data.progress import DivisionProgress, round_progress
from schedules.plan import Audience, Audiences


@dataclass(frozen=True)
class Recipient:
    """What sending needs about a person, detached from the session."""

    person_id: int
    chat_id: int
    language: str | None
    division_id: int | None
    roles: frozenset[Role]
    created_at: dt.datetime


@dataclass(frozen=True)
class Snapshot:
    """Audiences plus the data the reminder texts are written from, read in one go."""

    audiences: Audiences
    progress: tuple[DivisionProgress, ...]
    recipients: dict[int, Recipient]

    def division(self, division_id: int | None) -> DivisionProgress | None:
        return next((p for p in self.progress if p.division_id == division_id), None)

    def audiences_of(self, person_id: int, deadline_code: str) -> list[Audience]:
        """The audiences a person belongs to for a deadline now (empty: not needed)."""
        return [a for a in Audience if person_id in self.audiences.recipients(a, deadline_code)]


def _recipient(person: Person) -> Recipient:
    return Recipient(
        person_id=person.id,
        chat_id=person.chat_id,
        language=person.language,
        division_id=person.division_id,
        roles=frozenset(person.role_set),
        created_at=person.created_at,
    )


def load_snapshot(session: Session, year: int) -> Snapshot:
    """Active people by role and the year's progress (a division without data is incomplete)."""
    progress = tuple(round_progress(session, year))
    incomplete = frozenset(p.division_id for p in progress if not p.complete)
    coordinators = people_with_role(session, Role.COORDINATOR)
    staff = people_with_role(session, Role.STAFF)
    contacts = people_with_role(session, Role.CONTACT)
    by_division: dict[int, list[int]] = {}
    for person in contacts:
        if person.division_id is not None:
            by_division.setdefault(person.division_id, []).append(person.id)
    recipients = {p.id: _recipient(p) for p in (*coordinators, *staff, *contacts)}
    audiences = Audiences(
        coordinators=tuple(p.id for p in coordinators),
        staff=tuple(p.id for p in staff),
        contacts={division: tuple(ids) for division, ids in by_division.items()},
        incomplete_divisions=incomplete,
    )
    return Snapshot(audiences=audiences, progress=progress, recipients=recipients)


def load_audiences(session: Session, year: int) -> Audiences:
    """The `Audiences` snapshot for `schedules.plan.plan_year` (e.g. the operator's plan)."""
    return load_snapshot(session, year).audiences

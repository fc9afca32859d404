"""A division's round as its contact sees it: the status matrix, the editable entries.

The /tila, /valmis and /muokkaa commands read through here, so they never hold ORM objects
outside a session: everything is returned as frozen dataclasses built inside the caller's
transaction. Completeness comes from ``data.progress`` (the one definition of "complete");
this module adds what the contact needs to see next to it — which measurement types were
reported, the NPS, when the report was submitted — and the satisfaction-entry edit that
``data.reports`` does not have, with the same access and lock checks and the same audit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import answers, progress, reports
from data.audit import record
from data.models import (
    Actor,
    CatalogMethod,
    Level,
    MeasurementType,
    ParticipationEntry,
    ReportState,
    ReportStatus,
    SatisfactionEntry,
    ServiceEntity,
)
from data.progress import DivisionProgress
from data.reports import AccessDenied, SatisfactionAnswer

EntryKind = Literal["participation", "satisfaction"]


class _Unset:
    """Marks "leave this field as it is" (None means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


# --- status matrix ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurementSummary:
    """One satisfaction answer of a service entity, reduced to what /tila shows."""

    name: dict[str, str]
    kind: str  # nps | scale | free | none
    nps: int | None
    respondents: int | None
    latest_result: str | None
    catalog_scale: str | None = None
    scale: str | None = None
    other_name: str | None = None

    def label(self, language: str) -> str:
        """ "Kysely (asteikko 1–7)", "Muu tapa: Palautekysely" (``answers.measurement_name``)."""
        name = self.name.get(language) or self.name["fi"]
        return answers.measurement_name(name, self.catalog_scale, self.scale, self.other_name)


@dataclass(frozen=True)
class DivisionStatus:
    """The division's round: progress per entity plus satisfaction details and report state."""

    year: int
    progress: DivisionProgress
    measurements: dict[int, tuple[MeasurementSummary, ...]]  # service entity id -> answers
    state_changed_at: dt.datetime | None

    @property
    def state(self) -> ReportState:
        return self.progress.state

    def not_measured(self, service_entity_id: int) -> bool:
        """The entity's only satisfaction answer is the explicit "not measured"."""
        answers = self.measurements.get(service_entity_id, ())
        return bool(answers) and all(m.kind == "none" for m in answers)


def division_status(session: Session, person: Actor, year: int, division_id: int) -> DivisionStatus:
    """The division's status for the year's round; read access checked, nothing created."""
    if not reports.can_read_division(person, division_id):
        raise AccessDenied(f"person {person.id} may not read division {division_id}")
    rnd = progress.find_round(session, year)
    round_id = rnd.id if rnd else None
    division_progress = progress.division_progress(session, round_id, division_id)
    measurements: dict[int, list[MeasurementSummary]] = {}
    changed_at = None
    if round_id is not None:
        rows = session.execute(
            select(SatisfactionEntry, MeasurementType)
            .join(MeasurementType, SatisfactionEntry.measurement_type_id == MeasurementType.id)
            .where(
                SatisfactionEntry.round_id == round_id,
                SatisfactionEntry.division_id == division_id,
            )
            .order_by(SatisfactionEntry.service_entity_id, SatisfactionEntry.id)
        )
        for entry, mtype in rows:
            measurements.setdefault(entry.service_entity_id, []).append(
                MeasurementSummary(
                    name=dict(mtype.name),
                    kind=mtype.kind,
                    nps=entry.nps,
                    respondents=entry.respondents,
                    latest_result=entry.latest_result,
                    catalog_scale=mtype.scale,
                    scale=entry.scale,
                    other_name=entry.other_name,
                )
            )
        status = session.get(ReportStatus, (round_id, division_id))
        changed_at = status.changed_at if status else None
    return DivisionStatus(
        year=year,
        progress=division_progress,
        measurements={k: tuple(v) for k, v in measurements.items()},
        state_changed_at=changed_at,
    )


# --- editable entries ------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRow:
    """One saved participation or satisfaction entry, with the names needed to show it."""

    kind: EntryKind
    id: int
    service_entity_id: int
    entity_name: dict[str, str]
    entity_order: int
    # participation
    level_number: int | None = None
    level_name: dict[str, str] | None = None
    method_name: dict[str, str] | None = None  # catalog method
    method_text: str | None = None  # a method the contact typed
    count: int | None = None
    note: str | None = None
    # satisfaction
    measurement_name: dict[str, str] | None = None
    catalog_scale: str | None = None  # the measurement type's, replaced by a saved scale
    measurement_kind: str | None = None
    nps: int | None = None
    respondents: int | None = None
    latest_result: str | None = None
    period: str | None = None
    has_nps_counts: bool = False
    #: Every stored part of a satisfaction entry (P/N/D counts, scale, frequency …).
    answer: SatisfactionAnswer | None = None

    def method_label(self, language: str) -> str:
        """The method's name (catalog, in the language) or the text the contact typed."""
        if self.method_name:
            return self.method_name.get(language) or self.method_name["fi"]
        return self.method_text or ""

    def measurement_label(self, language: str) -> str:
        """The way of measuring as the contact described it (`answers.measurement_name`):
        "Kysely (asteikko 1–7)" for a survey saved with 1–7, "Muu tapa: <its name>"."""
        if not self.measurement_name:
            return ""
        name = self.measurement_name.get(language) or self.measurement_name["fi"]
        if self.answer is None:
            return name
        return answers.measurement_name(
            name, self.catalog_scale, self.answer.scale, self.answer.other_name
        )

    def level_label(self, language: str) -> str:
        if not self.level_name:
            return ""
        return self.level_name.get(language) or self.level_name["fi"]

    def entity_label(self, language: str) -> str:
        return self.entity_name.get(language) or self.entity_name["fi"]


def _participation_row(
    entry: ParticipationEntry,
    entity: ServiceEntity,
    level: Level,
    method: CatalogMethod | None,
) -> EntryRow:
    return EntryRow(
        kind="participation",
        id=entry.id,
        service_entity_id=entity.id,
        entity_name=dict(entity.name),
        entity_order=entity.sort_order,
        level_number=level.number,
        level_name=dict(level.name),
        method_name=dict(method.name) if method else None,
        method_text=entry.method_text,
        count=entry.count,
        note=entry.note,
    )


def _satisfaction_row(
    entry: SatisfactionEntry, entity: ServiceEntity, mtype: MeasurementType
) -> EntryRow:
    return EntryRow(
        kind="satisfaction",
        id=entry.id,
        service_entity_id=entity.id,
        entity_name=dict(entity.name),
        entity_order=entity.sort_order,
        measurement_name=dict(mtype.name),
        catalog_scale=mtype.scale,
        measurement_kind=mtype.kind,
        nps=entry.nps,
        respondents=entry.respondents,
        latest_result=entry.latest_result,
        period=entry.period,
        has_nps_counts=entry.promoters is not None,
        answer=SatisfactionAnswer(
            **{
                k: v
                for k, v in reports.satisfaction_dict(entry).items()
                if k != "service_entity_id"
            }
        ),
    )


def _row_for(session: Session, entry: ParticipationEntry | SatisfactionEntry) -> EntryRow:
    entity = session.get_one(ServiceEntity, entry.service_entity_id)
    if isinstance(entry, ParticipationEntry):
        level = session.get_one(Level, entry.level_id)
        method = session.get(CatalogMethod, entry.method_id) if entry.method_id else None
        return _participation_row(entry, entity, level, method)
    return _satisfaction_row(
        entry, entity, session.get_one(MeasurementType, entry.measurement_type_id)
    )


def entry_rows(session: Session, person: Actor, year: int, division_id: int) -> list[EntryRow]:
    """The division's entries for the year, entity by entity in catalog order, participation
    (by level) before satisfaction; read access checked by ``reports.division_entries``."""
    participation, satisfaction = reports.division_entries(session, person, year, division_id)
    rows = [_row_for(session, e) for e in participation] + [
        _row_for(session, e) for e in satisfaction
    ]
    kind_order = {"participation": 0, "satisfaction": 1}
    return sorted(
        rows,
        key=lambda r: (
            r.entity_order,
            r.service_entity_id,
            kind_order[r.kind],
            r.level_number or 0,
            r.id,
        ),
    )


def entry_row(
    session: Session, person: Actor, year: int, kind: EntryKind, entry_id: int
) -> EntryRow | None:
    """The entry if it exists, is in the year's round and the person may change its division.

    None covers every reason a button can go stale or be forged (deleted, another
    division's, last year's), so the caller answers all of them the same way.
    """
    entry: ParticipationEntry | SatisfactionEntry | None = (
        session.get(ParticipationEntry, entry_id)
        if kind == "participation"
        else session.get(SatisfactionEntry, entry_id)
    )
    if entry is None or not reports.can_write_division(person, entry.division_id):
        return None
    rnd = progress.find_round(session, year)
    if rnd is None or entry.round_id != rnd.id:
        return None
    return _row_for(session, entry)


# --- changing a satisfaction entry -----------------------------------------------------


def update_satisfaction_entry(
    session: Session,
    person: Actor,
    entry_id: int,
    *,
    latest_result: str | _Unset | None = UNSET,
    respondents: int | _Unset | None = UNSET,
    nps: int | _Unset | None = UNSET,
) -> SatisfactionEntry:
    """Change the latest result, the number of respondents or the NPS of one entry; audited.

    Every rule of ``data.answers`` holds: a result of the kind the measurement type takes
    (none for NPS), respondents and NPS in range, and with promoter/passive/detractor counts
    a score or respondents that disagree with them are refused (``AnswerProblem``), never
    a reason to drop the counts silently.
    Raises AccessDenied, ReportLocked, or ValueError (``AnswerProblem``) for a refused value.
    """
    entry = reports.owned_entry(session, person, SatisfactionEntry, entry_id)
    assert isinstance(entry, SatisfactionEntry)
    old = reports.satisfaction_dict(entry)
    answer = SatisfactionAnswer(**{k: v for k, v in old.items() if k != "service_entity_id"})
    if not isinstance(latest_result, _Unset):
        answer = dataclasses.replace(answer, latest_result=(latest_result or "").strip() or None)
    if not isinstance(respondents, _Unset):
        answer = answers.with_respondents(answer, respondents)
    if not isinstance(nps, _Unset):
        answer = answers.with_nps(answer, nps)
    return _store_satisfaction(session, person, entry, old, answer)


def replace_satisfaction_entry(
    session: Session, person: Actor, entry_id: int, answer: SatisfactionAnswer
) -> SatisfactionEntry:
    """Store ``answer`` (every part, as /muokkaa showed and the person confirmed it) in one
    entry; checked by ``reports.validate_satisfaction`` and audited old → new.

    The measurement type stays the entry's own. Raises AccessDenied, ReportLocked, or
    ValueError for an answer the rules refuse.
    """
    entry = reports.owned_entry(session, person, SatisfactionEntry, entry_id)
    assert isinstance(entry, SatisfactionEntry)
    old = reports.satisfaction_dict(entry)
    fields = {**answer.to_dict(), "measurement_type_id": entry.measurement_type_id}
    return _store_satisfaction(session, person, entry, old, SatisfactionAnswer(**fields))


def _store_satisfaction(
    session: Session,
    person: Actor,
    entry: SatisfactionEntry,
    old: dict[str, Any],
    answer: SatisfactionAnswer,
) -> SatisfactionEntry:
    """The one way /muokkaa writes a satisfaction entry: checked by the rule book, then
    audited old → new."""
    checked = reports.validate_satisfaction(session, answer)
    for key, value in checked.to_dict().items():
        setattr(entry, key, value)
    entry.reported_by_id = person.id
    session.flush()
    record(
        session,
        person.id,
        "update",
        "satisfaction_entry",
        entry.id,
        old,
        reports.satisfaction_dict(entry),
        division_id=entry.division_id,
        round_id=entry.round_id,
    )
    return entry

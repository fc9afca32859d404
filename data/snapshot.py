"""A frozen, read-only picture of one year's round, for the document generator.

The document generator (``docgen``) never queries the database: it receives a
:class:`RoundSnapshot`. That keeps documents a pure function of (snapshot, settings, date,
wording) — which is what makes them byte-identical for identical data, testable without a
database, and safe to build while the bot keeps writing (one consistent read, then no
database at all). This module is the only place that queries the database for documents.

Retired catalog items stay visible here when answers refer to them, so a reorganisation
never makes reported data disappear from the documents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from data import answers, catalog
from data.models import (
    CatalogMethod,
    Division,
    Level,
    LevelNoneAnswer,
    MeasurementType,
    ParticipationEntry,
    ReportState,
    SatisfactionEntry,
)
from data.progress import find_round, is_complete, round_progress

# --- reference items ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Names:
    """A catalog name in the three languages (Finnish is always present)."""

    fi: str
    sv: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        """The name in ``lang``, falling back to Finnish like ``catalog.name_of``."""
        return str(getattr(self, lang, "") or self.fi)

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Names:
        value = value or {}
        fi = str(value.get("fi") or "")
        return cls(fi=fi, sv=str(value.get("sv") or fi), en=str(value.get("en") or fi))


@dataclass(frozen=True, slots=True)
class MethodItem:
    """An example participation method of the catalog (osallisuuden tapa)."""

    code: str
    level_number: int
    name: Names
    retired: bool = False


@dataclass(frozen=True, slots=True)
class LevelItem:
    """Participation level 1–4 with its description and example methods."""

    code: str
    number: int
    name: Names
    description: Names
    examples: tuple[MethodItem, ...] = ()
    retired: bool = False


@dataclass(frozen=True, slots=True)
class ServiceEntityItem:
    """A service entity (palvelukokonaisuus); ``division_code`` names its division."""

    code: str
    division_code: str
    name: Names
    retired: bool = False


@dataclass(frozen=True, slots=True)
class DivisionItem:
    """A division with the service entities the metric expects answers for (active ones)."""

    code: str
    name: Names
    service_entities: tuple[ServiceEntityItem, ...] = ()
    retired: bool = False


@dataclass(frozen=True, slots=True)
class MeasurementTypeItem:
    """How satisfaction is measured; ``kind`` is nps | scale | free | none."""

    code: str
    kind: str
    scale: str
    name: Names
    retired: bool = False

    @property
    def measures(self) -> bool:
        """False for the explicit "not measured" answer."""
        return self.kind != "none"


# --- answers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParticipationItem:
    """One participation method used in a service entity at a level, with its count (Lkm).

    ``method`` is the catalog method when one was picked; ``method_text`` the method the
    contact typed. Text is as stored; documents clean it for their format.
    """

    division_code: str
    entity_code: str
    level_number: int
    method: MethodItem | None
    method_text: str | None
    count: int
    note: str = ""

    def method_label(self, lang: str = "fi") -> str:
        if self.method is not None:
            return self.method.name.get(lang)
        return self.method_text or ""

    @property
    def from_catalog(self) -> bool:
        return self.method is not None


@dataclass(frozen=True, slots=True)
class NoneAnswerItem:
    """The explicit answer "no methods at this level" for a service entity."""

    division_code: str
    entity_code: str
    level_number: int


def _computed_nps(
    promoters: int | None, passives: int | None, detractors: int | None
) -> int | None:
    """The rule book's NPS of the counts (``data.answers.nps_from_counts``); None without them."""
    if promoters is None or passives is None or detractors is None:
        return None
    if promoters + passives + detractors <= 0:
        return None
    return answers.nps_from_counts(promoters, passives, detractors)


@dataclass(frozen=True, slots=True)
class SatisfactionItem:
    """How satisfaction is measured in a service entity (one measurement type)."""

    division_code: str
    entity_code: str
    measurement: MeasurementTypeItem
    scale: str = ""
    frequency: str = ""
    latest_result: str = ""
    nps: int | None = None
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None
    respondents: int | None = None
    period: str = ""
    note: str = ""

    @property
    def nps_from_counts(self) -> bool:
        return _computed_nps(self.promoters, self.passives, self.detractors) is not None

    @property
    def nps_score(self) -> int | None:
        """The NPS: computed from the counts when they are given, else the reported score."""
        computed = _computed_nps(self.promoters, self.passives, self.detractors)
        return computed if computed is not None else self.nps

    @property
    def respondent_count(self) -> int | None:
        """Respondents as reported, else the sum of the NPS counts."""
        if self.respondents is not None:
            return self.respondents
        if self.promoters is not None and self.detractors is not None:
            return self.promoters + (self.passives or 0) + self.detractors
        return None


# --- progress ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityStatus:
    """What a service entity has answered, as defined by ``data.progress``."""

    entity_code: str
    missing_levels: tuple[int, ...]
    satisfaction_mapped: bool

    @property
    def participation_complete(self) -> bool:
        return not self.missing_levels

    @property
    def complete(self) -> bool:
        return self.participation_complete and self.satisfaction_mapped


@dataclass(frozen=True, slots=True)
class DivisionStatus:
    """A division's report state (draft/submitted/reopened) and per-entity completeness."""

    division_code: str
    state: str
    entities: tuple[EntityStatus, ...] = ()

    @property
    def answers_complete(self) -> bool:
        return all(e.complete for e in self.entities)

    @property
    def complete(self) -> bool:
        """``data.progress``'s one definition: submitted, or every answer given."""
        return is_complete(ReportState(self.state), self.answers_complete)

    @property
    def entities_complete(self) -> int:
        return sum(1 for e in self.entities if e.complete)


# --- the snapshot ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSnapshot:
    """Everything the documents show about one year's round, frozen at one read.

    ``levels`` and ``divisions`` are the active catalog plus retired items that this
    round's answers refer to; ``entities`` holds every known service entity (active and
    retired) for name look-ups. ``previous`` is last year's round when it exists.
    """

    year: int
    round_exists: bool
    levels: tuple[LevelItem, ...]
    divisions: tuple[DivisionItem, ...]
    measurement_types: tuple[MeasurementTypeItem, ...]
    entities: tuple[ServiceEntityItem, ...]
    participation: tuple[ParticipationItem, ...] = ()
    none_answers: tuple[NoneAnswerItem, ...] = ()
    satisfaction: tuple[SatisfactionItem, ...] = ()
    progress: tuple[DivisionStatus, ...] = ()
    previous: RoundSnapshot | None = None
    _entity_index: Mapping[str, ServiceEntityItem] = field(init=False, repr=False, compare=False)
    _division_index: Mapping[str, DivisionItem] = field(init=False, repr=False, compare=False)
    _level_index: Mapping[int, LevelItem] = field(init=False, repr=False, compare=False)
    _status_index: Mapping[str, DivisionStatus] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entities = {e.code: e for e in self.entities}
        for division in self.divisions:
            for entity in division.service_entities:
                entities.setdefault(entity.code, entity)
        object.__setattr__(self, "_entity_index", MappingProxyType(entities))
        object.__setattr__(
            self, "_division_index", MappingProxyType({d.code: d for d in self.divisions})
        )
        object.__setattr__(
            self, "_level_index", MappingProxyType({lvl.number: lvl for lvl in self.levels})
        )
        object.__setattr__(
            self, "_status_index", MappingProxyType({s.division_code: s for s in self.progress})
        )

    def entity(self, code: str) -> ServiceEntityItem:
        """The service entity by code; an unknown code gets a placeholder, never an error."""
        found = self._entity_index.get(code)
        return found or ServiceEntityItem(code=code, division_code="", name=Names(fi=code))

    def division(self, code: str) -> DivisionItem | None:
        return self._division_index.get(code)

    def level(self, number: int) -> LevelItem | None:
        return self._level_index.get(number)

    def status(self, division_code: str) -> DivisionStatus | None:
        return self._status_index.get(division_code)

    @property
    def complete(self) -> bool:
        """All divisions have answered everything (``data.progress``'s definition)."""
        return bool(self.progress) and all(s.complete for s in self.progress)

    @property
    def has_data(self) -> bool:
        return bool(self.participation or self.none_answers or self.satisfaction)


# --- building from the database ----------------------------------------------------------


class _Catalog:
    """The whole catalog, retired items included, read once and indexed by id."""

    def __init__(self, session: Session) -> None:
        self.levels: dict[int, tuple[int, LevelItem]] = {}
        self.methods: dict[int, tuple[int, MethodItem]] = {}
        self.divisions: dict[int, tuple[int, Division]] = {}
        self.entities: dict[int, tuple[int, ServiceEntityItem]] = {}
        self.types: dict[int, MeasurementTypeItem] = {}
        level_rows = catalog.levels(session, include_retired=True)
        level_number = {lvl.id: lvl.number for lvl in level_rows}
        examples: dict[int, list[MethodItem]] = {}
        for method in session.scalars(
            select(CatalogMethod).order_by(CatalogMethod.sort_order, CatalogMethod.id)
        ):
            item = MethodItem(
                code=method.code,
                level_number=level_number.get(method.level_id, 0),
                name=Names.from_json(method.name),
                retired=method.retired_at is not None,
            )
            self.methods[method.id] = (method.sort_order, item)
            if not item.retired:
                examples.setdefault(method.level_id, []).append(item)
        for level in level_rows:
            self.levels[level.id] = (level.sort_order, _level_item(level, examples))
        division_rows = catalog.divisions(session, include_retired=True)
        codes = {d.id: d.code for d in division_rows}
        for order, division in enumerate(division_rows):
            self.divisions[division.id] = (order, division)
        for entity in catalog.service_entities(session, include_retired=True):
            item = ServiceEntityItem(  # type: ignore[assignment]
                code=entity.code,
                division_code=codes.get(entity.division_id, ""),
                name=Names.from_json(entity.name),
                retired=entity.retired_at is not None,
            )
            self.entities[entity.id] = (entity.sort_order, item)  # type: ignore[assignment]
        for mtype in catalog.measurement_types(session, include_retired=True):
            self.types[mtype.id] = _type_item(mtype)
        self.type_order = {type_id: order for order, type_id in enumerate(self.types)}

    def division_code(self, division_id: int) -> str:
        found = self.divisions.get(division_id)
        return found[1].code if found else f"#{division_id}"

    def entity(self, entity_id: int) -> ServiceEntityItem:
        found = self.entities.get(entity_id)
        if found:
            return found[1]
        return ServiceEntityItem(code=f"#{entity_id}", division_code="", name=Names(fi="?"))


def _level_item(level: Level, examples: Mapping[int, list[MethodItem]]) -> LevelItem:
    return LevelItem(
        code=level.code,
        number=level.number,
        name=Names.from_json(level.name),
        description=Names.from_json(level.description),
        examples=tuple(examples.get(level.id, ())),
        retired=level.retired_at is not None,
    )


def _type_item(mtype: MeasurementType) -> MeasurementTypeItem:
    return MeasurementTypeItem(
        code=mtype.code,
        kind=mtype.kind,
        scale=mtype.scale or "",
        name=Names.from_json(mtype.name),
        retired=mtype.retired_at is not None,
    )


def _text(value: str | None) -> str:
    return value or ""


def build_snapshot(session: Session, year: int, *, with_previous: bool = True) -> RoundSnapshot:
    """Read one year's round (and last year's, for the comparison) into a frozen snapshot.

    Runs a handful of column queries — no ORM objects per entry — so 100 000 entries read
    in well under a second. A year without a round gives an empty snapshot, not an error.
    """
    cat = _Catalog(session)
    rnd = find_round(session, year)
    participation: list[tuple[tuple[Any, ...], ParticipationItem]] = []
    nones: list[tuple[tuple[Any, ...], NoneAnswerItem]] = []
    satisfaction: list[tuple[tuple[Any, ...], SatisfactionItem]] = []
    used_levels: set[int] = set()
    used_divisions: set[int] = set()
    if rnd is not None:
        participation = _participation(session, rnd.id, cat, used_levels, used_divisions)
        nones = _none_answers(session, rnd.id, cat, used_levels, used_divisions)
        satisfaction = _satisfaction(session, rnd.id, cat, used_divisions)
    levels = tuple(
        item
        for _order, item in sorted(cat.levels.values(), key=lambda pair: (pair[0], pair[1].number))
        if not item.retired or item.number in used_levels
    )
    divisions = _division_items(cat, used_divisions)
    progress = tuple(
        DivisionStatus(
            division_code=p.code,
            state=str(p.state.value),
            entities=tuple(
                EntityStatus(
                    entity_code=e.code,
                    missing_levels=tuple(e.missing_levels),
                    satisfaction_mapped=e.satisfaction_mapped,
                )
                for e in p.entities
            ),
        )
        for p in round_progress(session, year)
    )
    previous = None
    if with_previous and find_round(session, year - 1) is not None:
        previous = build_snapshot(session, year - 1, with_previous=False)
    return RoundSnapshot(
        year=year,
        round_exists=rnd is not None,
        levels=levels,
        divisions=divisions,
        measurement_types=tuple(t for t in cat.types.values() if not t.retired),
        entities=tuple(item for _order, item in cat.entities.values()),
        participation=_sorted(participation),
        none_answers=_sorted(nones),
        satisfaction=_sorted(satisfaction),
        progress=progress,
        previous=previous,
    )


def _sorted(rows: Iterable[tuple[tuple[Any, ...], Any]]) -> tuple[Any, ...]:
    return tuple(item for _key, item in sorted(rows, key=lambda pair: pair[0]))


def _place(cat: _Catalog, division_id: int, entity_id: int) -> tuple[int, int]:
    """Sort position of an answer: division order, then the entity's order in it."""
    division = cat.divisions.get(division_id)
    entity = cat.entities.get(entity_id)
    return (division[0] if division else 10**6, entity[0] if entity else 10**6)


def _participation(
    session: Session,
    round_id: int,
    cat: _Catalog,
    used_levels: set[int],
    used_divisions: set[int],
) -> list[tuple[tuple[Any, ...], ParticipationItem]]:
    rows = session.execute(
        select(
            ParticipationEntry.id,
            ParticipationEntry.division_id,
            ParticipationEntry.service_entity_id,
            ParticipationEntry.level_id,
            ParticipationEntry.method_id,
            ParticipationEntry.method_text,
            ParticipationEntry.count,
            ParticipationEntry.note,
        ).where(ParticipationEntry.round_id == round_id)
    )
    result = []
    for entry_id, division_id, entity_id, level_id, method_id, text, count, note in rows:
        level = cat.levels.get(level_id)
        number = level[1].number if level else 0
        method = cat.methods.get(method_id) if method_id is not None else None
        item = ParticipationItem(
            division_code=cat.division_code(division_id),
            entity_code=cat.entity(entity_id).code,
            level_number=number,
            method=method[1] if method else None,
            method_text=text if method is None else None,
            count=int(count or 0),
            note=_text(note),
        )
        used_levels.add(number)
        used_divisions.add(division_id)
        key = (
            *_place(cat, division_id, entity_id),
            number,
            0 if method else 1,
            method[0] if method else 0,
            item.method_label().casefold(),
            entry_id,
        )
        result.append((key, item))
    return result


def _none_answers(
    session: Session,
    round_id: int,
    cat: _Catalog,
    used_levels: set[int],
    used_divisions: set[int],
) -> list[tuple[tuple[Any, ...], NoneAnswerItem]]:
    rows = session.execute(
        select(
            LevelNoneAnswer.id,
            LevelNoneAnswer.division_id,
            LevelNoneAnswer.service_entity_id,
            LevelNoneAnswer.level_id,
        ).where(LevelNoneAnswer.round_id == round_id)
    )
    result = []
    for answer_id, division_id, entity_id, level_id in rows:
        level = cat.levels.get(level_id)
        number = level[1].number if level else 0
        used_levels.add(number)
        used_divisions.add(division_id)
        item = NoneAnswerItem(cat.division_code(division_id), cat.entity(entity_id).code, number)
        result.append(((*_place(cat, division_id, entity_id), number, answer_id), item))
    return result


def _as_answered(mtype: MeasurementTypeItem, row: SatisfactionEntry) -> MeasurementTypeItem:
    """The way of measuring as the contact described it: "Muu tapa" with the name they
    gave, and a scale of their own instead of the catalog's (in the name too): the rule
    book's ``measurement_name``, as /tila and the chat write it."""
    name = Names(
        *(
            answers.measurement_name(part, mtype.scale, row.scale, row.other_name) if part else ""
            for part in (mtype.name.fi, mtype.name.sv, mtype.name.en)
        )
    )
    if name == mtype.name:
        return mtype
    return dataclasses.replace(mtype, name=name, scale=row.scale or mtype.scale)


def _satisfaction(
    session: Session, round_id: int, cat: _Catalog, used_divisions: set[int]
) -> list[tuple[tuple[Any, ...], SatisfactionItem]]:
    rows = session.execute(
        select(SatisfactionEntry).where(SatisfactionEntry.round_id == round_id)
    ).scalars()
    result = []
    for row in rows:
        mtype = cat.types.get(row.measurement_type_id) or MeasurementTypeItem(
            code="?", kind="free", scale="", name=Names(fi="?")
        )
        used_divisions.add(row.division_id)
        mtype = _as_answered(mtype, row)
        item = SatisfactionItem(
            division_code=cat.division_code(row.division_id),
            entity_code=cat.entity(row.service_entity_id).code,
            measurement=mtype,
            scale=_text(row.scale) or mtype.scale,
            frequency=_text(catalog.frequency_name(row.frequency, row.frequency_text, "fi")),
            latest_result=_text(row.latest_result),
            nps=row.nps,
            promoters=row.promoters,
            passives=row.passives,
            detractors=row.detractors,
            respondents=row.respondents,
            period=_text(row.period),
            note=_text(row.note),
        )
        type_order = cat.type_order.get(row.measurement_type_id, 10**6)
        key = (*_place(cat, row.division_id, row.service_entity_id), type_order, row.id)
        result.append((key, item))
    return result


def _division_items(cat: _Catalog, used_divisions: set[int]) -> tuple[DivisionItem, ...]:
    """Active divisions (and retired ones with answers), each with its active entities.

    Retired entities are left out of the lists because the target ("all service entities")
    is about today's organisation; their answers stay reachable via ``entity()``.
    """
    entity_ids_by_division: dict[str, list[tuple[int, ServiceEntityItem]]] = {}
    for order, item in cat.entities.values():
        if not item.retired:
            entity_ids_by_division.setdefault(item.division_code, []).append((order, item))
    result = []
    for division_id, (_order, division) in sorted(cat.divisions.items(), key=lambda p: p[1][0]):
        retired = division.retired_at is not None
        if retired and division_id not in used_divisions:
            continue
        entities = sorted(entity_ids_by_division.get(division.code, []), key=lambda p: p[0])
        result.append(
            DivisionItem(
                code=division.code,
                name=Names.from_json(division.name),
                service_entities=tuple(item for _o, item in entities),
                retired=retired,
            )
        )
    return tuple(result)


def read_snapshot(sessions: sessionmaker[Session], year: int) -> RoundSnapshot:
    """Build the snapshot in one consistent read, even while contacts keep saving.

    On PostgreSQL the read runs at REPEATABLE READ, so this year, last year and the
    progress all come from the same moment (READ COMMITTED would let a save in between
    make the LUONNOS mark disagree with the figures). On SQLite the Python driver does not
    open a transaction for reads, so one is opened explicitly: under WAL a read transaction
    sees one snapshot of the file.
    """
    with sessions() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        elif dialect == "sqlite":
            session.connection().exec_driver_sql("BEGIN")
        try:
            return build_snapshot(session, year)
        finally:
            session.rollback()


__all__ = [
    "DivisionItem",
    "DivisionStatus",
    "EntityStatus",
    "LevelItem",
    "MeasurementTypeItem",
    "MethodItem",
    "Names",
    "NoneAnswerItem",
    "ParticipationItem",
    "RoundSnapshot",
    "SatisfactionItem",
    "ServiceEntityItem",
    "build_snapshot",
    "read_snapshot",
]

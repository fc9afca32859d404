"""The reference catalog: load catalog.yaml into the database and read it back.

Loading is an idempotent upsert by ``code``. An item missing from the file is retired
(``retired_at`` set) rather than deleted, so the answers that refer to it stay intact, and
an item that comes back to the file is un-retired.

Reading is served from a copy held per process (`_Held`): the catalog changes only when
catalog.yaml is loaded (at start-up), yet re-reading it was 41 % of the statements of every
update. A load that changes anything raises the version in ``catalog_state``; each process
compares its copy's version with that row at most every `CHECK_SECONDS` (one cheap
statement, amortised over all updates) and reloads when it differs, so a replica notices
another's start-up load. A load in this process drops the copy at once (and again when its
transaction ends). The held rows are detached ORM objects: read them, never change them or
attach them to a session (refer to them by id).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from data.db import insert_for
from data.models import (
    Base,
    CatalogState,
    utcnow,
)
from data.models import CatalogMethod as CatalogMethod  # the catalog's rows, re-exported
from data.models import Division as Division
from data.models import Level as Level
from data.models import MeasurementType as MeasurementType
from data.models import ServiceEntity as ServiceEntity
from data.txstate import PerTransaction

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.yaml"
LANGS = ("fi", "sv", "en")

M = TypeVar("M", bound=Base)
V = TypeVar("V")


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the item."""


@dataclass(frozen=True)
class LoadResult:
    added: int
    updated: int
    retired: int
    unchanged: int


def _names(item: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = item.get(key)
    if not isinstance(value, dict) or not value.get("fi"):
        raise CatalogError(f"{where}: {key}.fi is required")
    return {lang: str(value.get(lang) or value["fi"]).strip() for lang in LANGS}


def _read(path: Path) -> dict[str, Any]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for section in ("levels", "divisions", "measurement_types"):
        if not isinstance(raw.get(section), list):
            raise CatalogError(f"{path.name}: section {section!r} must be a list")
    codes: set[str] = set()
    for section in ("levels", "divisions", "measurement_types"):
        for item in raw[section]:
            children = item.get("methods") or item.get("service_entities") or []
            for entry in [item, *children]:
                code = entry.get("code")
                if not code or not isinstance(code, str):
                    raise CatalogError(f"{path.name}: an item in {section} has no code")
                if code in codes:
                    raise CatalogError(f"{path.name}: code {code!r} is used twice")
                codes.add(code)
    return raw


class _Upserter:
    """Tracks what one load did, so the operator sees added/updated/retired counts."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.added = self.updated = self.unchanged = self.retired = 0
        self.seen: dict[type[Base], set[str]] = {}

    def upsert(self, model: type[M], code: str, values: dict[str, Any]) -> M:
        self.seen.setdefault(model, set()).add(code)
        row = self.session.scalar(select(model).where(model.code == code))  # type: ignore[arg-type, attr-defined]
        values = {**values, "retired_at": None}
        if row is None:
            row = model(code=code, **values)
            self.session.add(row)
            self.session.flush()
            self.added += 1
            return row
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        if changed:
            self.updated += 1
        else:
            self.unchanged += 1
        return row  # type: ignore[no-any-return]

    def retire_unseen(self, model: type[Base]) -> None:
        seen = self.seen.get(model, set())
        rows = self.session.scalars(select(model).where(model.retired_at.is_(None)))  # type: ignore[attr-defined]
        for row in rows:
            if row.code not in seen:  # type: ignore[attr-defined]
                row.retired_at = utcnow()  # type: ignore[attr-defined]
                self.retired += 1


def load_catalog(session: Session, path: Path = CATALOG_FILE) -> LoadResult:
    """Upsert the catalog file into the database (inside the caller's transaction)."""
    raw = _read(path)
    up = _Upserter(session)
    for order, item in enumerate(raw["levels"]):
        where = f"level {item['code']}"
        level = up.upsert(
            Level,
            item["code"],
            {
                "number": int(item.get("number", order + 1)),
                "name": _names(item, "name", where),
                "description": _names(item, "description", where),
                "sort_order": order,
            },
        )
        for m_order, method in enumerate(item.get("methods") or []):
            up.upsert(
                CatalogMethod,
                method["code"],
                {
                    "level_id": level.id,
                    "name": _names(method, "name", f"method {method['code']}"),
                    "sort_order": m_order,
                },
            )
    for order, item in enumerate(raw["divisions"]):
        division = up.upsert(
            Division,
            item["code"],
            {"name": _names(item, "name", f"division {item['code']}"), "sort_order": order},
        )
        for e_order, entity in enumerate(item.get("service_entities") or []):
            up.upsert(
                ServiceEntity,
                entity["code"],
                {
                    "division_id": division.id,
                    "name": _names(entity, "name", f"service entity {entity['code']}"),
                    "sort_order": e_order,
                },
            )
    for order, item in enumerate(raw["measurement_types"]):
        kind = item.get("kind")
        if kind not in {"nps", "scale", "free", "none"}:
            raise CatalogError(f"measurement type {item['code']}: kind must be nps|scale|free|none")
        up.upsert(
            MeasurementType,
            item["code"],
            {
                "kind": kind,
                "scale": str(item.get("scale") or ""),
                "scale_min": item.get("scale_min"),
                "scale_max": item.get("scale_max"),
                "name": _names(item, "name", f"measurement type {item['code']}"),
                "sort_order": order,
            },
        )
    for model in (CatalogMethod, Level, ServiceEntity, Division, MeasurementType):
        up.retire_unseen(model)
    session.flush()
    result = LoadResult(up.added, up.updated, up.retired, up.unchanged)
    _bump_version(session, changed=bool(result.added or result.updated or result.retired))
    invalidate()
    _LOADED.get(session)  # and again when the transaction ends, committed or not
    return result


def _invalidate_on_end(_session: Session, _loaded: bool) -> None:
    invalidate()


#: A transaction that loaded the catalog: the process's copy is dropped when it ends (a copy
#: read meanwhile may hold its uncommitted rows). Per transaction (``data.txstate``), not
#: a listener on the session: a worker's session serves its next transactions.
_LOADED: PerTransaction[bool] = PerTransaction(
    "data.catalog.loaded", lambda: True, at_end=_invalidate_on_end
)


def _bump_version(session: Session, *, changed: bool) -> None:
    """Raise the catalog version when the load changed anything (created at 1)."""
    table = CatalogState.__table__
    statement = insert_for(session, CatalogState).values(id=1, version=1, loaded_at=utcnow())
    if changed:
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"version": table.c.version + 1, "loaded_at": utcnow()},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["id"])
    session.execute(statement)


# --- the copy held per process -----------------------------------------------------------

#: How often a process compares its copy's version with the database's.
CHECK_SECONDS = 30.0


@dataclass
class _Held:
    """Every catalog row (retired ones too), detached, in display order, and by id."""

    version: int | None
    checked_at: float
    rows: dict[type[Base], list[Any]] = field(default_factory=dict)
    by_id: dict[type[Base], dict[int, Any]] = field(default_factory=dict)
    by_code: dict[str, Division] = field(default_factory=dict)
    methods_by_level: dict[int, list[CatalogMethod]] = field(default_factory=dict)
    entities_by_division: dict[int, list[ServiceEntity]] = field(default_factory=dict)
    #: Rounds found so far, by year (a round is created once and never removed).
    rounds: dict[int, Any] = field(default_factory=dict)
    #: Years looked up without a round, and when (trusted for `CHECK_SECONDS`).
    no_round: dict[int, float] = field(default_factory=dict)
    #: Values computed from the catalog alone (`derived`), dropped with this copy.
    derived: dict[Any, Any] = field(default_factory=dict)


_MODELS: tuple[type[Base], ...] = (Level, CatalogMethod, Division, ServiceEntity, MeasurementType)
_held: weakref.WeakKeyDictionary[Engine, _Held] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def invalidate() -> None:
    """Drop every process-held copy (after a load, or a test that edits catalog rows)."""
    with _lock:
        _held.clear()


def _stored_version(session: Session) -> int | None:
    return session.scalar(select(CatalogState.version).where(CatalogState.id == 1))


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _load_held(connection: Any, version: int | None) -> _Held:
    """Read every catalog row on the caller's connection (so a load not yet committed in
    this transaction is seen) as plain rows, made into detached objects."""
    held = _Held(version, time.monotonic())
    for model in _MODELS:
        table = model.__table__
        rows = []
        for values in connection.execute(
            table.select().order_by(table.c.sort_order, table.c.id)
        ).mappings():
            row = model(**values)
            make_transient_to_detached(row)
            rows.append(row)
        held.rows[model] = rows
        held.by_id[model] = {row.id: row for row in rows}  # type: ignore[attr-defined]
    levels = held.by_id[Level]
    divisions = held.by_id[Division]
    for level in held.rows[Level]:
        held.methods_by_level[level.id] = []
    for method in held.rows[CatalogMethod]:
        held.methods_by_level.setdefault(method.level_id, []).append(method)
        set_committed_value(method, "level", levels.get(method.level_id))
    for level in held.rows[Level]:
        set_committed_value(level, "methods", list(held.methods_by_level[level.id]))
    for division in held.rows[Division]:
        held.entities_by_division[division.id] = []
        held.by_code[division.code] = division
    for entity in held.rows[ServiceEntity]:
        held.entities_by_division.setdefault(entity.division_id, []).append(entity)
        set_committed_value(entity, "division", divisions.get(entity.division_id))
    for division in held.rows[Division]:
        set_committed_value(
            division, "service_entities", list(held.entities_by_division[division.id])
        )
    return held


def _current(session: Session) -> _Held:
    engine = _engine_of(session)
    held = _held.get(engine)
    now = time.monotonic()
    if held is not None and now - held.checked_at < CHECK_SECONDS:
        return held
    version = _stored_version(session)
    if held is not None and held.version == version:
        held.checked_at = now
        return held
    fresh = _load_held(session.connection(), version)
    with _lock:
        _held[engine] = fresh
    return fresh


def keep_fresh(session: Session) -> None:
    """Load or check this process's copy ahead of the updates: a background loop calls
    this every second or so (``delivery.outbox``), and checks when half of `CHECK_SECONDS`
    has passed, so no update pays the check (or the first load) itself."""
    held = _held.get(_engine_of(session))
    if held is None or time.monotonic() - held.checked_at >= CHECK_SECONDS / 2:
        if held is not None:
            held.checked_at = 0.0  # due now
        _current(session)


#: What `held_round` answers for a year known to have no round (recently).
NO_ROUND: Any = object()


def held_round(session: Session, year: int) -> Any:
    """The year's round if this process has seen it (a detached copy); `NO_ROUND` if it
    looked within `CHECK_SECONDS` and there was none; else None (look it up)."""
    held = _current(session)
    found = held.rounds.get(year)
    if found is not None:
        return found
    seen = held.no_round.get(year)
    if seen is not None and time.monotonic() - seen < CHECK_SECONDS:
        return NO_ROUND
    return None


def hold_no_round(session: Session, year: int) -> None:
    """Remember that the year has no round (for `CHECK_SECONDS`: another process may create
    it; this one's own `get_or_create_round` replaces it at once)."""
    held = _held.get(_engine_of(session))
    if held is not None:
        held.no_round[year] = time.monotonic()


def forget_no_round(session: Session, year: int) -> None:
    held = _held.get(_engine_of(session))
    if held is not None:
        held.no_round.pop(year, None)


def hold_round(session: Session, rnd: Any) -> None:
    """Remember a round that exists (committed or about to be, in this transaction)."""
    held = _held.get(_engine_of(session))
    if held is None:
        return  # nothing held yet: the next update reads the round once
    copy = type(rnd)(id=rnd.id, year=rnd.year, created_at=rnd.created_at)
    make_transient_to_detached(copy)
    held.rounds[rnd.year] = copy
    held.no_round.pop(rnd.year, None)


def get(session: Session, model: type[M], row_id: int) -> M | None:
    """A catalog row by id (retired ones too), from the process-held copy."""
    return _current(session).by_id[model].get(int(row_id))


# --- reading ---------------------------------------------------------------------------


def derived(session: Session, key: Any, build: Callable[[], V]) -> V:
    """A value computed from the catalog alone (``build``: no person's data, no database
    read), held with the process's copy under ``key`` and dropped with it when the
    catalog changes — e.g. a level's list of method names in a language, which every
    update of a level question would otherwise compute again. Treat it as read-only."""
    held = _current(session)
    try:
        return cast(V, held.derived[key])
    except KeyError:
        value = held.derived[key] = build()
        return value


def _listed(held: _Held, key: Any, rows: list[Any], include_retired: bool) -> list[Any]:
    """The rows, or the active ones (computed once per copy); a fresh list to the caller."""
    if include_retired:
        return list(rows)
    active = held.derived.get(("active", key))
    if active is None:
        active = held.derived[("active", key)] = [row for row in rows if row.retired_at is None]
    return list(active)


def levels(session: Session, *, include_retired: bool = False) -> list[Level]:
    held = _current(session)
    return _listed(held, Level, held.rows[Level], include_retired)


def methods_for_level(
    session: Session, level_id: int, *, include_retired: bool = False
) -> list[CatalogMethod]:
    held = _current(session)
    rows = held.methods_by_level.get(level_id, [])
    return _listed(held, ("methods", level_id), rows, include_retired)


def divisions(session: Session, *, include_retired: bool = False) -> list[Division]:
    held = _current(session)
    return _listed(held, Division, held.rows[Division], include_retired)


def service_entities(
    session: Session, division_id: int | None = None, *, include_retired: bool = False
) -> list[ServiceEntity]:
    held = _current(session)
    rows = (
        held.rows[ServiceEntity]
        if division_id is None
        else held.entities_by_division.get(division_id, [])
    )
    return _listed(held, ("entities", division_id), rows, include_retired)


def measurement_types(session: Session, *, include_retired: bool = False) -> list[MeasurementType]:
    held = _current(session)
    return _listed(held, MeasurementType, held.rows[MeasurementType], include_retired)


def division_by_code(session: Session, code: str) -> Division | None:
    return _current(session).by_code.get(code.upper())


@dataclass(frozen=True)
class Frequency:
    """A choice of "how often is it measured": the code is stored, the name is shown."""

    code: str
    name: dict[str, str]


#: The code of a frequency typed in the person's own words (the text is stored beside it).
OTHER_FREQUENCY = "other"


@cache
def frequencies(path: Path = CATALOG_FILE) -> tuple[Frequency, ...]:
    """The frequency choices of catalog.yaml, in order (read once per process)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("frequencies") or []
    return tuple(
        Frequency(str(item["code"]), _names(item, "name", f"frequency {item.get('code')}"))
        for item in items
    )


def name_of_choice(names: dict[str, str], lang: str) -> str:
    """A YAML-only choice's name in the language, falling back to Finnish."""
    return names.get(lang) or names["fi"]


def frequency_name(code: str | None, text: str | None, lang: str) -> str:
    """How a stored frequency reads: the catalog name of its code, or the typed text."""
    for item in frequencies():
        if item.code == code:
            return name_of_choice(item.name, lang)
    return text or ""


def by_id(session: Session, model: type[M], row_id: int) -> M | None:
    return get(session, model, row_id)


def name_of(
    item: Level | CatalogMethod | Division | ServiceEntity | MeasurementType, lang: str
) -> str:
    """The item's name in the language, falling back to Finnish."""
    return item.name.get(lang) or item.name["fi"]


def frequency_code(value: str | None) -> str | None:
    """The code a frequency choice is known by: its code, or its name in any language
    (casefolded); None for anything else, which the chat stores as typed text."""
    if not value:
        return None
    folded = " ".join(value.split()).casefold()
    for item in frequencies():
        if folded == item.code.casefold() or folded in {
            name.casefold() for name in item.name.values()
        }:
            return item.code
    return None

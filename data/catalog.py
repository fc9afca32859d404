"""The reference catalog: load catalog.yaml into the database and read it back.

Loading is an idempotent upsert by ``code``. An item missing from the file is retired
(``retired_at`` set) rather than deleted, so the answers that refer to it stay intact, and
an item that comes back to the file is un-retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    Base,
    CatalogMethod,
    Division,
    Level,
    MeasurementType,
    ServiceEntity,
    utcnow,
)

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.yaml"
LANGS = ("fi", "sv", "en")

M = TypeVar("M", bound=Base)


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
        row = self.session.scalar(select(model).where(model.code == code))  # type: ignore[attr-defined]
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
        return row

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
    return LoadResult(up.added, up.updated, up.retired, up.unchanged)


# --- reading ---------------------------------------------------------------------------


def _active(model: type[M], include_retired: bool) -> Any:
    query = select(model).order_by(model.sort_order, model.id)  # type: ignore[attr-defined]
    if not include_retired:
        query = query.where(model.retired_at.is_(None))  # type: ignore[attr-defined]
    return query


def levels(session: Session, *, include_retired: bool = False) -> list[Level]:
    return list(session.scalars(_active(Level, include_retired)))


def methods_for_level(
    session: Session, level_id: int, *, include_retired: bool = False
) -> list[CatalogMethod]:
    query = _active(CatalogMethod, include_retired).where(CatalogMethod.level_id == level_id)
    return list(session.scalars(query))


def divisions(session: Session, *, include_retired: bool = False) -> list[Division]:
    return list(session.scalars(_active(Division, include_retired)))


def service_entities(
    session: Session, division_id: int | None = None, *, include_retired: bool = False
) -> list[ServiceEntity]:
    query = _active(ServiceEntity, include_retired)
    if division_id is not None:
        query = query.where(ServiceEntity.division_id == division_id)
    return list(session.scalars(query))


def measurement_types(session: Session, *, include_retired: bool = False) -> list[MeasurementType]:
    return list(session.scalars(_active(MeasurementType, include_retired)))


def division_by_code(session: Session, code: str) -> Division | None:
    return session.scalar(select(Division).where(Division.code == code.upper()))


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
    return session.get(model, row_id)


def name_of(
    item: Level | CatalogMethod | Division | ServiceEntity | MeasurementType, lang: str
) -> str:
    """The item's name in the language, falling back to Finnish."""
    return item.name.get(lang) or item.name["fi"]

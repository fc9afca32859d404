"""What a valid file changes against what is stored, the summary of it, and saving it.

The change set holds, per service entity, the complete new answers of each part (the
participation levels, the satisfaction mapping) that differ from the stored ones; parts that
are equal are left out, so an unchanged file saves nothing and writes no audit row. Saving
goes through ``data.reports.save_participation`` / ``save_satisfaction`` — the chat's own
save functions — entity by entity in the caller's one transaction, with the source "excel".

The change set is plain JSON so it can wait in the person's draft row between the check and
the "Save" press, in any process. It carries the version (``data.reports.entity_versions``)
of each entity it changes, read before the stored answers it was computed against: if any of
them moved in between (a save in the chat or the Mini App), saving is refused before anything
is written. A change set from a release without versions is checked by its digest of the
division's stored answers instead (still written, for that release).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from data import answers, catalog, reports
from data.limits import NPS_RANGE
from data.models import CatalogMethod, Division, Level, MeasurementType, Person, ServiceEntity
from i18n import formats, gettext_for
from sheets import files
from sheets import messages as m
from sheets.reader import Parsed


@dataclass
class EntityChange:
    """One service entity's new answers (None = that part unchanged) and the counts."""

    entity_id: int
    participation: list[dict[str, Any]] | None = None
    satisfaction: list[dict[str, Any]] | None = None
    p_counts: tuple[int, int, int] = (0, 0, 0)  # added, changed, removed
    s_counts: tuple[int, int, int] = (0, 0, 0)


@dataclass
class ChangeSet:
    division_id: int
    year: int
    basis: str  # digest of the stored answers the changes were computed against
    unchecked: int = 0
    entities: list[EntityChange] = field(default_factory=list)
    #: entity id → version of its answers when checked (changed entities only); None in a
    #: change set made by a release that recorded no versions.
    versions: dict[int, int] | None = None

    @property
    def empty(self) -> bool:
        return not self.entities

    def to_json(self) -> dict[str, Any]:
        return {
            "division_id": self.division_id,
            "year": self.year,
            "basis": self.basis,
            "unchecked": self.unchecked,
            "versions": None
            if self.versions is None
            else {str(k): v for k, v in self.versions.items()},
            "entities": [
                {
                    "entity_id": e.entity_id,
                    "participation": e.participation,
                    "satisfaction": e.satisfaction,
                    "p_counts": list(e.p_counts),
                    "s_counts": list(e.s_counts),
                }
                for e in self.entities
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeSet:
        return cls(
            division_id=int(data["division_id"]),
            year=int(data["year"]),
            basis=str(data["basis"]),
            unchecked=int(data.get("unchecked", 0)),
            versions=None
            if data.get("versions") is None
            else {int(k): int(v) for k, v in data["versions"].items()},
            entities=[
                EntityChange(
                    entity_id=int(e["entity_id"]),
                    participation=e["participation"],
                    satisfaction=e["satisfaction"],
                    p_counts=tuple(e["p_counts"]),
                    s_counts=tuple(e["s_counts"]),
                )
                for e in data["entities"]
            ],
        )


# --- comparing ----------------------------------------------------------------------------


def _p_key(answer: dict[str, Any]) -> tuple[Any, ...]:
    if answer.get("none"):
        return (answer["level_id"], "none")
    return (
        answer["level_id"],
        answers.method_key(answer.get("method_id"), answer.get("method_text")),
    )


def _p_value(answer: dict[str, Any]) -> tuple[Any, ...]:
    if answer.get("none"):
        return ()
    return (answer.get("method_text") or None, int(answer["count"]), answer.get("note") or None)


def _s_value(answer: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, v if v != "" else None) for k, v in answer.items()))


def _diff(
    old: list[dict[str, Any]], new: list[dict[str, Any]], key: Any, value: Any
) -> tuple[int, int, int]:
    """(added, changed, removed) between two answer lists matched by ``key``."""
    old_by = {key(a): value(a) for a in old}
    new_by = {key(a): value(a) for a in new}
    added = sum(1 for k in new_by if k not in old_by)
    removed = sum(1 for k in old_by if k not in new_by)
    changed = sum(1 for k, v in new_by.items() if k in old_by and old_by[k] != v)
    return added, changed, removed


def _stored(session: Session, year: int, entities: list[ServiceEntity]) -> dict[str, Any]:
    return {
        str(e.id): {
            "p": [a.to_dict() for a in reports.participation_for_year(session, year, e.id)],
            "s": [a.to_dict() for a in reports.satisfaction_for_year(session, year, e.id)],
        }
        for e in entities
    }


def part_digests(
    participation: list[dict[str, Any]], satisfaction: list[dict[str, Any]]
) -> tuple[str, str]:
    """A digest of each part of one entity's answers, compared as `compute` compares them
    (so the stored answers and a file that leaves them as they were digest alike)."""
    p = sorted(repr((_p_key(a), _p_value(a))) for a in participation)
    s = sorted(repr((a["measurement_type_id"], _s_value(a))) for a in satisfaction)
    return _short_digest(p), _short_digest(s)


def _short_digest(part: list[str]) -> str:
    return hashlib.sha256(json.dumps(part).encode()).hexdigest()[:16]


def _digest(stored: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(stored, sort_keys=True, default=str).encode()).hexdigest()


def stored_digest(session: Session, division: Division, year: int) -> str:
    """Digest of the division's stored answers in the year (to notice changes meanwhile)."""
    return _digest(_stored(session, year, catalog.service_entities(session, division.id)))


def compute(session: Session, parsed: Parsed) -> ChangeSet:
    """The changes a valid file makes to the stored answers (``parsed`` has no errors).

    An entity saved elsewhere after the workbook was made (its version is not the one the
    workbook recorded): the parts the file leaves as they were exported are not changes —
    the file would put someone's older answers back over a confirmed save — and a part the
    file changes too refuses the whole file (`files.Rejection`), naming the entities."""
    entities = catalog.service_entities(session, parsed.division.id)
    # Versions first: a save committed between the two reads then refuses this change set
    # at "Save" instead of being overwritten by it.
    based_on = reports.entity_versions(session, parsed.year, [e.id for e in entities])
    stored = _stored(session, parsed.year, entities)
    changes = ChangeSet(parsed.division.id, parsed.year, _digest(stored), parsed.unchecked)
    conflicts: list[str] = []
    for entity in entities:
        old = stored[str(entity.id)]
        change = EntityChange(entity.id)
        new_p = parsed.participation.get(entity.id, [])
        p_counts = _diff(old["p"], new_p, _p_key, _p_value)
        new_s = [
            reports.SatisfactionAnswer(**a).to_dict()
            for a in parsed.satisfaction.get(entity.id, [])
        ]
        s_counts = _diff(old["s"], new_s, lambda a: a["measurement_type_id"], _s_value)
        made = parsed.exported.get(entity.id)
        if (
            made is not None
            and made.version != based_on[entity.id]
            and (any(p_counts) or any(s_counts))
        ):
            # Saved elsewhere since the workbook was made: a part the file leaves as it was
            # then is the older answers, not a change; a part the file changes too is a
            # conflict (either way round, someone's saved answers would be lost).
            p_digest, s_digest = part_digests(new_p, new_s)
            edited = False
            if any(p_counts):
                if p_digest == made.participation:
                    p_counts = (0, 0, 0)
                else:
                    edited = True
            if any(s_counts):
                if s_digest == made.satisfaction:
                    s_counts = (0, 0, 0)
                else:
                    edited = True
            if edited:
                conflicts.append(parsed.sheet_names.get(entity.id, catalog.name_of(entity, "fi")))
                continue
        if any(p_counts):
            change.participation, change.p_counts = new_p, p_counts
        if any(s_counts):
            change.satisfaction, change.s_counts = new_s, s_counts
        if change.participation is not None or change.satisfaction is not None:
            changes.entities.append(change)
    if conflicts:
        raise files.reject(m.FILE_CHANGED_SINCE_MADE, entities=", ".join(conflicts))
    changes.versions = {e.entity_id: based_on[e.entity_id] for e in changes.entities}
    return changes


# --- telling -------------------------------------------------------------------------------


def summary(session: Session, changes: ChangeSet, language: str) -> str:
    """The change summary in ``language``: per service entity, added / changed / removed."""
    _ = gettext_for(language)
    division = catalog.by_id(session, Division, changes.division_id)
    assert division is not None
    names = {
        e.id: catalog.name_of(e, language) for e in catalog.service_entities(session, division.id)
    }
    division_name = catalog.name_of(division, language)
    if changes.empty:
        lines = [_(m.SUMMARY_NO_CHANGES).format(division=division_name, year=changes.year)]
    else:
        lines = [_(m.SUMMARY_HEADER).format(division=division_name, year=changes.year)]
        for change in changes.entities:
            parts = []
            if change.participation is not None:
                added, changed, removed = change.p_counts
                parts.append(
                    _(m.SUMMARY_PARTICIPATION).format(added=added, changed=changed, removed=removed)
                )
            if change.satisfaction is not None:
                added, changed, removed = change.s_counts
                parts.append(
                    _(m.SUMMARY_SATISFACTION).format(added=added, changed=changed, removed=removed)
                )
            lines.append(f"• {names.get(change.entity_id, '?')}: {'; '.join(parts)}")
            lines += _details(session, changes.year, change, language)
        if len(lines) > SUMMARY_LINES:  # one Telegram message: the rest are counted above
            more = len(lines) - SUMMARY_LINES
            lines = [*lines[:SUMMARY_LINES], _(m.SUMMARY_MORE).format(count=more)]
    if changes.unchecked:
        mark = _(m.MARK).format(year=changes.year - 1)
        lines.append("")
        lines.append(_(m.SUMMARY_UNCHECKED).format(count=changes.unchecked, mark=mark))
    if not changes.empty:
        lines.append("")
        lines.append(_(m.SUMMARY_ASK))
    return "\n".join(lines)


#: The change summary's longest list of changes (it must fit one Telegram message).
SUMMARY_LINES = 60


def _p_where(session: Session, language: str, answer: dict[str, Any]) -> str:
    level = session.get(Level, int(answer["level_id"]))
    where = gettext_for(language)(m.SUMMARY_LEVEL).format(number=level.number if level else "?")
    if answer.get("none"):
        return where
    method = session.get(CatalogMethod, answer["method_id"]) if answer.get("method_id") else None
    name = catalog.name_of(method, language) if method else str(answer.get("method_text") or "")
    return f"{where} {name}"


def _p_text(language: str, answer: dict[str, Any]) -> str:
    if answer.get("none"):
        return gettext_for(language)(m.NO_METHODS)
    text = formats.format_count(int(answer["count"]), language)
    return f"{text} ({answer['note']})" if answer.get("note") else text


def _s_parts(language: str, answer: dict[str, Any]) -> dict[str, str]:
    """The satisfaction answer's parts as the workbook's columns name them."""
    _ = gettext_for(language)
    frequency = catalog.frequency_name(
        answer.get("frequency"), answer.get("frequency_text"), language
    )
    values = {
        _(m.H_OTHER_NAME): answer.get("other_name"),
        _(m.H_SCALE): answer.get("scale"),
        _(m.H_FREQUENCY): frequency or None,
        _(m.H_NPS).format(range=formats.format_range(NPS_RANGE, language)): (
            formats.format_nps(int(answer["nps"]), language)
            if answer.get("nps") is not None
            else None
        ),
        _(m.H_PROMOTERS): answer.get("promoters"),
        _(m.H_PASSIVES): answer.get("passives"),
        _(m.H_DETRACTORS): answer.get("detractors"),
        _(m.H_RESPONDENTS): answer.get("respondents"),
        _(m.H_RESULT): answer.get("latest_result"),
        _(m.H_PERIOD): answer.get("period"),
    }
    return {
        key: formats.format_count(value, language) if isinstance(value, int) else str(value)
        for key, value in values.items()
        if value not in (None, "")
    }


def _details(session: Session, year: int, change: EntityChange, language: str) -> list[str]:
    """Each change of one entity, old → new, so it can be checked before saving (item 14)."""
    _ = gettext_for(language)
    lines: list[str] = []
    if change.participation is not None:
        stored = reports.participation_for_year(session, year, change.entity_id)
        old = {_p_key(a): a for a in (s.to_dict() for s in stored)}
        new = {_p_key(a): a for a in change.participation}
        for key, answer in new.items():
            where = _p_where(session, language, answer)
            if key not in old:
                lines.append(_(m.SUMMARY_ADDED).format(where=where, new=_p_text(language, answer)))
            elif _p_value(old[key]) != _p_value(answer):
                lines.append(
                    _(m.SUMMARY_CHANGED).format(
                        where=where,
                        old=_p_text(language, old[key]),
                        new=_p_text(language, answer),
                    )
                )
        for key, answer in old.items():
            if key not in new:
                where = _p_where(session, language, answer)
                lines.append(
                    _(m.SUMMARY_REMOVED).format(where=where, old=_p_text(language, answer))
                )
    if change.satisfaction is not None:
        old_s = {
            a.measurement_type_id: a.to_dict()
            for a in reports.satisfaction_for_year(session, year, change.entity_id)
        }
        new_s = {int(a["measurement_type_id"]): a for a in change.satisfaction}
        for type_id in [*new_s, *(t for t in old_s if t not in new_s)]:
            mtype = session.get(MeasurementType, type_id)
            where = catalog.name_of(mtype, language) if mtype else "?"
            before = _s_parts(language, old_s[type_id]) if type_id in old_s else None
            after = _s_parts(language, new_s[type_id]) if type_id in new_s else None
            if before is None and after is not None:
                shown = "; ".join(f"{k} {v}" for k, v in after.items()) or "✓"
                lines.append(_(m.SUMMARY_ADDED).format(where=where, new=shown))
            elif after is None and before is not None:
                shown = "; ".join(f"{k} {v}" for k, v in before.items()) or "✓"
                lines.append(_(m.SUMMARY_REMOVED).format(where=where, old=shown))
            elif before is not None and after is not None and before != after:
                for part in [*after, *(k for k in before if k not in after)]:
                    if before.get(part) != after.get(part):
                        lines.append(
                            _(m.SUMMARY_CHANGED).format(
                                where=f"{where}, {part}",
                                old=before.get(part, "–"),
                                new=after.get(part, "–"),
                            )
                        )
    return lines


def error_list(parsed: Parsed, language: str, *, limit: int = 20) -> str:
    """The first ``limit`` cell errors, one per line, then "… and N more"."""
    _ = gettext_for(language)
    lines = [_(m.CELL_ERRORS_HEADER).format(count=len(parsed.errors))]
    lines += [error.text(_) for error in parsed.errors[:limit]]
    if len(parsed.errors) > limit:
        rest = len(parsed.errors) - limit
        lines.append(
            _(m.CELL_ERRORS_ONE_MORE if rest == 1 else m.CELL_ERRORS_MORE).format(count=rest)
        )
    return "\n".join(lines)


# --- saving --------------------------------------------------------------------------------


class StoredChanged(RuntimeError):
    """An entity the file changes was changed elsewhere after the file was checked: check
    the file again."""


def apply(session: Session, person: Person, changes: ChangeSet) -> int:
    """Save the change set as ``person`` in the caller's transaction; the entities saved.

    Raises ``reports.ReportLocked`` (submitted meanwhile), ``reports.AccessDenied`` and
    `StoredChanged`; the caller rolls the transaction back, so nothing is half saved.
    """
    division = catalog.by_id(session, Division, changes.division_id)
    assert division is not None
    if changes.versions is None:  # checked by a release that recorded no versions
        if stored_digest(session, division, changes.year) != changes.basis:
            raise StoredChanged
    else:
        # Every changed entity's version locked and compared before the first write.
        try:
            reports.check_versions(session, changes.year, changes.versions)
        except reports.ChangedElsewhere as conflict:
            raise StoredChanged from conflict
    for change in changes.entities:
        if change.participation is not None:
            reports.save_participation(
                session,
                person,
                changes.year,
                change.entity_id,
                [reports.ParticipationAnswer(**a) for a in change.participation],
                source="excel",
            )
        if change.satisfaction is not None:
            reports.save_satisfaction(
                session,
                person,
                changes.year,
                change.entity_id,
                [reports.SatisfactionAnswer(**a) for a in change.satisfaction],
                source="excel",
            )
    return len(changes.entities)

"""The numbers every document shows, computed once from a snapshot.

Keeping the arithmetic here (not in each document module) guarantees that the list text,
the Excel attachments and the slide agree to the last digit, and that this year and last
year are counted the same way for the "change from last year" table.

Definitions (the same in every document; the wording file states them once as
``definitions.tapa`` and ``definitions.lkm``):
- a *method* (tapa) is one reported participation entry: a method used in one service
  entity; *distinct methods* (eri tapoja) count each method name once;
- its *count* (Lkm) is the number the division gave (events, feedback messages,
  proposals …). Counts of different methods are in different units, so they are never
  added up across methods;
- a service entity *uses methods at a level* when it reported at least one method there
  (the explicit "no methods" answer and no answer both count as not using);
- coverage is measured against the active service entities of the active divisions — the
  target is "methods widely in use in all service entities".
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from data.snapshot import RoundSnapshot, SatisfactionItem


@dataclass(frozen=True, slots=True)
class Cell:
    """Methods, their total count (Lkm) and the service entities using them, in one group."""

    methods: int = 0
    count: int = 0
    entities: int = 0


@dataclass(frozen=True, slots=True)
class MatrixLine:
    """One line of the source slide's matrix: a method in a division at a level."""

    label: str
    count: int
    entity_codes: tuple[str, ...]
    from_catalog: bool


@dataclass(frozen=True, slots=True)
class NpsResult:
    division_code: str
    entity_code: str
    score: int
    respondents: int | None
    period: str
    from_counts: bool


@dataclass(frozen=True)
class ParticipationFigures:
    levels: tuple[int, ...]
    methods: int
    count: int
    by_division_level: Mapping[tuple[str, int], Cell]
    by_division: Mapping[str, Cell]
    by_level: Mapping[int, Cell]
    entities_total: int
    entities_by_division: Mapping[str, int]
    entities_with: int
    entities_all_levels: int
    entities_with_by_division: Mapping[str, int]
    entities_all_by_division: Mapping[str, int]
    # entity code -> level -> methods reported (0 = explicit "none"); absent = no answer
    coverage: Mapping[str, Mapping[int, int]]
    matrix: Mapping[tuple[str, int], tuple[MatrixLine, ...]]
    # division -> up to three (method, service entities using it, Lkm), most used first
    top_methods: Mapping[str, tuple[tuple[str, int, int], ...]]
    # (division or None, level or None) -> distinct method names; None = all
    distinct: Mapping[tuple[str | None, int | None], int] = field(default_factory=dict)

    def distinct_methods(self, division: str | None = None, level: int | None = None) -> int:
        """How many different methods (by name) were reported in the group."""
        return self.distinct.get((division, level), 0)


@dataclass(frozen=True)
class DivisionSatisfaction:
    entities: int = 0
    measuring: int = 0
    not_measured: int = 0
    unanswered: int = 0
    types: tuple[tuple[str, int], ...] = ()
    nps: tuple[NpsResult, ...] = ()

    @property
    def nps_low(self) -> int | None:
        return min((r.score for r in self.nps), default=None)

    @property
    def nps_high(self) -> int | None:
        return max((r.score for r in self.nps), default=None)


@dataclass(frozen=True)
class SatisfactionFigures:
    by_division: Mapping[str, DivisionSatisfaction]
    total: DivisionSatisfaction
    # entity code -> its satisfaction rows (for the mapping sheet)
    rows_by_entity: Mapping[str, tuple[SatisfactionItem, ...]] = field(repr=False)

    @property
    def nps_scores(self) -> list[int]:
        return [r.score for r in self.total.nps]

    @property
    def nps_median(self) -> float | None:
        scores = self.nps_scores
        return statistics.median(scores) if scores else None


@dataclass(frozen=True)
class Figures:
    participation: ParticipationFigures
    satisfaction: SatisfactionFigures


@dataclass(slots=True)
class _LineSum:
    """Accumulates one matrix line while the entries stream past."""

    order: int
    from_catalog: bool
    count: int = 0
    entities: dict[str, None] = field(default_factory=dict)  # ordered set


def compute(snapshot: RoundSnapshot) -> Figures:
    """The figures of ``snapshot``; the last result is kept for the same snapshot object,
    since every document of a package (each with its own context) asks for them."""
    global _last
    last = _last
    if last is not None and last[0] is snapshot:
        return last[1]
    figures = Figures(_participation(snapshot), _satisfaction(snapshot))
    _last = (snapshot, figures)
    return figures


_last: tuple[RoundSnapshot, Figures] | None = None


def _participation(snap: RoundSnapshot) -> ParticipationFigures:
    levels = tuple(lvl.number for lvl in snap.levels)
    active = {e.code: d.code for d in snap.divisions for e in d.service_entities}
    methods: Counter[tuple[str, int]] = Counter()
    counts: Counter[tuple[str, int]] = Counter()
    coverage: dict[str, dict[int, int]] = defaultdict(dict)
    lines: dict[tuple[str, int], dict[str, _LineSum]] = defaultdict(dict)
    catalog_order = {m.code: i for lvl in snap.levels for i, m in enumerate(lvl.examples)}
    by_method: dict[str, Counter[str]] = defaultdict(Counter)
    by_method_entities: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    names: dict[tuple[str | None, int | None], set[str]] = defaultdict(set)
    for item in snap.participation:
        key = (item.division_code, item.level_number)
        methods[key] += 1
        counts[key] += item.count
        per_entity = coverage[item.entity_code]
        per_entity[item.level_number] = per_entity.get(item.level_number, 0) + 1
        label = item.method_label("fi")
        line = lines[key].get(label)
        if line is None:
            order = catalog_order.get(item.method.code, 10**6) if item.method else 10**6
            line = lines[key][label] = _LineSum(order=order, from_catalog=item.from_catalog)
        line.count += item.count
        line.entities[item.entity_code] = None
        by_method[item.division_code][label] += item.count
        by_method_entities[item.division_code][label].add(item.entity_code)
        for group in (
            (item.division_code, item.level_number),
            (item.division_code, None),
            (None, item.level_number),
            (None, None),
        ):
            names[group].add(label.casefold())
    for answer in snap.none_answers:
        coverage[answer.entity_code].setdefault(answer.level_number, 0)

    def entities_using(division: str | None, level: int | None) -> int:
        return sum(
            1
            for code, div in active.items()
            if (division is None or div == division)
            and any(
                n > 0 and (level is None or lvl == level)
                for lvl, n in coverage.get(code, {}).items()
            )
        )

    def all_levels(division: str | None) -> int:
        return sum(
            1
            for code, div in active.items()
            if (division is None or div == division)
            and levels
            and all(coverage.get(code, {}).get(lvl, 0) > 0 for lvl in levels)
        )

    division_codes = [d.code for d in snap.divisions]
    for item in snap.participation:  # divisions only seen in answers (unknown codes)
        if item.division_code not in division_codes:
            division_codes.append(item.division_code)
    by_division_level = {
        (div, lvl): Cell(methods[(div, lvl)], counts[(div, lvl)], entities_using(div, lvl))
        for div in division_codes
        for lvl in levels
    }
    by_division = {
        div: Cell(
            sum(methods[(div, lvl)] for lvl in levels),
            sum(counts[(div, lvl)] for lvl in levels),
            entities_using(div, None),
        )
        for div in division_codes
    }
    by_level = {
        lvl: Cell(
            sum(methods[(div, lvl)] for div in division_codes),
            sum(counts[(div, lvl)] for div in division_codes),
            entities_using(None, lvl),
        )
        for lvl in levels
    }
    entity_rank = {code: i for i, code in enumerate(active)}
    matrix = {
        key: tuple(
            MatrixLine(
                label=label,
                count=acc.count,
                entity_codes=tuple(sorted(acc.entities, key=lambda c: entity_rank.get(c, 10**6))),
                from_catalog=acc.from_catalog,
            )
            for label, acc in sorted(
                found.items(), key=lambda pair: (pair[1].order, pair[0].casefold(), pair[0])
            )
        )
        for key, found in lines.items()
    }
    top_methods = {
        div: tuple(
            sorted(
                (
                    (label, len(by_method_entities[div][label]), count)
                    for label, count in found.items()
                ),
                key=lambda p: (-p[1], -p[2], p[0].casefold()),
            )[:3]
        )
        for div, found in by_method.items()
    }
    return ParticipationFigures(
        levels=levels,
        methods=sum(methods.values()),
        count=sum(counts.values()),
        by_division_level=by_division_level,
        by_division=by_division,
        by_level=by_level,
        entities_total=len(active),
        entities_by_division={d.code: len(d.service_entities) for d in snap.divisions},
        entities_with=entities_using(None, None),
        entities_all_levels=all_levels(None),
        entities_with_by_division={d: entities_using(d, None) for d in division_codes},
        entities_all_by_division={d: all_levels(d) for d in division_codes},
        coverage={code: dict(per) for code, per in coverage.items()},
        matrix=matrix,
        top_methods=top_methods,
        distinct={group: len(found) for group, found in names.items()},
    )


def _satisfaction(snap: RoundSnapshot) -> SatisfactionFigures:
    rows: dict[str, list[SatisfactionItem]] = defaultdict(list)
    for item in snap.satisfaction:
        rows[item.entity_code].append(item)
    by_division: dict[str, DivisionSatisfaction] = {}
    for division in snap.divisions:
        by_division[division.code] = _division_satisfaction(
            [e.code for e in division.service_entities], rows
        )
    all_entities = [e.code for d in snap.divisions for e in d.service_entities]
    total = _division_satisfaction(all_entities, rows)
    return SatisfactionFigures(
        by_division=by_division,
        total=total,
        rows_by_entity={code: tuple(items) for code, items in rows.items()},
    )


def _division_satisfaction(
    entity_codes: list[str], rows: Mapping[str, list[SatisfactionItem]]
) -> DivisionSatisfaction:
    measuring = not_measured = unanswered = 0
    types: Counter[str] = Counter()
    nps: list[NpsResult] = []
    for code in entity_codes:
        items = rows.get(code, [])
        if not items:
            unanswered += 1
            continue
        measured = [i for i in items if i.measurement.measures]
        if not measured:
            not_measured += 1
            continue
        measuring += 1
        for name in dict.fromkeys(i.measurement.name.fi for i in measured):
            types[name] += 1
        for item in measured:
            score = item.nps_score
            if score is not None:
                nps.append(
                    NpsResult(
                        division_code=item.division_code,
                        entity_code=code,
                        score=score,
                        respondents=item.respondent_count,
                        period=item.period,
                        from_counts=item.nps_from_counts,
                    )
                )
    return DivisionSatisfaction(
        entities=len(entity_codes),
        measuring=measuring,
        not_measured=not_measured,
        unanswered=unanswered,
        types=tuple(sorted(types.items(), key=lambda p: (-p[1], p[0]))),
        nps=tuple(nps),
    )

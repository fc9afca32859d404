"""The workbook's fixed shape: sheets, columns, the hidden meta sheet and the structure checksum.

One sheet per service entity (levels × answer rows), one sheet for satisfaction (service
entities × answer rows) and a very hidden sheet ``_meta`` with the template version, the
division, the round, the language, the row layout and a checksum of everything that is not
an answer cell. The same code computes the checksum when the workbook is written and when
it comes back, so any change to a fixed cell, a sheet or a row order is noticed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from data import catalog
from data.models import CatalogMethod, Division, Level, MeasurementType, ServiceEntity

TEMPLATE_VERSION = 1
META_SHEET = "_meta"
HEADER_ROW = 6
FIRST_ROW = 7
MAX_SHEET_NAME = 31

# Participation sheet columns (1-based).
P_LEVEL, P_METHOD, P_OWN, P_COUNT, P_NOTE, P_MARK = range(1, 7)
P_ANSWER_COLUMNS = (P_METHOD, P_OWN, P_COUNT, P_NOTE, P_MARK)
# Satisfaction sheet columns.
(
    S_ENTITY,
    S_TYPE,
    S_OTHER,
    S_SCALE,
    S_FREQUENCY,
    S_NPS,
    S_PROMOTERS,
    S_PASSIVES,
    S_DETRACTORS,
    S_RESPONDENTS,
    S_RESULT,
    S_PERIOD,
    S_MARK,
) = range(1, 14)
S_ANSWER_COLUMNS = tuple(range(S_TYPE, S_MARK + 1))

MIN_LEVEL_ROWS = 4  # empty answer rows offered at each level, at least
EXTRA_LEVEL_ROWS = 2  # empty rows after the prefilled ones
MIN_ENTITY_ROWS = 3
EXTRA_ENTITY_ROWS = 1


@dataclass(frozen=True)
class Reference:
    """The catalog as the workbook needs it, for one division."""

    division: Division
    entities: list[ServiceEntity]
    levels: list[Level]
    methods: dict[int, list[CatalogMethod]]  # level id → methods
    types: list[MeasurementType]
    frequencies: list[catalog.Frequency]

    @classmethod
    def load(cls, session: Session, division: Division) -> Reference:
        levels = catalog.levels(session)
        return cls(
            division=division,
            entities=catalog.service_entities(session, division.id),
            levels=levels,
            methods={lvl.id: catalog.methods_for_level(session, lvl.id) for lvl in levels},
            types=catalog.measurement_types(session),
            frequencies=catalog.frequencies(),  # type: ignore[arg-type]
        )

    @property
    def not_measured(self) -> MeasurementType | None:
        return next((t for t in self.types if t.kind == "none"), None)


@dataclass
class Layout:
    """Which row of which sheet holds what: written to ``_meta`` and read back."""

    version: int
    division: str
    year: int
    language: str
    #: entity code → (sheet name, level code of each answer row from FIRST_ROW on)
    participation: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    satisfaction_sheet: str = ""
    #: entity code of each answer row of the satisfaction sheet, from FIRST_ROW on
    satisfaction_rows: list[str] = field(default_factory=list)

    #: The layout text as read from a workbook's ``_meta`` (None for one being built): the
    #: checksum covers the text the file holds, whichever of the two forms below it has.
    source_json: str | None = None

    def to_json(self) -> str:
        """The layout as one ``_meta`` cell: each sheet's level codes run-length encoded
        (``[["L1", 250], ["L2", 4], …]``), so 20 000 answer rows fit in a cell easily (an
        Excel cell holds at most 32 767 characters; one code per row overflowed it at about
        8 000 answers and the bot then refused its own export)."""
        if self.source_json is not None:
            return self.source_json
        return json.dumps(
            {
                "participation": [
                    [k, s, _runs(rows)] for k, (s, rows) in self.participation.items()
                ],
                "satisfaction": [self.satisfaction_sheet, _runs(self.satisfaction_rows)],
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Layout:
        """Raises KeyError/ValueError/TypeError on a malformed meta sheet. Reads both the
        run-length form and the older one code per row."""
        source = str(meta["layout"])
        shape = json.loads(source)
        sheet, rows = shape["satisfaction"]
        layout = cls(
            version=int(meta["template_version"]),
            division=str(meta["division"]),
            year=int(meta["year"]),
            language=str(meta["language"]),
            satisfaction_sheet=str(sheet),
            satisfaction_rows=_expand(rows),
            source_json=source,
        )
        for code, name, levels in shape["participation"]:
            layout.participation[str(code)] = (str(name), _expand(levels))
        return layout

    def answer_cells(self) -> dict[str, set[tuple[int, int]]]:
        """Sheet name → the (row, column) cells a person may fill."""
        cells: dict[str, set[tuple[int, int]]] = {}
        for sheet, rows in self.participation.values():
            cells[sheet] = {(FIRST_ROW + i, c) for i in range(len(rows)) for c in P_ANSWER_COLUMNS}
        cells[self.satisfaction_sheet] = {
            (FIRST_ROW + i, c) for i in range(len(self.satisfaction_rows)) for c in S_ANSWER_COLUMNS
        }
        return cells

    def bounds(self) -> dict[str, tuple[int, int]]:
        """Sheet name → (last row, last column) of the template's area."""
        result = {
            sheet: (FIRST_ROW + len(rows) - 1, P_MARK)
            for sheet, rows in self.participation.values()
        }
        result[self.satisfaction_sheet] = (FIRST_ROW + len(self.satisfaction_rows) - 1, S_MARK)
        return result

    def meta_rows(self, checksum: str) -> list[tuple[str, str]]:
        return [
            ("template_version", str(self.version)),
            ("division", self.division),
            ("year", str(self.year)),
            ("language", self.language),
            ("layout", self.to_json()),
            ("checksum", checksum),
        ]


#: The most answer rows a workbook's layout may claim (20 000 answers and room to spare): a
#: forged layout cannot make the reader walk millions of rows.
MAX_LAYOUT_ROWS = 100_000


def _runs(codes: list[str]) -> list[list[Any]]:
    """``["L1", "L1", "L2"]`` → ``[["L1", 2], ["L2", 1]]``."""
    runs: list[list[Any]] = []
    for code in codes:
        if runs and runs[-1][0] == code:
            runs[-1][1] += 1
        else:
            runs.append([code, 1])
    return runs


def _expand(items: list[Any]) -> list[str]:
    """The inverse of `_runs`; a plain code (the older form) counts once."""
    codes: list[str] = []
    for item in items:
        if isinstance(item, list):
            code, count = item
            count = int(count)
            if not 0 < count <= MAX_LAYOUT_ROWS:
                raise ValueError("layout row count out of range")
            codes.extend([str(code)] * count)
        else:
            codes.append(str(item))
        if len(codes) > MAX_LAYOUT_ROWS:
            raise ValueError("layout too long")
    return codes


def _fit(name: str, limit: int) -> str:
    """The name if it fits, else cut at a word with "…" ("Administration and support…"),
    never in the middle of a word ("… serv")."""
    if len(name) <= limit:
        return name
    cut = name[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,–-") + "…"


def sheet_names(names: Iterable[str], taken: Iterable[str]) -> list[str]:
    """Excel-safe, unique sheet names (≤ 31 characters, no []:*?/\\)."""
    used = {t.casefold() for t in taken}
    result = []
    for name in names:
        base = re.sub(r"[\[\]:*?/\\']", "", name).strip() or "Sheet"
        candidate = _fit(base, MAX_SHEET_NAME)
        number = 2
        while candidate.casefold() in used:
            suffix = f" ({number})"
            candidate = _fit(base, MAX_SHEET_NAME - len(suffix)) + suffix
            number += 1
        used.add(candidate.casefold())
        result.append(candidate)
    return result


def _canonical(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fingerprint(layout: Layout, sheets: Iterable[tuple[str, Iterator[tuple[Any, ...]]]]) -> str:
    """SHA-256 of the layout and of every non-empty cell that is not an answer cell.

    ``sheets`` yields (sheet name, rows of values) for every sheet except ``_meta``, in
    workbook order, the same way for a workbook being written and for one read back.
    """
    answer_cells = layout.answer_cells()
    digest = hashlib.sha256()
    digest.update(f"v{layout.version}|{layout.division}|{layout.year}|{layout.language}".encode())
    digest.update(layout.to_json().encode())
    for name, rows in sheets:
        digest.update(f"\x1esheet:{name}".encode())
        cells = answer_cells.get(name, set())
        for row_index, row in enumerate(rows, start=1):
            for column_index, value in enumerate(row, start=1):
                if value is None or value == "" or (row_index, column_index) in cells:
                    continue
                digest.update(f"\x1f{row_index},{column_index}={_canonical(value)}".encode())
    return digest.hexdigest()

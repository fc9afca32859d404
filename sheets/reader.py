"""Reading a filled workbook back: file checks, then every answer cell, errors by cell.

The workbook is opened with openpyxl in read-only mode twice: once with ``data_only`` for
the values (a formula's value is the one Excel saved with it; nothing is evaluated), once
without it only to see which answer cells hold a formula. Every value goes through the same
rules as a typed chat answer (``data.answers``); the result is the service entities'
complete answers, or the list of cell errors.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from sqlalchemy.orm import Session

from data import answers
from data.answers import ParticipationAnswer
from data.limits import MAX_TEXT, Range
from data.models import Division
from i18n import LANGUAGES, formats, gettext_for
from sheets import files
from sheets import messages as m
from sheets.layout import (
    FIRST_ROW,
    META_SHEET,
    P_COUNT,
    P_MARK,
    P_METHOD,
    P_NOTE,
    P_OWN,
    S_DETRACTORS,
    S_FREQUENCY,
    S_MARK,
    S_NPS,
    S_OTHER,
    S_PASSIVES,
    S_PERIOD,
    S_PROMOTERS,
    S_RESPONDENTS,
    S_RESULT,
    S_SCALE,
    S_TYPE,
    TEMPLATE_VERSION,
    Layout,
    Reference,
    fingerprint,
)


@dataclass(frozen=True)
class CellError:
    """One problem in one cell, e.g. ``Kirjasto!D7: “kaksi” is not a whole number``."""

    sheet: str
    row: int
    column: int
    message: str
    params: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{get_column_letter(self.column)}{self.row}"

    def text(self, translate: Any) -> str:
        return f"{self.ref}: {str(translate(self.message)).format(**self.params)}"


@dataclass
class Parsed:
    """What a valid file says: each service entity's complete answers (by entity id)."""

    division: Division
    year: int
    participation: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    satisfaction: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    unchecked: int = 0  # rows still marked "<last year> – check", left out
    errors: list[CellError] = field(default_factory=list)
    #: entity id → what was stored when the workbook was made (empty for a workbook of a
    #: release that did not record it).
    exported: dict[int, Exported] = field(default_factory=dict)
    #: entity id → its participation sheet's name (the entity's name as the file shows it).
    sheet_names: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exported:
    """One entity as the workbook was made from it: the version of its answers and a digest
    of each part (``sheets.changes.part_digests``). An import compares them with the file
    and with what is stored now, so that a workbook made before someone else saved the
    entity cannot quietly put the older answers back."""

    version: int
    participation: str
    satisfaction: str


#: The ``_meta`` row with each entity's `Exported` (JSON: code → [version, p, s]).
EXPORTED_META = "exported"


def _exported(meta: dict[str, Any], entities: dict[str, Any]) -> dict[int, Exported]:
    raw = meta.get(EXPORTED_META)
    if raw is None:
        return {}
    try:
        data = json.loads(str(raw))
        return {
            entities[code].id: Exported(int(version), str(p), str(s))
            for code, (version, p, s) in data.items()
            if code in entities
        }
    except (ValueError, TypeError, AttributeError):
        raise files.reject(m.FILE_NOT_OURS) from None


def _shown(value: object) -> str:
    """A cell value as the person sees it in the error list (shortened)."""
    if isinstance(value, float):
        text = (str(int(value)) if value.is_integer() else repr(value)).replace(".", ",")
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _key(value: object) -> str:
    """A list cell's value for matching names and codes (whole, trimmed, casefolded)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()).casefold()


def _all_languages(message: str) -> set[str]:
    return {gettext_for(lang)(message).casefold() for lang in LANGUAGES} | {message.casefold()}


class _Cells:
    """The values of one sheet's answer rows, with the formula cells known."""

    def __init__(
        self, sheet: str, rows: list[tuple[Any, ...]], formulas: set[tuple[int, int]]
    ) -> None:
        self.sheet = sheet
        self.rows = rows
        self.formulas = formulas

    def value(self, row: int, column: int) -> Any:
        values = self.rows[row - FIRST_ROW] if row - FIRST_ROW < len(self.rows) else ()
        value = values[column - 1] if column - 1 < len(values) else None
        if isinstance(value, str):
            value = value.strip() or None
        return value

    def present(self, row: int, column: int) -> bool:
        """Something is in the cell: a value, or a formula (even without a saved value)."""
        return self.value(row, column) is not None or (row, column) in self.formulas


class _Reader:
    def __init__(self, parsed: Parsed, ref: Reference, language: str, cell_language: str) -> None:
        self.parsed = parsed
        self.ref = ref
        self.none_labels = _all_languages(m.NO_METHODS)
        self.methods: dict[int, dict[str, int]] = {}
        for level in ref.levels:
            lookup: dict[str, int] = {}
            for method in ref.methods[level.id]:
                lookup[method.code.casefold()] = method.id
                for name in method.name.values():
                    lookup[name.casefold()] = method.id
            self.methods[level.id] = lookup
        self.types: dict[str, Any] = {}
        for mtype in ref.types:
            self.types[mtype.code.casefold()] = mtype
            for name in mtype.name.values():
                self.types[name.casefold()] = mtype
        self.language = language  # of the person told about errors
        self.cell_language = cell_language  # the workbook's: how numbers are typed in it

    def error(self, cells: _Cells, row: int, column: int, message: str, **params: Any) -> None:
        self.parsed.errors.append(CellError(cells.sheet, row, column, message, params))

    def problem(
        self, cells: _Cells, row: int, column: int, problem: answers.AnswerProblem, value: Any
    ) -> None:
        message = m.PROBLEM_CELL_MESSAGES.get(problem.code, m.CELL_NOT_TEXT)
        params = {**problem.params, "value": _shown(value)}
        if problem.code == answers.ZERO_COUNT:
            params["none"] = gettext_for(self.language)(m.NO_METHODS)
        self.error(cells, row, column, message, **self.worded(params))

    def worded(self, params: dict[str, Any]) -> dict[str, Any]:
        """Placeholders as the person's language writes them: a rule's range "1–100 000"."""
        return {
            key: formats.format_range(value, self.language)
            if isinstance(value, Range)
            else formats.format_integer(value, self.language)
            if isinstance(value, int) and not isinstance(value, bool)
            else value
            for key, value in params.items()
        }

    def formula_check(self, cells: _Cells, row: int, column: int) -> bool:
        """False (and an error) for a formula whose value was not saved with the file."""
        if (row, column) in cells.formulas and cells.value(row, column) is None:
            self.error(cells, row, column, m.CELL_FORMULA_NO_VALUE)
            return False
        return True

    def read(self, cells: _Cells, row: int, column: int, reader: Any) -> Any:
        """The cell's value read by the rule book (``reader(value, language)``), or None."""
        value = cells.value(row, column)
        if not self.formula_check(cells, row, column) or value is None:
            return None
        try:
            return reader(value, self.cell_language)
        except answers.AnswerProblem as problem:
            self.problem(cells, row, column, problem, value)
            return None

    def text(self, cells: _Cells, row: int, column: int, limit: int) -> str | None:
        value = cells.value(row, column)
        if not self.formula_check(cells, row, column) or value is None:
            return None
        if isinstance(value, bool | dt.datetime | dt.date | dt.time):
            self.error(cells, row, column, m.CELL_NOT_TEXT, value=_shown(value))
            return None
        try:
            return answers.clean_text(value, limit=limit)
        except answers.AnswerProblem as problem:
            if problem.code == answers.EMPTY:
                return None
            self.problem(cells, row, column, problem, value)
            return None

    # --- participation ---------------------------------------------------------------------

    def participation(self, cells: _Cells, level_codes: list[str]) -> list[dict[str, Any]]:
        levels = {level.code: level for level in self.ref.levels}
        result: list[tuple[int, dict[str, Any]]] = []
        for offset, code in enumerate(level_codes):
            row = FIRST_ROW + offset
            level = levels[code]
            filled = [c for c in (P_METHOD, P_OWN, P_COUNT, P_NOTE) if cells.present(row, c)]
            if cells.value(row, P_MARK) is not None and filled:
                self.parsed.unchecked += 1
                continue
            if not filled:
                continue
            answer = self.participation_row(cells, row, level.id, level.number)
            if answer is not None:
                result.append((row, answer))
        conflicts = answers.participation_conflicts([a for _, a in result])
        for index, code, params in conflicts.items:
            self.error(
                cells,
                result[index][0],
                P_METHOD,
                m.PROBLEM_CELL_MESSAGES[code],
                none=gettext_for(self.language)(m.NO_METHODS),
                **params,
            )
        return [a for _, a in result]

    def participation_row(
        self, cells: _Cells, row: int, level_id: int, level_number: int
    ) -> dict[str, Any] | None:
        errors_before = len(self.parsed.errors)
        chosen = cells.value(row, P_METHOD)
        method_id = None
        none = False
        if chosen is not None and self.formula_check(cells, row, P_METHOD):
            key = _key(chosen)
            if key in self.none_labels or answers.is_none_word(chosen):
                none = True
            elif key in self.methods[level_id]:
                method_id = self.methods[level_id][key]
            else:
                self.error(
                    cells,
                    row,
                    P_METHOD,
                    m.CELL_UNKNOWN_METHOD,
                    value=_shown(chosen),
                    level=level_number,
                )
        if none:
            for column in (P_OWN, P_COUNT, P_NOTE):
                if cells.value(row, column) is not None:
                    none_label = gettext_for(self.language)(m.NO_METHODS)
                    self.error(cells, row, column, m.CELL_NO_METHODS_ALONE, none=none_label)
                    return None
            return ParticipationAnswer(level_id, none=True).to_dict()
        own = self.read(cells, row, P_OWN, lambda value, _lang: answers.method_name(value))
        count = self.read(cells, row, P_COUNT, answers.read_count)
        note = self.text(cells, row, P_NOTE, MAX_TEXT)
        if chosen is not None and own is not None:
            self.error(cells, row, P_OWN, m.CELL_BOTH_METHODS)
        elif not (cells.present(row, P_OWN) or cells.present(row, P_METHOD)):
            self.error(cells, row, P_METHOD, m.CELL_METHOD_MISSING)
        if count is None and not cells.present(row, P_COUNT):
            self.error(cells, row, P_COUNT, m.CELL_COUNT_MISSING)
        if len(self.parsed.errors) > errors_before or count is None:
            return None
        return ParticipationAnswer(
            level_id=level_id,
            method_id=method_id,
            method_text=None if method_id is not None else own,
            count=count,
            note=note,
        ).to_dict()

    # --- satisfaction ----------------------------------------------------------------------

    def satisfaction(self, cells: _Cells, entity_codes: list[str]) -> dict[str, list[Any]]:
        by_entity: dict[str, list[tuple[int, dict[str, Any]]]] = {c: [] for c in entity_codes}
        for offset, code in enumerate(entity_codes):
            row = FIRST_ROW + offset
            filled = [c for c in range(S_TYPE, S_MARK) if cells.present(row, c)]
            if cells.value(row, S_MARK) is not None and filled:
                self.parsed.unchecked += 1
                continue
            if not filled:
                continue
            answer = self.satisfaction_row(cells, row)
            if answer is not None:
                by_entity[code].append((row, answer))
        not_measured = self.ref.not_measured
        result: dict[str, list[Any]] = {}
        for code, rows in by_entity.items():
            conflicts = answers.satisfaction_conflicts(
                [a["measurement_type_id"] for _, a in rows],
                not_measured.id if not_measured else None,
            )
            for index, problem, params in conflicts.items:
                self.error(
                    cells, rows[index][0], S_TYPE, m.PROBLEM_CELL_MESSAGES[problem], **params
                )
            result[code] = [a for _, a in rows]
        return result

    def satisfaction_row(self, cells: _Cells, row: int) -> dict[str, Any] | None:
        chosen = cells.value(row, S_TYPE)
        if chosen is None:
            self.error(cells, row, S_TYPE, m.CELL_TYPE_MISSING)
            return None
        if not self.formula_check(cells, row, S_TYPE):
            return None
        mtype = self.types.get(_key(chosen))
        if mtype is None:
            self.error(cells, row, S_TYPE, m.CELL_UNKNOWN_TYPE, value=_shown(chosen))
            return None
        answer = answers.read_satisfaction_row(_RowCells(self, cells, row), mtype)
        return None if answer is None else answer.to_dict()


class _RowCells:
    """One row of the satisfaction sheet as the rule book's `answers.RowFields`: the
    answer's field names are its columns (the sheet has no note and one frequency column,
    typed, where the Mini App has a choice and a text)."""

    COLUMNS: ClassVar[dict[str, int]] = {
        "other_name": S_OTHER,
        "scale": S_SCALE,
        "frequency_text": S_FREQUENCY,
        "nps": S_NPS,
        "promoters": S_PROMOTERS,
        "passives": S_PASSIVES,
        "detractors": S_DETRACTORS,
        "respondents": S_RESPONDENTS,
        "latest_result": S_RESULT,
        "period": S_PERIOD,
    }

    def __init__(self, reader: _Reader, cells: _Cells, row: int) -> None:
        self.reader = reader
        self.cells = cells
        self.row = row

    @property
    def problems(self) -> int:
        return len(self.reader.parsed.errors)

    def given(self, name: str) -> bool:
        column = self.COLUMNS.get(name)
        return column is not None and self.cells.present(self.row, column)

    def read(self, name: str, rule: Any) -> Any:
        column = self.COLUMNS.get(name)
        return None if column is None else self.reader.read(self.cells, self.row, column, rule)

    def text(self, name: str, limit: int) -> str | None:
        column = self.COLUMNS.get(name)
        return None if column is None else self.reader.text(self.cells, self.row, column, limit)

    def problem(self, name: str, problem: answers.AnswerProblem) -> None:
        message = m.PROBLEM_CELL_MESSAGES[problem.code]
        params = self.reader.worded(problem.params)
        self.reader.error(self.cells, self.row, self.COLUMNS[name], message, **params)


def _rows(ws: Any) -> Iterator[tuple[Any, ...]]:
    ws.reset_dimensions()
    return ws.iter_rows(min_row=1, min_col=1, values_only=True)


def _bounded_rows(ws: Any, last_row: int, last_column: int) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows within the template's area; anything outside it is a changed
    structure, noticed at its first cell (a file padded with data stops being read there)."""
    for index, row in enumerate(_rows(ws), start=1):
        outside = row if index > last_row else row[last_column:]
        if any(value is not None and value != "" for value in outside):
            raise files.reject(m.FILE_STRUCTURE_CHANGED)
        if index <= last_row:
            yield row[:last_column]


def _open(content: bytes, *, data_only: bool) -> Any:
    try:
        return load_workbook(
            io.BytesIO(content), read_only=True, data_only=data_only, keep_links=False
        )
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError):
        raise files.reject(m.FILE_BROKEN) from None
    except Exception:  # any parser failure on a malformed part means the same to the person
        raise files.reject(m.FILE_BROKEN) from None


def _meta(workbook: Any) -> dict[str, Any]:
    if META_SHEET not in workbook.sheetnames:
        raise files.reject(m.FILE_NOT_OURS)
    sheet = workbook[META_SHEET]
    sheet.reset_dimensions()
    return {
        str(row[0]): row[1]
        for row in sheet.iter_rows(min_row=1, max_row=20, min_col=1, max_col=2, values_only=True)
        if row and row[0]
    }


def read_workbook(
    session: Session,
    content: bytes,
    name: str | None,
    *,
    division: Division,
    year: int,
    language: str,
) -> Parsed:
    """Check the file and read every answer cell; raises `files.Rejection` for the file.

    ``division`` and ``year`` are the sender's division and the current round; a workbook
    of another one is refused. Cell errors are collected in ``Parsed.errors`` (all of them;
    the caller shows the first ones).
    """
    files.check_archive(content, name)
    values = _open(content, data_only=True)
    try:
        meta = _meta(values)
        try:
            version = int(str(meta.get("template_version")))
        except ValueError:
            raise files.reject(m.FILE_NOT_OURS) from None
        if version != TEMPLATE_VERSION:
            raise files.reject(m.FILE_OLD_TEMPLATE)
        try:
            layout = Layout.from_meta(meta)
        except (KeyError, ValueError, TypeError):
            raise files.reject(m.FILE_NOT_OURS) from None
        if layout.division != division.code:
            raise files.reject(m.FILE_OTHER_DIVISION, division=layout.division)
        if layout.year != year:
            raise files.reject(m.FILE_OTHER_ROUND, year=layout.year, current=year)
        ref = Reference.load(session, division)
        _check_catalog(layout, ref)
        expected = [sheet for sheet, _ in layout.participation.values()]
        expected.append(layout.satisfaction_sheet)
        present = [s for s in values.sheetnames if s != META_SHEET]
        if present != expected:
            raise files.reject(m.FILE_STRUCTURE_CHANGED)
        bounds = layout.bounds()
        # Each sheet is parsed once: the same rows serve the checksum and the answers.
        rows = {s: list(_bounded_rows(values[s], *bounds[s])) for s in present}
        checksum = fingerprint(layout, ((s, iter(rows[s])) for s in present))
        if checksum != str(meta.get("checksum")):
            raise files.reject(m.FILE_STRUCTURE_CHANGED)
        formulas = _formula_cells(content, layout, {s: values[s] for s in present})
        parsed = Parsed(division, year)
        reader = _Reader(parsed, ref, language, layout.language)
        entities = {e.code: e for e in ref.entities}
        parsed.exported = _exported(meta, entities)
        for code, (sheet, levels) in layout.participation.items():
            parsed.sheet_names[entities[code].id] = sheet
            cells = _Cells(sheet, rows[sheet][FIRST_ROW - 1 :], formulas.get(sheet, set()))
            parsed.participation[entities[code].id] = reader.participation(cells, levels)
        sheet = layout.satisfaction_sheet
        cells = _Cells(sheet, rows[sheet][FIRST_ROW - 1 :], formulas.get(sheet, set()))
        for code, given in reader.satisfaction(cells, layout.satisfaction_rows).items():
            parsed.satisfaction[entities[code].id] = given
        parsed.errors.sort(key=lambda e: (expected.index(e.sheet), e.row, e.column))
        return parsed
    finally:
        values.close()


#: A cell's opening tag with its reference, and a formula element (any namespace prefix).
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _formula_cells(
    content: bytes, layout: Layout, sheets: dict[str, Any]
) -> dict[str, set[tuple[int, int]]]:
    """Answer cells that hold a formula (their value is taken, never evaluated).

    Found in each sheet's XML directly: a formula is an ``<f>`` element inside a ``<c>``.
    Opening the workbook a second time with openpyxl for this parsed every cell again and
    cost a third of the whole check of a large workbook.
    """
    found: dict[str, set[tuple[int, int]]] = {}
    answer_cells = layout.answer_cells()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for sheet, cells in answer_cells.items():
            path = getattr(sheets.get(sheet), "_worksheet_path", None)
            if path is None:
                continue
            xml = archive.read(path)
            for formula in _FORMULA_TAG.finditer(xml):
                start = xml.rfind(b"<", 0, formula.start())
                while start > 0 and not _CELL_TAG.match(xml, start):
                    start = xml.rfind(b"<", 0, start)
                cell = _CELL_TAG.match(xml, max(start, 0))
                if cell is None:
                    continue
                at = (int(cell.group(2)), column_index_from_string(cell.group(1).decode()))
                if at in cells:
                    found.setdefault(sheet, set()).add(at)
    return found


def _check_catalog(layout: Layout, ref: Reference) -> None:
    """The file's service entities and levels are still the catalog's: else a new template."""
    entity_codes = [e.code for e in ref.entities]
    level_codes = {level.code for level in ref.levels}
    if list(layout.participation) != entity_codes:
        raise files.reject(m.FILE_OLD_TEMPLATE)
    for _sheet, levels in layout.participation.values():
        if set(levels) != level_codes:
            raise files.reject(m.FILE_OLD_TEMPLATE)
    if set(layout.satisfaction_rows) != set(entity_codes):
        raise files.reject(m.FILE_OLD_TEMPLATE)

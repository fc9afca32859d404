"""The division's workbook for the current round, pre-filled, locked except the answer cells.

Pre-filled with this round's saved answers; where a service entity has none yet, with last
year's, each such row marked "<last year> – check" (a marked row is not saved until the mark
is cleared, so sending the file back unchanged never turns last year's figures into this
year's). Lists of the catalog (methods per level, measurement types, frequencies) are data
validation lists that point at the hidden ``_meta`` sheet; counts have whole-number
validation 0–100 000 and texts a length limit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from data import catalog, reports
from data.limits import (
    COUNT_RANGE,
    MAX_PERIOD,
    MAX_SCALE,
    MAX_TEXT,
    NPS_COUNT_RANGE,
    NPS_RANGE,
    RESPONDENTS_RANGE,
    Range,
)
from data.models import Division
from i18n import formats, gettext_for
from sheets import messages as m
from sheets.changes import part_digests
from sheets.layout import (
    EXTRA_ENTITY_ROWS,
    EXTRA_LEVEL_ROWS,
    FIRST_ROW,
    HEADER_ROW,
    META_SHEET,
    MIN_ENTITY_ROWS,
    MIN_LEVEL_ROWS,
    P_ANSWER_COLUMNS,
    P_COUNT,
    P_LEVEL,
    P_MARK,
    P_METHOD,
    P_NOTE,
    P_OWN,
    S_ANSWER_COLUMNS,
    S_DETRACTORS,
    S_ENTITY,
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
    sheet_names,
)
from sheets.reader import EXPORTED_META

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCKED_FILL = PatternFill("solid", fgColor="E7E6E6")
MARK_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
P_WIDTHS = {P_LEVEL: 34, P_METHOD: 40, P_OWN: 36, P_COUNT: 12, P_NOTE: 40, P_MARK: 16}
S_WIDTHS = {
    S_ENTITY: 30,
    S_TYPE: 32,
    S_OTHER: 24,
    S_SCALE: 10,
    S_FREQUENCY: 24,
    S_NPS: 12,
    S_PROMOTERS: 14,
    S_PASSIVES: 14,
    S_DETRACTORS: 14,
    S_RESPONDENTS: 12,
    S_RESULT: 20,
    S_PERIOD: 14,
    S_MARK: 16,
}


def file_name(division: Division, year: int) -> str:
    """The file name the workbook is sent as, e.g. ``Mittarit_KUVA_2026.xlsx``."""
    return f"Mittarit_{division.code}_{year}.xlsx"


def _text(value: object) -> object:
    """A value safe to write: control characters removed (openpyxl refuses them)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _put(ws: Worksheet, row: int, column: int, value: object) -> None:
    """Write a value; text is always a text cell, never a formula (“=…” stays text)."""
    cell = ws.cell(row=row, column=column, value=_text(value))
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


class _Lists:
    """Validation lists, written into columns of the hidden ``_meta`` sheet."""

    def __init__(self, meta: Worksheet) -> None:
        self.meta = meta
        self.column = 4
        self.ranges: dict[tuple[str, ...], str] = {}

    def ref(self, values: list[str]) -> str:
        key = tuple(values)
        if key not in self.ranges:
            letter = get_column_letter(self.column)
            for index, value in enumerate(values, start=1):
                _put(self.meta, index, self.column, value)
            self.ranges[key] = f"'{META_SHEET}'!${letter}$1:${letter}${max(len(values), 1)}"
            self.column += 1
        return self.ranges[key]


def _list_validation(
    ws: Worksheet, source: str, cells: str, _: Callable[[str], str], *, strict: bool = True
) -> None:
    validation = DataValidation(type="list", formula1=f"={source}", allow_blank=True)
    validation.error = _(m.DV_LIST)
    validation.showErrorMessage = True
    if not strict:
        validation.errorStyle = "information"
    validation.add(cells)
    ws.add_data_validation(validation)


def _rule_texts(language: str) -> dict[str, object]:
    """The rule book's ranges as the instructions write them ("1–100 000")."""
    return {
        "count_range": formats.format_range(COUNT_RANGE, language),
        "nps_range": formats.format_range(NPS_RANGE, language),
        "respondents_range": formats.format_range(RESPONDENTS_RANGE, language),
        "limit": MAX_TEXT,
    }


def _range_validation(ws: Worksheet, span: Range, language: str, cells: list[str]) -> None:
    """Excel's own check of a whole-number cell: the rule's range, stated by the rule."""
    message = gettext_for(language)(m.DV_WHOLE).format(range=formats.format_range(span, language))
    _whole_validation(ws, span.low, span.high, message, cells)


def _whole_validation(ws: Worksheet, low: int, high: int, message: str, cells: list[str]) -> None:
    validation = DataValidation(
        type="whole", operator="between", formula1=str(low), formula2=str(high), allow_blank=True
    )
    validation.error = message
    validation.showErrorMessage = True
    for ref in cells:
        validation.add(ref)
    ws.add_data_validation(validation)


def _length_validation(ws: Worksheet, limit: int, message: str, cells: list[str]) -> None:
    validation = DataValidation(
        type="textLength", operator="lessThanOrEqual", formula1=str(limit), allow_blank=True
    )
    validation.error = message
    validation.showErrorMessage = True
    for ref in cells:
        validation.add(ref)
    ws.add_data_validation(validation)


def _column_ref(column: int, first: int, last: int) -> str:
    letter = get_column_letter(column)
    return f"{letter}{first}:{letter}{last}"


def _heading(
    ws: Worksheet,
    title: str,
    instructions: list[str],
    headers: list[str],
    widths: dict[int, int],
) -> None:
    last = get_column_letter(len(headers))
    _put(ws, 1, 1, title)
    ws.cell(row=1, column=1).font = TITLE_FONT
    for offset, line in enumerate(instructions):
        row = 2 + offset
        _put(ws, row, 1, line)
        ws.merge_cells(f"A{row}:{last}{row}")
        ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 32
    for column, header in enumerate(headers, start=1):
        _put(ws, HEADER_ROW, column, header)
        cell = ws.cell(row=HEADER_ROW, column=column)
        cell.font = HEADER_FONT
        cell.fill = LOCKED_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=2)


def _lock(ws: Worksheet, answer_columns: tuple[int, ...], rows: int) -> None:
    """Protect the sheet; only the answer cells stay editable. Columns may be resized."""
    for row in range(FIRST_ROW, FIRST_ROW + rows):
        for column in answer_columns:
            ws.cell(row=row, column=column).protection = Protection(locked=False)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def _sheet_rows(ws: Worksheet) -> Iterator[tuple[Any, ...]]:
    return ws.iter_rows(min_row=1, min_col=1, values_only=True)


def build_workbook(session: Session, division: Division, year: int, language: str) -> bytes:
    """The division's workbook for ``year`` in ``language`` (fi/sv/en), as .xlsx bytes."""
    _ = gettext_for(language)
    ref = Reference.load(session, division)
    mark = _(m.MARK).format(year=year - 1)
    none_label = _(m.NO_METHODS)
    division_name = catalog.name_of(division, language)

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    satisfaction_name = _(m.SATISFACTION_SHEET)
    names = sheet_names(
        [catalog.name_of(e, language) for e in ref.entities], [satisfaction_name, META_SHEET]
    )
    layout = Layout(TEMPLATE_VERSION, division.code, year, language)
    # Versions first (as an import reads them): a save committed in between shows as a
    # newer version than the answers written here, and the import refuses, not reverts.
    versions = reports.entity_versions(session, year, [e.id for e in ref.entities])
    exported: dict[str, list[object]] = {}
    meta = wb.create_sheet(META_SHEET)
    lists = _Lists(meta)
    mark_list = lists.ref([mark])

    for entity, name in zip(ref.entities, names, strict=True):
        saved = reports.participation_for_year(session, year, entity.id)
        satisfied = reports.satisfaction_for_year(session, year, entity.id)
        exported[entity.code] = [
            versions[entity.id],
            *part_digests([a.to_dict() for a in saved], [a.to_dict() for a in satisfied]),
        ]
        prefilled = not saved
        rows_answers = saved or reports.previous_participation(session, year, entity.id)
        ws = wb.create_sheet(name)
        _heading(
            ws,
            _(m.TITLE_PARTICIPATION).format(
                entity=catalog.name_of(entity, language), year=year, division=division_name
            ),
            [
                line.format(mark=mark, **_rule_texts(language))
                for line in map(_, m.INSTRUCTIONS_PARTICIPATION)
            ],
            [
                _(m.H_LEVEL),
                _(m.H_METHOD),
                _(m.H_OWN_METHOD),
                _(m.H_COUNT),
                _(m.H_NOTE),
                _(m.H_MARK),
            ],
            P_WIDTHS,
        )
        level_codes: list[str] = []
        row = FIRST_ROW
        for level in ref.levels:
            at_level = [a for a in rows_answers if a.level_id == level.id]
            slots = max(MIN_LEVEL_ROWS, len(at_level) + EXTRA_LEVEL_ROWS)
            methods = {meth.id: catalog.name_of(meth, language) for meth in ref.methods[level.id]}
            choices = [*methods.values(), none_label]
            label = f"{level.number} {catalog.name_of(level, language)}"
            for slot in range(slots):
                _put(ws, row + slot, P_LEVEL, label)
                ws.cell(row=row + slot, column=P_LEVEL).fill = LOCKED_FILL
                level_codes.append(level.code)
            for slot, answer in enumerate(at_level):
                r = row + slot
                if answer.none:
                    _put(ws, r, P_METHOD, none_label)
                elif answer.method_id is not None:
                    _put(ws, r, P_METHOD, methods.get(answer.method_id, ""))
                else:
                    _put(ws, r, P_OWN, answer.method_text or "")
                if not answer.none:
                    _put(ws, r, P_COUNT, answer.count)
                    if answer.note:
                        _put(ws, r, P_NOTE, answer.note)
                if prefilled:
                    _put(ws, r, P_MARK, mark)
                    ws.cell(row=r, column=P_MARK).fill = MARK_FILL
            _list_validation(ws, lists.ref(choices), _column_ref(P_METHOD, row, row + slots - 1), _)
            row += slots
        last = row - 1
        _list_validation(ws, mark_list, _column_ref(P_MARK, FIRST_ROW, last), _)
        _range_validation(ws, COUNT_RANGE, language, [_column_ref(P_COUNT, FIRST_ROW, last)])
        _length_validation(
            ws,
            MAX_TEXT,
            _(m.DV_TEXT).format(limit=MAX_TEXT),
            [_column_ref(c, FIRST_ROW, last) for c in (P_OWN, P_NOTE)],
        )
        _lock(ws, P_ANSWER_COLUMNS, last - FIRST_ROW + 1)
        layout.participation[entity.code] = (name, level_codes)

    _satisfaction_sheet(wb, session, ref, layout, satisfaction_name, year, language, lists, mark)

    checksum = fingerprint(
        layout, ((ws.title, _sheet_rows(ws)) for ws in wb.worksheets if ws.title != META_SHEET)
    )
    wb.move_sheet(meta, offset=len(wb.worksheets) - 1 - wb.index(meta))
    meta_rows = [*layout.meta_rows(checksum), (EXPORTED_META, json.dumps(exported))]
    for index, (key, value) in enumerate(meta_rows, start=1):
        _put(meta, index, 1, key)
        _put(meta, index, 2, value)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = 0
    first_sheet = wb.worksheets[0]
    first_sheet.sheet_view.tabSelected = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _satisfaction_sheet(
    wb: Workbook,
    session: Session,
    ref: Reference,
    layout: Layout,
    name: str,
    year: int,
    language: str,
    lists: _Lists,
    mark: str,
) -> None:
    _ = gettext_for(language)
    ws = wb.create_sheet(name)
    headers = [
        _(m.H_ENTITY),
        _(m.H_TYPE),
        _(m.H_OTHER_NAME),
        _(m.H_SCALE),
        _(m.H_FREQUENCY),
        _(m.H_NPS).format(range=formats.format_range(NPS_RANGE, language)),
        _(m.H_PROMOTERS),
        _(m.H_PASSIVES),
        _(m.H_DETRACTORS),
        _(m.H_RESPONDENTS),
        _(m.H_RESULT),
        _(m.H_PERIOD),
        _(m.H_MARK),
    ]
    _heading(
        ws,
        _(m.TITLE_SATISFACTION).format(year=year, division=catalog.name_of(ref.division, language)),
        [
            line.format(mark=mark, **_rule_texts(language))
            for line in map(_, m.INSTRUCTIONS_SATISFACTION)
        ],
        headers,
        S_WIDTHS,
    )
    types = {t.id: catalog.name_of(t, language) for t in ref.types}
    row = FIRST_ROW
    for entity in ref.entities:
        saved = reports.satisfaction_for_year(session, year, entity.id)
        prefilled = not saved
        given = saved or reports.previous_satisfaction(session, year, entity.id)
        slots = max(MIN_ENTITY_ROWS, len(given) + EXTRA_ENTITY_ROWS)
        label = catalog.name_of(entity, language)
        for slot in range(slots):
            _put(ws, row + slot, S_ENTITY, label)
            ws.cell(row=row + slot, column=S_ENTITY).fill = LOCKED_FILL
            layout.satisfaction_rows.append(entity.code)
        for slot, answer in enumerate(given):
            r = row + slot
            values: dict[int, object] = {
                S_TYPE: types.get(answer.measurement_type_id, ""),
                S_OTHER: answer.other_name,
                S_SCALE: answer.scale,
                S_FREQUENCY: catalog.frequency_name(
                    answer.frequency, answer.frequency_text, language
                )
                or None,
                S_RESPONDENTS: answer.respondents,
                S_RESULT: answer.latest_result,
                S_PERIOD: answer.period,
            }
            if answer.promoters is not None:
                values.update(
                    {
                        S_PROMOTERS: answer.promoters,
                        S_PASSIVES: answer.passives,
                        S_DETRACTORS: answer.detractors,
                    }
                )
            elif answer.nps is not None:
                values[S_NPS] = answer.nps
            for column, value in values.items():
                if value is not None and value != "":
                    _put(ws, r, column, value)
            if prefilled:
                _put(ws, r, S_MARK, mark)
                ws.cell(row=r, column=S_MARK).fill = MARK_FILL
        row += slots
    last = row - 1
    _list_validation(ws, lists.ref(list(types.values())), _column_ref(S_TYPE, FIRST_ROW, last), _)
    frequency_names = [f.name.get(language) or f.name["fi"] for f in ref.frequencies]
    # Like the chat, a frequency may also be written in one's own words: the list only
    # suggests (an "information" notice in Excel, not a refusal).
    _list_validation(
        ws, lists.ref(frequency_names), _column_ref(S_FREQUENCY, FIRST_ROW, last), _, strict=False
    )
    _list_validation(ws, lists.ref([mark]), _column_ref(S_MARK, FIRST_ROW, last), _)
    _range_validation(ws, NPS_RANGE, language, [_column_ref(S_NPS, FIRST_ROW, last)])
    _range_validation(
        ws,
        NPS_COUNT_RANGE,
        language,
        [_column_ref(c, FIRST_ROW, last) for c in (S_PROMOTERS, S_PASSIVES, S_DETRACTORS)],
    )
    _range_validation(
        ws, RESPONDENTS_RANGE, language, [_column_ref(S_RESPONDENTS, FIRST_ROW, last)]
    )
    _length_validation(
        ws,
        MAX_TEXT,
        _(m.DV_TEXT).format(limit=MAX_TEXT),
        [_column_ref(c, FIRST_ROW, last) for c in (S_OTHER, S_RESULT)],
    )
    _length_validation(
        ws,
        MAX_SCALE,
        _(m.DV_TEXT).format(limit=MAX_SCALE),
        [_column_ref(S_SCALE, FIRST_ROW, last)],
    )
    _length_validation(
        ws,
        MAX_PERIOD,
        _(m.DV_TEXT).format(limit=MAX_PERIOD),
        [_column_ref(S_PERIOD, FIRST_ROW, last)],
    )
    _lock(ws, S_ANSWER_COLUMNS, last - FIRST_ROW + 1)
    layout.satisfaction_sheet = name

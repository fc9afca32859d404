"""The division's form as the page shows it, and the page's answers read back by the rules.

`division_view` builds the JSON the page draws: the current round's service entities with
their saved answers and versions, last year's answers where nothing is saved yet (marked:
the page saves them only once the person confirms), what is missing before the next
deadline and the report's state — all from the same ``data`` queries and the same wording
as /tila.

`read_entity` checks one entity's posted answers by the rules the chat and the Excel import
use (the rule book ``data.answers``, the cell messages of ``sheets.messages``) and returns
either the answers to store or the problems, each naming its row and field so the page puts
the message next to the input.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.access import Caller
from bot.status import render
from bot.status.show import next_deadline
from core.services import Services
from data import answers, catalog, forms, overview, progress, reports, versions
from data.limits import MAX_TEXT, Range
from data.models import Division, Level, MeasurementType, Person, ReportState
from data.people import person_value_of
from data.reports import ParticipationAnswer, SatisfactionAnswer
from i18n import formats, gettext_for
from miniapp import texts
from sheets import messages as m

# --- what the page shows ------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _participation_json(answer: ParticipationAnswer) -> dict[str, Any]:
    return {
        "level_id": answer.level_id,
        "method_id": answer.method_id,
        "method_text": answer.method_text or "",
        "count": "" if answer.none else str(answer.count),
        "note": answer.note or "",
        "none": answer.none,
    }


def _satisfaction_json(answer: SatisfactionAnswer) -> dict[str, Any]:
    values = {k: _text(v) for k, v in answer.to_dict().items()}
    values["measurement_type_id"] = answer.measurement_type_id  # type: ignore[assignment]
    return values


def division_view(
    session: Session,
    svc: Services,
    person: Person,
    division: Division,
    language: str,
    *,
    only: set[int] | None = None,
) -> dict[str, Any]:
    """Everything the page draws for one division (read access checked by the caller).

    ``only``: the answers of just these entities (after a save the page redraws those and
    keeps the others as the person left them); the summary is always the whole division's.
    """
    year = svc.current_year()
    who = Caller(person_value_of(person), language)
    _ = gettext_for(language)
    status = overview.division_status(session, person, year, division.id)
    rnd = progress.find_round(session, year)
    round_id = rnd.id if rnd else None
    shown = [e for e in status.progress.entities if only is None or e.service_entity_id in only]
    numbers = versions.current(session, round_id, [e.service_entity_id for e in shown])
    submitted = status.state is ReportState.SUBMITTED
    editable = reports.can_write_division(person, division.id) and not submitted
    saved_p, saved_s = forms.division_answers(session, round_id, division.id)
    # After a save (``only``) the saved entities have answers: last year's are not offered.
    previous_p, previous_s = (
        forms.previous_answers(session, year, division.id) if only is None else ({}, {})
    )
    entities = []
    for entity in shown:
        entity_id = entity.service_entity_id
        this_p, this_s = saved_p.get(entity_id, []), saved_s.get(entity_id, [])
        prev_p = [] if this_p else previous_p.get(entity_id, [])
        prev_s = [] if this_s else previous_s.get(entity_id, [])
        missing = render._missing_for(who, entity)
        if missing:  # "• Kirjasto: tasot 2, 3" -> "tasot 2, 3" under the entity's own heading
            missing = missing.split(": ", 1)[-1]
        entities.append(
            {
                "id": entity_id,
                "name": entity.name.get(language) or entity.name["fi"],
                "version": numbers[entity_id],
                "complete": entity.complete,
                "missing": html.unescape(missing) if missing else None,
                "participation": [_participation_json(a) for a in this_p],
                "satisfaction": [_satisfaction_json(a) for a in this_s],
                "previous": {
                    "participation": [_participation_json(a) for a in prev_p],
                    "satisfaction": [_satisfaction_json(a) for a in prev_s],
                }
                if (prev_p or prev_s) and editable
                else None,
            }
        )
    deadline = next_deadline(svc.settings, svc.local_now().date())
    view: dict[str, Any] = {
        "language": language,
        "texts": texts.page_texts(language),
        "year": year,
        "previous_year": year - 1,
        "division": {"code": division.code, "name": catalog.name_of(division, language)},
        "state": status.state.value,
        "state_label": render.state_label(who, status, svc.settings.tz),
        "locked_text": render.locked_text(who, status, svc.settings.tz) if submitted else None,
        "editable": editable,
        "deadline": _("Next deadline: {date} – {title}").format(
            title=deadline[0].title.get(language), date=formats.format_date(deadline[1])
        )
        if deadline
        else None,
        "missing": [html.unescape(line) for line in render.missing_lines(who, status)],
        "entities": entities,
    }
    if only is not None:  # the page has the catalog and the texts already
        return view
    levels = catalog.levels(session)
    view.update(
        {
            "levels": [
                {
                    "id": level.id,
                    "number": level.number,
                    "name": catalog.name_of(level, language),
                    "methods": [
                        {"id": method.id, "name": catalog.name_of(method, language)}
                        for method in catalog.methods_for_level(session, level.id)
                    ],
                }
                for level in levels
            ],
            "measurement_types": [
                {
                    "id": mtype.id,
                    "code": mtype.code,
                    "kind": mtype.kind,
                    "scale": mtype.scale,
                    "name": catalog.name_of(mtype, language),
                }
                for mtype in catalog.measurement_types(session)
            ],
            "frequencies": [
                {"code": item.code, "name": catalog.name_of_choice(item.name, language)}
                for item in catalog.frequencies()
            ]
            + [{"code": catalog.OTHER_FREQUENCY, "name": _(texts.PAGE["other_frequency"])}],
        }
    )
    return view


# --- reading the page's answers -------------------------------------------------------------


@dataclass
class Problem:
    entity: int
    row: str
    field: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class EntityAnswers:
    entity_id: int
    version: int
    participation: list[ParticipationAnswer] = field(default_factory=list)
    satisfaction: list[SatisfactionAnswer] = field(default_factory=list)


class _Reader:
    """Reads one entity's rows; each problem is worded in the person's language."""

    def __init__(
        self, session: Session, entity_id: int, language: str, problems: list[Problem]
    ) -> None:
        self.session = session
        self.entity_id = entity_id
        self.language = language
        self._ = gettext_for(language)
        self.problems = problems
        self.row = ""

    def error(self, field_name: str, message: str, **params: Any) -> None:
        self.problems.append(
            Problem(self.entity_id, self.row, field_name, self._(message).format(**params))
        )

    def problem(self, field_name: str, problem: answers.AnswerProblem, value: object) -> None:
        message = m.PROBLEM_CELL_MESSAGES.get(problem.code, m.CELL_NOT_TEXT)
        params = {**problem.params, "value": _text(value)}
        if problem.code == answers.ZERO_COUNT:
            params["none"] = self._(m.NO_METHODS)
        self.error(field_name, message, **self.worded(params))

    def worded(self, params: dict[str, Any]) -> dict[str, Any]:
        """Placeholders as the person's language writes them: a rule's range "1–100 000"."""
        return {
            key: formats.format_range(value, self.language) if isinstance(value, Range) else value
            for key, value in params.items()
        }

    def text(self, row: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str | None:
        value = row.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.error(name, m.CELL_NOT_TEXT, value=_text(value))
            return None
        try:
            return answers.clean_text(value, limit=limit)
        except answers.AnswerProblem as problem:
            if problem.code == answers.EMPTY:
                return None
            self.problem(name, problem, value)
            return None

    def read(self, row: dict[str, Any], name: str, reader: Any) -> Any:
        """The field read by the rule book (``reader(value, language)``), or None."""
        value = row.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return reader(value, self.language)
        except answers.AnswerProblem as problem:
            self.problem(name, problem, value)
            return None

    def given(self, row: dict[str, Any], name: str) -> bool:
        value = row.get(name)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def ident(self, row: dict[str, Any], name: str) -> int | None:
        value = row.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        self.error(name, texts.NOT_A_CHOICE, value=_text(value))
        return None

    # --- participation -----------------------------------------------------------------

    def participation(self, rows: list[Any]) -> list[ParticipationAnswer]:
        read: list[tuple[str, ParticipationAnswer]] = []
        for row in rows:
            if not isinstance(row, dict):
                raise ValueError("a participation row is not an object")
            self.row = str(row.get("row", ""))[:40]
            answer = self.participation_row(row)
            if answer is not None:
                read.append((self.row, answer))
        conflicts = answers.participation_conflicts([a.to_dict() for _, a in read])
        for index, code, params in conflicts.items:
            self.row = read[index][0]
            none = self._(m.NO_METHODS)
            self.error("method", m.PROBLEM_CELL_MESSAGES[code], none=none, **params)
        return [a for _, a in read]

    def participation_row(self, row: dict[str, Any]) -> ParticipationAnswer | None:
        before = len(self.problems)
        level_id = self.ident(row, "level_id")
        level = self.session.get(Level, level_id) if level_id is not None else None
        if level is None or level.retired_at is not None:
            self.error("method", texts.NOT_A_CHOICE, value=_text(row.get("level_id")))
            return None
        if row.get("none") is True:
            if any(self.given(row, name) for name in ("method_id", "method_text", "count")):
                self.error("none", m.CELL_NO_METHODS_ALONE, none=self._(m.NO_METHODS))
                return None
            return ParticipationAnswer(level.id, none=True)
        method_id = self.ident(row, "method_id")
        if method_id is not None:
            method = catalog.by_id(self.session, catalog.CatalogMethod, method_id)
            if method is None or method.level_id != level.id or method.retired_at is not None:
                self.error(
                    "method", m.CELL_UNKNOWN_METHOD, value=_text(method_id), level=level.number
                )
        own = self.read(row, "method_text", lambda value, _lang: answers.method_name(value))
        count = self.read(row, "count", answers.read_count)
        note = self.text(row, "note")
        if method_id is not None and own is not None:
            self.error("method_text", m.CELL_BOTH_METHODS)
        elif method_id is None and own is None and not self.given(row, "method_text"):
            self.error("method_text", m.CELL_METHOD_MISSING)
        if count is None and not self.given(row, "count"):
            self.error("count", m.CELL_COUNT_MISSING)
        if len(self.problems) > before or count is None:
            return None
        return ParticipationAnswer(
            level_id=level.id,
            method_id=method_id,
            method_text=None if method_id is not None else own,
            count=count,
            note=note,
        )

    # --- satisfaction ------------------------------------------------------------------

    def satisfaction(self, rows: list[Any]) -> list[SatisfactionAnswer]:
        read: list[tuple[str, SatisfactionAnswer]] = []
        for row in rows:
            if not isinstance(row, dict):
                raise ValueError("a satisfaction row is not an object")
            self.row = str(row.get("row", ""))[:40]
            answer = self.satisfaction_row(row)
            if answer is not None:
                read.append((self.row, answer))
        if not read:
            return []
        not_measured = next(
            (t.id for t in catalog.measurement_types(self.session) if t.kind == "none"), None
        )
        conflicts = answers.satisfaction_conflicts(
            [a.measurement_type_id for _, a in read], not_measured
        )
        for index, code, params in conflicts.items:
            self.row = read[index][0]
            self.error("measurement_type_id", m.PROBLEM_CELL_MESSAGES[code], **params)
        return [a for _, a in read]

    def satisfaction_row(self, row: dict[str, Any]) -> SatisfactionAnswer | None:
        before = len(self.problems)
        type_id = self.ident(row, "measurement_type_id")
        if type_id is None:
            if not self.problems[before:]:
                self.error("measurement_type_id", m.CELL_TYPE_MISSING)
            return None
        mtype = self.session.get(MeasurementType, type_id)
        if mtype is None or mtype.retired_at is not None:
            self.error("measurement_type_id", m.CELL_UNKNOWN_TYPE, value=_text(type_id))
            return None
        return answers.read_satisfaction_row(_Fields(self, row), mtype)


class _Fields:
    """One posted satisfaction row as the rule book's `answers.RowFields`."""

    def __init__(self, reader: _Reader, row: dict[str, Any]) -> None:
        self.reader = reader
        self.row = row

    @property
    def problems(self) -> int:
        return len(self.reader.problems)

    def given(self, name: str) -> bool:
        return self.reader.given(self.row, name)

    def read(self, name: str, rule: Any) -> Any:
        return self.reader.read(self.row, name, rule)

    def text(self, name: str, limit: int) -> str | None:
        return self.reader.text(self.row, name, limit)

    def problem(self, name: str, problem: answers.AnswerProblem) -> None:
        message = _ROW_MESSAGES.get(problem.code) or m.PROBLEM_CELL_MESSAGES[problem.code]
        self.reader.error(name, message, **self.reader.worded(problem.params))


#: A frequency is a choice on the page: one not offered is "not a choice".
_ROW_MESSAGES = {answers.UNKNOWN_FREQUENCY: texts.NOT_A_CHOICE}


def read_entity(
    session: Session, posted: dict[str, Any], language: str, problems: list[Problem]
) -> EntityAnswers:
    """One posted entity read by the rules; problems are appended to ``problems``.

    Raises ValueError for a body that is not the page's shape (answered 400).
    """
    entity_id = posted.get("id")
    version = posted.get("version")
    participation = posted.get("participation", [])
    satisfaction = posted.get("satisfaction", [])
    if not isinstance(entity_id, int) or isinstance(entity_id, bool):
        raise ValueError("entity id")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValueError("version")
    if not isinstance(participation, list) or not isinstance(satisfaction, list):
        raise ValueError("rows")
    reader = _Reader(session, entity_id, language, problems)
    return EntityAnswers(
        entity_id,
        version,
        reader.participation(participation) if participation is not None else [],
        reader.satisfaction(satisfaction),
    )


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

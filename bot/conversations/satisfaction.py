"""/tyytyvaisyys: how customer satisfaction is measured in each service entity (the mapping).

Steps::

    ENTITY ──► PREFILL (only when last year has answers) ──► TYPES ──► details per type ──► REVIEW
                                                              │ "not measured" ──────────────▲

    details of one measurement type:
        (other: OTHER_NAME) ► (scale, other: SCALE) ► FREQUENCY ─┬ nps: NPS ──────┐
                                                                 └ else: RESULT ──┤
                                              PERIOD ◄──────────────────────────┘
                                              RESPONDENTS (not after NPS counts) ► next / REVIEW

Measurement types come from the catalog (several allowed, or the explicit "not measured").
NPS asks no scale, and one message gives either the score ("35") or the counts of
promoters, passives and detractors ("50 30 20"): the score and the respondents are then
computed (``data.answers.nps_from_counts``). Every value is read and checked by the rule
book ``data.answers`` (as the Excel import reads its cells). "Muu tapa" asks what the
method is. Every question shows the current answer and offers to keep it, so changing one
detail from the summary never drops another.
Save replaces the entity's answers with ``data.reports.save_satisfaction`` in the same
transaction that removes the draft.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from bot import ui
from bot.flow import entities, inputs
from bot.flow.codec import Press
from bot.flow.engine import (
    MSG_KEEP_AS_IS,
    Button,
    Done,
    EngineDraft,
    Flow,
    LinkButton,
    Outcome,
    Prompt,
    Retry,
    Stale,
    Turn,
)
from data import answers, catalog, reports
from data.drafts import Draft
from data.models import MeasurementType, ServiceEntity
from i18n import N_, formats

START_DATA = "satisfaction:start"
#: The catalog code of "Muu tapa": the person names the method.
OTHER_TYPE = "OTHER"


class SatisfactionDraft(EngineDraft, total=False):
    """The draft's data (``ConversationDraft.data``) of this flow, version 2; validated
    whenever it is read (``Flow(draft=...)``)."""

    entity: int | None  # service entity id
    types: list[int]  # measurement type ids chosen, in catalog order
    type_index: int  # the type whose details are asked
    answers: dict[str, dict[str, Any]]  # type id → SatisfactionAnswer fields
    origin: str  # "new" | "saved" | "last_year"
    review_return: bool  # details opened from the summary return there
    reviewed: bool  # the summary was shown: every chosen type's questions were asked
    only_new: list[int] | None  # types added after the summary: only theirs are asked
    kept: dict[str, dict[str, Any]]  # entity id → unsaved answers left behind (ENTITY_KEYS)
    based_on: int | None  # the entity's answers' version when opened (entities.record_base)


class SatisfactionStep(enum.StrEnum):
    OTHER_NAME = "other_name"
    ENTITY = "entity"
    PREFILL = "prefill"
    TYPES = "types"
    SCALE = "scale"
    FREQUENCY = "frequency"
    NPS = "nps"
    RESULT = "result"
    PERIOD = "period"
    RESPONDENTS = "respondents"
    REVIEW = "review"


S = SatisfactionStep
DETAIL_STEPS = (
    S.OTHER_NAME,
    S.SCALE,
    S.FREQUENCY,
    S.NPS,
    S.RESULT,
    S.PERIOD,
    S.RESPONDENTS,
)
TOTAL_STEPS = 4

TITLE = N_("Satisfaction mapping")
MSG_CHOOSE_ENTITY = N_(
    "Customer satisfaction {year}: {division}.\nChoose the service entity. ✓ = how "
    "satisfaction is measured has been reported."
)
MSG_PREFILL = N_(
    "Reported last year ({year}) for {entity}:\n{answers}\n\nUse these as the starting "
    "point? The ways of measuring are copied; each result and period is asked again, with "
    "last year's offered."
)
MSG_LAST_YEAR_VALUE = N_("In {year}: {value}")
MSG_SAME_AS_VALUE = N_("Same as {year} ({value})")
#: The parts of an answer that are one year's result: never saved as this year's unasked.
RESULT_FIELDS = (
    "latest_result",
    "nps",
    "promoters",
    "passives",
    "detractors",
    "respondents",
    "period",
)
MSG_TYPES = N_(
    "{entity}\nHow is customer satisfaction measured? Choose every way in use, then Continue. "
    "If it is not measured at all, choose “Not measured”."
)
MSG_CONTINUE = N_("Continue ›")
MSG_NEED_TYPE = N_("Choose at least one way of measuring, or “Not measured”.")
MSG_DETAIL_HEADER = N_("{entity} – {type} ({index}/{count})")
MSG_SCALE_ASK = N_("Which scale is used? The catalog says {scale}: keep it or write another.")
MSG_SCALE_ASK_FREE = N_("Which scale is used (for example 1–10)? Write it, or Skip.")
MSG_SKIP = N_("Skip")
MSG_FREQUENCY_ASK = N_("How often is it measured? Choose, or write it in your own words.")
MSG_NO_RESULT = N_("No result yet")
MSG_NPS_ASK = N_(
    "The latest NPS: write the score (e.g. 35), or the numbers of promoters (9–10), passives "
    "(7–8) and detractors (0–6) separated by spaces or commas (e.g. 50 30 20) – the score "
    "and the respondents are then computed."
)
MSG_NPS_NOW = N_("Now: {value}")
MSG_NPS_PARTS = N_(
    "Write either one number (the score) or three (promoters, passives, detractors). With "
    "thousands, separate the three with commas: 1 200, 300, 150."
)
MSG_OTHER_NAME_ASK = N_("What is the other way of measuring? Write its name, e.g. “Palautekysely”.")
MSG_SCALE_NOW = N_(
    "Which scale is used? Now {scale} (the catalog says {catalog}): keep it or write another."
)
MSG_RESULT_SCALE_ASK = N_("The latest result as a number on the scale {scale}, e.g. 4,2. Or Skip.")
MSG_RESULT_FREE_ASK = N_(
    "The latest result in a few words (at most {limit} characters), for example “82 % positive”. "
    "Or Skip."
)
MSG_PERIOD_ASK = N_(
    "Which period is the latest result from? For example 2025 or 1–6/2026 (at most {limit} "
    "characters). Or Skip."
)
MSG_NPS_COMPUTED = N_("NPS computed from the counts: {nps}.")
MSG_RESPONDENTS_ASK = N_("How many respondents did the latest result have?")
MSG_REVIEW = N_("Summary: {entity} ({year})")
MSG_REVIEW_EMPTY = N_("No way of measuring chosen yet.")
MSG_REVIEW_ASK = N_(
    "✎ changes the details of a way of measuring, 🗑 removes it. Save stores everything."
)
MSG_CHANGE_TYPES = N_("Change the ways of measuring")
MSG_SAVE = N_("💾 Save")
MSG_NOTHING_TO_SAVE = N_(
    "There is nothing to save yet: choose a way of measuring or “Not measured”."
)
MSG_SAVED = N_("Saved: {entity}, {year}. How satisfaction is measured is now in the database.")
MSG_SAVED_TOAST = N_("Saved ✓")
MSG_SAVED_NEXT = N_("/tila shows your division's status; /raportoi reports participation methods.")
MSG_MAP_ANOTHER = N_("Map another service entity")
MSG_INVALID_ANSWER = N_("This answer could not be saved: {problem}")
MSG_FIELD_SCALE = N_("Scale")
MSG_FIELD_FREQUENCY = N_("Frequency")
MSG_FIELD_RESULT = N_("Latest result")
MSG_FIELD_PERIOD = N_("Period")
MSG_FIELD_RESPONDENTS = N_("Respondents")
MSG_NPS_COUNTS_LINE = N_(
    "NPS {nps} (promoters {promoters}, passives {passives}, detractors {detractors})"
)
MSG_DESCRIBE_ENTITY = N_("{entity}, {where}")
MSG_WHERE_TYPES = N_("ways of measuring")
MSG_WHERE_DETAILS = N_("details of {type}")
MSG_WHERE_REVIEW = N_("summary")

HELP = {
    S.ENTITY: N_(
        "Choose the service entity (palvelukokonaisuus) whose customer-satisfaction "
        "measurement you describe. ✓ marks those already reported."
    ),
    S.PREFILL: N_(
        "Last year's answers can be the starting point; you update the results in the summary "
        "before saving. Nothing is saved until you press Save."
    ),
    S.TYPES: N_(
        "Tap every way the service entity measures satisfaction (tap again to remove), then "
        "Continue. “Not measured” is an answer too: it tells that nothing is measured today."
    ),
    S.SCALE: N_(
        "The answer scale of the measurement, e.g. 1–5 or 4–10. Keep the catalog's or write yours."
    ),
    S.FREQUENCY: N_("How often results are collected: continuously, monthly, once a year …"),
    S.OTHER_NAME: N_("The name of the way of measuring as it should read in the report."),
    S.NPS: N_(
        "NPS = % promoters − % detractors, a whole number. If you only have the numbers of "
        "answers, give them and the bot computes the score."
    ),
    S.RESULT: N_("The latest result as it was reported, e.g. a mean of 4,2 on a 1–5 scale."),
    S.PERIOD: N_("When the latest result was collected: a year, months or dates."),
    S.RESPONDENTS: N_(
        "How many people answered. With NPS counts this is their sum; a different number is "
        "refused so the figures stay consistent."
    ),
    S.REVIEW: N_(
        "Check the answers. ✎ goes through one way of measuring again, 🗑 removes it, and "
        "“Change the ways of measuring” returns to the list. Save stores this service "
        "entity's answers in one go."
    ),
}


# --- draft helpers ---------------------------------------------------------------------


def _types(turn: Turn) -> list[int]:
    types: list[int] = turn.data.setdefault("types", [])
    return types


def _answer(turn: Turn, type_id: int | None = None) -> dict[str, Any]:
    if type_id is None:
        type_id = _types(turn)[int(turn.data.get("type_index", 0))]
    return turn.data.setdefault("answers", {}).setdefault(str(type_id), {})


def _mtype(turn: Turn, type_id: int | None = None) -> MeasurementType:
    if type_id is None:
        types = _types(turn)
        index = int(turn.data.get("type_index", 0))
        if not 0 <= index < len(types):
            raise Stale
        type_id = types[index]
    mtype = turn.get(MeasurementType, int(type_id))
    if mtype is None:
        raise Stale
    return mtype


def _not_measured(turn: Turn) -> MeasurementType | None:
    return next((t for t in catalog.measurement_types(turn.session) if t.kind == "none"), None)


def _frequency_label(turn: Turn, answer: dict[str, Any]) -> str:
    return catalog.frequency_name(
        answer.get("frequency"), answer.get("frequency_text"), turn.language
    )


def _from_saved(answers: list[reports.SatisfactionAnswer]) -> tuple[list[int], dict[str, Any]]:
    types = []
    details: dict[str, Any] = {}
    for answer in answers:
        types.append(answer.measurement_type_id)
        data = answer.to_dict()
        data.pop("measurement_type_id")
        details[str(answer.measurement_type_id)] = data
    return types, details


def _steps_for(turn: Turn, type_id: int) -> list[str]:
    mtype = _mtype(turn, type_id)
    if mtype.kind == "none":
        return []
    steps: list[str] = []
    if mtype.code == OTHER_TYPE:
        steps.append(S.OTHER_NAME)
    if mtype.kind == "scale" or mtype.code == OTHER_TYPE:
        steps.append(S.SCALE)
    steps.append(S.FREQUENCY)
    steps.append(S.NPS if mtype.kind == "nps" else S.RESULT)
    steps.append(S.PERIOD)
    if _counts_total(turn, type_id) is None:
        steps.append(S.RESPONDENTS)  # with NPS counts the respondents are their sum
    return steps


def _positions(turn: Turn) -> list[tuple[int, str]]:
    """The detail questions still to ask: one type's (opened from the summary), the new
    types' (types added to answers already given), or every type's."""
    types = _types(turn)
    if turn.data.get("review_return"):
        indexes: list[int] = [int(turn.data.get("type_index", 0))]
    elif turn.data.get("only_new"):
        indexes = [i for i, t in enumerate(types) if t in set(turn.data["only_new"])]
    else:
        indexes = list(range(len(types)))
    return [(i, step) for i in indexes for step in _steps_for(turn, types[i])]


def _forward(turn: Turn) -> Outcome:
    """The next detail question, or the summary after the last one."""
    positions = _positions(turn)
    here = (int(turn.data.get("type_index", 0)), turn.step)
    index = positions.index(here) if here in positions else -1
    if index + 1 < len(positions):
        turn.data["type_index"], step = positions[index + 1]
        return step
    turn.data["review_return"] = False
    turn.data.pop("only_new", None)
    return S.REVIEW


def _backward(turn: Turn) -> Outcome:
    positions = _positions(turn)
    here = (int(turn.data.get("type_index", 0)), turn.step)
    index = positions.index(here) if here in positions else 0
    if index > 0:
        turn.data["type_index"], step = positions[index - 1]
        return step
    if turn.data.get("review_return"):
        turn.data["review_return"] = False
        return S.REVIEW
    return S.TYPES


def _counter(turn: Turn) -> tuple[int, int]:
    if turn.step in (S.ENTITY, S.PREFILL):
        return 1, TOTAL_STEPS
    if turn.step == S.TYPES:
        return 2, TOTAL_STEPS
    if turn.step == S.REVIEW:
        return TOTAL_STEPS, TOTAL_STEPS
    return 3, TOTAL_STEPS


def _type_name(turn: Turn, type_id: int | None = None) -> str:
    """The way of measuring as the person gave it: "Muu tapa" by its name, a scale of the
    person's own instead of the catalog's."""
    mtype = _mtype(turn, type_id)
    answer = _answer(turn, type_id if type_id is not None else None)
    return answers.measurement_name(
        catalog.name_of(mtype, turn.language),
        mtype.scale,
        answer.get("scale"),
        answer.get("other_name"),
    )


def _header(turn: Turn) -> str:
    return turn._(MSG_DETAIL_HEADER).format(
        entity=entities.entity_name(turn),
        type=_type_name(turn),
        index=int(turn.data.get("type_index", 0)) + 1,
        count=len(_types(turn)),
    )


def _keep_row(turn: Turn, value: object) -> list[Button | LinkButton]:
    return [Button(turn._(MSG_KEEP_AS_IS).format(value=ui.short_label(str(value))), "k")]


def _keep(field: str) -> Any:
    """ "Keep as it is": the stored value stays, the next question follows."""

    def keep(turn: Turn, press: Press) -> Outcome:
        if _answer(turn).get(field) in (None, ""):
            raise Stale
        return _forward(turn)

    return keep


def _detail_lines(turn: Turn, type_id: int) -> list[str]:
    """The answers about one way of measuring, as lines of the summary."""
    mtype = _mtype(turn, type_id)
    if mtype.kind == "none":
        return []
    answer = _answer(turn, type_id)
    lines = []
    facts = []
    if answer.get("scale"):
        facts.append(f"{turn._(MSG_FIELD_SCALE)}: {answer['scale']}")
    if answer.get("frequency"):
        facts.append(f"{turn._(MSG_FIELD_FREQUENCY)}: {_frequency_label(turn, answer)}")
    if facts:
        lines.append(" · ".join(facts))
    facts = []
    if answer.get("promoters") is not None and answer.get("nps") is not None:
        facts.append(
            turn._(MSG_NPS_COUNTS_LINE).format(
                nps=formats.format_nps(int(answer["nps"]), turn.language),
                promoters=turn.number(int(answer["promoters"])),
                passives=turn.number(int(answer["passives"])),
                detractors=turn.number(int(answer["detractors"])),
            )
        )
    elif answer.get("nps") is not None:
        facts.append(f"NPS {formats.format_nps(int(answer['nps']), turn.language)}")
    elif answer.get("latest_result"):
        facts.append(f"{turn._(MSG_FIELD_RESULT)}: {answer['latest_result']}")
    if answer.get("period"):
        facts.append(f"{turn._(MSG_FIELD_PERIOD)}: {answer['period']}")
    if answer.get("respondents") is not None:
        facts.append(f"{turn._(MSG_FIELD_RESPONDENTS)}: {turn.number(int(answer['respondents']))}")
    if facts:
        lines.append(" · ".join(facts))
    return lines


# --- start, guard, verify --------------------------------------------------------------


def _start(turn: Turn) -> Outcome:
    return S.ENTITY


def _describe(turn: Turn, row: Draft) -> str | None:
    data = row.data
    if data.get("entity") is None or not (data.get("types") or data.get("answers")):
        return None  # nothing answered yet: the flow simply starts again
    entity = turn.get(ServiceEntity, int(data["entity"]))
    name = catalog.name_of(entity, turn.language) if entity else "?"
    step = data.get("resume", row.step)
    if step == S.REVIEW:
        where = turn._(MSG_WHERE_REVIEW)
    elif step in DETAIL_STEPS:
        types = data.get("types") or []
        index = int(data.get("type_index", 0))
        mtype = turn.get(MeasurementType, int(types[index])) if 0 <= index < len(types) else None
        type_name = catalog.name_of(mtype, turn.language) if mtype else "?"
        where = turn._(MSG_WHERE_DETAILS).format(type=type_name)
    else:
        where = turn._(MSG_WHERE_TYPES)
    return turn._(MSG_DESCRIBE_ENTITY).format(entity=name, where=where)


# --- ENTITY and PREFILL ----------------------------------------------------------------


def _render_entity(turn: Turn) -> Prompt:
    return entities.entity_menu(turn, MSG_CHOOSE_ENTITY, lambda e: e.satisfaction_mapped)


#: The draft keys that hold one entity's unsaved answers (kept when the person leaves it).
ENTITY_KEYS = ("types", "answers", "origin", "type_index", entities.BASE_KEY)


def _unsaved(turn: Turn) -> bool:
    """The open entity's answers differ from what is saved for it."""
    if not (_types(turn) or turn.data.get("answers")) or turn.data.get("entity") is None:
        return False
    saved = reports.satisfaction_for_year(turn.session, turn.year, int(turn.data["entity"]))
    return list(_from_saved(saved)) != [_types(turn), turn.data.get("answers")]


def _choose_entity(turn: Turn, press: Press) -> Outcome:
    entity_id = entities.pressed_entity(turn, press)
    same = turn.data.get("entity") == entity_id and _types(turn)
    restored = not same and entities.switch_entity(turn, entity_id, ENTITY_KEYS, _unsaved)
    turn.data.update(entity=entity_id, review_return=False)
    if restored:
        return S.REVIEW
    turn.data["type_index"] = 0
    if same:
        return S.TYPES
    year = int(turn.data["year"])
    entities.record_base(turn, entity_id)
    saved = reports.satisfaction_for_year(turn.session, year, entity_id)
    turn.data["types"], turn.data["answers"] = _from_saved(saved)
    turn.data["origin"] = "saved" if saved else "new"
    if saved:
        return S.REVIEW
    if reports.previous_satisfaction(turn.session, year, entity_id):
        return S.PREFILL
    return S.TYPES


def _summary_lines(turn: Turn) -> list[str]:
    lines = []
    for index, type_id in enumerate(_types(turn)):
        lines.append(f"{index + 1}) {_type_name(turn, type_id)}")
        lines += [f"   {line}" for line in _detail_lines(turn, type_id)]
    return lines


def _render_prefill(turn: Turn) -> Prompt:
    year = int(turn.data["year"])
    previous = reports.previous_satisfaction(turn.session, year, int(turn.data["entity"]))
    keep = turn.data.get("types"), turn.data.get("answers")
    turn.data["types"], turn.data["answers"] = _from_saved(previous)
    lines = _summary_lines(turn)
    turn.data["types"], turn.data["answers"] = keep
    return entities.last_year_prompt(turn, MSG_PREFILL, lines)


def _use_last_year(turn: Turn, press: Press) -> Outcome:
    """Last year's ways of measuring as the start; their results and periods are asked
    again, last year's offered beside each (``last_year``), so none is saved unconfirmed."""
    year = int(turn.data["year"])
    previous = reports.previous_satisfaction(turn.session, year, int(turn.data["entity"]))
    turn.data["types"], turn.data["answers"] = _from_saved(previous)
    for answer in turn.data["answers"].values():
        answer["last_year"] = {k: answer.get(k) for k in RESULT_FIELDS if answer.get(k) is not None}
        answer.update({k: None for k in RESULT_FIELDS})
    turn.data["origin"] = "last_year"
    turn.data["type_index"] = 0
    turn.data["review_return"] = False
    positions = _positions(turn)
    if not positions:
        return S.REVIEW
    turn.data["type_index"], step = positions[0]
    return step


def _last_year(turn: Turn) -> dict[str, Any]:
    return _answer(turn).get("last_year") or {}


def _last_year_row(turn: Turn, shown: str) -> list[Button | LinkButton]:
    year = int(turn.data["year"]) - 1
    label = turn._(MSG_SAME_AS_VALUE).format(year=year, value=ui.short_label(shown))
    return [Button(label, "y")]


def _use_previous(*fields: str) -> Any:
    """ "Same as last year": last year's value of these parts, confirmed by the press."""

    def use(turn: Turn, press: Press) -> Outcome:
        last = _last_year(turn)
        if not any(last.get(f) is not None for f in fields):
            raise Stale
        _answer(turn).update({f: last.get(f) for f in fields})
        return _forward(turn)

    return use


def _start_empty(turn: Turn, press: Press) -> Outcome:
    turn.data["types"], turn.data["answers"] = [], {}
    return S.TYPES


def _back_to_entity(turn: Turn) -> Outcome:
    return S.ENTITY


# --- TYPES -----------------------------------------------------------------------------


def _render_types(turn: Turn) -> Prompt:
    chosen = set(_types(turn))
    rows: list[list[Button | LinkButton]] = []
    none_type = None
    for mtype in catalog.measurement_types(turn.session):
        if mtype.kind == "none":
            none_type = mtype
            continue
        mark = "☑" if mtype.id in chosen else "☐"
        rows.append([Button(f"{mark} {catalog.name_of(mtype, turn.language)}", "t", mtype.id)])
    if none_type is not None:
        mark = "☑ " if none_type.id in chosen else ""
        rows.append([Button(mark + catalog.name_of(none_type, turn.language), "n")])
    rows.append([Button(turn._(MSG_CONTINUE), "f")])
    text = turn._(MSG_TYPES).format(entity=entities.entity_name(turn))
    return Prompt(text, rows)


def _toggle_type(turn: Turn, press: Press) -> Outcome:
    type_id = press.int_arg()
    mtype = turn.get(MeasurementType, type_id) if type_id else None
    if mtype is None or mtype.retired_at is not None or mtype.kind == "none":
        raise Stale
    order = [t.id for t in catalog.measurement_types(turn.session)]
    chosen = {t for t in _types(turn) if _mtype(turn, t).kind != "none"}
    chosen ^= {mtype.id}
    turn.data["types"] = [t for t in order if t in chosen]
    return S.TYPES


def _choose_not_measured(turn: Turn, press: Press) -> Outcome:
    none_type = _not_measured(turn)
    if none_type is None:
        raise Stale
    turn.data["types"] = [none_type.id]
    turn.data["answers"] = {}
    turn.data["review_return"] = False
    return S.REVIEW


def _types_done(turn: Turn, press: Press) -> Outcome:
    types = _types(turn)
    if not types:
        raise Retry(MSG_NEED_TYPE)
    turn.data["type_index"] = 0
    turn.data["review_return"] = False
    # Types added to answers already given: only the new ones are asked (the others keep
    # their answers and stay changeable with ✎ on the summary).
    given = set((turn.data.get("answers") or {}).keys()) if turn.data.get("reviewed") else set()
    new = [t for t in types if str(t) not in given]
    turn.data["only_new"] = new if given and new else None
    positions = _positions(turn)
    if not positions:
        turn.data.pop("only_new", None)
        return S.REVIEW
    turn.data["type_index"], step = positions[0]
    return step


# --- detail steps ----------------------------------------------------------------------


def _render_scale(turn: Turn) -> Prompt:
    mtype = _mtype(turn)
    current = _answer(turn).get("scale") or mtype.scale
    if current and mtype.scale and current != mtype.scale:
        ask = turn._(MSG_SCALE_NOW).format(scale=current, catalog=mtype.scale)
        rows = [_keep_row(turn, current)]
    elif current:
        ask = turn._(MSG_SCALE_ASK).format(scale=current)
        rows = [_keep_row(turn, current)]
    else:
        ask = turn._(MSG_SCALE_ASK_FREE)
        rows = [[Button(turn._(MSG_SKIP), "s")]]
    return Prompt(f"{_header(turn)}\n{ask}", rows)


def _keep_scale(turn: Turn, press: Press) -> Outcome:
    _answer(turn)["scale"] = _answer(turn).get("scale") or _mtype(turn).scale or None
    return _forward(turn)


def _skip(field: str) -> Any:
    def skip(turn: Turn, press: Press) -> Outcome:
        _answer(turn)[field] = None
        return _forward(turn)

    return skip


def _typed_scale(turn: Turn, text: str) -> Outcome:
    _answer(turn)["scale"] = inputs.read(answers.read_scale, text)
    return _forward(turn)


def _render_frequency(turn: Turn) -> Prompt:
    rows: list[list[Button | LinkButton]] = [
        [Button(catalog.name_of_choice(item.name, turn.language), "p", item.code)]
        for item in catalog.frequencies()
    ]
    text = f"{_header(turn)}\n{turn._(MSG_FREQUENCY_ASK)}"
    if _answer(turn).get("frequency"):
        current = _frequency_label(turn, _answer(turn))
        text += "\n" + turn._(MSG_NPS_NOW).format(value=current)  # "Nyt:" as on every step
        rows.append(_keep_row(turn, current))
    return Prompt(text, rows)


def _preset_frequency(turn: Turn, press: Press) -> Outcome:
    if press.arg not in {item.code for item in catalog.frequencies()}:
        raise Stale
    _answer(turn).update(frequency=press.arg, frequency_text=None)
    return _forward(turn)


def _keep_frequency(turn: Turn, press: Press) -> Outcome:
    if not _answer(turn).get("frequency"):
        raise Stale
    return _forward(turn)


def _typed_frequency(turn: Turn, text: str) -> Outcome:
    typed = inputs.clean_text(text)
    for item in catalog.frequencies():  # a choice typed out is that choice
        if typed.casefold() in {name.casefold() for name in item.name.values()}:
            _answer(turn).update(frequency=item.code, frequency_text=None)
            return _forward(turn)
    _answer(turn).update(frequency=catalog.OTHER_FREQUENCY, frequency_text=typed)
    return _forward(turn)


def _render_nps(turn: Turn) -> Prompt:
    answer = _answer(turn)
    text = f"{_header(turn)}\n{turn._(MSG_NPS_ASK)}"
    rows: list[list[Button | LinkButton]] = []
    current = _nps_text(turn, answer)
    if current:  # the counts in the text, the score alone on the button (item 15)
        text += "\n" + turn._(MSG_NPS_NOW).format(value=current)
        rows.append(_keep_row(turn, _nps_short(turn, answer)))
    elif _last_year(turn).get("nps") is not None:
        previous = _nps_text(turn, _last_year(turn))
        year = int(turn.data["year"]) - 1
        text += "\n" + turn._(MSG_LAST_YEAR_VALUE).format(year=year, value=previous)
        rows.append(_last_year_row(turn, _nps_short(turn, _last_year(turn))))
    rows.append([Button(turn._(MSG_NO_RESULT), "n")])
    return Prompt(text, rows)


def _nps_text(turn: Turn, answer: dict[str, Any]) -> str:
    if answer.get("promoters") is not None and answer.get("nps") is not None:
        return turn._(MSG_NPS_COUNTS_LINE).format(
            nps=formats.format_nps(int(answer["nps"]), turn.language),
            promoters=turn.number(int(answer["promoters"])),
            passives=turn.number(int(answer["passives"])),
            detractors=turn.number(int(answer["detractors"])),
        )
    if answer.get("nps") is not None:
        return f"NPS {formats.format_nps(int(answer['nps']), turn.language)}"
    return ""


def _nps_short(turn: Turn, answer: dict[str, Any]) -> str:
    """ "NPS 30": the score alone, for a button."""
    return f"NPS {formats.format_nps(int(answer['nps']), turn.language)}"


_NPS_SEPARATORS = re.compile(r"[,;/]")


def _typed_nps(turn: Turn, text: str) -> Outcome:
    """One number is the score; three (promoters, passives, detractors) give the score.

    The three may be separated by commas or spaces; a part like "000" means thousands were
    written with spaces, which cannot be told apart from three counts, so that is refused.
    """
    parts = [p for p in _NPS_SEPARATORS.split(text) if p.strip()]
    if len(parts) != 3:
        parts = text.split()
        if any(p.isdigit() and len(p) > 1 and p.startswith("0") for p in parts):
            raise Retry(MSG_NPS_PARTS)
    answer = _answer(turn)
    if len(parts) <= 1:
        answer.update(
            nps=inputs.read_nps(text, turn.language),
            promoters=None,
            passives=None,
            detractors=None,
        )
        return _forward(turn)
    if len(parts) != 3:
        raise Retry(MSG_NPS_PARTS)
    promoters, passives, detractors = (
        inputs.read(answers.read_nps_count, p, turn.language) for p in parts
    )
    nps, respondents = inputs.read(answers.nps_counts, None, promoters, passives, detractors, None)
    answer.update(
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=nps,
        respondents=respondents,
    )
    return _forward(turn)


def _no_nps(turn: Turn, press: Press) -> Outcome:
    _answer(turn).update(nps=None, promoters=None, passives=None, detractors=None)
    return _forward(turn)


def _keep_nps(turn: Turn, press: Press) -> Outcome:
    if _answer(turn).get("nps") is None:
        raise Stale
    return _forward(turn)


def _render_other_name(turn: Turn) -> Prompt:
    current = _answer(turn).get("other_name")
    text = f"{_header(turn)}\n{turn._(MSG_OTHER_NAME_ASK)}"
    return Prompt(text, [_keep_row(turn, current)] if current else [])


def _typed_other_name(turn: Turn, text: str) -> Outcome:
    _answer(turn)["other_name"] = inputs.method_name(text)
    return _forward(turn)


def _render_result(turn: Turn) -> Prompt:
    mtype = _mtype(turn)
    if mtype.kind == "scale":
        scale = _answer(turn).get("scale") or mtype.scale
        ask = turn._(MSG_RESULT_SCALE_ASK).format(scale=scale)
    else:
        ask = turn._(MSG_RESULT_FREE_ASK).format(limit=turn.number(answers.MAX_TEXT))
    return _with_keep(turn, f"{_header(turn)}\n{ask}", "latest_result")


def _with_keep(turn: Turn, text: str, field: str) -> Prompt:
    """A detail question showing the current answer, with Keep (if any) and Skip."""
    current = _answer(turn).get(field)
    previous = _last_year(turn).get(field)
    rows: list[list[Button | LinkButton]] = []
    if current not in (None, ""):
        shown = turn.number(int(current)) if isinstance(current, int) else str(current)
        text += "\n" + turn._(MSG_NPS_NOW).format(value=shown)
        rows.append(_keep_row(turn, shown))
    elif previous not in (None, ""):
        shown = turn.number(int(previous)) if isinstance(previous, int) else str(previous)
        year = int(turn.data["year"]) - 1
        text += "\n" + turn._(MSG_LAST_YEAR_VALUE).format(year=year, value=shown)
        rows.append(_last_year_row(turn, shown))
    rows.append([Button(turn._(MSG_SKIP), "s")])
    return Prompt(text, rows)


def _typed_result(turn: Turn, text: str) -> Outcome:
    """The result the measurement type takes (``data.answers.read_result``): a number
    inside the saved scale ("4,2"), or a few words."""
    answer = _answer(turn)
    answer["latest_result"] = inputs.read(
        answers.read_result, text, _mtype(turn), answer.get("scale")
    )
    return _forward(turn)


def _render_period(turn: Turn) -> Prompt:
    prefix = ""
    answer = _answer(turn)
    if answer.get("promoters") is not None and answer.get("nps") is not None:
        nps = formats.format_nps(int(answer["nps"]), turn.language)
        prefix = turn._(MSG_NPS_COMPUTED).format(nps=nps) + "\n\n"
    period_ask = turn._(MSG_PERIOD_ASK).format(limit=turn.number(answers.MAX_PERIOD))
    return _with_keep(turn, f"{prefix}{_header(turn)}\n{period_ask}", "period")


def _typed_period(turn: Turn, text: str) -> Outcome:
    _answer(turn)["period"] = inputs.clean_text(text, limit=answers.MAX_PERIOD)
    return _forward(turn)


def _counts_total(turn: Turn, type_id: int | None = None) -> int | None:
    """The NPS counts' sum (the respondents), when the counts were given."""
    answer = _answer(turn, type_id)
    counts = [answer.get(k) for k in ("promoters", "passives", "detractors")]
    if any(c is None for c in counts):
        return None
    return sum(int(str(c)) for c in counts)


def _render_respondents(turn: Turn) -> Prompt:
    return _with_keep(turn, f"{_header(turn)}\n{turn._(MSG_RESPONDENTS_ASK)}", "respondents")


def _typed_respondents(turn: Turn, text: str) -> Outcome:
    _answer(turn)["respondents"] = inputs.read_respondents(text, turn.language)
    return _forward(turn)


# --- REVIEW ----------------------------------------------------------------------------


def _render_review(turn: Turn) -> Prompt:
    turn.data["reviewed"] = True  # every chosen type's questions have been through
    lines = [
        turn._(MSG_REVIEW).format(
            entity=entities.entity_name(turn),
            year=turn.data["year"],
        ),
        "",
    ]
    summary = _summary_lines(turn)
    lines += summary or [turn._(MSG_REVIEW_EMPTY)]
    lines += ["", turn._(MSG_REVIEW_ASK)]
    rows: list[list[Button | LinkButton]] = []
    names = [_type_name(turn, type_id) for type_id in _types(turn)]
    for index, type_id in enumerate(_types(turn)):
        row: list[Button | LinkButton] = []
        name = ui.short_label(names[index], ui.NAME_IN_PAIR, names)  # named (item 15)
        if _mtype(turn, type_id).kind != "none":
            row.append(Button(f"✎ {name}", "e", index))
        row.append(Button(f"🗑 {name}", "d", index))
        rows.append(row)
    rows.append([Button(turn._(MSG_CHANGE_TYPES), "t")])
    rows.append([Button(turn._(MSG_SAVE), "s")])
    return Prompt("\n".join(lines), rows)


def _type_index(turn: Turn, press: Press) -> int:
    index = press.int_arg()
    if index is None or index >= len(_types(turn)):
        raise Stale
    return index


def _review_edit(turn: Turn, press: Press) -> Outcome:
    index = _type_index(turn, press)
    turn.data["type_index"] = index
    turn.data["review_return"] = True
    positions = _positions(turn)
    if not positions:
        raise Stale
    return positions[0][1]


def _review_remove(turn: Turn, press: Press) -> Outcome:
    index = _type_index(turn, press)
    type_id = _types(turn).pop(index)
    turn.data.setdefault("answers", {}).pop(str(type_id), None)
    return S.REVIEW


def _review_types(turn: Turn, press: Press) -> Outcome:
    turn.data["types"] = [t for t in _types(turn) if _mtype(turn, t).kind != "none"]
    return S.TYPES


def _review_back(turn: Turn) -> Outcome:
    turn.data["review_return"] = False
    positions = _positions(turn)
    if not positions:
        return S.TYPES
    turn.data["type_index"], step = positions[-1]
    return step


def _save(turn: Turn, press: Press) -> Outcome:
    """Store the entity's answers and drop the draft, in this update's one transaction."""
    answers = []
    for type_id in _types(turn):
        details = {
            k: v for k, v in _answer(turn, type_id).items() if k in reports.SATISFACTION_FIELDS
        }
        answers.append(reports.SatisfactionAnswer(measurement_type_id=type_id, **details))
    if not answers:
        raise Retry(MSG_NOTHING_TO_SAVE)
    year = int(turn.data["year"])
    entity = entities.chosen_entity(turn)
    try:
        reports.save_satisfaction(
            turn.session, turn.person, year, entity.id, answers, based_on=entities.base(turn)
        )
    except reports.ReportLocked:
        return Done(turn._(entities.MSG_LOCKED).format(year=year), keep_draft=True)
    except reports.ChangedElsewhere:
        return _reopen_changed(turn)
    except ValueError as problem:
        raise Retry(MSG_INVALID_ANSWER, problem=str(problem)) from None
    text = (
        turn._(MSG_SAVED).format(entity=catalog.name_of(entity, turn.language), year=year)
        + "\n\n"
        + turn._(MSG_SAVED_NEXT)
    )
    entities.forget_kept(turn, entity.id)
    kept = entities.kept_entities(turn.data)
    if kept:  # other entities' unsaved answers stay in the draft
        turn.data = {"year": year, "seq": turn.data.get("seq", 0), "kept": turn.data["kept"]}
    return Done(
        text,
        rows=[[LinkButton(turn._(MSG_MAP_ANOTHER), START_DATA)]],
        toast=turn._(MSG_SAVED_TOAST),
        draft_step=S.ENTITY if kept else None,
    )


def _reopen_changed(turn: Turn) -> Outcome:
    """Saved elsewhere since the entity was opened: nothing was saved; the summary shows the
    answers saved now, and the notice lists the person's unsaved ones."""
    entities.changed_elsewhere(turn, _summary_lines(turn))
    saved = reports.satisfaction_for_year(turn.session, turn.year, int(turn.data["entity"]))
    turn.data["types"], turn.data["answers"] = _from_saved(saved)
    turn.data.update(
        origin="saved" if saved else "new", type_index=0, review_return=False, only_new=None
    )
    return S.REVIEW if saved else S.TYPES


# --- the flow --------------------------------------------------------------------------

FLOW = Flow(
    name="satisfaction",
    title=TITLE,
    prefix="ts",
    command="tyytyvaisyys",
    start=_start,
    describe=_describe,
    guard=entities.guard_open_report,
    reads_progress=True,
    verify=entities.verify_entity,
    entry_data=(START_DATA,),
    version=2,
    draft=SatisfactionDraft,
)


def _detail(step: S, tag: str, render: Any, **handlers: Any) -> None:
    FLOW.step(
        step,
        tag,
        render=render,
        help=HELP[step],
        counter=_counter,
        back=_backward,
        moves_in_place=True,
        **handlers,
    )


FLOW.step(
    S.ENTITY,
    "E",
    render=_render_entity,
    help=HELP[S.ENTITY],
    counter=_counter,
    on_button={"s": _choose_entity},
    moves_in_place=True,
)
FLOW.step(
    S.PREFILL,
    "P",
    render=_render_prefill,
    help=HELP[S.PREFILL],
    counter=_counter,
    on_button={"y": _use_last_year, "n": _start_empty},
    back=_back_to_entity,
    moves_in_place=True,
)
FLOW.step(
    S.TYPES,
    "Y",
    render=_render_types,
    help=HELP[S.TYPES],
    counter=_counter,
    on_button={"t": _toggle_type, "n": _choose_not_measured, "f": _types_done},
    back=_back_to_entity,
    inplace=True,
    moves_in_place=True,
)
_detail(
    S.SCALE,
    "S",
    _render_scale,
    on_text=_typed_scale,
    on_button={"k": _keep_scale, "s": _skip("scale")},
)
_detail(
    S.FREQUENCY,
    "F",
    _render_frequency,
    on_text=_typed_frequency,
    on_button={"p": _preset_frequency, "k": _keep_frequency},
)
_detail(
    S.NPS,
    "N",
    _render_nps,
    on_text=_typed_nps,
    on_button={
        "k": _keep_nps,
        "n": _no_nps,
        "y": _use_previous("nps", "promoters", "passives", "detractors", "respondents"),
    },
)
_detail(
    S.OTHER_NAME,
    "O",
    _render_other_name,
    on_text=_typed_other_name,
    on_button={"k": _keep("other_name")},
)
_detail(
    S.RESULT,
    "X",
    _render_result,
    on_text=_typed_result,
    on_button={
        "s": _skip("latest_result"),
        "k": _keep("latest_result"),
        "y": _use_previous("latest_result"),
    },
)
_detail(
    S.PERIOD,
    "Q",
    _render_period,
    on_text=_typed_period,
    on_button={"s": _skip("period"), "k": _keep("period"), "y": _use_previous("period")},
)
_detail(
    S.RESPONDENTS,
    "H",
    _render_respondents,
    on_text=_typed_respondents,
    on_button={
        "s": _skip("respondents"),
        "k": _keep("respondents"),
        "y": _use_previous("respondents"),
    },
)
FLOW.step(
    S.REVIEW,
    "V",
    render=_render_review,
    help=HELP[S.REVIEW],
    counter=_counter,
    on_button={"e": _review_edit, "d": _review_remove, "t": _review_types, "s": _save},
    back=_review_back,
    moves_in_place=True,
)

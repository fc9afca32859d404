"""Property tests across surfaces (issue 16): the chat, Excel, /tila and the documents agree.

* Any answer the chat accepts, saved, exported by /excel and sent back unchanged, gives
  "nothing changes".
* The chat and the Excel import refuse the same typed values, for the same reason.
* Any answer the Excel import accepts is shown identically by /tila and by the documents'
  snapshot (the values Liite 1 and Liite 2 print).

The chat's side runs the very readers its steps call (``bot.flow.inputs``), the Excel side
a real workbook through ``sheets.check``; both store through ``data.reports``. Runs on each
database of the ``db`` fixture; every example replaces the answers it writes.
"""

from __future__ import annotations

import html
import io
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import sheets
from bot.access import Caller
from bot.flow import inputs
from bot.status import render
from data import answers, catalog, overview, reports
from data.snapshot import build_snapshot
from i18n import formats
from i18n.formats import InputError
from sheets import messages as m

from ..conftest import Database
from ..sheets.workbooks import contact, fill

YEAR = 2026
SETTINGS = settings(
    max_examples=int(os.environ.get("RULES_EXAMPLES", "6")),  # more examples on demand
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- what people type ----------------------------------------------------------------------

digits = st.integers(min_value=-5, max_value=12_000_000)
spaced = digits.map(lambda n: formats.format_count(n, "fi") if n >= 0 else str(n))
typed_numbers = st.one_of(
    digits.map(str),
    spaced,
    st.sampled_from(["0", "12a", "12,5", "1.200", "", " ", "²", "١٢", "12 kpl", "- 3", "1e3"]),
    st.text(alphabet="0123456789 ,.-−kplx", min_size=1, max_size=8),
)
names = st.one_of(
    st.sampled_from(["Asukasraati", "😀", ".", "??", "Kysely 2", "ei", "a" * 301, "-"]),
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=20),
)


def _chat_verdict(reader: Any, text: str) -> str | None:
    """None if the chat accepts the typed text, else the cell message of the same rule."""
    try:
        reader(text)
    except InputError as error:
        if error.message in (inputs.MSG_NOT_RESPONDENTS, inputs.MSG_NOT_AN_NPS_COUNT):
            code = answers.NOT_WHOLE
        else:
            code = next(c for c, msg in inputs.PROBLEM_MESSAGES.items() if msg == error.message)
        return m.PROBLEM_CELL_MESSAGES[code]
    return None


def _division(session: Any) -> Any:
    row = catalog.division_by_code(session, "KUVA")
    assert row is not None
    return row


_EMPTY_WORKBOOK: dict[str, bytes] = {}


def _empty_workbook(db: Database) -> bytes:
    """The division's workbook before any answer (the same for every example)."""
    if db.url not in _EMPTY_WORKBOOK:
        with db.transaction() as session:
            contact(session, 7001)
            _EMPTY_WORKBOOK[db.url] = sheets.export(session, _division(session), YEAR, "fi")[1]
    return _EMPTY_WORKBOOK[db.url]


def _check(session: Any, content: bytes) -> sheets.Checked:
    return sheets.check(
        session,
        content,
        "Mittarit_KUVA_2026.xlsx",
        division=_division(session),
        year=YEAR,
        language="fi",
    )


# --- the chat and the Excel import refuse the same inputs for the same reason ---------------


@SETTINGS
@given(counts=st.lists(typed_numbers, min_size=4, max_size=4), name=names)
def test_the_chat_and_excel_refuse_the_same_counts_and_names_for_the_same_reason(
    db: Database, counts: list[str], name: str
) -> None:
    content = _empty_workbook(db)
    rows = list(range(7, 7 + len(counts)))
    cells: dict[str, Any] = {f"C{r}": f"Tapa {r}" for r in rows}
    cells |= {f"D{r}": text for r, text in zip(rows, counts, strict=True)}
    cells["C7"] = name
    filled = fill(content, {"Kirjasto": cells})
    with db.session() as session:
        checked = _check(session, filled)
    by_cell = {(e.column, e.row): e.message for e in checked.parsed.errors}
    for row, text in zip(rows, counts, strict=True):
        # An empty cell is no answer in Excel; typed, it is no answer either (asked again).
        if not text.strip():
            continue
        expected = _chat_verdict(lambda t: inputs.read_count(t, "fi"), text)
        assert by_cell.get((4, row)) == expected, (text, by_cell)
    if name.strip() and not answers.is_none_word(name):
        expected_name = _chat_verdict(inputs.method_name, name)
        got = by_cell.get((3, 7))
        assert got == expected_name, (name, by_cell)


@SETTINGS
@given(respondents=typed_numbers)
def test_the_chat_and_excel_refuse_the_same_respondents_for_the_same_reason(
    db: Database, respondents: str
) -> None:
    content = _empty_workbook(db)
    sheet = load_workbook(io.BytesIO(content))["Tyytyväisyys"]
    row = next(r for r in range(7, 60) if sheet.cell(row=r, column=1).value == "Kirjasto")
    filled = fill(
        content,
        {"Tyytyväisyys": {f"B{row}": "Hymiöpäätteet (HappyOrNot)", f"J{row}": respondents}},
    )
    with db.session() as session:
        checked = _check(session, filled)
    got = {(e.column, e.row): e.message for e in checked.parsed.errors}.get((10, row))
    if respondents.strip():
        expected = _chat_verdict(lambda t: inputs.read_respondents(t, "fi"), respondents)
        assert got == expected, (respondents, checked.parsed.errors)


# --- the chat's answers survive the workbook ------------------------------------------------

chat_counts = st.integers(min_value=1, max_value=100_000).map(
    lambda n: formats.format_count(n, "fi")
)
chat_names = st.text(
    alphabet=st.characters(categories=["L", "N", "Zs", "P"], exclude_characters="\x00"),
    min_size=1,
    max_size=40,
)
scales = st.sampled_from([None, "1-7", "1–10", "0–100"])
results = st.decimals(min_value=1, max_value=7, places=1).map(lambda d: str(d).replace(".", ","))
nps_counts = st.tuples(*(st.integers(min_value=0, max_value=5000),) * 3).filter(
    lambda c: sum(c) > 0
)


@SETTINGS
@given(
    level_counts=st.lists(chat_counts, min_size=1, max_size=3),
    own=chat_names,
    scale=scales,
    result=results,
    respondents=st.integers(min_value=1, max_value=10_000_000),
    counts=nps_counts,
    period=st.sampled_from([None, "2025", "1–6/2026"]),
)
def test_any_answer_the_chat_accepts_comes_back_from_excel_unchanged(
    db: Database,
    level_counts: list[str],
    own: str,
    scale: str | None,
    result: str,
    respondents: int,
    counts: tuple[int, int, int],
    period: str | None,
) -> None:
    try:  # the chat's readers, exactly as its steps call them
        name = inputs.method_name(own)
        typed = [inputs.read_count(text, "fi") for text in level_counts]
        kept_scale = inputs.read(answers.read_scale, scale) if scale else None
    except InputError:
        return  # refused in the chat: nothing to export
    if answers.is_none_word(name):
        return
    with db.transaction() as session:
        person = contact(session, 7001)
        entity = next(e for e in catalog.service_entities(session, _division(session).id))
        level = catalog.levels(session)[0]
        methods = catalog.methods_for_level(session, level.id)
        given_answers = [
            reports.ParticipationAnswer(level.id, methods[i].id, count=count)
            for i, count in enumerate(typed)
        ]
        if name.casefold() not in {n.casefold() for m in methods for n in m.name.values()}:
            given_answers.append(reports.ParticipationAnswer(level.id, method_text=name, count=7))
        reports.save_participation(session, person, YEAR, entity.id, given_answers)
        survey = next(t for t in catalog.measurement_types(session) if t.kind == "scale")
        nps_type = next(t for t in catalog.measurement_types(session) if t.kind == "nps")
        low, high = answers.scale_range(
            kept_scale, survey.scale, survey.scale_min, survey.scale_max
        )
        from decimal import Decimal

        within = low <= float(Decimal(result.replace(",", "."))) <= high
        promoters, passives, detractors = counts
        nps, total = answers.nps_counts(None, promoters, passives, detractors, None)
        reports.save_satisfaction(
            session,
            person,
            YEAR,
            entity.id,
            [
                reports.SatisfactionAnswer(
                    survey.id,
                    scale=kept_scale,
                    latest_result=result if within else None,
                    respondents=respondents,
                    period=period,
                ),
                reports.SatisfactionAnswer(
                    nps_type.id,
                    promoters=promoters,
                    passives=passives,
                    detractors=detractors,
                    nps=nps,
                    respondents=total,
                ),
            ],
        )
        content = sheets.export(session, _division(session), YEAR, "fi")[1]
    with db.session() as session:
        checked = _check(session, content)
        assert checked.ok, [e.text(lambda x: x) for e in checked.parsed.errors]
        assert checked.changes is not None and checked.changes.empty


# --- what Excel accepts, /tila and the documents show alike ---------------------------------


@SETTINGS
@given(scale=scales, result=results, respondents=typed_numbers, other=chat_names, counts=nps_counts)
def test_any_answer_excel_accepts_is_shown_alike_by_tila_and_the_documents(
    db: Database,
    scale: str | None,
    result: str,
    respondents: str,
    other: str,
    counts: tuple[int, int, int],
) -> None:
    with db.transaction() as session:
        person = contact(session, 7001)
        content = sheets.export(session, _division(session), YEAR, "fi")[1]
    sheet = load_workbook(io.BytesIO(content))["Tyytyväisyys"]
    row = next(r for r in range(7, 60) if sheet.cell(row=r, column=1).value == "Kirjasto")
    promoters, passives, detractors = counts
    filled = fill(
        content,
        {
            "Tyytyväisyys": {
                f"B{row}": "Kysely (asteikko 1–5)",
                f"D{row}": scale,
                f"K{row}": result,
                f"J{row}": respondents,
                f"B{row + 1}": "Muu tapa",
                f"C{row + 1}": other,
                f"K{row + 1}": "hyvä",
                f"B{row + 2}": "Suositteluindeksi (NPS, 0–10)",
                f"G{row + 2}": promoters,
                f"H{row + 2}": passives,
                f"I{row + 2}": detractors,
            },
            "Kirjasto": {"B7": "Kyselyt", "D7": 12, "C8": "Lukupiiri", "D8": 9},
        },
    )
    with db.transaction() as session:
        checked = _check(session, filled)
        if not checked.ok:
            return  # refused: the other properties say why; nothing is shown
        assert checked.changes is not None
        sheets.changes.apply(session, session.merge(person), checked.changes)
    with db.session() as session:
        person = session.merge(person)
        division = _division(session)
        status = overview.division_status(session, person, YEAR, division.id)
        snapshot = build_snapshot(session, YEAR, with_previous=False)
        entity = next(e for e in status.progress.entities if e.code == "KUVA_KIRJASTO")
        shown = html.unescape(render.entity_block(Caller(person, "fi"), status, entity))
    items = [s for s in snapshot.satisfaction if s.entity_code == "KUVA_KIRJASTO"]
    assert len(items) == 3
    for item in items:  # the documents' values, each as /tila writes it
        assert item.measurement.name.fi in shown, (item.measurement.name.fi, shown)
        if item.nps_score is not None:
            assert f"NPS {formats.format_nps(item.nps_score, 'fi')}" in shown
        elif item.latest_result:
            assert f"tulos {item.latest_result[:39]}" in shown
        if item.respondent_count is not None:
            assert f"{formats.format_count(item.respondent_count, 'fi')} vastaajaa" in shown
    methods = [p for p in snapshot.participation if p.entity_code == "KUVA_KIRJASTO"]
    by_level = {p.level_number for p in methods}
    for level in by_level:
        how_many = sum(1 for p in methods if p.level_number == level)
        assert f"T{level} {how_many}" in shown, shown


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

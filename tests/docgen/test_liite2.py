"""Liite 2: the satisfaction mapping per service entity, the summary and its chart."""

from __future__ import annotations

import io
import re
import statistics
import zipfile

from data.answers import nps_from_counts
from settings import Settings

from ..conftest import Database
from .conftest import build, seeded
from .readback import workbook


def test_mapping_has_every_service_entity_and_answer(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    wb = workbook(build(snapshot, "liite2", settings))
    assert wb.sheetnames == ["Yhteenveto", "Vertailu", "Kartoitus"]
    ws = wb["Kartoitus"]
    # Filter buttons on the header row (the header words break with "-", so no table).
    header_row = int(re.sub(r"\D", "", ws.auto_filter.ref.split(":")[0]))
    rows = list(ws.iter_rows(min_row=header_row + 1, values_only=True))
    expected_entities = {
        (d.code, e.name.fi) for d in snapshot.divisions for e in d.service_entities
    }
    assert {(r[0], r[1]) for r in rows} == expected_entities
    answered = [r for r in rows if r[2] != "Ei vastausta"]
    assert len(answered) == len(snapshot.satisfaction)
    unanswered = [r for r in rows if r[2] == "Ei vastausta"]
    assert [(r[0], r[1]) for r in unanswered] == [("SOTE", "Hallinto")]


def _columns(header: tuple) -> dict[str, int]:  # type: ignore[type-arg]
    """Header names as read ("Suosit-\ntelijat" → "Suosittelijat") → index."""
    return {str(name).replace("-\n", ""): i for i, name in enumerate(header) if name}


def test_nps_is_computed_from_the_counts(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    doc = build(snapshot, "liite2", settings)
    ws = workbook(doc, cached=True)["Kartoitus"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Toimiala")
    col = _columns(header)
    live = workbook(doc)["Kartoitus"]
    formulas = [
        r[col["NPS"]] for r in live.iter_rows(values_only=True) if isinstance(r[col["NPS"]], str)
    ]
    assert any(f.startswith("=ROUND(100*(J") for f in formulas if f != "NPS")
    nps_rows = [
        r for r in ws.iter_rows(values_only=True) if isinstance(r[col["Suosittelijat"]], int)
    ]
    assert nps_rows, "the demo reports NPS with counts"
    for row in nps_rows:
        p, n, d = row[col["Suosittelijat"]], row[col["Neutraalit"]], row[col["Arvostelijat"]]
        assert row[col["NPS"]] == nps_from_counts(p, n, d)
        assert row[col["Vastaajia"]] == p + n + d


def test_summary_share_and_nps_range(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    ws = workbook(build(snapshot, "liite2", settings), cached=True)["Yhteenveto"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Toimiala")
    body = {r[0]: r for r in rows[header + 1 : header + 6]}
    assert list(body) == ["KYMP", "KASKO", "SOTE", "KUVA", "Koko kaupunki"]
    for row in body.values():
        entities, measuring, share = row[1], row[2], row[3]
        assert share == measuring / entities
        assert measuring + row[4] + row[5] == entities
    all_nps = [
        item.nps_score
        for item in snapshot.satisfaction
        if item.nps_score is not None and item.measurement.measures
    ]
    city = body["Koko kaupunki"]
    assert (city[6], city[7], city[8]) == (len(all_nps), min(all_nps), max(all_nps))
    assert ws.cell(row=header + 2, column=4).number_format == "0 %"  # first data row
    scores = sorted(all_nps)
    assert city[9] == statistics.median(scores)  # the median the list text quotes


def test_numbers_have_number_formats(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    ws = workbook(build(snapshot, "liite2", settings))["Kartoitus"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Toimiala")
    col = _columns(header)
    respondents = [
        r[col["Vastaajia"]] for r in ws.iter_rows() if isinstance(r[col["Vastaajia"]].value, int)
    ]
    assert respondents and all(c.number_format == "[$-40B]#,##0" for c in respondents)
    results = [r[col["Viimeisin tulos"]] for r in ws.iter_rows(min_row=5)]
    numeric = [c for c in results if isinstance(c.value, float)]
    assert numeric, "1–5 surveys and school grades are numbers"
    assert all(c.number_format == "[$-40B]0.0" for c in numeric)  # decimal comma
    assert not any(isinstance(c.value, str) and c.value.replace(",", "").isdigit() for c in results)


def test_summary_has_a_native_chart(db: Database, settings: Settings) -> None:
    doc = build(seeded(db), "liite2", settings)
    with zipfile.ZipFile(io.BytesIO(doc.content)) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = archive.read(charts[0]).decode()
    assert '<grouping val="stacked"/>' in xml
    assert "'Yhteenveto'!$C$" in xml
    assert "<numCache>" in xml

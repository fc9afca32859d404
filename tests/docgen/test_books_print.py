"""Liite 1 and Liite 2 as printed: measured in the PDFs LibreOffice makes of them.

Three rounds: the demo round, a 10 000-entry round and the demo round with one Lkm of
1 234 567. Layout is measured in the rendered PDF — characters printed over other
characters, page sizes, the smallest text, how full the pages are — and the formulas are
recalculated by LibreOffice and compared with the values stored for viewers that do not
recalculate.
"""

from __future__ import annotations

import dataclasses
import io
import random
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTPage

from data.snapshot import ParticipationItem, RoundSnapshot
from docgen import generate
from docgen.cli import demo_snapshot
from docgen.pdf import convert
from settings import Settings

from .conftest import TODAY, YEAR

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# Skipped where LibreOffice or poppler is missing, failed in CI (tests/tools.py).
pytestmark = pytest.mark.needs_tools("soffice", "pdftotext")

A4_LANDSCAPE = (841.9, 595.3)
BIG = 1_234_567


def big_round(entries: int) -> RoundSnapshot:
    """The demo catalog with ``entries`` generated entries (seeded, so always the same)."""
    base = demo_snapshot(YEAR)
    rng = random.Random(entries)
    places = [(d.code, e.code) for d in base.divisions for e in d.service_entities]
    own = ["Asukasraati", "Kokemusasiantuntijaryhmä", "Helsinki-palaute", "Nuorisoneuvosto"]
    notes = ["", "", "Luku on arvio.", "Toteutettu yhdessä kaupunginosayhdistysten kanssa."]
    items = []
    for _ in range(entries):
        division, entity = rng.choice(places)
        level = rng.choice(base.levels)
        method = rng.choice(level.examples) if level.examples and rng.random() < 0.5 else None
        items.append(
            ParticipationItem(
                division_code=division,
                entity_code=entity,
                level_number=level.number,
                method=method,
                method_text=None if method else rng.choice(own),
                count=rng.randint(0, 500),
                note=rng.choice(notes),
            )
        )
    return dataclasses.replace(base, participation=tuple(items), none_answers=(), previous=None)


def big_count_round() -> RoundSnapshot:
    """The demo round with one Lkm of 1 234 567."""
    base = demo_snapshot(YEAR)
    first, *rest = base.participation
    return dataclasses.replace(base, participation=(dataclasses.replace(first, count=BIG), *rest))


@dataclasses.dataclass
class Printed:
    """One workbook and its PDF."""

    xlsx: bytes
    pdf: Path

    def pages(self) -> list[LTPage]:
        return list(extract_pages(str(self.pdf)))

    def text(self, page: int | None = None) -> str:
        pages = [] if page is None else ["-f", str(page), "-l", str(page)]
        return subprocess.run(
            ["pdftotext", *pages, "-layout", str(self.pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def page_texts(self) -> list[str]:
        return self.text().split("\f")[:-1]


def _chars(page: LTPage) -> list[LTChar]:
    found: list[LTChar] = []

    def walk(item: object) -> None:
        if isinstance(item, LTChar):
            if item.upright and item.get_text().strip():  # not the rotated axis titles
                found.append(item)
        elif hasattr(item, "__iter__"):
            for child in item:  # type: ignore[attr-defined]
                walk(child)

    walk(page)
    return found


@pytest.fixture(scope="module")
def printed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Printed]:
    """{"demo/liite1" …: the workbook and its PDF} for the three rounds."""
    rounds = {"demo": demo_snapshot(YEAR), "10000": big_round(10_000), "big": big_count_round()}
    folder = tmp_path_factory.mktemp("books")

    def one(label: str, snapshot: RoundSnapshot) -> dict[str, Printed]:
        books = {}
        for kind in ("liite1", "liite2"):
            (doc,) = generate(snapshot, kind, settings=settings, today=TODAY, pdf=False)
            books[kind] = doc
        conversion = convert([(d.filename, d.content) for d in books.values()], "20261120000000")
        assert conversion.complete, conversion.missing
        pdfs = conversion.pdfs
        result = {}
        for kind, doc in books.items():
            path = folder / label / doc.filename.replace(".xlsx", ".pdf")
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(pdfs[path.name])
            result[f"{label}/{kind}"] = Printed(doc.content, path)
        return result

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(lambda pair: one(*pair), rounds.items())
        return {key: value for part in found for key, value in part.items()}


def overlapping_text(book: Printed) -> list[tuple[int, str, str]]:
    """Characters printed over characters of another line: (page, char, char).

    Characters of one line touch only sideways (well under a point); a row too low for its
    wrapped text prints its last line over the next row's text."""
    found = []
    for number, page in enumerate(book.pages(), start=1):
        chars = sorted(_chars(page), key=lambda c: c.y0)
        for index, a in enumerate(chars):
            for b in chars[index + 1 :]:
                if b.y0 >= a.y1 - 1.0:
                    break
                dx = min(a.x1, b.x1) - max(a.x0, b.x0)
                dy = min(a.y1, b.y1) - max(a.y0, b.y0)
                if dx > 1.0 and dy > 1.0 and abs(a.y0 - b.y0) > 1.0:
                    found.append((number, a.get_text(), b.get_text()))
    return found


# --- item 10: row heights fit their text ---------------------------------------------------


def test_no_text_prints_over_other_text(printed: dict[str, Printed]) -> None:
    for key, book in printed.items():
        assert overlapping_text(book)[:5] == [], key


# --- items 11, 13: numbers and headers print whole ------------------------------------------


def test_a_seven_digit_count_prints_grouped_and_whole(printed: dict[str, Printed]) -> None:
    book = printed["big/liite1"]
    workbook = openpyxl.load_workbook(io.BytesIO(book.xlsx))
    cell = next(
        c
        for row in workbook["Matriisi"].iter_rows()
        for c in row
        if isinstance(c.value, int) and c.value >= BIG
    )
    assert cell.number_format.endswith("#,##0")  # a real grouping format, no literal space
    grouped = f"{cell.value:,}".replace(",", " ")  # "1 234 601"
    text = book.text().replace("\u00a0", " ")
    assert grouped in text
    assert "###" not in text and str(cell.value) not in text


def test_header_words_are_never_broken(printed: dict[str, Printed]) -> None:
    coverage = "".join(t for t in printed["demo/liite1"].page_texts() if "Kattavuus" in t)
    assert "Palvelukokonaisuuksia" in coverage
    assert not re.search(r"Palvelukokonaisuuks\s*$", coverage, re.M)
    summary = printed["demo/liite2"].text(1)
    assert "Suositteluindeksi (NPS, 0–10)" in summary.replace("\u00a0", " ")


# --- item 12: full pages, no empty rows -------------------------------------------------------


def test_matrix_blocks_have_no_empty_rows(printed: dict[str, Printed]) -> None:
    for label in ("demo", "10000"):
        ws = openpyxl.load_workbook(io.BytesIO(printed[f"{label}/liite1"].xlsx))["Matriisi"]
        rows = list(ws.iter_rows(min_row=5, values_only=True))
        legend = next(i for i, r in enumerate(rows) if str(r[0] or "").startswith("Osallisuuden"))
        for row in rows[: legend - 1]:
            assert any(v is not None for v in row[:5]), (label, row)
            assert row[3] is not None or str(row[0] or "")[:4] in ("KYMP", "KASK", "SOTE", "KUVA")


def test_matrix_pages_are_full_and_page_one_holds_methods(printed: dict[str, Printed]) -> None:
    for label in ("demo", "10000"):
        book = printed[f"{label}/liite1"]
        pages = book.pages()
        texts = book.page_texts()
        matrix = [i for i, t in enumerate(texts) if re.search(r"^\s*Matriisi\s", t, re.M)]
        for index in matrix[:-1]:  # every page but the last of the matrix is at least half full
            page = pages[index]
            lowest = min(c.y0 for c in _chars(page) if c.y0 > 60)  # above the footer line
            assert lowest < page.height / 2, (label, index + 1)
        first = texts[0]
        assert "Tapoja yhteensä" in first or re.search(r"^\s+\d[\d ]*\s+\S", first, re.M)
        assert re.search(r"Lkm.*\n(.*\n){0,3}.*\d", first), (label, first[:400])


# --- items 15, 16, 17: titles, footers, pages --------------------------------------------


def test_titles_span_the_page_and_footers_read_1_of_n(printed: dict[str, Printed]) -> None:
    for key in ("demo/liite1", "demo/liite2"):
        texts = printed[key].page_texts()
        title = (
            "Liite 1. Asukasosallisuus toimialoilla 2026"
            if "liite1" in key
            else ("Liite 2. Asiakaskokemus / palvelutyytyväisyys 2026")
        )
        assert re.search(rf"^\s*{re.escape(title)}\s*$", texts[0], re.M), texts[0][:300]
        for number, text in enumerate(texts, start=1):
            assert re.search(rf"\s{number} \({len(texts)}\)\s*$", text), (key, number)
            assert "Sivu" not in text


def test_liite_1_stays_a_board_attachment_at_10000_entries(printed: dict[str, Printed]) -> None:
    texts = printed["10000/liite1"].page_texts()
    assert len(texts) <= 60
    listing = [t for t in texts if re.search(r"^\s*Kaikki tavat\s", t, re.M)]
    assert len(listing) == 1  # its title and where to find it; the rows stay in the workbook
    assert "10 000" in listing[0].replace("\u00a0", " ")


def test_attachments_are_a4_landscape_at_9_pt_or_more(printed: dict[str, Printed]) -> None:
    for key, book in printed.items():
        for number, page in enumerate(book.pages(), start=1):
            assert abs(page.width - A4_LANDSCAPE[0]) < 2, (key, number, page.width)
            assert abs(page.height - A4_LANDSCAPE[1]) < 2, (key, number, page.height)
            smallest = min((c.size for c in _chars(page)), default=10)
            assert smallest >= 9 - 0.05, (key, number, round(smallest, 2))


# --- item 18: Liite 2's summary ----------------------------------------------------------------


def test_liite_2_chart_has_no_empty_header_row_above_it(printed: dict[str, Printed]) -> None:
    for number, text in enumerate(printed["demo/liite2"].page_texts(), start=1):
        if "Tyytyväisyyden mittaaminen palvelukokonaisuuksissa" in text and number > 1:
            assert "NPS-tuloksia" not in text and "Toimiala" not in text, number


def test_liite_2_city_line_is_bold_and_missing_nps_reads_dash(
    printed: dict[str, Printed],
) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(printed["demo/liite2"].xlsx))["Yhteenveto"]
    city = next(row for row in ws.iter_rows() if row[0].value == "Koko kaupunki")
    assert all(c.font.b for c in city if c.value is not None)
    cached = openpyxl.load_workbook(io.BytesIO(printed["demo/liite2"].xlsx), data_only=True)
    rows = {r[0]: r for r in cached["Yhteenveto"].iter_rows(values_only=True) if r[0]}
    assert rows["KYMP"][7:10] == ("–", "–", "–")  # as the list text shows them
    live = {r[0]: r for r in ws.iter_rows(values_only=True) if r[0]}
    for code in ("KYMP", "SOTE", "Koko kaupunki"):
        assert all(str(v).startswith("=") for v in live[code][6:10]), live[code]


# --- item 14: every formula's stored value is what LibreOffice computes --------------------

_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _recalculated(content: bytes, name: str) -> openpyxl.Workbook:
    """The workbook as LibreOffice saves it after recalculating every formula on loading."""
    assert SOFFICE is not None
    with tempfile.TemporaryDirectory(prefix="docgen-recalc-") as tmp:
        folder = Path(tmp)
        user = folder / "profile" / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_RECALCULATE)
        source = folder / "in" / name
        source.parent.mkdir()
        source.write_bytes(content)
        subprocess.run(
            [
                SOFFICE,
                "--headless",
                "--norestore",
                f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                "--convert-to",
                "xlsx:Calc MS Excel 2007 XML",
                "--outdir",
                str(folder / "out"),
                str(source),
            ],
            capture_output=True,
            timeout=240,
            check=True,
        )
        return openpyxl.load_workbook(folder / "out" / name, data_only=True)


def test_formulas_store_the_values_libreoffice_computes(printed: dict[str, Printed]) -> None:
    for key in ("demo/liite1", "demo/liite2"):
        content = printed[key].xlsx
        live = openpyxl.load_workbook(io.BytesIO(content))
        stored = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
        computed = _recalculated(content, key.split("/")[1] + ".xlsx")
        formulas = 0
        for ws in live.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type != "f":
                        continue
                    formulas += 1
                    mine = stored[ws.title][cell.coordinate].value
                    theirs = computed[ws.title][cell.coordinate].value
                    assert mine is not None, (key, ws.title, cell.coordinate)
                    if isinstance(mine, int | float) and isinstance(theirs, int | float):
                        assert abs(mine - theirs) < 1e-9, (key, ws.title, cell.coordinate)
                    else:
                        assert mine == theirs, (key, ws.title, cell.coordinate, cell.value)
        assert formulas > (100 if "liite1" in key else 20), key

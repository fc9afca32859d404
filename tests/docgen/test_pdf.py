"""Every document converts to PDF with LibreOffice, as the package's PDF copies do, and
prints readably: attachments never under 9 pt, slide body text 18 pt (chart text 14 pt),
the instructions one page per metric, the matrix one division per page.

The PDFs are the package's own (``docgen.pdf``: one LibreOffice run per package), so the
path staff use is the one tested; the demo round and a hand-made round full of hostile
text convert in parallel, each with its own LibreOffice profile.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar

from docgen import generate_all
from docgen.cli import demo_snapshot
from docgen.dia import CHART_FRAME, HEIGHT_MM
from settings import Settings

from .conftest import TODAY, YEAR
from .handmade import tiny_snapshot

# Skipped where LibreOffice or poppler is missing, failed in CI (tests/tools.py).
pytestmark = pytest.mark.needs_tools("soffice", "pdfinfo", "pdftotext", "pdftoppm")

A4 = (595.3, 841.9)


@dataclass
class Converted:
    source: str
    pdf: Path

    def pages(self) -> int:
        return int(_pdfinfo(self.pdf)["Pages"])

    def page_size(self) -> tuple[float, float]:
        size = _pdfinfo(self.pdf)["Page size"].split()
        return float(size[0]), float(size[2])

    def text(self, page: int) -> str:
        return subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(self.pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def chars(self) -> list[tuple[int, float, float, LTChar]]:
        """(page, page width, page height, character) of every upright, visible character."""
        found = []
        for number, page in enumerate(extract_pages(str(self.pdf)), start=1):
            for char in _walk(page):
                if char.upright and char.get_text().strip():
                    found.append((number, page.width, page.height, char))
        return found


def _walk(item: object):  # type: ignore[no-untyped-def]
    if isinstance(item, LTChar):
        yield item
    elif hasattr(item, "__iter__"):
        for child in item:  # type: ignore[attr-defined]
            yield from _walk(child)


def _pdfinfo(pdf: Path) -> dict[str, str]:
    output = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in output.stdout.splitlines())
    }


def _package(label: str, snapshot: object, settings: Settings, folder: Path) -> list[Converted]:
    documents = generate_all(snapshot, settings=settings, today=TODAY)  # type: ignore[arg-type]
    package = documents[-1]
    found = []
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        (folder / "LUEMINUT.txt").write_bytes(archive.read("LUEMINUT.txt"))
        for name in archive.namelist():
            if name.endswith(".pdf"):
                path = folder / name
                path.write_bytes(archive.read(name))
                found.append(Converted(f"{label}/{name}", path))
    return found


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, Converted]:
    """{"demo/<file>.pdf" | "hostile/<file>.pdf": the package's PDF} for every document."""
    rounds = [
        ("demo", demo_snapshot(YEAR)),
        (
            "hostile",
            tiny_snapshot(
                [('=HYPERLINK("x")', "Lisätieto " * 40), ("Kysely\x07", "")],
                entity_name="Ääkköset 😀 – 中文 – عربى",
                complete=False,
            ),
        ),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(
            lambda pair: _package(pair[0], pair[1], settings, tmp_path_factory.mktemp(pair[0])),
            rounds,
        )
        return {c.source: c for found in results for c in found}


def _one(converted: dict[str, Converted], prefix: str) -> Converted:
    (match,) = [c for key, c in converted.items() if key.startswith(prefix)]
    return match


A3 = (841.9, 1190.6)
WIDE = (540.0, 960.0)  # 16:9 slides


def test_the_package_holds_a_pdf_of_every_document(converted: dict[str, Converted]) -> None:
    assert len(converted) == 10
    for label in ("demo", "hostile"):
        names = sorted(key.split("/", 1)[1] for key in converted if key.startswith(label))
        assert [n.split("_")[0] for n in names] == [
            "Johtoryhman",
            "Liite",
            "Liite",
            "Listateksti",
            "Ohjeet",
        ]
        readme = (_one(converted, f"{label}/Listateksti").pdf.parent / "LUEMINUT.txt").read_text()
        assert "Jokaisesta asiakirjasta on mukana myös PDF-versio" in readme


def test_page_sizes(converted: dict[str, Converted]) -> None:
    for key, result in converted.items():
        assert result.pages() >= 1, key
        size = tuple(sorted(result.page_size()))
        if "Johtoryhman" in key:
            expected = [WIDE]
        elif key.split("/")[1].startswith("Liite"):
            expected = [A4, A3]
        else:
            expected = [A4]
        assert any(abs(size[0] - e[0]) < 2 and abs(size[1] - e[1]) < 2 for e in expected), (
            key,
            size,
        )


def test_attachments_print_no_text_under_9_pt(converted: dict[str, Converted]) -> None:
    for key, result in converted.items():
        if "/Liite_" not in key:
            continue
        smallest = min(result.chars(), key=lambda found: found[3].size)
        page, _w, _h, char = smallest
        assert char.size >= 9 - 0.05, (key, page, char.get_text(), round(char.size, 2))


def test_slides_body_text_18_pt_and_chart_text_14_pt(converted: dict[str, Converted]) -> None:
    slides = _one(converted, "demo/Johtoryhman_")
    assert slides.pages() == 2
    x, y, width, height = CHART_FRAME
    for page, _page_w, page_h, char in slides.chars():
        scale = page_h / (HEIGHT_MM / 25.4 * 72)
        to_pt = 72 / 25.4 * scale
        in_chart = (
            x * to_pt <= char.x0 <= (x + width) * to_pt
            and page_h - (y + height) * to_pt <= char.y0 <= page_h - y * to_pt
        )
        assert char.size >= (14 if in_chart else 18) - 0.05, (
            page,
            char.get_text(),
            round(char.size, 2),
        )


def test_instructions_are_at_most_one_page_per_metric(converted: dict[str, Converted]) -> None:
    for label in ("demo", "hostile"):
        instructions = _one(converted, f"{label}/Ohjeet_")
        assert instructions.pages() == 2
        first, second = instructions.text(1), instructions.text(2)
        assert "Asukasosallisuus toimialoilla" in first and "Asiakaskokemus" not in first
        assert "Asiakaskokemus / palvelutyytyväisyys" in second


def test_matrix_prints_each_division_as_its_own_section_in_order(
    converted: dict[str, Converted],
) -> None:
    """One section per division (no shared row positions, so no empty rows in a level
    block), in the catalog's order, every level's two total lines with it."""
    liite1 = _one(converted, "demo/Liite_1_")
    text = "".join(
        liite1.text(n) for n in range(1, liite1.pages() + 1) if "Matriisi" in liite1.text(n)
    )
    headings = re.findall(r"^\s*(KYMP|KASKO|SOTE|KUVA) – ", text, re.M)
    assert headings == ["KYMP", "KASKO", "SOTE", "KUVA"]
    assert len(re.findall(r"^\s*Tapoja yhteensä\s+\d", text, re.M)) == 16
    assert len(re.findall(r"^\s*Eri tapoja\s+\d", text, re.M)) == 16


def overlapping_text(result: Converted) -> list[tuple[int, str, str]]:
    """Characters of different cells printed over each other: (page, char, char).

    Characters of one line touch only sideways (kerning: well under a point); a row too
    low for its wrapped text prints its last line over the next row's text."""
    found = []
    by_page: dict[int, list[LTChar]] = {}
    for page, _w, _h, char in result.chars():
        by_page.setdefault(page, []).append(char)
    for page, chars in by_page.items():
        chars.sort(key=lambda c: c.y0)
        for index, a in enumerate(chars):
            for b in chars[index + 1 :]:
                if b.y0 >= a.y1 - 1.0:
                    break
                dx = min(a.x1, b.x1) - max(a.x0, b.x0)
                dy = min(a.y1, b.y1) - max(a.y0, b.y0)
                if dx > 1.0 and dy > 1.0 and abs(a.y0 - b.y0) > 1.0:
                    found.append((page, a.get_text(), b.get_text()))
    return found


def test_attachments_print_no_text_over_other_text(converted: dict[str, Converted]) -> None:
    """Row heights fit their wrapped text: measured in the printed PDF."""
    for key, result in converted.items():
        if "/Liite_" in key:
            assert overlapping_text(result) == [], key


def test_list_text_page_one_shows_header_and_draft_mark(converted: dict[str, Converted]) -> None:
    listateksti = _one(converted, "demo/Listateksti_")
    page = listateksti.text(1)
    for needed in ["Kaupunginhallitus", "HEL 2018-001538", "Päätösehdotus", "LUONNOS"]:
        assert needed in page
    pages = listateksti.pages()
    assert re.search(rf"Esityslistaluonnos\s+1 \({pages}\)", page), page[:300]


def test_page_one_renders_as_png(converted: dict[str, Converted]) -> None:
    for key, result in converted.items():
        stem = result.pdf.with_suffix("")
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(result.pdf), str(stem)],
            check=True,
            capture_output=True,
        )
        (png,) = result.pdf.parent.glob(f"{stem.name}*.png")
        assert png.stat().st_size > 5_000, key  # a real page, not a blank one

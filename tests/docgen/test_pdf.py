"""Every document converts to PDF with LibreOffice; the instructions fit one page per metric.

Conversions are slow (seconds each), so each document is converted once per module, in
parallel, every conversion with its own LibreOffice profile (two conversions sharing one
profile fail). The documents come from the command line's own demo path (a throwaway
SQLite database), plus a hand-made round full of hostile text.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from docgen import generate_all
from docgen.cli import demo_snapshot
from settings import Settings

from .conftest import TODAY, YEAR
from .handmade import tiny_snapshot

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext") and shutil.which("pdftoppm")
pytestmark = pytest.mark.skipif(
    not (SOFFICE and POPPLER),
    reason="LibreOffice (soffice) and poppler-utils are not installed; "
    "install libreoffice-writer-nogui, -calc-nogui, -impress-nogui and poppler-utils",
)

A4 = (595.3, 841.9)


@dataclass
class Converted:
    source: Path
    pdf: Path
    returncode: int
    stderr: str

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


def _pdfinfo(pdf: Path) -> dict[str, str]:
    output = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in output.stdout.splitlines())
    }


def _convert(source: Path) -> Converted:
    profile = Path("/tmp") / f"lo-{uuid.uuid4().hex}"
    try:
        result = subprocess.run(
            [
                str(SOFFICE),
                "--headless",
                f"-env:UserInstallation=file://{profile}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(source.parent),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return Converted(source, source.with_suffix(".pdf"), result.returncode, result.stderr)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, Converted]:
    """{"demo/<file>" | "hostile/<file>": conversion} for every document but the zip."""
    sources: list[Path] = []
    for label, snapshot in [
        ("demo", demo_snapshot(YEAR)),
        (
            "hostile",
            tiny_snapshot(
                [('=HYPERLINK("x")', "Lisätieto " * 40), ("Kysely\x07", "")],
                entity_name="Ääkköset 😀 – 中文 – عربى",
                complete=False,
            ),
        ),
    ]:
        folder = tmp_path_factory.mktemp(label)
        for doc in generate_all(snapshot, settings=settings, today=TODAY):
            if doc.filename.endswith(".zip"):
                continue
            path = folder / doc.filename
            path.write_bytes(doc.content)
            sources.append(path)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(_convert, sources))
    return {f"{r.source.parent.name.rstrip('0123456789')}/{r.source.name}": r for r in results}


def _one(converted: dict[str, Converted], prefix: str) -> Converted:
    (match,) = [c for key, c in converted.items() if key.startswith(prefix)]
    return match


def test_every_document_converts_to_a4_pdf(converted: dict[str, Converted]) -> None:
    assert len(converted) == 10
    for key, result in converted.items():
        assert result.returncode == 0, (key, result.stderr)
        assert result.pdf.exists(), key
        assert result.pages() >= 1
        width, height = sorted(result.page_size())
        assert abs(width - A4[0]) < 2 and abs(height - A4[1]) < 2, (key, result.page_size())


def test_instructions_are_at_most_one_page_per_metric(converted: dict[str, Converted]) -> None:
    for label in ("demo", "hostile"):
        instructions = _one(converted, f"{label}/Ohjeet_")
        assert instructions.pages() == 2
        first, second = instructions.text(1), instructions.text(2)
        assert "Asukasosallisuus toimialoilla" in first and "Asiakaskokemus" not in first
        assert "Asiakaskokemus / palvelutyytyväisyys" in second


def test_slides_are_one_page_per_metric(converted: dict[str, Converted]) -> None:
    slides = _one(converted, "demo/Johtoryhman_")
    assert slides.pages() == 2
    assert "LUONNOS" in slides.text(1)


def test_list_text_page_one_shows_header_and_draft_mark(converted: dict[str, Converted]) -> None:
    page = _one(converted, "demo/Listateksti_").text(1)
    for needed in ["Kaupunginhallitus", "HEL 2018-001538", "Päätösehdotus", "LUONNOS"]:
        assert needed in page


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

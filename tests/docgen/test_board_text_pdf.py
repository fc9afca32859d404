"""The list text and the instructions as they print (issue 18, items 9, 19 and 22):
measured from the PDF that LibreOffice makes of the demo round, as the package does."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTTextLineHorizontal

from docgen import generate, generate_all, pdf
from docgen.cli import demo_snapshot
from settings import Settings
from tests import tools

from .conftest import TODAY, YEAR
from .test_books_print import big_round

A4 = (595.3, 841.9)
NBSP = "\u00a0"


@dataclass
class Printed:
    path: Path

    def info(self) -> dict[str, str]:
        output = subprocess.run(["pdfinfo", str(self.path)], capture_output=True, text=True)
        return {
            key.strip(): value.strip()
            for key, _, value in (line.partition(":") for line in output.stdout.splitlines())
        }

    def pages(self) -> int:
        return int(self.info()["Pages"])

    def page_size(self) -> tuple[float, float]:
        width, _x, height = self.info()["Page size"].split()[:3]
        return float(width), float(height)

    def layout_lines(self) -> list[str]:
        """The lines of the pages as pdftotext lays them out: a table row is one line."""
        output = subprocess.run(
            ["pdftotext", "-layout", str(self.path), "-"], capture_output=True, text=True
        ).stdout
        return [" ".join(line.replace(NBSP, " ").split()) for line in output.splitlines()]

    def lines(self) -> list[tuple[int, str]]:
        """(page, text) of every line of text as pdfminer groups the characters."""
        found = []
        for number, page in enumerate(extract_pages(str(self.path)), start=1):
            stack = list(page)
            while stack:
                item = stack.pop()
                if isinstance(item, LTTextLineHorizontal):
                    found.append((number, item.get_text().replace(NBSP, " ").strip()))
                elif hasattr(item, "__iter__"):
                    stack.extend(item)  # type: ignore[arg-type]
        return found

    def smallest_text(self) -> float:
        sizes = []
        for page in extract_pages(str(self.path)):
            stack = list(page)
            while stack:
                item = stack.pop()
                if isinstance(item, LTChar):
                    if item.get_text().strip():
                        sizes.append(item.size)
                elif hasattr(item, "__iter__"):
                    stack.extend(item)  # type: ignore[arg-type]
        return min(sizes)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, Printed]:
    """{"listateksti" | "ohjeet" | "listateksti-10000": the PDF of the demo round's
    document, and the list text of a round of 10 000 entries}."""
    tools.require("soffice", "pdfinfo", "pdftotext")
    documents = generate_all(demo_snapshot(YEAR), settings=settings, today=TODAY, pdf=False)
    wanted = {d.filename.split("_")[0].lower(): d for d in documents[:-1]}
    (big,) = generate(big_round(10_000), "listateksti", settings=settings, today=TODAY, pdf=False)
    chosen = {
        "listateksti": wanted["listateksti"],
        "ohjeet": wanted["ohjeet"],
        "listateksti-10000": dataclasses.replace(big, filename="Big_" + big.filename),
    }
    folder = tmp_path_factory.mktemp("board-text")
    conversion = pdf.convert([(d.filename, d.content) for d in chosen.values()], "20261120000000")
    assert not conversion.missing, conversion.missing
    found = {}
    for kind, document in chosen.items():
        path = folder / Path(document.filename).with_suffix(".pdf").name
        path.write_bytes(conversion.pdfs[path.name])
        found[kind] = Printed(path)
    return found


NEEDS = pytest.mark.needs_tools("soffice", "pdfinfo", "pdftotext")


@NEEDS
@pytest.mark.parametrize("kind", ["listateksti", "listateksti-10000"])
def test_koko_kaupunki_prints_on_one_line_in_its_tables(
    printed: dict[str, Printed], kind: str
) -> None:
    lines = [text for _page, text in printed[kind].lines()]
    whole = [line for line in lines if line.startswith("Koko kaupunki")]
    assert len(whole) == 2, whole  # Taulukko 2 and Taulukko 4
    assert "Koko" not in lines and "kaupunki" not in lines  # no half of it on a line alone
    # Taulukko 2's city row and its shares: every cell on the row's one line.
    rows = printed[kind].layout_lines()
    city = next(line for line in rows if line.startswith("Koko kaupunki"))
    assert len(re.findall(r"\d+/\d+", city)) == 5, city
    (shares,) = [line for line in rows if line.startswith("Osuus ")]
    assert len(re.findall(r"\d+ %", shares)) == 5, shares


@NEEDS
@pytest.mark.parametrize("kind", ["listateksti", "listateksti-10000"])
def test_list_text_prints_on_a4_at_9_pt_or_more(printed: dict[str, Printed], kind: str) -> None:
    listateksti = printed[kind]
    size = listateksti.page_size()
    assert abs(size[0] - A4[0]) < 2 and abs(size[1] - A4[1]) < 2, size
    assert listateksti.pages() <= 5
    assert listateksti.smallest_text() >= 9 - 0.05


@NEEDS
def test_instructions_print_without_draft_mark_dated_by_release(
    printed: dict[str, Printed], settings: Settings
) -> None:
    ohjeet = printed["ohjeet"]
    assert ohjeet.pages() == 2
    lines = ohjeet.lines()
    assert not [text for _page, text in lines if "LUONNOS" in text]
    released = settings.list_text.instructions_day(YEAR)
    stamp = f"{released.day}.{released.month}.{released.year}"
    for page in (1, 2):
        assert any(stamp in text for number, text in lines if number == page), page
    assert ohjeet.smallest_text() >= 9 - 0.05


# --- 22. Tools that tests need -------------------------------------------------------------


def test_a_missing_tool_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    absent = "no-such-program-for-docgen"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=absent):
        tools.require(absent)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=absent):
        tools.require(absent)
    tools.require("sh")  # present: neither

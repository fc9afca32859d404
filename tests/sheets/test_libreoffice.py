"""The workbook opened and saved again by a spreadsheet program (LibreOffice Calc).

A contact's Excel rewrites the whole file when saving; LibreOffice does the same, so it
stands in for it here (skipped when LibreOffice is not installed: ``make system-deps``).
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

import sheets
from data import catalog

from ..conftest import Database
from .workbooks import YEAR, edit, export

# Skipped without LibreOffice, failed in CI (tests/tools.py).
pytestmark = pytest.mark.needs_tools("soffice")


def _resave(content: bytes, tmp_path: Path) -> bytes:
    source = tmp_path / "in" / "Mittarit_KUVA_2026.xlsx"
    source.parent.mkdir()
    source.write_bytes(content)
    profile = tmp_path / f"lo-{uuid.uuid4().hex}"
    subprocess.run(
        [
            "soffice", "--headless", f"-env:UserInstallation=file://{profile}",
            "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "out"),
            str(source),
        ],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return (tmp_path / "out" / source.name).read_bytes()


def test_a_workbook_saved_again_by_calc_keeps_its_structure_and_formula_values(
    db: Database, tmp_path: Path
) -> None:
    def answers(workbook: object) -> None:
        sheet = workbook["Kirjasto"]  # type: ignore[index]
        sheet["B7"] = "Kyselyt"
        sheet["D7"] = "=2+3"  # Calc computes it and saves the value with the formula
        sheet["C8"] = "Lukupiiri"
        sheet["D8"] = 1200

    resaved = _resave(edit(export(db), answers), tmp_path)
    with db.transaction() as session:
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        checked = sheets.check(
            session, resaved, "Mittarit_KUVA_2026.xlsx", division=division, year=YEAR,
            language="fi",
        )  # fmt: skip
    assert checked.ok, [e.ref for e in checked.parsed.errors]
    assert checked.changes is not None
    (change,) = checked.changes.entities
    assert [(a["method_text"], a["count"]) for a in change.participation or []] == [
        (None, 5),
        ("Lukupiiri", 1200),
    ]

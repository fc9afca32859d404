"""``python -m docgen``: the demo, the configured database, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docgen import KINDS
from settings import ROOT

from ..conftest import Database
from .conftest import YEAR, seeded
from .readback import docx_text, xlsx_text


def _run(
    *args: str, database_url: str | None = None, seed: str = "0"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MITTARIBOTTI_CONFIG"}}
    env["PYTHONHASHSEED"] = seed
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "docgen", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_writes_every_document_and_is_deterministic(tmp_path: Path) -> None:
    first = _run("--out", str(tmp_path / "a"), "--demo", "--year", str(YEAR), seed="1")
    second = _run("--out", str(tmp_path / "b"), "--demo", "--year", str(YEAR), seed="2")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == len(KINDS)
    assert "Liite_1_Asukasosallisuus_toimialoilla_2026-11-30.xlsx" in names
    for name in names:  # other hash seeds, other processes: the same bytes
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert "LUONNOS" in first.stderr  # the demo round is still missing SOTE's answers
    assert len(first.stdout.splitlines()) == len(KINDS)


@pytest.mark.parametrize(
    "args",
    [
        ["--out", "x", "--only", "liite9"],
        ["--out", "x", "--year", "kaksituhatta"],
        ["--year", "2026"],
        ["--out", "x", "--year", "1500"],
        ["--out", "x", "--tuntematon"],
    ],
)
def test_wrong_argument_is_one_line_and_non_zero(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_out_must_be_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "tiedosto"
    file.write_text("x")
    result = _run("--out", str(file), "--demo")
    assert result.returncode == 2 and "ei ole hakemisto" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = _run(
        "--out", str(tmp_path), database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("python -m docgen: tietokantavirhe:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_configured_database_is_read(db: Database, tmp_path: Path) -> None:
    seeded(db)
    result = _run(
        "--out", str(tmp_path), "--only", "liite1", "--year", str(YEAR), database_url=db.url
    )
    assert result.returncode == 0, result.stderr
    (path,) = tmp_path.iterdir()
    text = xlsx_text(path.read_bytes())
    assert "Osallistuvan budjetoinnin ehdotusten määrä" in text and "LUONNOS" in text


def test_first_run_on_a_new_database_migrates_and_reports_no_data(tmp_path: Path) -> None:
    """A never-migrated database (so not the shared, already-migrated test database)."""
    url = f"sqlite:///{tmp_path / 'uusi.sqlite3'}"
    result = _run(
        "--out", str(tmp_path / "out"), "--only", "listateksti", "--year", "2030", database_url=url
    )
    assert result.returncode == 0, result.stderr
    (path,) = (tmp_path / "out").iterdir()
    text = docx_text(path.read_bytes())
    assert "Tietoja ei ole vielä ilmoitettu." in text
    assert "2030" in path.name

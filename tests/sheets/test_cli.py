"""python -m sheets import/export: the coordinator's way for a workbook that came by e-mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from data import audit
from sheets.__main__ import main

from ..conftest import Database
from .workbooks import YEAR, contact, export, fill, saved_state


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("DATABASE_URL", db.url)
    return db


def test_export_writes_the_same_workbook_the_chat_sends(
    cli_env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kuva.xlsx"
    assert main(["export", "--division", "kuva", "--out", str(out), "--year", str(YEAR)]) == 0
    assert out.read_bytes()[:2] == b"PK"
    assert "KUVA 2026" in capsys.readouterr().out
    path = tmp_path / "back.xlsx"
    path.write_bytes(out.read_bytes())
    assert main(["import", str(path), "--division", "KUVA", "--dry-run", "--year", "2026"]) == 0
    assert "vastaa jo tallennettuja tietoja" in capsys.readouterr().out


def test_import_prints_every_cell_error_and_exits_1(
    cli_env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = {f"D{row}": "x" for row in range(7, 23)} | {f"C{row}": "t" for row in range(7, 23)}
    path = tmp_path / "sent.xlsx"
    path.write_bytes(fill(export(cli_env), {"Kirjasto": values, "Kulttuuri": values}))
    code = main(["import", str(path), "--division", "KUVA", "--dry-run", "--year", "2026"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("Virheitä tiedostossa: 32.")
    assert "Kirjasto!D22: ”x” ei ole kokonaisluku väliltä 1–100\xa0000" in out
    assert "muuta" not in out


def test_import_refuses_a_bad_file_with_the_chats_message(
    cli_env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sent.csv"
    path.write_text("a;b\n")
    assert main(["import", str(path), "--division", "KUVA", "--year", "2026", "--dry-run"]) == 1
    assert "”sent.csv” ei ole Excel-työkirja (.xlsx)." in capsys.readouterr().out


def test_import_saves_as_the_named_contact_and_dry_run_saves_nothing(
    cli_env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with cli_env.transaction() as session:
        contact(session, 9101)
    path = tmp_path / "sent.xlsx"
    path.write_bytes(fill(export(cli_env), {"Kirjasto": {"B7": "Kyselyt", "D7": 4}}))
    args = ["import", str(path), "--division", "KUVA", "--year", "2026"]
    assert main([*args, "--dry-run"]) == 0
    assert "• Kirjasto: osallisuus: uusia 1, muutettuja 0, poistettuja 0" in capsys.readouterr().out
    assert saved_state(cli_env)["KUVA_KIRJASTO"] == ([], [])
    assert main(args) == 2  # saving needs --as
    assert "--as" in capsys.readouterr().err
    assert main([*args, "--as", "9101"]) == 0
    assert "saved: 1 service entities" in capsys.readouterr().out
    assert [a["count"] for a in saved_state(cli_env)["KUVA_KIRJASTO"][0]] == [4]
    with cli_env.session() as session:
        assert [e.source for e in audit.events(session) if e.entity == "participation"] == ["excel"]


def test_import_refuses_a_submitted_report_with_the_chats_words(
    cli_env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.flow.entities import MSG_LOCKED
    from data import catalog, reports
    from sheets.__main__ import LOCKED

    assert LOCKED == MSG_LOCKED  # the same message id, so the same words in every language
    with cli_env.transaction() as session:
        person = contact(session, 9102)
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        reports.submit_report(session, person, YEAR, division.id)
    path = tmp_path / "sent.xlsx"
    path.write_bytes(fill(export(cli_env), {"Kirjasto": {"B7": "Kyselyt", "D7": 4}}))
    code = main(["import", str(path), "--division", "KUVA", "--year", "2026", "--as", "9102"])
    assert code == 1
    assert "Toimialasi vuoden 2026 raportti on jo lähetetty" in capsys.readouterr().out
    assert saved_state(cli_env)["KUVA_KIRJASTO"] == ([], [])

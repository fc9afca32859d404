"""python -m schedules plan|ledger: output, JSON lines, one-line errors."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data import ledger
from data.models import Role
from schedules.cli import main

from ..conftest import Database
from .conftest import People, complete_division

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 6, 7, 0, tzinfo=dt.UTC)


def run(*argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env=env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_plan_json_is_one_parseable_object_per_line(db: Database, folks: People) -> None:
    folks.add(Role.COORDINATOR)
    folks.add(Role.COORDINATOR, Role.STAFF)
    folks.add(Role.CONTACT, division="SOTE")
    folks.add(Role.CONTACT, division="KYMP")
    complete_division(db, "KYMP")
    code, out, err = run("plan", "--year", "2026", "--json", env={"DATABASE_URL": db.url})
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    # 13 sends to coordinators, 9 to contacts (not before the staff's "valmis"), 9 to staff
    assert len(records) == 13 + 9 + 9
    assert {tuple(r)[:5] for r in records} == {
        ("at", "deadline", "offset_days", "audience", "recipients")
    }
    first = records[0]
    assert first["at"] == "2026-09-25T09:00:00+03:00" and first["deadline"] == "2026-10-10"
    merged = [r for r in records if r["at"] == "2026-11-27T09:00:00+02:00"]
    assert {(r["offset_days"], r["audience"], r["recipients"]) for r in merged} == {
        (1, "coordinator", 2),  # a "valmis" send: the contacts' deadline was 20.11.
        (1, "staff", 1),
    }
    for record in records:
        at = dt.datetime.fromisoformat(record["at"])
        assert at.utcoffset() is not None and (at.hour, at.minute) == (9, 0)


def test_plan_text_shows_local_time_offset_moves_and_merges(db: Database, folks: People) -> None:
    folks.add(Role.COORDINATOR)
    code, out, _ = run("plan", "--year", "2026", env={"DATABASE_URL": db.url})
    assert code == 0
    line = next(x for x in out.splitlines() if "9.10.2026" in x and "coordinator" in x)
    assert line.startswith("Fri 9.10.2026 9.00 (+03:00) johtoryhma_aineisto 10.10.2026")
    assert line.split()[6:9] == ["0", "coordinator", "1"]
    assert line.endswith("merged 1+0; moved from Sat 10.10.2026")
    assert any(x.startswith("Mon 30.11.2026 9.00 (+02:00) valmis") for x in out.splitlines())


def test_ledger_lists_sent_skipped_and_failed(db: Database, folks: People) -> None:
    pid, _ = folks.add(Role.COORDINATOR, name="Kaisa Koordinaattori")
    with db.transaction() as s:
        for offset, status in ((14, "sent"), (7, "failed"), (3, "skipped")):
            key = ledger.LedgerKey("valmis", dt.date(2026, 11, 30), offset, pid)
            if status == "skipped":
                ledger.record_skipped(
                    s,
                    key,
                    audience="coordinator",
                    kind="scheduled",
                    due_at=NOW,
                    now=NOW,
                    reason="missed: 30.0 h late (the bot was not running)",
                )
                continue
            row_id = ledger.claim_new(
                s, key, audience="coordinator", kind="scheduled", due_at=NOW, now=NOW, claimer="t"
            )
            assert row_id is not None
            if status == "sent":
                ledger.mark_sent(s, row_id, now=NOW)
            else:
                ledger.mark_failed(
                    s,
                    row_id,
                    now=NOW,
                    error="NetworkError: Bad Gateway",
                    retry_at=NOW + dt.timedelta(minutes=1),
                )
    env = {"DATABASE_URL": db.url}
    code, out, _ = run("ledger", env=env)
    assert code == 0
    assert "Kaisa Koordinaattori" in out and "missed: 30.0 h late" in out
    assert "next 6.11.2026 9.01; NetworkError: Bad Gateway" in out
    assert out.splitlines()[-1] == "Total: failed 1, sent 1, skipped 1"
    code, out, _ = run("ledger", "--json", "--status", "failed", env=env)
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert (record["status"], record["offset_days"], record["attempts"]) == ("failed", 7, 1)
    assert record["next_attempt_at"] == "2026-11-06T07:01:00+00:00"


def test_an_empty_database_is_migrated_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    code, out, err = run("ledger", env={"DATABASE_URL": url})
    assert (code, out, err) == (0, "The reminder ledger is empty.\n", "")
    code, out, _ = run("plan", "--year", "2027", "--json", env={"DATABASE_URL": url})
    assert code == 0 and all(json.loads(x)["recipients"] == 0 for x in out.splitlines())


def test_problems_are_one_line_with_a_non_zero_status(tmp_path: Path) -> None:
    code, out, err = run("plan", env={"MITTARIBOTTI_CONFIG": str(tmp_path / "missing.yaml")})
    assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("error: ")
    bad = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    code, _, err = run("ledger", env={"DATABASE_URL": bad})
    assert code == 1 and err.startswith("error: cannot open the database:")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_python_m_schedules_runs_as_a_program(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-m", "schedules", "plan", "--year", "2026", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len([json.loads(line) for line in done.stdout.splitlines()]) == 31


def test_a_usage_error_is_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--year", "soon"], env={})
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid int value: 'soon'" in err

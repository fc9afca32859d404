"""`python -m bot chat` (what `make run` opens without a token at a terminal): the terminal
chat greets and answers, with scripted input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _run_local_chat(tmp_path: Path, script: str) -> str:
    env = {**os.environ, "LOCALCHAT_DATABASE_URL": f"sqlite:///{tmp_path / 'local.sqlite3'}"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        cwd=ROOT,
        env=env,
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_local_chat_greets_and_answers_start_without_a_token(tmp_path: Path) -> None:
    out = _run_local_chat(tmp_path, "/start\n:quit\n")
    assert "Local chat without Telegram" in out
    assert out.count("Hei, Paikallinen Käyttäjä!") == 2  # the automatic greeting and /start
    assert "/raportoi" in out and "/tilanne" in out and "/luonnos" in out
    assert (tmp_path / "bot.sqlite3").exists() and (tmp_path / "local.sqlite3").exists()


def test_local_chat_switches_role_and_presses_buttons_by_number(tmp_path: Path) -> None:
    out = _run_local_chat(tmp_path, ":rooli yhteyshenkilo KUVA\n/kieli\nb2\n:kuka\n:quit\n")
    assert "now roles: contact; division: KUVA" in out
    assert "[b1] Suomi" in out and "[b2] Svenska" in out
    assert "Språk: Svenska" in out


def test_a_new_terminal_asks_the_open_question_again_so_its_buttons_work(tmp_path: Path) -> None:
    _run_local_chat(tmp_path, "/raportoi\nb1\n:quit\n")  # left at level 1 of an entity
    out = _run_local_chat(tmp_path, "b6\n:quit\n")
    assert "Ohje tähän vaiheeseen" in out  # asked again right after the greeting
    assert "Taso 2: Vuorovaikutus" in out  # so "b6" pressed "Ei tapoja tällä tasolla"


def test_a_typed_number_is_text_and_only_b_number_presses_a_button(tmp_path: Path) -> None:
    out = _run_local_chat(tmp_path, "/kieli\n2\n/kieli\nb2\n:quit\n")
    before, after = out.split("› b2") if "› b2" in out else (out, "")
    assert "Språk: Svenska" not in before  # "2" went to the bot as text
    assert "Språk: Svenska" in after


def test_refusals_and_notices_of_pressed_buttons_are_printed(tmp_path: Path) -> None:
    out = _run_local_chat(tmp_path, "/henkilot\nb1\n:press Poista\n:quit\n")
    assert "❗ Et voi poistaa omaa asiantuntijarooliasi tai käyttöoikeuttasi." in out


def test_help_lists_the_button_prefix_and_the_role_commands_but_no_help_command(
    tmp_path: Path,
) -> None:
    out = _run_local_chat(tmp_path, ":help\n:quit\n")
    assert "b<number>" in out and ":rooli" in out
    assert "/help" not in out

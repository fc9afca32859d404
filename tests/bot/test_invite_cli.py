"""``python -m bot invite``: the command line creates invitations, also to bootstrap the very
first staff member, on the database DATABASE_URL names (created and migrated if needed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from data import people
from data.db import make_engine, make_sessionmaker
from data.models import Invitation, Person, Role

from ..conftest import PG_URL, scratch_schema
from .conftest import BotHarness

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"^https://t\.me/mittaribotti_bot\?start=([A-Za-z0-9_-]{1,64})$")


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TELEGRAM_BOT_TOKEN", "MITTARIBOTTI_CONFIG"}
    }
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", "invite", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _invitations(url: str) -> list[Invitation]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(Invitation)))
    finally:
        engine.dispose()


def test_bootstrap_creates_and_migrates_a_missing_sqlite_database(tmp_path: Path) -> None:
    database = tmp_path / "new" / "bot.sqlite3"
    url = f"sqlite:///{database}"
    result = run_cli(url, "--role", "staff")
    assert result.returncode == 0, result.stderr
    match = LINK.match(result.stdout.strip())
    assert match, result.stdout
    assert "role=staff division=- valid_until=" in result.stderr
    assert database.exists()
    engine = make_engine(url)
    try:
        assert inspect(engine).has_table("alembic_version")
        with make_sessionmaker(engine)() as session:
            assert session.scalar(select(Person)) is None  # nobody registered yet
            invitation = session.scalar(select(Invitation))
            assert invitation is not None
            assert invitation.token_hash == people.hash_token(match.group(1))  # never in clear
            assert match.group(1) not in repr(session.execute(select(Invitation.__table__)).all())
            assert invitation.role is Role.STAFF and invitation.created_by_id is None
            assert (invitation.expires_at - invitation.created_at).days == 7
    finally:
        engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")
def test_bootstrap_migrates_an_empty_postgresql_database() -> None:
    with scratch_schema("cli") as url:
        result = run_cli(url, "--role", "koordinaattori")
        assert result.returncode == 0, result.stderr
        assert LINK.match(result.stdout.strip())
        [invitation] = _invitations(url)
        assert invitation.role is Role.COORDINATOR


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "error: unknown role 'boss' (contact, coordinator or staff)"),
        (
            ["--role", "contact", "--division", "XYZ"],
            "error: unknown division 'XYZ' (KYMP, KASKO, SOTE, KUVA)",
        ),
        (["--role", "contact"], "error: a contact invitation needs --division"),
        (["--role", "staff", "--days", "0"], "error: --days must be between 1 and 90"),
    ],
)
def test_a_wrong_argument_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    result = run_cli(url, *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip() == message
    if (tmp_path / "bot.sqlite3").exists():
        assert _invitations(url) == []


async def test_the_first_staff_member_bootstraps_from_the_command_line(bot: BotHarness) -> None:
    """On the bot's own database: the printed link registers the first staff member, who
    can then invite a contact in the chat."""
    result = run_cli(bot.db.url, "--role", "staff")
    assert result.returncode == 0, result.stderr
    sanna = bot.user(8001, "Sanna")
    await sanna.open_link(result.stdout.strip())
    assert "Tervetuloa, Sanna" in sanna.last.text
    assert "/kutsu" in sanna.last.text
    await sanna.send("/kutsu")
    assert "Kenet kutsut?" in sanna.last.text

    contact = run_cli(bot.db.url, "--role", "contact", "--division", "kuva", "--days", "2")
    assert contact.returncode == 0, contact.stderr
    assert "role=contact division=KUVA" in contact.stderr
    aino = bot.user(8002, "Aino")
    await aino.open_link(contact.stdout.strip())
    assert "Kulttuurin ja vapaa-ajan toimiala" in aino.last.text

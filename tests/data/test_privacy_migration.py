"""Migration 0004_privacy on a database that already has clear tokens and people."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from data import people
from data.db import _alembic_config, make_engine, make_sessionmaker, migrate, transaction
from data.models import Role

from ..conftest import PG_URL, _pg_url_with_schema

NOW = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
CLEAR = "oldClearToken_abcdefghijklmnopqrstu"


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (own file or own PostgreSQL schema)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(_pg_url_with_schema(schema))
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _upgrade_to(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = _alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_clear_tokens_become_hashes_and_old_links_still_work(old_engine: Engine) -> None:
    _upgrade_to(old_engine, "0001")
    with old_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (id, telegram_user_id, name, active, created_at) "
                "VALUES (1000, 42, 'Sanna', true, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO invitations (id, token, role, created_by_id, created_at, expires_at)"
                " VALUES (1000, :token, 'staff', 1000, :now, :until)"
            ),
            {"token": CLEAR, "now": NOW, "until": NOW + dt.timedelta(days=7)},
        )
    migrate(old_engine)
    with old_engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM invitations")).mappings().one()
        creator = connection.execute(text("SELECT name FROM people WHERE id = 1000")).scalar()
    assert "token" not in stored and CLEAR not in repr(dict(stored))
    assert stored["token_hash"] == people.hash_token(CLEAR)
    assert creator == "Sanna"  # the rebuilt people table kept its rows
    with transaction(make_sessionmaker(old_engine)) as session:
        redeemed = people.redeem_invitation(session, CLEAR, 77, name="Aino", language=None, now=NOW)
        assert isinstance(redeemed, people.Redeemed)
        assert redeemed.person.role_set == {Role.STAFF}

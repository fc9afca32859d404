"""PostgreSQL connections start with the bot's session settings (sent in the start-up
packet, no statement of their own), and the options of the URL are kept."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text

from data.db import LOCK_TIMEOUT_MS, make_engine, startup_lock
from tests.conftest import PG_URL, scratch_schema

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (TEST_DATABASE_URL)")


def _settings(engine: Engine) -> tuple[str, str]:
    try:
        with engine.connect() as connection:
            lock_timeout = connection.execute(text("SHOW lock_timeout")).scalar_one()
            search_path = connection.execute(text("SHOW search_path")).scalar_one()
        return lock_timeout, search_path
    finally:
        engine.dispose()


def test_a_connection_waits_for_a_lock_at_most_the_lock_timeout_in_the_urls_schema() -> None:
    assert LOCK_TIMEOUT_MS == 3000
    with scratch_schema() as url:
        lock_timeout, search_path = _settings(make_engine(url))
    assert lock_timeout == "3s"
    assert search_path == url.rsplit("search_path%3D", 1)[1]


def test_a_lock_timeout_of_zero_waits_as_long_as_needed_in_the_schema_asked_for() -> None:
    assert PG_URL
    lock_timeout, search_path = _settings(
        make_engine(PG_URL, schema="elsewhere", lock_timeout_ms=0)
    )
    assert (lock_timeout, search_path) == ("0", "elsewhere")


def test_the_urls_own_lock_timeout_wins() -> None:
    assert PG_URL
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options={quote('-clock_timeout=250')}"
    assert _settings(make_engine(url))[0] == "250ms"


def test_the_startup_lock_gives_the_connection_its_lock_timeout_back() -> None:
    assert PG_URL
    engine = make_engine(PG_URL, pool_size=1, max_overflow=0)
    try:
        with startup_lock(engine):
            pass
        with engine.connect() as connection:
            assert connection.execute(text("SHOW lock_timeout")).scalar_one() == "3s"
    finally:
        engine.dispose()

"""Readiness of the database for ``GET /readyz``: it answers and its schema is at head.

A replica whose database is unreachable, or that is still behind a migration another
replica has not run yet, must not get traffic: the load balancer asks this (through the
web server) every few seconds, so it is one short connection and two tiny reads.
"""

from __future__ import annotations

from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from data.db import MIGRATIONS


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The migration heads shipped with this code (read from the files once)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """None when the database answers and is migrated to head; else why not, in a few words."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # any driver error means "not ready", never a crash
        return f"database unavailable: {type(error).__name__}"
    if current != head_revisions():
        have = ",".join(sorted(current)) or "none"
        return f"schema at {have}, code expects {','.join(sorted(head_revisions()))}"
    return None

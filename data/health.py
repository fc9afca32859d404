"""Readiness of the database for ``GET /readyz``: it answers and its schema is at head
(or at a revision of a newer release, during a rolling upgrade).

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
    return frozenset(_scripts().get_heads())


def schema_problem(engine: Engine) -> str | None:
    """None when the database answers and is migrated to head; else why not, in a few words."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # any driver error means "not ready", never a crash
        return f"database unavailable: {type(error).__name__}"
    if current == head_revisions() or _newer_than_this_code(current):
        return None
    have = ",".join(sorted(current)) or "none"
    return f"schema at {have}, code expects {','.join(sorted(head_revisions()))}"


def _newer_than_this_code(current: frozenset[str]) -> bool:
    """A revision this code has never heard of was written by a newer release.

    During a rolling upgrade the new release migrates first and the old replicas keep
    serving until each is restarted (migrations are written to allow that); a schema that
    is *behind* the code, on the other hand, is missing what the code needs.
    """
    if not current:
        return False
    known = {script.revision for script in _scripts().walk_revisions()}
    return not current & known


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))

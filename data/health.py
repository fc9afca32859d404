"""Where the database's schema stands against this code, for start-up and ``GET /readyz``.

* **at head** — ready;
* **behind** — start-up migrates it (`data.db.migrate`); until then a replica is not ready;
* **ahead, compatible** — a newer release migrated first (a rolling upgrade) and declared
  in ``schema_compatibility`` that code as old as ours still runs on its schema
  (`data.migrations.compat`, the expand/contract rule): this replica starts and serves;
* **ahead, not compatible** — the newer schema removed or changed something this code
  uses (or says nothing about it): this replica must not run; a restart will not help
  (exit status 2), only the newer release will.

The readiness probe asks this every few seconds: one short connection and a few tiny reads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from data.db import MIGRATIONS

COMPAT_TABLE = "schema_compatibility"


class Standing(enum.Enum):
    EMPTY = "empty"
    BEHIND = "behind"
    AT_HEAD = "at head"
    AHEAD_COMPATIBLE = "ahead, compatible"
    AHEAD_INCOMPATIBLE = "ahead, not compatible"


@dataclass(frozen=True)
class SchemaState:
    standing: Standing
    current: frozenset[str]
    #: For a newer schema: the oldest code revision it declared it supports (None: none).
    oldest_code: str | None = None

    @property
    def runnable(self) -> bool:
        """Can this code serve on the schema as it is?"""
        return self.standing in (Standing.AT_HEAD, Standing.AHEAD_COMPATIBLE)

    @property
    def revision(self) -> str:
        return ",".join(sorted(self.current)) or "none"

    def describe(self) -> str:
        """One line for an operator."""
        heads = ",".join(sorted(head_revisions()))
        match self.standing:
            case Standing.EMPTY:
                return f"schema at none, code expects {heads}"
            case Standing.BEHIND:
                return f"schema at {self.revision}, code expects {heads}"
            case Standing.AT_HEAD:
                return f"schema at {heads} (this release's head)"
            case Standing.AHEAD_COMPATIBLE:
                return (
                    f"schema at {self.revision}, a newer release's; it declares code from "
                    f"{self.oldest_code} on compatible, so this release ({heads}) runs on it"
                )
            case Standing.AHEAD_INCOMPATIBLE:
                declared = (
                    f"it supports code from {self.oldest_code} on"
                    if self.oldest_code
                    else "it declares no compatibility with older code"
                )
                return (
                    f"schema at {self.revision} is newer than this release ({heads}) and "
                    f"{declared}: run the newer release"
                )


class SchemaAheadError(RuntimeError):
    """The database was migrated by a newer release this code cannot run with."""

    def __init__(self, state: SchemaState) -> None:
        super().__init__(state.describe())
        self.state = state


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The migration heads shipped with this code (read from the files once)."""
    return frozenset(_scripts().get_heads())


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def schema_state(connection: Connection) -> SchemaState:
    """Compare the database's revision(s) with this code's migrations."""
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return SchemaState(Standing.EMPTY, current)
    if current == head_revisions():
        return SchemaState(Standing.AT_HEAD, current)
    unknown = current - known_revisions()
    if not unknown:
        return SchemaState(Standing.BEHIND, current)
    oldest = _declared_oldest_code(connection, unknown)
    compatible = oldest is not None and oldest in known_revisions()
    standing = Standing.AHEAD_COMPATIBLE if compatible else Standing.AHEAD_INCOMPATIBLE
    return SchemaState(standing, current, oldest)


def _declared_oldest_code(connection: Connection, revisions: frozenset[str]) -> str | None:
    """What the newer revision declared (one unknown head: a linear history)."""
    if len(revisions) != 1 or not inspect(connection).has_table(COMPAT_TABLE):
        return None
    found = connection.execute(
        text(f"SELECT oldest_code_revision FROM {COMPAT_TABLE} WHERE revision = :r"),
        {"r": next(iter(revisions))},
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def schema_problem(engine: Engine) -> str | None:
    """None when the database answers and this code can serve on its schema; else why not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            state = schema_state(connection)
    except Exception as error:  # any driver error means "not ready", never a crash
        return f"database unavailable: {type(error).__name__}"
    return None if state.runnable else state.describe()


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))

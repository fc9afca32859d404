"""What a migration declares about the code that can run on the schema it leaves.

The expand/contract rule (README, *Upgrading*): a release's migrations only **add** (tables,
nullable columns, columns with a server default, indexes); the code of the release before
keeps running on the new schema. Something the previous release still reads or writes is
removed (or made NOT NULL, renamed) one release later, once no replica runs that code.

Each migration ends with ``declare(revision, oldest_code_revision)``:

* an additive migration: ``oldest_code_revision`` = the head of the previous release (its
  ``down_revision`` when it is the release's first migration), or whatever the previous
  migration declared, so a release of several additive migrations keeps the same oldest;
* a contracting one (a removal): ``oldest_code_revision`` = its own ``revision`` or the
  head of the release that stopped using what is removed.

A replica whose code is older than the database looks the database's revision up in
``schema_compatibility`` (`data.health.schema_state`) and starts only if it knows the
declared revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TABLE = sa.table(
    "schema_compatibility",
    sa.column("revision", sa.String),
    sa.column("oldest_code_revision", sa.String),
)


def declare(revision: str, oldest_code_revision: str) -> None:
    """Record that code at ``oldest_code_revision`` or newer runs on ``revision``'s schema."""
    op.execute(TABLE.delete().where(TABLE.c.revision == revision))
    op.execute(TABLE.insert().values(revision=revision, oldest_code_revision=oldest_code_revision))

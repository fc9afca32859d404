"""perf: catalog_state, the catalog's version (each process holds the catalog in memory)

Additive only: the previous release runs unchanged on this schema (it never reads the table).

Revision ID: 0013_perf_catalog
Revises: 0012_ops
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_perf_catalog"
down_revision = "0012_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )


def downgrade() -> None:
    op.drop_table("catalog_state")

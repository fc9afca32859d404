"""schema compatibility declarations (expand/contract rolling upgrades)

Revision ID: 0012_ops
Revises: 0009_perf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.migrations.compat import declare

revision = "0012_ops"
down_revision = "0009_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schema_compatibility",
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("oldest_code_revision", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_schema_compatibility")),
    )
    # Additive, like the other migrations of this release (0009_perf, 0010_miniapp): the
    # previous release's code (head 0007_inbox) runs on this schema.
    declare(revision, "0007_inbox")


def downgrade() -> None:
    op.drop_table("schema_compatibility")

"""perf: index on inbox.received_at (the prune finds old handled rows without a scan)

Additive only: the previous release runs unchanged on this schema.

Revision ID: 0009_perf
Revises: 0010_miniapp
"""

from __future__ import annotations

from alembic import op

revision = "0009_perf"
down_revision = "0010_miniapp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_received_at", table_name="inbox")

"""one send budget shared by demand: replicas.slots, replicas.demand

Each replica claims in its heartbeat row how many of Telegram's 30 messages per window it
may use (``slots``) and how many it would use (``demand``); ``data.ratelimit`` shares the
30 out by demand, never more than 30 in all.

Additive only: the previous release ignores the nullable columns (a replica of it, whose
``slots`` stays NULL, is counted as holding its even share: ``data.ratelimit``).

Revision ID: 0016_send_budget
Revises: 0015_outbox_marks_inbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.migrations.compat import declare

revision = "0016_send_budget"
down_revision = "0015_outbox_marks_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replicas") as batch:
        batch.add_column(sa.Column("slots", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("demand", sa.Integer(), nullable=True))
    # Additive like the rest of this release: the previous release (0007_inbox) runs on it.
    declare(revision, "0007_inbox")


def downgrade() -> None:
    with op.batch_alter_table("replicas") as batch:
        batch.drop_column("demand")
        batch.drop_column("slots")

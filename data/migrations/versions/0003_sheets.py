"""Excel round trip: the typed name of a 'Muu tapa' measurement, the source of an audit row

Revision ID: 0003_sheets
Revises: 0001
Create Date: 2026-11-30 11:20:00

satisfaction_entries.other_name is the column the lead's frequency/measurement work adds as
well; the lead re-chains and reconciles this revision when merging.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sheets"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("satisfaction_entries") as batch:
        batch.add_column(sa.Column("other_name", sa.String(length=300), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("satisfaction_entries") as batch:
        batch.drop_column("other_name")

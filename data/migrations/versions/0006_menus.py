"""command menus last set, so start-up sets only the changed ones

Revision ID: 0006_menus
Revises: 0005_sheets
Create Date: 2026-11-30 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_menus"
down_revision = "0005_sheets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_menus",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_command_menus")),
    )


def downgrade() -> None:
    op.drop_table("command_menus")

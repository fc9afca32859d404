"""one per-chat send clock for the whole deployment: chat_pauses.next_send, outbox.paced

Additive only: the previous release ignores the nullable column and the defaulted one.

Revision ID: 0014_chat_spacing
Revises: 0008_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.migrations.compat import declare

revision = "0014_chat_spacing"
down_revision = "0008_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_pauses") as batch:
        batch.add_column(sa.Column("next_send", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("paced", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Additive like the rest of this release: the previous release (0007_inbox) runs on it.
    declare(revision, "0007_inbox")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("paced")
    with op.batch_alter_table("chat_pauses") as batch:
        batch.drop_column("next_send")

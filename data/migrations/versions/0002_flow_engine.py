"""one conversation engine: no PTB persistence table, paused drafts, codes for frequencies, the name of "Muu tapa"

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Labels stored before this revision (the chat's buttons in fi/sv/en) and their codes.
FREQUENCY_CODES = {
    "jatkuvasti": "continuous",
    "kontinuerligt": "continuous",
    "continuously": "continuous",
    "kuukausittain": "monthly",
    "varje månad": "monthly",
    "monthly": "monthly",
    "muutaman kerran vuodessa": "few_per_year",
    "några gånger per år": "few_per_year",
    "a few times a year": "few_per_year",
    "kerran vuodessa": "yearly",
    "en gång per år": "yearly",
    "once a year": "yearly",
    "harvemmin": "less_often",
    "mer sällan": "less_often",
    "less often": "less_often",
}


def upgrade() -> None:
    # PTB persistence is gone: the drafts are the only conversation state.
    op.drop_table("bot_state")
    with op.batch_alter_table("conversation_drafts") as batch:
        batch.add_column(
            sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("satisfaction_entries") as batch:
        batch.add_column(sa.Column("frequency_text", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("other_name", sa.String(length=300), nullable=True))
    entries = sa.table(
        "satisfaction_entries",
        sa.column("id", sa.Integer),
        sa.column("frequency", sa.String),
        sa.column("frequency_text", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(entries.c.id, entries.c.frequency).where(entries.c.frequency.is_not(None))
    ).all()
    for row_id, label in rows:
        code = FREQUENCY_CODES.get(label.strip().casefold())
        values = {"frequency": code} if code else {"frequency": "other", "frequency_text": label}
        connection.execute(entries.update().where(entries.c.id == row_id).values(**values))
    with op.batch_alter_table("satisfaction_entries") as batch:
        batch.alter_column(
            "frequency",
            existing_type=sa.String(length=300),
            type_=sa.String(length=40),
            existing_nullable=True,
        )


def downgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_state")),
        sa.UniqueConstraint("kind", "name", "key", name=op.f("uq_bot_state_kind")),
    )
    with op.batch_alter_table("satisfaction_entries") as batch:
        batch.alter_column(
            "frequency",
            existing_type=sa.String(length=40),
            type_=sa.String(length=300),
            existing_nullable=True,
        )
        batch.drop_column("other_name")
        batch.drop_column("frequency_text")
    with op.batch_alter_table("conversation_drafts") as batch:
        batch.drop_column("paused")

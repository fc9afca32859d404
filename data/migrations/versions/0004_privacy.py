"""privacy: invitation tokens stored as SHA-256 hashes; an erased person has no Telegram id

Revision ID: 0004_privacy
Revises: 0002
Create Date: 2026-11-30 11:30:00

Existing clear tokens are hashed in place, so invitation links already sent keep working.
Downgrading cannot recover the clear tokens: open invitations then stop working (create
new ones), and erased people get a negative placeholder id.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004_privacy"
down_revision = "0002"
branch_labels = None
depends_on = None

invitations = sa.table(
    "invitations",
    sa.column("id", sa.Integer),
    sa.column("token", sa.String),
    sa.column("token_hash", sa.String),
)
people = sa.table(
    "people", sa.column("id", sa.Integer), sa.column("telegram_user_id", sa.BigInteger)
)


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    for row_id, token in bind.execute(sa.select(invitations.c.id, invitations.c.token)).all():
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        bind.execute(
            invitations.update().where(invitations.c.id == row_id).values(token_hash=digest)
        )
    with op.batch_alter_table("invitations") as batch:
        batch.drop_constraint("uq_invitations_token", type_="unique")
        batch.drop_column("token")
        batch.alter_column("token_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_invitations_token_hash", ["token_hash"])
    with op.batch_alter_table("people") as batch:
        batch.alter_column("telegram_user_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(
        people.update()
        .where(people.c.telegram_user_id.is_(None))
        .values(telegram_user_id=-people.c.id)
    )
    with op.batch_alter_table("people") as batch:
        batch.alter_column("telegram_user_id", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("token", sa.String(length=64), nullable=True))
    bind.execute(invitations.update().values(token=invitations.c.token_hash))
    with op.batch_alter_table("invitations") as batch:
        batch.drop_constraint("uq_invitations_token_hash", type_="unique")
        batch.drop_column("token_hash")
        batch.alter_column("token", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_invitations_token", ["token"])

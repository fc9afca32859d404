"""Mini App: entity versions (no silent overwrite) and the save rate limit

Additive: two new tables; the previous release never reads or writes them.

Revision ID: 0010_miniapp
Revises: 0007_inbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_miniapp"
down_revision = "0007_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entity_versions",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("service_entity_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_entity_versions_round_id_rounds")
        ),
        sa.ForeignKeyConstraint(
            ["service_entity_id"],
            ["service_entities.id"],
            name=op.f("fk_entity_versions_service_entity_id_service_entities"),
        ),
        sa.PrimaryKeyConstraint("round_id", "service_entity_id", name=op.f("pk_entity_versions")),
    )
    op.create_table(
        "miniapp_saves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_miniapp_saves_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_miniapp_saves")),
    )
    op.create_index("ix_miniapp_saves_person_at", "miniapp_saves", ["person_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_miniapp_saves_person_at", table_name="miniapp_saves")
    op.drop_table("miniapp_saves")
    op.drop_table("entity_versions")

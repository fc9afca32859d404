"""perf: an update's replies written to the outbox mark its inbox row handled

A trigger on ``outbox``: inserting a row that names an update (``update_id``) sets that
update's ``inbox.handled_at`` when it is not yet set, in the same transaction. The guided
conversations write their replies in the transaction that applies the update, so the reply
rows *are* the handled mark — one statement per update less (the mark was a separate
``UPDATE inbox``), with the same atomicity: the mark commits with the step or not at all.
Code that writes no reply rows still marks the inbox itself (``data.inbox.mark_handled``).

Additive only: the previous release marks the inbox itself too; the trigger then finds the
row marked and changes nothing.

Revision ID: 0015_outbox_marks_inbox
Revises: 0014_chat_spacing
"""

from __future__ import annotations

from alembic import op

from data.migrations.compat import declare

revision = "0015_outbox_marks_inbox"
down_revision = "0014_chat_spacing"
branch_labels = None
depends_on = None

#: Kept in step with ``data.inbox.OUTBOX_TRIGGER`` (tests check the trigger is there).
NAME = "outbox_marks_inbox"

_SQLITE = f"""
CREATE TRIGGER {NAME} AFTER INSERT ON outbox
FOR EACH ROW WHEN NEW.update_id IS NOT NULL
BEGIN
    UPDATE inbox SET handled_at = NEW.created_at
    WHERE update_id = NEW.update_id AND handled_at IS NULL;
END
"""

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inbox SET handled_at = NEW.created_at
    WHERE update_id = NEW.update_id AND handled_at IS NULL;
    RETURN NULL;
END
$$
"""

_PG_TRIGGER = f"""
CREATE TRIGGER {NAME} AFTER INSERT ON outbox
FOR EACH ROW WHEN (NEW.update_id IS NOT NULL) EXECUTE FUNCTION {NAME}()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE)
    declare(revision, "0007_inbox")


def downgrade() -> None:
    op.execute(
        f"DROP TRIGGER IF EXISTS {NAME}"
        + (" ON outbox" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {NAME}()")

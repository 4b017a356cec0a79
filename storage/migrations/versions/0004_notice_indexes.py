"""notice indexes: find the notice a group's "收到" answers without scanning the outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_to_id_sent_at', ['to_id', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_to_id_sent_at')

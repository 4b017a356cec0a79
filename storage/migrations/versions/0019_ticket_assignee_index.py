"""tickets: an index for a person's tickets waiting to be accepted

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "好的 / 收到" from a handler asks which of their tickets wait for acceptance (assignee, state new or
    # reopened): without an index on the assignee that read every waiting ticket of the deployment, for each such
    # message. Not on updated_at: a "+1" writes it, and an index on it would make every "+1" rewrite the index
    op.create_index('ix_tickets_assignee_state', 'tickets', ['assignee', 'state'])


def downgrade() -> None:
    op.drop_index('ix_tickets_assignee_state', table_name='tickets')

"""tickets: indexes for the duplicate look-up (the same problem in the same group or node, recently)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every report asks "is this problem already open here?": without these, the group's or node's every
    # ticket is read to find it (ix_tickets_room_category leads with a category the question does not name)
    op.create_index('ix_tickets_room_problem', 'tickets', ['room_key', 'problem_key', 'created_at'])
    op.create_index('ix_tickets_node_problem', 'tickets', ['node_code', 'problem_key', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_tickets_node_problem', table_name='tickets')
    op.drop_index('ix_tickets_room_problem', table_name='tickets')

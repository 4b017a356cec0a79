"""tickets: drop the two indexes that shadow the duplicate look-up's

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ix_tickets_room_category (room_key, category, created_at) and ix_tickets_node_code (node_code) lead with the
    # same column as ix_tickets_room_problem and ix_tickets_node_problem (0012), which serve every query they
    # served. While the planner's statistics are young (a new deployment, a burst), PostgreSQL costs them the same
    # and took the shadowing ones for "is this problem already open here?", reading every ticket of the group
    # (0.58 ms instead of 0.06 ms a report, measured); one index fewer also costs every new ticket less to write
    op.drop_index('ix_tickets_room_category', table_name='tickets')
    op.drop_index('ix_tickets_node_code', table_name='tickets')


def downgrade() -> None:
    op.create_index('ix_tickets_node_code', 'tickets', ['node_code'])
    op.create_index('ix_tickets_room_category', 'tickets', ['room_key', 'category', 'created_at'])

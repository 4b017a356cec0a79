"""tickets: the problem a ticket is about (the thing and its state), so only the same problem merges

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing tickets keep NULL: they join nothing by key (a "+1" can still join them)
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('problem_key', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('problem_key')

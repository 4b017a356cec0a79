"""console: the audit log's true outcome (allowed / refused / failed), a session's one-time flash message

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rows written before keep NULL: their `allowed` flag still tells 允许 from 拒绝
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('outcome', sa.String(length=10), nullable=True))
    with op.batch_alter_table('web_sessions') as batch:
        batch.add_column(sa.Column('flash', sa.Text(), nullable=True))
        batch.add_column(sa.Column('flash_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('web_sessions') as batch:
        batch.drop_column('flash_until')
        batch.drop_column('flash')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('outcome')

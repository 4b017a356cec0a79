"""digests: per-ticket speed figures, period indexes and the exactly-once delivery record

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment', sa.String(length=500), nullable=True))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accept_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolve_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('breached', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_tickets_accepted_at', ['accepted_at'], unique=False)
        batch_op.create_index('ix_tickets_resolved_at', ['resolved_at'], unique=False)
        batch_op.create_index('ix_tickets_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_tickets_state_node', ['state', 'node_code', 'due_at'], unique=False)
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_created_at', ['created_at'], unique=False)
    op.create_table(
        'digest_deliveries',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('node_code', sa.String(length=64), nullable=False),
        sa.Column('recipient', sa.String(length=100), nullable=False),
        sa.Column('to_kind', sa.String(length=10), nullable=False),
        sa.Column('to_id', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('chart', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_deliveries')),
        sa.UniqueConstraint('period', 'period_start', 'node_code', 'recipient', name=op.f('uq_digest_deliveries_period')),
    )


def downgrade() -> None:
    op.drop_table('digest_deliveries')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_created_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_state_node')
        batch_op.drop_index('ix_tickets_closed_at')
        batch_op.drop_index('ix_tickets_resolved_at')
        batch_op.drop_index('ix_tickets_accepted_at')
        batch_op.drop_column('breached')
        batch_op.drop_column('resolve_seconds')
        batch_op.drop_column('accept_seconds')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('attachment')

"""review: messages that may be reports, held for a leader to register or dismiss

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'review_items',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('message_id', sa.BigInteger(), nullable=True),
        sa.Column('room_key', sa.String(length=200), nullable=True),
        sa.Column('room_id', sa.String(length=200), nullable=True),
        sa.Column('node_code', sa.String(length=64), nullable=False),
        sa.Column('node_path', sa.String(length=500), nullable=False),
        sa.Column('sender_id', sa.String(length=200), nullable=False),
        sa.Column('sender_name', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('parse', sa.JSON(), nullable=True),
        sa.Column('category', sa.String(length=20), nullable=True),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('leader_key', sa.String(length=100), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('ticket_id', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_items')),
    )
    op.create_index('ix_review_items_state_leader', 'review_items', ['state', 'leader_key'], unique=False)
    op.create_index('ix_review_items_state_node_path', 'review_items', ['state', 'node_path'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_items_state_node_path', table_name='review_items')
    op.drop_index('ix_review_items_state_leader', table_name='review_items')
    op.drop_table('review_items')

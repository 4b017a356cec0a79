"""care: the daily 报平安 (steps done, replies, pauses) and visits of the care ledger

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'care_steps',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('entry_key', sa.String(length=100), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('step', sa.String(length=12), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ref', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_steps')),
        sa.UniqueConstraint('entry_key', 'day', 'step', name='uq_care_steps_entry_day_step'),
    )
    op.create_table(
        'care_replies',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('entry_key', sa.String(length=100), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('by_subject', sa.Boolean(), nullable=False),
        sa.Column('sender_id', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_replies')),
    )
    op.create_index('ix_care_replies_entry_at', 'care_replies', ['entry_key', 'at'], unique=False)
    op.create_table(
        'care_pauses',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('entry_key', sa.String(length=100), nullable=False),
        sa.Column('start_day', sa.String(length=10), nullable=False),
        sa.Column('end_day', sa.String(length=10), nullable=False),
        sa.Column('said_on', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=50), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('sender_id', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_pauses')),
    )
    op.create_index('ix_care_pauses_entry_end', 'care_pauses', ['entry_key', 'end_day'], unique=False)
    op.create_table(
        'care_visits',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('entry_key', sa.String(length=100), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('by', sa.String(length=100), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('photo', sa.Boolean(), nullable=False),
        sa.Column('message_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_visits')),
    )
    op.create_index('ix_care_visits_entry_at', 'care_visits', ['entry_key', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_care_visits_entry_at', table_name='care_visits')
    op.drop_table('care_visits')
    op.drop_index('ix_care_pauses_entry_end', table_name='care_pauses')
    op.drop_table('care_pauses')
    op.drop_index('ix_care_replies_entry_at', table_name='care_replies')
    op.drop_table('care_replies')
    op.drop_table('care_steps')

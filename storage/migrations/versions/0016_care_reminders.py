"""care: reminders of overdue visits sent (one a day per responsible person, kept across restarts)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'care_reminders',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('person_key', sa.String(length=100), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_reminders')),
        sa.UniqueConstraint('person_key', 'day', name='uq_care_reminders_person_day'),
    )


def downgrade() -> None:
    op.drop_table('care_reminders')

"""polls and satisfaction: 微议事 polls with one vote per household, and the question asked after a ticket closes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'polls',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('room_key', sa.String(length=200), nullable=False),
        sa.Column('room_id', sa.String(length=200), nullable=False),
        sa.Column('node_code', sa.String(length=64), nullable=False),
        sa.Column('starter_key', sa.String(length=100), nullable=False),
        sa.Column('starter_name', sa.String(length=200), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('quorum', sa.JSON(), nullable=True),
        sa.Column('ticket_no', sa.Integer(), nullable=True),
        sa.Column('opened_at', When, nullable=False),
        sa.Column('closes_at', When, nullable=False),
        sa.Column('deadline_given', sa.Boolean(), nullable=False),
        sa.Column('closed_at', When, nullable=True),
        sa.Column('closed_by', sa.String(length=200), nullable=True),
        sa.Column('outcome', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_polls')),
        sa.UniqueConstraint('number', name=op.f('uq_polls_number')),
    )
    op.create_index('ix_polls_state_closes_at', 'polls', ['state', 'closes_at'], unique=False)
    op.create_index(op.f('ix_polls_room_key'), 'polls', ['room_key'], unique=False)
    op.create_table(
        'poll_votes',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('poll_id', BigId, nullable=False),
        sa.Column('voter', sa.String(length=200), nullable=False),
        sa.Column('member_id', sa.String(length=200), nullable=False),
        sa.Column('member_name', sa.String(length=200), nullable=False),
        sa.Column('option', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('at', When, nullable=False),
        sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_votes_poll_id_polls'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_votes')),
        sa.UniqueConstraint('poll_id', 'voter', name=op.f('uq_poll_votes_poll_id')),
    )
    op.create_index(op.f('ix_poll_votes_poll_id'), 'poll_votes', ['poll_id'], unique=False)
    op.create_table(
        'satisfaction',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('ticket_id', BigId, nullable=False),
        sa.Column('ticket_number', sa.Integer(), nullable=False),
        sa.Column('reporter_id', sa.String(length=200), nullable=False),
        sa.Column('reporter_name', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('to_kind', sa.String(length=10), nullable=True),
        sa.Column('to_id', sa.String(length=200), nullable=True),
        sa.Column('node_code', sa.String(length=64), nullable=False),
        sa.Column('node_path', sa.String(length=800), nullable=True),
        sa.Column('handler_key', sa.String(length=100), nullable=True),
        sa.Column('asked_at', When, nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_at', When, nullable=True),
        sa.Column('reopened', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_satisfaction_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction')),
        sa.UniqueConstraint('ticket_id', 'reporter_id', name=op.f('uq_satisfaction_ticket_id')),
    )
    op.create_index(op.f('ix_satisfaction_ticket_id'), 'satisfaction', ['ticket_id'], unique=False)
    op.create_index('ix_satisfaction_reporter_state', 'satisfaction', ['reporter_id', 'state'], unique=False)
    op.create_index('ix_satisfaction_answered_path', 'satisfaction', ['answered_at', 'node_path'], unique=False)


def downgrade() -> None:
    op.drop_table('satisfaction')
    op.drop_table('poll_votes')
    op.drop_table('polls')

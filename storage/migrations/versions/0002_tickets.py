"""tickets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('counters',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('ticket_reporters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reporter_id', sa.String(length=200), nullable=False),
    sa.Column('reporter_name', sa.String(length=200), nullable=False),
    sa.Column('room_key', sa.String(length=200), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_reporters_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_reporters')),
    sa.UniqueConstraint('ticket_id', 'reporter_id', name=op.f('uq_ticket_reporters_ticket_id'))
    )
    with op.batch_alter_table('ticket_reporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_reporters_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_reporters_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node_path', sa.String(length=800), nullable=True))
        batch_op.add_column(sa.Column('room_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('building', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('unit', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('room_no', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('place', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('assignee_node', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reporter_count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('escalated', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=True))
        batch_op.create_index('ix_tickets_room_category', ['room_key', 'category', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_state_check', ['state', 'next_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_node_path'), ['node_path'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_node_path'))
        batch_op.drop_index('ix_tickets_state_check')
        batch_op.drop_index('ix_tickets_room_category')
        batch_op.drop_column('resolution')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('next_check_at')
        batch_op.drop_column('due_at')
        batch_op.drop_column('escalated')
        batch_op.drop_column('reporter_count')
        batch_op.drop_column('assignee_node')
        batch_op.drop_column('place')
        batch_op.drop_column('room_no')
        batch_op.drop_column('unit')
        batch_op.drop_column('building')
        batch_op.drop_column('room_id')
        batch_op.drop_column('node_path')

    with op.batch_alter_table('ticket_reporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_reporters_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_reporters_reporter_id'))

    op.drop_table('ticket_reporters')
    op.drop_table('counters')


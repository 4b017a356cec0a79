"""notices

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('notice_acks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('notice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('room_key', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.String(length=200), nullable=False),
    sa.Column('member_name', sa.String(length=200), nullable=False),
    sa.Column('household', sa.String(length=100), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_acks_notice_id_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_acks')),
    sa.UniqueConstraint('notice_id', 'room_key', 'member_id', name=op.f('uq_notice_acks_notice_id'))
    )
    with op.batch_alter_table('notice_acks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_acks_notice_id'), ['notice_id'], unique=False)

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('reply_kind', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('reply_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('target', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='6'))
        batch_op.add_column(sa.Column('room_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_notices_remind_at'), ['remind_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_remind_at'))
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('remind_at')
        batch_op.drop_column('room_count')
        batch_op.drop_column('priority')
        batch_op.drop_column('target')
        batch_op.drop_column('reply_id')
        batch_op.drop_column('reply_kind')
        batch_op.drop_column('sender_name')

    with op.batch_alter_table('notice_acks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_acks_notice_id'))

    op.drop_table('notice_acks')


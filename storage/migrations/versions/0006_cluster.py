"""cluster: accounts with heartbeats, which account reaches which group, who serves it; outbox wake-ups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'accounts',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=True),
        sa.Column('host', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_accounts')),
    )
    op.create_table(
        'room_reach',
        sa.Column('room_key', sa.String(length=200), nullable=False),
        sa.Column('account', sa.String(length=100), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('room_key', 'account', name=op.f('pk_room_reach')),
    )
    op.create_index('ix_room_reach_account', 'room_reach', ['account'], unique=False)
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('served_by', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_rooms_served_by', ['served_by'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # every INSERT into the outbox wakes the senders (LISTEN gridbot_outbox_<schema>), once per statement
        op.execute("""
            CREATE OR REPLACE FUNCTION gridbot_outbox_notify() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('gridbot_outbox_' || current_schema(), '');
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                   "FOR EACH STATEMENT EXECUTE FUNCTION gridbot_outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS gridbot_outbox_notify()")
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index('ix_rooms_served_by')
        batch_op.drop_column('served_by')
    op.drop_index('ix_room_reach_account', table_name='room_reach')
    op.drop_table('room_reach')
    op.drop_table('accounts')

"""inbox: messages are stored on arrival (handler 'inbox' until handled), the reason a message failed, its account

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('account', sa.String(length=100), nullable=True))
    op.create_index('ix_messages_inbox', 'messages', ['id'], unique=False,
                    sqlite_where=sa.text("handler = 'inbox'"), postgresql_where=sa.text("handler = 'inbox'"))


def downgrade() -> None:
    op.drop_index('ix_messages_inbox', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('account')
        batch.drop_column('error')

"""web: console and API accounts, browser sessions, the audit log, indexes for a subtree's ticket lists

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'web_users',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('password_hash', sa.String(length=300), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('person_key', sa.String(length=100), nullable=True),
        sa.Column('node_code', sa.String(length=64), nullable=True),
        sa.Column('token_hash', sa.String(length=100), nullable=True),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
        sa.UniqueConstraint('username', name=op.f('uq_web_users_username')),
    )
    op.create_index('ix_web_users_token_hash', 'web_users', ['token_hash'], unique=False)
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=100), nullable=False),
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('csrf', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['web_users.id'], name=op.f('fk_web_sessions_user_id_web_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions')),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'], unique=False)
    op.create_table(
        'audit_log',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('allowed', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    # search terms of tickets' text, filled for the tickets already there
    op.create_table(
        'ticket_terms',
        sa.Column('term', sa.String(length=16), nullable=False),
        sa.Column('ticket_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('term', 'ticket_id', name=op.f('pk_ticket_terms')),
    )
    from bot.domain.search import terms

    bind = op.get_bind()
    table = sa.table('ticket_terms', sa.column('term'), sa.column('ticket_id'))
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, text FROM tickets WHERE id > :last ORDER BY id LIMIT 5000"),
                            {"last": last}).all()
        if not rows:
            break
        postings = [{"term": t, "ticket_id": i} for i, text in rows for t in terms(text or "")]
        if postings:
            bind.execute(table.insert(), postings)
        last = rows[-1][0]
    # the console's lists for one subtree: newest first, and open / overdue
    op.create_index('ix_tickets_path_created', 'tickets', ['node_path', 'created_at'], unique=False)
    op.create_index('ix_tickets_state_path', 'tickets', ['state', 'node_path', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_table('ticket_terms')
    op.drop_index('ix_tickets_state_path', table_name='tickets')
    op.drop_index('ix_tickets_path_created', table_name='tickets')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index('ix_web_users_token_hash', table_name='web_users')
    op.drop_table('web_users')

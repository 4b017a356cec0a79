"""identity: one-time binding codes and the contact ids bound to people

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

(The chain is 0007 → 0008 review → 0009 inbox → 0010.)
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'binding_codes',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('person_key', sa.String(length=100), nullable=False),
        sa.Column('code_hash', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_by', sa.String(length=200), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_binding_codes_code_hash')),
    )
    op.create_index('ix_binding_codes_person_key', 'binding_codes', ['person_key'], unique=False)
    op.create_table(
        'bindings',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('person_key', sa.String(length=100), nullable=False),
        sa.Column('contact_id', sa.String(length=200), nullable=False),
        sa.Column('code_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bindings')),
    )
    op.create_index('ix_bindings_person_key', 'bindings', ['person_key'], unique=False)
    op.create_index('ix_bindings_contact_id', 'bindings', ['contact_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bindings_contact_id', table_name='bindings')
    op.drop_index('ix_bindings_person_key', table_name='bindings')
    op.drop_table('bindings')
    op.drop_index('ix_binding_codes_person_key', table_name='binding_codes')
    op.drop_table('binding_codes')

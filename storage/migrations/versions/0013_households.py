"""households: the registry of issue 19 (一户一代表), imported from the community's spreadsheet

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-05

(0012 is another branch's; the chain is re-linked at merge.)
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'households',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('node_code', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('ref', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('representative', sa.String(length=100), nullable=True),
        sa.Column('rented', sa.Boolean(), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
        sa.UniqueConstraint('ref', name=op.f('uq_households_ref')),
    )
    op.create_index('ix_households_node_code', 'households', ['node_code'], unique=False)
    op.create_table(
        'household_people',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('household_id', BigId, nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('relation', sa.String(length=30), nullable=False),
        sa.Column('phone', sa.String(length=100), nullable=True),
        sa.Column('nickname', sa.String(length=200), nullable=True),
        sa.Column('room_key', sa.String(length=200), nullable=True),
        sa.Column('is_tenant', sa.Boolean(), nullable=False),
        sa.Column('is_proxy', sa.Boolean(), nullable=False),
        sa.Column('proxy_for', sa.Integer(), nullable=True),
        sa.Column('whereabouts', sa.String(length=100), nullable=False),
        sa.Column('moved_in', sa.Date(), nullable=True),
        sa.Column('moved_out', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                                name=op.f('fk_household_people_household_id_households'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_household_people')),
    )
    op.create_index('ix_household_people_household_id', 'household_people', ['household_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_household_people_household_id', table_name='household_people')
    op.drop_table('household_people')
    op.drop_index('ix_households_node_code', table_name='households')
    op.drop_table('households')

"""stat sessions: planned from the org file or scheduled by hand, cancelled with a reason

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stat_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('chair_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_chair_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=True),
    sa.Column('attendees', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('cancelled_by', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('scheduled', 'cancelled', 'closed')", name=op.f('ck_stat_sessions_state')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['people.id'], name=op.f('fk_stat_sessions_cancelled_by_people')),
    sa.ForeignKeyConstraint(['chair_id'], ['people.id'], name=op.f('fk_stat_sessions_chair_id_people')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_stat_sessions_created_by_people')),
    sa.ForeignKeyConstraint(['scheduled_chair_id'], ['people.id'], name=op.f('fk_stat_sessions_scheduled_chair_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_stat_sessions_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_sessions')),
    sa.UniqueConstraint('unit_id', 'starts_at', name=op.f('uq_stat_sessions_unit_id_starts_at'))
    )
    with op.batch_alter_table('stat_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_stat_sessions_starts_at', ['starts_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stat_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_stat_sessions_starts_at')

    op.drop_table('stat_sessions')

"""stat sessions: the meetings, what was captured in them, their briefs and memos

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
    sa.Column('closed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('scheduled', 'cancelled', 'closed')", name=op.f('ck_stat_sessions_state')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['people.id'], name=op.f('fk_stat_sessions_cancelled_by_people')),
    sa.ForeignKeyConstraint(['chair_id'], ['people.id'], name=op.f('fk_stat_sessions_chair_id_people')),
    sa.ForeignKeyConstraint(['closed_by'], ['people.id'], name=op.f('fk_stat_sessions_closed_by_people')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_stat_sessions_created_by_people')),
    sa.ForeignKeyConstraint(['scheduled_chair_id'], ['people.id'], name=op.f('fk_stat_sessions_scheduled_chair_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_stat_sessions_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_sessions')),
    sa.UniqueConstraint('unit_id', 'starts_at', name=op.f('uq_stat_sessions_unit_id_starts_at'))
    )
    with op.batch_alter_table('stat_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_stat_sessions_starts_at', ['starts_at'], unique=False)

    op.create_table('session_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('edits', sa.JSON(), nullable=False),
    sa.Column('sent_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('escalated_at', storage.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('brief', 'memo')", name=op.f('ck_session_documents_kind')),
    sa.CheckConstraint("state IN ('draft', 'sent')", name=op.f('ck_session_documents_state')),
    sa.ForeignKeyConstraint(['approved_by'], ['people.id'], name=op.f('fk_session_documents_approved_by_people')),
    sa.ForeignKeyConstraint(['session_id'], ['stat_sessions.id'], name=op.f('fk_session_documents_session_id_stat_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_documents')),
    sa.UniqueConstraint('session_id', 'kind', name=op.f('uq_session_documents_session_id_kind'))
    )
    op.create_table('session_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('commitment_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('subject', sa.String(length=80), nullable=True),
    sa.CheckConstraint("kind IN ('promise', 'decision', 'request', 'note')", name=op.f('ck_session_items_kind')),
    sa.ForeignKeyConstraint(['answered_by'], ['people.id'], name=op.f('fk_session_items_answered_by_people')),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_session_items_commitment_id_commitments')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_session_items_created_by_people')),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_session_items_owner_id_people')),
    sa.ForeignKeyConstraint(['session_id'], ['stat_sessions.id'], name=op.f('fk_session_items_session_id_stat_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_items')),
    sa.UniqueConstraint('session_id', 'subject', name=op.f('uq_session_items_session_id_subject'))
    )
    with op.batch_alter_table('session_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_items_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('session_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_items_session_id'))

    op.drop_table('session_items')
    op.drop_table('session_documents')
    with op.batch_alter_table('stat_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_stat_sessions_starts_at')

    op.drop_table('stat_sessions')

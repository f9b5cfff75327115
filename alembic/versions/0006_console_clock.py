"""console clock: the console chat's moved time, kept per database

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('now', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_clock'))
    )


def downgrade() -> None:
    op.drop_table('console_clock')

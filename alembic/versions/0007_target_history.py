"""target history: every target a metric has had, from the week it applies

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('metric_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('amber', sa.Float(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('valid_from', sa.String(length=8), nullable=False),
    sa.Column('recorded_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_metric_targets_metric_id_metrics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_targets'))
    )
    op.create_index('ix_metric_targets_metric_id_valid_from', 'metric_targets', ['metric_id', 'valid_from'], unique=False)
    # Every metric's current target becomes its first entry.  Nobody knows since when it
    # applied, and a week before a metric's first entry is judged by that entry, so the
    # weeks already reported keep being judged as they were.
    now = dt.datetime.now(dt.UTC)
    year, week, _ = now.date().isocalendar()
    metrics = sa.table(
        'metrics',
        sa.column('id', sa.Integer()),
        sa.column('target', sa.Float()),
        sa.column('amber', sa.Float()),
        sa.column('direction', sa.String(8)),
    )
    targets = sa.table(
        'metric_targets',
        sa.column('metric_id', sa.Integer()),
        sa.column('target', sa.Float()),
        sa.column('amber', sa.Float()),
        sa.column('direction', sa.String(8)),
        sa.column('valid_from', sa.String(8)),
        sa.column('recorded_at', storage.types.UTCDateTime()),
    )
    op.execute(
        targets.insert().from_select(
            ['metric_id', 'target', 'amber', 'direction', 'valid_from', 'recorded_at'],
            sa.select(
                metrics.c.id,
                metrics.c.target,
                metrics.c.amber,
                metrics.c.direction,
                sa.literal(f'{year}-W{week:02d}', sa.String(8)),
                sa.literal(now, storage.types.UTCDateTime()),
            ).order_by(metrics.c.id),
        )
    )


def downgrade() -> None:
    op.drop_index('ix_metric_targets_metric_id_valid_from', table_name='metric_targets')
    op.drop_table('metric_targets')

"""answer promise once: the promise of an answered follow-up is tracked at most once

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWER_ONCE = "origin LIKE 'answer:%'"


def upgrade() -> None:
    # Two clicks of "Track this" at once could track one promise twice.  Every such
    # commitment is kept; the later copies become ordinary commitments (origin
    # "command"), so the index can hold the first one as the answer's promise.
    op.execute(
        sa.text(
            "UPDATE commitments SET origin = 'command' WHERE origin LIKE 'answer:%' AND id NOT IN "
            "(SELECT min(id) FROM commitments WHERE origin LIKE 'answer:%' GROUP BY origin)"
        )
    )
    op.create_index(
        'uq_commitments_answer_origin',
        'commitments',
        ['origin'],
        unique=True,
        sqlite_where=sa.text(ANSWER_ONCE),
        postgresql_where=sa.text(ANSWER_ONCE),
    )


def downgrade() -> None:
    op.drop_index('uq_commitments_answer_origin', table_name='commitments')

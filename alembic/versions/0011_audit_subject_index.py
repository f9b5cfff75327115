"""audit subject index: who acted on a subject last is found without reading the whole log

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_log_subject', 'audit_log', ['subject'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_subject', table_name='audit_log')

"""state checks: the state columns hold only the states the core knows

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the StrEnums' values today (bot/*/models.py), as storage/records.py
# declares them: a revision must not change when the code moves on.
CHECKS = (
    ('checkins', 'state', ('open', 'submitted', 'excused')),
    ('commitments', 'status', ('open', 'done', 'dropped')),
    ('commitment_updates', 'status', ('open', 'done', 'dropped')),
    ('escalations', 'state', ('active', 'acknowledged', 'snoozed', 'resolved', 'exhausted')),
    ('deliveries', 'state', ('pending', 'sending', 'sent', 'failed')),
)

# SQLite adds a constraint by rebuilding the table (batch mode: copy, drop, rename).
# Dropping the old commitments table while commitment_updates rows point at it breaks
# their foreign key, which the engine enforces (PRAGMA foreign_keys=ON cannot be turned
# off inside the migration's transaction), so those rows wait aside during the rebuild.
UPDATE_COLUMNS = '"id", "commitment_id", "at", "by", "status", "due_on", "note"'
PARKED = '_commitment_updates_0004'


def _condition(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _rebuild(add: bool) -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute(f'CREATE TEMPORARY TABLE {PARKED} AS SELECT {UPDATE_COLUMNS} FROM commitment_updates')
        op.execute('DELETE FROM commitment_updates')
    for table, column, values in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            name = op.f(f'ck_{table}_{column}')
            if add:
                batch_op.create_check_constraint(name, _condition(column, values))
            else:
                batch_op.drop_constraint(name, type_='check')
    if sqlite:
        op.execute(f'INSERT INTO commitment_updates ({UPDATE_COLUMNS}) SELECT {UPDATE_COLUMNS} FROM {PARKED}')
        op.execute(f'DROP TABLE {PARKED}')


def upgrade() -> None:
    _rebuild(add=True)


def downgrade() -> None:
    _rebuild(add=False)

"""What every repository shares: the record ↔ dataclass mapper, idempotent inserts and
the generic get/add/save.

Records and the core's dataclasses share field names, so one mapper serves every
table.  Claims ("this sweep takes this row") are conditional UPDATEs whose row count says
who won, which keeps sweeps correct when they run twice, late, or in two processes.
People's changes go the same way (``save_if``): two people, or two replicas, changing
one row at once both read it, but only the UPDATE whose condition still holds writes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from storage.records import Base

D = TypeVar("D")
R = TypeVar("R", bound=Base)


def to_domain(record: Base, cls: type[D]) -> D:
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        # The core may mutate what it gets; never let that alias the record's state.
        values[f.name] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return cls(**values)


def values_of(item: Any, *, with_id: bool = False) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item) if with_id or f.name != "id"}


def copy_onto(record: Base, item: Any) -> None:
    for name, value in values_of(item).items():
        setattr(record, name, copy.deepcopy(value) if isinstance(value, dict | list) else value)
        if isinstance(value, dict | list):
            flag_modified(record, name)


async def insert_ignore(session: AsyncSession, record: type[Base], values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING; the new id, or None when a unique key existed."""
    dialect = session.bind.dialect.name
    table = cast(Table, record.__table__)
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    result = await session.execute(statement.returning(table.c.id))
    row = result.first()
    return None if row is None else int(row[0])


def rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class Repo(Generic[D, R]):
    domain: type[D]
    record: type[R]
    # A record with a ``version`` column: ``save_if`` also requires the version this unit
    # of work read, and bumps it.
    versioned: bool = False

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # The version of each versioned row as this unit of work first read it (the
        # session's identity map holds rows weakly, so it cannot be asked later).
        self._read_versions: dict[int, int] = {}

    def _seen(self, row: R) -> R:
        if self.versioned:
            self._read_versions.setdefault(row.id, row.version)  # type: ignore[attr-defined]
        return row

    def _map(self, rows: Sequence[R]) -> list[D]:
        return [to_domain(self._seen(r), self.domain) for r in rows]

    async def _all(self, *where: Any, order: Any = None, limit: int | None = None) -> list[D]:
        query = select(self.record).where(*where)
        query = query.order_by(order if order is not None else self.record.id)  # type: ignore[attr-defined]
        if limit is not None:
            query = query.limit(limit)
        return self._map((await self.session.scalars(query)).all())

    async def _one(self, *where: Any) -> D | None:
        row = (await self.session.scalars(select(self.record).where(*where).limit(1))).first()
        return None if row is None else to_domain(self._seen(row), self.domain)

    async def get(self, id: int) -> D | None:
        row = await self.session.get(self.record, id)
        return None if row is None else to_domain(self._seen(row), self.domain)

    async def add(self, item: D) -> D:
        row = self.record(**values_of(item))
        self.session.add(row)
        await self.session.flush()
        item.id = row.id  # type: ignore[attr-defined]
        return item

    async def reload(self, id: int) -> D | None:
        """The row as the database has it now, not as this unit of work first read it."""
        query = select(self.record).where(self.record.id == id).execution_options(populate_existing=True)  # type: ignore[attr-defined]
        row = (await self.session.scalars(query)).first()
        if row is not None and self.versioned:
            self._read_versions[id] = row.version  # type: ignore[attr-defined]
        return None if row is None else to_domain(row, self.domain)

    async def save_if(self, item: D, expected: Mapping[str, Any]) -> bool:
        """Write the item's changed fields only if the stored row still has the
        ``expected`` values (a conditional UPDATE: on PostgreSQL a concurrent writer waits
        for the row and re-checks, on SQLite writers take turns).  False, and nothing
        written, when another change got there first."""
        record: Any = self.record
        row = await self.session.get(record, item.id)  # type: ignore[attr-defined]
        if row is None:
            raise LookupError(f"{self.domain.__name__} {item.id} does not exist")  # type: ignore[attr-defined]
        changed: dict[str, Any] = {
            name: value for name, value in values_of(item).items() if getattr(row, name) != value
        }
        conditions = [getattr(record, name).is_not_distinct_from(value) for name, value in expected.items()]
        if self.versioned:
            item_id: int = item.id  # type: ignore[attr-defined]
            row_version: int = row.version
            seen = self._read_versions.get(item_id, row_version)
            conditions.append(record.version == seen)
            changed["version"] = seen + 1
        result = await self.session.execute(
            update(record)
            .where(record.id == item.id, *conditions)  # type: ignore[attr-defined]
            .values(changed or {"id": record.id})
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            return False
        if self.versioned:
            self._read_versions[item.id] = changed["version"]  # type: ignore[attr-defined]
        await self.session.refresh(row)
        return True

    async def save(self, item: D) -> None:
        row = await self.session.get(self.record, item.id)  # type: ignore[attr-defined]
        if row is None:
            raise LookupError(f"{self.domain.__name__} {item.id} does not exist")  # type: ignore[attr-defined]
        copy_onto(row, item)
        await self.session.flush()

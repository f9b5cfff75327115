"""Column types shared by the records."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones.  The columns are plain timestamps holding UTC on every
    backend (also PostgreSQL's, so both read the same); UTC is re-attached on the way out,
    and naive input is refused so local times never reach the database.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; use aware UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A core StrEnum stored as its plain string value (a VARCHAR, so no native enum type
    to migrate); reads come back as members.  A value outside the enum is refused before
    it reaches the database, whose CHECK constraint (see ``one_of``) refuses it too."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        self.length = length

    def __repr__(self) -> str:
        # What autogenerate writes into a revision; a migration should freeze it to
        # sa.String(length=…) rather than import today's enum.
        enum = f"{self.enum_class.__module__}.{self.enum_class.__qualname__}"
        return f"StrEnumType({enum}, length={self.length})"

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class(value)


def one_of(column: str, enum_class: type[StrEnum]) -> str:
    """The SQL of a CHECK constraint that keeps ``column`` to the enum's values."""
    return f"{column} IN ({', '.join(repr(member.value) for member in enum_class)})"

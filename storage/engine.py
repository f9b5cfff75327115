"""Building the async engine for SQLite or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


class DatabaseUrlError(ValueError):
    pass


def check_url(url: str) -> str:
    """Refuse URLs statbot cannot use, with a message that says what would work."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            f"cannot parse database URL {url!r}; use sqlite+aiosqlite:///statbot.db or "
            "postgresql+asyncpg://user:password@host:5432/dbname"
        ) from None
    if parsed.drivername not in SUPPORTED:
        raise DatabaseUrlError(
            f"database driver {parsed.drivername!r} is not supported; use one of " + ", ".join(SUPPORTED)
        )
    return url


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    check_url(url)
    if url.startswith("sqlite"):
        # A writer waits for another instead of failing at once ("database is locked").
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# Adapters hold the engine by this name so that SQLAlchemy stays inside storage/.
Engine = AsyncEngine


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database; raises when it cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The Alembic revision the database is at (None when it was never migrated)."""
    from storage.migrations import current_revision

    async with engine.connect() as connection:
        return await connection.run_sync(current_revision)


def database_password(url: str) -> str | None:
    """The password in a database URL, so that logs and errors can mask it."""
    try:
        return make_url(url).password
    except ArgumentError:
        return None

"""Building the async engine for SQLite or PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.ports import DatabaseUnavailable as PortDatabaseUnavailable

SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


# Without a timeout asyncpg waits forever for a hung server, and every turn with it.
CONNECT_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 15.0
POOL_TIMEOUT = 10.0
_PASSWORD = re.compile(r"(://[^/:@]*:)[^@/]*@")


class DatabaseUrlError(ValueError):
    pass


class DatabaseUnavailable(PortDatabaseUnavailable):
    """The database cannot be reached (down, hung, refused the login); one line, no secret."""


def masked_url(url: str) -> str:
    """The URL with its password replaced, for messages a person or a log reads."""
    return _PASSWORD.sub(r"\1***@", url)


def check_url(url: str) -> str:
    """Refuse URLs statbot cannot use, with a message that says what would work."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            f"cannot parse database URL {masked_url(url)!r}; use sqlite+aiosqlite:///statbot.db or "
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
            # SQLite's advice for WAL: a commit no longer waits for the disk, and the
            # database stays consistent; a power cut may lose the last commits, which
            # the platforms' retries and the outbox cover.  PostgreSQL is for production.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_timeout": POOL_TIMEOUT,
        "connect_args": {"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
    }
    return create_async_engine(url, **{**options, **kwargs})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# Adapters hold the engine by this name so that SQLAlchemy stays inside storage/.
Engine = AsyncEngine


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database; raises when it cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The Alembic revision the database is at (None when it was never migrated).
    Raises DatabaseUnavailable when the database cannot be reached."""
    from storage.migrations import current_revision

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(current_revision)
    except Exception as exc:
        raise unavailable(exc, engine) or exc from None


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable (as opposed to a bug or bad data)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PortDatabaseUnavailable | OSError | TimeoutError | PoolTimeout | InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # asyncpg's own errors for a refused login or a database that does not exist.
    return type(exc).__module__.startswith("asyncpg") and type(exc).__name__ in {
        "InvalidPasswordError",
        "InvalidCatalogNameError",
        "InvalidAuthorizationSpecificationError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "TooManyConnectionsError",
    }


def unavailable(exc: BaseException, engine: AsyncEngine) -> DatabaseUnavailable | None:
    """A one-line DatabaseUnavailable for ``exc``, or None when it is something else."""
    if not is_unavailable(exc):
        return None
    where = masked_url(engine.url.render_as_string(hide_password=True))
    return DatabaseUnavailable(f"cannot reach the database {where} ({type(exc).__name__})")


def database_password(url: str) -> str | None:
    """The password in a database URL, so that logs and errors can mask it."""
    try:
        return make_url(url).password
    except ArgumentError:
        return None

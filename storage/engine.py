"""Building the async engine for SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.ports import DatabaseUnavailable as PortDatabaseUnavailable

log = logging.getLogger(__name__)
SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


# Without a timeout asyncpg waits forever for a hung server, and every turn with it.
CONNECT_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 15.0
POOL_TIMEOUT = 10.0
# How long closing an engine waits for the database to say goodbye (see close_engine).
CLOSE_TIMEOUT = 1.0
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
    engine = create_async_engine(url, **{**options, **kwargs})
    _track_connections(engine)
    return engine


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


# The driver connections of each PostgreSQL engine, pooled or in use, so that a stopping
# process can cut the ones a hung server keeps waiting (close_engine).
_CONNECTIONS: weakref.WeakKeyDictionary[AsyncEngine, weakref.WeakSet[Any]] = weakref.WeakKeyDictionary()


def _track_connections(engine: AsyncEngine) -> None:
    opened: weakref.WeakSet[Any] = weakref.WeakSet()
    _CONNECTIONS[engine] = opened

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(dbapi_connection: Any, _record: Any) -> None:
        opened.add(dbapi_connection.driver_connection)


def cut_connections(engine: AsyncEngine) -> int:
    """Cut every driver connection the engine has open, in use or pooled, at once: the
    queries waiting on them fail as in an outage (the server rolls back what they had
    begun).  For a stopping process, before it cancels what outlived its grace: a query
    cancelled on a hung server closes its connection gracefully, and waits for it, and
    logs an ERROR with a traceback when that is cut short.  How many were cut."""
    opened = list(_CONNECTIONS.get(engine, ()))
    cut = 0
    for connection in opened:
        # A connection closing gracefully reads as closed while it still waits for the
        # server: it is cut too (terminate does nothing to one already cut).
        cut += not connection.is_closed()
        connection.terminate()
    return cut


async def close_engine(engine: AsyncEngine, within: float = CLOSE_TIMEOUT) -> bool:
    """Close the engine's connections; False when the database did not take its goodbye
    in time (``within`` seconds) and they were cut instead.

    A graceful close asks the server and waits for its answer: against a hung server that
    is the statement timeout for each pooled connection, each with an ERROR and a
    traceback.  In time or not, every connection still open is then cut, those that
    queries in flight wait on too (the server rolls back what they had begun, as after a
    crash), so a stopping process never waits long on the database."""
    closing = asyncio.ensure_future(engine.dispose())
    done, _ = await asyncio.wait({closing}, timeout=within)
    if closing in done:
        await closing
        return True
    cut_connections(engine)
    log.warning("the database did not answer within %.0f s; its connections were cut", within)
    # A cut connection closes at once; should the close still hang, go on without it.
    done, _ = await asyncio.wait({closing}, timeout=within)
    if closing in done:
        await closing
    else:
        closing.add_done_callback(_ignore_outcome)
    return False


def _ignore_outcome(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()

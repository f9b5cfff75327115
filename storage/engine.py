"""Building the async engine for SQLite or PostgreSQL.

People paste libpq-style PostgreSQL URLs (``?sslmode=require``, ``connect_timeout``,
``application_name``), which asyncpg does not take as they are: SQLAlchemy hands every
URL parameter to ``asyncpg.connect`` as a keyword, and an unknown one failed every
command with a long TypeError.  They are translated into asyncpg's connect arguments, and
what cannot be is refused with one line that says what would work.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Awaitable
from pathlib import Path
from threading import Thread
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.ports import DatabaseUnavailable as PortDatabaseUnavailable

log = logging.getLogger(__name__)
SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


# Without a timeout asyncpg waits forever for a hung server, and every turn with it.
CONNECT_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 15.0
POOL_TIMEOUT = 10.0
# A password given as a URL parameter (libpq accepts ``?password=``).
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)

# libpq's sslmode values, which asyncpg's ``ssl`` argument takes as they are (and reads
# PGSSLROOTCERT, PGSSLCERT, PGSSLKEY and PGSSLCRL from the environment for them).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# libpq URL parameters naming files, which asyncpg only reads from the environment.
_SSL_FILES = {
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
}
# Parameters turned into connect arguments here.
_TRANSLATED = ("sslmode", "ssl", "connect_timeout", "application_name")
# Parameters asyncpg (or SQLAlchemy's dialect) takes as the strings a URL holds.
_PASSED = ("host", "user", "password", "passfile", "target_session_attrs", "prepared_statement_cache_size")
# How long closing an engine waits for the database to say goodbye (see close_engine).
CLOSE_TIMEOUT = 1.0


class DatabaseUrlError(ValueError):
    pass


class DatabaseUnavailable(PortDatabaseUnavailable):
    """The database cannot be reached (down, hung, refused the login); one line, no secret."""


def masked_url(url: str) -> str:
    """The URL with its password replaced, for messages a person or a log reads.

    The password ends at the last ``@`` (a host holds none), so one that holds an
    unencoded ``@``, ``:`` or ``/`` is masked whole, never in part; a password given as
    a parameter is masked too."""
    url = _QUERY_PASSWORD.sub(r"\1***", url)
    scheme, sep, rest = url.partition("://")
    at = rest.rfind("@")
    if not sep or at < 0:
        return url
    user, colon, _password = rest[:at].partition(":")
    return f"{scheme}://{user}:***@{rest[at + 1 :]}" if colon else url


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
    if parsed.drivername == "postgresql+asyncpg":
        if parsed.host and "@" in parsed.host:
            # user:pass@word@host parses as the host "word@host": the connection would
            # fail on a host name made of part of the password.
            raise DatabaseUrlError(
                "the user name or password holds an unencoded '@'; write it as %40 "
                "(and ':' as %3A, '/' as %2F), e.g. postgresql+asyncpg://statbot:p%40ss@db:5432/statbot"
            )
        asyncpg_options(parsed)
    return url


def asyncpg_options(url: URL) -> tuple[URL, dict[str, Any]]:
    """``url`` without the libpq parameters asyncpg does not take, and the connect
    arguments they become: ``sslmode`` (or ``ssl``) → ``ssl``, ``connect_timeout`` →
    ``timeout``, ``application_name`` → ``server_settings``.  DatabaseUrlError for what
    cannot be translated (one line, no password)."""
    query = dict(url.query)
    connect: dict[str, Any] = {}
    for key, value in query.items():
        if isinstance(value, tuple) and key != "host":
            raise DatabaseUrlError(f"the URL parameter {key!r} is given more than once")
    for key, variable in _SSL_FILES.items():
        if key in query:
            raise DatabaseUrlError(
                f"{key} in the URL is not read by asyncpg; set the environment variable {variable} instead"
            )
    unknown = sorted(set(query) - {*_TRANSLATED, *_PASSED})
    if unknown:
        raise DatabaseUrlError(
            f"the URL parameter {unknown[0]!r} is not understood by asyncpg; statbot reads "
            + ", ".join((*_TRANSLATED, *_PASSED[1:]))
        )
    modes = {str(query[k]) for k in ("sslmode", "ssl") if k in query}
    if len(modes) > 1:
        raise DatabaseUrlError("sslmode and ssl disagree; give one of them")
    for mode in modes:
        if mode not in SSL_MODES:
            raise DatabaseUrlError(f"sslmode={mode!r} is not one of " + ", ".join(SSL_MODES))
        connect["ssl"] = mode
    if "connect_timeout" in query:
        try:
            seconds = float(str(query["connect_timeout"]))
        except ValueError:
            seconds = 0
        if not seconds > 0:
            raise DatabaseUrlError("connect_timeout is not a number of seconds above 0")
        connect["timeout"] = seconds
    if "application_name" in query:
        connect["server_settings"] = {"application_name": str(query["application_name"])}
    return url.difference_update_query(_TRANSLATED), connect


def _sqlite_connect(*args: Any, **kwargs: Any) -> Awaitable[Any]:
    """aiosqlite's connect, as SQLAlchemy calls it, except that a connection that fails
    to open waits for its worker thread to stop.  aiosqlite queues that stop without
    waiting for it, and a command that then ends (its event loop closed) made the thread
    print an "Event loop is closed" traceback after the one-line error."""
    import aiosqlite

    connection = aiosqlite.connect(*args, **kwargs)
    worker = getattr(connection, "_thread", None)
    if isinstance(worker, Thread):
        worker.daemon = True  # as SQLAlchemy's own connect does

    async def opened() -> Any:
        try:
            return await connection
        except BaseException:
            if isinstance(worker, Thread) and worker.is_alive():
                await asyncio.get_running_loop().run_in_executor(None, worker.join, 5.0)
            raise

    return opened()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    check_url(url)
    if url.startswith("sqlite"):
        # A writer waits for another instead of failing at once ("database is locked").
        connect_args = {"timeout": 30, "async_creator_fn": _sqlite_connect, **kwargs.pop("connect_args", {})}
        engine = create_async_engine(url, connect_args=connect_args, **kwargs)

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
    target, translated = asyncpg_options(make_url(url))
    connect_args = {
        "timeout": CONNECT_TIMEOUT,
        "command_timeout": STATEMENT_TIMEOUT,
        **translated,
        **kwargs.pop("connect_args", {}),
    }
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_timeout": POOL_TIMEOUT}
    engine = create_async_engine(target, connect_args=connect_args, **{**options, **kwargs})
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
    # asyncpg's own errors for a refused login, a database that does not exist, or TLS
    # settings it cannot use (sslmode=verify-full without a root certificate).
    return type(exc).__module__.startswith("asyncpg") and type(exc).__name__ in {
        "ClientConfigurationError",
        "InvalidPasswordError",
        "InvalidCatalogNameError",
        "InvalidAuthorizationSpecificationError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "TooManyConnectionsError",
    }


def unreachable(url: str | URL, exc: BaseException) -> str:
    """The one line a person reads when the database at ``url`` cannot be reached: what
    failed (the error's class: a driver's text can hold the host or a password), with the
    password masked; for SQLite in a folder that does not exist, that folder."""
    rendered = _shown(url)
    missing = _missing_folder(rendered)
    if missing is not None:
        return f"cannot open the SQLite database {masked_url(rendered)}: the folder {missing} does not exist"
    if type(exc).__name__ == "ClientConfigurationError":
        # asyncpg's reason names a setting or a certificate file, never a password.
        reason = (str(exc).strip().splitlines() or [""])[0]
        return f"cannot connect to the database {masked_url(rendered)}: {reason}"
    return f"cannot reach the database {masked_url(rendered)} ({type(exc).__name__})"


def _shown(url: str | URL) -> str:
    """``url`` for a message: password masked, parameters left out (they may hold a
    password, and whatever was translated for asyncpg reads differently now)."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return masked_url(str(url))
    return masked_url(parsed.set(query={}).render_as_string(hide_password=True))


def _missing_folder(url: str) -> str | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a SQLite URI: its own rules
        return None
    folder = Path(database).absolute().parent
    return None if folder.is_dir() else str(folder)


def unavailable(exc: BaseException, engine: AsyncEngine) -> DatabaseUnavailable | None:
    """A one-line DatabaseUnavailable for ``exc``, or None when it is something else."""
    if not is_unavailable(exc):
        return None
    return DatabaseUnavailable(unreachable(engine.url, exc))


def database_password(url: str) -> str | None:
    """The password in a database URL, so that logs and errors can mask it: as SQLAlchemy
    reads it, or given as a ``password`` parameter."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    given = parsed.query.get("password")
    return parsed.password or (given if isinstance(given, str) else None)


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

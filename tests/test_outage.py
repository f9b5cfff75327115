"""Database outages (issue 10, item 7), with a database that a test can take away: a TCP proxy in front of PostgreSQL that can be
killed (connections reset, new ones refused) or paused (hung: bytes stop flowing), and a
SQLite file whose directory can disappear."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Card, Reply
from bot.ports import DatabaseUnavailable
from storage.engine import close_engine, create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import pid


class TcpProxy:
    """127.0.0.1, port 0, forwarding to ``target``.  ``kill()`` resets every connection and
    refuses new ones; ``pause()`` keeps connections open but forwards nothing (a hung
    server); ``resume()`` lets bytes flow again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.killed = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._flowing.set()
        self._reset_all()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def kill(self) -> None:
        self.killed = True
        self._reset_all()

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self.killed = False
        self._flowing.set()

    def _reset_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.killed:
            writer.transport.abort()
            return
        self._writers.add(writer)
        try:
            await self._flowing.wait()
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                if self.killed:
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)


class Unreachable:
    """The database the bot uses, behind something the test controls."""

    def __init__(self, engine: AsyncEngine, proxy: TcpProxy | None, directory: Path | None) -> None:
        self.engine = engine
        self.proxy = proxy
        self._directory = directory
        self.can_hang = proxy is not None

    async def down(self) -> None:
        if self.proxy is not None:
            self.proxy.kill()
        else:
            assert self._directory is not None
            os.rename(self._directory, f"{self._directory}.gone")
            # Open SQLite connections keep the file; a restarted pool would not find it.
            await self.engine.dispose()

    def hang(self) -> None:
        assert self.proxy is not None
        self.proxy.pause()

    async def up(self) -> None:
        if self.proxy is not None:
            self.proxy.resume()
        else:
            assert self._directory is not None
            if not self._directory.exists():
                os.rename(f"{self._directory}.gone", self._directory)


def proxied_url(db_url: str, port: int) -> str:
    url = make_url(db_url).set(host="127.0.0.1", port=port)
    return url.render_as_string(hide_password=False)


async def open_unreachable(db_url: str, tmp_path: Path, *, db_timeout: float = 1.0) -> Unreachable:
    """An engine on the same database as ``db_url`` that the test can cut off.  For SQLite,
    ``db_url`` must point into ``tmp_path / 'db'`` (see the tests' fixture)."""
    if db_url.startswith("postgresql"):
        url = make_url(db_url)
        proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
        engine = create_engine(
            proxied_url(db_url, proxy.port),
            connect_args={"timeout": db_timeout, "command_timeout": db_timeout},
            pool_timeout=db_timeout,
        )
        return Unreachable(engine, proxy, None)
    return Unreachable(create_engine(db_url), None, tmp_path / "db")


# --- the tests ---------------------------------------------------------------------------

HEAD_EMAIL = "robert.hayes@riverton.gov"
OUTAGE_WORDS = "cannot reach its database right now; nothing was changed, try again in a minute"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    # SQLite lives in a directory of its own, so that the test can take it away.
    (tmp_path / "db").mkdir()
    return TEST_DATABASE_URL or f"sqlite+aiosqlite:///{tmp_path / 'db' / 'statbot.db'}"


@pytest.fixture
async def cut(db_url: str, tmp_path: Path, org_uow: SqlUnitOfWorkFactory) -> AsyncIterator[Unreachable]:
    unreachable = await open_unreachable(db_url, tmp_path)
    try:
        yield unreachable
    finally:
        await unreachable.up()
        await unreachable.engine.dispose()
        if unreachable.proxy is not None:
            await unreachable.proxy.close()


def _text(reply: Reply) -> str:
    return " ".join(m.summary for m in reply.messages if isinstance(m, Card))


def _statbot_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_turn_during_an_outage_says_so_and_the_bot_recovers_by_itself(
    cut: Unreachable, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    bot = StatBot(SqlUnitOfWorkFactory(session_factory(cut.engine)), clock)
    person = await pid(org_uow, HEAD_EMAIL)
    assert "Sanitation" in _text(await bot.on_text(person, "status"))

    await cut.down()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for _ in range(20):
            assert OUTAGE_WORDS in _text(await bot.on_text(person, "commit Fix the hotline by Friday"))
            assert OUTAGE_WORDS in _text(await bot.on_button(person, "escalation.ack", {"escalation": "1"}))
        # One outage, one warning: not a traceback per turn.
        down_lines = _statbot_lines(caplog)
        assert len(down_lines) == 1, [r.getMessage() for r in down_lines]
        assert not any(r.exc_info for r in caplog.records)

        await cut.up()
        reply = await bot.on_text(person, "commit Fix the hotline by Friday")
        assert "Fix the hotline" in _text(reply)
        assert len(_statbot_lines(caplog)) == 2  # ... and one when it is back
    async with org_uow() as uow:  # nothing typed during the outage was written
        assert len(await uow.commitments.open_for_owner(person)) == 1


async def test_a_hung_database_answers_try_again_instead_of_waiting_forever(
    cut: Unreachable, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    if not cut.can_hang:
        pytest.skip("a hung server needs the PostgreSQL proxy")
    bot = StatBot(SqlUnitOfWorkFactory(session_factory(cut.engine)), clock)
    person = await pid(org_uow, HEAD_EMAIL)
    assert "Sanitation" in _text(await bot.on_text(person, "status"))  # a pooled connection

    cut.hang()
    started = time.perf_counter()
    reply = await asyncio.wait_for(bot.on_text(person, "status"), timeout=10)
    assert OUTAGE_WORDS in _text(reply)
    assert time.perf_counter() - started < 5  # bounded by the engine's timeouts (1 s here)

    await cut.up()
    assert "Sanitation" in _text(await bot.on_text(person, "status"))


async def test_sweeps_during_an_outage_raise_the_port_error_not_a_driver_error(
    cut: Unreachable, clock: FakeClock
) -> None:
    uow = SqlUnitOfWorkFactory(session_factory(cut.engine))
    await cut.down()
    with pytest.raises(DatabaseUnavailable):
        await open_due_checkins(uow, clock)
    await cut.up()
    assert await open_due_checkins(uow, clock) >= 0


async def test_closing_the_engine_of_a_hung_database_takes_seconds_and_leaves_nothing_waiting(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a hung server needs the PostgreSQL proxy")
    url = make_url(db_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    engine = create_engine(proxied_url(db_url, proxy.port))  # the production timeouts
    try:

        async def query() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT pg_sleep(0.1)"))

        await asyncio.gather(query(), query(), query())  # three pooled connections
        proxy.pause()
        started = time.perf_counter()
        with caplog.at_level(logging.INFO):
            assert await close_engine(engine) is False  # it had to cut them
        # A graceful close waits 15 s for each pooled connection of a hung server.
        assert time.perf_counter() - started < 3
        left = [t for t in asyncio.all_tasks() if "dispose" in repr(t.get_coro())]
        assert left == []  # nothing still closing, to be cancelled (and logged) at exit
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        proxy.resume()
        await proxy.close()

"""Shared fixtures: a real database (SQLite, or PostgreSQL when
STATBOT_TEST_DATABASE_URL is set), a fake clock and the example org."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from bot.org.apply import apply_org
from bot.org.schema import OrgFile, load_org
from storage.engine import create_engine, session_factory
from storage.records import Base
from storage.uow import SqlUnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ORG = ROOT / "examples" / "org.yaml"
TEST_DATABASE_URL = os.environ.get("STATBOT_TEST_DATABASE_URL")
DB_FIXTURES = {"engine", "uow", "org_uow", "db_url"}

_schema_ready = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that touch the database run again on PostgreSQL in CI (`pytest -m db`).
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses the database (rerun on PostgreSQL in CI)")


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-30 12:00 UTC: 07:00 in Riverton (America/New_York), week 2026-W49.
    return FakeClock(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return TEST_DATABASE_URL or f"sqlite+aiosqlite:///{tmp_path / 'statbot.db'}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    global _schema_ready
    engine = create_engine(db_url)
    if TEST_DATABASE_URL:
        async with engine.begin() as connection:
            if not _schema_ready:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
                await connection.run_sync(Base.metadata.create_all)
                _schema_ready = True
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(engine))


@pytest.fixture(scope="session")
def example_org() -> OrgFile:
    return load_org(str(EXAMPLE_ORG))


@pytest.fixture
async def org_uow(uow: SqlUnitOfWorkFactory, example_org: OrgFile, clock: FakeClock) -> SqlUnitOfWorkFactory:
    """A database holding the example org."""
    async with uow() as work:
        await apply_org(work, example_org, now=clock.now())
        await work.commit()
    return uow

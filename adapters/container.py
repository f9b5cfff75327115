"""The composition root: settings → engine → unit of work → services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.settings import Settings
from bot.clock import Clock, SystemClock
from storage.engine import create_engine, session_factory
from storage.migrations import current_revision, head_revision
from storage.uow import SqlUnitOfWorkFactory


class NotMigratedError(Exception):
    pass


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory
    clock: Clock

    async def check_migrated(self) -> None:
        async with self.engine.connect() as connection:
            current = await connection.run_sync(current_revision)
        head = head_revision()
        if current != head:
            raise NotMigratedError(
                f"the database is at revision {current or 'empty'}, the code needs {head}: "
                "run `statbot db upgrade` first"
            )


@asynccontextmanager
async def open_container(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Container]:
    engine = create_engine(settings.database_url)
    try:
        yield Container(
            settings=settings,
            engine=engine,
            uow=SqlUnitOfWorkFactory(session_factory(engine)),
            clock=clock or SystemClock(),
        )
    finally:
        await engine.dispose()

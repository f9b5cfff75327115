"""The core services of a process: settings, database engine, unit of work, clock.

Built by the runtime (adapters/runtime.py), which adds the bot, platforms, metrics,
web app and scheduler around it."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.settings import Settings
from bot.clock import Clock
from bot.ports import UnitOfWorkFactory
from storage.engine import Engine, schema_revision
from storage.migrations import head_revision


class NotMigratedError(Exception):
    pass


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    clock: Clock

    async def check_migrated(self) -> None:
        current = await schema_revision(self.engine)
        head = head_revision()
        if current != head:
            raise NotMigratedError(
                f"the database is at revision {current or 'empty'}, the code needs {head}: "
                "run `statbot db upgrade` first"
            )

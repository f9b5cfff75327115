"""Where the console chat keeps its moved clock: one row in the database it talks to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage.engine import Engine, session_factory
from storage.records import ConsoleClockRecord


class ConsoleClockStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    async def load(self) -> dt.datetime | None:
        async with self._sessions() as session:
            row = (await session.scalars(select(ConsoleClockRecord).limit(1))).first()
            return None if row is None else row.now

    async def save(self, now: dt.datetime) -> None:
        async with self._sessions() as session:
            row = (await session.scalars(select(ConsoleClockRecord).limit(1))).first()
            if row is None:
                session.add(ConsoleClockRecord(now=now))
            else:
                row.now = now
            await session.commit()

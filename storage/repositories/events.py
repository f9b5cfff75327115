"""Inbound platform event ids already handled, so a retried event is processed once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.records import ProcessedEventRecord
from storage.repositories.base import insert_ignore, rowcount


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, source: str, event_id: str, now: dt.datetime) -> bool:
        new_id = await insert_ignore(
            self.session,
            ProcessedEventRecord,
            {"source": source, "event_id": event_id[:200], "seen_at": now},
        )
        return new_id is not None

    async def forget(self, source: str, event_id: str) -> None:
        await self.session.execute(
            delete(ProcessedEventRecord).where(
                ProcessedEventRecord.source == source, ProcessedEventRecord.event_id == event_id[:200]
            )
        )

    async def prune(self, before: dt.datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedEventRecord).where(ProcessedEventRecord.seen_at < before)
        )
        return rowcount(result)

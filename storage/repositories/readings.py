"""Readings and their append-only revisions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.checkins.models import Reading, ReadingRevision
from storage.records import ReadingRecord, ReadingRevisionRecord
from storage.repositories.base import Repo, to_domain, values_of


class ReadingRepo(Repo[Reading, ReadingRecord]):
    domain, record = Reading, ReadingRecord

    async def for_unit_week(self, unit_id: int, week: str) -> list[Reading]:
        return await self._all(ReadingRecord.unit_id == unit_id, ReadingRecord.week == week)

    async def history(self, metric_ids: Sequence[int], weeks: Sequence[str]) -> list[Reading]:
        if not metric_ids or not weeks:
            return []
        return await self._all(
            ReadingRecord.metric_id.in_(list(metric_ids)),
            ReadingRecord.week.in_(list(weeks)),
            order=ReadingRecord.week,
        )

    async def add_revision(self, revision: ReadingRevision) -> None:
        self.session.add(ReadingRevisionRecord(**values_of(revision)))
        await self.session.flush()

    async def revisions(self, reading_id: int) -> list[ReadingRevision]:
        rows = (
            await self.session.scalars(
                select(ReadingRevisionRecord)
                .where(ReadingRevisionRecord.reading_id == reading_id)
                .order_by(ReadingRevisionRecord.id)
            )
        ).all()
        return [to_domain(r, ReadingRevision) for r in rows]

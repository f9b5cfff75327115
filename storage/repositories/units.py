"""Units and their metrics."""

from __future__ import annotations

from bot.org.models import Metric, Unit
from storage.records import MetricRecord, UnitRecord
from storage.repositories.base import Repo


class UnitRepo(Repo[Unit, UnitRecord]):
    domain, record = Unit, UnitRecord

    async def all(self, *, active_only: bool = True) -> list[Unit]:
        return await self._all(*([UnitRecord.active.is_(True)] if active_only else []))

    async def by_key(self, key: str) -> Unit | None:
        return await self._one(UnitRecord.key == key)


class MetricRepo(Repo[Metric, MetricRecord]):
    domain, record = Metric, MetricRecord

    async def for_unit(self, unit_id: int, *, active_only: bool = True) -> list[Metric]:
        where = [MetricRecord.unit_id == unit_id]
        if active_only:
            where.append(MetricRecord.active.is_(True))
        return await self._all(*where, order=(MetricRecord.position))

    async def all(self, *, active_only: bool = True) -> list[Metric]:
        return await self._all(*([MetricRecord.active.is_(True)] if active_only else []))

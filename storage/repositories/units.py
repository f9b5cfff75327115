"""Units, their metrics and the metrics' target history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from bot.org.models import Metric, Unit
from bot.org.targets import MetricTarget
from storage.records import MetricRecord, MetricTargetRecord, UnitRecord
from storage.repositories.base import Repo, to_domain, values_of


class UnitRepo(Repo[Unit, UnitRecord]):
    domain, record = Unit, UnitRecord

    async def all(self, *, active_only: bool = True) -> list[Unit]:
        return await self._all(*([UnitRecord.active.is_(True)] if active_only else []))

    async def by_key(self, key: str) -> Unit | None:
        return await self._one(UnitRecord.key == key)

    async def answered_by(self, person_id: int) -> list[Unit]:
        return await self._all(
            UnitRecord.active.is_(True),
            or_(UnitRecord.head_id == person_id, UnitRecord.deputy_id == person_id),
        )


class MetricRepo(Repo[Metric, MetricRecord]):
    domain, record = Metric, MetricRecord

    async def for_unit(self, unit_id: int, *, active_only: bool = True) -> list[Metric]:
        where = [MetricRecord.unit_id == unit_id]
        if active_only:
            where.append(MetricRecord.active.is_(True))
        return await self._all(*where, order=(MetricRecord.position))

    async def all(self, *, active_only: bool = True) -> list[Metric]:
        return await self._all(*([MetricRecord.active.is_(True)] if active_only else []))

    async def targets(self, metric_ids: Sequence[int]) -> list[MetricTarget]:
        if not metric_ids:
            return []
        rows = await self.session.scalars(
            select(MetricTargetRecord)
            .where(MetricTargetRecord.metric_id.in_(metric_ids))
            .order_by(MetricTargetRecord.id)
        )
        return [to_domain(row, MetricTarget) for row in rows]

    async def add_target(self, target: MetricTarget) -> None:
        row = MetricTargetRecord(**values_of(target))
        self.session.add(row)
        await self.session.flush()
        target.id = row.id

"""BriefSource implemented with a fixed number of statements.

One statement per kind of data, whatever the size of the organisation or of the unit's
history: the session, its unit, the unit's last closed session and its items, the
unit's metrics and their targets, its readings of the window, its commitments, and the
people the brief names.  Rows are read with Core selects into the domain dataclasses,
as the digest's source does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any, TypeVar
from typing import cast as typed

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.models import Reading
from bot.commitments.models import Commitment
from bot.org.models import Metric, Person, Unit
from bot.org.targets import MetricTarget
from bot.sessions.brief_source import BriefData
from bot.sessions.models import SessionItem, SessionState, StatSession
from bot.weeks import monday_of, shift_week
from storage.records import (
    CommitmentRecord,
    MetricRecord,
    MetricTargetRecord,
    PersonRecord,
    ReadingRecord,
    SessionItemRecord,
    SessionRecord,
    UnitRecord,
)

D = TypeVar("D")
# Week boundaries are local; a day's margin covers every zone.
_MARGIN = dt.timedelta(days=1)


def _table(record: type[Any]) -> Table:
    return typed(Table, record.__table__)


class SqlBriefSource:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _load(self, cls: type[D], record: type[Any], *where: Any) -> list[D]:
        table = _table(record)
        columns = [table.c[f.name] for f in fields(cls)]  # type: ignore[arg-type]
        rows = await self.session.execute(select(*columns).where(*where).order_by(table.c.id))
        return [cls(**row._mapping) for row in rows]

    async def load(self, *, session_id: int, week: str, weeks_back: int = 12) -> BriefData | None:
        found = await self._load(StatSession, SessionRecord, SessionRecord.id == session_id)
        if not found:
            return None
        session = found[0]
        units = await self._load(Unit, UnitRecord, UnitRecord.id == session.unit_id)
        if not units:
            return None
        unit = units[0]
        weeks = [shift_week(week, -n) for n in range(max(weeks_back, 2) - 1, -1, -1)]
        window_start = dt.datetime.combine(monday_of(weeks[0]), dt.time(0), tzinfo=dt.UTC) - _MARGIN

        last_rows = (
            await self.session.execute(
                select(*[_table(SessionRecord).c[f.name] for f in fields(StatSession)])
                .where(
                    SessionRecord.unit_id == unit.id,
                    SessionRecord.state == SessionState.CLOSED,
                    SessionRecord.starts_at < session.starts_at,
                )
                .order_by(SessionRecord.starts_at.desc())
                .limit(1)
            )
        ).first()
        last = None if last_rows is None else StatSession(**last_rows._mapping)
        # Run even without a last session, so the count of statements never varies.
        items = await self._load(
            SessionItem, SessionItemRecord, SessionItemRecord.session_id == (last.id if last else -1)
        )
        promised = [i.commitment_id for i in items if i.commitment_id is not None]

        unit_metrics = select(MetricRecord.id).where(
            MetricRecord.unit_id == unit.id, MetricRecord.active.is_(True)
        )
        metrics = await self._load(
            Metric, MetricRecord, MetricRecord.unit_id == unit.id, MetricRecord.active.is_(True)
        )
        targets = await self._load(
            MetricTarget, MetricTargetRecord, MetricTargetRecord.metric_id.in_(unit_metrics)
        )
        readings = await self._load(
            Reading, ReadingRecord, ReadingRecord.unit_id == unit.id, ReadingRecord.week.in_(weeks)
        )
        c = CommitmentRecord
        commitments = await self._load(
            Commitment,
            c,
            or_(
                and_(
                    c.unit_id == unit.id,
                    or_(c.status == "open", c.closed_at >= window_start, c.created_at >= window_start),
                ),
                c.id.in_(promised),
            ),
        )
        wanted = {
            session.chair_id,
            session.scheduled_chair_id,
            *session.attendees,
            unit.head_id,
            unit.deputy_id,
            unit.leader_id,
            *(c.owner_id for c in commitments),
            *(c.asked_by for c in commitments),
            *(i.owner_id for i in items),
            *(i.answered_by for i in items),
        }
        ids = sorted(i for i in wanted if i is not None)
        people = await self._load(Person, PersonRecord, PersonRecord.id.in_(ids))
        return BriefData(
            session=session,
            unit=unit,
            weeks=weeks,
            people={p.id: p for p in people if p.id is not None},
            metrics=metrics,
            targets=targets,
            readings=readings,
            commitments=commitments,
            last=last,
            items=items,
        )

"""DigestSource implemented with a fixed number of bulk queries.

One statement per kind of data, whatever the number of units: no query runs per unit,
metric or commitment.  Rows are read with Core selects (not ORM objects): a large
organisation has about a hundred thousand readings in a twelve-week window, and ORM
identity-map bookkeeping would cost more than the query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any, TypeVar
from typing import cast as typed

from sqlalchemy import String, Table, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditEntry
from bot.checkins.models import CheckIn, Reading
from bot.commitments.models import Commitment
from bot.digests.cadence import CADENCE_WEEKS
from bot.digests.data import LEADER_ACTIONS, DigestData
from bot.digests.models import AUDIENCE, PostedDigest
from bot.digests.ports import StoredChart
from bot.escalations.models import Escalation
from bot.org.models import Metric, Person, Unit
from bot.org.targets import MetricTarget
from bot.sessions.models import DocumentKind, SessionDocument, StatSession
from bot.weeks import monday_of, shift_week
from storage.records import (
    AuditRecord,
    ChartRecord,
    CheckInRecord,
    CommitmentRecord,
    DigestRecordRow,
    EscalationRecord,
    MetricRecord,
    MetricTargetRecord,
    PersonRecord,
    ReadingRecord,
    SessionDocumentRecord,
    SessionRecord,
    UnitRecord,
)
from storage.repositories import insert_ignore

D = TypeVar("D")
# Week boundaries are local to the organisation; a day either side of the UTC Monday
# covers every time zone, and the builder applies the exact bounds.
_MARGIN = dt.timedelta(days=1)


def _table(record: type[Any]) -> Table:
    return typed(Table, record.__table__)


class SqlDigestSource:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _load(self, cls: type[D], record: type[Any], *where: Any) -> list[D]:
        table = _table(record)
        # Only the dataclass's fields: a table may hold storage-only columns (a version).
        columns = [table.c[f.name] for f in fields(cls)]  # type: ignore[arg-type]
        # On the session's connection (its transaction), past the ORM's result handling,
        # and positionally (the columns are the fields, in order): per row, that
        # bookkeeping would cost more than the row.
        connection = await self.session.connection()
        rows = await connection.execute(select(*columns).where(*where).order_by(table.c.id))
        return [cls(*row) for row in rows]

    async def load(self, *, week: str, weeks_back: int = 12) -> DigestData:
        weeks = [shift_week(week, -n) for n in range(max(weeks_back, 2) - 1, -1, -1)]
        week_monday = monday_of(week)
        start = dt.datetime.combine(week_monday, dt.time(0), tzinfo=dt.UTC) - _MARGIN
        window_start = dt.datetime.combine(monday_of(weeks[0]), dt.time(0), tzinfo=dt.UTC) - _MARGIN
        cadence_weeks = [shift_week(week, -n) for n in range(CADENCE_WEEKS - 1, -1, -1)]

        people = await self._load(Person, PersonRecord)
        units = await self._load(Unit, UnitRecord, UnitRecord.active.is_(True))
        metrics = await self._load(Metric, MetricRecord, MetricRecord.active.is_(True))
        # The whole history, not the window's: the entry in force when the window began
        # may be older than it.  Entries change rarely; this is about one row per metric.
        targets = await self._load(
            MetricTarget,
            MetricTargetRecord,
            MetricTargetRecord.metric_id.in_(select(MetricRecord.id).where(MetricRecord.active.is_(True))),
        )

        # Driven from the units so that the (unit_id, week) index answers: readings has
        # no index on the week alone, and a scan of years of history is what costs.
        readings = _table(ReadingRecord)
        active_units = select(UnitRecord.id).where(UnitRecord.active.is_(True))
        # One row per metric ("2026-W47:12.5;2026-W48:14") rather than per reading: a
        # hundred thousand result rows cost more to materialise than to split strings.
        # Values pass through text with 15 significant digits (SQLite's cast), more than
        # any reported number has.
        pairs = func.aggregate_strings(readings.c.week + ":" + cast(readings.c.value, String), ";")
        # The range, implied by the list, lets the index seek once per unit for the
        # whole window instead of once per unit and week.
        window = await self.session.execute(
            select(readings.c.metric_id, pairs)
            .where(
                readings.c.unit_id.in_(active_units),
                readings.c.week.between(min(weeks), max(weeks)),
                readings.c.week.in_(weeks),
            )
            .group_by(readings.c.metric_id)
        )
        values: dict[int, dict[str, float]] = {}
        for metric_id, joined in window:
            series = values[metric_id] = {}
            for pair in joined.split(";"):
                reading_week, _, value = pair.partition(":")
                series[reading_week] = float(value)
        # Of the week itself only what the values do not say: explanations and values
        # confirmed despite the data check.
        this_week = await self._load(
            Reading,
            ReadingRecord,
            ReadingRecord.unit_id.in_(active_units),
            ReadingRecord.week == week,
            or_(ReadingRecord.note != "", ReadingRecord.confirmed_outlier.is_(True)),
        )

        checkins = await self._load(CheckIn, CheckInRecord, CheckInRecord.week.in_(cadence_weeks))
        c = CommitmentRecord
        commitments = await self._load(
            Commitment,
            c,
            or_(
                c.status == "open",
                c.closed_at >= start,
                c.due_on.between(week_monday - _MARGIN, week_monday + dt.timedelta(days=6) + _MARGIN),
                # Questions and the promises answers made, over the whole window: an
                # item's history with the leaders.
                and_(or_(c.origin == "followup", c.origin.like("answer:%")), c.created_at >= window_start),
            ),
        )
        escalations = await self._load(
            Escalation,
            EscalationRecord,
            or_(EscalationRecord.state.in_(("active", "snoozed")), EscalationRecord.updated_at >= start),
        )
        actions = await self._load(
            AuditEntry, AuditRecord, AuditRecord.action.in_(LEADER_ACTIONS), AuditRecord.at >= start
        )
        # Stat sessions of the cadence window (begun by now) and their memos.
        session_window = (
            SessionRecord.starts_at
            >= dt.datetime.combine(monday_of(cadence_weeks[0]), dt.time(0), tzinfo=dt.UTC) - _MARGIN
        )
        sessions = await self._load(StatSession, SessionRecord, session_window)
        memos = await self._load(
            SessionDocument,
            SessionDocumentRecord,
            SessionDocumentRecord.kind == DocumentKind.MEMO,
            SessionDocumentRecord.session_id.in_(select(SessionRecord.id).where(session_window)),
        )
        previous = await self.session.scalar(
            select(DigestRecordRow.content).where(
                DigestRecordRow.audience == AUDIENCE,
                DigestRecordRow.week == shift_week(week, -1),
            )
        )
        return DigestData(
            week=week,
            weeks=weeks,
            people={p.id: p for p in people if p.id is not None},
            units=units,
            metrics=metrics,
            targets=targets,
            values=values,
            readings=this_week,
            checkins=checkins,
            commitments=commitments,
            escalations=escalations,
            actions=actions,
            previously_flagged=PostedDigest.flagged_in(previous),
            sessions=sessions,
            memos=memos,
        )

    async def save_chart(self, chart: StoredChart) -> bool:
        new_id = await insert_ignore(
            self.session,
            ChartRecord,
            {
                "ref": chart.ref,
                "png": chart.png,
                "alt_text": chart.alt_text,
                "title": chart.title,
                "created_at": chart.created_at,
            },
        )
        return new_id is not None

    async def chart(self, ref: str) -> StoredChart | None:
        row = (
            await self.session.execute(
                select(
                    ChartRecord.ref,
                    ChartRecord.png,
                    ChartRecord.alt_text,
                    ChartRecord.created_at,
                    ChartRecord.title,
                ).where(ChartRecord.ref == ref)
            )
        ).first()
        return None if row is None else StoredChart(**row._mapping)

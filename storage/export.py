"""The rows of `statbot export`: readings, revisions, check-ins, commitments and updates.

One Core select per table, joined to the keys people know (unit and metric keys of the org
file, people's emails), in a stable order.  Each row is a typed tuple whose field names are
the export's column names; the adapter writes them as CSV or a workbook.  ``since`` keeps
rows of weeks starting on or after the week of that date (readings, check-ins) or changed
on or after it (revisions, commitments, updates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from bot.weeks import week_of_date
from storage.records import (
    CheckInRecord,
    CommitmentRecord,
    CommitmentUpdateRecord,
    MetricRecord,
    MetricTargetRecord,
    PersonRecord,
    ReadingRecord,
    ReadingRevisionRecord,
    UnitRecord,
)


class ReadingRow(NamedTuple):
    unit: str
    metric: str
    week: str
    value: float
    # The target that applied in that week (not today's).
    target: float
    note: str
    confirmed_outlier: bool
    updated_at: dt.datetime
    updated_by: str | None


class ReadingRevisionRow(NamedTuple):
    unit: str
    metric: str
    week: str
    value: float
    previous_value: float | None
    changed_at: dt.datetime
    changed_by: str | None
    note: str


class CheckInRow(NamedTuple):
    unit: str
    week: str
    state: str
    opened_at: dt.datetime
    deadline_at: dt.datetime
    respondent: str | None
    reminders_sent: int
    submitted_at: dt.datetime | None
    submitted_by: str | None
    late: bool
    excuse: str | None


class CommitmentRow(NamedTuple):
    id: int
    unit: str
    owner: str
    text: str
    origin: str
    status: str
    due_on: dt.date
    metric: str | None
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    asked_by: str | None
    answer: str | None


class CommitmentUpdateRow(NamedTuple):
    commitment_id: int
    unit: str
    at: dt.datetime
    by: str | None
    status: str
    due_on: dt.date
    note: str


ExportRow = ReadingRow | ReadingRevisionRow | CheckInRow | CommitmentRow | CommitmentUpdateRow

# Table name → row type, in the order the export writes them.
EXPORT_ROWS: dict[str, type[ExportRow]] = {
    "readings": ReadingRow,
    "reading_revisions": ReadingRevisionRow,
    "checkins": CheckInRow,
    "commitments": CommitmentRow,
    "commitment_updates": CommitmentUpdateRow,
}


@dataclass(frozen=True)
class ExportTable:
    name: str
    columns: tuple[str, ...]
    rows: list[ExportRow]


async def export_tables(engine: AsyncEngine, since: dt.date | None = None) -> list[ExportTable]:
    """Every export table (see the module docstring), read on one connection."""
    tables = []
    async with engine.connect() as connection:
        for name, query in _queries(since).items():
            row_type = EXPORT_ROWS[name]
            rows: list[ExportRow] = [row_type(*row) for row in await connection.execute(query)]
            tables.append(ExportTable(name=name, columns=tuple(row_type._fields), rows=rows))
    return tables


def _target_in_week() -> Any:
    """The target of a reading's metric in the reading's week, by bot/org/targets.py's
    rule: the latest entry from that week or before, else the first entry (the weeks
    before it had no other), else the metric's own target."""
    t = MetricTargetRecord
    mine = t.metric_id == ReadingRecord.metric_id
    in_force = (
        select(t.target)
        .where(mine, t.valid_from <= ReadingRecord.week)
        .order_by(t.valid_from.desc(), t.recorded_at.desc(), t.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    first = (
        select(t.target).where(mine).order_by(t.valid_from, t.recorded_at, t.id).limit(1).scalar_subquery()
    )
    return func.coalesce(in_force, first, MetricRecord.target)


def _queries(since: dt.date | None) -> dict[str, Select[Any]]:
    unit, metric = UnitRecord, MetricRecord
    updated_by = aliased(PersonRecord)
    from_week = week_of_date(since) if since else None
    from_instant = dt.datetime.combine(since, dt.time(0), tzinfo=dt.UTC) if since else None

    readings = (
        select(
            unit.key,
            metric.key,
            ReadingRecord.week,
            ReadingRecord.value,
            _target_in_week(),
            ReadingRecord.note,
            ReadingRecord.confirmed_outlier,
            ReadingRecord.updated_at,
            updated_by.email,
        )
        .join(unit, unit.id == ReadingRecord.unit_id)
        .join(metric, metric.id == ReadingRecord.metric_id)
        .outerjoin(updated_by, updated_by.id == ReadingRecord.updated_by)
        .order_by(unit.key, metric.position, metric.key, ReadingRecord.week)
    )
    revisions = (
        select(
            unit.key,
            metric.key,
            ReadingRecord.week,
            ReadingRevisionRecord.value,
            ReadingRevisionRecord.previous_value,
            ReadingRevisionRecord.changed_at,
            updated_by.email,
            ReadingRevisionRecord.note,
        )
        .join(ReadingRecord, ReadingRecord.id == ReadingRevisionRecord.reading_id)
        .join(unit, unit.id == ReadingRecord.unit_id)
        .join(metric, metric.id == ReadingRecord.metric_id)
        .outerjoin(updated_by, updated_by.id == ReadingRevisionRecord.changed_by)
        .order_by(ReadingRevisionRecord.id)
    )
    respondent, submitter = aliased(PersonRecord), aliased(PersonRecord)
    checkins = (
        select(
            unit.key,
            CheckInRecord.week,
            CheckInRecord.state,
            CheckInRecord.opened_at,
            CheckInRecord.deadline_at,
            respondent.email,
            CheckInRecord.reminders_sent,
            CheckInRecord.submitted_at,
            submitter.email,
            CheckInRecord.late,
            CheckInRecord.excuse,
        )
        .join(unit, unit.id == CheckInRecord.unit_id)
        .outerjoin(respondent, respondent.id == CheckInRecord.respondent_id)
        .outerjoin(submitter, submitter.id == CheckInRecord.submitted_by)
        .order_by(CheckInRecord.week, unit.key)
    )
    owner, creator, asker = aliased(PersonRecord), aliased(PersonRecord), aliased(PersonRecord)
    c = CommitmentRecord
    commitments = (
        select(
            c.id,
            unit.key,
            owner.email,
            c.text,
            c.origin,
            c.status,
            c.due_on,
            metric.key,
            c.created_at,
            creator.email,
            c.updated_at,
            c.closed_at,
            asker.email,
            c.answer,
        )
        .join(unit, unit.id == c.unit_id)
        .join(owner, owner.id == c.owner_id)
        .outerjoin(metric, metric.id == c.metric_id)
        .outerjoin(creator, creator.id == c.created_by)
        .outerjoin(asker, asker.id == c.asked_by)
        .order_by(c.id)
    )
    u = CommitmentUpdateRecord
    updates = (
        select(u.commitment_id, unit.key, u.at, updated_by.email, u.status, u.due_on, u.note)
        .join(c, c.id == u.commitment_id)
        .join(unit, unit.id == c.unit_id)
        .outerjoin(updated_by, updated_by.id == u.by)
        .order_by(u.id)
    )
    if from_week is not None and from_instant is not None:
        readings = readings.where(ReadingRecord.week >= from_week)
        revisions = revisions.where(ReadingRevisionRecord.changed_at >= from_instant)
        checkins = checkins.where(CheckInRecord.week >= from_week)
        commitments = commitments.where(
            or_(c.updated_at >= from_instant, c.created_at >= from_instant, c.due_on >= since)
        )
        updates = updates.where(u.at >= from_instant)
    return {
        "readings": readings,
        "reading_revisions": revisions,
        "checkins": checkins,
        "commitments": commitments,
        "commitment_updates": updates,
    }

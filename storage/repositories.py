"""Repositories: the core's ports (bot/ports.py) implemented with SQLAlchemy.

Records and the core's dataclasses share field names, so one mapper serves every
table.  Claims ("this sweep takes this row") are conditional UPDATEs whose row count says
who won, which keeps sweeps correct when they run twice, late, or in two processes.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from bot.audit import AuditEntry
from bot.checkins.models import CheckIn, CheckInState, Reading, ReadingRevision
from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from bot.deliveries.models import Delivery, DeliveryState
from bot.digests.models import DigestRecord
from bot.escalations.models import RUNNING, Escalation, EscalationState
from bot.org.models import AwayPeriod, Metric, OrgSettings, Person, StoredPolicy, Unit
from storage.records import (
    AuditRecord,
    AwayPeriodRecord,
    Base,
    CheckInRecord,
    CommitmentRecord,
    CommitmentUpdateRecord,
    DeliveryRecord,
    DigestRecordRow,
    EscalationRecord,
    MetricRecord,
    OrgSettingsRecord,
    PersonRecord,
    PolicyRecord,
    ProcessedEventRecord,
    ReadingRecord,
    ReadingRevisionRecord,
    UnitRecord,
)

D = TypeVar("D")
R = TypeVar("R", bound=Base)


def to_domain(record: Base, cls: type[D]) -> D:
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        # The core may mutate what it gets; never let that alias the record's state.
        values[f.name] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return cls(**values)


def _values(item: Any, *, with_id: bool = False) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item) if with_id or f.name != "id"}


def _copy_onto(record: Base, item: Any) -> None:
    for name, value in _values(item).items():
        setattr(record, name, copy.deepcopy(value) if isinstance(value, dict | list) else value)
        if isinstance(value, dict | list):
            flag_modified(record, name)


async def insert_ignore(session: AsyncSession, record: type[Base], values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING; the new id, or None when a unique key existed."""
    dialect = session.bind.dialect.name
    table = cast(Table, record.__table__)
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    result = await session.execute(statement.returning(table.c.id))
    row = result.first()
    return None if row is None else int(row[0])


class _Repo(Generic[D, R]):
    domain: type[D]
    record: type[R]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _map(self, rows: Sequence[R]) -> list[D]:
        return [to_domain(r, self.domain) for r in rows]

    async def _all(self, *where: Any, order: Any = None, limit: int | None = None) -> list[D]:
        query = select(self.record).where(*where)
        query = query.order_by(order if order is not None else self.record.id)  # type: ignore[attr-defined]
        if limit is not None:
            query = query.limit(limit)
        return self._map((await self.session.scalars(query)).all())

    async def _one(self, *where: Any) -> D | None:
        row = (await self.session.scalars(select(self.record).where(*where).limit(1))).first()
        return None if row is None else to_domain(row, self.domain)

    async def get(self, id: int) -> D | None:
        row = await self.session.get(self.record, id)
        return None if row is None else to_domain(row, self.domain)

    async def add(self, item: D) -> D:
        row = self.record(**_values(item))
        self.session.add(row)
        await self.session.flush()
        item.id = row.id  # type: ignore[attr-defined]
        return item

    async def save(self, item: D) -> None:
        row = await self.session.get(self.record, item.id)  # type: ignore[attr-defined]
        if row is None:
            raise LookupError(f"{self.domain.__name__} {item.id} does not exist")  # type: ignore[attr-defined]
        _copy_onto(row, item)
        await self.session.flush()


class PersonRepo(_Repo[Person, PersonRecord]):
    domain, record = Person, PersonRecord

    async def all(self, *, active_only: bool = True) -> list[Person]:
        return await self._all(*([PersonRecord.active.is_(True)] if active_only else []))

    async def by_email(self, email: str) -> Person | None:
        return await self._one(PersonRecord.email == email.strip().lower())

    async def by_slack_id(self, slack_user_id: str) -> Person | None:
        return await self._one(PersonRecord.slack_user_id == slack_user_id)

    async def by_teams_id(self, teams_user_id: str) -> Person | None:
        return await self._one(PersonRecord.teams_user_id == teams_user_id)


class AwayRepo(_Repo[AwayPeriod, AwayPeriodRecord]):
    domain, record = AwayPeriod, AwayPeriodRecord

    async def for_person(self, person_id: int) -> list[AwayPeriod]:
        return await self._all(AwayPeriodRecord.person_id == person_id)

    async def away_on(self, day: dt.date) -> list[AwayPeriod]:
        return await self._all(AwayPeriodRecord.starts_on <= day, AwayPeriodRecord.ends_on >= day)


class UnitRepo(_Repo[Unit, UnitRecord]):
    domain, record = Unit, UnitRecord

    async def all(self, *, active_only: bool = True) -> list[Unit]:
        return await self._all(*([UnitRecord.active.is_(True)] if active_only else []))

    async def by_key(self, key: str) -> Unit | None:
        return await self._one(UnitRecord.key == key)


class MetricRepo(_Repo[Metric, MetricRecord]):
    domain, record = Metric, MetricRecord

    async def for_unit(self, unit_id: int, *, active_only: bool = True) -> list[Metric]:
        where = [MetricRecord.unit_id == unit_id]
        if active_only:
            where.append(MetricRecord.active.is_(True))
        return await self._all(*where, order=(MetricRecord.position))

    async def all(self, *, active_only: bool = True) -> list[Metric]:
        return await self._all(*([MetricRecord.active.is_(True)] if active_only else []))


class OrgRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def settings(self) -> OrgSettings | None:
        row = (await self.session.scalars(select(OrgSettingsRecord).limit(1))).first()
        return None if row is None else to_domain(row, OrgSettings)

    async def save_settings(self, settings: OrgSettings) -> None:
        row = (await self.session.scalars(select(OrgSettingsRecord).limit(1))).first()
        if row is None:
            row = OrgSettingsRecord(**_values(settings))
            self.session.add(row)
        else:
            _copy_onto(row, settings)
        await self.session.flush()
        settings.id = row.id

    async def policies(self) -> list[StoredPolicy]:
        rows = (await self.session.scalars(select(PolicyRecord).order_by(PolicyRecord.name))).all()
        return [to_domain(r, StoredPolicy) for r in rows]

    async def save_policy(self, policy: StoredPolicy) -> None:
        row = (
            await self.session.scalars(select(PolicyRecord).where(PolicyRecord.name == policy.name))
        ).first()
        if row is None:
            row = PolicyRecord(name=policy.name, definition=policy.definition)
            self.session.add(row)
        else:
            _copy_onto(row, policy)
        await self.session.flush()
        policy.id = row.id

    async def delete_policy(self, name: str) -> None:
        await self.session.execute(delete(PolicyRecord).where(PolicyRecord.name == name))


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class CheckInRepo(_Repo[CheckIn, CheckInRecord]):
    domain, record = CheckIn, CheckInRecord

    async def for_unit_week(self, unit_id: int, week: str) -> CheckIn | None:
        return await self._one(CheckInRecord.unit_id == unit_id, CheckInRecord.week == week)

    async def open_if_absent(self, checkin: CheckIn) -> CheckIn | None:
        new_id = await insert_ignore(self.session, CheckInRecord, _values(checkin))
        if new_id is None:
            return None
        checkin.id = new_id
        return checkin

    async def for_week(self, week: str) -> list[CheckIn]:
        return await self._all(CheckInRecord.week == week)

    async def for_unit(self, unit_id: int, *, limit: int = 12) -> list[CheckIn]:
        return await self._all(CheckInRecord.unit_id == unit_id, order=CheckInRecord.week.desc(), limit=limit)

    async def due_reminders(self, now: dt.datetime) -> list[CheckIn]:
        return await self._all(
            CheckInRecord.state == CheckInState.OPEN,
            CheckInRecord.next_reminder_at.is_not(None),
            CheckInRecord.next_reminder_at <= now,
        )

    async def claim_reminder(
        self,
        checkin_id: int,
        reminders_sent: int,
        next_reminder_at: dt.datetime | None,
        now: dt.datetime,
    ) -> bool:
        result = await self.session.execute(
            update(CheckInRecord)
            .where(
                CheckInRecord.id == checkin_id,
                CheckInRecord.state == CheckInState.OPEN,
                CheckInRecord.reminders_sent == reminders_sent,
            )
            .values(
                reminders_sent=reminders_sent + 1,
                next_reminder_at=next_reminder_at,
                last_reminded_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def past_deadline(self, now: dt.datetime) -> list[CheckIn]:
        return await self._all(CheckInRecord.state == CheckInState.OPEN, CheckInRecord.deadline_at <= now)

    async def postpone_reminder(self, checkin_id: int, reminders_sent: int, until: dt.datetime) -> bool:
        result = await self.session.execute(
            update(CheckInRecord)
            .where(
                CheckInRecord.id == checkin_id,
                CheckInRecord.state == CheckInState.OPEN,
                CheckInRecord.reminders_sent == reminders_sent,
            )
            .values(next_reminder_at=until)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def open_for_person(self, person_id: int) -> list[CheckIn]:
        units = select(UnitRecord.id).where(
            or_(UnitRecord.head_id == person_id, UnitRecord.deputy_id == person_id)
        )
        return await self._all(
            CheckInRecord.state == CheckInState.OPEN,
            or_(CheckInRecord.respondent_id == person_id, CheckInRecord.unit_id.in_(units)),
            order=CheckInRecord.week,
        )


class ReadingRepo(_Repo[Reading, ReadingRecord]):
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
        self.session.add(ReadingRevisionRecord(**_values(revision)))
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


class CommitmentRepo(_Repo[Commitment, CommitmentRecord]):
    domain, record = Commitment, CommitmentRecord

    async def open_for_unit(self, unit_id: int) -> list[Commitment]:
        return await self._all(
            CommitmentRecord.unit_id == unit_id,
            CommitmentRecord.status == CommitmentStatus.OPEN,
            order=CommitmentRecord.due_on,
        )

    async def all_open(self) -> list[Commitment]:
        return await self._all(
            CommitmentRecord.status == CommitmentStatus.OPEN, order=CommitmentRecord.due_on
        )

    async def open_for_owner(self, owner_id: int) -> list[Commitment]:
        return await self._all(
            CommitmentRecord.owner_id == owner_id,
            CommitmentRecord.status == CommitmentStatus.OPEN,
            order=CommitmentRecord.due_on,
        )

    async def overdue(self, today: dt.date) -> list[Commitment]:
        return await self._all(
            CommitmentRecord.status == CommitmentStatus.OPEN,
            CommitmentRecord.due_on < today,
            order=CommitmentRecord.due_on,
        )

    async def add_update(self, update_: CommitmentUpdate) -> None:
        self.session.add(CommitmentUpdateRecord(**_values(update_)))
        await self.session.flush()

    async def updates(self, commitment_id: int) -> list[CommitmentUpdate]:
        rows = (
            await self.session.scalars(
                select(CommitmentUpdateRecord)
                .where(CommitmentUpdateRecord.commitment_id == commitment_id)
                .order_by(CommitmentUpdateRecord.id)
            )
        ).all()
        return [to_domain(r, CommitmentUpdate) for r in rows]


class EscalationRepo(_Repo[Escalation, EscalationRecord]):
    domain, record = Escalation, EscalationRecord

    async def start_if_absent(self, escalation: Escalation) -> Escalation | None:
        new_id = await insert_ignore(self.session, EscalationRecord, _values(escalation))
        if new_id is None:
            return None
        escalation.id = new_id
        return escalation

    async def for_subject(self, kind: str, subject_id: int) -> list[Escalation]:
        return await self._all(EscalationRecord.kind == kind, EscalationRecord.subject_id == subject_id)

    async def due(self, now: dt.datetime) -> list[Escalation]:
        return await self._all(
            or_(
                and_(
                    EscalationRecord.state == EscalationState.ACTIVE,
                    EscalationRecord.next_step_at <= now,
                ),
                and_(
                    EscalationRecord.state == EscalationState.SNOOZED,
                    EscalationRecord.snoozed_until <= now,
                ),
            ),
            order=EscalationRecord.next_step_at,
        )

    async def claim_step(self, escalation_id: int, step: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(EscalationRecord)
            .where(
                EscalationRecord.id == escalation_id,
                EscalationRecord.step == step,
                EscalationRecord.state.in_(RUNNING),
            )
            .values(step=step + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def postpone_step(self, escalation_id: int, step: int, until: dt.datetime) -> bool:
        result = await self.session.execute(
            update(EscalationRecord)
            .where(
                EscalationRecord.id == escalation_id,
                EscalationRecord.step == step,
                EscalationRecord.state.in_(RUNNING),
            )
            .values(next_step_at=until, state=EscalationState.ACTIVE)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def active(self) -> list[Escalation]:
        return await self._all(EscalationRecord.state.in_(RUNNING))

    async def known(self, subject_ids: Sequence[int]) -> set[tuple[str, int, str]]:
        if not subject_ids:
            return set()
        rows = await self.session.execute(
            select(EscalationRecord.kind, EscalationRecord.subject_id, EscalationRecord.episode).where(
                EscalationRecord.subject_id.in_(sorted(set(subject_ids)))
            )
        )
        return {(kind, subject_id, episode) for kind, subject_id, episode in rows.all()}


class DeliveryRepo(_Repo[Delivery, DeliveryRecord]):
    domain, record = Delivery, DeliveryRecord

    async def enqueue(self, delivery: Delivery) -> bool:
        new_id = await insert_ignore(self.session, DeliveryRecord, _values(delivery))
        if new_id is not None:
            delivery.id = new_id
        return new_id is not None

    async def claim_due(self, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[Delivery]:
        due = or_(
            and_(DeliveryRecord.state == DeliveryState.PENDING, DeliveryRecord.next_attempt_at <= now),
            and_(DeliveryRecord.state == DeliveryState.SENDING, DeliveryRecord.lease_until < now),
        )
        # One statement claims the whole batch.  The due condition is repeated outside
        # the subquery: on PostgreSQL a concurrent claimer that waited for the row lock
        # re-checks it against the row as the winner left it, and skips the row.
        oldest = select(DeliveryRecord.id).where(due).order_by(DeliveryRecord.id).limit(limit)
        rows = (
            await self.session.scalars(
                update(DeliveryRecord)
                .where(DeliveryRecord.id.in_(oldest.scalar_subquery()), due)
                .values(state=DeliveryState.SENDING, lease_until=now + lease)
                .returning(DeliveryRecord)
                .execution_options(synchronize_session=False, populate_existing=True)
            )
        ).all()
        return sorted(self._map(rows), key=lambda d: d.id or 0)

    async def release(self, delivery_id: int, lease_until: dt.datetime) -> bool:
        result = await self.session.execute(
            update(DeliveryRecord)
            .where(
                DeliveryRecord.id == delivery_id,
                DeliveryRecord.state == DeliveryState.SENDING,
                DeliveryRecord.lease_until == lease_until,
            )
            .values(state=DeliveryState.PENDING, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def last_id(self) -> int:
        return int(await self.session.scalar(select(func.max(DeliveryRecord.id))) or 0)

    async def since(self, since_id: int, *, limit: int = 1000) -> list[Delivery]:
        return await self._all(DeliveryRecord.id > since_id, limit=limit)

    async def for_audience(self, audience: str, *, since_id: int = 0) -> list[Delivery]:
        return await self._all(DeliveryRecord.audience == audience, DeliveryRecord.id > since_id)

    async def pending_count(self) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(DeliveryRecord)
            .where(DeliveryRecord.state.in_((DeliveryState.PENDING, DeliveryState.SENDING)))
        )
        return int(count or 0)


class DigestRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, audience: str, week: str) -> DigestRecord | None:
        row = (
            await self.session.scalars(
                select(DigestRecordRow).where(
                    DigestRecordRow.audience == audience, DigestRecordRow.week == week
                )
            )
        ).first()
        return None if row is None else to_domain(row, DigestRecord)

    async def add_if_absent(self, digest: DigestRecord) -> bool:
        new_id = await insert_ignore(self.session, DigestRecordRow, _values(digest))
        if new_id is not None:
            digest.id = new_id
        return new_id is not None

    async def save(self, digest: DigestRecord) -> None:
        row = await self.session.get(DigestRecordRow, digest.id)
        if row is None:
            raise LookupError(f"digest {digest.id} does not exist")
        _copy_onto(row, digest)
        await self.session.flush()

    async def latest(self, audience: str) -> DigestRecord | None:
        row = (
            await self.session.scalars(
                select(DigestRecordRow)
                .where(DigestRecordRow.audience == audience)
                .order_by(DigestRecordRow.week.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else to_domain(row, DigestRecord)


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

    async def prune(self, before: dt.datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedEventRecord).where(ProcessedEventRecord.seen_at < before)
        )
        return _rowcount(result)


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, entry: AuditEntry) -> None:
        self.session.add(AuditRecord(**_values(entry)))
        await self.session.flush()

    async def recent(self, *, limit: int = 50) -> list[AuditEntry]:
        rows = (
            await self.session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit))
        ).all()
        return [to_domain(r, AuditEntry) for r in rows]

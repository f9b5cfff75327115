"""The outbox: deliveries enqueued once per key, claimed in batches under a lease."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import String, Table, and_, bindparam, cast, func, or_, select, update

from bot.deliveries.models import Delivery, DeliveryState
from storage.records import DeliveryRecord
from storage.repositories.base import Repo, insert_ignore, rowcount, values_of


class DeliveryRepo(Repo[Delivery, DeliveryRecord]):
    domain, record = Delivery, DeliveryRecord

    async def enqueue(self, delivery: Delivery) -> bool:
        new_id = await insert_ignore(self.session, DeliveryRecord, values_of(delivery))
        if new_id is not None:
            delivery.id = new_id
        return new_id is not None

    async def claim_due(
        self, now: dt.datetime, *, limit: int, lease: dt.timedelta, lease_now: dt.datetime | None = None
    ) -> list[Delivery]:
        # Leases are in the senders' real time (``lease_now``), even when a tick pretends
        # another instant (``now``) for what is due.
        lease_now = lease_now or now
        due = or_(
            and_(DeliveryRecord.state == DeliveryState.PENDING, DeliveryRecord.next_attempt_at <= now),
            and_(DeliveryRecord.state == DeliveryState.SENDING, DeliveryRecord.lease_until < lease_now),
        )
        # One statement claims the whole batch.  The due condition is repeated outside
        # the subquery: on PostgreSQL a concurrent claimer that waited for the row lock
        # re-checks it against the row as the winner left it, and skips the row.
        oldest = select(DeliveryRecord.id).where(due).order_by(DeliveryRecord.id).limit(limit)
        rows = (
            await self.session.scalars(
                update(DeliveryRecord)
                .where(DeliveryRecord.id.in_(oldest.scalar_subquery()), due)
                .values(state=DeliveryState.SENDING, lease_until=lease_now + lease)
                .returning(DeliveryRecord)
                .execution_options(synchronize_session=False, populate_existing=True)
            )
        ).all()
        return sorted(self._map(rows), key=lambda d: d.id or 0)

    async def record_outcomes(self, deliveries: Sequence[Delivery]) -> None:
        # One executemany of the outcome columns: the ORM's save would load each row
        # and write its whole message back, the fan-out's largest cost.
        if not deliveries:
            return
        table = cast_table(DeliveryRecord)
        statement = update(table).where(table.c.id == bindparam("delivery_id"))
        await self.session.execute(
            statement,
            [{"delivery_id": d.id, **{name: getattr(d, name) for name in OUTCOME}} for d in deliveries],
        )

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
        return rowcount(result) == 1

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

    async def oldest_undelivered(self) -> dt.datetime | None:
        """When the oldest delivery still waiting to be sent was written."""
        oldest = await self.session.scalar(
            select(func.min(DeliveryRecord.created_at)).where(
                DeliveryRecord.state.in_((DeliveryState.PENDING, DeliveryState.SENDING))
            )
        )
        return _utc(oldest)

    async def renew(self, ids: Sequence[int], lease_until: dt.datetime, new_lease: dt.datetime) -> int:
        """Extend this sender's lease on the deliveries it is still sending; returns how
        many it still held."""
        if not ids:
            return 0
        result = await self.session.execute(
            update(DeliveryRecord)
            .where(
                DeliveryRecord.id.in_(list(ids)),
                DeliveryRecord.state == DeliveryState.SENDING,
                DeliveryRecord.lease_until == lease_until,
            )
            .values(lease_until=new_lease)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def purge_payloads(self, sent_before: dt.datetime, *, limit: int = 1000) -> int:
        """Empty the message of up to ``limit`` deliveries sent before ``sent_before``.  The
        row stays (audience, key, times, attempts, platform reference): the audit trail of
        what was sent to whom and when, without the words."""
        ids = (
            select(DeliveryRecord.id)
            .where(
                DeliveryRecord.state == DeliveryState.SENT,
                DeliveryRecord.sent_at < sent_before,
                cast(DeliveryRecord.payload, String) != PURGED_TEXT,
            )
            .order_by(DeliveryRecord.id)
            .limit(limit)
        )
        result = await self.session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.id.in_(ids.scalar_subquery()))
            .values(payload=PURGED)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)


# What sending changes on a delivery.
OUTCOME = ("state", "attempts", "next_attempt_at", "lease_until", "sent_at", "last_error", "platform_ref")


def cast_table(record: type[DeliveryRecord]) -> Table:
    table = record.__table__
    assert isinstance(table, Table)
    return table


# What a purged delivery keeps of its message (and how the database stores it).
PURGED: dict[str, object] = {}
PURGED_TEXT = "{}"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value

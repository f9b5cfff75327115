"""Repositories against a real database: time zones, idempotent inserts and claims."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from bot.checkins.models import CheckIn, CheckInState
from bot.clock import FakeClock
from bot.commitments.models import CommitmentStatus
from bot.deliveries.models import Delivery, DeliveryState
from bot.escalations.models import EscalationState
from storage.uow import SqlUnitOfWorkFactory


def _checkin(unit_id: int, now: dt.datetime, week: str = "2026-W48") -> CheckIn:
    return CheckIn(
        unit_id=unit_id,
        week=week,
        state="open",
        opened_at=now,
        deadline_at=now + dt.timedelta(days=1),
        next_reminder_at=now,
    )


async def _unit_id(uow: SqlUnitOfWorkFactory) -> int:
    async with uow() as work:
        unit = (await work.units.all())[0]
        assert unit.id is not None
        return unit.id


async def test_times_come_back_aware_utc(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    unit_id = await _unit_id(org_uow)
    berlin = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    async with org_uow() as uow:
        checkin = _checkin(unit_id, berlin)
        await uow.checkins.add(checkin)
        await uow.commit()
    async with org_uow() as uow:
        stored = await uow.checkins.for_unit_week(unit_id, "2026-W48")
    assert stored is not None
    assert stored.opened_at == dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert stored.opened_at.tzinfo == dt.UTC


async def test_naive_datetimes_are_refused(org_uow: SqlUnitOfWorkFactory) -> None:
    unit_id = await _unit_id(org_uow)
    async with org_uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.checkins.add(_checkin(unit_id, dt.datetime(2026, 11, 23, 12, 0)))  # noqa: DTZ001


async def test_one_checkin_per_unit_and_week(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    unit_id = await _unit_id(org_uow)
    async with org_uow() as uow:
        assert await uow.checkins.open_if_absent(_checkin(unit_id, clock.now())) is not None
        assert await uow.checkins.open_if_absent(_checkin(unit_id, clock.now())) is None
        await uow.commit()
    async with org_uow() as uow:
        assert len(await uow.checkins.for_week("2026-W48")) == 1


async def test_a_reminder_is_claimed_once(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    unit_id = await _unit_id(org_uow)
    async with org_uow() as uow:
        checkin = await uow.checkins.add(_checkin(unit_id, clock.now()))
        await uow.commit()
    assert checkin.id is not None
    later = clock.now() + dt.timedelta(hours=2)
    async with org_uow() as first, org_uow() as second:
        assert await first.checkins.claim_reminder(checkin.id, 0, later, clock.now())
        await first.commit()
        # A second sweep that read the same row before the first committed loses.
        assert not await second.checkins.claim_reminder(checkin.id, 0, later, clock.now())
        await second.commit()
    async with org_uow() as uow:
        stored = await uow.checkins.get(checkin.id)
    assert stored is not None and stored.reminders_sent == 1 and stored.next_reminder_at == later


async def test_deliveries_are_idempotent_and_leased(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    now = clock.now()

    def delivery(key: str) -> Delivery:
        return Delivery(
            audience="person:1",
            payload={"x": key},
            idempotency_key=key,
            state="pending",
            created_at=now,
            next_attempt_at=now,
        )

    async with org_uow() as uow:
        assert await uow.deliveries.enqueue(delivery("a"))
        assert not await uow.deliveries.enqueue(delivery("a"))
        assert await uow.deliveries.enqueue(delivery("b"))
        await uow.commit()
    lease = dt.timedelta(minutes=1)
    async with org_uow() as uow:
        claimed = await uow.deliveries.claim_due(now, limit=10, lease=lease)
        await uow.commit()
    assert [d.idempotency_key for d in claimed] == ["a", "b"]
    assert all(d.state == "sending" for d in claimed)
    async with org_uow() as uow:
        # Leased: nobody else gets them until the lease runs out.
        assert await uow.deliveries.claim_due(now, limit=10, lease=lease) == []
        again = await uow.deliveries.claim_due(now + dt.timedelta(minutes=2), limit=10, lease=lease)
    assert len(again) == 2


async def test_processed_events_are_remembered(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    async with org_uow() as uow:
        assert await uow.events.first_time("slack", "Ev123", clock.now())
        await uow.commit()
    async with org_uow() as uow:
        assert not await uow.events.first_time("slack", "Ev123", clock.now())
        assert await uow.events.first_time("teams", "Ev123", clock.now())


async def test_leaving_without_commit_rolls_back(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    unit_id = await _unit_id(org_uow)
    async with org_uow() as uow:
        await uow.checkins.add(_checkin(unit_id, clock.now()))
    async with org_uow() as uow:
        assert await uow.checkins.for_week("2026-W48") == []


async def test_a_slow_batch_hands_back_what_it_can_no_longer_send_safely(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.deliveries.jobs import LEASE, SEND_MARGIN, drain

    now = clock.now()
    async with org_uow() as uow:
        for key in ("a", "b"):
            await uow.deliveries.enqueue(
                Delivery(
                    audience="person:1",
                    payload={"x": key},
                    idempotency_key=key,
                    state="pending",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        await uow.commit()
    sent: list[str] = []

    class SlowGateway:
        async def send(self, delivery: Delivery) -> str | None:
            sent.append(delivery.idempotency_key)
            clock.advance(LEASE - SEND_MARGIN + dt.timedelta(seconds=1))  # the first send takes long
            return "ok"

    result = await drain(org_uow, SlowGateway(), clock, max_batches=1)
    assert sent == ["a"] and result.sent == 1
    async with org_uow() as uow:
        states = {d.idempotency_key: d.state for d in await uow.deliveries.for_audience("person:1")}
    assert states == {"a": "sent", "b": "pending"}  # handed back, never sent twice


async def test_old_event_ids_are_forgotten(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    from bot.sweeps import forget_old_events

    async with org_uow() as uow:
        assert await uow.events.first_time("slack", "Ev-old", clock.now())
        await uow.commit()
    clock.advance(dt.timedelta(days=3))
    async with org_uow() as uow:
        assert await uow.events.first_time("slack", "Ev-new", clock.now())
        await uow.commit()
    assert await forget_old_events(org_uow, clock) == 1
    async with org_uow() as uow:
        assert not await uow.events.first_time("slack", "Ev-new", clock.now())
        assert await uow.events.first_time("slack", "Ev-old", clock.now())


async def _one_row_of_each_state_table(uow: SqlUnitOfWorkFactory, now: dt.datetime) -> None:
    """A check-in, a commitment with its first update, an escalation and a delivery."""
    from bot.commitments.service import open_commitment
    from bot.escalations.models import Escalation

    unit_id = await _unit_id(uow)
    async with uow() as work:
        unit = await work.units.get(unit_id)
        assert unit is not None
        checkin = await work.checkins.add(_checkin(unit_id, now))
        assert checkin.id is not None
        await open_commitment(
            work,
            unit=unit,
            owner_id=unit.head_id,
            text="Fix it",
            due_on=now.date(),
            origin="command",
            by=unit.head_id,
            now=now,
        )
        await work.escalations.add(
            Escalation(
                kind="missed_checkin",
                subject_id=checkin.id,
                unit_id=unit_id,
                episode="1",
                policy={},
                state=EscalationState.ACTIVE,
                step=0,
                next_step_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await work.deliveries.enqueue(
            Delivery(
                audience="person:1",
                payload={},
                idempotency_key="k",
                state=DeliveryState.PENDING,
                created_at=now,
                next_attempt_at=now,
            )
        )
        await work.commit()


STATE_COLUMNS = [
    ("checkins", "state"),
    ("commitments", "status"),
    ("commitment_updates", "status"),
    ("escalations", "state"),
    ("deliveries", "state"),
]


@pytest.mark.parametrize(("table", "column"), STATE_COLUMNS)
async def test_the_database_refuses_an_unknown_state(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, table: str, column: str
) -> None:
    await _one_row_of_each_state_table(org_uow, clock.now())
    async with org_uow() as uow:
        # Past the repositories (which refuse it too): the CHECK constraint says no.
        with pytest.raises(IntegrityError):
            await uow.session.execute(text(f"UPDATE {table} SET {column} = 'closed'"))


async def test_states_come_back_as_members_and_unknown_ones_are_refused(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _one_row_of_each_state_table(org_uow, clock.now())
    async with org_uow() as uow:
        (checkin,) = await uow.checkins.for_week("2026-W48")
        (commitment,) = await uow.commitments.all_open()
        (escalation,) = await uow.escalations.active()
        (delivery,) = await uow.deliveries.for_audience("person:1")
        (history,) = await uow.commitments.updates(commitment.id or 0)
    assert checkin.state is CheckInState.OPEN
    assert commitment.status is CommitmentStatus.OPEN and history.status is CommitmentStatus.OPEN
    assert escalation.state is EscalationState.ACTIVE
    assert delivery.state is DeliveryState.PENDING
    checkin.state = "closed"  # type: ignore[assignment]
    async with org_uow() as uow:
        with pytest.raises(StatementError, match="'closed' is not a valid CheckInState"):
            await uow.checkins.save(checkin)

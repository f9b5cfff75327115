"""Counts for /healthz and /metrics, read in one short transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.deliveries.models import DeliveryState
from bot.escalations.models import EscalationState
from storage.records import CheckInRecord, DeliveryRecord, EscalationRecord

UNDELIVERED = (DeliveryState.PENDING, DeliveryState.SENDING)
# Chains that still take steps (a snoozed one wakes up).
OPEN_ESCALATIONS = (EscalationState.ACTIVE, EscalationState.SNOOZED)


@dataclass
class Figures:
    backlog: int = 0
    oldest_undelivered: dt.datetime | None = None
    checkins: dict[str, int] = field(default_factory=dict)
    # Open escalation chains by the step they are at.
    escalations: dict[int, int] = field(default_factory=dict)


async def outbox(engine: AsyncEngine) -> Figures:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(func.count(), func.min(DeliveryRecord.created_at)).where(
                    DeliveryRecord.state.in_(UNDELIVERED)
                )
            )
        ).one()
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return Figures(backlog=int(row[0] or 0), oldest_undelivered=oldest)


async def figures(engine: AsyncEngine) -> Figures:
    found = await outbox(engine)
    async with engine.connect() as connection:
        for state, count in await connection.execute(
            select(CheckInRecord.state, func.count()).group_by(CheckInRecord.state)
        ):
            found.checkins[str(state)] = int(count)
        for step, count in await connection.execute(
            select(EscalationRecord.step, func.count())
            .where(EscalationRecord.state.in_(OPEN_ESCALATIONS))
            .group_by(EscalationRecord.step)
        ):
            found.escalations[int(step)] = int(count)
    return found

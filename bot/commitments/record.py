"""Creating a commitment: the record and the first entry of its history, together."""

from __future__ import annotations

import datetime as dt

from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from bot.ports import UnitOfWork


async def open_commitment(
    uow: UnitOfWork,
    *,
    unit_id: int,
    owner_id: int,
    text: str,
    due_on: dt.date,
    origin: str,
    by: int | None,
    now: dt.datetime,
    note: str = "created",
    asked_by: int | None = None,
) -> Commitment:
    """Store a new open commitment and its first update; returns it with its id."""
    commitment = await uow.commitments.add(
        Commitment(
            unit_id=unit_id,
            owner_id=owner_id,
            text=text,
            due_on=due_on,
            status=CommitmentStatus.OPEN,
            origin=origin,
            created_at=now,
            updated_at=now,
            created_by=by,
            asked_by=asked_by,
        )
    )
    assert commitment.id is not None
    await uow.commitments.add_update(
        CommitmentUpdate(
            commitment_id=commitment.id, at=now, by=by, status=CommitmentStatus.OPEN, due_on=due_on, note=note
        )
    )
    return commitment

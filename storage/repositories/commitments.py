"""Commitments (follow-ups included) and their append-only updates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from storage.records import CommitmentRecord, CommitmentUpdateRecord
from storage.repositories.base import Repo, insert_ignore, to_domain, values_of


class CommitmentRepo(Repo[Commitment, CommitmentRecord]):
    domain, record = Commitment, CommitmentRecord

    async def add_if_absent(self, commitment: Commitment) -> Commitment | None:
        new_id = await insert_ignore(self.session, CommitmentRecord, values_of(commitment))
        if new_id is None:
            return None
        commitment.id = new_id
        return commitment

    async def by_origin(self, origin: str) -> Commitment | None:
        return await self._one(CommitmentRecord.origin == origin)

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

    async def asked_by(self, person_id: int, since: dt.datetime) -> list[Commitment]:
        """The follow-up questions a person asked since ``since``."""
        return await self._all(
            CommitmentRecord.asked_by == person_id,
            CommitmentRecord.origin == "followup",
            CommitmentRecord.created_at >= since,
        )

    async def add_update(self, update_: CommitmentUpdate) -> None:
        self.session.add(CommitmentUpdateRecord(**values_of(update_)))
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

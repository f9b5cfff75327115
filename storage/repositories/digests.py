"""Built digests: one per audience and week."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests.models import DigestRecord
from storage.records import DigestRecordRow
from storage.repositories.base import copy_onto, insert_ignore, to_domain, values_of


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
        new_id = await insert_ignore(self.session, DigestRecordRow, values_of(digest))
        if new_id is not None:
            digest.id = new_id
        return new_id is not None

    async def save(self, digest: DigestRecord) -> None:
        row = await self.session.get(DigestRecordRow, digest.id)
        if row is None:
            raise LookupError(f"digest {digest.id} does not exist")
        copy_onto(row, digest)
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

"""The append-only audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditEntry
from storage.records import AuditRecord
from storage.repositories.base import to_domain, values_of


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, entry: AuditEntry) -> None:
        self.session.add(AuditRecord(**values_of(entry)))
        await self.session.flush()

    async def latest_about(self, subject: str) -> AuditEntry | None:
        """The newest entry about a subject (``commitment:12``): who acted on it last."""
        row = (
            await self.session.scalars(
                select(AuditRecord)
                .where(AuditRecord.subject == subject)
                .order_by(AuditRecord.id.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else to_domain(row, AuditEntry)

    async def recent(self, *, limit: int = 50) -> list[AuditEntry]:
        rows = (
            await self.session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit))
        ).all()
        return [to_domain(r, AuditEntry) for r in rows]

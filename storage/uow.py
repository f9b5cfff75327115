"""The unit of work: one session, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.digest_source import SqlDigestSource
from storage.repositories.audit import AuditRepo
from storage.repositories.checkins import CheckInRepo
from storage.repositories.commitments import CommitmentRepo
from storage.repositories.deliveries import DeliveryRepo
from storage.repositories.digests import DigestRepo
from storage.repositories.escalations import EscalationRepo
from storage.repositories.events import EventRepo
from storage.repositories.org import OrgRepo
from storage.repositories.people import AwayRepo, PersonRepo
from storage.repositories.readings import ReadingRepo
from storage.repositories.units import MetricRepo, UnitRepo


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = session = self._sessions()
        self.people = PersonRepo(session)
        self.away = AwayRepo(session)
        self.units = UnitRepo(session)
        self.metrics = MetricRepo(session)
        self.org = OrgRepo(session)
        self.checkins = CheckInRepo(session)
        self.readings = ReadingRepo(session)
        self.commitments = CommitmentRepo(session)
        self.escalations = EscalationRepo(session)
        self.deliveries = DeliveryRepo(session)
        self.digests = DigestRepo(session)
        self.digest_source = SqlDigestSource(session)
        self.events = EventRepo(session)
        self.audit = AuditRepo(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

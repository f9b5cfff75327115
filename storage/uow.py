"""The unit of work: one session, one transaction, every repository.

Driver errors that mean the database cannot be reached (refused, reset, timed out) leave
the block as ``bot.ports.DatabaseUnavailable``, so the core can answer "try again" without
knowing SQL.  While the database is known to be out of reach, entering the block raises it
within about a second instead of waiting for the driver's timeouts (storage/outage.py); one
outage logs one warning when it starts and one line when the database answers again.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.ports import DatabaseUnavailable
from storage.brief_source import SqlBriefSource
from storage.digest_source import SqlDigestSource
from storage.engine import is_unavailable
from storage.outage import Outage, outage_of
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
from storage.repositories.sessions import SessionDocumentRepo, SessionItemRepo, SessionRepo
from storage.repositories.units import MetricRepo, UnitRepo


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        # A session factory without an engine (none in statbot) gets an outage of its own.
        self._outage = outage_of(bind) if isinstance(bind, AsyncEngine) else Outage()

    async def __aenter__(self) -> Self:
        await self._outage.gate()
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
        self.sessions = SessionRepo(session)
        self.session_items = SessionItemRepo(session)
        self.session_documents = SessionDocumentRepo(session)
        self.deliveries = DeliveryRepo(session)
        self.digests = DigestRepo(session)
        self.digest_source = SqlDigestSource(session)
        self.brief_source = SqlBriefSource(session)
        self.events = EventRepo(session)
        self.audit = AuditRepo(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cleanup: BaseException | None = None
        try:
            await self.session.rollback()
        except Exception as error:  # a dead connection cannot roll back; the server did
            cleanup = error
        try:
            await self.session.close()
        except Exception as error:
            cleanup = cleanup or error
        if exc is not None and not isinstance(exc, DatabaseUnavailable) and is_unavailable(exc):
            raise self._outage.failed(exc) from None
        if exc is None and cleanup is not None:
            if is_unavailable(cleanup):
                raise self._outage.failed(cleanup) from None
            raise cleanup

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except Exception as exc:
            if is_unavailable(exc):
                raise self._outage.failed(exc) from None
            raise
        self._outage.reached()

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

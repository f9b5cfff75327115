"""The unit of work: one session, one transaction, every repository.

Driver errors that mean the database cannot be reached (refused, reset, timed out) leave
the block as ``bot.ports.DatabaseUnavailable``, so the core can answer "try again" without
knowing SQL.  One outage logs one warning when it starts and one line when the database
answers again, however many turns and sweeps hit it in between.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ports import DatabaseUnavailable
from storage.brief_source import SqlBriefSource
from storage.digest_source import SqlDigestSource
from storage.engine import is_unavailable
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

log = logging.getLogger(__name__)


class Outage:
    """Whether the database is known to be unreachable; logs the edges, not every failure."""

    def __init__(self) -> None:
        self.down = False
        self.failures = 0

    def failed(self, exc: BaseException) -> DatabaseUnavailable:
        self.failures += 1
        if not self.down:
            self.down = True
            # The class only: a driver's text can name the host or carry bound values.
            log.warning("database unreachable (%s); turns answer 'try again' until it is back", _name(exc))
        return DatabaseUnavailable(f"the database cannot be reached ({_name(exc)})")

    def reached(self) -> None:
        if self.down:
            self.down = False
            log.warning("database reachable again after %d failed transactions", self.failures)
            self.failures = 0


# One per process: every unit of work shares what it learnt about the database.
OUTAGE = Outage()


def _name(exc: BaseException) -> str:
    return type(exc).__name__


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
            raise OUTAGE.failed(exc) from None
        if exc is None and cleanup is not None:
            if is_unavailable(cleanup):
                raise OUTAGE.failed(cleanup) from None
            raise cleanup

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except Exception as exc:
            if is_unavailable(exc):
                raise OUTAGE.failed(exc) from None
            raise
        OUTAGE.reached()

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

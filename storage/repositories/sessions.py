"""Stat sessions: planned once per unit and moment, changed by conditional updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.sessions.models import SessionState, StatSession
from storage.records import SessionRecord
from storage.repositories.base import Repo, insert_ignore, values_of


class SessionRepo(Repo[StatSession, SessionRecord]):
    domain, record = StatSession, SessionRecord

    async def add_if_absent(self, session: StatSession) -> StatSession | None:
        new_id = await insert_ignore(self.session, SessionRecord, values_of(session))
        if new_id is None:
            return None
        session.id = new_id
        return session

    async def between(self, start: dt.datetime, end: dt.datetime) -> list[StatSession]:
        return await self._all(
            SessionRecord.starts_at >= start, SessionRecord.starts_at < end, order=SessionRecord.starts_at
        )

    async def planned_from(self, series: Sequence[str] | None, after: dt.datetime) -> list[StatSession]:
        """Scheduled sessions of any series (or of these) that have not begun."""
        where = [
            SessionRecord.series.is_not(None),
            SessionRecord.state == SessionState.SCHEDULED,
            SessionRecord.starts_at > after,
        ]
        if series is not None:
            where.append(SessionRecord.series.in_(series))
        return await self._all(*where, order=SessionRecord.starts_at)

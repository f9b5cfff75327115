"""Stat sessions: planned once per unit and moment, changed by conditional updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bot.sessions.models import (
    DocumentKind,
    ItemKind,
    SessionDocument,
    SessionItem,
    SessionState,
    StatSession,
)
from storage.records import SessionDocumentRecord, SessionItemRecord, SessionRecord
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

    async def last_closed(self, unit_id: int, before: dt.datetime) -> StatSession | None:
        """The unit's latest session closed before ``before`` (the one a brief looks back on)."""
        query = (
            select(SessionRecord)
            .where(
                SessionRecord.unit_id == unit_id,
                SessionRecord.state == SessionState.CLOSED,
                SessionRecord.starts_at < before,
            )
            .order_by(SessionRecord.starts_at.desc())
            .limit(1)
        )
        row = (await self.session.scalars(query)).first()
        return None if row is None else self._map([row])[0]


class SessionItemRepo(Repo[SessionItem, SessionItemRecord]):
    domain, record = SessionItem, SessionItemRecord

    async def add_if_absent(self, item: SessionItem) -> SessionItem | None:
        new_id = await insert_ignore(self.session, SessionItemRecord, values_of(item))
        if new_id is None:
            return None
        item.id = new_id
        return item

    async def for_sessions(
        self, session_ids: Sequence[int], kind: ItemKind | None = None
    ) -> list[SessionItem]:
        if not session_ids:
            return []
        where: list[Any] = [SessionItemRecord.session_id.in_(sorted(set(session_ids)))]
        if kind is not None:
            where.append(SessionItemRecord.kind == kind)
        return await self._all(*where)


class SessionDocumentRepo(Repo[SessionDocument, SessionDocumentRecord]):
    domain, record = SessionDocument, SessionDocumentRecord

    async def of(self, session_id: int, kind: DocumentKind) -> SessionDocument | None:
        return await self._one(
            SessionDocumentRecord.session_id == session_id, SessionDocumentRecord.kind == kind
        )

    async def add_if_absent(self, document: SessionDocument) -> SessionDocument | None:
        new_id = await insert_ignore(self.session, SessionDocumentRecord, values_of(document))
        if new_id is None:
            return None
        document.id = new_id
        return document

    async def for_sessions(self, session_ids: Sequence[int], kind: DocumentKind) -> list[SessionDocument]:
        if not session_ids:
            return []
        return await self._all(
            SessionDocumentRecord.session_id.in_(sorted(set(session_ids))), SessionDocumentRecord.kind == kind
        )

    async def drafts(self, kind: DocumentKind) -> list[SessionDocument]:
        return await self._all(SessionDocumentRecord.kind == kind, SessionDocumentRecord.state == "draft")

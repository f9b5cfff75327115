"""DigestSource implemented with a handful of bulk queries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests.data import DigestData


class SqlDigestSource:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, *, week: str, weeks_back: int = 12) -> DigestData:
        raise NotImplementedError

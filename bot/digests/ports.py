"""What the digest needs from storage: everything for one week in a fixed number of
queries, however many units there are."""

from __future__ import annotations

from typing import Protocol

from bot.digests.data import DigestData


class DigestSource(Protocol):
    async def load(self, *, week: str, weeks_back: int = 12) -> DigestData: ...

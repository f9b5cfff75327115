"""What the digest needs from storage: everything for one week in a fixed number of
queries, however many units there are; and a place for the chart images, so every
replica can serve or upload them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.digests.data import DigestData


@dataclass(slots=True)
class StoredChart:
    ref: str
    png: bytes
    alt_text: str
    created_at: dt.datetime
    title: str = ""


class DigestSource(Protocol):
    async def load(self, *, week: str, weeks_back: int = 12) -> DigestData: ...

    async def save_chart(self, chart: StoredChart) -> bool:
        """Store a chart unless one with the same ref exists (then False)."""
        ...

    async def chart(self, ref: str) -> StoredChart | None: ...

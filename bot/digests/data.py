"""The raw material of a digest, loaded in bulk (see bot/digests/ports.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class DigestData:
    week: str
    placeholder: list[object] = field(default_factory=list)

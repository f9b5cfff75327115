"""Benchmarks (`make bench` runs `python -m bench`).

Every module of this package is a benchmark: it prints its figures from either
``async def main(argv: list[str]) -> None`` or ``def run() -> None``.  They are not timed
tests: they report, they do not assert.  Add one by adding a module.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path


def benchmarks() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")
    )

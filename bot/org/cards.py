"""Every word about finding units."""

from __future__ import annotations

from collections.abc import Sequence

from bot.org.models import Unit


def ambiguous_unit(name: str, candidates: Sequence[Unit], units: Sequence[Unit]) -> str:
    known = ", ".join(u.key for u in units)
    return f"{name!r} could be {', '.join(u.name for u in candidates)}; say which. Units: {known}"


def no_such_unit(name: str, units: Sequence[Unit]) -> str:
    known = ", ".join(u.key for u in units)
    return f"There is no unit {name!r}. Units: {known}"

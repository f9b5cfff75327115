"""People as domain operations: being away.  No permission checks, no commit, no wording."""

from __future__ import annotations

import datetime as dt

from bot.audit import AuditEntry
from bot.org.lookup import units_of
from bot.org.models import AwayPeriod, Person, Unit
from bot.ports import UnitOfWork


async def away(
    uow: UnitOfWork, person: Person, start: dt.date, end: dt.date, now: dt.datetime
) -> list[tuple[Unit, Person | None]]:
    """Record an away period; returns the units the person heads, each with the deputy
    who gets its check-ins meanwhile (None: no deputy, its check-ins are excused)."""
    assert person.id is not None
    await uow.away.add(AwayPeriod(person_id=person.id, starts_on=start, ends_on=end))
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="person.away",
            subject=f"person:{person.id}",
            detail={"from": start.isoformat(), "to": end.isoformat()},
        )
    )
    stand_ins: list[tuple[Unit, Person | None]] = []
    for unit in await units_of(uow, person):
        if unit.head_id != person.id:
            continue
        if unit.deputy_id:
            deputy = await uow.people.get(unit.deputy_id)
            if deputy is not None:
                stand_ins.append((unit, deputy))
        else:
            stand_ins.append((unit, None))
    return stand_ins

"""Finding units by what people type, and the units a person answers for."""

from __future__ import annotations

from bot.org import cards
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed
from bot.ports import UnitOfWork


async def units_of(uow: UnitOfWork, person: Person) -> list[Unit]:
    """Units where the person is head or deputy (one query, whatever the org's size)."""
    if person.id is None:
        return []
    return list(await uow.units.answered_by(person.id))


async def find_unit(uow: UnitOfWork, name: str) -> Unit:
    """The unit a name, key or unambiguous part of one names; a refusal lists the units."""
    wanted = name.strip().strip('"').lower()
    units = await uow.units.all()
    exact = [u for u in units if wanted in (u.key.lower(), u.name.lower())]
    if exact:
        return exact[0]
    partial = [u for u in units if wanted and (wanted in u.name.lower() or wanted in u.key.lower())]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise NotAllowed(cards.ambiguous_unit(name, partial, units))
    raise NotAllowed(cards.no_such_unit(name, units))

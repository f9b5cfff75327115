"""What a turn or a sweep needs to know about the organisation, loaded once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.calendar import WorkCalendar
from bot.escalations.policy import Policy
from bot.org.models import Person, Unit
from bot.org.schema import Holidays, Organisation
from bot.ports import UnitOfWork


class NoOrganisationError(Exception):
    def __init__(self) -> None:
        super().__init__("no organisation is loaded yet: run `statbot org apply FILE`")


@dataclass(slots=True)
class OrgContext:
    organisation: Organisation
    calendar: WorkCalendar
    policies: dict[str, Policy] = field(default_factory=dict)

    def policy_for(self, unit: Unit) -> Policy | None:
        if unit.escalation_policy and unit.escalation_policy in self.policies:
            return self.policies[unit.escalation_policy]
        # Units without a policy of their own follow the first one of the file.
        return next(iter(self.policies.values()), None)

    def zone_of(self, person: Person | None, unit: Unit) -> str:
        return person.timezone if person is not None else unit.timezone


_CACHE: dict[str, OrgContext] = {}


async def load_context(uow: UnitOfWork) -> OrgContext:
    """The organisation as stored now.  Validating settings and building the holiday
    calendar is costly next to the two queries, and sweeps ask for it per unit, so the
    built context is reused while the stored settings are the same."""
    settings = await uow.org.settings()
    if settings is None:
        raise NoOrganisationError()
    stored_policies = await uow.org.policies()
    key = json.dumps(
        [
            settings.name,
            settings.timezone,
            settings.holiday_country,
            settings.holiday_subdivision,
            settings.options,
            [(p.name, p.definition) for p in stored_policies],
        ],
        sort_keys=True,
        default=str,
    )
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    holidays = (
        Holidays(country=settings.holiday_country, subdivision=settings.holiday_subdivision)
        if settings.holiday_country
        else None
    )
    organisation = Organisation.model_validate(
        {**settings.options, "name": settings.name, "timezone": settings.timezone, "holidays": holidays}
    )
    policies = {p.name: Policy.model_validate(p.definition) for p in stored_policies}
    context = OrgContext(organisation, WorkCalendar.from_org(organisation), policies)
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[key] = context
    return context

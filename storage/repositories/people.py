"""People and their away periods."""

from __future__ import annotations

import datetime as dt

from bot.org.models import AwayPeriod, Person
from storage.records import AwayPeriodRecord, PersonRecord
from storage.repositories.base import Repo


class PersonRepo(Repo[Person, PersonRecord]):
    domain, record = Person, PersonRecord

    async def all(self, *, active_only: bool = True) -> list[Person]:
        return await self._all(*([PersonRecord.active.is_(True)] if active_only else []))

    async def by_email(self, email: str) -> Person | None:
        return await self._one(PersonRecord.email == email.strip().lower())

    async def by_slack_id(self, slack_user_id: str) -> Person | None:
        return await self._one(PersonRecord.slack_user_id == slack_user_id)

    async def by_teams_id(self, teams_user_id: str) -> Person | None:
        return await self._one(PersonRecord.teams_user_id == teams_user_id)


class AwayRepo(Repo[AwayPeriod, AwayPeriodRecord]):
    domain, record = AwayPeriod, AwayPeriodRecord

    async def for_person(self, person_id: int) -> list[AwayPeriod]:
        return await self._all(AwayPeriodRecord.person_id == person_id)

    async def away_on(self, day: dt.date) -> list[AwayPeriod]:
        return await self._all(AwayPeriodRecord.starts_on <= day, AwayPeriodRecord.ends_on >= day)

"""Check-ins: one per unit and week, opened, reminded and submitted by claims."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Text, cast, or_, select, update

from bot.checkins.models import CheckIn, CheckInState
from storage.records import CheckInRecord, UnitRecord
from storage.repositories.base import Repo, insert_ignore, rowcount, values_of


class CheckInRepo(Repo[CheckIn, CheckInRecord]):
    domain, record = CheckIn, CheckInRecord
    versioned = True

    async def for_unit_week(self, unit_id: int, week: str) -> CheckIn | None:
        return await self._one(CheckInRecord.unit_id == unit_id, CheckInRecord.week == week)

    async def open_if_absent(self, checkin: CheckIn) -> CheckIn | None:
        new_id = await insert_ignore(self.session, CheckInRecord, values_of(checkin))
        if new_id is None:
            return None
        checkin.id = new_id
        return checkin

    async def for_week(self, week: str) -> list[CheckIn]:
        return await self._all(CheckInRecord.week == week)

    async def for_unit(self, unit_id: int, *, limit: int = 12) -> list[CheckIn]:
        return await self._all(CheckInRecord.unit_id == unit_id, order=CheckInRecord.week.desc(), limit=limit)

    async def due_reminders(self, now: dt.datetime) -> list[CheckIn]:
        return await self._all(
            CheckInRecord.state == CheckInState.OPEN,
            CheckInRecord.next_reminder_at.is_not(None),
            CheckInRecord.next_reminder_at <= now,
        )

    async def claim_reminder(
        self,
        checkin_id: int,
        reminders_sent: int,
        next_reminder_at: dt.datetime | None,
        now: dt.datetime,
    ) -> bool:
        result = await self.session.execute(
            update(CheckInRecord)
            .where(
                CheckInRecord.id == checkin_id,
                CheckInRecord.state == CheckInState.OPEN,
                CheckInRecord.reminders_sent == reminders_sent,
            )
            .values(
                reminders_sent=reminders_sent + 1,
                next_reminder_at=next_reminder_at,
                last_reminded_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def past_deadline(self, now: dt.datetime) -> list[CheckIn]:
        return await self._all(CheckInRecord.state == CheckInState.OPEN, CheckInRecord.deadline_at <= now)

    async def postpone_reminder(self, checkin_id: int, reminders_sent: int, until: dt.datetime) -> bool:
        result = await self.session.execute(
            update(CheckInRecord)
            .where(
                CheckInRecord.id == checkin_id,
                CheckInRecord.state == CheckInState.OPEN,
                CheckInRecord.reminders_sent == reminders_sent,
            )
            .values(next_reminder_at=until)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def keep_draft(self, checkin_id: int, draft: dict[str, Any]) -> None:
        """Write only the draft: what a person typed, whatever happened to the check-in."""
        await self.session.execute(
            update(CheckInRecord)
            .where(CheckInRecord.id == checkin_id)
            .values(draft=draft)
            .execution_options(synchronize_session=False)
        )

    async def keep_draft_if(self, checkin_id: int, draft: dict[str, Any], seen: dict[str, Any]) -> bool:
        """Write the draft only if the stored one is still ``seen`` (two people typing
        answers to one check-in at once must not wipe each other's words).  Drafts do not
        bump the version: a draft never makes a submission lose its race."""
        # Compared as text: the JSON type keeps what was written, and json.dumps is what
        # wrote it (PostgreSQL's json type has no equality operator).
        stored = cast(CheckInRecord.draft, Text)
        result = await self.session.execute(
            update(CheckInRecord)
            .where(CheckInRecord.id == checkin_id, stored == json.dumps(seen))
            .values(draft=draft)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def open_for_person(self, person_id: int) -> list[CheckIn]:
        units = select(UnitRecord.id).where(
            or_(UnitRecord.head_id == person_id, UnitRecord.deputy_id == person_id)
        )
        return await self._all(
            CheckInRecord.state == CheckInState.OPEN,
            or_(CheckInRecord.respondent_id == person_id, CheckInRecord.unit_id.in_(units)),
            order=CheckInRecord.week,
        )

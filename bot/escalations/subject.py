"""What an escalation is about, looked up fresh each time a step falls due (the cards
word it: bot.escalations.cards.subject_title)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.checkins.models import CheckInState
from bot.commitments.models import CommitmentStatus
from bot.escalations.models import Escalation
from bot.org.models import Person, Unit
from bot.ports import UnitOfWork


@dataclass(slots=True)
class Subject:
    """What an escalation is about, as it stands now."""

    unit: Unit
    owner: Person | None
    # The escalation's kind: missed_checkin, overdue_commitment, quiet_commitment or
    # unanswered_followup.
    kind: str
    quiet_since: dt.datetime
    resolved: bool
    # The check-in's week, or the commitment's number, text and origin.
    week: str | None = None
    number: int | None = None
    text: str = ""
    followup: bool = False
    # Commitments can be marked done from the escalation itself.
    closable: bool = False


def end_of_day(day: dt.date, tz: str) -> dt.datetime:
    """The moment a due date has passed: midnight after it, in the unit's zone."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), ZoneInfo(tz)).astimezone(dt.UTC)


async def subject_of(uow: UnitOfWork, escalation: Escalation, now: dt.datetime) -> Subject | None:
    unit = await uow.units.get(escalation.unit_id)
    if unit is None:
        return None
    if escalation.kind == "missed_checkin":
        checkin = await uow.checkins.get(escalation.subject_id)
        if checkin is None:
            return None
        owner_id = checkin.respondent_id or unit.head_id
        return Subject(
            unit=unit,
            owner=await uow.people.get(owner_id),
            kind=escalation.kind,
            week=checkin.week,
            quiet_since=checkin.deadline_at,
            resolved=checkin.state != CheckInState.OPEN,
        )
    commitment = await uow.commitments.get(escalation.subject_id)
    if commitment is None:
        return None
    closed = commitment.status != CommitmentStatus.OPEN
    if escalation.kind in ("overdue_commitment", "unanswered_followup"):
        moved = commitment.due_on.isoformat() != escalation.episode
        return Subject(
            unit=unit,
            owner=await uow.people.get(commitment.owner_id),
            kind=escalation.kind,
            number=commitment.id,
            text=commitment.text,
            followup=commitment.origin == "followup",
            quiet_since=end_of_day(commitment.due_on, unit.timezone),
            resolved=closed or moved,
            closable=commitment.origin != "followup",
        )
    updated = commitment.updated_at.isoformat() != escalation.episode
    return Subject(
        unit=unit,
        owner=await uow.people.get(commitment.owner_id),
        kind=escalation.kind,
        number=commitment.id,
        text=commitment.text,
        quiet_since=commitment.updated_at,
        resolved=closed or updated,
        closable=True,
    )

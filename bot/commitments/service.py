"""Commitments and follow-ups as domain operations: no permission checks, no commit, no
wording (the handlers ask `bot.permissions`, the bot's turn commits, cards word it).

Every change to a commitment, from any path (a command, the check-in form, a follow-up
answer, an escalation's "Mark done"), goes through ``change``: the record (its quiet clock
restarts), an entry in its append-only history and an entry in the audit log, together.
Creating one goes through ``open_commitment`` with the same three writes.

Two people (or two replicas) changing one commitment at once both read it; the record is
written by a conditional update on what was read (its status, and its due date when the
date moves), so exactly one wins.  The other raises ``TakenFirst``: nothing of theirs is
written (no history, audit or delivery) and they are told who got there first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.commitments import cards
from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.org.context import OrgContext, load_context
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, can_read
from bot.ports import UnitOfWork

WORKING_DAYS_TO_ANSWER = 2


class NotOpen(Exception):
    """The commitment is done or dropped already; nothing was changed."""

    def __init__(self, commitment: Commitment) -> None:
        super().__init__(f"commitment {commitment.id} is {commitment.status}")
        self.commitment = commitment


class TakenFirst(NotAllowed):
    """Someone else changed the commitment at the same moment and won; nothing of this
    change was written.  ``commitment`` is as the winner left it, ``by`` the winner."""

    def __init__(self, commitment: Commitment, by: Person | None, action: str, message: str) -> None:
        super().__init__(message)
        self.commitment = commitment
        self.by = by
        self.action = action


async def taken_first(
    uow: UnitOfWork, commitment_id: int, tried: str, typed: str | None = None
) -> TakenFirst:
    """What to tell the person whose change lost: the commitment as it is now and who
    changed it last."""
    fresh = await uow.commitments.reload(commitment_id)
    assert fresh is not None
    entry = await uow.audit.latest_about(f"commitment:{commitment_id}")
    by = await uow.people.get(entry.actor_id) if entry is not None and entry.actor_id is not None else None
    action = entry.action if entry is not None else ""
    return TakenFirst(fresh, by, action, cards.taken_first_text(fresh, by, action, tried, typed))


async def open_commitment(
    uow: UnitOfWork,
    *,
    unit: Unit,
    owner_id: int,
    text: str,
    due_on: dt.date,
    origin: str,
    by: int | None,
    now: dt.datetime,
    note: str = "created",
    asked_by: int | None = None,
    action: str = "commitment.created",
    detail: Mapping[str, Any] | None = None,
) -> Commitment:
    """Store a new open commitment, its first history entry and its audit entry."""
    new = _new(unit, owner_id, text, due_on, origin, by, now, asked_by)
    return await _recorded(uow, await uow.commitments.add(new), note, action, detail)


async def open_commitment_once(
    uow: UnitOfWork,
    *,
    unit: Unit,
    owner_id: int,
    text: str,
    due_on: dt.date,
    origin: str,
    by: int | None,
    now: dt.datetime,
    note: str,
    detail: Mapping[str, Any] | None = None,
) -> Commitment | None:
    """As ``open_commitment``, for an origin stored once (an answer's promise): None, and
    nothing stored, when a commitment of that origin exists, even one made a moment ago."""
    stored = await uow.commitments.add_if_absent(_new(unit, owner_id, text, due_on, origin, by, now, None))
    if stored is None:
        return None
    return await _recorded(uow, stored, note, "commitment.created", detail)


def _new(
    unit: Unit,
    owner_id: int,
    text: str,
    due_on: dt.date,
    origin: str,
    by: int | None,
    now: dt.datetime,
    asked_by: int | None,
) -> Commitment:
    assert unit.id is not None
    return Commitment(
        unit_id=unit.id,
        owner_id=owner_id,
        text=text,
        due_on=due_on,
        status=CommitmentStatus.OPEN,
        origin=origin,
        created_at=now,
        updated_at=now,
        created_by=by,
        asked_by=asked_by,
    )


async def _recorded(
    uow: UnitOfWork, commitment: Commitment, note: str, action: str, detail: Mapping[str, Any] | None
) -> Commitment:
    """The first history entry and the audit entry of a commitment just stored."""
    assert commitment.id is not None
    by, now = commitment.created_by, commitment.created_at
    await uow.commitments.add_update(
        CommitmentUpdate(
            commitment_id=commitment.id,
            at=now,
            by=by,
            status=CommitmentStatus.OPEN,
            due_on=commitment.due_on,
            note=note,
        )
    )
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=by,
            action=action,
            subject=f"commitment:{commitment.id}",
            detail=dict(detail)
            if detail is not None
            else {"text": commitment.text, "origin": commitment.origin},
        )
    )
    return commitment


async def change(
    uow: UnitOfWork,
    commitment: Commitment,
    *,
    by: int | None,
    now: dt.datetime,
    action: str,
    note: str,
    status: CommitmentStatus | None = None,
    due_on: dt.date | None = None,
    answer: str | None = None,
    typed: str | None = None,
) -> Commitment:
    """The one way a commitment changes: the record, its history entry, its audit entry.

    A change with nothing but a note ("still on track") is a change too: the commitment
    has not gone quiet.

    Raises ``TakenFirst`` when another change got there first (the status, or the due
    date, is no longer what was read)."""
    assert commitment.id is not None
    # The status and the due date as read: a change made meanwhile (done, dropped, a new
    # date) makes this one lose, whichever of the two the other changed.
    expected: dict[str, Any] = {"status": commitment.status, "due_on": commitment.due_on}
    detail: dict[str, Any] = {"note": note}
    if status is not None and status != commitment.status:
        detail["status"] = {"from": commitment.status, "to": status}
        commitment.status = status
        commitment.closed_at = None if status == CommitmentStatus.OPEN else now
    if due_on is not None and due_on != commitment.due_on:
        detail["due_on"] = {"from": commitment.due_on.isoformat(), "to": due_on.isoformat()}
        commitment.due_on = due_on
    if answer is not None:
        commitment.answer = answer
    commitment.updated_at = now
    if not await uow.commitments.save_if(commitment, expected):
        # What the person typed (an answer, a note) comes back to them.
        raise await taken_first(uow, commitment.id, action, answer if answer is not None else typed)
    await uow.commitments.add_update(
        CommitmentUpdate(
            commitment_id=commitment.id,
            at=now,
            by=by,
            status=commitment.status,
            due_on=commitment.due_on,
            note=note,
        )
    )
    await uow.audit.record(
        AuditEntry(at=now, actor_id=by, action=action, subject=f"commitment:{commitment.id}", detail=detail)
    )
    return commitment


async def create(
    uow: UnitOfWork, person: Person, unit: Unit, text: str, due_on: dt.date, now: dt.datetime
) -> Commitment:
    """A commitment the person makes for their unit (by command)."""
    assert person.id is not None
    return await open_commitment(
        uow,
        unit=unit,
        owner_id=person.id,
        text=text,
        due_on=due_on,
        origin="command",
        by=person.id,
        now=now,
        detail={"text": text},
    )


async def close(
    uow: UnitOfWork,
    commitment: Commitment,
    by: int | None,
    now: dt.datetime,
    *,
    status: CommitmentStatus = CommitmentStatus.DONE,
    note: str = "",
) -> Commitment:
    """Mark an open commitment done or dropped; raises NotOpen when it is not open."""
    if commitment.status != CommitmentStatus.OPEN:
        raise NotOpen(commitment)
    return await change(
        uow, commitment, by=by, now=now, action=f"commitment.{status}", note=note or status, status=status
    )


async def add_note(
    uow: UnitOfWork, commitment: Commitment, by: int | None, now: dt.datetime, note: str
) -> Commitment:
    """Record progress on an open commitment; raises NotOpen when it is not open."""
    if commitment.status != "open":
        raise NotOpen(commitment)
    return await change(uow, commitment, by=by, now=now, action="commitment.updated", note=note, typed=note)


async def people_by_id(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, Person]:
    out = {}
    for person_id in set(ids):
        person = await uow.people.get(person_id)
        if person is not None:
            out[person_id] = person
    return out


async def visible_overdue(uow: UnitOfWork, person: Person, today: dt.date) -> list[Commitment]:
    """Commitments past due in the units the person may see."""
    units = {u.id: u for u in await uow.units.all()}
    return [
        c
        for c in await uow.commitments.overdue(today)
        if c.unit_id in units and can_read(person, units[c.unit_id])
    ]


# --- follow-ups ----------------------------------------------------------------------------


def default_due(ctx: OrgContext, today: dt.date) -> dt.date:
    day = today
    for _ in range(WORKING_DAYS_TO_ANSWER):
        day = ctx.calendar.next_working_day(day + dt.timedelta(days=1))
    return day


async def answerer(uow: UnitOfWork, unit: Unit, now: dt.datetime) -> Person:
    """Who owes the unit's answers today: the head, or the deputy while the head is away."""
    owner_id = unit.head_id
    local_today = now.astimezone(ZoneInfo(unit.timezone)).date()
    if any(p.covers(local_today) for p in await uow.away.for_person(unit.head_id)) and unit.deputy_id:
        owner_id = unit.deputy_id
    owner = await uow.people.get(owner_id)
    assert owner is not None and owner.id is not None
    return owner


async def ask(
    uow: UnitOfWork,
    asker: Person,
    unit: Unit,
    question: str,
    due_on: dt.date,
    now: dt.datetime,
    about: Mapping[str, str] | None = None,
) -> tuple[Commitment, Person]:
    """A follow-up owed by the unit's head (or deputy standing in), and the message that
    asks it; ``about`` names the digest item or escalation it came from, so the digest
    can count the leader's action.  Returns the follow-up and who owes the answer."""
    ctx = await load_context(uow)
    owner = await answerer(uow, unit, now)
    assert owner.id is not None
    followup = await open_commitment(
        uow,
        unit=unit,
        owner_id=owner.id,
        text=question[:1000],
        due_on=due_on,
        origin="followup",
        by=asker.id,
        now=now,
        note="asked",
        asked_by=asker.id,
        action="followup.asked",
        detail={"unit": unit.key, "question": question[:200], **await _about(uow, unit, about or {})},
    )
    await enqueue(
        uow,
        audience=Delivery.to_person(owner.id),
        message=cards.question_card(followup, asker, unit, question),
        key=f"followup:{followup.id}:asked",
        now=now,
        # Asked at night, it reaches the head at the start of their working day.
        not_before=ctx.calendar.next_working_moment(now, owner.timezone),
    )
    return followup, owner


async def _about(uow: UnitOfWork, unit: Unit, about: Mapping[str, str]) -> dict[str, str]:
    """What a question says it came from, kept only where it is true: a metric of the unit,
    a commitment or escalation about the unit.  The ids come from a button or a form, and
    the digest counts them as the leader's action on that item."""
    kept: dict[str, str] = {}
    metric, commitment = about.get("metric", ""), about.get("commitment", "")
    escalation = about.get("escalation", "")
    if metric and unit.id is not None and any(m.key == metric for m in await uow.metrics.for_unit(unit.id)):
        kept["metric"] = metric
    if _small_id(commitment):
        found = await uow.commitments.get(int(commitment))
        if found is not None and found.unit_id == unit.id:
            kept["commitment"] = commitment
    if _small_id(escalation):
        chain = await uow.escalations.get(int(escalation))
        if chain is not None and chain.unit_id == unit.id:
            kept["escalation"] = escalation
    return kept


def _small_id(value: str) -> bool:
    return value.isdigit() and len(value) < 19


async def answer(
    uow: UnitOfWork, person: Person, followup: Commitment, text: str, now: dt.datetime
) -> Commitment:
    """Store the answer (closing the follow-up) and send it to the leader who asked."""
    if followup.status != "open":
        raise NotOpen(followup)
    await change(
        uow,
        followup,
        by=person.id,
        now=now,
        action="followup.answered",
        note="answered",
        status=CommitmentStatus.DONE,
        answer=text[:3000],
    )
    asker = await uow.people.get(followup.asked_by) if followup.asked_by is not None else None
    if asker is not None and asker.id is not None:
        ctx = await load_context(uow)
        unit = await uow.units.get(followup.unit_id)
        await enqueue(
            uow,
            audience=Delivery.to_person(asker.id),
            message=cards.answer_card(followup, person, unit, text),
            key=f"followup:{followup.id}:answered",
            now=now,
            not_before=ctx.calendar.next_working_moment(now, asker.timezone),
        )
    return followup

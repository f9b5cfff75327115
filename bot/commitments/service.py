"""Commitments by command: create, close, update, list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.audit import AuditEntry
from bot.commitments.cards import commitments_card
from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from bot.commitments.record import open_commitment
from bot.messages import Reply
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, can_read, is_unit_member
from bot.ports import UnitOfWork


async def units_of(uow: UnitOfWork, person: Person) -> list[Unit]:
    """Units where the person is head or deputy."""
    return [u for u in await uow.units.all() if is_unit_member(person, u)]


async def create(uow: UnitOfWork, person: Person, text: str, due_on: dt.date, now: dt.datetime) -> Reply:
    units = await units_of(uow, person)
    if not units:
        raise NotAllowed(
            "Commitments belong to a unit, and you are not the head or deputy of one. "
            "Leaders can ask a unit instead: ask <unit> <question>."
        )
    unit = units[0]
    assert unit.id is not None and person.id is not None
    commitment = await open_commitment(
        uow,
        unit_id=unit.id,
        owner_id=person.id,
        text=text,
        due_on=due_on,
        origin="command",
        by=person.id,
        now=now,
    )
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="commitment.created",
            subject=f"commitment:{commitment.id}",
            detail={"text": text},
        )
    )
    await uow.commit()
    return Reply.text(f"Commitment #{commitment.id} for {unit.name}: {text} — due {due_on:%a %d %b %Y}.")


async def _editable(uow: UnitOfWork, person: Person, commitment_id: int) -> tuple[Commitment, Unit]:
    commitment = await uow.commitments.get(commitment_id)
    if commitment is None:
        raise NotAllowed(f"There is no commitment #{commitment_id}. `commitments` lists yours.")
    unit = await uow.units.get(commitment.unit_id)
    assert unit is not None
    if not can_read(person, unit):
        # Saying whose it is would reveal a restricted unit's business.
        raise NotAllowed(f"There is no commitment #{commitment_id} you can see. `commitments` lists yours.")
    if not (
        commitment.owner_id == person.id
        or is_unit_member(person, unit)
        or person.is_admin
        or person.id == unit.leader_id
    ):
        raise NotAllowed(
            f"#{commitment_id} belongs to {unit.name}; only its owner, the unit's head, deputy "
            "or leader, or an admin can change it."
        )
    return commitment, unit


async def close(
    uow: UnitOfWork,
    person: Person,
    commitment_id: int,
    now: dt.datetime,
    *,
    status: CommitmentStatus = CommitmentStatus.DONE,
    note: str = "",
    commit: bool = True,
) -> Reply:
    commitment, _ = await _editable(uow, person, commitment_id)
    if commitment.status != CommitmentStatus.OPEN:
        return Reply.text(f"#{commitment_id} is already {commitment.status}.")
    commitment.status, commitment.closed_at = status, now
    await _record_change(
        uow, commitment, person, now, note=note or str(status), action=f"commitment.{status}"
    )
    if commit:
        await uow.commit()
    return Reply.text(f"#{commitment_id} marked {status} by {person.name}: {commitment.text}")


async def update(uow: UnitOfWork, person: Person, commitment_id: int, note: str, now: dt.datetime) -> Reply:
    commitment, _ = await _editable(uow, person, commitment_id)
    if commitment.status != CommitmentStatus.OPEN:
        return Reply.text(f"#{commitment_id} is {commitment.status}; there is nothing to update.")
    await _record_change(uow, commitment, person, now, note=note, action="commitment.updated")
    await uow.commit()
    return Reply.text(f"Noted on #{commitment_id}: {note}")


async def _record_change(
    uow: UnitOfWork, commitment: Commitment, person: Person, now: dt.datetime, *, note: str, action: str
) -> None:
    """Every change of a commitment: the record (its quiet clock restarts), an entry in
    its append-only history, and the audit log."""
    assert commitment.id is not None
    commitment.updated_at = now
    await uow.commitments.save(commitment)
    await uow.commitments.add_update(
        CommitmentUpdate(
            commitment_id=commitment.id,
            at=now,
            by=person.id,
            status=commitment.status,
            due_on=commitment.due_on,
            note=note,
        )
    )
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action=action,
            subject=f"commitment:{commitment.id}",
            detail={"note": note},
        )
    )


async def _people(uow: UnitOfWork, ids: Sequence[int]) -> dict[int, Person]:
    out = {}
    for person_id in set(ids):
        person = await uow.people.get(person_id)
        if person is not None:
            out[person_id] = person
    return out


async def list_for(uow: UnitOfWork, person: Person, target: str | None, today: dt.date) -> Reply:
    """``commitments`` (mine / my unit's), ``commitments <unit>``, ``commitments @email``."""
    units = {u.id: u for u in await uow.units.all()}
    if target is None:
        mine = await units_of(uow, person)
        if mine:
            unit = mine[0]
            assert unit.id is not None
            items = list(await uow.commitments.open_for_unit(unit.id))
            title = f"Open commitments · {unit.name}"
        else:
            assert person.id is not None
            items = list(await uow.commitments.open_for_owner(person.id))
            title = "Your open commitments"
    elif target.startswith("@") or "@" in target:
        other = await uow.people.by_email(target.lstrip("@"))
        if other is None:
            raise NotAllowed(f"I don't know {target}. Use the person's email, e.g. @dana@city.gov.")
        assert other.id is not None
        items = [
            c for c in await uow.commitments.open_for_owner(other.id) if can_read(person, units[c.unit_id])
        ]
        title = f"Open commitments · {other.name}"
    else:
        unit = await find_unit(uow, target)
        if not can_read(person, unit):
            raise NotAllowed(f"{unit.name} is restricted: only its people and leaders can see it.")
        assert unit.id is not None
        items = list(await uow.commitments.open_for_unit(unit.id))
        title = f"Open commitments · {unit.name}"
    owners = await _people(uow, [c.owner_id for c in items])
    return Reply(messages=(commitments_card(title, items, owners, units, today),))


async def overdue(uow: UnitOfWork, person: Person, today: dt.date) -> Reply:
    units = {u.id: u for u in await uow.units.all()}
    items = [
        c
        for c in await uow.commitments.overdue(today)
        if c.unit_id in units and can_read(person, units[c.unit_id])
    ]
    owners = await _people(uow, [c.owner_id for c in items])
    return Reply(messages=(commitments_card("Overdue commitments", items, owners, units, today),))


async def find_unit(uow: UnitOfWork, name: str) -> Unit:
    wanted = name.strip().strip('"').lower()
    units = await uow.units.all()
    exact = [u for u in units if wanted in (u.key.lower(), u.name.lower())]
    if exact:
        return exact[0]
    partial = [u for u in units if wanted and (wanted in u.name.lower() or wanted in u.key.lower())]
    if len(partial) == 1:
        return partial[0]
    known = ", ".join(u.key for u in units)
    if partial:
        raise NotAllowed(f"{name!r} could be {', '.join(u.name for u in partial)}; say which. Units: {known}")
    raise NotAllowed(f"There is no unit {name!r}. Units: {known}")

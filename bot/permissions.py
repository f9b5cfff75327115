"""Who may do what.  A refusal always says why."""

from __future__ import annotations

from bot.org.models import Person, Unit


class NotAllowed(Exception):
    """The person may not do this; the message says why, in their words."""


def is_unit_member(person: Person, unit: Unit) -> bool:
    return person.id in (unit.head_id, unit.deputy_id)


def can_submit(person: Person, unit: Unit) -> bool:
    return is_unit_member(person, unit) or person.is_admin


def require_submit(person: Person, unit: Unit) -> None:
    if not can_submit(person, unit):
        raise NotAllowed(f"Only the head or deputy of {unit.name} (or an admin) can report for it.")


def can_read(person: Person, unit: Unit) -> bool:
    if not person.active:
        return False
    if not unit.restricted:
        return True
    return (
        is_unit_member(person, unit)
        or person.id == unit.leader_id
        or person.is_admin
        or "leader" in person.roles
    )


def require_read(person: Person, unit: Unit) -> None:
    if not can_read(person, unit):
        raise NotAllowed(f"{unit.name} is restricted: only its head, deputy and leaders can see its status.")

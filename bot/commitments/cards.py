"""Cards that list commitments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.commitments.models import Commitment
from bot.messages import Card, Fact, Facts, Heading, Note, Part, Status
from bot.org.models import Person, Unit


def due_status(commitment: Commitment, today: dt.date) -> Status:
    if commitment.due_on < today:
        return "red"
    if commitment.due_on <= today + dt.timedelta(days=2):
        return "amber"
    return "none"


def due_text(commitment: Commitment, today: dt.date) -> str:
    days = (commitment.due_on - today).days
    if days < 0:
        return f"overdue by {-days} day(s) (was due {commitment.due_on:%a %d %b})"
    if days == 0:
        return "due today"
    return f"due {commitment.due_on:%a %d %b}"


def commitments_card(
    title: str,
    items: Sequence[Commitment],
    owners: Mapping[int, Person],
    units: Mapping[int | None, Unit],
    today: dt.date,
) -> Card:
    parts: list[Part] = [Heading(text=title)]
    if not items:
        parts.append(Note(text="Nothing open."))
        return Card(parts=tuple(parts), summary=f"{title}: nothing open")
    facts = []
    for c in items[:60]:
        owner = owners.get(c.owner_id)
        unit = units.get(c.unit_id)
        who = ", ".join(x for x in (owner.name if owner else "", unit.name if unit else "") if x)
        facts.append(
            Fact(
                label=f"#{c.id} {c.text}", value=f"{due_text(c, today)} · {who}", status=due_status(c, today)
            )
        )
    parts.append(Facts(facts=tuple(facts)))
    if len(items) > 60:
        parts.append(Note(text=f"…and {len(items) - 60} more."))
    parts.append(Note(text="done <id> closes one; update <id> <note> records progress."))
    return Card(parts=tuple(parts), summary=f"{title}: {len(items)} open")

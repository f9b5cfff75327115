"""The person's home: what they owe and what is coming, in one glance (Slack's App Home
tab today; any platform with a home surface).  Read-only: every button on it goes
through the normal button path.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.checkins.cards import fill_button, local
from bot.checkins.models import CheckInState
from bot.digests.handlers import digest_for
from bot.messages import Button, Buttons, Card, Divider, Fact, Facts, Heading, Note, Part, paragraph
from bot.org.models import Person
from bot.ports import UnitOfWork

SHOW_DIGEST = "digest.show"
DIGEST_AUDIENCE = "leadership"
_STATE = {
    CheckInState.OPEN: "open — waiting for your numbers",
    CheckInState.SUBMITTED: "submitted",
    CheckInState.EXCUSED: "excused",
}


async def home_card(uow: UnitOfWork, person: Person, now: dt.datetime) -> Card:
    assert person.id is not None
    tz = ZoneInfo(person.timezone)
    today = now.astimezone(tz).date()
    parts: list[Part] = [Heading(text=f"Hi {person.name}")]

    # This week's check-ins: the ones this person answers for (head, deputy or stand-in).
    parts.append(Heading(text="Check-ins"))
    open_ids = set()
    for checkin in await uow.checkins.open_for_person(person.id):
        unit = await uow.units.get(checkin.unit_id)
        name = unit.name if unit else "?"
        open_ids.add(checkin.id)
        parts.append(
            Facts(
                facts=(
                    Fact(
                        label=f"{name} · {checkin.week}",
                        value=_STATE.get(checkin.state, checkin.state),
                        status="amber" if now < checkin.deadline_at else "red",
                    ),
                    Fact(label="Due", value=local(checkin.deadline_at, person.timezone)),
                )
            )
        )
        parts.append(Buttons(buttons=(fill_button(checkin),)))
    for unit in await uow.units.all():
        if person.id not in (unit.head_id, unit.deputy_id) or unit.id is None:
            continue
        latest = next(iter(await uow.checkins.for_unit(unit.id, limit=1)), None)
        if latest is None or latest.id in open_ids:
            continue
        state = _STATE.get(latest.state, latest.state) + (" (late)" if latest.late else "")
        parts.append(
            Facts(
                facts=(
                    Fact(
                        label=f"{unit.name} · {latest.week}",
                        value=state,
                        status="green" if latest.state != CheckInState.OPEN else "amber",
                    ),
                )
            )
        )
    if len(parts) == 2:
        parts.append(paragraph("Nothing to fill in right now. You will get a message when a check-in opens."))

    # Open commitments, soonest first.
    parts.append(Divider())
    parts.append(Heading(text="Your open commitments"))
    commitments = sorted(await uow.commitments.open_for_owner(person.id), key=lambda c: c.due_on)
    if not commitments:
        parts.append(paragraph("None. Add one with `commit <text> by <date>`."))
    for c in commitments[:20]:
        late = c.due_on < today
        parts.append(
            Facts(
                facts=(
                    Fact(
                        label=f"#{c.id} · due {c.due_on:%a %d %b}" + (" (overdue)" if late else ""),
                        value=c.text,
                        status="red" if late else "none",
                    ),
                )
            )
        )
    if len(commitments) > 20:
        parts.append(Note(text=f"…and {len(commitments) - 20} more: `commitments`."))

    if person.is_leader or "analyst" in person.roles:
        parts.append(Divider())
        parts.append(Heading(text="Latest digest"))
        digest = await uow.digests.latest(DIGEST_AUDIENCE)
        if digest is None:
            parts.append(paragraph("No digest has been built yet."))
        else:
            # The summary card of the digest as this person may see it (restricted
            # units they cannot read are left out), with its decision buttons.
            cards = (await digest_for(uow, person, digest.week, now)).messages
            if cards and isinstance(cards[0], Card):
                parts.extend(p for p in cards[0].parts if not isinstance(p, Heading))
            parts.append(
                Buttons(
                    buttons=(
                        Button(label="Show the whole digest", action=SHOW_DIGEST, ids={"week": digest.week}),
                    )
                )
            )
    updated = f"{now.astimezone(tz):%a %d %b %H:%M %Z}"
    parts.append(Note(text=f"Updated {updated}. `help` lists every command."))
    return Card(parts=tuple(parts), summary=f"statbot home for {person.name}")

"""The escalation message: what the item is, how long it has been quiet, who was
already asked, and one-click actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.durations import format_duration
from bot.escalations.models import Escalation
from bot.escalations.subject import Subject
from bot.messages import Button, Buttons, Card, Heading, Mention, Note, Part, Text, paragraph
from bot.org.models import Person

ACK, SNOOZE, DONE = "escalation.ack", "escalation.snooze", "escalation.done"
ASK = "followup.ask"

_WHO = {"owner": "the owner", "deputy": "the deputy", "leader": "the unit's leader", "channel": "leadership"}


def escalation_card(
    escalation: Escalation,
    subject: Subject,
    notify: str,
    recipient: Person | None,
    already: Sequence[Person],
    now: dt.datetime,
) -> Card:
    quiet = format_duration(now - subject.quiet_since)
    ids = {"escalation": str(escalation.id)}
    parts: list[Part] = [
        Heading(text=f"Needs attention · {subject.unit.name}"),
        paragraph(Text(text=subject.title, style="bold")),
        paragraph(f"Quiet for {quiet}."),
    ]
    owner = subject.owner
    if owner is not None and notify != "owner":
        parts.append(paragraph("Owner: ", Mention(email=owner.email, name=owner.name), "."))
    if already:
        spans: list[Text | Mention] = [Text(text="Already asked: ")]
        for i, person in enumerate(already):
            if i:
                spans.append(Text(text=", "))
            spans.append(Mention(email=person.email, name=person.name))
        spans.append(Text(text="."))
        parts.append(paragraph(*spans))
    buttons = [
        Button(label="Acknowledge", action=ACK, ids=ids, style="primary"),
        Button(label="Snooze 2 days", action=SNOOZE, ids={**ids, "days": "2"}),
    ]
    if subject.closable:
        buttons.append(Button(label="Mark done", action=DONE, ids=ids))
    if notify in ("leader", "channel"):
        buttons.append(Button(label="Ask the unit", action=ASK, ids={"unit": subject.unit.key, **ids}))
    parts.append(Buttons(buttons=tuple(buttons)))
    parts.append(
        Note(
            text=f"Sent to {_WHO.get(notify, notify)} by the {escalation.policy.get('name', '')} "
            "escalation policy. Acknowledging stops the reminders."
        )
    )
    return Card(parts=tuple(parts), summary=f"Needs attention: {subject.title}")

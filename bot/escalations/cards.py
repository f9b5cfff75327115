"""The escalation message: what the item is, how long it has been quiet, who was
already asked, and one-click actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.actions import Action
from bot.durations import format_duration
from bot.escalations.models import Escalation
from bot.escalations.subject import Subject
from bot.messages import Button, Buttons, Card, Heading, Mention, Note, Part, Text, paragraph
from bot.messages.text import possessive
from bot.org.models import Person

ACK, SNOOZE, DONE = Action.ESCALATION_ACK, Action.ESCALATION_SNOOZE, Action.ESCALATION_DONE
ASK, ANSWER, OPEN_FORM = Action.FOLLOWUP_ASK, Action.FOLLOWUP_ANSWER, Action.CHECKIN_OPEN

_WHO = {"owner": "the owner", "deputy": "the deputy", "leader": "the unit's leader", "channel": "leadership"}


def subject_title(subject: Subject) -> str:
    """What the escalation is about, in a line."""
    if subject.kind == "missed_checkin":
        return f"{possessive(subject.unit.name)} check-in for {subject.week} was not submitted"
    if subject.kind == "quiet_commitment":
        return f"Commitment #{subject.number} has had no update: {subject.text}"
    what = "Follow-up question" if subject.followup else "Commitment"
    return f"{what} #{subject.number} is past due: {subject.text}"


THIS_ITEM = "this item"


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
        paragraph(Text(text=subject_title(subject), style="bold")),
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
    buttons: list[Button] = []
    leading = notify in ("leader", "channel")
    if leading:
        # Only leaders can call a chain off: the people who owe the item answer it.
        buttons.append(Button(label="Acknowledge", action=ACK, ids=ids, style="primary"))
        buttons.append(Button(label="Snooze 2 days", action=SNOOZE, ids={**ids, "days": "2"}))
    elif escalation.kind == "missed_checkin":
        buttons.append(
            Button(
                label="Fill in the numbers",
                action=OPEN_FORM,
                ids={"checkin": str(escalation.subject_id)},
                style="primary",
            )
        )
    elif escalation.kind == "unanswered_followup":
        buttons.append(
            Button(
                label="Answer", action=ANSWER, ids={"commitment": str(escalation.subject_id)}, style="primary"
            )
        )
    if subject.closable:
        buttons.append(Button(label="Mark done", action=DONE, ids=ids))
    if leading:
        buttons.append(Button(label="Ask the unit", action=ASK, ids={"unit": subject.unit.key, **ids}))
    parts.append(Buttons(buttons=tuple(buttons)))
    stop = (
        "Acknowledging stops the reminders."
        if leading
        else "The reminders stop when the item is done; the next step goes further up."
    )
    parts.append(
        Note(
            text=f"Sent to {_WHO.get(notify, notify)} by the {escalation.policy.get('name', '')} "
            f"escalation policy. {stop}"
        )
    )
    return Card(parts=tuple(parts), summary=f"Needs attention: {subject_title(subject)}")


# --- replies to the buttons ----------------------------------------------------------------

GONE = "That escalation no longer exists."
ONLY_COMMITMENTS = "Only a commitment can be marked done from here."


def snooze_range_text(maximum: int) -> str:
    return f"Snooze for 1 to {maximum} days."


def already_text(escalation: Escalation, title: str, by: Person | None = None) -> str:
    who = f" by {by.name}" if by is not None else ""
    return f"Already {escalation.state}{who}: {title}."


def taken_first_text(escalation: Escalation, by: Person | None, title: str) -> str:
    """To the leader whose click lost a race: who got there first; nothing of theirs was
    recorded."""
    if escalation.state == "resolved" and by is None:
        # The sweep found the item settled (done, answered, submitted or given a new date).
        return (
            f"This settled itself a moment ago: what it was about was resolved ({title}). "
            "Your click changed nothing."
        )
    who = by.name if by is not None else "Someone else"
    if escalation.state == "snoozed" and escalation.snoozed_until is not None and by is not None:
        shown = escalation.snoozed_until.astimezone(ZoneInfo(by.timezone)).strftime("%a %d %b %H:%M")
        did = f"snoozed it until {shown}"
    else:
        did = {"acknowledged": "acknowledged it", "resolved": "marked it done"}.get(
            str(escalation.state), f"left it {escalation.state}"
        )
    return f"{who} got there first: {did} a moment ago ({title}). Your click changed nothing."


def acknowledged_text(person: Person, title: str) -> str:
    return f"Acknowledged by {person.name}: {title}. No more reminders about it."


def snoozed_text(wake: dt.datetime, person: Person, title: str) -> str:
    shown = wake.astimezone(ZoneInfo(person.timezone)).strftime("%a %d %b %H:%M")
    return f"Snoozed until {shown}: {title}."

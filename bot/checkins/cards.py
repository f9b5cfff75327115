"""Cards of the check-in cycle: prompts, reminders, receipts and status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.checkins.models import CheckIn
from bot.checkins.status import format_value, metric_status, target_text
from bot.commitments.models import Commitment
from bot.messages import Button, Buttons, Card, Fact, Facts, Heading, Mention, Note, Part, paragraph
from bot.messages.text import possessive
from bot.org.models import Metric, Person, Unit

OPEN_FORM = "checkin.open"


def local(instant: dt.datetime, tz: str) -> str:
    """``Fri 28 Nov 16:00 EST`` in the reader's zone."""
    return instant.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


def fill_button(checkin: CheckIn) -> Button:
    return Button(
        label="Fill in this week's numbers",
        action=OPEN_FORM,
        ids={"checkin": str(checkin.id)},
        style="primary",
    )


def prompt_card(
    checkin: CheckIn,
    unit: Unit,
    respondent: Person,
    *,
    standing_in_for: Person | None,
    metrics: Sequence[Metric],
    open_commitments: int,
    moved_note: str | None,
) -> Card:
    parts: list[Part] = [
        Heading(text=f"Weekly check-in · {unit.name} · {checkin.week}"),
        paragraph(
            "Hi ",
            Mention(email=respondent.email, name=respondent.name),
            f", it is time for {possessive(unit.name)} numbers for {checkin.week}: "
            + ", ".join(m.name for m in metrics)
            + ".",
        ),
    ]
    if standing_in_for is not None:
        parts.append(
            paragraph(
                "You are standing in for ",
                Mention(email=standing_in_for.email, name=standing_in_for.name),
                ", who is away.",
            )
        )
    if open_commitments:
        parts.append(paragraph(f"You also have {open_commitments} open commitment(s) to update."))
    due = f"Due {local(checkin.deadline_at, respondent.timezone)}."
    if moved_note:
        due += f" {moved_note}"
    example = ", ".join(f"{m.key} {m.target:g}" for m in metrics[:2])
    if example:
        due += f' You can also reply in one line, e.g. "{example}".'
    parts.append(Note(text=due))
    parts.append(Buttons(buttons=(fill_button(checkin),)))
    return Card(parts=tuple(parts), summary=f"Weekly check-in for {unit.name} ({checkin.week}) is open")


def reminder_card(checkin: CheckIn, unit: Unit, respondent: Person, now: dt.datetime, number: int) -> Card:
    if now < checkin.deadline_at:
        when = f"is due {local(checkin.deadline_at, respondent.timezone)}"
        summary = f"Reminder: {possessive(unit.name)} check-in for {checkin.week} is due soon"
    else:
        late = now - checkin.deadline_at
        hours = int(late.total_seconds() // 3600)
        ago = f"{hours // 24} day(s)" if hours >= 24 else f"{hours} hour(s)" if hours else "just now"
        when = (
            f"was due {local(checkin.deadline_at, respondent.timezone)} ({ago} ago); it will be marked late"
        )
        summary = f"{possessive(unit.name)} check-in for {checkin.week} is overdue"
    return Card(
        parts=(
            Heading(text=f"Reminder · {unit.name} · {checkin.week}"),
            paragraph(
                Mention(email=respondent.email, name=respondent.name),
                f", the check-in for {unit.name} {when}.",
            ),
            Buttons(buttons=(fill_button(checkin),)),
        ),
        summary=summary,
    )


def receipt_card(
    checkin: CheckIn,
    unit: Unit,
    metrics: Sequence[Metric],
    values: dict[str, float],
    *,
    edited: bool,
    changes: Sequence[str],
    new_commitment: Commitment | None,
) -> Card:
    facts = tuple(
        Fact(
            label=m.name,
            value=f"{format_value(m, values[m.key])} (target {target_text(m)})",
            status=metric_status(m, values[m.key]),
        )
        for m in metrics
        if m.key in values
    )
    verb = "Updated" if edited else "Thanks! Recorded"
    lead = f"{verb} {possessive(unit.name)} numbers for {checkin.week}"
    if checkin.late and not edited:
        lead += " (late)"
    parts: list[Part] = [paragraph(lead + "."), Facts(facts=facts)]
    # Corrections stay possible (each one is kept as a revision).
    edit = Button(label="Edit these numbers", action=OPEN_FORM, ids={"checkin": str(checkin.id)})
    if changes:
        parts.append(Note(text="Commitments: " + "; ".join(changes)))
    if new_commitment is not None:
        parts.append(
            Note(
                text=f"New commitment #{new_commitment.id}: {new_commitment.text} "
                f"(due {new_commitment.due_on:%a %d %b})"
            )
        )
    parts.append(Buttons(buttons=(edit,)))
    return Card(parts=tuple(parts), summary=lead)

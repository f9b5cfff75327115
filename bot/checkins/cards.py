"""Every word of the check-in cycle: prompts, reminders, receipts, replies to typed
answers and `status`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.actions import Action
from bot.checkins import forms
from bot.checkins.forms import CommitmentChange, MetricContext
from bot.checkins.models import CheckIn
from bot.checkins.service import UnitGlance, UnitWeek
from bot.checkins.status import format_value, metric_status, target_text
from bot.commitments.models import Commitment
from bot.messages import (
    Button,
    Buttons,
    Card,
    Fact,
    Facts,
    Heading,
    Mention,
    Note,
    Part,
    Sparkline,
    Status,
    paragraph,
)
from bot.messages.text import counted, possessive
from bot.org.models import Metric, Person, Unit

OPEN_FORM = Action.CHECKIN_OPEN


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


def moved_note(moved_from: dt.date | None, because: str | None) -> str | None:
    """Why this week's deadline is not on its usual day, if it is not."""
    if moved_from is None:
        return None
    return f"(Moved from {moved_from:%A} because of {because or 'a day off'}.)"


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
        parts.append(paragraph(f"You also have {counted(open_commitments, 'open commitment')} to update."))
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
        ago = counted(hours // 24, "day") if hours >= 24 else counted(hours, "hour") if hours else "just now"
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
    changes: Sequence[CommitmentChange],
    new_commitment: Commitment | None,
    lost: Sequence[str] = (),
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
    described = [d for d in (change_text(c) for c in changes) if d]
    if described:
        parts.append(Note(text="Commitments: " + "; ".join(described)))
    for each in lost:
        parts.append(Note(text=each))
    if new_commitment is not None:
        parts.append(
            Note(
                text=f"New commitment #{new_commitment.id}: {new_commitment.text} "
                f"(due {new_commitment.due_on:%a %d %b})"
            )
        )
    parts.append(Buttons(buttons=(edit,)))
    return Card(parts=tuple(parts), summary=lead)


def change_text(change: CommitmentChange) -> str:
    """How the receipt names what the form did to a commitment ("" for still on track)."""
    c = change.commitment
    if change.status == forms.DONE:
        return f"#{c.id} done"
    if change.status == forms.DROPPED:
        return f"#{c.id} dropped"
    if change.status == forms.MOVED and change.due_on is not None:
        return f"#{c.id} moved to {change.due_on:%a %d %b}"
    return ""


def taken_first_card(
    checkin: CheckIn, unit: Unit, by: Person | None, person: Person, *, edited: bool = False
) -> Card:
    """To the person whose submission (or correction) lost a race: who got there first,
    that their numbers are kept as a draft, and a button to edit the check-in with them."""
    who = by.name if by is not None else "Someone else"
    when = (
        f" at {local(checkin.submitted_at, person.timezone)}" if checkin.submitted_at and not edited else ""
    )
    did = "corrected" if edited else "submitted"
    parts: list[Part] = [
        Heading(text=f"{possessive(unit.name)} check-in for {checkin.week} was just {did}"),
        paragraph(
            f"{who} {did} it{when}, at the same moment as you, so your numbers were not stored. "
            "What you typed is kept as your draft: edit the check-in to compare and correct."
        ),
        Buttons(
            buttons=(
                Button(
                    label="Edit the check-in",
                    action=OPEN_FORM,
                    ids={"checkin": str(checkin.id)},
                    style="primary",
                ),
            )
        ),
    ]
    return Card(parts=tuple(parts), summary=f"{who} just {did} {possessive(unit.name)} check-in")


# --- refusals ------------------------------------------------------------------------------

CHECKIN_GONE = "That check-in no longer exists."
NOTHING_OPEN = "You have no open check-in right now. You will get a message when the next one opens."


def excused_text(unit: Unit, checkin: CheckIn) -> str:
    return f"{possessive(unit.name)} check-in for {checkin.week} was excused: {checkin.excuse}."


# --- answers typed as text -----------------------------------------------------------------

WHY_USAGE = "Write the explanation like: why backlog: two crews were out sick"
NO_NUMBERS = "I could not read any numbers."
DRAFT_BUSY = "Someone else is answering this check-in right now: nothing of yours was kept, send it again."
CONFIRM_WORDS = ("confirm", "yes", "confirmed")


def missing_text(week: str, missing: Sequence[str]) -> str:
    if not missing:
        return ""
    return f"\nStill needed for {week}: " + ", ".join(missing) + "."


def got_text(got: Sequence[str], missing: str) -> str:
    return "Got it: " + ", ".join(got) + "." + missing


def not_stored_text(metrics: Sequence[MetricContext], errors: dict[str, str]) -> str:
    lines = [_error_line(metrics, name, message) for name, message in errors.items()]
    return "Not stored yet:\n" + "\n".join(lines)


def _error_line(metrics: Sequence[MetricContext], name: str, message: str) -> str:
    kind, _, key = name.partition(".")
    label = next((c.metric.name for c in metrics if c.metric.key == key), key)
    if kind == "why":
        return f"• {label}: {message} Reply like: why {key}: <reason>"
    return f"• {label}: {message}"


def far_off_text(
    metrics: Sequence[MetricContext], values: dict[str, float], outliers: dict[str, float]
) -> str:
    lines = []
    for c in metrics:
        if c.metric.key in outliers:
            ratio = outliers[c.metric.key]
            times = "far from" if ratio == float("inf") else f"{ratio:.0f}× away from"
            lines.append(
                f"{c.metric.name}: {format_value(c.metric, values[c.metric.key])} is "
                f"{times} recent weeks (target {target_text(c.metric)})."
            )
    return "\n".join(lines) + "\nReply `confirm` to keep it, or send the corrected value."


# --- status --------------------------------------------------------------------------------


def checkin_state(checkin: CheckIn | None, tz: str) -> tuple[str, Status]:
    if checkin is None:
        return "not opened yet", "none"
    match checkin.state:
        case "submitted" if checkin.submitted_at is not None:
            late = " (late)" if checkin.late else " on time"
            return f"submitted{late} {local(checkin.submitted_at, tz)}", "amber" if checkin.late else "green"
        case "excused":
            return f"excused: {checkin.excuse}", "none"
        case _:
            return f"open, due {local(checkin.deadline_at, tz)}", "none"


def unit_card(view: UnitWeek, tz: str) -> Card:
    """One unit this week: its check-in, every metric against target with its trend, and
    its open commitments."""
    unit, week, weeks = view.unit, view.week, view.weeks
    state, state_status = checkin_state(view.checkin, tz)
    checkin_facts = [Fact(label="Check-in", value=state, status=state_status)]
    # An earlier week still open is late and matters more than this week's.
    for older in view.still_open:
        due = local(older.deadline_at, tz)
        checkin_facts.append(
            Fact(label=f"Still open: {older.week}", value=f"late, was due {due}", status="red")
        )
    parts: list[Part] = [Heading(text=f"{unit.name} · {week}"), Facts(facts=tuple(checkin_facts))]
    facts = []
    sparks = []
    for m in view.metrics:
        series = view.series.get(m.id or 0, {})
        latest_week = next((w for w in reversed(weeks) if w in series), None)
        value = series.get(latest_week) if latest_week else None
        when = "" if latest_week in (None, week) else f" ({latest_week})"
        facts.append(
            Fact(
                label=m.name,
                value=f"{format_value(m, value)}{when} · target {target_text(m)}",
                status=metric_status(m, value),
            )
        )
        if series:  # a metric without readings is said once, by its fact line
            sparks.append(
                Sparkline(
                    label=m.name, values=tuple(series.get(w) for w in weeks), status=metric_status(m, value)
                )
            )
    if facts:
        parts.append(Facts(facts=tuple(facts)))
        parts.extend(sparks)
    parts.append(Note(text=f"{counted(view.open_commitments, 'open commitment')}, {view.overdue} overdue."))
    return Card(parts=tuple(parts), summary=f"{unit.name} {week}: {state}")


def overview_card(glances: Sequence[UnitGlance], tz: str) -> Card:
    facts = []
    for glance in glances:
        state, state_status = checkin_state(glance.checkin, tz)
        extra = f" · {counted(glance.off_target, 'metric')} off target" if glance.off_target else ""
        status: Status = "red" if glance.off_target else state_status
        facts.append(Fact(label=glance.unit.name, value=state + extra, status=status))
    return Card(
        parts=(
            Heading(text="All units this week"),
            Facts(facts=tuple(facts)),
            Note(text="status <unit> shows one unit in detail."),
        ),
        summary=f"{len(facts)} units",
    )

"""Every word about commitments and follow-ups: lists, replies, the question and the
answer messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.actions import Action
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
    Status,
    Text,
    paragraph,
)
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
        return f"overdue by {-days} {'day' if days == -1 else 'days'} (was due {commitment.due_on:%a %d %b})"
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


def questions_card(
    items: Sequence[Commitment],
    people: Mapping[int, Person],
    units: Mapping[int | None, Unit],
    today: dt.date,
) -> Card:
    """Leaders' questions waiting for an answer: listed apart from commitments, because
    only an answer closes one."""
    title = "Questions waiting for an answer"
    facts = []
    for c in items[:60]:
        asker = people.get(c.asked_by) if c.asked_by is not None else None
        owner = people.get(c.owner_id)
        unit = units.get(c.unit_id)
        who = ", ".join(x for x in (owner.name if owner else "", unit.name if unit else "") if x)
        by = f"asked by {asker.name} · " if asker else ""
        facts.append(
            Fact(
                label=f"#{c.id} {c.text}",
                value=f"{by}answer {due_text(c, today)} · {who}",
                status=due_status(c, today),
            )
        )
    parts: list[Part] = [Heading(text=title), Facts(facts=tuple(facts))]
    if len(items) > 60:
        parts.append(Note(text=f"…and {len(items) - 60} more."))
    parts.append(Note(text="done <id> opens the answer form: a question is closed by its answer."))
    parts.append(
        Buttons(
            buttons=tuple(
                Button(label=f"Answer #{c.id}", action=Action.FOLLOWUP_ANSWER, ids={"commitment": str(c.id)})
                for c in items[:5]
            )
        )
    )
    return Card(parts=tuple(parts), summary=f"{title}: {len(items)}")


ANSWER_TO_CLOSE = "A question is closed by its answer: write it here and it goes to the leader who asked."


def withdrawn_text(question: Commitment) -> str:
    return f"You withdrew question #{question.id}: “{question.text[:80]}”. Nobody owes you its answer now."


# --- replies to commands -------------------------------------------------------------------


def created_text(commitment: Commitment, unit: Unit) -> str:
    due = f"{commitment.due_on:%a %d %b %Y}"
    return f"Commitment #{commitment.id} for {unit.name}: {commitment.text} — due {due}."


def closed_text(commitment: Commitment, person: Person) -> str:
    return f"#{commitment.id} marked {commitment.status} by {person.name}: {commitment.text}"


def already_closed_text(commitment: Commitment) -> str:
    return f"#{commitment.id} is already {commitment.status}."


# What the winner of a race did, by its audit action, for the person who lost it.
_DID = {
    "commitment.done": "marked it done",
    "commitment.dropped": "dropped it",
    "commitment.moved": "moved it to another date",
    "commitment.updated": "updated it",
    "followup.answered": "answered it",
    "escalation.done": "marked it done",
}
_TRIED = {
    "followup.answered": "Your answer was not sent",
    "commitment.updated": "Your note was not recorded",
}


def taken_first_text(
    commitment: Commitment, by: Person | None, action: str, tried: str, typed: str | None = None
) -> str:
    """To the person whose change lost a race: who got there first, and that nothing of
    theirs was recorded."""
    who = by.name if by is not None else "Someone else"
    what = "follow-up" if commitment.origin == "followup" else "commitment"
    did = _DID.get(action, "changed it")
    due = f", due {commitment.due_on:%a %d %b}" if commitment.status == "open" else ""
    lost = _TRIED.get(tried, "Your change was not recorded")
    kept = f" What you wrote: {typed}" if typed else ""
    return (
        f"{who} got there first: {did} a moment ago ({what} #{commitment.id} is now "
        f"{commitment.status}{due}). {lost}.{kept}"
    )


def noted_text(commitment: Commitment, note: str) -> str:
    return f"Noted on #{commitment.id}: {note}"


def nothing_to_update_text(commitment: Commitment) -> str:
    return f"#{commitment.id} is {commitment.status}; there is nothing to update."


def no_such_commitment(commitment_id: int) -> str:
    return f"There is no commitment #{commitment_id}. `commitments` lists yours."


def no_such_visible_commitment(commitment_id: int) -> str:
    # Saying whose it is would reveal a restricted unit's business.
    return f"There is no commitment #{commitment_id} you can see. `commitments` lists yours."


def not_yours_to_change(commitment_id: int, unit: Unit) -> str:
    return (
        f"#{commitment_id} belongs to {unit.name}; only its owner, the unit's head, deputy "
        "or leader, or an admin can change it."
    )


def unknown_person_text(target: str) -> str:
    return f"I don't know {target}. Use the person's email, e.g. @dana@city.gov."


def restricted_list_text(unit: Unit) -> str:
    return f"{unit.name} is restricted: only its people and leaders can see it."


def unit_title(unit: Unit) -> str:
    return f"Open commitments · {unit.name}"


def person_title(person: Person) -> str:
    return f"Open commitments · {person.name}"


YOUR_TITLE = "Your open commitments"
OVERDUE_TITLE = "Overdue commitments"


def nothing_overdue_card(not_due: Sequence[Commitment]) -> Card:
    """`overdue` when nothing is: say whether open commitments are still to come."""
    if not not_due:
        text = "Nothing is overdue, and no commitment is open."
    else:
        first = min(c.due_on for c in not_due)
        count = f"{len(not_due)} open commitment" + ("s are" if len(not_due) > 1 else " is")
        text = (
            f"Nothing is overdue. {count} not due yet (the next on {first:%a %d %b}): "
            "`commitments` lists them."
        )
    return Card(parts=(Heading(text=OVERDUE_TITLE), Note(text=text)), summary=text)


# --- follow-ups ----------------------------------------------------------------------------

NO_QUESTION = "What is the question? e.g. ask streets Why did the backlog double?"
QUESTION_GONE = "That question no longer exists."
WRITE_THE_QUESTION = "Write the question."
WRITE_THE_ANSWER = "Write your answer."


def already_answered(commitment_id: int) -> str:
    return f"Follow-up #{commitment_id} is closed already (answered or withdrawn)."


def asked_text(followup: Commitment, owner: Person, unit: Unit, question: str) -> str:
    return (
        f"Asked {owner.name} ({unit.name}), answer due {followup.due_on:%a %d %b}: {question} "
        f"(follow-up #{followup.id})"
    )


PROMISE_NEEDS_A_DATE = "By when? A promise is tracked with its date."
DATE_NEEDS_A_PROMISE = "What will be done by then? Leave both empty when the answer promises nothing."
NO_PROMISE_FOUND = "I found no promise with a date in that answer: commit <text> by <date> tracks one."


def answered_and_tracked_text(commitment_id: int, tracked: Commitment) -> str:
    return (
        f"Thanks, your answer to follow-up #{commitment_id} was sent. Your promise is tracked as "
        f"commitment #{tracked.id}: {tracked.text} — due {tracked.due_on:%a %d %b}."
    )


def answered_offer_tracking(commitment_id: int, promise: str, due: dt.date) -> Card:
    """The answer names a date: one click tracks it as a commitment."""
    return Card(
        parts=(
            paragraph(f"Thanks, your answer to follow-up #{commitment_id} was sent."),
            paragraph("It promises “", Text(text=promise, style="italic"), f"” by {due:%a %d %b}."),
            Buttons(
                buttons=(
                    Button(
                        label="Track this",
                        action=Action.FOLLOWUP_TRACK,
                        ids={"commitment": str(commitment_id)},
                        style="primary",
                    ),
                )
            ),
            Note(text="Tracked, it shows in the digest's promised vs delivered."),
        ),
        summary=f"Answer to follow-up #{commitment_id} sent; track its promise?",
    )


def tracked_text(tracked: Commitment) -> str:
    return f"Tracked as commitment #{tracked.id}: {tracked.text} — due {tracked.due_on:%a %d %b}."


def already_tracked_text(tracked: Commitment, by: Person | None) -> str:
    who = f" (tracked by {by.name})" if by is not None else ""
    return f"That promise is tracked already: commitment #{tracked.id}, due {tracked.due_on:%a %d %b}{who}."


def tracked_first_text(tracked: Commitment, by: Person | None) -> str:
    who = by.name if by is not None else "Someone else"
    return (
        f"{who} got there first: that promise is tracked already as commitment #{tracked.id}, "
        f"due {tracked.due_on:%a %d %b}. Nothing more was recorded."
    )


def answered_text(commitment_id: int) -> str:
    return f"Thanks, your answer to follow-up #{commitment_id} was sent."


def question_card(followup: Commitment, asker: Person, unit: Unit, question: str) -> Card:
    """The question as the unit head receives it, with its Answer button."""
    return Card(
        parts=(
            Heading(text=f"Question from {asker.name}"),
            paragraph(Mention(email=asker.email, name=asker.name), " asks ", unit.name, ":"),
            paragraph(Text(text=question, style="italic")),
            Note(text=f"Please answer by {followup.due_on:%a %d %b}. Follow-up #{followup.id}."),
            Buttons(
                buttons=(
                    Button(
                        label="Answer",
                        action=Action.FOLLOWUP_ANSWER,
                        ids={"commitment": str(followup.id)},
                        style="primary",
                    ),
                )
            ),
        ),
        summary=f"{asker.name} asks {unit.name}: {question[:100]}",
    )


def answer_card(followup: Commitment, person: Person, unit: Unit | None, text: str) -> Card:
    """The answer as the leader who asked receives it."""
    return Card(
        parts=(
            Heading(text=f"Answer from {unit.name if unit else 'the unit'}"),
            paragraph(Mention(email=person.email, name=person.name), " answered your question:"),
            paragraph(Text(text=followup.text, style="italic")),
            paragraph(text),
        ),
        summary=f"{person.name} answered: {text[:100]}",
    )

"""Every word about stat sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.actions import Action
from bot.messages import (
    Attachment,
    Button,
    Buttons,
    Card,
    ChoiceInput,
    DateInput,
    Fact,
    Facts,
    Form,
    Heading,
    Note,
    Option,
    Part,
    TextInput,
    paragraph,
)
from bot.messages.model import with_code
from bot.messages.text import possessive
from bot.org.models import Person, Unit
from bot.sessions.markdown import literal
from bot.sessions.models import ItemKind, SessionItem, SessionState, StatSession

if TYPE_CHECKING:
    from bot.sessions.ledger import LedgerFigures
    from bot.sessions.memo import MemoFacts

NO_REASON = "Say why the session is cancelled: session cancel <id> <reason>"
LIST_HINT = (
    "session <unit> <date> <time> schedules one · session cancel <id> <reason> · "
    "session chair <id> <person> hands the chair to someone else"
)


def when(session: StatSession, tz: str) -> str:
    return f"{session.starts_at.astimezone(ZoneInfo(tz)):%a %d %b %H:%M %Z}"


def _name(people: Mapping[int, Person], person_id: int | None) -> str:
    person = people.get(person_id) if person_id is not None else None
    return person.name if person is not None else "someone no longer in the org file"


def chair_text(session: StatSession, people: Mapping[int, Person]) -> str:
    chair = f"chaired by {_name(people, session.chair_id)}"
    if session.delegated:
        chair += f" (delegated by {_name(people, session.scheduled_chair_id)})"
    return chair


def sessions_card(
    sessions: Sequence[StatSession],
    units: Mapping[int, Unit],
    people: Mapping[int, Person],
    tz: str,
    *,
    hint: bool = True,
) -> Card:
    """The upcoming sessions; ``hint``: the commands that change them, for those who may."""
    hints: tuple[Part, ...] = (Note(text=LIST_HINT),) if hint else ()
    if not sessions:
        return Card(
            parts=(
                Heading(text="Upcoming stat sessions"),
                paragraph("No session is planned in the next six weeks that you take part in or may see."),
                *hints,
            ),
            summary="No upcoming stat sessions",
        )
    facts = []
    for s in sessions:
        unit = units.get(s.unit_id)
        label = f"#{s.id} · {unit.name if unit else '?'} · {when(s, tz)}"
        if s.state == SessionState.CANCELLED:
            by = f" by {_name(people, s.cancelled_by)}" if s.cancelled_by is not None else ""
            facts.append(Fact(label=label, value=f"cancelled{by}: {s.cancel_reason}", status="amber"))
        else:
            facts.append(Fact(label=label, value=chair_text(s, people), status="none"))
    return Card(
        parts=(Heading(text="Upcoming stat sessions"), Facts(facts=tuple(facts)), *hints),
        summary=f"Upcoming stat sessions: {len(sessions)}",
    )


def scheduled_text(session: StatSession, unit: Unit, chair: Person, tz: str) -> str:
    return f"Scheduled session #{session.id}: {unit.name}, {when(session, tz)}, chaired by {chair.name}."


def cancelled_text(session: StatSession, unit: Unit, tz: str) -> str:
    return f"Cancelled session #{session.id} ({unit.name}, {when(session, tz)}): {session.cancel_reason}"


def cancelled_card(session: StatSession, unit: Unit, by: Person, tz: str) -> Card:
    text = (
        f"The stat session about {unit.name} on {when(session, tz)} (#{session.id}) is cancelled "
        f"by {by.name}: {session.cancel_reason}"
    )
    return Card(parts=(paragraph(text),), summary=f"Stat session #{session.id} cancelled")


def day_off_reason(holiday: str | None, held_at: dt.datetime, skipped: bool, tz: str) -> str:
    """Why a meeting stored on a series' own day was withdrawn: the day is off."""
    day = holiday or "not a working day"
    if skipped:
        return f"{day}: no working day before the series' next meeting, so this one is skipped"
    return f"{day}: the meeting moves to {held_at.astimezone(ZoneInfo(tz)):%a %d %b %H:%M %Z}"


def delegated_text(session: StatSession, unit: Unit, chair: Person, tz: str) -> str:
    return (
        f"{chair.name} now chairs session #{session.id} ({unit.name}, {when(session, tz)}); "
        "recorded as a delegation."
    )


def delegated_card(session: StatSession, unit: Unit, by: Person, tz: str) -> Card:
    text = (
        f"{by.name} asks you to chair the stat session about {unit.name} on {when(session, tz)} "
        f"(#{session.id})."
    )
    return Card(parts=(paragraph(text),), summary=f"You chair stat session #{session.id}")


def unknown_session(number: int) -> str:
    return f"There is no session #{number} that you may see. `session` lists the upcoming ones."


def not_yours(session: StatSession, unit: Unit, people: Mapping[int, Person]) -> str:
    """Who may cancel or hand over the session, by name (bot/permissions.py has the rule)."""
    roles: dict[int, list[str]] = {}
    who = [(session.chair_id, "its chair")]
    if session.delegated:
        who.append((session.scheduled_chair_id, "the chair it was scheduled with"))
    who.append((unit.leader_id, f"{possessive(unit.name)} leader"))
    for person_id, role in who:
        if person_id in people:
            roles.setdefault(person_id, []).append(role)
    named = [f"{people[p].name} ({' and '.join(r)})" for p, r in roles.items()]
    return (
        f"Only {', '.join([*named, 'an analyst'])} or an admin can cancel or hand over "
        f"session #{session.id}; nothing was changed."
    )


def already(session: StatSession) -> str:
    return f"Session #{session.id} is {session.state} already; nothing was changed."


def begun(session: StatSession) -> str:
    return f"Session #{session.id} has begun; it can no longer be cancelled or handed over."


def in_the_past(unit: Unit) -> str:
    return f"That moment has passed: give a date and time to come for the session about {unit.name}."


def too_far(unit: Unit) -> str:
    return f"A session about {unit.name} can be scheduled at most a year ahead."


def clash(unit: Unit, tz: str, at: dt.datetime) -> str:
    return f"{unit.name} already has a session at {at.astimezone(ZoneInfo(tz)):%a %d %b %H:%M %Z}."


def same_chair(session: StatSession, chair: Person) -> str:
    return f"{chair.name} already chairs session #{session.id}."


def cannot_chair(chair: Person, unit: Unit) -> str:
    return f"{chair.name} cannot chair a session about {unit.name}: they may not see the unit."


def taken_first(session: StatSession, people: Mapping[int, Person]) -> str:
    if session.state == SessionState.CANCELLED:
        did = f"{_name(people, session.cancelled_by)} cancelled it"
    else:
        did = f"it is now {chair_text(session, people)}"
    return f"Someone got there first: {did} a moment ago (session #{session.id}). Your change was not made."


# --- during the session ----------------------------------------------------------------------

NO_SESSION_UNDER_WAY = (
    "No session you chair (or, as an analyst, may record) is under way now; "
    "`session` lists the upcoming ones."
)


def unknown_owner(typed: str) -> str:
    return f"I don't know {typed}. Name whose promise it is by e-mail, e.g. @robert.hayes@riverton.gov."


def owner_cannot_see(owner: Person, unit: Unit) -> str:
    return f"{owner.name} cannot make a promise for {unit.name}: they may not see the unit."


def due_passed(due: dt.date) -> str:
    return f"{due:%a %d %b %Y} has passed: give a date to come."


def _when_due(item: SessionItem) -> str:
    return f"by {item.due_on:%a %d %b}" if item.due_on is not None else "by the next session"


def captured_text(item: SessionItem, session: StatSession, unit: Unit, owner: Person | None = None) -> str:
    what = {
        ItemKind.PROMISE: "promise",
        ItemKind.DECISION: "decision",
        ItemKind.REQUEST: "request for data",
        ItemKind.NOTE: "note",
    }[item.kind]
    text = f"Recorded {what} #{item.id} in session #{session.id} ({unit.name}): {item.text}"
    if item.kind == ItemKind.PROMISE and owner is not None:
        text += f", {owner.name} {_when_due(item)}; tracked as commitment #{item.commitment_id}"
    elif item.kind == ItemKind.REQUEST:
        text += f", {_when_due(item)}"
    return text + "."


def promised_card(item: SessionItem, session: StatSession, unit: Unit, owner: Person) -> Card:
    text = (
        f"At the stat session about {unit.name} on {when(session, owner.timezone)} you promised: "
        f"{item.text}, {_when_due(item)}. It is tracked as commitment #{item.commitment_id}: "
        f"`done {item.commitment_id}` or `update {item.commitment_id} <note>`."
    )
    return Card(parts=(with_code(text),), summary=f"Your promise at the {unit.name} stat session")


def requested_card(item: SessionItem, session: StatSession, unit: Unit) -> Card:
    text = (
        f"The stat session about {unit.name} asks for: {item.text}, {_when_due(item)}. "
        f"Send it with `provide {item.id} <the data or a link>`."
    )
    return Card(parts=(with_code(text),), summary=f"Data requested at the {unit.name} stat session")


def ended_meanwhile(session: StatSession, people: Mapping[int, Person], typed: str = "") -> str:
    """To whoever recorded in (or closed) a session that someone else ended meanwhile."""
    if session.state == SessionState.CANCELLED:
        did = f"{_name(people, session.cancelled_by)} cancelled session #{session.id}"
    else:
        did = f"{_name(people, session.closed_by)} closed session #{session.id}"
    kept = f" What you typed: {typed}" if typed else ""
    return f"{did} a moment ago; nothing of yours was recorded.{kept}"


def unknown_request(number: int) -> str:
    return f"There is no request #{number} of a session that you may see."


def not_the_units(unit: Unit) -> str:
    return f"Only {unit.name}'s head or deputy provide what its sessions request."


def provided_already(item: SessionItem, people: Mapping[int, Person]) -> str:
    return (
        f"{_name(people, item.answered_by)} provided request #{item.id} already; nothing was changed."
        if item.answered_by is not None
        else f"Request #{item.id} was provided already; nothing was changed."
    )


def provided_text(item: SessionItem, unit: Unit) -> str:
    return f"Thanks: request #{item.id} ({item.text}) is provided, and the chair is told."


def provided_card(item: SessionItem, session: StatSession, unit: Unit, by: Person) -> Card:
    return Card(
        parts=(
            paragraph(
                f"{by.name} ({unit.name}) provided what session #{session.id} requested ({item.text}):"
            ),
            paragraph(item.answer or ""),
        ),
        summary=f"{unit.name} provided request #{item.id}",
    )


# --- the memo -----------------------------------------------------------------------------------


def _memo_title(facts: MemoFacts, tz: str) -> str:
    return f"Follow-up memo: {facts.unit.name} stat session, {when(facts.session, tz)}"


def _person(facts: MemoFacts, person_id: int | None) -> str:
    return _name(facts.people, person_id)


def _memo_lines(facts: MemoFacts) -> list[tuple[str, list[str]]]:
    """(section heading, its lines) in the memo's order; empty sections are said so."""
    items = facts.items
    promises = [
        f"#{i.commitment_id} {_person(facts, i.owner_id)}: {i.text}, {_when_due(i)}"
        for i in items.get(ItemKind.PROMISE, [])
    ]
    requests = [
        f"#{i.id} {i.text}, {_when_due(i)}" + (" (provided)" if i.answered_at else "")
        for i in items.get(ItemKind.REQUEST, [])
    ]
    return [
        ("Promises made by the unit", promises or ["None."]),
        ("Requests for data", requests or ["None."]),
        ("Decisions", [i.text for i in items.get(ItemKind.DECISION, [])] or ["None."]),
        ("Notes", [i.text for i in items.get(ItemKind.NOTE, [])] or ["None."]),
        *((("Added by the chair", list(facts.added)),) if facts.added else ()),
    ]


def _attendance(facts: MemoFacts) -> str:
    session = facts.session
    chair = chair_text(session, facts.people)
    attendees = ", ".join(_person(facts, a) for a in session.attendees) or "nobody else"
    return f"{chair[0].upper()}{chair[1:]}; attending: {attendees}."


def memo_markdown(facts: MemoFacts) -> str:
    """The memo as a printable document (what is kept)."""
    tz = facts.unit.timezone
    out = [f"# {literal(_memo_title(facts, tz))}", "", literal(_attendance(facts)), ""]
    for heading, lines in _memo_lines(facts):
        out += [f"## {heading}", "", *(f"- {literal(line)}" for line in lines), ""]
    out.append("Promises are tracked as commitments: reminders and escalations apply to them.")
    return "\n".join(out) + "\n"


def memo_card(facts: MemoFacts, tz: str, *, draft: bool, attached: Attachment | None = None) -> Card:
    parts: list[Part] = [
        Heading(text=("Draft — " if draft else "") + _memo_title(facts, tz)),
        paragraph(_attendance(facts)),
    ]
    for heading, lines in _memo_lines(facts):
        parts.append(
            Facts(
                facts=tuple(Fact(label=heading if n == 0 else "", value=line) for n, line in enumerate(lines))
            )
        )
    if draft:
        parts.append(
            Note(
                text="Approve it to send it to the unit's head and deputy and the attendees; "
                f"`memo {facts.session.id} add <text>` adds a line first."
            )
        )
        parts.append(
            Buttons(
                buttons=(
                    Button(
                        label="Approve and send",
                        action=Action.MEMO_APPROVE,
                        ids={"session": str(facts.session.id)},
                    ),
                )
            )
        )
    if attached is not None:
        parts.append(attached)
    return Card(parts=tuple(parts), summary=("Draft memo: " if draft else "Memo: ") + facts.unit.name)


def memo_late_card(facts: MemoFacts, tz: str) -> Card:
    card = memo_card(facts, tz, draft=True)
    late = paragraph(
        f"The memo of session #{facts.session.id} ({facts.unit.name}) is still a draft two working days "
        "after the session: the unit is waiting for it."
    )
    return Card(parts=(late, *card.parts), summary=f"Memo not sent: {facts.unit.name} stat session")


def closed_text(session: StatSession, unit: Unit) -> str:
    return (
        f"Closed session #{session.id} ({unit.name}). The draft memo is below; "
        "the chair approves it to send it."
    )


def no_memo_yet(session: StatSession) -> str:
    return (
        f"Session #{session.id} has no memo yet: it is drafted when the session is closed (`session close`)."
    )


def memo_not_sent(session: StatSession) -> str:
    return f"The memo of session #{session.id} is not approved yet; you will get it when it is."


def only_the_chair(session: StatSession) -> str:
    return f"Only the chair of session #{session.id} approves its memo."


_MEMO_DID = {
    "session.memo_edited": "added a line to",
    "session.memo_sent": "approved and sent",
    "session.memo_late": "escalated, two working days after the session,",
}


def _memo_taken(session: StatSession, by: Person | None, action: str) -> str:
    who = by.name if by is not None else "statbot"
    return (
        f"Someone got there first: {who} {_MEMO_DID.get(action, 'changed')} the memo of session "
        f"#{session.id} a moment ago."
    )


def memo_changed_meanwhile(session: StatSession, by: Person | None, action: str) -> str:
    return (
        f"{_memo_taken(session, by, action)} Your line was not added; `memo {session.id}` shows the "
        "memo as it is now."
    )


def memo_not_approved(session: StatSession, by: Person | None, action: str) -> str:
    if action == "session.memo_sent":
        return memo_sent_already(session)
    return (
        f"{_memo_taken(session, by, action)} Nothing was sent; `memo {session.id}` shows the memo "
        "as it is now, to approve."
    )


def memo_sent_already(session: StatSession) -> str:
    return f"The memo of session #{session.id} was sent already; nothing was changed."


def memo_sent_text(session: StatSession, readers: list[str]) -> str:
    return f"Sent the memo of session #{session.id} to {', '.join(readers) or 'nobody'}."


# --- the leader attention ledger ---------------------------------------------------------------

LEDGER_FOR = "The ledger is for leaders (their own) and analysts; `ledger @<email>` names a leader."


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} h" if value < 48 else f"{value / 24:.1f} days"


def ledger_card(leader: Person, figures: Sequence[LedgerFigures]) -> Card:
    def each(text: Callable[[LedgerFigures], str]) -> str:
        return " · ".join(f"{f.weeks} weeks: {text(f)}" for f in figures)

    facts = (
        Fact(
            label="Sessions held",
            value=each(
                lambda f: (
                    f"{f.held} of {f.scheduled}" + (f" ({f.cancelled} cancelled)" if f.cancelled else "")
                )
            ),
        ),
        Fact(label="Chaired in person", value=each(lambda f: f"{f.in_person}, delegated {f.delegated}")),
        Fact(label="Memos sent on time", value=each(lambda f: f"{f.memos_on_time} of {f.memos_due}")),
        Fact(
            label="Escalations acted on",
            value=each(lambda f: f"{f.acted_on} of {f.escalations}, median {_hours(f.median_hours_to_act)}"),
        ),
        Fact(label="Questions answered", value=each(lambda f: f"{f.answered} of {f.asked} asked")),
    )
    return Card(
        parts=(
            Heading(text=f"Leader attention ledger: {leader.name}"),
            Facts(facts=facts),
            Note(text="Shown to leaders and analysts only, never in a channel."),
        ),
        summary=f"Leader attention ledger: {leader.name}",
    )


# --- decisions on repeated exceptions ---------------------------------------------------------

NO_SUCH_DECISION = "That choice is out of date: the brief it came from no longer shows the exception."
DECISION_NEEDS_TEXT = {
    "directive": "Say what is to be done.",
    "resources": "Say what resources, and from where.",
    "escalate": "Say to whom, and what is asked of them.",
    "accept": "Say why it is accepted.",
}
_DECISION_LABEL = {
    "directive": "What is to be done",
    "resources": "What resources, from where",
    "escalate": "Escalated to whom, asking what",
    "accept": "Why it is accepted",
}


def decision_card(session: StatSession, unit: Unit, exception: str, metric: str, weeks: int) -> Card:
    ids = {"session": str(session.id), "exception": exception}
    labels = {"directive": "Directive", "resources": "Resources", "escalate": "Escalate", "accept": "Accept"}
    return Card(
        parts=(
            Heading(text=f"A decision is needed: {unit.name}, {metric}"),
            paragraph(
                f"{metric} has been off target for {weeks} weeks and is in a second brief in a row "
                f"with no leader action recorded. As chair of session #{session.id}, choose: a "
                "directive (it becomes a tracked promise), resources, escalation, or accepting it "
                "with a reason. The choice is kept and shown in the next brief."
            ),
            Buttons(
                buttons=tuple(
                    Button(label=label, action=Action.DECISION_CHOOSE, ids={**ids, "choice": choice})
                    for choice, label in labels.items()
                )
            ),
        ),
        summary=f"Decision needed: {unit.name}, {metric}",
    )


def decision_form(
    session: StatSession,
    unit: Unit,
    metric: str,
    exception: str,
    choice: str,
    doers: Sequence[Person],
    values: Mapping[str, str] | None = None,
) -> Form:
    values = values or {}
    inputs: list[TextInput | ChoiceInput | DateInput] = [
        TextInput(name="text", label=_DECISION_LABEL[choice], value=values.get("text"), max_length=500)
    ]
    if choice == "directive":
        inputs.append(
            ChoiceInput(
                name="owner",
                label="Carried out by",
                options=tuple(Option(value=str(p.id), label=p.name) for p in doers),
                value=values.get("owner") or (str(doers[0].id) if doers else None),
            )
        )
        inputs.append(DateInput(name="due", label="By", value=values.get("due")))
    return Form(
        action=Action.DECISION_CHOOSE,
        ids={"session": str(session.id), "exception": exception, "choice": choice},
        title=f"{unit.name}: {metric}"[:24],
        submit_label="Record",
        intro=(paragraph(f"Session #{session.id}: the decision on {metric}."),),
        inputs=tuple(inputs),
    )


def only_the_chair_decides(session: StatSession) -> str:
    return f"Only the chair of session #{session.id} decides on its repeated exceptions."


def decided_already(session: StatSession, metric: str, by: Person | None = None) -> str:
    who = f" (by {by.name})" if by is not None else ""
    return f"A decision on {metric} is recorded for session #{session.id} already{who}; nothing was changed."


def decision_text(item: SessionItem, session: StatSession) -> str:
    return f"Recorded for session #{session.id}: {item.text}. The next brief shows it."

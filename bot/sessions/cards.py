"""Every word about stat sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.messages import Card, Fact, Facts, Heading, Note, paragraph
from bot.org.models import Person, Unit
from bot.sessions.models import SessionState, StatSession

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
    sessions: Sequence[StatSession], units: Mapping[int, Unit], people: Mapping[int, Person], tz: str
) -> Card:
    if not sessions:
        return Card(
            parts=(
                Heading(text="Upcoming stat sessions"),
                paragraph("No session is planned in the next six weeks that you take part in or may see."),
                Note(text=LIST_HINT),
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
        parts=(Heading(text="Upcoming stat sessions"), Facts(facts=tuple(facts)), Note(text=LIST_HINT)),
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


def not_yours(session: StatSession) -> str:
    return f"Only the chair, the unit's leader, an analyst or an admin can change session #{session.id}."


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

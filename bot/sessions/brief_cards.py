"""Every word of a session's brief: the card (draft and sent) and the printable Markdown
document that is kept.  Both number the items the same way, so `brief drop <id> <n>`
names what the reader sees."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.actions import Action
from bot.messages import Button, Buttons, Card, Fact, Facts, Heading, Note, Part, Status, paragraph
from bot.messages.model import Attachment
from bot.org.models import Person
from bot.sessions.brief import (
    SECTIONS,
    AddedItem,
    Brief,
    DueFact,
    ExceptionFact,
    PromiseFact,
    Question,
    RequestFact,
    Section,
)
from bot.sessions.brief import Fact as BriefFact
from bot.sessions.markdown import literal

TITLES: dict[Section, str] = {
    "promises": "What was promised at the last session",
    "requests": "Data requested last time",
    "standing": "Standing exceptions (off target 3 weeks or more)",
    "new": "New since the last session",
    "due": "Commitments due",
    "questions": "Suggested questions",
}
EMPTY: dict[Section, str] = {
    "promises": "Nothing was promised at the last session.",
    "requests": "No data was requested last time.",
    "standing": "No metric has been off target 3 weeks or more.",
    "new": "Nothing new since the last session.",
    "due": "No commitment falls due before or shortly after the session.",
    "questions": "No question suggests itself from the facts.",
}


def _day(day: dt.date | None) -> str:
    return "no date" if day is None else f"{day:%a %d %b}"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def question_text(q: Question) -> str:
    match q.kind:
        case "late_promise":
            return f"The promise “{q.subject}” due {_day(q.due_on)} is late: when will it be done?"
        case "dropped_promise":
            return f"The promise “{q.subject}” was dropped: what takes its place, and who decided?"
        case "missing_data":
            return f"The data asked for last time, “{q.subject}”, has not come: when will it?"
        case "standing":
            asked = f" after {q.asked} earlier question{'s' if q.asked != 1 else ''}" if q.asked else ""
            return (
                f"{q.subject} has been off target for {q.weeks} weeks{asked}; "
                "what is different about the plan this time?"
            )
        case "big_move":
            return (
                f"{q.subject} moved the wrong way in {q.week} ({q.change_text}): "
                "what happened, and is it over?"
            )
        case "confirmed_outlier":
            return f"{q.subject}'s unusual value in {q.week} was confirmed: how was it checked?"
        case "newly_off_target":
            return f"{q.subject} went off target in {q.week}: a blip, or the start of a trend?"
        case "overdue":
            return f"“{q.subject}” was due {_day(q.due_on)}: what is in the way, and when will it be done?"


def _promise(p: PromiseFact) -> tuple[str, str, Status]:
    owner = f" ({p.owner})" if p.owner else ""
    match p.status:
        case "kept":
            return f"{p.text}{owner}", f"kept: done {_day(p.done_on)}, due {_day(p.due_on)}", "green"
        case "late" if p.done_on is not None:
            return (
                f"{p.text}{owner}",
                f"late: done {_day(p.done_on)}, {_days(p.days_late)} after its due date",
                "amber",
            )
        case "late":
            return f"{p.text}{owner}", f"late: due {_day(p.due_on)}, open {_days(p.days_late)} past it", "red"
        case "open":
            return f"{p.text}{owner}", f"open: due {_day(p.due_on)}", "none"
        case "dropped":
            return f"{p.text}{owner}", f"dropped (was due {_day(p.due_on)})", "amber"


def _request(r: RequestFact) -> tuple[str, str, Status]:
    owner = f" ({r.owner})" if r.owner else ""
    if r.answer is not None:
        return f"{r.text}{owner}", f"came {_day(r.answered_on)}: {r.answer}", "green"
    return f"{r.text}{owner}", f"not come yet (asked for {_day(r.due_on)})", "red"


def _exception(e: ExceptionFact) -> tuple[str, str, Status]:
    value = f"{e.value_text} in {e.week} against a target of {e.target_text}"
    match e.kind:
        case "off_target":
            detail = f"{value}; off target {e.weeks} weeks running"
        case "big_move":
            detail = f"moved the wrong way ({e.change_text}) to {value}"
        case "confirmed_outlier":
            detail = f"{value}, confirmed despite the data check"
        case "newly_off_target":
            detail = f"off target since {e.weeks} week{'s' if e.weeks != 1 else ''}: {value}"
    for note in e.explanations:
        detail += f". The unit wrote for {note.week}: “{note.text}”"
    for asked in e.asked:
        who = asked.asked_by or "A leader"
        answer = f"; the answer: “{asked.answer}”" if asked.answer else "; not answered yet"
        detail += f". {who} asked on {_day(asked.asked_on)}: “{asked.text}”{answer}"
    if e.decided:
        detail += f". Decided at the last session: {e.decided}"
    return e.metric, detail, e.status


def _due(d: DueFact) -> tuple[str, str, Status]:
    owner = f" ({d.owner})" if d.owner else ""
    if d.overdue_days:
        return f"{d.text}{owner}", f"due {_day(d.due_on)}, {_days(d.overdue_days)} overdue", "red"
    return f"{d.text}{owner}", f"due {_day(d.due_on)}", "none"


def item_text(fact: BriefFact) -> tuple[str, str, Status]:
    match fact:
        case PromiseFact():
            return _promise(fact)
        case RequestFact():
            return _request(fact)
        case ExceptionFact():
            return _exception(fact)
        case DueFact():
            return _due(fact)
        case Question():
            return question_text(fact), "", "none"
        case AddedItem():
            return fact.text, "added to the draft", "none"


def _when(at: dt.datetime, tz: str) -> str:
    return f"{at.astimezone(ZoneInfo(tz)):%a %d %b %H:%M %Z}"


def title(brief: Brief, tz: str) -> str:
    return f"Brief for session #{brief.session_id}: {brief.unit_name}, {_when(brief.starts_at, tz)}"


def _intro(brief: Brief, tz: str) -> str:
    chair = f"Chaired by {brief.chair}. " if brief.chair else ""
    last = (
        f"The last session was {_when(brief.last_session_at, tz)}"
        if brief.last_session_at
        else "There was no closed session before this one"
    )
    return f"{chair}{last}; the numbers are those up to {brief.week}."


def _sections(brief: Brief) -> list[tuple[Section, list[tuple[int, BriefFact]]]]:
    """Each section's items with their numbers in this draft, in number order (an item
    that appeared after the draft was first shown comes last in its section)."""
    numbers = brief.numbers()
    entries = brief.entries()
    return [
        (s, sorted(((numbers[f.key], f) for section, f in entries if section == s), key=lambda i: i[0]))
        for s in SECTIONS
    ]


def _dropped_note(brief: Brief) -> str:
    count = len(brief.dropped)
    return f"{count} item{'s' if count != 1 else ''} dropped from the draft." if count else ""


def brief_card(
    brief: Brief,
    tz: str,
    *,
    draft: bool,
    sends_at: dt.datetime | None = None,
    sent_at: dt.datetime | None = None,
    attached: Attachment | None = None,
) -> Card:
    parts: list[Part] = [Heading(text=title(brief, tz)), paragraph(_intro(brief, tz))]
    for section, items in _sections(brief):
        parts.append(Heading(text=TITLES[section]))
        if not items:
            parts.append(paragraph(EMPTY[section]))
            continue
        facts: list[Fact] = []
        for n, fact in items:
            label, value, status = item_text(fact)
            if value:
                facts.append(Fact(label=f"{n}. {label}", value=value, status=status))
                continue
            if facts:
                parts.append(Facts(facts=tuple(facts)))
                facts = []
            parts.append(paragraph(f"{n}. {label}"))
        if facts:
            parts.append(Facts(facts=tuple(facts)))
    if dropped := _dropped_note(brief):
        parts.append(Note(text=dropped))
    if draft:
        when = f" It goes out {_when(sends_at, tz)}." if sends_at else ""
        parts.append(
            Note(
                text=(
                    f"Draft.{when} brief add {brief.session_id} <text> adds a question · "
                    f"brief drop {brief.session_id} <item number> drops an item"
                )
            )
        )
        parts.append(
            Buttons(
                buttons=(
                    Button(
                        label="Send now",
                        action=Action.BRIEF_SEND,
                        ids={"session": str(brief.session_id)},
                        style="primary",
                    ),
                )
            )
        )
    elif sent_at is not None:
        parts.append(Note(text=f"Sent {_when(sent_at, tz)}."))
    if attached is not None:
        parts.append(attached)
    state = "Draft brief" if draft else "Brief"
    return Card(parts=tuple(parts), summary=f"{state} for session #{brief.session_id}: {brief.unit_name}")


def brief_markdown(brief: Brief, tz: str) -> str:
    """The printable document: what is sent, attached and kept."""
    lines = [f"# {literal(title(brief, tz))}", "", literal(_intro(brief, tz)), ""]
    for section, items in _sections(brief):
        lines += [f"## {TITLES[section]}", ""]
        if not items:
            lines += [EMPTY[section], ""]
            continue
        for n, fact in items:
            label, value, _ = item_text(fact)
            # A bullet, not an ordered list: Markdown would renumber a list with gaps.
            lines.append(f"- **{n}. {literal(label)}**" + (f" — {literal(value)}" if value else ""))
        lines.append("")
    if dropped := _dropped_note(brief):
        lines += [f"_{dropped}_", ""]
    return "\n".join(lines)


def kept_card(body: str, session_id: int, sent_at: dt.datetime | None, tz: str) -> Card:
    """A sent brief as it went out (its kept Markdown), for `brief <id>` afterwards."""
    parts: list[Part] = []
    for block in body.split("\n\n"):
        text = block.strip()
        if not text:
            continue
        if text.startswith("#"):
            parts.append(Heading(text=text.lstrip("#").strip().replace("\\", "")))
        else:
            parts.append(paragraph(text.replace("**", "").replace("\\", "")))
    if sent_at is not None:
        parts.append(Note(text=f"Sent {_when(sent_at, tz)}; it can no longer be changed."))
    return Card(parts=tuple(parts), summary=f"Brief for session #{session_id}")


# --- replies --------------------------------------------------------------------------------


def unknown_brief(number: int) -> str:
    return f"There is no brief for session #{number} that you may see."


def not_drafted(number: int, opens_at: dt.datetime, tz: str) -> str:
    return f"The brief for session #{number} is drafted {_when(opens_at, tz)}; nothing to show yet."


def not_editor(number: int) -> str:
    return f"Only an analyst, the chair or the unit's leader can change the brief for session #{number}."


def already_sent(number: int) -> str:
    return f"The brief for session #{number} has been sent; a sent brief cannot be changed."


def no_such_item(number: int, item: int, count: int) -> str:
    return f"The brief for session #{number} has no item {item}: its items are numbered 1 to {count}."


def dropped_already(number: int, item: int) -> str:
    return f"Item {item} of the brief for session #{number} was dropped already; nothing was changed."


def no_longer_there(number: int, item: int) -> str:
    return (
        f"Item {item} of the brief for session #{number} is no longer in it: what it was about has "
        "changed since it was numbered. Nothing was dropped; the other items keep their numbers."
    )


def too_late(number: int) -> str:
    return f"Session #{number} is no longer scheduled or has begun; its brief is not sent."


def sent_text(number: int, count: int) -> str:
    return f"Sent the brief for session #{number} to {count} {'person' if count == 1 else 'people'}."


_DID = {
    "brief.drafted": "drafted",
    "brief.item_added": "added an item to",
    "brief.item_dropped": "dropped an item from",
    "brief.sent": "sent",
}


def taken_first(number: int, by: Person | None, action: str) -> str:
    """To the person whose change of the brief lost to another made at the same moment."""
    who = by.name if by is not None else "statbot"
    return (
        f"Someone got there first: {who} {_DID.get(action, 'changed')} the brief for session "
        f"#{number} a moment ago. Your change was not made; `brief {number}` shows the brief as "
        "it is now."
    )

"""A stat session's brief: the facts, in the order the chair needs them.  Pure: no I/O.

The order is GovEx's sample memo's: first what the last session asked for (its promises
and their status, the data requested and whether it came), then the standing exceptions
(off target three weeks or more, with the unit's own explanations and what leaders asked
before), then what is new since the last session, then the commitments falling due, and
last the questions the chair might ask, generated from those facts.

Metric exceptions come from the digest's own scorecard and detectors, run over the
unit's readings, so the brief and the digest never disagree about what is off target.
Every item has a key, so an analyst's edits ("drop item 3", stored as the item's key)
survive a rebuild with fresher numbers.  Each item of a draft gets a number the first time
it is shown, and keeps it for as long as the draft lasts (the keys in number order are
stored with the edits): an item that appears later gets the next number, a dropped or
vanished one leaves a gap, so `brief drop <id> <n>` drops the item the reader saw as n
whatever appeared since.  bot/sessions/brief_cards.py writes the words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal
from zoneinfo import ZoneInfo

from bot.checkins.status import format_change, format_value, target_text
from bot.commitments.models import Commitment
from bot.digests.data import DigestData
from bot.digests.detectors import metrics as detectors
from bot.digests.scope import Observation, Scope
from bot.digests.scorecard import score
from bot.messages import Status
from bot.org.context import OrgContext
from bot.org.models import Person
from bot.sessions.brief_source import BriefData
from bot.sessions.models import ItemKind
from bot.weeks import week_of

# Commitments falling due up to this long after the session are "due" in its brief.
DUE_AFTER_SESSION = dt.timedelta(days=7)
# How far back "new since the last session" looks when the last one is long ago.
MOST_WEEKS_NEW = 8

PromiseStatus = Literal["kept", "late", "open", "dropped"]
ExceptionKind = Literal["off_target", "big_move", "confirmed_outlier", "newly_off_target"]
QuestionKind = Literal[
    "late_promise",
    "dropped_promise",
    "missing_data",
    "standing",
    "big_move",
    "confirmed_outlier",
    "newly_off_target",
    "overdue",
]
Section = Literal["promises", "requests", "standing", "new", "due", "questions"]
SECTIONS: tuple[Section, ...] = ("promises", "requests", "standing", "new", "due", "questions")


@dataclass(frozen=True, slots=True)
class PromiseFact:
    key: str
    text: str
    owner: str | None
    due_on: dt.date | None
    status: PromiseStatus
    # When it was done (kept, or late but done), and how many days after its due date.
    done_on: dt.date | None = None
    days_late: int = 0


@dataclass(frozen=True, slots=True)
class RequestFact:
    key: str
    text: str
    owner: str | None
    due_on: dt.date | None
    answer: str | None = None
    answered_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the unit wrote beside a reading."""

    week: str
    text: str


@dataclass(frozen=True, slots=True)
class AskedBefore:
    """A leader's earlier follow-up question about the metric, and its answer."""

    asked_by: str | None
    text: str
    asked_on: dt.date
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class ExceptionFact:
    key: str
    kind: ExceptionKind
    metric: str
    week: str
    value_text: str
    target_text: str
    status: Status
    # Weeks off target running, up to ``week``.
    weeks: int = 0
    change_text: str = ""
    explanations: tuple[Explanation, ...] = ()
    asked: tuple[AskedBefore, ...] = ()
    # What the chair decided about it at the last session (a repeated exception).
    decided: str | None = None


@dataclass(frozen=True, slots=True)
class DueFact:
    key: str
    commitment_id: int
    text: str
    owner: str | None
    due_on: dt.date
    overdue_days: int = 0


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    kind: QuestionKind
    # The key of the fact it is about: dropping the fact drops its question too.
    about: str
    subject: str
    due_on: dt.date | None = None
    weeks: int = 0
    week: str = ""
    change_text: str = ""
    asked: int = 0


@dataclass(frozen=True, slots=True)
class AddedItem:
    key: str
    text: str


Fact = PromiseFact | RequestFact | ExceptionFact | DueFact | Question | AddedItem


@dataclass(frozen=True, slots=True)
class Brief:
    session_id: int
    unit_key: str
    unit_name: str
    starts_at: dt.datetime
    # The last full week of readings the brief looks at.
    week: str
    chair: str | None = None
    last_session_at: dt.datetime | None = None
    promises: tuple[PromiseFact, ...] = ()
    requests: tuple[RequestFact, ...] = ()
    standing: tuple[ExceptionFact, ...] = ()
    new: tuple[ExceptionFact, ...] = ()
    due: tuple[DueFact, ...] = ()
    questions: tuple[Question, ...] = ()
    added: tuple[AddedItem, ...] = ()
    dropped: frozenset[str] = field(default_factory=frozenset)
    # The key of every item numbered in this draft, in number order: item n is
    # numbered[n - 1], shown or not (dropped and vanished items keep their numbers).
    numbered: tuple[str, ...] = ()

    def entries(self) -> list[tuple[Section, Fact]]:
        """The items shown, in the order the facts come (``numbers`` says each one's)."""
        found: list[tuple[Section, Fact]] = []
        shown: dict[Section, Sequence[Fact]] = {
            "promises": self.promises,
            "requests": self.requests,
            "standing": self.standing,
            "new": self.new,
            "due": self.due,
        }
        for section, facts in shown.items():
            found.extend((section, f) for f in facts if f.key not in self.dropped)
        for question in self.questions:
            if question.key not in self.dropped and question.about not in self.dropped:
                found.append(("questions", question))
        found.extend(("questions", a) for a in self.added if a.key not in self.dropped)
        return found

    def numbers(self) -> dict[str, int]:
        """Item key → its number in this draft."""
        return {key: n for n, key in enumerate(self.numbered, start=1)}

    def was_dropped(self, key: str) -> bool:
        """Dropped itself, or a question about a dropped item."""
        return key in self.dropped or any(q.key == key and q.about in self.dropped for q in self.questions)


# --- edits ---------------------------------------------------------------------------------

ADDED, DROPPED, NUMBERED = "added", "dropped", "numbered"


def added_key(index: int) -> str:
    return f"added:{index}"


def with_edits(brief: Brief, edits: Mapping[str, Sequence[str]]) -> Brief:
    """The brief with a draft's edits: its added and dropped items, and every item
    numbered (the numbers kept in the draft, then the next ones for items new to it)."""
    added = tuple(AddedItem(key=added_key(n), text=t) for n, t in enumerate(edits.get(ADDED, ())))
    brief = replace(brief, added=added, dropped=frozenset(edits.get(DROPPED, ())))
    numbered = list(dict.fromkeys(edits.get(NUMBERED, ())))
    known = set(numbered)
    for _, fact in brief.entries():
        if fact.key not in known:
            numbered.append(fact.key)
            known.add(fact.key)
    return replace(brief, numbered=tuple(numbered))


# --- building ------------------------------------------------------------------------------


def _name(people: Mapping[int, Person], person_id: int | None) -> str | None:
    person = people.get(person_id) if person_id is not None else None
    return person.name if person is not None else None


@dataclass(slots=True)
class _Week:
    scope: Scope
    observations: list[Observation]


def _judge(
    data: BriefData, values: dict[int, dict[str, float]], week: str, context: OrgContext, now: dt.datetime
) -> _Week:
    """The digest's scorecard of the unit for ``week`` (judged by that week's targets)."""
    end = data.weeks.index(week) + 1
    digest = DigestData(
        week=week,
        weeks=data.weeks[:end],
        people=data.people,
        # Judged whenever it has readings: the digest's "created after the week" rule is
        # about units nobody asked yet, and these readings say the unit was asked.
        units=[replace(data.unit, created_at=None)],
        metrics=data.metrics,
        targets=data.targets,
        values=values,
        readings=[r for r in data.readings if r.week == week and (r.note or r.confirmed_outlier)],
    )
    scope = Scope.of(digest, now=now, context=context)
    return _Week(scope, score(scope).observations)


def _exception(kind: ExceptionKind, o: Observation, week: str) -> ExceptionFact:
    assert o.metric.id is not None
    change = "" if o.change is None or o.change == 0 else format_change(o.metric, o.change)
    return ExceptionFact(
        key=f"{'standing' if kind == 'off_target' else 'new'}:{o.metric.id}:{kind}",
        kind=kind,
        metric=o.metric.name,
        week=week,
        value_text=format_value(o.metric, o.value),
        target_text=target_text(o.metric),
        status=o.status,
        weeks=o.streak,
        change_text=change,
    )


def _promises(data: BriefData, today: dt.date, tz: ZoneInfo) -> list[PromiseFact]:
    by_id = {c.id: c for c in data.commitments}
    found = []
    for item in sorted((i for i in data.items if i.kind == ItemKind.PROMISE), key=lambda i: i.id or 0):
        c = by_id.get(item.commitment_id) if item.commitment_id is not None else None
        due = c.due_on if c is not None else item.due_on
        owner = _name(data.people, c.owner_id if c is not None else item.owner_id)
        key = f"promise:{item.id}"
        text = c.text if c is not None else item.text
        if c is not None and c.status == "dropped":
            found.append(PromiseFact(key, text, owner, due, "dropped"))
        elif c is not None and c.status == "done":
            done_on = c.closed_at.astimezone(tz).date() if c.closed_at else today
            late = max(0, (done_on - due).days) if due else 0
            found.append(PromiseFact(key, text, owner, due, "late" if late else "kept", done_on, late))
        elif due is not None and due < today:
            found.append(PromiseFact(key, text, owner, due, "late", None, (today - due).days))
        else:
            found.append(PromiseFact(key, text, owner, due, "open"))
    return found


def _requests(data: BriefData, tz: ZoneInfo) -> list[RequestFact]:
    return [
        RequestFact(
            key=f"request:{i.id}",
            text=i.text,
            owner=_name(data.people, i.owner_id),
            due_on=i.due_on,
            answer=i.answer,
            answered_on=i.answered_at.astimezone(tz).date() if i.answered_at else None,
        )
        for i in sorted((i for i in data.items if i.kind == ItemKind.REQUEST), key=lambda i: i.id or 0)
    ]


def _history(data: BriefData, fact: ExceptionFact, metric_id: int, tz: ZoneInfo) -> ExceptionFact:
    """The standing item with the unit's notes over its streak and what leaders asked."""
    weeks = set(data.weeks[-fact.weeks :]) if fact.weeks else set()
    notes = tuple(
        Explanation(r.week, r.note)
        for r in sorted(data.readings, key=lambda r: r.week)
        if r.metric_id == metric_id and r.week in weeks and r.note.strip()
    )
    asked = tuple(
        AskedBefore(_name(data.people, c.asked_by), c.text, c.created_at.astimezone(tz).date(), c.answer)
        for c in sorted(data.commitments, key=lambda c: (c.created_at, c.id or 0))
        if c.origin == "followup" and c.metric_id == metric_id
    )
    decided = next(
        (i.text for i in data.items if i.kind == ItemKind.DECISION and i.subject == fact.key), None
    )
    return replace(fact, explanations=notes, asked=asked, decided=decided)


def _due(data: BriefData, promised: set[int], today: dt.date, tz: ZoneInfo) -> list[DueFact]:
    until = (data.session.starts_at + DUE_AFTER_SESSION).astimezone(tz).date()
    due: list[Commitment] = sorted(
        (
            c
            for c in data.commitments
            if c.id is not None
            and c.status == "open"
            and c.origin != "followup"
            and c.unit_id == data.unit.id
            and c.id not in promised
            and c.due_on <= until
        ),
        key=lambda c: (c.due_on, c.id or 0),
    )
    return [
        DueFact(
            key=f"due:{c.id}",
            commitment_id=c.id or 0,
            text=c.text,
            owner=_name(data.people, c.owner_id),
            due_on=c.due_on,
            overdue_days=max(0, (today - c.due_on).days),
        )
        for c in due
    ]


def _questions(
    promises: Sequence[PromiseFact],
    requests: Sequence[RequestFact],
    standing: Sequence[ExceptionFact],
    new: Sequence[ExceptionFact],
    due: Sequence[DueFact],
) -> list[Question]:
    found: list[Question] = []
    for p in promises:
        if p.status == "late" and p.done_on is None:
            found.append(Question(f"q:{p.key}", "late_promise", p.key, p.text, due_on=p.due_on))
        elif p.status == "dropped":
            found.append(Question(f"q:{p.key}", "dropped_promise", p.key, p.text, due_on=p.due_on))
    for r in requests:
        if r.answer is None:
            found.append(Question(f"q:{r.key}", "missing_data", r.key, r.text, due_on=r.due_on))
    for s in standing:
        found.append(Question(f"q:{s.key}", "standing", s.key, s.metric, weeks=s.weeks, asked=len(s.asked)))
    for n in new:
        kind: QuestionKind = n.kind if n.kind != "off_target" else "standing"
        found.append(
            Question(
                f"q:{n.key}", kind, n.key, n.metric, weeks=n.weeks, week=n.week, change_text=n.change_text
            )
        )
    for d in due:
        if d.overdue_days:
            found.append(Question(f"q:{d.key}", "overdue", d.key, d.text, due_on=d.due_on))
    return found


def build_brief(
    data: BriefData,
    *,
    now: dt.datetime,
    context: OrgContext,
    edits: Mapping[str, Sequence[str]] | None = None,
) -> Brief:
    zone = context.organisation.timezone
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    assert data.session.id is not None
    values: dict[int, dict[str, float]] = {}
    for r in data.readings:
        values.setdefault(r.metric_id, {})[r.week] = r.value
    covered = data.weeks[-1]
    latest = _judge(data, values, covered, context, now)
    by_key = {o.metric.key: o for o in latest.observations}

    standing: list[ExceptionFact] = []
    for candidate in detectors.off_target_streak(latest.scope, latest.observations):
        o = by_key[candidate.metric_key or ""]
        assert o.metric.id is not None
        standing.append(_history(data, _exception("off_target", o, covered), o.metric.id, tz))
    chronic = {f.metric for f in standing}

    # What is new since the last session: the digest's weekly exceptions of each week
    # since (the latest of each kind per metric), and metrics gone off target lately.
    since = week_of(data.last.starts_at, zone) if data.last is not None else covered
    weeks = [w for w in data.weeks if w >= since][-MOST_WEEKS_NEW:] or [covered]
    newest: dict[tuple[str, str], ExceptionFact] = {}
    for week in weeks:
        judged = latest if week == covered else _judge(data, values, week, context, now)
        of_key = {o.metric.key: o for o in judged.observations}
        found = [
            *((c, "big_move") for c in detectors.big_move(judged.scope, judged.observations)),
            *(
                (c, "confirmed_outlier")
                for c in detectors.confirmed_outlier(judged.scope, judged.observations)
            ),
        ]
        for candidate, kind in found:
            o = of_key[candidate.metric_key or ""]
            newest[(o.metric.key, kind)] = _exception(kind, o, week)  # type: ignore[arg-type]
    for o in latest.observations:
        moved = (o.metric.key, "big_move") in newest and newest[(o.metric.key, "big_move")].week == covered
        if 0 < o.streak < detectors.OFF_TARGET_WEEKS and not moved:
            newest[(o.metric.key, "newly_off_target")] = _exception("newly_off_target", o, covered)
    new = [f for f in newest.values() if f.metric not in chronic]
    new.sort(key=lambda f: (f.week, f.metric, f.kind))

    promises = _promises(data, today, tz)
    promised = {
        i.commitment_id for i in data.items if i.kind == ItemKind.PROMISE and i.commitment_id is not None
    }
    requests = _requests(data, tz)
    due = _due(data, promised, today, tz)
    brief = Brief(
        session_id=data.session.id,
        unit_key=data.unit.key,
        unit_name=data.unit.name,
        starts_at=data.session.starts_at,
        week=covered,
        chair=_name(data.people, data.session.chair_id),
        last_session_at=data.last.starts_at if data.last is not None else None,
        promises=tuple(promises),
        requests=tuple(requests),
        standing=tuple(standing),
        new=tuple(new),
        due=tuple(due),
        questions=tuple(_questions(promises, requests, standing, new, due)),
    )
    return with_edits(brief, edits or {})

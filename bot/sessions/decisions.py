"""Repeated exceptions must produce a decision.

When a brief goes out with a standing exception that the previous brief of the unit
also had, and no leader acted on it in between (no question asked about the metric, no
decision recorded last time), the chair is asked to choose: a directive (it becomes a
promise, tracked as a commitment), resources, escalation, or accepting it with a reason.
The choice is kept as a decision of the session, and the next brief shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.audit import AuditEntry
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.messages import Form
from bot.org.models import Person, Unit
from bot.parsing import parse_date
from bot.permissions import NotAllowed
from bot.ports import UnitOfWork
from bot.sessions import cards
from bot.sessions.brief import Brief
from bot.sessions.capture import tracked_promise
from bot.sessions.models import (
    DocumentKind,
    DocumentState,
    ItemKind,
    SessionDocument,
    SessionItem,
    StatSession,
)

# Kept in a sent brief's edits: the standing exceptions it showed (their keys).
STANDING = "standing"
# How far back the previous brief of the unit is looked for.
LOOKBACK = dt.timedelta(weeks=16)
CHOICES: Mapping[str, str] = {
    "directive": "Directive",
    "resources": "Resources",
    "escalate": "Escalate",
    "accept": "Accept",
}


def shown(brief: Brief) -> list[str]:
    return [f.key for f in brief.standing if f.key not in brief.dropped]


async def _previous_brief(uow: UnitOfWork, session: StatSession) -> SessionDocument | None:
    earlier = [
        s.id
        for s in await uow.sessions.between(session.starts_at - LOOKBACK, session.starts_at)
        if s.unit_id == session.unit_id and s.id is not None and s.id != session.id
    ]
    sent = [
        d
        for d in await uow.session_documents.for_sessions(earlier, DocumentKind.BRIEF)
        if d.state == DocumentState.SENT and d.sent_at is not None
    ]
    return max(sent, key=lambda d: d.sent_at or dt.datetime.min.replace(tzinfo=dt.UTC), default=None)


async def ask_for_repeated(
    uow: UnitOfWork, session: StatSession, unit: Unit, brief: Brief, now: dt.datetime
) -> int:
    """After a brief went out: ask the chair to decide on each repeated exception nobody
    acted on; returns how many were asked."""
    previous = await _previous_brief(uow, session)
    if previous is None or previous.sent_at is None:
        return 0
    before = set(previous.edits.get(STANDING, []))
    since = previous.sent_at.date()
    assert session.id is not None
    decided = {i.subject for i in await uow.session_items.for_sessions([session.id], ItemKind.DECISION)}
    asked = 0
    for fact in brief.standing:
        if fact.key in brief.dropped or fact.key not in before or fact.decided or fact.key in decided:
            continue
        if any(a.asked_on >= since for a in fact.asked):
            continue  # a leader asked about it since: that is an action
        await enqueue(
            uow,
            audience=Delivery.to_person(session.chair_id),
            message=cards.decision_card(session, unit, fact.key, fact.metric, fact.weeks),
            key=f"session:{session.id}:decide:{fact.key}",
            now=now,
        )
        asked += 1
    return asked


async def _checked(
    uow: UnitOfWork, person: Person, session_id: int, exception: str, choice: str
) -> tuple[StatSession, Unit, str]:
    """The ids a button or form carried, reloaded and checked: the chair of a session
    whose sent brief showed this exception, and a known choice; the metric's name."""
    session = await uow.sessions.get(session_id)
    unit = await uow.units.get(session.unit_id) if session is not None else None
    brief = await uow.session_documents.of(session_id, DocumentKind.BRIEF) if session is not None else None
    if session is None or unit is None or brief is None or exception not in brief.edits.get(STANDING, []):
        raise NotAllowed(cards.NO_SUCH_DECISION)
    if person.id != session.chair_id:
        raise NotAllowed(cards.only_the_chair_decides(session))
    if choice not in CHOICES:
        raise NotAllowed(cards.NO_SUCH_DECISION)
    metric_id = (
        int(exception.split(":")[1]) if exception.count(":") == 2 and exception.split(":")[1].isdigit() else 0
    )
    metric = await uow.metrics.get(metric_id)
    return session, unit, metric.name if metric is not None else "this metric"


async def _doers(uow: UnitOfWork, unit: Unit) -> list[Person]:
    """Who may carry out a directive: the unit's head and deputy."""
    ids = [unit.head_id] + ([unit.deputy_id] if unit.deputy_id else [])
    return [p for p in [await uow.people.get(i) for i in ids] if p is not None]


async def choice_form(uow: UnitOfWork, person: Person, session_id: int, exception: str, choice: str) -> Form:
    session, unit, metric = await _checked(uow, person, session_id, exception, choice)
    return cards.decision_form(session, unit, metric, exception, choice, await _doers(uow, unit))


async def record(
    uow: UnitOfWork,
    person: Person,
    session_id: int,
    exception: str,
    choice: str,
    values: Mapping[str, str],
    now: dt.datetime,
) -> tuple[SessionItem, StatSession, Unit] | Form:
    """The chair's choice, kept as the session's decision on the exception (once); a
    directive also becomes a promise.  The form back, with errors, when it is incomplete."""
    session, unit, metric = await _checked(uow, person, session_id, exception, choice)
    assert session.id is not None and person.id is not None
    text = (values.get("text") or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = cards.DECISION_NEEDS_TEXT[choice]
    owner: Person | None = None
    due: dt.date | None = None
    if choice == "directive":
        owner_id = values.get("owner") or ""
        if owner_id not in {str(unit.head_id), str(unit.deputy_id)}:
            errors["owner"] = "Choose who carries it out."
        else:
            owner = await uow.people.get(int(owner_id))
        try:
            due = parse_date(values.get("due") or "", today=now.date())
        except ValueError as exc:
            errors["due"] = str(exc)
    if errors:
        doers = await _doers(uow, unit)
        form = cards.decision_form(session, unit, metric, exception, choice, doers, values=values)
        return form.model_copy(update={"errors": errors})
    decision = f"{metric}: {CHOICES[choice].lower()} — {text}"
    if choice == "directive":
        assert owner is not None and owner.id is not None and due is not None
        promised = await tracked_promise(
            uow,
            session,
            unit,
            owner,
            by=person.id,
            text=text,
            due=due,
            now=now,
            note="directed by the chair on a repeated exception",
            detail={"exception": exception},
        )
        decision += f" ({owner.name}, by {due:%a %d %b}; commitment #{promised.commitment_id})"
    item = await uow.session_items.add_if_absent(
        SessionItem(
            session_id=session.id,
            kind=ItemKind.DECISION,
            text=decision,
            created_by=person.id,
            created_at=now,
            subject=exception,
        )
    )
    if item is None:  # the chair's other click, or another replica, got there first
        first = next(
            (
                i
                for i in await uow.session_items.for_sessions([session.id], ItemKind.DECISION)
                if i.subject == exception
            ),
            None,
        )
        by = await uow.people.get(first.created_by) if first is not None else None
        raise NotAllowed(cards.decided_already(session, metric, by))
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="session.decided",
            subject=f"session:{session.id}",
            detail={"exception": exception, "choice": choice},
        )
    )
    return item, session, unit

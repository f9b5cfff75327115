"""Promised vs delivered: every commitment that fell due in the covered week, and whether
it was kept (on time or late), dropped, or not kept."""

from __future__ import annotations

from bot.commitments.models import Commitment
from bot.digests.models import Outcome, PromiseItem
from bot.digests.scope import Scope, ref
from bot.org.models import Unit

# Broken promises first.
OUTCOME_ORDER: tuple[Outcome, ...] = ("not_kept", "dropped", "kept_late", "kept")


def _promise(scope: Scope, c: Commitment, unit: Unit) -> PromiseItem:
    assert c.id is not None
    closed_on = scope.day(c.closed_at) if c.closed_at else None
    outcome: Outcome
    if c.status == "done":
        outcome = "kept" if closed_on is None or closed_on <= c.due_on else "kept_late"
    elif c.status == "dropped":
        outcome = "dropped"
    else:
        outcome = "not_kept"
    return PromiseItem(
        commitment_id=c.id,
        unit_key=unit.key,
        unit_name=unit.name,
        text=c.text,
        owner=ref(scope.person(c.owner_id)),
        due_on=c.due_on,
        outcome=outcome,
        closed_on=closed_on,
    )


def promises(scope: Scope) -> list[PromiseItem]:
    found = []
    for c in scope.data.commitments:
        unit = scope.unit_by_id.get(c.unit_id)
        if unit is None or c.id is None or c.origin == "followup":
            continue
        if scope.starts_on <= c.due_on <= scope.ends_on:
            found.append(_promise(scope, c, unit))
    found.sort(key=lambda p: (OUTCOME_ORDER.index(p.outcome), p.due_on))
    return found
